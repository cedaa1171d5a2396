"""Shared pieces of the baselines: budgets, results, HV tracing and the method registry.

A baseline is a plain function

    ``fn(problem, budget: Budget, seed: int, **params) -> BaselineResult``

registered with :func:`register` under a name, a family (``"evolutionary"``, ``"gradient"``,
``"psl"``) and the paper it reproduces. :func:`run` is the single entry point: it resolves the
problem (by name or object), checks the method name and its parameters against the function's
signature, and never raises on a failing run: the result then has ``status == "failed"`` and
``error`` says why.

>>> from hybridmoo import baselines
>>> r = baselines.run("nsga2", "zdt1", baselines.Budget("evaluations", 200), seed=0,
...                   pop_size=20, problem_options={"n_var": 5})
>>> r.status, r.F.shape[1], r.budget_used["evaluations"] <= 200
('ok', 2, True)
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from hybridmoo import metrics
from hybridmoo.errors import (
    ConfigError,
    HybridMooError,
    TrialFailedError,
    UnknownNameError,
    did_you_mean,
)
from hybridmoo.record import Budget, Record

__all__ = [
    "BUDGET_KINDS",
    "BaselineResult",
    "Budget",
    "Tracer",
    "budget_left",
    "comparison_budget",
    "get",
    "names",
    "ref_point_of",
    "register",
    "registered",
    "resolve_problem",
    "run",
]

BUDGET_KINDS = ("seconds", "steps", "evaluations")


# ---------------------------------------------------------------------------------- budget
def comparison_budget(spec: Budget | Mapping | tuple) -> Budget:
    """A comparison run's budget: a :class:`~hybridmoo.record.Budget` (the one budget type of
    studies and comparisons) with exactly one limit, of a kind every baseline counts.

    What a step is depends on the family: a generation for evolutionary methods, one optimiser
    step for gradient and Pareto-set-learning methods. An evaluation is one objective vector
    f(x) (for data-driven problems, one preference's loss on one minibatch). Each method states
    in its docstring how it converts a budget of another kind, and records what it actually used
    (:attr:`BaselineResult.budget_used`).

    Raises:
        ConfigError: an invalid budget, several limits, or a kind other than
            :data:`BUDGET_KINDS` (``epochs``: study trials only).
    """
    budget = Budget.of(spec)
    if len(budget.kinds) != 1:
        raise ConfigError(f"{budget!r}: a comparison run takes one limit, e.g. "
                          "Budget('seconds', 60) or a one-key dict such as "
                          "{'evaluations': 10000}")
    if budget.kind not in BUDGET_KINDS:
        raise ConfigError(f"{budget!r}: comparison runs count {', '.join(BUDGET_KINDS)}; "
                          f"{budget.kind} budgets apply to study trials only")
    return budget


def budget_left(budget: Budget, seconds: float, evaluations: float, steps: float) -> bool:
    """Whether a run that has used ``seconds``, ``evaluations`` and ``steps`` may go on.

    Only the counter of the budget's kind is compared; the others are recorded, not limited.
    """
    return not budget.exhausted({"seconds": seconds, "evaluations": evaluations,
                                 "steps": steps})


# ---------------------------------------------------------------------------------- result
class BaselineResult(Record):
    """Outcome of one baseline run: a :class:`~hybridmoo.record.Record` (the one record type of
    study trials and comparison runs) built with the baselines' own names.

    Args:
        method: registry name of the method. params: the parameters it ran with (defaults
            included; stored as :attr:`Record.config`, read back as :attr:`Record.params`).
        problem: ``problem.describe()``. seed: the seed.
        status: ``"ok"`` or ``"failed"``; ``error`` says why a run failed.
        F: `(n, m)` float64 final approximation set (objective vectors, minimised).
        X: `(n, n_var)` decision vectors of ``F``, or ``None`` (data-driven problems).
        prefs: `(n, m)` preferences that produced ``F`` (preference-based methods), or ``None``.
        trace: equal-length `(T,)` float64 arrays ``seconds``, ``evaluations``, ``steps``,
            ``hv`` and ``igd`` (NaN where the problem has no reference front); the record adds
            the other :data:`~hybridmoo.record.TRACE_KEYS` as NaN.
        budget_used: ``{"seconds", "evaluations", "steps"}`` actually spent.
        hv: final hypervolume (NaN for a failed run). ref_point: `(m,)` the reference point of
            every HV here.
        extra: method-specific details (e.g. the pymoo class behind ``pymoo:<name>``).
    """

    def __init__(self, *, params: Mapping | None = None, config: Mapping | None = None,
                 **fields: Any) -> None:
        super().__init__(config=dict(params if params is not None else config or {}),
                         **fields)

    @classmethod
    def failed(cls, error: str, *, method: str, problem: dict, seed: int, n_obj: int,
               params: Mapping | None = None, ref_point=None,
               trace: Mapping[str, np.ndarray] | None = None,
               budget_used: Mapping[str, float] | None = None, **_: Any) -> BaselineResult:
        """A failed result; ``trace`` and ``budget_used`` keep what was recorded before."""
        ref = np.full(n_obj, np.nan) if ref_point is None else np.asarray(ref_point, float)
        used = {"seconds": 0.0, "evaluations": 0.0, "steps": 0.0}
        used.update(dict(budget_used or {}))
        return cls(method=method, params=dict(params or {}), problem=dict(problem), seed=seed,
                   status="failed", error=error, F=np.zeros((0, n_obj)), X=None, prefs=None,
                   trace=dict(trace or {}), budget_used=used, hv=float("nan"), ref_point=ref)


# ---------------------------------------------------------------------------------- tracing
def ref_point_of(problem, ref_point=None) -> np.ndarray:
    """The `(m,)` float64 reference point: ``ref_point`` if given, else the problem's.

    Raises:
        ConfigError: if neither exists or the length is not ``problem.n_obj``.
    """
    if ref_point is None:
        if getattr(problem, "ref_point", None) is None:
            raise ConfigError(
                f"problem {problem.name!r} has no default reference point: pass ref_point"
            )
        ref_point = problem.ref_point
    if hasattr(ref_point, "detach"):
        ref_point = ref_point.detach().cpu().numpy()
    r = np.asarray(ref_point, dtype=np.float64).reshape(-1)
    if r.size != problem.n_obj:
        raise ConfigError(
            f"ref_point must have length {problem.n_obj}, but it has length {r.size}"
        )
    return r


class Tracer:
    """Records the HV trace of a run: one point per :meth:`record` call.

    Args:
        problem: the problem (for its reference front and number of objectives).
        ref_point: `(m,)` reference point for HV; ``None`` takes the problem's.
        reference_front: `(k, m)` front for IGD. ``None`` (default) takes
            ``problem.pareto_front(1000)`` when the problem has one; pass ``False`` for no IGD.

    >>> from hybridmoo import problems
    >>> t = Tracer(problems.get("zdt1", n_var=5), ref_point=None)
    >>> round(t.record([[0.0, 1.0], [1.0, 0.0]], seconds=0.1, evaluations=2, steps=1), 4)
    0.21
    >>> sorted(t.arrays())
    ['evaluations', 'hv', 'igd', 'seconds', 'steps']
    """

    KEYS = ("seconds", "evaluations", "steps", "hv", "igd")

    def __init__(self, problem, ref_point=None, reference_front=None) -> None:
        self.problem = problem
        self.ref_point = ref_point_of(problem, ref_point)
        if reference_front is False:
            self.reference_front = None
        elif reference_front is None:
            pf = problem.pareto_front(1000) if getattr(problem, "has_pareto_front", False) \
                else None
            self.reference_front = None if pf is None else np.asarray(pf, dtype=np.float64)
        else:
            self.reference_front = np.asarray(reference_front, dtype=np.float64)
        self._rows: dict[str, list[float]] = {k: [] for k in self.KEYS}

    def measure(self, F) -> tuple[float, float]:
        """``(hv, igd)`` of ``F`` (`(n, m)`); both NaN if ``F`` holds NaN, IGD NaN without front.

        An empty ``F`` has HV 0 and IGD inf.
        """
        if hasattr(F, "detach"):
            F = F.detach().cpu().numpy()
        P = np.asarray(F, dtype=np.float64).reshape(-1, self.ref_point.size)
        if np.isnan(P).any():
            return float("nan"), float("nan")
        hv = metrics.hypervolume(P, self.ref_point)
        if self.reference_front is None:
            igd = float("nan")
        elif P.shape[0] == 0:
            igd = float("inf")
        else:
            finite = P[np.isfinite(P).all(axis=1)]
            igd = metrics.igd(finite, self.reference_front) if len(finite) else float("inf")
        return hv, igd

    def record(self, F, seconds: float, evaluations: float, steps: float) -> float:
        """Append one trace point for the approximation set ``F``; returns its HV."""
        hv, igd = self.measure(F)
        for k, v in zip(self.KEYS, (seconds, evaluations, steps, hv, igd), strict=True):
            self._rows[k].append(float(v))
        return hv

    def __len__(self) -> int:
        return len(self._rows["hv"])

    @property
    def last_hv(self) -> float:
        """HV of the last recorded point (NaN if none)."""
        return self._rows["hv"][-1] if self._rows["hv"] else float("nan")

    def arrays(self) -> dict[str, np.ndarray]:
        """The trace as a dict of equal-length `(T,)` float64 arrays."""
        return {k: np.asarray(v, dtype=np.float64) for k, v in self._rows.items()}


# ---------------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class _Entry:
    name: str
    fn: Callable[..., BaselineResult]
    family: str
    paper: str
    summary: str

    def defaults(self) -> dict[str, Any]:
        """The method's parameters and their defaults (``inspect.Parameter.empty`` if none)."""
        sig = inspect.signature(self.fn)
        params = list(sig.parameters.values())[3:]  # after problem, budget, seed
        return {p.name: p.default for p in params
                if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}

    def accepts_any(self) -> bool:
        """Whether the function takes ``**kwargs`` (e.g. pymoo options passed through)."""
        sig = inspect.signature(self.fn)
        return any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())


_REGISTRY: dict[str, _Entry] = {}
# name prefixes resolved by a factory, e.g. "pymoo:" → (prefix, fn(name) → _Entry)
_PREFIXES: dict[str, Callable[[str], _Entry]] = {}


def register(name: str, family: str, paper: str,
             summary: str = "") -> Callable[[Callable], Callable]:
    """Decorator that registers ``fn(problem, budget, seed, **params) -> BaselineResult``.

    Args:
        name: registry name (case-insensitive), e.g. ``"nsga2"``.
        family: ``"evolutionary"``, ``"gradient"``, ``"psl"`` or another group name.
        paper: the citation of the method (authors, year, venue).
        summary: one line; default the first line of the function's docstring.
    """

    def deco(fn: Callable) -> Callable:
        key = name.lower()
        if key in _REGISTRY:
            raise ValueError(f"baseline {name!r} is already registered")
        params = list(inspect.signature(fn).parameters)
        if params[:3] != ["problem", "budget", "seed"]:
            raise TypeError(
                f"baseline {name!r}: the function must start with (problem, budget, seed), "
                f"got {params[:3]}"
            )
        doc = summary or (inspect.getdoc(fn) or "").split("\n", 1)[0]
        _REGISTRY[key] = _Entry(key, fn, family, paper, doc)
        return fn

    return deco


def _register_prefix(prefix: str, factory: Callable[[str], _Entry]) -> None:
    """Resolve names ``prefix + rest`` with ``factory(name)`` (used by ``pymoo:<name>``)."""
    _PREFIXES[prefix.lower()] = factory


#: Families in the order :func:`names` and :func:`registered` list them (others follow).
FAMILIES = ("evolutionary", "gradient", "psl", "hybridmoo")


def _ordered() -> list[_Entry]:
    rank = {f: i for i, f in enumerate(FAMILIES)}
    entries = list(_REGISTRY.values())
    return sorted(entries, key=lambda e: (rank.get(e.family, len(rank)), entries.index(e)))


def names(family: str | None = None) -> list[str]:
    """Registered method names (optionally of one family), by family, then registration order.

    Names resolved by prefix (``pymoo:<algorithm>``) are not listed.
    """
    return [e.name for e in _ordered() if family is None or e.family == family]


def registered() -> list[_Entry]:
    """The registry entries (name, fn, family, paper, summary), in the order of :func:`names`."""
    return _ordered()


def get(name: str) -> _Entry:
    """The registry entry of ``name`` (``name``, ``fn``, ``family``, ``paper``, ``summary``).

    Raises:
        UnknownNameError: if no method has this name; the message lists the registered ones.
    """
    if not isinstance(name, str):
        raise UnknownNameError(f"method name must be a string, got {type(name).__name__}")
    key = name.lower()
    if key in _REGISTRY:
        return _REGISTRY[key]
    for prefix, factory in _PREFIXES.items():
        if key.startswith(prefix):
            return factory(name)
    raise UnknownNameError(
        f"unknown baseline {name!r}.{did_you_mean(key, names())} "
        f"Registered methods: {', '.join(names())}; any pymoo algorithm as "
        "'pymoo:<name>' (e.g. 'pymoo:spea2')."
    )


def resolve_problem(problem, problem_options: Mapping | None = None):
    """A problem object from a registered name (with ``problem_options``) or an object."""
    if isinstance(problem, str):
        from hybridmoo import problems as registry

        return registry.get(problem, **dict(problem_options or {}))
    if problem_options:
        raise ConfigError("problem_options are only used with a problem given by name")
    return problem


def run(name: str, problem, budget: Budget | Mapping | tuple, seed: int = 0, *,
        problem_options: Mapping | None = None, on_failure: str = "raise",
        **params: Any) -> BaselineResult:
    """Run baseline ``name`` on ``problem`` under ``budget``.

    Args:
        name: a registered method (see :func:`names`) or ``pymoo:<algorithm>``.
        problem: a registered problem name or a problem object.
        budget: a :class:`Budget` or anything :meth:`Budget.of` accepts.
        seed: random seed of the run.
        problem_options: options for a problem given by name (e.g. ``{"n_var": 10}``).
        on_failure: ``"raise"`` (default): a run that failed (NaN objectives, an exception
            inside the method, missing data) raises :class:`~hybridmoo.errors.TrialFailedError`
            naming the method, the problem, the seed and the reason, with the failed result as
            its ``result`` attribute; ``"return"``: return the failed result (``status ==
            "failed"``, ``error`` says why), as ``hybridmoo compare`` does to record it and go on.
        **params: the method's parameters (see ``get(name).defaults()``).

    Returns:
        A :class:`BaselineResult`.

    Raises:
        TrialFailedError: the run failed and ``on_failure == "raise"``.
        UnknownNameError: unknown method or problem name.
        ConfigError: a parameter the method does not accept (the message lists the accepted
            ones), an invalid budget, or an invalid parameter value.
    """
    if on_failure not in ("raise", "return"):
        raise ConfigError(f"on_failure = {on_failure!r}: expected 'raise' or 'return'")
    result = _run(name, problem, budget, seed, problem_options, params)
    if not result.ok and on_failure == "raise":
        exc = TrialFailedError(
            f"baseline {result.method!r} failed on {result.problem.get('name', '?')!r} (seed "
            f"{result.seed}): {result.error}. Pass on_failure='return' to get the failed result "
            "instead of this error.")
        exc.result = result
        raise exc
    return result


def _run(name, problem, budget, seed, problem_options, params) -> BaselineResult:
    """:func:`run` without the failure policy: a failed run is a failed result."""
    entry = get(name)
    budget = comparison_budget(budget)
    problem = resolve_problem(problem, problem_options)
    accepted = entry.defaults()
    if not entry.accepts_any():
        unknown = [k for k in params if k not in accepted]
        if unknown:
            listing = ", ".join(
                k if v is inspect.Parameter.empty else f"{k}={v!r}" for k, v in accepted.items()
            ) or "none"
            raise ConfigError(
                f"baseline {entry.name!r} has no parameter {unknown[0]!r}."
                f"{did_you_mean(unknown[0], list(accepted))} Accepted parameters: {listing}."
            )
    full = {k: v for k, v in accepted.items() if v is not inspect.Parameter.empty}
    full.update(params)
    t0 = time.perf_counter()
    try:
        result = entry.fn(problem, budget, int(seed), **params)
    except (ConfigError, UnknownNameError):
        raise
    except (HybridMooError, Exception) as exc:  # noqa: BLE001 - a failing run is a result
        return BaselineResult.failed(
            f"{type(exc).__name__}: {exc}", method=entry.name, problem=problem.describe(),
            seed=int(seed), n_obj=problem.n_obj, params=full,
            ref_point=getattr(problem, "ref_point", None),
            budget_used={"seconds": time.perf_counter() - t0},
        )
    return replace(result, method=entry.name, config={**full, **result.params},
                   problem=problem.describe(), seed=int(seed))
