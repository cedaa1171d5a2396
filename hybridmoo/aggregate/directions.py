"""Gradient aggregation: one descent direction from the m per-objective gradients.

Pure functions on a `(P, m, d)` Jacobian (P independent rows, m objectives, d parameters); the
gradient baselines (:mod:`hybridmoo.baselines.gradient`) and the hypernetwork trainer's
gradient-based scalarizations use the same code. Sources are in each function's docstring.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

_F64 = torch.float64


# ================================================================================ maths
def min_norm_weights(M: np.ndarray | Tensor) -> np.ndarray:
    """Weights α on the simplex minimising ‖Σ_i α_i v_i‖² = αᵀMα, from the Gram matrix M.

    The minimum-norm element of the convex hull of vectors v_1..v_n (MGDA's subproblem,
    Désidéri 2012). Two vectors: the closed form
    α_1 = clip((M_22 − M_12)/(M_11 + M_22 − 2M_12), 0, 1). More: the QP on the simplex solved
    by ``scipy.optimize.minimize`` (SLSQP) on M scaled by its largest diagonal entry, started
    from the best pair (the start of Sener & Koltun's ``MinNormSolver``); the better of the
    SLSQP answer and the best pair is returned.

    Args:
        M: `(n, n)` symmetric positive semi-definite Gram matrix, M_ij = v_iᵀv_j.

    Returns:
        `(n,)` float64 array, α ≥ 0, Σα = 1.

    >>> min_norm_weights(np.array([[1.0, -1.0], [-1.0, 1.0]]))
    array([0.5, 0.5])
    """
    M = _np(M)
    n = M.shape[0]
    if n == 1:
        return np.ones(1)
    scale = float(np.max(np.diag(M)))
    if not np.isfinite(scale) or scale <= 0:
        return np.full(n, 1.0 / n)
    M = M / scale
    best, best_val = None, np.inf
    for i in range(n):
        for j in range(i + 1, n):
            a = _pair(M[i, i], M[i, j], M[j, j])
            val = a * a * M[i, i] + 2 * a * (1 - a) * M[i, j] + (1 - a) ** 2 * M[j, j]
            if val < best_val:
                best_val, best = val, (i, j, a)
    alpha = np.zeros(n)
    i, j, a = best
    alpha[i], alpha[j] = a, 1 - a
    if n == 2:
        return alpha
    from scipy.optimize import minimize

    res = minimize(
        lambda w: float(w @ M @ w), alpha, jac=lambda w: 2 * M @ w, method="SLSQP",
        bounds=[(0.0, 1.0)] * n,
        constraints=({"type": "eq", "fun": lambda w: w.sum() - 1, "jac": lambda w: np.ones(n)},),
        options={"ftol": 1e-12, "maxiter": 200},
    )
    w = np.clip(np.asarray(res.x, dtype=np.float64), 0.0, None)
    if w.sum() > 0 and np.isfinite(w).all():
        w = w / w.sum()
        if float(w @ M @ w) <= best_val:
            return w
    return alpha


def _pair(m11: float, m12: float, m22: float) -> float:
    """α minimising ‖α v1 + (1 − α) v2‖² over [0, 1]."""
    den = m11 + m22 - 2 * m12
    if den <= 1e-18:
        return 0.5
    return float(np.clip((m22 - m12) / den, 0.0, 1.0))


def _np(M: np.ndarray | Tensor) -> np.ndarray:
    if isinstance(M, Tensor):
        M = M.detach().cpu().numpy()
    return np.asarray(M, dtype=np.float64)


def combine(weights: Tensor, G: Tensor) -> Tensor:
    """Σ_i w_i g_i per row: `(P, m)` weights and `(P, m, d)` Jacobians → `(P, d)`."""
    return torch.einsum("pm,pmd->pd", weights.to(G.dtype), G)


def ls_direction(G: Tensor, prefs: Tensor) -> Tensor:
    """Linear scalarisation: d = Σ_i λ_i g_i, the gradient of Σ_i λ_i f_i.

    Args:
        G: `(P, m, d)` per-objective gradients of each model.
        prefs: `(P, m)` preferences λ.

    Returns:
        `(P, d)` directions (to be subtracted).
    """
    return combine(prefs, G)


MGDA_NORMALIZATIONS = ("none", "l2", "loss", "loss+")


def mgda_direction(
    G: Tensor, losses: Tensor | None = None, normalize: str = "none"
) -> tuple[Tensor, Tensor]:
    """MGDA: the minimum-norm element of the convex hull of each row's gradients.

    ``normalize`` follows Sener & Koltun's ``gradient_normalizers``: the weights α are computed
    from g_i / n_i with n_i = 1 (``"none"``, Désidéri's MGDA), ‖g_i‖ (``"l2"``), f_i
    (``"loss"``) or f_i‖g_i‖ (``"loss+"``), and then applied to the raw gradients,
    d = Σ α_i g_i, as in their code. Only ``"none"`` makes d = 0 exactly at Pareto-stationary
    points.

    Args:
        G: `(P, m, d)` gradients. losses: `(P, m)` objective values (for the loss
            normalisations). normalize: one of ``"none"``, ``"l2"``, ``"loss"``, ``"loss+"``.

    Returns:
        ``(D, alpha)``: `(P, d)` directions and `(P, m)` weights (rows on the simplex).
    """
    Gn = G
    if normalize != "none":
        norms = torch.linalg.vector_norm(G, dim=-1)
        if normalize == "l2":
            scale = norms
        elif normalize == "loss":
            scale = losses
        else:
            scale = losses * norms
        Gn = G / scale.clamp_min(1e-12).unsqueeze(-1)
    C = (Gn @ Gn.transpose(-1, -2)).cpu().numpy()
    alpha = torch.from_numpy(np.stack([min_norm_weights(c) for c in C])).to(G)
    return combine(alpha, G), alpha


def pcgrad_direction(G: Tensor, weights: Tensor, generator: torch.Generator) -> Tensor:
    """PCGrad's gradient surgery on the weighted gradients w_i g_i, then their sum.

    For each objective i, in a random order of the other objectives j (one permutation per row
    and per i, drawn from ``generator``): if the (already modified) g_i^PC conflicts with the
    *original* g_j (g_i^PC·g_j < 0), project it onto the normal plane of g_j,
    g_i^PC ← g_i^PC − (g_i^PC·g_j/‖g_j‖²) g_j. The direction is Σ_i g_i^PC (Yu et al. 2020,
    Algorithm 1). Objectives with zero weight have a zero gradient here and so never cause a
    projection.

    Args:
        G: `(P, m, d)` gradients. weights: `(P, m)` weights w (the preferences).
        generator: source of the random orders.

    Returns:
        `(P, d)` directions.
    """
    P, m, _ = G.shape
    Gw = weights.to(G.dtype).unsqueeze(-1) * G
    out = Gw.clone()
    sq = (Gw * Gw).sum(-1)  # (P, m)
    rows = torch.arange(P, device=G.device)
    for i in range(m):
        others = [j for j in range(m) if j != i]
        if not others:
            continue
        keys = torch.rand(P, len(others), generator=generator, dtype=_F64)
        order = torch.as_tensor(others)[keys.argsort(dim=1)].to(G.device)  # (P, m − 1)
        gi = out[:, i]
        for k in range(len(others)):
            j = order[:, k]
            gj = Gw[rows, j]  # (P, d)
            dot = (gi * gj).sum(-1)
            den = sq[rows, j]
            coef = torch.where((dot < 0) & (den > 0), dot / den.clamp_min(1e-300),
                               torch.zeros_like(dot))
            gi = gi - coef.unsqueeze(-1) * gj
        out[:, i] = gi
    return out.sum(1)


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


def pmtl_weights(
    C: np.ndarray, f: np.ndarray, refs: np.ndarray, k: int, *, init: bool
) -> tuple[np.ndarray, bool]:
    """Pareto MTL's loss weights for the model of reference vector u_k (Lin et al. 2019).

    With w_j = u_j − u_k, the constraint j is active when w_jᵀ f/‖f‖ > 0 (f is closer in
    angle to u_j than to u_k). Let A hold the active w_j as rows.

    * ``init=True`` (the initial phase, which seeks a feasible point): no active constraint →
      ``(0, True)`` (feasible); otherwise β = min-norm weights of {w_jᵀG} (β = 1 for a single
      one) and the weights are Aᵀβ.
    * ``init=False``: (λ, β) = min-norm weights of {g_i} ∪ {w_jᵀG : j active} and the weights
      are λ + Aᵀβ, multiplied by m / Σ|weights| (the Multi-MNIST code's normalisation); with no
      active constraint this is MGDA.

    Only Gram matrices are needed: for V = [I; A]·G the Gram matrix is [I; A] C [I; A]ᵀ.

    Args:
        C: `(m, m)` Gram matrix G Gᵀ of the model's gradients. f: `(m,)` objectives.
        refs: `(K, m)` reference vectors. k: the model's index. init: which phase.

    Returns:
        ``(weights, feasible)``: `(m,)` loss weights (the direction is Σ_i weights_i g_i) and
        whether no constraint is active.
    """
    m = C.shape[0]
    u = refs / np.linalg.norm(refs, axis=1, keepdims=True)
    w = u - u[k]
    fn = np.linalg.norm(f)
    gx = w @ (f / fn) if fn > 0 else np.zeros(len(u))
    active = gx > 0
    A = w[active]
    feasible = not bool(active.any())
    if init:
        if feasible:
            return np.zeros(m), True
        beta = np.ones(1) if len(A) == 1 else min_norm_weights(A @ C @ A.T)
        return A.T @ beta, False
    B = np.vstack([np.eye(m), A])
    sol = min_norm_weights(B @ C @ B.T)
    weights = B.T @ sol
    total = np.abs(weights).sum()
    if total > 0:
        weights = weights * (m / total)
    return weights, feasible

