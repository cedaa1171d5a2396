"""Shared machinery of the evolutionary baselines: pymoo algorithms driven on hybridmoo problems.

See :mod:`hybridmoo.baselines.evolutionary` for the budget, the approximation set (``front``) and
the common parameters; each method lives in its own module (``nsga2``, ``nsga3``, ``moead``,
``smsemoa``, ``pymoo_any``).
"""

from __future__ import annotations

import inspect
import math
import time
from typing import Any

import numpy as np
import torch

from hybridmoo import metrics
from hybridmoo.baselines.common import BaselineResult, Budget, Tracer, budget_left
from hybridmoo.errors import ConfigError, did_you_mean

__all__ = ["as_pymoo_problem", "check_common", "das_dennis_dirs", "run_algorithm", "run_pymoo"]

_FRONTS = ("archive", "population")
# constructor arguments the driver sets itself (never taken from the user's options)
_RESERVED = {"termination", "seed", "verbose", "output", "display", "callback", "evaluator",
             "save_history", "archive", "problem", "advance_after_initial_infill",
             "advance_after_initialization"}
_COMMON = ("pop_size", "front", "trace_every", "ref_point", "threads")


# ---------------------------------------------------------------------------------- problem
def as_pymoo_problem(problem):
    """A vectorised pymoo ``Problem`` that evaluates ``problem`` in torch float64.

    ``_evaluate`` receives an `(n, n_var)` numpy array and sets ``out["F"]`` to the `(n, n_obj)`
    objective values, computed in one batched, gradient-free call.

    Raises:
        ConfigError: for a data-driven problem (no decision vector to evolve).
        FloatingPointError: (at evaluation) if the problem returns NaN.
    """
    from pymoo.core.problem import Problem as _Base

    if hasattr(problem, "make_task"):
        raise ConfigError(
            f"evolutionary baselines need a problem with decision vectors (synthetic or RE); "
            f"{problem.name!r} is data-driven (its parameters are network weights): use a "
            "gradient or psl baseline"
        )

    class _Wrapped(_Base):
        def __init__(self) -> None:
            lo, hi = problem.bounds
            super().__init__(n_var=problem.n_var, n_obj=problem.n_obj, xl=lo.numpy(),
                             xu=hi.numpy(), vtype=float)
            self.inner = problem

        def _evaluate(self, x, out, *args, **kwargs):
            with torch.no_grad():
                F = problem.evaluate(torch.as_tensor(np.asarray(x, dtype=np.float64)))
            F = F.detach().cpu().numpy().astype(np.float64, copy=False)
            if np.isnan(F).any():
                rows = np.unique(np.nonzero(np.isnan(F))[0])
                raise FloatingPointError(
                    f"{problem.name} returned NaN objectives for {rows.size} of {len(F)} points "
                    f"(first x = {np.array2string(np.asarray(x)[rows[0]], precision=4)})"
                )
            out["F"] = F

    return _Wrapped()


# ---------------------------------------------------------------------------------- helpers
def das_dennis_dirs(n_obj: int, at_most: int) -> np.ndarray:
    """The largest Das–Dennis lattice with at most ``at_most`` directions (≥ n_obj points)."""
    from pymoo.util.ref_dirs import get_reference_directions

    p = 1
    while math.comb(p + 1 + n_obj - 1, n_obj - 1) <= at_most:
        p += 1
    return get_reference_directions("das-dennis", n_obj, n_partitions=p)


def _accepted_options(cls) -> list[str]:
    """Constructor keywords of a pymoo algorithm class and its bases, minus the reserved ones."""
    from pymoo.core.algorithm import Algorithm

    names: list[str] = []
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        for p in inspect.signature(klass.__init__).parameters.values():
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self" \
                    and p.name not in names and p.name not in _RESERVED:
                names.append(p.name)
        if klass is Algorithm:
            break
    return names


def _check_options(cls, options: dict, method: str) -> None:
    allowed = _accepted_options(cls)
    for key in options:
        if key not in allowed:
            raise ConfigError(
                f"baseline {method!r} ({cls.__name__}) has no option {key!r}."
                f"{did_you_mean(key, [*_COMMON, *allowed])} Accepted: {', '.join(_COMMON)} and "
                f"the pymoo options {', '.join(a for a in allowed if a not in _COMMON)}."
            )


def check_common(pop_size: int, front: str, trace_every: int | None,
                  threads: int | None = None) -> None:
    if not isinstance(pop_size, int | np.integer) or pop_size < 2:
        raise ConfigError(f"pop_size = {pop_size!r} is invalid: expected an integer ≥ 2")
    if front not in _FRONTS:
        raise ConfigError(
            f"front = {front!r} is not allowed.{did_you_mean(str(front), _FRONTS)} "
            f"Allowed: {', '.join(_FRONTS)}"
        )
    if threads is not None and (not isinstance(threads, int | np.integer) or threads < 1):
        raise ConfigError(f"threads = {threads!r} is invalid: expected an integer ≥ 1 or unset")
    if trace_every is not None and (not isinstance(trace_every, int | np.integer)
                                    or trace_every < 1):
        raise ConfigError(f"trace_every = {trace_every!r} is invalid: expected an integer ≥ 1")


def _nondominated(F: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Non-dominated rows of ``F`` (duplicates of a point kept once) and their ``X``."""
    if len(F) == 0:
        return F, X
    keep = metrics.is_nondominated(F)
    F, X = F[keep], X[keep]
    _, first = np.unique(F, axis=0, return_index=True)
    first.sort()
    return F[first], X[first]


# ---------------------------------------------------------------------------------- driver
def run_pymoo(algorithm, problem, budget: Budget, seed: int, *, method: str, params: dict,
              front: str = "archive", trace_every: int | None = None,
              ref_point=None) -> BaselineResult:
    """Drive a pymoo ``algorithm`` on ``problem`` through ask/tell under ``budget``.

    Args:
        algorithm: an un-set-up pymoo algorithm instance.
        problem: a hybridmoo problem with decision vectors.
        budget: evaluations, steps (generations) or seconds (see the module docstring).
        seed: seeds pymoo's random generator.
        method: the method's name (for the result). params: its parameters (for the result).
        front: ``"archive"`` or ``"population"`` (see the module docstring).
        trace_every: evaluations between trace points (default: the population size).
        ref_point: HV reference point (default: the problem's).

    Returns:
        A :class:`BaselineResult`. Raises (and :func:`~hybridmoo.baselines.run` turns into a
        failed result) if an evaluation returns NaN.
    """
    from pymoo.core.population import Population
    from pymoo.core.termination import NoTermination
    from pymoo.termination.max_eval import MaximumFunctionCallTermination
    from pymoo.termination.max_gen import MaximumGenerationTermination

    pp = as_pymoo_problem(problem)
    tracer = Tracer(problem, ref_point)
    # pymoo's own termination mirrors the budget (RVEA and others read it to plan their
    # schedule); the loop below enforces the budget itself
    if budget.kind == "evaluations":
        termination = MaximumFunctionCallTermination(budget.count)
    elif budget.kind == "steps":
        termination = MaximumGenerationTermination(budget.count)
    else:
        termination = NoTermination()
    algorithm.setup(pp, termination=termination, seed=int(seed), verbose=False)
    # about 50 trace points per run: each costs an HV (and IGD) of the whole archive
    pop = int(getattr(algorithm, "pop_size", None) or 100)
    every = trace_every or (max(pop, budget.count // 50) if budget.kind == "evaluations"
                            else pop)
    every_s = budget.amount / 50 if budget.kind == "seconds" else 0.0
    last_t = 0.0
    n = problem.n_var
    arch_F, arch_X = np.zeros((0, problem.n_obj)), np.zeros((0, n))
    evals, steps, seconds, last_rec = 0, 0, 0.0, 0
    tracer.record(arch_F, 0.0, 0, 0)

    def current() -> tuple[np.ndarray, np.ndarray]:
        if front == "archive" or algorithm.pop is None or len(algorithm.pop) == 0:
            return arch_F, arch_X
        return _nondominated(np.asarray(algorithm.pop.get("F"), dtype=np.float64),
                             np.asarray(algorithm.pop.get("X"), dtype=np.float64))

    while budget_left(budget, seconds, evals, steps):
        t0 = time.perf_counter()
        asked = algorithm.ask()
        if asked is None:  # the algorithm has nothing more to propose
            seconds += time.perf_counter() - t0
            break
        # loop-wise algorithms (MOEA/D) ask for one Individual and want it back as such
        infills = asked if isinstance(asked, Population) else Population.create(asked)
        partial = budget.kind == "evaluations" and evals + len(infills) > budget.count
        if partial:
            infills = infills[: budget.count - evals]
        algorithm.evaluator.eval(pp, infills)
        if not partial:
            algorithm.tell(infills=asked)
        seconds += time.perf_counter() - t0
        evals += len(infills)
        if not partial:
            steps = int(algorithm.n_iter) - 1
        if front == "archive":  # (the unbounded archive costs a sort of it per generation)
            F_new = np.asarray(infills.get("F"), dtype=np.float64).reshape(-1, problem.n_obj)
            X_new = np.asarray(infills.get("X"), dtype=np.float64).reshape(-1, n)
            arch_F, arch_X = _nondominated(np.vstack([arch_F, F_new]),
                                           np.vstack([arch_X, X_new]))
        if partial or not budget_left(budget, seconds, evals, steps):
            break
        if evals - last_rec >= every and seconds - last_t >= every_s:
            tracer.record(current()[0], seconds, evals, steps)
            last_rec, last_t = evals, seconds
    F, X = current()
    if len(tracer) == 1 or last_rec != evals:  # else the last point already is the final state
        tracer.record(F, seconds, evals, steps)
    hv = tracer.last_hv
    cls = type(algorithm)
    return BaselineResult(
        method=method, params=dict(params), problem=problem.describe(), seed=int(seed),
        status="ok", error="", F=F, X=X, prefs=None, trace=tracer.arrays(),
        budget_used={"seconds": seconds, "evaluations": float(evals), "steps": float(steps)},
        hv=float(hv), ref_point=tracer.ref_point,
        extra={"algorithm": f"{cls.__module__}.{cls.__qualname__}", "front": front,
               "n_front": int(len(F)), "pop_size": int(getattr(algorithm, "pop_size", 0) or 0)},
    )


def run_algorithm(cls, problem, budget, seed, *, method, pop_size, front, trace_every, ref_point,
         threads, options, defaults=None, ref_dirs=False, pass_pop=True) -> BaselineResult:
    """Validate, build ``cls`` with paper defaults under the user's options, and run it."""
    check_common(pop_size, front, trace_every, threads)
    _check_options(cls, options, method)
    kwargs = dict(defaults or {})
    kwargs.update(options)
    if ref_dirs and "ref_dirs" not in options:
        kwargs["ref_dirs"] = das_dennis_dirs(problem.n_obj, pop_size)
    if pass_pop:
        kwargs["pop_size"] = pop_size
    algorithm = cls(**kwargs)
    params = {"pop_size": pop_size, "front": front, "trace_every": trace_every,
              "ref_point": ref_point, "threads": threads,
              **{k: _plain(v) for k, v in options.items()}}
    before = torch.get_num_threads()
    try:
        if threads is not None:
            torch.set_num_threads(threads)
        return run_pymoo(algorithm, problem, budget, seed, method=method, params=params,
                         front=front, trace_every=trace_every, ref_point=ref_point)
    finally:
        torch.set_num_threads(before)


def _plain(v: Any) -> Any:
    """A JSON-friendly stand-in for an option value (operators become their repr)."""
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    return repr(v)
