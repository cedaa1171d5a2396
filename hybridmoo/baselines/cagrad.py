"""CAGrad: the average gradient corrected towards the worst-off objective.

Liu, Liu, Jin, Stone & Liu, "Conflict-Averse Gradient Descent for Multi-task Learning",
NeurIPS 2021.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from hybridmoo.baselines._perpref import (
    COMMON_DOC,
    Runner,
    combine,
    common_params,
    execute,
    is_real,
    simplex_prefs,
)
from hybridmoo.baselines.common import BaselineResult, Budget, register
from hybridmoo.errors import ConfigError

__all__ = ["cagrad", "cagrad_direction", "cagrad_dual_2"]



def cagrad_direction(
    G: Tensor, weights: Tensor, c: float = 0.5, rescale: int = 1
) -> tuple[Tensor, Tensor]:
    """CAGrad: d = g0 + (c‖g0‖/‖g_w‖) g_w, divided by (1 + c²) when ``rescale = 1``.

    Here g0 = Σ_i λ_i g_i (the λ-weighted average; λ uniform gives the paper's average) and the
    weights w solve the dual min_{w ∈ simplex} g_wᵀg0 + c‖g0‖‖g_w‖ over g_w = Σ_i w_i g̃_i,
    g̃_i = m λ_i g_i (the gradients of the weighted losses m λ_i f_i, whose average is g0), by
    ``scipy.optimize.minimize`` (SLSQP) from the uniform start as the official code does, for
    m > 2; for m = 2 the one-dimensional dual is solved exactly (:func:`cagrad_dual_2`; the
    official toy code uses ``minimize_scalar`` there).
    ``rescale``: 0 returns d, 1 returns d/(1 + c²) (the code's default), 2 returns d/(1 + c).

    Args:
        G: `(P, m, d)` gradients. weights: `(P, m)` preferences λ (rows summing to 1).
        c: the conflict-aversion radius c ≥ 0. rescale: 0, 1 or 2.

    Returns:
        ``(D, w)``: `(P, d)` directions and `(P, m)` dual weights.
    """
    from scipy.optimize import minimize

    P, m, _ = G.shape
    lam = weights.to(G.dtype)
    g0 = combine(lam, G)  # (P, d)
    Gt = (m * lam).unsqueeze(-1) * G
    C = (Gt @ Gt.transpose(-1, -2)).cpu().numpy()  # (P, m, m)
    W = np.full((P, m), 1.0 / m)
    if c > 0 and m == 2:
        W = cagrad_dual_2(C, float(c))
    elif c > 0:
        for p in range(P):
            A = C[p]
            s = float(np.max(np.diag(A)))
            if not np.isfinite(s) or s <= 0:
                continue
            A = A / s
            b = A.mean(axis=1)  # A·(1/m): g̃_iᵀg0
            coef = c * math.sqrt(max(float(A.mean()), 0.0))  # c‖g0‖ (scaled)

            def obj(w, A=A, b=b, coef=coef):
                return float(w @ b + coef * math.sqrt(max(float(w @ A @ w), 0.0) + 1e-12))

            res = minimize(
                obj, np.full(m, 1.0 / m), method="SLSQP", bounds=[(0.0, 1.0)] * m,
                constraints=({"type": "eq", "fun": lambda w: w.sum() - 1},),
                options={"ftol": 1e-12, "maxiter": 200},
            )
            w = np.clip(np.asarray(res.x, dtype=np.float64), 0.0, None)
            if w.sum() > 0 and np.isfinite(w).all():
                W[p] = w / w.sum()
    Wt = torch.from_numpy(W).to(G)
    gw = combine(Wt, Gt)
    gw_norm = torch.linalg.vector_norm(gw, dim=-1, keepdim=True)
    g0_norm = torch.linalg.vector_norm(g0, dim=-1, keepdim=True)
    lmbda = torch.where(gw_norm > 1e-12 * g0_norm.clamp_min(1e-300),
                        c * g0_norm / gw_norm.clamp_min(1e-300), torch.zeros_like(gw_norm))
    d = g0 + lmbda * gw
    if rescale == 1:
        d = d / (1 + c * c)
    elif rescale == 2:
        d = d / (1 + c)
    return d, Wt


def cagrad_dual_2(C: np.ndarray, c: float) -> np.ndarray:
    """Exact solution of CAGrad's dual for m = 2, vectorised over rows: `(P, 2, 2)` → `(P, 2)`.

    With w = (t, 1 − t) the dual is h(t) = t b_1 + (1 − t) b_2 + c‖g0‖·√q(t), q(t) = ‖g_w‖² =
    a t² + 2βt + γ, convex in t. Its stationary point solves (a t + β)/√q(t) = κ with
    κ = −(b_1 − b_2)/(c‖g0‖); since q = ((a t + β)² + Δ)/a, Δ = aγ − β², it is
    s = a t + β = κ √(Δ/(a − κ²)) when κ² < a. The minimum over [0, 1] is at the clipped
    stationary point or an end point, whichever is lower.
    """
    A = np.asarray(C, dtype=np.float64)
    s = np.max(np.diagonal(A, axis1=1, axis2=2), axis=1)
    ok = np.isfinite(s) & (s > 0)
    A = A / np.where(ok, s, 1.0)[:, None, None]
    a11, a12, a22 = A[:, 0, 0], A[:, 0, 1], A[:, 1, 1]
    b1, b2 = (a11 + a12) / 2, (a12 + a22) / 2
    coef = c * np.sqrt(np.clip((a11 + 2 * a12 + a22) / 4, 0.0, None))
    a, beta, gam = a11 + a22 - 2 * a12, a12 - a22, a22
    delta = np.clip(a * gam - beta**2, 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = -(b1 - b2) / coef
        inner = kappa**2 < a
        sv = kappa * np.sqrt(delta / (a - kappa**2))
        t_star = np.where(inner & (a > 1e-15), (sv - beta) / a, 0.0)
    t_star = np.clip(np.nan_to_num(t_star), 0.0, 1.0)

    def h(t):
        q = np.clip(a * t * t + 2 * beta * t + gam, 0.0, None)
        return t * b1 + (1 - t) * b2 + coef * np.sqrt(q)

    cands = np.stack([np.zeros_like(a), np.ones_like(a), t_star], axis=1)  # (P, 3)
    vals = np.stack([h(cands[:, k]) for k in range(3)], axis=1)
    t = cands[np.arange(len(a)), np.argmin(vals, axis=1)]
    t = np.where(ok, t, 0.5)
    return np.stack([t, 1 - t], axis=1)


@register("cagrad", "gradient", "Liu et al., 'Conflict-Averse Gradient Descent for Multi-task "
          "Learning', NeurIPS 2021")
def cagrad(problem, budget: Budget, seed: int, *, n_prefs: int = 10, lr: float | None = None,
           optimizer: str | None = None, momentum: float = 0.0, parameterization: str = "project",
           boundary_eps: float = 0.0, c: float = 0.5, rescale: int = 1,
           eval_every: int | None = None, ref_point=None, device: str = "cpu",
           batch_size: int = 256) -> BaselineResult:
    """CAGrad: the average gradient corrected towards the worst-off objective.

    Liu, Liu, Jin, Stone, Liu, "Conflict-Averse Gradient Descent for Multi-task Learning",
    NeurIPS 2021 (https://arxiv.org/abs/2110.14048, code https://github.com/Cranial-XIX/CAGrad).
    d = g0 + (√φ/‖g_w‖) g_w with √φ = c‖g0‖ and w from the dual on the simplex, solved with
    SLSQP (:func:`cagrad_direction`); c = 0.5 and ``rescale = 1`` (d/(1 + c²)) as in the
    official NYUv2 code.

    Readings: g0 is the λ-weighted average Σ_i λ_i g_i instead of the plain average (they agree
    for λ uniform), i.e. CAGrad on the weighted losses m λ_i f_i; with c = 0 the method is
    linear scalarisation. SGD instead of the paper's Adam (``optimizer``).

    Method args:
        c: conflict-aversion radius c ≥ 0 (0.5). rescale: 0, 1 (default) or 2.

    Returns:
        A :class:`~hybridmoo.baselines.common.BaselineResult`; ``prefs`` are the weights λ.
    """
    if not (is_real(c) and math.isfinite(c) and c >= 0):
        raise ConfigError(f"c = {c!r} is invalid: expected a finite number >= 0")
    if rescale not in (0, 1, 2) or isinstance(rescale, bool):
        raise ConfigError(f"rescale = {rescale!r} is not allowed; allowed: 0, 1, 2")
    params = common_params(n_prefs=n_prefs, lr=lr, optimizer=optimizer, momentum=momentum,
                           parameterization=parameterization, boundary_eps=boundary_eps, c=c,
                           rescale=rescale, eval_every=eval_every, ref_point=ref_point,
                           device=device, batch_size=batch_size)
    prefs = simplex_prefs(problem, n_prefs, boundary_eps)

    def direction(F: Tensor, G: Tensor, run: Runner) -> Tensor:
        D, _ = cagrad_direction(G, run.prefs, float(c), int(rescale))
        return D

    return execute("cagrad", problem, budget, seed, prefs, direction, params)


cagrad.__doc__ = (cagrad.__doc__ or "") + COMMON_DOC
