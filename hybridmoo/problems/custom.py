"""Your own problems: a differentiable torch function, a numpy function or a pymoo ``Problem``.

Three adapters turn user code into a :class:`~hybridmoo.problems.Problem` that every part of
hybridmoo (the trainer, the outer loop, ``compare``) takes like a shipped one:

- :func:`from_function` wraps a **differentiable** torch function ``f(x) -> F`` (`(..., n_var)` →
  `(..., n_obj)`); gradients come from autograd.
- :func:`from_numpy` wraps a **black-box** numpy function (no gradients: a simulator, a legacy
  code), vectorised (`(n, n_var)` → `(n, n_obj)`) or elementwise (`(n_var,)` → `(n_obj,)`).
- :func:`from_pymoo` wraps a pymoo ``Problem`` (vectorised or ``ElementwiseProblem``), with its
  inequality constraints ``G <= 0``.

**Zero-order gradients (black-box problems).** A Pareto set model needs ∂f/∂x. For a black box
it is estimated by Gaussian smoothing, as in evolution strategies (Salimans et al. 2017) and
evolutionary Pareto set learning (Lin et al. 2023, "Evolutionary Pareto Set Learning with
Structure Constraints"; LibMOON's zero-order PSL). For each generated solution x, with
s = ``es_samples`` draws u_j ~ N(0, I) and per-variable step h_k = σ·(upper_k − lower_k)
(σ = ``es_sigma``, so steps are relative to each variable's range), the default
(``es_mode = "forward"``) reuses the value f(x) the forward pass already computed:

    ∂f_i/∂x_k ≈ 1/(s h_k) · Σ_j [f_i(x + h∘u_j) − f_i(x)] · u_jk          (s evaluations),

and ``es_mode = "antithetic"`` uses pairs, 1/(2 s h_k) · Σ_j [f_i(x + h∘u_j) − f_i(x − h∘u_j)]
· u_jk (2s evaluations). Perturbed points are clipped to the box (a black box is never
evaluated outside it) and u is then the step actually taken.

**Centred differences** (``es_centred``, default on for s ≥ 2). A clipped step is no longer
zero-mean: at a lower bound u_jk ≥ 0. The products diff_j·u_jk then pick up E[diff]·E[u_k],
where E[diff] > 0 comes from the *other* variables clipped at their bounds, and this bias can
outweigh the variable's own gradient: a variable sitting at its upper bound was pushed further
up, and stayed there (ZDT1, 1 seed in 8 at 20,000 evaluations, a distance variable stuck at 1).
The estimate therefore uses diff_j − mean_j(diff) and divides by s − 1 instead of s: for a
linear f it is unbiased whatever the clipping (the coordinates are clipped independently), so
the estimate at a bound points where the function does (results/blackbox_hv_subset.md).

The backward pass needs only gᵀ∂f/∂x for the scalarisation's cotangent g
(:meth:`BlackBoxProblem.es_vjp`). One training step with K solutions costs K forward
evaluations plus s·K (2·s·K antithetic); every evaluation is counted in
:attr:`BlackBoxProblem.n_evals` (true function evaluations, the unit of an ``evaluations``
budget). The draws come from the problem's own generator, seeded by ``seed`` (or
:meth:`BlackBoxProblem.reseed`).

**Hybrid start** (``warm_start``, default 0.1; :meth:`BlackBoxProblem.prepare_training`). With
an ``evaluations`` budget B, the trainer first spends 0.1·B evaluations on pymoo's NSGA-II
(population 50, counted in the budget); its non-dominated points seed the running ideal/nadir
estimates of the objective normalisation (which otherwise follow the model's own front and can
shrink with it, so that the front collapses to a part) and the hypernetwork is fitted to them
before the first zero-order step (:func:`fit_to_points`, no evaluations). Without an
``evaluations`` budget, or below 200 evaluations, there is no hybrid start. results/blackbox.md
measures each of these choices.

**Constraints** (``G <= 0`` is feasible). Training minimises the penalised objectives
f_i(x) + ``penalty``·Σ_j max(0, G_j(x)) (a static penalty: every objective pays the total
violation, so an infeasible point is dominated by the feasible points near it once the penalty
outweighs the gain). :meth:`BlackBoxProblem.evaluate` returns the penalised values (what the
optimiser sees); :meth:`BlackBoxProblem.evaluate_raw` returns the raw objectives and the
violation; :meth:`BlackBoxProblem.violation` the total violation per point, so that results can
report their infeasible points. Scale ``G`` so that one unit of violation is meaningful, or
set ``penalty``.

**Reference point.** Hypervolume needs one. When none is given it is *estimated*: the problem
is evaluated at ``n_ref_samples`` points drawn uniformly in the box (seeded) and the reference
point is the per-objective maximum plus 10 % of the range; :attr:`Problem.ref_point_source`
says so. Pass ``ref_point`` for results comparable across runs.

>>> import torch
>>> from hybridmoo.problems import from_function
>>> p = from_function(lambda x: torch.stack([x[..., 0], 1 - x[..., 0] ** 0.5 + x[..., 1]], -1),
...                   n_var=2, n_obj=2, lower=0.0, upper=1.0, ref_point=[1.1, 1.1])
>>> p.evaluate(torch.tensor([[0.25, 0.0]], dtype=torch.float64)).tolist()
[[0.25, 0.5]]
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from hybridmoo.errors import ConfigError, ShapeError
from hybridmoo.problems.base import Problem

__all__ = ["BlackBoxProblem", "FunctionProblem", "fit_to_points", "from_function", "from_numpy",
           "from_pymoo"]

_REF_MARGIN = 0.1


def _check_sizes(n_var: Any, n_obj: Any, where: str) -> tuple[int, int]:
    for key, v, low in (("n_var", n_var, 1), ("n_obj", n_obj, 2)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
            raise ConfigError(f"{where}: {key} = {v!r} is invalid: expected an integer >= {low}.")
    return int(n_var), int(n_obj)


def _bounds(lower: Any, upper: Any, n_var: int, where: str) -> tuple[np.ndarray, np.ndarray]:
    out = []
    for key, v in (("lower", lower), ("upper", upper)):
        try:
            a = np.broadcast_to(np.asarray(v, dtype=np.float64), (n_var,)).copy()
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: {key} = {v!r} is invalid: expected a number or "
                              f"{n_var} numbers (one per variable).") from None
        if not np.isfinite(a).all():
            raise ConfigError(f"{where}: {key} has a non-finite entry ({a.tolist()}): every "
                              "bound must be finite (a Pareto set model maps into a box).")
        out.append(a)
    lo, hi = out
    if not (lo < hi).all():
        k = int(np.argmax(lo >= hi))
        raise ConfigError(f"{where}: lower[{k}] = {lo[k]} is not below upper[{k}] = {hi[k]}; "
                          "every lower bound must be strictly below its upper bound.")
    return lo, hi


def _check_output(F: Any, n: int, n_obj: int, where: str, what: str) -> np.ndarray:
    """``F`` as a float64 `(n, n_obj)` array, or a ShapeError naming what was returned."""
    if isinstance(F, Tensor):
        F = F.detach().cpu().numpy()
    try:
        arr = np.asarray(F, dtype=np.float64)
    except (TypeError, ValueError):
        raise ShapeError(f"{where}: {what} returned {type(F).__name__}, expected an array of "
                         f"shape ({n}, {n_obj}) of numbers.") from None
    if arr.shape != (n, n_obj):
        raise ShapeError(f"{where}: {what} returned shape {arr.shape} for {n} points, expected "
                         f"({n}, {n_obj}) (one row per point, one column per objective).")
    return arr


def _estimate_ref(F: np.ndarray, where: str) -> np.ndarray:
    F = F[np.isfinite(F).all(axis=1)]
    if len(F) == 0:
        raise ConfigError(f"{where}: every sampled point gave a non-finite objective, so no "
                          "reference point can be estimated: pass ref_point=[...].")
    hi, lo = F.max(axis=0), F.min(axis=0)
    span = np.where(hi > lo, hi - lo, np.maximum(np.abs(hi), 1.0))
    return hi + _REF_MARGIN * span


class FunctionProblem(Problem):
    """A problem defined by a differentiable torch function (see :func:`from_function`)."""

    def __init__(self, f: Callable[[Tensor], Tensor], n_var: int, n_obj: int, lower, upper, *,
                 ref_point=None, ideal=None, nadir=None, name: str = "function",
                 obj_names: Sequence[str] | None = None, n_ref_samples: int = 1024,
                 seed: int = 0) -> None:
        if not callable(f):
            raise ConfigError(f"from_function: f = {f!r} is not callable; pass a function "
                              "mapping a (..., n_var) tensor to (..., n_obj).")
        n_var, n_obj = _check_sizes(n_var, n_obj, f"problem {name!r}")
        lo, hi = _bounds(lower, upper, n_var, f"problem {name!r}")
        self._f = f
        self.n_var, self.n_obj, self.name = n_var, n_obj, name  # for _first_call's messages
        gen = np.random.default_rng(seed)
        sample = lo + (hi - lo) * gen.random((max(int(n_ref_samples), 2), n_var))
        F = self._first_call(torch.from_numpy(sample))
        source = "given"
        if ref_point is None:
            ref_point = _estimate_ref(F, f"problem {name!r}")
            source = (f"estimated: max of {len(sample)} uniform samples + "
                      f"{_REF_MARGIN:.0%} of the range")
        self._setup(name=name, n_var=n_var, n_obj=n_obj, lower=lo, upper=hi,
                    ref_point=ref_point, ref_point_source=source, ideal=ideal, nadir=nadir,
                    obj_names=obj_names, options={})

    def _first_call(self, x: Tensor) -> np.ndarray:
        where = f"problem {self.name!r}"
        try:
            F = self._f(x)
        except Exception as exc:
            raise ConfigError(f"{where}: f failed on a ({len(x)}, {self.n_var}) float64 tensor of "
                              f"points inside the bounds: {type(exc).__name__}: {exc}") from exc
        if not isinstance(F, Tensor):
            raise ShapeError(f"{where}: f returned {type(F).__name__}, expected a torch.Tensor "
                             f"of shape (..., {self.n_obj}) (use torch operations so that "
                             "gradients flow; for a numpy function use from_numpy).")
        if not F.is_floating_point():
            raise ShapeError(f"{where}: f returned dtype {F.dtype}, expected a floating tensor.")
        arr = _check_output(F, len(x), self.n_obj, where, "f")
        if not np.isfinite(arr).all():
            bad = int(np.argmax(~np.isfinite(arr).all(axis=1)))
            raise ShapeError(f"{where}: f returned a non-finite value {arr[bad].tolist()} at "
                             f"x = {x[bad].tolist()}, inside the bounds; f must be finite on "
                             "the whole box.")
        xg = x[:2].clone().requires_grad_(True)
        out = self._f(xg)
        if not out.requires_grad:
            raise ShapeError(f"{where}: f's output does not depend on x through autograd (it "
                             "has no grad_fn); use torch operations on x, or from_numpy for a "
                             "black-box function.")
        return arr

    def _evaluate(self, x: Tensor) -> Tensor:
        F = self._f(x)
        if not isinstance(F, Tensor) or F.shape != (*x.shape[:-1], self.n_obj):
            got = tuple(F.shape) if isinstance(F, Tensor) else type(F).__name__
            raise ShapeError(f"problem {self.name!r}: f returned {got} for x of shape "
                             f"{tuple(x.shape)}, expected {(*x.shape[:-1], self.n_obj)}.")
        return F.to(x.dtype)


class _ZeroOrder(torch.autograd.Function):
    """f(x) of a black box in the forward pass; the ES estimate of ∂f/∂x in the backward."""

    @staticmethod
    def forward(ctx, x: Tensor, problem: BlackBoxProblem) -> Tensor:  # noqa: D102
        flat = x.detach().reshape(-1, problem.n_var).to("cpu", torch.float64).numpy()
        F, V = problem._call(flat)
        ctx.save_for_backward(x)
        ctx.problem = problem
        out = F + problem.penalty * V[:, None]
        ctx.centre = out  # the penalised values at x: the centre of forward differences
        return torch.from_numpy(out).to(x.dtype).to(x.device).reshape(*x.shape[:-1],
                                                                       problem.n_obj)

    @staticmethod
    def backward(ctx, grad_out: Tensor):  # noqa: D102
        (x,) = ctx.saved_tensors
        p: BlackBoxProblem = ctx.problem
        flat = x.detach().reshape(-1, p.n_var).to("cpu", torch.float64).numpy()
        g = grad_out.detach().reshape(-1, p.n_obj).to("cpu", torch.float64).numpy()
        grad = p.es_vjp(flat, g, ctx.centre)
        return torch.from_numpy(grad).to(x.dtype).to(x.device).reshape(x.shape), None


class BlackBoxProblem(Problem):
    """A problem whose objectives come from numpy code (see :func:`from_numpy`, :func:`from_pymoo`).

    Attributes:
        n_evals: true function evaluations so far (forward passes, ES samples, hybrid start).
        es_samples: ES directions (antithetic pairs) per solution for the gradient estimate.
        es_sigma: ES step as a fraction of each variable's range.
        es_mode: ``"forward"`` (differences from f(x), default) or ``"antithetic"``.
        es_centred: differences centred on their mean (default; see the module docstring).
        warm_fraction: fraction of an evaluations budget spent on the NSGA-II hybrid start.
        penalty: weight of the constraint violation added to every objective.
        n_constr: number of inequality constraints (0 for none).
    """

    _counts_own_evaluations = True
    zero_order = True

    def __init__(self, evaluate: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray | None]],
                 n_var: int, n_obj: int, lower, upper, *, n_constr: int = 0, ref_point=None,
                 ideal=None, nadir=None, name: str = "blackbox",
                 obj_names: Sequence[str] | None = None, es_samples: int = 8,
                 es_sigma: float = 0.01, penalty: float = 100.0, n_ref_samples: int = 256,
                 seed: int = 0, pareto_front: Callable[[int], np.ndarray] | None = None) -> None:
        where = f"problem {name!r}"
        n_var, n_obj = _check_sizes(n_var, n_obj, where)
        lo, hi = _bounds(lower, upper, n_var, where)
        self.n_var, self.n_obj, self.name, self.n_constr = n_var, n_obj, name, int(n_constr)
        self._eval = evaluate
        self._lo, self._hi = lo, hi
        self._pf = pareto_front
        self.n_evals = 0
        self.configure_es(es_samples=es_samples, es_sigma=es_sigma, penalty=penalty,
                          es_mode="forward", warm_start=0.1, es_centred=True)
        self.reseed(seed)
        sample = lo + (hi - lo) * np.random.default_rng(seed).random(
            (max(int(n_ref_samples), 2), n_var))
        F, V = self._call(sample, first=True)
        self.n_evals = 0  # the set-up's samples are not the user's budget
        source = "given"
        if ref_point is None:
            feas = F[V <= 0] if (V <= 0).any() else F
            ref_point = _estimate_ref(feas, where)
            source = (f"estimated: max of {len(sample)} uniform samples + "
                      f"{_REF_MARGIN:.0%} of the range")
        self._setup(name=name, n_var=n_var, n_obj=n_obj, lower=lo, upper=hi,
                    ref_point=ref_point, ref_point_source=source, ideal=ideal, nadir=nadir,
                    obj_names=obj_names, options={})

    def configure_es(self, *, es_samples: int | None = None, es_sigma: float | None = None,
                     penalty: float | None = None, es_mode: str | None = None,
                     warm_start: float | None = None, es_centred: bool | None = None) -> None:
        """Set the zero-order estimator's settings (``None`` keeps a setting).

        ``es_mode``: ``"forward"`` (default: s forward differences from the value already
        computed at x, s evaluations per solution) or ``"antithetic"`` (s pairs, 2s).
        ``es_centred``: centre the s differences on their mean (default ``True``; see the module
        docstring; no effect with s = 1).
        ``warm_start``: fraction of an ``evaluations`` budget spent first on NSGA-II
        (:meth:`prepare_training`; 0 turns it off).
        """
        where = f"problem {self.name!r}"
        if es_centred is not None:
            if not isinstance(es_centred, bool):
                raise ConfigError(f"{where}: es_centred = {es_centred!r} is invalid: expected "
                                  "true or false.")
            self.es_centred = es_centred
        if es_mode is not None:
            if es_mode not in ("forward", "antithetic"):
                raise ConfigError(f"{where}: es_mode = {es_mode!r} is invalid: expected "
                                  "'forward' or 'antithetic'.")
            self.es_mode = es_mode
        if warm_start is not None:
            if isinstance(warm_start, bool) or not isinstance(warm_start, (int, float)) or \
                    not 0 <= warm_start < 1:
                raise ConfigError(f"{where}: warm_start = {warm_start!r} is invalid: expected "
                                  "a fraction in [0, 1) of the evaluations budget.")
            self.warm_fraction = float(warm_start)
        if es_samples is not None:
            if isinstance(es_samples, bool) or not isinstance(es_samples, (int, np.integer)) \
                    or es_samples < 1:
                raise ConfigError(f"{where}: es_samples = {es_samples!r} is invalid: expected "
                                  "an integer >= 1 (antithetic pairs per solution).")
            self.es_samples = int(es_samples)
        if es_sigma is not None:
            if not isinstance(es_sigma, (int, float)) or not (0 < es_sigma < 1) or \
                    isinstance(es_sigma, bool):
                raise ConfigError(f"{where}: es_sigma = {es_sigma!r} is invalid: expected a "
                                  "number in (0, 1), a fraction of each variable's range.")
            self.es_sigma = float(es_sigma)
        if penalty is not None:
            if not isinstance(penalty, (int, float)) or not math.isfinite(penalty) or \
                    penalty < 0 or isinstance(penalty, bool):
                raise ConfigError(f"{where}: penalty = {penalty!r} is invalid: expected a "
                                  "finite number >= 0.")
            self.penalty = float(penalty)

    def reseed(self, seed: int) -> None:
        """Reseed the generator of the ES draws (the trainer calls it with the run's seed)."""
        self._rng = np.random.default_rng(seed)

    # ------------------------------------------------------------------ evaluation
    def _call(self, X: np.ndarray, first: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Raw objectives `(n, m)` and total violation `(n,)` of `(n, d)` points."""
        where = f"problem {self.name!r}"
        n = len(X)
        try:
            F, G = self._eval(X)
        except Exception as exc:
            if first:
                raise ConfigError(f"{where}: the objective function failed on {n} points "
                                  f"inside the bounds: {type(exc).__name__}: {exc}") from exc
            raise
        self.n_evals += n
        F = _check_output(F, n, self.n_obj, where, "the objective function")
        if self.n_constr:
            G = _check_output(G, n, self.n_constr, where, "the constraint function")
            V = np.clip(np.nan_to_num(G, nan=np.inf), 0.0, None).sum(axis=1)
        else:
            V = np.zeros(n)
        bad = ~np.isfinite(F).all(axis=1)
        if bad.any():
            k = int(np.argmax(bad))
            raise ShapeError(f"{where}: the objective function returned a non-finite value "
                             f"{F[k].tolist()} at x = {X[k].tolist()}; a black-box objective "
                             "must be finite on the whole box (return a large finite value "
                             "or a constraint violation instead of NaN/inf).")
        return F, V

    def _evaluate(self, x: Tensor) -> Tensor:
        return _ZeroOrder.apply(x, self)

    def evaluate_raw(self, x: np.ndarray | Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Raw objectives `(n, n_obj)` and total constraint violation `(n,)` (0 = feasible)."""
        X = np.asarray(x.detach().cpu() if isinstance(x, Tensor) else x, dtype=np.float64)
        return self._call(X.reshape(-1, self.n_var))

    def violation(self, x: np.ndarray | Tensor) -> np.ndarray:
        """Total constraint violation Σ_j max(0, G_j) per point, `(n,)` (0 where feasible);
        an unconstrained problem answers zeros without evaluating (nor counting) anything."""
        if not self.n_constr:
            return np.zeros(len(x))
        return self.evaluate_raw(x)[1]

    def _es_diffs(self, X: np.ndarray, centre: np.ndarray | None
                  ) -> tuple[np.ndarray, np.ndarray, float]:
        """Objective differences `(n, s, m)`, the directions `(n, s, d)` (in units of h) and
        the divisor c, so that ∂f/∂x ≈ Σ_j diff_j u_j / (c · s · h)."""
        n, d, s = len(X), self.n_var, self.es_samples
        h = self.es_sigma * (self._hi - self._lo)  # (d,)
        U = self._rng.standard_normal((n, s, d))
        if self.es_mode == "forward" and centre is not None:
            Xp = self._into_box(X[:, None, :] + h * U)
            U = (Xp - X[:, None, :]) / h  # the step actually taken
            F, V = self._call(Xp.reshape(-1, d))
            Fp = (F + self.penalty * V[:, None]).reshape(n, s, self.n_obj)
            return self._centred(Fp - centre[:, None, :], U, 1.0)
        Xp = self._into_box(X[:, None, :] + h * U)
        Xm = self._into_box(X[:, None, :] - h * U)
        F, V = self._call(np.concatenate([Xp, Xm]).reshape(-1, d))
        Fp = (F + self.penalty * V[:, None]).reshape(2, n, s, self.n_obj)
        return self._centred(Fp[0] - Fp[1], (Xp - Xm) / (2.0 * h), 2.0)

    def _centred(self, diff: np.ndarray, U: np.ndarray, c: float
                 ) -> tuple[np.ndarray, np.ndarray, float]:
        """The differences centred on their mean over the s draws, the divisor scaled by
        (s − 1)/s (``es_centred``; unchanged with s = 1)."""
        s = diff.shape[1]
        if not self.es_centred or s < 2:
            return diff, U, c
        return diff - diff.mean(axis=1, keepdims=True), U, c * (s - 1) / s

    def _into_box(self, X: np.ndarray) -> np.ndarray:
        return np.clip(X, self._lo, self._hi)

    def es_jacobian(self, X: np.ndarray, centre: np.ndarray | None = None) -> np.ndarray:
        """ES estimate of the Jacobian of the penalised objectives at `(n, d)` points → `(n, m, d)`.

        Costs ``2 · es_samples · n`` evaluations (antithetic), or ``es_samples · n`` with
        forward differences from ``centre`` (`(n, m)`, the values at X), in one call.
        """
        diff, U, c = self._es_diffs(X, centre)
        h = self.es_sigma * (self._hi - self._lo)
        return np.einsum("nsm,nsd->nmd", diff, U) / (c * self.es_samples * h)

    def es_vjp(self, X: np.ndarray, g: np.ndarray, centre: np.ndarray | None = None
               ) -> np.ndarray:
        """ES estimate of gᵀ ∂f/∂x at `(n, d)` points for cotangents g `(n, m)` → `(n, d)`."""
        diff, U, c = self._es_diffs(X, centre)
        h = self.es_sigma * (self._hi - self._lo)
        z = np.einsum("nsm,nm->ns", diff, g)  # scalarised directional differences
        return np.einsum("ns,nsd->nd", z, U) / (c * self.es_samples * h)

    def warm_start(self, evaluations: int, *, pop_size: int = 50, seed: int = 0
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Spend ``evaluations`` true evaluations (counted in :attr:`n_evals`) on pymoo's NSGA-II
        and set :attr:`ideal` / :attr:`nadir` (where not known) to the bounds of its
        non-dominated penalised objectives; returns that set's `(k, d)` points and `(k, m)`
        values. The trainer's normalisation then uses these fixed estimates instead of running
        ones that follow (and can shrink with) the model's own front."""
        def evaluate(X: np.ndarray) -> np.ndarray:
            F, V = self._call(X)
            return F + self.penalty * V[:, None]

        n = max(int(evaluations), 2 * pop_size)
        X, F = nsga2_points(evaluate, self._lo, self._hi, self.n_obj, ("n_eval", n),
                            pop_size=pop_size, seed=seed, what="warm_start")
        lo, hi = F.min(axis=0), F.max(axis=0)
        hi = np.where(hi > lo, hi, lo + 1.0)
        self.warm_ideal, self.warm_nadir = lo, hi
        return X, F

    def prepare_training(self, trainer: Any) -> None:
        """Hybrid start, called by the trainer before its first step (its evaluations count).

        With an ``evaluations`` budget B and ``warm_start`` = w > 0: NSGA-II (population 50)
        spends w·B evaluations (:meth:`warm_start`); its non-dominated points seed the
        trainer's running ideal/nadir estimates (where the problem has none), and the
        hypernetwork is fitted to them (:func:`fit_to_points`, no evaluations), so that zero-
        order training starts near the front with objectives on a sensible scale.
        """
        B = trainer.cfg.evaluations
        n = int(self.warm_fraction * B) if B is not None else 0
        if n < 200:  # NSGA-II needs a few generations to be worth it
            return
        X, F = self.warm_start(n, seed=trainer.seed)
        norm = trainer.normalizer
        if norm.active and norm.needs_updates:
            norm.observe_bounds(self.warm_ideal, self.warm_nadir)
        fit_to_points(trainer, X, F)

    def pareto_front(self, n_points: int = 100) -> np.ndarray | None:
        """The wrapped problem's reference front where it has one, else ``None``."""
        return None if self._pf is None else self._pf(n_points)

    @property
    def has_pareto_front(self) -> bool:
        return self._pf is not None


def nsga2_points(evaluate: Callable[[np.ndarray], np.ndarray], lower, upper, n_obj: int,
                 termination: Any, *, pop_size: int, seed: int, what: str
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Run pymoo's NSGA-II on ``evaluate`` (`(n, d)` float64 points → `(n, n_obj)` values, all
    minimised) in the box ``[lower, upper]`` until ``termination`` (a pymoo termination or
    tuple, e.g. ``("n_eval", 2000)``); returns the final population's non-dominated points
    with finite values: `(k, d)` and `(k, n_obj)`.

    Raises:
        FloatingPointError: no point of the population has finite values (``what`` names the
            caller in the message).
    """
    from moocore import is_nondominated
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.problem import Problem as PymooProblem
    from pymoo.optimize import minimize

    lo = np.asarray(lower, dtype=np.float64).reshape(-1)
    hi = np.asarray(upper, dtype=np.float64).reshape(-1)

    class _Wrapped(PymooProblem):
        def __init__(self):
            super().__init__(n_var=lo.size, n_obj=n_obj, xl=lo, xu=hi)

        def _evaluate(self, X, out, *args, **kwargs):
            out["F"] = np.asarray(evaluate(np.asarray(X, dtype=np.float64)), dtype=np.float64)

    res = minimize(_Wrapped(), NSGA2(pop_size=pop_size), termination, seed=int(seed) % 2**32,
                   verbose=False)
    X, F = np.atleast_2d(res.X), np.atleast_2d(res.F)
    finite = np.isfinite(F).all(axis=1)
    X, F = X[finite], F[finite]
    if len(F) == 0:
        raise FloatingPointError(f"{what}: NSGA-II found no point with finite objectives")
    keep = is_nondominated(F)
    return X[keep], F[keep]


def fit_to_points(trainer: Any, X: np.ndarray, F: np.ndarray, *, steps: int = 300,
                  batch: int = 64, lr: float = 1e-3, seconds: float | None = None) -> float:
    """Fit a trainer's hypernetwork to known good points before training (no evaluations).

    Each sampled preference λ is paired with the point of ``X`` `(k, d)` whose values ``F``
    `(k, m)`, normalised by the trainer's ideal/nadir, have the smallest Tchebycheff value
    max_i λ_i f_i; the network's decision vectors are regressed onto those points (mean squared
    error in box-normalised coordinates) for ``steps`` Adam steps, or fewer where ``seconds``
    of wall time run out first. Returns the final error.
    """
    t_end = None if seconds is None else time.perf_counter() + float(seconds)
    net, dtype, dev = trainer.net, trainer.dtype, trainer.device
    lo = torch.as_tensor(trainer.problem.bounds[0], dtype=dtype, device=dev)
    hi = torch.as_tensor(trainer.problem.bounds[1], dtype=dtype, device=dev)
    Xt = (torch.as_tensor(X, dtype=dtype, device=dev) - lo) / (hi - lo)
    Fn = trainer.normalizer.transform(torch.as_tensor(F, dtype=dtype, device=dev))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    err = float("nan")
    for _ in range(int(steps)):
        prefs = trainer.sampler.sample(batch, trainer.gen, dtype=dtype, device=dev)
        pick = (prefs[:, None, :] * Fn[None]).amax(-1).argmin(1)
        x = (net(prefs)["x"] - lo) / (hi - lo)
        loss = ((x - Xt[pick]) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        err = float(loss.detach())
        if t_end is not None and time.perf_counter() >= t_end:
            break
    return err


def from_function(f: Callable[[Tensor], Tensor], n_var: int, n_obj: int, lower, upper, *,
                  ref_point=None, ideal=None, nadir=None, name: str = "function",
                  obj_names: Sequence[str] | None = None) -> FunctionProblem:
    """A problem from a differentiable torch function.

    Args:
        f: maps a `(..., n_var)` floating tensor to `(..., n_obj)` (all minimised), with torch
            operations so that autograd gives the gradients.
        n_var, n_obj: sizes. lower, upper: bounds, a number or `(n_var,)` each, finite.
        ref_point: `(n_obj,)` HV reference point; ``None``: estimated (see the module doc).
        ideal, nadir: `(n_obj,)` where known (objective normalisation uses them).
        name: shown in tables and files. obj_names: one name per objective.

    Raises:
        ConfigError: bad sizes or bounds, or ``f`` fails on points inside the bounds.
        ShapeError: ``f`` returns something other than a finite floating `(..., n_obj)` tensor
            connected to ``x`` by autograd (checked on a first call, with what it returned).
    """
    return FunctionProblem(f, n_var, n_obj, lower, upper, ref_point=ref_point, ideal=ideal,
                           nadir=nadir, name=name, obj_names=obj_names)


def from_numpy(f: Callable[[np.ndarray], Any], n_var: int, n_obj: int, lower, upper, *,
               vectorized: bool = True, constraints: Callable[[np.ndarray], Any] | None = None,
               n_constr: int = 0, ref_point=None, ideal=None, nadir=None,
               name: str = "blackbox", obj_names: Sequence[str] | None = None,
               es_samples: int = 8, es_sigma: float = 0.01, penalty: float = 100.0,
               seed: int = 0) -> BlackBoxProblem:
    """A black-box problem from a numpy function (trained with zero-order gradients).

    Args:
        f: ``vectorized=True``: `(n, n_var)` → `(n, n_obj)`; ``False``: `(n_var,)` → `(n_obj,)`.
        constraints: optional, same calling convention, returning `(n, n_constr)` (or
            `(n_constr,)`) values ``G`` with ``G <= 0`` feasible; ``n_constr`` their number.
        es_samples, es_sigma, penalty, seed: the zero-order estimator and the constraint
            penalty (module doc). Other arguments as :func:`from_function`.
    """
    if not callable(f):
        raise ConfigError(f"from_numpy: f = {f!r} is not callable.")
    if constraints is not None and (isinstance(n_constr, bool) or not isinstance(n_constr, int)
                                    or n_constr < 1):
        raise ConfigError(f"from_numpy: constraints given but n_constr = {n_constr!r}; pass the "
                          "number of constraint values it returns (an integer >= 1).")

    def evaluate(X: np.ndarray):
        if vectorized:
            F = f(X)
            G = constraints(X) if constraints is not None else None
        else:
            F = np.array([np.asarray(f(x), dtype=np.float64).reshape(-1) for x in X])
            G = (np.array([np.asarray(constraints(x), dtype=np.float64).reshape(-1) for x in X])
                 if constraints is not None else None)
        return F, G

    return BlackBoxProblem(evaluate, n_var, n_obj, lower, upper,
                           n_constr=n_constr if constraints is not None else 0,
                           ref_point=ref_point, ideal=ideal, nadir=nadir, name=name,
                           obj_names=obj_names, es_samples=es_samples, es_sigma=es_sigma,
                           penalty=penalty, seed=seed)


def from_pymoo(problem: Any, *, ref_point=None, name: str | None = None,
               obj_names: Sequence[str] | None = None, es_samples: int = 8,
               es_sigma: float = 0.01, penalty: float = 100.0, seed: int = 0) -> BlackBoxProblem:
    """A black-box problem from a pymoo ``Problem`` (``Problem`` or ``ElementwiseProblem``).

    The bounds are ``problem.xl`` / ``problem.xu``; inequality constraints ``G <= 0`` are
    penalised (module doc); equality constraints are refused. The problem's own
    ``pareto_front()`` is used as the reference front where it has one.
    """
    from pymoo.core.problem import Problem as PymooProblem

    if not isinstance(problem, PymooProblem):
        raise ConfigError(f"from_pymoo: expected a pymoo.core.problem.Problem instance, got "
                          f"{type(problem).__name__}; for a plain function use from_numpy.")
    label = name or type(problem).__name__.lower()
    if getattr(problem, "n_eq_constr", 0):
        raise ConfigError(f"problem {label!r} has {problem.n_eq_constr} equality constraints; "
                          "only inequality constraints (G <= 0) are supported: rewrite each "
                          "h(x) = 0 as |h(x)| - eps <= 0.")
    if problem.xl is None or problem.xu is None:
        raise ConfigError(f"problem {label!r} has no bounds (xl/xu); a Pareto set model maps "
                          "into a box: set xl and xu.")
    n_constr = int(getattr(problem, "n_ieq_constr", 0) or 0)

    def evaluate(X: np.ndarray):
        out = problem.evaluate(X, return_values_of=["F", "G"] if n_constr else ["F"],
                               return_as_dictionary=True)
        return out["F"], out.get("G")

    def front(n: int):
        try:
            try:
                pf = problem.pareto_front(n_pareto_points=n)
            except TypeError:
                pf = problem.pareto_front()
        except Exception:  # noqa: BLE001 - pymoo raises various errors (or downloads one)
            return None
        return None if pf is None else np.asarray(pf, dtype=np.float64)

    has_front = front(10) is not None
    return BlackBoxProblem(evaluate, problem.n_var, problem.n_obj, problem.xl, problem.xu,
                           n_constr=n_constr, ref_point=ref_point, name=label,
                           obj_names=obj_names, es_samples=es_samples, es_sigma=es_sigma,
                           penalty=penalty, seed=seed, pareto_front=front if has_front else None)
