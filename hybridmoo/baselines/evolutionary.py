"""Evolutionary baselines: pymoo's multi-objective algorithms run directly on a problem.

The hybridmoo problem is wrapped as a vectorised pymoo ``Problem`` (numpy float64 in, one batched
``problem.evaluate`` in torch float64, numpy out; no gradients) and driven by pymoo's ask/tell
interface, so the budget is checked between generations:

- ``evaluations``: objective evaluations f(x). The last generation is cut to the evaluations
  left: its individuals are evaluated and enter the archive but are not told to the algorithm,
  so ``budget_used["evaluations"]`` never exceeds the budget.
- ``steps``: generations (the initial population counts as the first; for the loop-wise MOEA/D
  a generation is one pass over all subproblems).
- ``seconds``: seconds spent in ask, evaluate and tell; the time to compute the HV trace is
  excluded (as :func:`hybridmoo.train` excludes evaluation time). A generation that has started
  is finished, so a run may overrun by one generation.

Approximation set (``front``): ``"archive"`` (default) is the non-dominated set of *every*
point evaluated so far (an unbounded archive, as in anytime benchmarking such as COCO's
bi-objective suite); ``"population"`` is the non-dominated part of the current population (what
``pymoo.optimize.minimize`` reports as ``res.F``). The trace records the HV (and IGD, where the
problem has a reference front) of that set about once per ``trace_every`` evaluations (default:
the population size, i.e. every generation of a generational algorithm, or 1/50 of an
evaluations budget if larger; under a seconds budget at most every 1/50 of it), plus the start
and the end: about 50 points, since each costs an HV (and IGD) of the whole archive.

Methods (family ``"evolutionary"``), with the operator settings of their papers:

- ``nsga2``: NSGA-II (Deb, Pratap, Agarwal, Meyarivan, "A fast and elitist multiobjective genetic
  algorithm: NSGA-II", IEEE TEVC 6(2), 2002): SBX η_c = 20, p_c = 0.9; polynomial mutation
  η_m = 20, p_m = 1/n (the paper's settings; pymoo's default SBX uses η_c = 15).
- ``nsga3``: NSGA-III (Deb & Jain, "An evolutionary many-objective optimization algorithm using
  reference-point-based nondominated sorting approach, part I", IEEE TEVC 18(4), 2014): SBX
  η_c = 30, p_c = 1; PM η_m = 20 (pymoo's defaults, which are the paper's); Das–Dennis
  reference directions, the largest lattice with at most ``pop_size`` points.
- ``moead``: MOEA/D (Zhang & Li, "MOEA/D: A multiobjective evolutionary algorithm based on
  decomposition", IEEE TEVC 11(6), 2007): Tchebycheff decomposition, T = 20 neighbours, parents
  always drawn from the neighbourhood (``prob_neighbor_mating = 1``, as in the paper; pymoo's
  0.9 comes from MOEA/D-DE), SBX η_c = 20, p_c = 1, PM η_m = 20. ``pop_size`` Das–Dennis weight
  vectors (the largest lattice with at most ``pop_size`` points). ``parallel=True`` (default)
  runs pymoo's generation-wise ``ParallelMOEAD`` (one offspring per subproblem, evaluated as
  one batch, neighbours replaced after the batch); ``parallel=False`` runs pymoo's loop-wise
  ``MOEAD`` (one offspring per ask, replacement immediately, as in the paper; slower in Python).
- ``smsemoa``: SMS-EMOA (Beume, Naujoks & Emmerich, "SMS-EMOA: Multiobjective selection based
  on dominated hypervolume", EJOR 181(3), 2007): steady state, one offspring per generation
  (``n_offsprings = 1``, the (μ + 1) scheme of the paper), SBX η_c = 15, p_c = 0.9, PM η_m = 20
  (pymoo's defaults).
- ``pymoo:<name>``: any other pymoo algorithm, looked up by module or class name under
  ``pymoo.algorithms.moo`` (case-insensitive: ``pymoo:spea2`` → ``SPEA2``, ``pymoo:sms`` →
  ``SMSEMOA``, ``pymoo:rvea``, ``pymoo:ctaea``; AGE-MOEA, ``pymoo:age``, needs numba) or by a
  full dotted path (``pymoo:pkg.module.Class``), built with pymoo's defaults. ``pop_size`` is
  passed if the class takes it; ``ref_dirs`` (when the class takes them and none are given) are
  Das–Dennis directions as for NSGA-III; any other required argument must be given as a
  parameter.

Every method accepts ``pop_size``, ``front``, ``trace_every``, ``ref_point`` (HV reference
point, default the problem's), ``threads`` (torch threads while evaluating; unset: unchanged),
plus keyword options of the pymoo class's constructor (e.g.
``n_offsprings``, ``eliminate_duplicates``, ``crossover=SBX(eta=10)``); an option the class does
not take is an error that lists those it does. Randomness comes from pymoo's own generator,
seeded with ``seed``: the same seed gives the same run.

>>> from hybridmoo import baselines
>>> r = baselines.run("nsga2", "zdt1", {"evaluations": 400}, seed=1, pop_size=40,
...                   problem_options={"n_var": 5})
>>> r.ok, r.budget_used["evaluations"], r.budget_used["steps"]
(True, 400.0, 10.0)
"""

from __future__ import annotations

import importlib
import inspect
import math
import pkgutil
import time
from typing import Any

import numpy as np
import torch

from hybridmoo import metrics
from hybridmoo.baselines.common import (
    BaselineResult,
    Budget,
    Tracer,
    _Entry,
    _register_prefix,
    budget_left,
    register,
)
from hybridmoo.errors import ConfigError, UnknownNameError, did_you_mean

__all__ = ["as_pymoo_problem", "moead", "nsga2", "nsga3", "resolve_pymoo", "run_pymoo", "smsemoa"]

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
def _das_dennis(n_obj: int, at_most: int) -> np.ndarray:
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


def _check_common(pop_size: int, front: str, trace_every: int | None,
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
        F_new = np.asarray(infills.get("F"), dtype=np.float64).reshape(-1, problem.n_obj)
        X_new = np.asarray(infills.get("X"), dtype=np.float64).reshape(-1, n)
        arch_F, arch_X = _nondominated(np.vstack([arch_F, F_new]), np.vstack([arch_X, X_new]))
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


def _run(cls, problem, budget, seed, *, method, pop_size, front, trace_every, ref_point,
         threads, options, defaults=None, ref_dirs=False, pass_pop=True) -> BaselineResult:
    """Validate, build ``cls`` with paper defaults under the user's options, and run it."""
    _check_common(pop_size, front, trace_every, threads)
    _check_options(cls, options, method)
    kwargs = dict(defaults or {})
    kwargs.update(options)
    if ref_dirs and "ref_dirs" not in options:
        kwargs["ref_dirs"] = _das_dennis(problem.n_obj, pop_size)
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


# ---------------------------------------------------------------------------------- methods
@register("nsga2", "evolutionary", "Deb, Pratap, Agarwal & Meyarivan, IEEE TEVC 6(2), 2002")
def nsga2(problem, budget: Budget, seed: int, *, pop_size: int = 100, front: str = "archive",
          trace_every: int | None = None, ref_point=None, threads: int | None = None,
          **options) -> BaselineResult:
    """NSGA-II: non-dominated sorting and crowding distance (SBX η=20, p=0.9; PM η=20)."""
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM

    defaults = {"crossover": SBX(prob=0.9, eta=20), "mutation": PM(eta=20)}
    return _run(NSGA2, problem, budget, seed, method="nsga2", pop_size=pop_size, front=front,
                trace_every=trace_every, ref_point=ref_point, threads=threads, options=options,
                defaults=defaults)


@register("nsga3", "evolutionary", "Deb & Jain, IEEE TEVC 18(4), 2014")
def nsga3(problem, budget: Budget, seed: int, *, pop_size: int = 100, front: str = "archive",
          trace_every: int | None = None, ref_point=None, threads: int | None = None,
          **options) -> BaselineResult:
    """NSGA-III: reference-direction niching on Das–Dennis directions (SBX η=30, p=1)."""
    from pymoo.algorithms.moo.nsga3 import NSGA3

    return _run(NSGA3, problem, budget, seed, method="nsga3", pop_size=pop_size, front=front,
                trace_every=trace_every, ref_point=ref_point, threads=threads, options=options,
                ref_dirs=True)


@register("moead", "evolutionary", "Zhang & Li, IEEE TEVC 11(6), 2007")
def moead(problem, budget: Budget, seed: int, *, pop_size: int = 100, front: str = "archive",
          trace_every: int | None = None, ref_point=None, threads: int | None = None,
          parallel: bool = True, **options) -> BaselineResult:
    """MOEA/D: Tchebycheff decomposition over Das–Dennis weights, T = 20 neighbours."""
    from pymoo.algorithms.moo.moead import MOEAD, ParallelMOEAD
    from pymoo.decomposition.tchebicheff import Tchebicheff
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM

    if not isinstance(parallel, bool):
        raise ConfigError(f"parallel = {parallel!r} is invalid: expected true or false")
    cls = ParallelMOEAD if parallel else MOEAD
    _check_common(pop_size, front, trace_every, threads)
    dirs = options.get("ref_dirs")
    n_dirs = len(dirs) if dirs is not None else len(_das_dennis(problem.n_obj, pop_size))
    defaults: dict[str, Any] = {
        "n_neighbors": min(20, n_dirs),
        "decomposition": Tchebicheff(),
        "prob_neighbor_mating": 1.0,
        "crossover": SBX(prob=1.0, eta=20),
        "mutation": PM(eta=20),
    }
    result = _run(cls, problem, budget, seed, method="moead", pop_size=pop_size, front=front,
                  trace_every=trace_every, ref_point=ref_point, threads=threads, options=options,
                  defaults=defaults, ref_dirs=True, pass_pop=False)
    result.params["parallel"] = parallel
    return result


@register("smsemoa", "evolutionary", "Beume, Naujoks & Emmerich, EJOR 181(3), 2007")
def smsemoa(problem, budget: Budget, seed: int, *, pop_size: int = 100, front: str = "archive",
            trace_every: int | None = None, ref_point=None, threads: int | None = None,
            **options) -> BaselineResult:
    """SMS-EMOA: steady-state (μ + 1) selection by least hypervolume contribution."""
    from pymoo.algorithms.moo.sms import SMSEMOA

    return _run(SMSEMOA, problem, budget, seed, method="smsemoa", pop_size=pop_size, front=front,
                trace_every=trace_every, ref_point=ref_point, threads=threads, options=options,
                defaults={"n_offsprings": 1})


# ---------------------------------------------------------------------------------- pymoo:<name>
def _moo_classes() -> tuple[dict[str, type], dict[str, type], dict[str, str]]:
    """Algorithm classes of ``pymoo.algorithms.moo.*``: by lower-case class name, by module,
    and the modules that could not be imported (name → reason, e.g. numba missing for AGE)."""
    import pymoo.algorithms.moo as moo
    from pymoo.core.algorithm import Algorithm

    by_class: dict[str, type] = {}
    by_module: dict[str, type] = {}
    failed: dict[str, str] = {}
    for info in pkgutil.iter_modules(moo.__path__):
        try:
            mod = importlib.import_module(f"{moo.__name__}.{info.name}")
        except Exception as exc:  # noqa: BLE001 - an optional dependency of a module is missing
            failed[info.name] = f"{type(exc).__name__}: {exc}"
            continue
        own = [obj for obj in vars(mod).values() if inspect.isclass(obj)
               and issubclass(obj, Algorithm) and obj.__module__ == mod.__name__]
        for obj in own:
            by_class.setdefault(obj.__name__.lower(), obj)
        named = [obj for obj in own if obj.__name__.lower().startswith(info.name)]
        if named or len(own) == 1:
            by_module[info.name] = (named or own)[0]
    return by_class, by_module, failed


def resolve_pymoo(spec: str) -> type:
    """The pymoo algorithm class named by ``spec`` (the part after ``pymoo:``).

    Looked up, in order: a dotted path ``package.module.Class`` (or ``package.module:Class``);
    a class name under ``pymoo.algorithms.moo`` (case-insensitive, e.g. ``AGEMOEA``); a module
    name there (``age`` → ``AGEMOEA``, its first class whose name starts with the module's).

    Raises:
        UnknownNameError: if nothing matches; the message lists the known class names.
    """
    from pymoo.core.algorithm import Algorithm

    if "." in spec or ":" in spec:
        mod_name, _, cls_name = spec.replace(":", ".").rpartition(".")
        try:
            obj = getattr(importlib.import_module(mod_name), cls_name)
        except (ImportError, AttributeError) as exc:
            raise UnknownNameError(f"pymoo algorithm {spec!r} not found: {exc}") from None
        if not (inspect.isclass(obj) and issubclass(obj, Algorithm)):
            raise UnknownNameError(f"{spec!r} is not a pymoo Algorithm class")
        return obj
    by_class, by_module, failed = _moo_classes()
    key = spec.lower()
    if key in by_class:
        return by_class[key]
    if key in by_module:
        return by_module[key]
    broken = sorted((m for m in failed if key.startswith(m)), key=len)
    if broken:
        mod = broken[-1]
        raise UnknownNameError(
            f"pymoo algorithm {spec!r}: module pymoo.algorithms.moo.{mod} could not be imported "
            f"({failed[mod]})"
        )
    known = sorted(by_class)
    raise UnknownNameError(
        f"unknown pymoo algorithm {spec!r}.{did_you_mean(key, known)} Known under "
        f"pymoo.algorithms.moo: {', '.join(known)}; or give a dotted path "
        "'pymoo:package.module.Class'."
    )


def _pymoo_entry(name: str) -> _Entry:
    spec = name.split(":", 1)[1]
    cls = resolve_pymoo(spec)
    sig = inspect.signature(cls.__init__)
    takes_pop = "pop_size" in sig.parameters
    needs_dirs = "ref_dirs" in sig.parameters

    def fn(problem, budget: Budget, seed: int, *, pop_size: int = 100, front: str = "archive",
           trace_every: int | None = None, ref_point=None, threads: int | None = None,
           **options) -> BaselineResult:
        required = [p.name for p in sig.parameters.values()
                    if p.name not in ("self", "ref_dirs") and p.default is p.empty
                    and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                    and p.name not in options]
        if required:
            raise ConfigError(
                f"pymoo algorithm {cls.__name__} needs the option(s) {', '.join(required)}; "
                f"pass them as parameters, e.g. baselines.run({name!r}, ..., "
                f"{required[0]}=...)"
            )
        return _run(cls, problem, budget, seed, method=name, pop_size=pop_size, front=front,
                    trace_every=trace_every, ref_point=ref_point, threads=threads,
                    options=options, ref_dirs=needs_dirs, pass_pop=takes_pop)

    fn.__doc__ = f"pymoo's {cls.__name__} with its default settings (``pymoo:{spec}``)."
    return _Entry(name.lower(), fn, "evolutionary", f"pymoo {cls.__module__}.{cls.__name__}",
                  fn.__doc__)


_register_prefix("pymoo:", _pymoo_entry)
