"""Gradient baselines that train one model per preference: LS, MGDA-UB, PCGrad, CAGrad, EPO, PMTL.

Each method keeps a *finite* set of P preferences (``n_prefs``, evenly spread by
:func:`hybridmoo.preferences.eval_preferences`) and one model per preference. For the
decision-vector problems of :mod:`hybridmoo.problems` a model is one decision vector ``x`` (a
row of a `(P, n_var)` tensor). All P models are updated on every step, vectorised over P:

1. ``F = problem.evaluate(x)`` gives the `(P, m)` objectives (P evaluations);
2. the `(P, m, d)` Jacobian comes from m backward passes, one per objective, on
   ``F[:, i].sum()``: each model only affects its own row, so the gradient of the sum with
   respect to row p is the gradient of ``F[p, i]``;
3. the method turns each row's `(m, d)` Jacobian into a descent direction `(d,)`;
4. an optimiser (SGD by default, or Adam) takes one step on all P rows.

>>> from hybridmoo import baselines
>>> r = baselines.run("ls", "zdt1", baselines.Budget("steps", 20), seed=0, n_prefs=4,
...                   problem_options={"n_var": 5})
>>> r.status, r.F.shape, r.budget_used["evaluations"]
('ok', (4, 2), 84.0)

**Budget.** One *step* updates all P models once; every step evaluates the P current decision
vectors once (P evaluations) and the final decision vectors are evaluated once more, so a run
of S steps uses ``(S + 1)·P`` evaluations. A budget of E evaluations gives
``S = E // P − 1`` steps; a budget of T seconds runs steps until T seconds of computation have
passed (the time spent computing the HV trace is not counted, in the budget or in
``trace["seconds"]``).

**Bounds (a reading).** The papers train unconstrained networks; here every decision vector
must stay in the problem's box. ``parameterization="project"`` (default) is projected gradient
descent: after every optimiser step ``x`` is clipped to the box shrunk by a relative margin of
1e-6 (so that objectives such as ZDT1's ``sqrt(x1)`` keep finite gradients on the bound). Before
the method sees the Jacobian, a variable that sits on a bound is dropped from all m gradients
when *every* objective would move it outside (all partial derivatives ≥ 0 on the lower bound,
≤ 0 on the upper); otherwise MGDA-type methods would count an infeasible direction and never
see Pareto-stationarity on problems whose Pareto set lies on a bound (ZDT, DTLZ).
``parameterization="sigmoid"`` optimises ``z`` with ``x = lower + (upper − lower)·σ(z)``
instead (the parameterisation hybridmoo's hypernetworks use); gradients are then taken with
respect to ``z``.

**Initialisation.** Uniform in the box from a ``torch.Generator`` seeded with ``seed``; every
method draws the same P starting points for the same seed and ``n_prefs``.

**Trace.** Every ``eval_every`` steps (default: a twentieth of the steps; for a seconds budget,
a twentieth of the seconds) the HV (and IGD, where the problem has a reference front) of the P
current objective vectors is recorded with :class:`~hybridmoo.baselines.common.Tracer`, and
once more at the end. A non-finite objective, gradient or direction ends the run with
``status == "failed"``; the trace recorded so far is kept.

The direction functions (:func:`ls_direction`, :func:`mgda_direction`,
:func:`pcgrad_direction`, :func:`cagrad_direction`, :func:`epo_direction`,
:func:`pmtl_weights`) are public, pure and work on any `(P, m, d)` Jacobian, so that a trainer
of neural networks can reuse them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from hybridmoo.baselines.common import BaselineResult, Budget, Tracer, register
from hybridmoo.errors import ConfigError
from hybridmoo.preferences import eval_preferences
from hybridmoo.scalarize import EPO

__all__ = [
    "cagrad",
    "cagrad_direction",
    "epo",
    "epo_direction",
    "jacobian",
    "ls",
    "ls_direction",
    "mgda_direction",
    "mgda_ub",
    "min_norm_weights",
    "pcgrad",
    "pcgrad_direction",
    "pmtl",
    "pmtl_weights",
]

_F64 = torch.float64
_MARGIN = 1e-6  # relative distance kept from the bounds in "project" mode
PARAMETERIZATIONS = ("project", "sigmoid")
OPTIMIZERS = ("sgd", "adam")
MGDA_NORMALIZATIONS = ("none", "l2", "loss", "loss+")


# ================================================================================ direction maths
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


def _combine(weights: Tensor, G: Tensor) -> Tensor:
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
    return _combine(prefs, G)


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
    return _combine(alpha, G), alpha


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
    m > 2; for m = 2 the one-dimensional dual is solved exactly (:func:`_cagrad_dual_2`; the
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
    g0 = _combine(lam, G)  # (P, d)
    Gt = (m * lam).unsqueeze(-1) * G
    C = (Gt @ Gt.transpose(-1, -2)).cpu().numpy()  # (P, m, m)
    W = np.full((P, m), 1.0 / m)
    if c > 0 and m == 2:
        W = _cagrad_dual_2(C, float(c))
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
    gw = _combine(Wt, Gt)
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


def _cagrad_dual_2(C: np.ndarray, c: float) -> np.ndarray:
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


def epo_direction(
    G: Tensor, losses: Tensor, prefs: Tensor, solver: EPO, ideal: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """EPO: d = Σ_i α_i g_i with α from :class:`hybridmoo.scalarize.EPO` (one LP per row).

    Args:
        G: `(P, m, d)` gradients. losses: `(P, m)` objectives. prefs: `(P, m)` preferences.
        solver: an :class:`~hybridmoo.scalarize.EPO` instance. ideal: `(m,)` point z.

    Returns:
        ``(D, alpha)``: `(P, d)` directions and `(P, m)` weights.
    """
    alpha = solver.weights(losses, prefs, G, ideal=ideal)
    return _combine(alpha, G), alpha


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


def jacobian(problem, x: Tensor, transform: Callable[[Tensor], Tensor] | None = None
             ) -> tuple[Tensor, Tensor]:
    """Objectives `(P, m)` and per-objective gradients `(P, m, d)` of P independent models.

    m backward passes, each on ``F[:, i].sum()``: row p of the gradient is ∇f_i of model p
    alone, because model p only affects row p of ``F``.

    Args:
        problem: a :class:`~hybridmoo.problems.Problem`.
        x: `(P, d)` leaf tensor with ``requires_grad`` (decision vectors or their ``z``).
        transform: maps ``x`` to decision vectors (``None``: identity).
    """
    xx = x if transform is None else transform(x)
    F = problem.evaluate(xx)
    m = F.shape[-1]
    grads = []
    for i in range(m):
        (g,) = torch.autograd.grad(F[:, i].sum(), x, retain_graph=i < m - 1)
        grads.append(g)
    return F.detach(), torch.stack(grads, dim=1)


# ================================================================================ the runner
class _Failed(Exception):
    """A non-finite value ended the run."""


class _Runner:
    """P decision vectors, one optimiser, the budget loop and the trace."""

    def __init__(self, problem, budget: Budget, seed: int, prefs: Tensor, *, lr: float,
                 optimizer: str, momentum: float, parameterization: str,
                 eval_every: int | None, ref_point, device: str) -> None:
        if getattr(problem, "n_var", 0) < 1:
            raise ConfigError(
                f"problem {problem.name!r} has no decision vectors (a data-driven problem); the "
                "gradient baselines train one decision vector per preference: use a synthetic "
                "or RE problem, or the psl baselines for neural targets"
            )
        _check_choice("parameterization", parameterization, PARAMETERIZATIONS)
        _check_choice("optimizer", optimizer, OPTIMIZERS)
        _check_positive("lr", lr)
        if not (_real(momentum) and 0 <= momentum < 1):
            raise ConfigError(f"momentum = {momentum!r} is invalid: expected a number in [0, 1)")
        self.problem = problem
        self.budget = budget
        self.seed = int(seed)
        self.device = torch.device(device)
        self.prefs = prefs.to(self.device, _F64)
        self.P = int(prefs.shape[0])
        self.parameterization = parameterization
        self.tracer = Tracer(problem, ref_point)
        lo, hi = problem.bounds
        self.lo, self.hi = lo.to(self.device), hi.to(self.device)
        span = self.hi - self.lo
        self.lo_m, self.hi_m = self.lo + _MARGIN * span, self.hi - _MARGIN * span
        gen = torch.Generator().manual_seed(self.seed)
        u = torch.rand(self.P, problem.n_var, generator=gen, dtype=_F64).to(self.device)
        x0 = self.lo + span * u
        if parameterization == "project":
            param = torch.maximum(torch.minimum(x0, self.hi_m), self.lo_m)
        else:
            t = ((x0 - self.lo) / span).clamp(1e-6, 1 - 1e-6)
            param = torch.log(t) - torch.log1p(-t)
        self.param = param.clone().requires_grad_(True)
        self.generator = gen  # continues the stream (PCGrad's random orders)
        if optimizer == "sgd":
            self.opt: torch.optim.Optimizer = torch.optim.SGD([self.param], lr=float(lr),
                                                              momentum=float(momentum))
        else:
            self.opt = torch.optim.Adam([self.param], lr=float(lr))
        # budget → steps
        if budget.kind == "steps":
            self.n_steps: int | None = budget.count
        elif budget.kind == "evaluations":
            if budget.count < self.P:
                raise ConfigError(
                    f"budget of {budget.count} evaluations is below one evaluation of the "
                    f"{self.P} preference models; give at least {2 * self.P} evaluations or "
                    "fewer n_prefs"
                )
            self.n_steps = budget.count // self.P - 1
        else:
            self.n_steps = None
        # trace schedule: steps (int) or seconds (float, seconds budgets without eval_every)
        if eval_every is None:
            if self.n_steps is None:
                self.every_steps, self.every_seconds = None, budget.amount / 20
            else:
                self.every_steps, self.every_seconds = max(1, self.n_steps // 20), None
        else:
            if isinstance(eval_every, bool) or not isinstance(eval_every, (int, np.integer)) \
                    or eval_every < 1:
                raise ConfigError(
                    f"eval_every = {eval_every!r} is invalid: expected an integer >= 1 (steps)"
                )
            self.every_steps, self.every_seconds = int(eval_every), None
        self.compute_seconds = 0.0
        self.steps = 0
        self.evaluations = 0

    # ---------------------------------------------------------------- helpers
    def x(self) -> Tensor:
        """Current decision vectors `(P, n_var)` (detached)."""
        with torch.no_grad():
            if self.parameterization == "project":
                return self.param.detach().clone()
            return self.lo + (self.hi - self.lo) * torch.sigmoid(self.param.detach())

    def progress(self) -> float:
        """Fraction of the budget used so far (for phase schedules)."""
        if self.n_steps is None:
            return self.compute_seconds / self.budget.amount
        return self.steps / max(self.n_steps, 1)

    def _transform(self) -> Callable[[Tensor], Tensor] | None:
        if self.parameterization == "project":
            return None
        lo, span = self.lo, self.hi - self.lo
        return lambda z: lo + span * torch.sigmoid(z)

    def _mask_bounds(self, G: Tensor) -> Tensor:
        """Drop variables on a bound that every objective would push outside."""
        if self.parameterization != "project":
            return G
        x = self.param.detach()
        at_lo = (x <= self.lo_m).unsqueeze(1)
        at_hi = (x >= self.hi_m).unsqueeze(1)
        out_lo = at_lo & (G >= 0).all(dim=1, keepdim=True)
        out_hi = at_hi & (G <= 0).all(dim=1, keepdim=True)
        return G.masked_fill(out_lo | out_hi, 0.0)

    def _finite(self, t: Tensor, what: str) -> None:
        if not bool(torch.isfinite(t).all()):
            rows = torch.nonzero(~torch.isfinite(t).reshape(t.shape[0], -1).all(-1))
            rows = rows.reshape(-1)[:5].tolist()
            raise _Failed(f"{what} is not finite (NaN or inf) at step {self.steps}, "
                          f"preference rows {rows}")

    # ---------------------------------------------------------------- the loop
    def run(self, direction: Callable[[Tensor, Tensor, _Runner], Tensor]) -> dict[str, Any]:
        """Run until the budget is spent; returns the final state for the result."""
        next_trace = 0.0
        last_traced = -1
        last_norm = torch.full((self.P,), float("nan"), dtype=_F64)
        t_start = time.perf_counter()
        trace_time = 0.0
        F = None
        while True:
            self.compute_seconds = time.perf_counter() - t_start - trace_time
            if self.n_steps is not None:
                stop = self.steps >= self.n_steps
            else:
                stop = self.compute_seconds >= self.budget.amount
            p = self.param
            if stop:
                with torch.no_grad():
                    F = self.problem.evaluate(self.x())
                G = None
            else:
                F, G = jacobian(self.problem, p, self._transform())
            self.evaluations += self.P
            self._finite(F, "an objective")
            due = stop or (
                self.every_steps is not None and self.steps % self.every_steps == 0
            ) or (self.every_seconds is not None and self.compute_seconds >= next_trace)
            if due and last_traced != self.steps:
                t0 = time.perf_counter()
                self.tracer.record(F.cpu().numpy(), seconds=self.compute_seconds,
                                   evaluations=self.evaluations, steps=self.steps)
                trace_time += time.perf_counter() - t0
                last_traced = self.steps
                if self.every_seconds is not None:
                    while next_trace <= self.compute_seconds:
                        next_trace += self.every_seconds
            if stop:
                break
            self._finite(G, "a gradient")
            G = self._mask_bounds(G)
            D = direction(F, G, self)
            self._finite(D, "the update direction")
            last_norm = torch.linalg.vector_norm(D, dim=-1).detach().cpu()
            self.opt.zero_grad(set_to_none=True)
            p.grad = D.to(p.dtype)
            self.opt.step()
            if self.parameterization == "project":
                with torch.no_grad():
                    p.copy_(torch.maximum(torch.minimum(p, self.hi_m), self.lo_m))
            self.steps += 1
        self.compute_seconds = time.perf_counter() - t_start - trace_time
        return {"F": F.detach().cpu().numpy().astype(np.float64),
                "X": self.x().cpu().numpy().astype(np.float64),
                "direction_norm": last_norm.numpy().astype(np.float64)}

    def used(self) -> dict[str, float]:
        return {"seconds": float(self.compute_seconds), "evaluations": float(self.evaluations),
                "steps": float(self.steps)}


def _real(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _check_positive(name: str, v: Any) -> None:
    if not (_real(v) and math.isfinite(v) and v > 0):
        raise ConfigError(f"{name} = {v!r} is invalid: expected a finite number > 0")


def _check_choice(name: str, v: Any, allowed: tuple[str, ...]) -> None:
    if v not in allowed:
        raise ConfigError(f"{name} = {v!r} is not allowed; allowed: {', '.join(allowed)}")


def _simplex_prefs(problem, n_prefs: Any, boundary_eps: Any) -> Tensor:
    if isinstance(n_prefs, bool) or not isinstance(n_prefs, (int, np.integer)) or n_prefs < 1:
        raise ConfigError(f"n_prefs = {n_prefs!r} is invalid: expected an integer >= 1")
    return eval_preferences(problem.n_obj, int(n_prefs), boundary_eps=boundary_eps,
                            dtype=_F64)


def _execute(method: str, problem, budget: Budget, seed: int, prefs: Tensor,
             direction: Callable[[Tensor, Tensor, _Runner], Tensor], params: dict,
             extra: Callable[[], dict] | None = None) -> BaselineResult:
    """Build the runner from the common ``params``, run it, package the result."""
    runner = _Runner(problem, budget, seed, prefs, lr=params["lr"],
                     optimizer=params["optimizer"], momentum=params["momentum"],
                     parameterization=params["parameterization"],
                     eval_every=params["eval_every"], ref_point=params["ref_point"],
                     device=params["device"])
    desc = problem.describe()
    try:
        out = runner.run(direction)
    except _Failed as exc:
        return BaselineResult.failed(
            str(exc), method=method, problem=desc, seed=int(seed), n_obj=problem.n_obj,
            params=params, ref_point=runner.tracer.ref_point, trace=runner.tracer.arrays(),
            budget_used=runner.used(),
        )
    hv, _ = runner.tracer.measure(out["F"])
    more = {"parameterization": runner.parameterization, "n_models": runner.P,
            "direction_norm": out["direction_norm"]}
    if extra is not None:
        more.update(extra())
    return BaselineResult(
        method=method, params=dict(params), problem=desc, seed=int(seed), status="ok",
        error="", F=out["F"], X=out["X"], prefs=prefs.cpu().numpy().astype(np.float64),
        trace=runner.tracer.arrays(), budget_used=runner.used(), hv=float(hv),
        ref_point=runner.tracer.ref_point, extra=more,
    )


_COMMON_DOC = """
    Common args:
        problem: a decision-vector :class:`~hybridmoo.problems.Problem`.
        budget: steps (one update of all P models), evaluations (P per step, plus P for the
            final vectors) or seconds.
        seed: seeds the uniform initialisation (and any random order).
        n_prefs: number of preferences, spread by ``eval_preferences`` (for m >= 3 the
            Das–Dennis lattice may hold more; every model gets one).
        lr: learning rate. optimizer: ``"sgd"`` (with ``momentum``) or ``"adam"``.
        parameterization: ``"project"`` (projected gradient, default) or ``"sigmoid"``.
        boundary_eps: every preference coordinate is at least about this (see
            ``eval_preferences``).
        eval_every: trace period in steps (default: steps / 20, or seconds / 20).
        ref_point: HV reference point (default: the problem's).
        device: torch device of the decision vectors.
"""


# ================================================================================ the methods
@register("ls", "gradient", "Linear scalarisation, one model per preference (e.g. Boyd & "
          "Vandenberghe 2004 §4.7; the LS baseline of Lin et al., NeurIPS 2019)")
def ls(problem, budget: Budget, seed: int, *, n_prefs: int = 10, lr: float = 0.1,
       optimizer: str = "sgd", momentum: float = 0.0, parameterization: str = "project",
       boundary_eps: float = 0.0, eval_every: int | None = None, ref_point=None,
       device: str = "cpu") -> BaselineResult:
    """Linear scalarisation: model p descends Σ_i λ_{p,i} f_i.

    The classical weighted-sum method; as the one-model-per-preference baseline of multi-task
    learning it appears in Lin et al., "Pareto Multi-Task Learning", NeurIPS 2019
    (https://arxiv.org/abs/1912.12854) and Mahapatra & Rajan, ICML 2020. It finds only the
    supported (convex-hull) part of the front.

    Readings: the preferences are fixed and evenly spread (``eval_preferences``), corners
    included by default; SGD with lr 0.1 (the papers tune per data set).

    Returns:
        A :class:`~hybridmoo.baselines.common.BaselineResult`; ``prefs`` are the weights λ.
    """
    params = dict(n_prefs=n_prefs, lr=lr, optimizer=optimizer, momentum=momentum,
                     parameterization=parameterization, boundary_eps=boundary_eps,
                     eval_every=eval_every, ref_point=ref_point, device=device)
    prefs = _simplex_prefs(problem, n_prefs, boundary_eps)

    def direction(F: Tensor, G: Tensor, run: _Runner) -> Tensor:
        return ls_direction(G, run.prefs)

    return _execute("ls", problem, budget, seed, prefs, direction, params)


@register("mgda_ub", "gradient", "Sener & Koltun, 'Multi-Task Learning as Multi-Objective "
          "Optimization', NeurIPS 2018 (MGDA: Désidéri 2012)")
def mgda_ub(problem, budget: Budget, seed: int, *, n_prefs: int = 10, lr: float = 0.1,
            optimizer: str = "sgd", momentum: float = 0.0, parameterization: str = "project",
            boundary_eps: float = 0.0, normalize: str = "none", eval_every: int | None = None,
            ref_point=None, device: str = "cpu") -> BaselineResult:
    """MGDA-UB: step along the minimum-norm element of the convex hull of the gradients.

    Désidéri, "Multiple-gradient descent algorithm (MGDA) for multiobjective optimization",
    Comptes Rendus Mathématique 350, 2012; Sener & Koltun, "Multi-Task Learning as
    Multi-Objective Optimization", NeurIPS 2018 (https://arxiv.org/abs/1810.04650, code
    https://github.com/intel-isl/MultiObjectiveOptimization). The min-norm problem is solved in
    closed form for m = 2 and as a QP on the simplex (SLSQP) for m > 2 (:func:`min_norm_weights`).

    Readings:

    * "UB" (upper bound) replaces the gradients with respect to the shared parameters by those
      with respect to the shared representation, to save backward passes in a network. A
      decision vector has no shared representation, so this is plain MGDA on ∇_x f_i.
    * MGDA ignores preferences: the P models differ only by their random starting points, and
      the recorded ``prefs`` are labels only. Each converges to some Pareto-stationary point.
    * ``normalize`` (Sener & Koltun's ``normalization_type``) defaults to ``"none"``; see
      :func:`mgda_direction`.

    Method args:
        normalize: ``"none"``, ``"l2"``, ``"loss"`` or ``"loss+"``.

    Returns:
        A :class:`~hybridmoo.baselines.common.BaselineResult`; ``extra["weights"]`` holds the
        last `(P, m)` min-norm weights and ``extra["direction_norm"]`` the norms of the last
        directions (≈ 0 at Pareto-stationary points).
    """
    _check_choice("normalize", normalize, MGDA_NORMALIZATIONS)
    params = dict(n_prefs=n_prefs, lr=lr, optimizer=optimizer, momentum=momentum,
                     parameterization=parameterization, boundary_eps=boundary_eps,
                     normalize=normalize, eval_every=eval_every, ref_point=ref_point,
                     device=device)
    prefs = _simplex_prefs(problem, n_prefs, boundary_eps)
    state: dict[str, Tensor] = {}

    def direction(F: Tensor, G: Tensor, run: _Runner) -> Tensor:
        D, alpha = mgda_direction(G, F, normalize)
        state["alpha"] = alpha
        return D

    def extra() -> dict:
        a = state.get("alpha")
        return {"weights": None if a is None else a.cpu().numpy()}

    return _execute("mgda_ub", problem, budget, seed, prefs, direction, params, extra)


@register("pcgrad", "gradient", "Yu et al., 'Gradient Surgery for Multi-Task Learning', "
          "NeurIPS 2020")
def pcgrad(problem, budget: Budget, seed: int, *, n_prefs: int = 10, lr: float = 0.1,
           optimizer: str = "sgd", momentum: float = 0.0, parameterization: str = "project",
           boundary_eps: float = 0.0, eval_every: int | None = None, ref_point=None,
           device: str = "cpu") -> BaselineResult:
    """PCGrad: project each gradient onto the normal plane of the gradients it conflicts with.

    Yu, Kumar, Gupta, Levine, Hausman, Finn, "Gradient Surgery for Multi-Task Learning",
    NeurIPS 2020 (https://arxiv.org/abs/2001.06782, code https://github.com/tianheyu927/PCGrad).
    See :func:`pcgrad_direction`; the random orders come from a generator seeded by ``seed``.

    Readings: PCGrad has no preference; model p applies the surgery to the gradients of the
    weighted losses λ_{p,i} f_i and sums them (the surgery is scale-invariant in the gradient
    projected onto, so for λ > 0 this equals Σ_i λ_i PC(g_i); a zero weight removes the
    objective, including from the projections). SGD instead of the paper's Adam (``optimizer``).

    Returns:
        A :class:`~hybridmoo.baselines.common.BaselineResult`; ``prefs`` are the weights λ.
    """
    params = dict(n_prefs=n_prefs, lr=lr, optimizer=optimizer, momentum=momentum,
                     parameterization=parameterization, boundary_eps=boundary_eps,
                     eval_every=eval_every, ref_point=ref_point, device=device)
    prefs = _simplex_prefs(problem, n_prefs, boundary_eps)

    def direction(F: Tensor, G: Tensor, run: _Runner) -> Tensor:
        return pcgrad_direction(G, run.prefs, run.generator)

    return _execute("pcgrad", problem, budget, seed, prefs, direction, params)


@register("cagrad", "gradient", "Liu et al., 'Conflict-Averse Gradient Descent for Multi-task "
          "Learning', NeurIPS 2021")
def cagrad(problem, budget: Budget, seed: int, *, n_prefs: int = 10, lr: float = 0.1,
           optimizer: str = "sgd", momentum: float = 0.0, parameterization: str = "project",
           boundary_eps: float = 0.0, c: float = 0.5, rescale: int = 1,
           eval_every: int | None = None, ref_point=None, device: str = "cpu"
           ) -> BaselineResult:
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
    if not (_real(c) and math.isfinite(c) and c >= 0):
        raise ConfigError(f"c = {c!r} is invalid: expected a finite number >= 0")
    if rescale not in (0, 1, 2) or isinstance(rescale, bool):
        raise ConfigError(f"rescale = {rescale!r} is not allowed; allowed: 0, 1, 2")
    params = dict(n_prefs=n_prefs, lr=lr, optimizer=optimizer, momentum=momentum,
                     parameterization=parameterization, boundary_eps=boundary_eps, c=c,
                     rescale=rescale, eval_every=eval_every, ref_point=ref_point,
                     device=device)
    prefs = _simplex_prefs(problem, n_prefs, boundary_eps)

    def direction(F: Tensor, G: Tensor, run: _Runner) -> Tensor:
        D, _ = cagrad_direction(G, run.prefs, float(c), int(rescale))
        return D

    return _execute("cagrad", problem, budget, seed, prefs, direction, params)


@register("epo", "gradient", "Mahapatra & Rajan, 'Multi-Task Learning with User Preferences: "
          "Gradient Descent with Controlled Ascent in Pareto Optimization', ICML 2020")
def epo(problem, budget: Budget, seed: int, *, n_prefs: int = 10, lr: float = 0.1,
        optimizer: str = "sgd", momentum: float = 0.0, parameterization: str = "project",
        boundary_eps: float = 0.05, mu_tol: float = 1e-4, relax: bool = False,
        ideal=None, eval_every: int | None = None, ref_point=None, device: str = "cpu"
        ) -> BaselineResult:
    """EPO search: balance λ_i (f_i − z_i) across objectives, then descend along the front.

    Mahapatra & Rajan, "Multi-Task Learning with User Preferences: Gradient Descent with
    Controlled Ascent in Pareto Optimization", ICML 2020
    (https://proceedings.mlr.press/v119/mahapatra20a.html, code
    https://github.com/dbmptr/EPOSearch). The weights per preference come from
    :class:`hybridmoo.scalarize.EPO` (its docstring gives the LP and its readings); the
    target of model p is the exact Pareto optimal point where λ_{p,1}(f_1 − z_1) = … =
    λ_{p,m}(f_m − z_m).

    Readings: ``boundary_eps = 0.05`` keeps the preferences off the simplex's corners, where
    the balance condition degenerates (the official toy experiments keep their rays at least
    π/20 from the axes); ``ideal`` z defaults to the problem's ideal point, else zeros; a plain
    optimiser step replaces the toy code's μ-scaled step size.

    Method args:
        mu_tol, relax: passed to :class:`~hybridmoo.scalarize.EPO`.
        ideal: `(m,)` point z, or ``None`` for the problem's ideal point (zeros if unknown).

    Returns:
        A :class:`~hybridmoo.baselines.common.BaselineResult`; ``prefs`` are the λ, and
        ``extra["weights"]``/``extra["moves"]`` the last EPO weights and modes.
    """
    solver = EPO(mu_tol=mu_tol, relax=relax)
    if ideal is None:
        z = problem.ideal
    else:
        z = torch.as_tensor(ideal, dtype=_F64).reshape(-1)
        if z.numel() != problem.n_obj:
            raise ConfigError(
                f"ideal must have length {problem.n_obj}, but it has length {z.numel()}"
            )
    params = dict(n_prefs=n_prefs, lr=lr, optimizer=optimizer, momentum=momentum,
                     parameterization=parameterization, boundary_eps=boundary_eps,
                     mu_tol=mu_tol, relax=relax,
                     ideal=None if ideal is None else [float(v) for v in z],
                     eval_every=eval_every, ref_point=ref_point, device=device)
    prefs = _simplex_prefs(problem, n_prefs, boundary_eps)
    state: dict[str, Any] = {}

    def direction(F: Tensor, G: Tensor, run: _Runner) -> Tensor:
        zz = None if z is None else z.to(F)
        D, alpha = epo_direction(G, F, run.prefs, solver, ideal=zz)
        state["alpha"], state["moves"] = alpha, list(solver.last_moves)
        return D

    def extra() -> dict:
        a = state.get("alpha")
        return {"weights": None if a is None else a.cpu().numpy(),
                "moves": state.get("moves", [])}

    return _execute("epo", problem, budget, seed, prefs, direction, params, extra)


@register("pmtl", "gradient", "Lin et al., 'Pareto Multi-Task Learning', NeurIPS 2019")
def pmtl(problem, budget: Budget, seed: int, *, n_prefs: int = 10, lr: float = 0.1,
         optimizer: str = "sgd", momentum: float = 0.0, parameterization: str = "project",
         init_frac: float = 0.2, eval_every: int | None = None, ref_point=None,
         device: str = "cpu") -> BaselineResult:
    """Pareto MTL: each model is confined to the sub-region of the front around its vector u_k.

    Lin, Zhen, Li, Zhang, Kwong, "Pareto Multi-Task Learning", NeurIPS 2019
    (https://arxiv.org/abs/1912.12854, code https://github.com/Xi-L/ParetoMTL); ALGORITHMS.md
    §1. Reference vectors u_k are unit vectors evenly spread on the positive unit circle
    (m = 2, ``circle_points``: from (1, 0) to (0, 1)), or the Das–Dennis simplex lattice
    normalised to unit length (m ≥ 3; ``eval_preferences(kind="sphere")``). Model k first runs
    the initial phase (descend only along the active constraints until none is active), then
    the constrained MGDA step of :func:`pmtl_weights`.

    Convention: model k's objective vector ends *closest in angle to u_k*, so a larger u_{k,i}
    means a *larger* f_i (the opposite of LS and EPO). The recorded ``prefs`` are the u_k.

    Readings: the initial phase of a model ends at its first feasible step or once
    ``init_frac`` (0.2, the synthetic example's share) of the budget is used (the Multi-MNIST
    code allows 2 of 100 epochs and stops early); the main phase's weights are rescaled by
    m/Σ|weights| (the Multi-MNIST code; the synthetic example does not); SGD as in the
    Multi-MNIST LeNet code (lr 0.1 here instead of 1e-3 with momentum).

    Method args:
        init_frac: share of the budget after which the initial phase ends for every model.
        (``boundary_eps`` does not apply: the reference vectors include the axes.)

    Returns:
        A :class:`~hybridmoo.baselines.common.BaselineResult`; ``prefs`` are the reference
        vectors u_k, ``extra["feasible"]`` says which models ended in their sub-region.
    """
    if not (_real(init_frac) and 0 <= init_frac <= 1):
        raise ConfigError(f"init_frac = {init_frac!r} is invalid: expected a number in [0, 1]")
    params = dict(n_prefs=n_prefs, lr=lr, optimizer=optimizer, momentum=momentum,
                     parameterization=parameterization, init_frac=init_frac,
                     eval_every=eval_every, ref_point=ref_point, device=device)
    if isinstance(n_prefs, bool) or not isinstance(n_prefs, (int, np.integer)) or n_prefs < 2:
        raise ConfigError(f"n_prefs = {n_prefs!r} is invalid: Pareto MTL needs an integer >= 2")
    refs = eval_preferences(problem.n_obj, int(n_prefs), kind="sphere", dtype=_F64)
    refs_np = refs.numpy()
    K = refs_np.shape[0]
    in_init = np.ones(K, dtype=bool)
    feasible = np.zeros(K, dtype=bool)
    init_steps = np.zeros(K, dtype=np.int64)

    def direction(F: Tensor, G: Tensor, run: _Runner) -> Tensor:
        C = (G @ G.transpose(-1, -2)).cpu().numpy()
        f = F.cpu().numpy()
        W = np.zeros((K, problem.n_obj))
        late = run.progress() >= init_frac
        for k in range(K):
            if in_init[k] and not late:
                w, ok = pmtl_weights(C[k], f[k], refs_np, k, init=True)
                if not ok:
                    W[k] = w
                    init_steps[k] += 1
                    continue
            in_init[k] = False
            W[k], feasible[k] = pmtl_weights(C[k], f[k], refs_np, k, init=False)
        return _combine(torch.from_numpy(W).to(G), G)

    def extra() -> dict:
        return {"init_steps": init_steps.copy(), "feasible": feasible.copy(),
                "convention": "F[k] is closest in angle to prefs[k] (prefs are reference "
                              "vectors u_k, not weights)"}

    return _execute("pmtl", problem, budget, seed, refs, direction, params, extra)


for _fn in (ls, mgda_ub, pcgrad, cagrad, epo, pmtl):
    _fn.__doc__ = (_fn.__doc__ or "") + _COMMON_DOC
