"""Gradient-based loss weightings (EPO, Pareto MTL) for preference-conditioned training.

A weighting turns per-preference, per-objective gradients into loss weights α `(..., K, m)`;
the trainer then minimises Σ_i α_i (l_i − z_i). :mod:`hybridmoo.scalarize` registers them
beside the plain scalarizations (``scalarize.get("epo")``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from hybridmoo._losscheck import _check_param, _prepare, _shape_text
from hybridmoo.aggregate.directions import combine, pmtl_weights
from hybridmoo.errors import ShapeError


# ---------------------------------------------------------------------------- EPO
class GradientWeighting:
    """Base of the scalarizations whose loss weights come from the objectives' gradients.

    Subclasses (:class:`EPO`, :class:`PMTL`) implement ``weights(losses, prefs, grads,
    ideal=None) -> (..., K, m)``; calling the object gives the weighted loss
    Σ_i α_i (l_i − z_i), `(..., K)`, differentiable in ``losses`` (α is a constant). The value
    can be negative where α has negative entries; only its gradient matters. ``ref`` is ignored
    (accepted so that a trainer can call every scalarization alike).
    """

    needs_grads = True
    needs_ref = False

    def weights(self, losses: Tensor, prefs: Tensor, grads: Tensor,
                ideal: Tensor | None = None) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, losses: Tensor, prefs: Tensor, *, grads: Tensor,
                 ideal: Tensor | None = None, ref: Tensor | None = None) -> Tensor:
        """The weighted loss Σ_i α_i (l_i − z_i), `(..., K)`."""
        w = self.weights(losses, prefs, grads, ideal=ideal)
        z = 0.0 if ideal is None else torch.as_tensor(ideal, dtype=losses.dtype,
                                                      device=losses.device)
        return (w * (losses - z)).sum(-1)


class EPO(GradientWeighting):
    """Exact Pareto Optimal search (Mahapatra & Rajan, ICML 2020), as loss weights.

    "Multi-Task Learning with User Preferences: Gradient Descent with Controlled Ascent in Pareto
    Optimization". EPO steers the losses l towards the *exact Pareto optimal* point where
    λ_1 l_1 = … = λ_m l_m (so l ∝ 1/λ: a larger λ_i gives a smaller l_i), then descends along the
    front. This is a reading of the paper's LP, checked against the official code
    (``dbmptr/EPOSearch``, ``epo_lp.py``); the code below is our own, solved with
    ``scipy.optimize.linprog`` (HiGHS) instead of cvxpy/GLPK.

    Per preference row, with G the `(m, d)` per-objective gradients and C = G Gᵀ:

    * l̂_i = λ_i l_i / Σ_j λ_j l_j; non-uniformity μ = KL(l̂ ‖ 1/m) = Σ_i l̂_i log(m l̂_i);
      adjustment a = λ ⊙ (log(m l̂) − μ).
    * **Balance mode** (μ > ``mu_tol``): maximise αᵀ C a over the simplex (α ≥ 0, Σα = 1),
      subject to, with J = {j : (C a)_j > 0} and J* = argmax_j λ_j l_j:
      if J ≠ ∅: (C α)_j ≥ (C a)_j for j ∉ J, and (C α)_j ≥ 0 for j ∈ J* (the relatively worst
      objective must not increase); if J = ∅: (C α)_j ≥ 0 for all j (pure descent).
    * **Descent mode** (μ ≤ ``mu_tol``): maximise 1ᵀ C α over the simplex subject to C α ≥ 0
      and, unless ``relax``, αᵀ C a ≥ min(max_j (C a)_j, 0).

    (C α)_j = g_jᵀ(Gᵀα) is the first-order decrease of l_j along the step −Gᵀα, so every
    constraint limits how much an objective may increase. C is divided by max_i C_ii before
    solving (the LP is invariant to this scale; it keeps HiGHS's absolute tolerances
    meaningful). If the LP fails, or all gradients vanish, the weights fall back to λ/Σλ, as
    the official code does.

    The returned weights are m·α when ``rescale`` (both official codes, EPOSearch and Pareto
    HyperNetworks' EPO solver, multiply α by the number of tasks), else α. As in PHN-EPO
    (Navon et al., ICLR 2021, ``phn/solvers.py``), the LP is solved separately for every
    preference: each row k has its own λ_k, l_k and gradients G_k (w.r.t. the parameters the
    hypernetwork generated for λ_k). HV-PSL instead passes 1/λ as EPO's ray (so that l ∝ λ);
    pass ``1 / prefs`` yourself for that reading.

    Args:
        mu_tol: threshold on μ below which the losses count as balanced (paper/code ε = 1e-4).
        relax: drop the αᵀCa constraint in descent mode (the code's ``relax`` flag).
        rescale: multiply the simplex weights α by m.

    Attributes:
        last_moves: per row of the latest :meth:`weights` call, ``"bal"``, ``"dom"`` or
            ``"fallback"`` (diagnostics only).
        last_mu: `(K,)` float64 tensor of the non-uniformities μ of the latest call.
    """

    name = "epo"

    def __init__(self, *, mu_tol: float = 1e-4, relax: bool = False, rescale: bool = True):
        _check_param("epo", "mu_tol", mu_tol)
        _check_param("epo", "relax", relax)
        _check_param("epo", "rescale", rescale)
        self.mu_tol = float(mu_tol)
        self.relax = relax
        self.rescale = rescale
        self.last_moves: list[str] = []
        self.last_mu: Tensor = torch.zeros(0, dtype=torch.float64)

    @property
    def params(self) -> dict[str, Any]:
        """The method's parameters (``mu_tol``, ``relax``, ``rescale``)."""
        return {"mu_tol": self.mu_tol, "relax": self.relax, "rescale": self.rescale}

    def to_dict(self) -> dict[str, Any]:
        """``{"name": "epo", **params}``; rebuild with :func:`from_dict`."""
        return {"name": self.name, **self.params}

    def __repr__(self) -> str:
        return f"EPO(mu_tol={self.mu_tol!r}, relax={self.relax!r}, rescale={self.rescale!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EPO) and self.params == other.params

    __hash__ = None  # type: ignore[assignment]

    def weights(
        self, losses: Tensor, prefs: Tensor, grads: Tensor, *, ideal: Tensor | None = None
    ) -> Tensor:
        """Non-negative, detached loss weights α such that the training loss is Σ_i α_i L_i.

        Args:
            losses: `(..., K, m)` objective values l (must be ≥ ``ideal``; usually > 0).
            prefs: `(..., K, m)` preferences λ ≥ 0 (or a broadcasting shape).
            grads: `(..., K, m, d)` gradient of each objective w.r.t. the parameters of its own
                preference row.
            ideal: optional `(m,)` point subtracted from the losses first (default zeros).

        Returns:
            `(..., K, m)` detached tensor, dtype and device of ``losses``; rows sum to m (or 1
            without ``rescale``).

        Raises:
            ShapeError: on mismatched shapes, or losses below ``ideal``.
        """
        losses, prefs, z = _prepare("epo", losses, prefs, ideal)
        if not isinstance(grads, Tensor) or grads.shape[:-1] != losses.shape or grads.ndim < 2:
            shape = _shape_text(grads) if isinstance(grads, Tensor) else type(grads).__name__
            raise ShapeError(
                f"epo: grads of shape {shape} do not match losses of shape "
                f"{_shape_text(losses)}; grads must be (..., K, m, d) with (..., K, m) the "
                "shape of losses."
            )
        m = losses.shape[-1]
        lead = losses.shape[:-1]
        l_np = (losses - z).detach().reshape(-1, m).to("cpu", torch.float64).numpy()
        r_np = prefs.detach().expand_as(losses).reshape(-1, m).to("cpu", torch.float64).numpy()
        g = grads.detach().reshape(-1, m, grads.shape[-1]).to(torch.float64)
        C_all = (g @ g.transpose(-1, -2)).cpu().numpy()  # (N, m, m), computed on grads' device
        if (l_np < 0).any():
            row = int(np.nonzero((l_np < 0).any(axis=1))[0][0])
            raise ShapeError(
                f"epo: losses must be >= ideal (EPO takes logs of λ_i l_i); row {row} has "
                f"losses − ideal = {l_np[row].tolist()}. Pass an ideal point below the losses."
            )
        if (r_np < 0).any():
            raise ShapeError("epo: preferences must be non-negative.")
        alphas = np.empty_like(l_np)
        moves: list[str] = []
        mus = np.empty(len(l_np))
        for k in range(len(l_np)):
            alphas[k], moves_k, mus[k] = self._solve(l_np[k], r_np[k], C_all[k])
            moves.append(moves_k)
        if self.rescale:
            alphas *= m
        self.last_moves = moves
        self.last_mu = torch.from_numpy(mus).reshape(lead)
        return torch.from_numpy(alphas).to(dtype=losses.dtype, device=losses.device).reshape(
            losses.shape
        )


    # ------------------------------------------------------------------ the LP
    def _solve(self, l: np.ndarray, r: np.ndarray, C: np.ndarray) -> tuple[np.ndarray, str, float]:
        from scipy.optimize import linprog

        m = len(l)
        fallback = r / r.sum() if r.sum() > 0 else np.full(m, 1.0 / m)
        rl = r * l
        total = rl.sum()
        l_hat = rl / total if total > 0 else np.full(m, 1.0 / m)
        pos = l_hat > np.finfo(np.float64).eps
        mu = float(np.sum(l_hat[pos] * np.log(m * l_hat[pos])))
        a = r * (np.log(m * np.maximum(l_hat, np.finfo(np.float64).tiny)) - mu)
        scale = float(np.max(np.diag(C)))
        if not np.isfinite(scale) or scale <= 0 or not np.isfinite(C).all():
            return fallback, "fallback", mu
        C = C / scale
        Ca = C @ a
        A_eq, b_eq = np.ones((1, m)), np.ones(1)
        if mu > self.mu_tol:
            move = "bal"
            c = -Ca
            J = Ca > 0
            if J.any():
                rhs = Ca.copy()
                rhs[J] = -np.inf
                rhs[rl == rl.max()] = 0.0
            else:
                rhs = np.zeros(m)
            rows = np.isfinite(rhs)
            A_ub, b_ub = -C[rows], -rhs[rows]
        else:
            move = "dom"
            c = -C.sum(axis=0)
            A_ub, b_ub = -C, np.zeros(m)
            if not self.relax:
                A_ub = np.vstack([A_ub, -Ca[None, :]])
                b_ub = np.append(b_ub, -min(float(Ca.max()), 0.0))
        res = linprog(
            c, A_ub=A_ub if len(b_ub) else None, b_ub=b_ub if len(b_ub) else None,
            A_eq=A_eq, b_eq=b_eq, bounds=(0, None), method="highs",
        )
        if res.status != 0 or res.x is None:
            return fallback, "fallback", mu
        alpha = np.clip(res.x, 0.0, None)
        return alpha / alpha.sum(), move, mu


# ---------------------------------------------------------------------------- PMTL
class PMTL(GradientWeighting):
    """Pareto MTL's decomposition update for a continuous preference (controllable Pareto MTL).

    Lin, Yang, Zhang & Kwong, "Controllable Pareto Multi-Task Learning", arXiv 2010.06313, 2020,
    update (B) (ALGORITHMS.md §1), built on the weights of Pareto MTL (Lin, Zhen, Li, Zhang &
    Kwong, NeurIPS 2019, code ``Xi-L/ParetoMTL``), computed by
    :func:`hybridmoo.aggregate.pmtl_weights`. Per preference row, with u_j the fixed
    reference vectors (``n_refs`` unit vectors evenly spread on the positive sphere, from (1, 0)
    to (0, 1) for m = 2; see :func:`hybridmoo.preferences.eval_preferences`), p̂ the row's
    direction as a unit vector, l = losses − ideal and G the `(m, d)` per-objective gradients:

    * active constraints I = {j : (u_j − p̂)ᵀ l/‖l‖ > 0} (l is closer in angle to u_j than to p̂;
      a u_j equal to p̂ is the row's own vector and is dropped);
    * (λ, β) = min-norm (MGDA) weights over {g_i} ∪ {(u_j − p̂)ᵀG : j ∈ I};
    * α_i = λ_i + Σ_{j∈I} β_j (u_{j,i} − p̂_i), rescaled by m / Σ_i |α_i| (the Multi-MNIST code's
      normalisation), so that Σ_i α_i g_i is the Pareto MTL direction. With no active
      constraint this is MGDA; α may have negative entries.

    **Initial phase** (``warmup_steps``): during the first ``warmup_steps`` calls of
    :meth:`weights` (one per training step), a row with an active constraint uses the
    constraint-only step of Pareto MTL's initial phase, α = Σ_{j∈I} β_j (u_j − p̂) with β the
    min-norm weights of the active constraint gradients (not rescaled, as in the code), which
    moves l towards the region where no constraint is active. A row with no active constraint
    takes the main step. Reading: Pareto MTL trains one model per reference vector and ends its
    initial phase at the first feasible step; with a fresh continuous preference every step
    that rule has no meaning as such. With an integer, the phase is a fixed number of steps; the
    call counter lives on this object (:attr:`steps_seen`); it restarts with a new object, so a
    resumed training run repeats the phase. The default, ``warmup_steps=None``, applies Pareto
    MTL's per-model rule to every sampled preference instead: each row whose losses violate a
    constraint takes the initial-phase step, each feasible row the main step. Only this
    reading gave controllable fronts in our runs: with a shared hypernetwork the main step
    alone barely separates the preferences (when the objectives' gradients conflict the
    min-norm point hardly uses the long constraint gradients, so every row gets nearly the
    MGDA step; on ``mtl_regression`` all 11 evaluation preferences ended within 0.01 of one
    point), and after a fixed phase the spread it created collapsed again.

    **Direction** (a reading): Pareto MTL's solution for a vector u lies closest in angle to
    u, so a larger u_i gives a *larger* loss l_i. hybridmoo's convention is the opposite (a
    larger preference means a smaller loss; see the module docstring), so by default
    (``direction="inverse"``) the direction is p̂ ∝ 1/p (entries clamped below at ``eps``):
    the ray on which p_i l_i is the same for every i, the exact-Pareto-optimal point EPO aims
    at. For m = 2, 1/p ∝ (p_2, p_1): the preference with its entries swapped.
    ``direction="aligned"`` uses p̂ ∝ p (the paper's own convention: the loss vector follows p).

    **Gradients** (a reading): like PHN-EPO in this library, ``grads`` are taken with respect
    to the parameters θ_k = g(p_k | φ) that the hypernetwork generated for each preference, not
    with respect to the hypernetwork's parameters φ. Row k of the generated parameters only
    affects row k of the losses, so m backward passes (one per objective, of the sum over the K
    rows) give all K per-preference Jacobians; gradients w.r.t. φ would cost m passes *per
    preference* (K·m) through the hypernetwork, and `(K, m, |φ|)` memory. The min-norm problem
    then sees the target network's gradient geometry instead of φ's (they differ by the
    hypernetwork's Jacobian J_k, C = G J_k J_kᵀ Gᵀ instead of G Gᵀ).

    Only Gram matrices G Gᵀ are needed; the min-norm problem has m + |I| vectors (closed form
    for 2, SLSQP otherwise, see :func:`~hybridmoo.aggregate.min_norm_weights`).

    Args:
        n_refs: number of reference vectors u_j (≥ 2; m ≥ 3: at least this many, from the
            Das–Dennis lattice). A reading: Pareto MTL's 5 vectors on Multi-MNIST were its 5
            models; here the u_j only shape the cone of losses allowed around p̂. More vectors
            give narrower cones (more active constraints, more overshooting); 2 (the axes)
            almost never binds. On ``mtl_regression`` (300 steps, 3 seeds) 3 gave monotone
            fronts with a hypervolume close to linear scalarisation's, 5 and 9 noisier ones.
        warmup_steps: number of calls that use the initial (feasibility) phase, ≥ 0, or
            ``None`` (default): every call, i.e. a row whose losses violate a constraint
            always takes the initial-phase step and a feasible row the main step.
        direction: ``"inverse"`` (p̂ ∝ 1/p, hybridmoo's convention) or ``"aligned"`` (p̂ ∝ p).
        eps: lower clamp of p before inverting (``"inverse"`` only), in (0, 1).

    Attributes:
        steps_seen: number of :meth:`weights` calls so far.
        last_active: `(..., K)` int64 tensor, number of active constraints per row in the
            latest call (diagnostics only).
        last_phase: per row of the latest call, ``"warmup"`` or ``"main"``.

    >>> s = PMTL(n_refs=3)
    >>> w = s.weights(torch.tensor([[1.0, 1.0]]), torch.tensor([[0.5, 0.5]]),
    ...               torch.eye(2).unsqueeze(0))
    >>> w  # balanced losses on the preferred ray: no active constraint, plain MGDA
    tensor([[1., 1.]])
    """

    name = "pmtl"

    def __init__(self, *, n_refs: int = 3, warmup_steps: int | None = None,
                 direction: str = "inverse", eps: float = 1e-4):
        _check_param("pmtl", "n_refs", n_refs)
        _check_param("pmtl", "warmup_steps", warmup_steps)
        _check_param("pmtl", "direction", direction)
        _check_param("pmtl", "eps", eps)
        self.n_refs = int(n_refs)
        self.warmup_steps = None if warmup_steps is None else int(warmup_steps)
        self.direction = direction
        self.eps = float(eps)
        self.steps_seen = 0
        self.last_active: Tensor = torch.zeros(0, dtype=torch.int64)
        self.last_phase: list[str] = []
        self._refs: dict[int, np.ndarray] = {}

    @property
    def params(self) -> dict[str, Any]:
        """The method's parameters (``n_refs``, ``warmup_steps``, ``direction``, ``eps``)."""
        return {"n_refs": self.n_refs, "warmup_steps": self.warmup_steps,
                "direction": self.direction, "eps": self.eps}

    def to_dict(self) -> dict[str, Any]:
        """``{"name": "pmtl", **params}``; rebuild with :func:`from_dict`."""
        return {"name": self.name, **self.params}

    def __repr__(self) -> str:
        return "PMTL(" + ", ".join(f"{k}={v!r}" for k, v in self.params.items()) + ")"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PMTL) and self.params == other.params

    __hash__ = None  # type: ignore[assignment]

    def reference_vectors(self, n_obj: int) -> np.ndarray:
        """The `(n, m)` float64 unit reference vectors u_j (n = ``n_refs`` for m = 2)."""
        if n_obj not in self._refs:
            from hybridmoo.preferences import eval_preferences

            u = eval_preferences(n_obj, self.n_refs, kind="sphere", dtype=torch.float64).numpy()
            self._refs[n_obj] = u / np.linalg.norm(u, axis=1, keepdims=True)
        return self._refs[n_obj]

    def directions(self, prefs: Tensor) -> Tensor:
        """Unit directions p̂ `(..., m)` of preferences `(..., m)` (see the class docstring)."""
        p = torch.as_tensor(prefs)
        d = 1.0 / p.clamp_min(self.eps) if self.direction == "inverse" else p
        return d / torch.linalg.vector_norm(d, dim=-1, keepdim=True)

    def weights(
        self, losses: Tensor, prefs: Tensor, grads: Tensor, *, ideal: Tensor | None = None
    ) -> Tensor:
        """Detached loss weights α such that the training loss is Σ_i α_i (l_i − z_i).

        Args:
            losses: `(..., K, m)` objective values l.
            prefs: `(..., K, m)` preferences p ≥ 0, each row with a positive entry (or a
                broadcasting shape such as `(m,)`).
            grads: `(..., K, m, d)` gradient of each objective w.r.t. the parameters of its own
                preference row.
            ideal: optional `(m,)` point z; the constraints use the direction of l − z
                (default zeros, as in Pareto MTL, whose losses are raw cross-entropies).

        Returns:
            `(..., K, m)` detached tensor, dtype and device of ``losses``. Main-phase rows have
            Σ_i |α_i| = m.

        Raises:
            ShapeError: on mismatched shapes, negative preferences or an all-zero preference.
        """

        losses, prefs, z = _prepare("pmtl", losses, prefs, ideal)
        if not isinstance(grads, Tensor) or grads.shape[:-1] != losses.shape or grads.ndim < 2:
            shape = _shape_text(grads) if isinstance(grads, Tensor) else type(grads).__name__
            raise ShapeError(
                f"pmtl: grads of shape {shape} do not match losses of shape "
                f"{_shape_text(losses)}; grads must be (..., K, m, d) with (..., K, m) the "
                "shape of losses."
            )
        m = losses.shape[-1]
        lead = losses.shape[:-1]
        p = prefs.detach().expand_as(losses).reshape(-1, m).to("cpu", torch.float64)
        if (p < 0).any() or (p.sum(-1) <= 0).any():
            raise ShapeError(
                "pmtl: preferences must be non-negative with at least one positive entry per "
                f"row, got {p[(p < 0).any(-1) | (p.sum(-1) <= 0)][0].tolist()}."
            )
        f = (losses - z).detach().reshape(-1, m).to("cpu", torch.float64).numpy()
        g = grads.detach().reshape(-1, m, grads.shape[-1]).to(torch.float64)
        C_all = (g @ g.transpose(-1, -2)).cpu().numpy()  # (N, m, m), on grads' device
        refs = self.reference_vectors(m)
        dirs = self.directions(p).numpy()
        warm = self.warmup_steps is None or self.steps_seen < self.warmup_steps
        alphas = np.empty_like(f)
        active = np.empty(len(f), dtype=np.int64)
        phases: list[str] = []
        for k in range(len(f)):
            # a reference vector equal to p̂ is the row's own vector, not a constraint (rounding
            # would otherwise make its ~0 constraint gradient "active" and the step ~0)
            others = refs[np.linalg.norm(refs - dirs[k], axis=1) > 1e-9]
            n = len(others)
            u = np.vstack([others, dirs[k]])  # the row's own direction is u[n]
            fn = np.linalg.norm(f[k])
            gx = (u[:n] - u[n]) @ (f[k] / fn) if fn > 0 else np.zeros(n)
            active[k] = int((gx > 0).sum())
            if warm and active[k] > 0:
                alphas[k], _ = pmtl_weights(C_all[k], f[k], u, n, init=True)
                phases.append("warmup")
            else:
                alphas[k], _ = pmtl_weights(C_all[k], f[k], u, n, init=False)
                phases.append("main")
        self.steps_seen += 1
        self.last_active = torch.from_numpy(active).reshape(lead)
        self.last_phase = phases
        return torch.from_numpy(alphas).to(dtype=losses.dtype, device=losses.device).reshape(
            losses.shape
        )


def epo_direction(
    G: Tensor, losses: Tensor, prefs: Tensor, solver: EPO, ideal: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """EPO: d = Σ_i α_i g_i with α from :class:`EPO` (one LP per row).

    Args:
        G: `(P, m, d)` gradients. losses: `(P, m)` objectives. prefs: `(P, m)` preferences.
        solver: an :class:`EPO` instance. ideal: `(m,)` point z.

    Returns:
        ``(D, alpha)``: `(P, d)` directions and `(P, m)` weights.
    """
    alpha = solver.weights(losses, prefs, G, ideal=ideal)
    return combine(alpha, G), alpha
