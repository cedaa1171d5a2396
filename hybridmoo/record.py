"""What a run is given and what it produced: one :class:`Budget` type and one :class:`Record` type.

Every method — the hypernetwork trainer, DYMU, each baseline — spends a :class:`Budget` and
returns a :class:`Record`; study trials and comparison runs are the same record, written by the
same store. Numpy only: this module imports neither torch nor h5py, so that the store, the
analysis and the reports can read records without them.

**Budget.** Any of ``steps`` (optimiser steps, or generations of an evolutionary method),
``seconds`` (of computation, as each method documents), ``epochs`` (passes over the training
set of a data-driven problem) and ``evaluations`` (objective vectors f(x)); a run stops at the
first limit it reaches. ``Budget("steps", 100)`` (kind, amount) and ``Budget(steps=100,
seconds=60)`` both work; :meth:`Budget.of` coerces the forms a study or compare file uses.
:meth:`Budget.split` cuts a budget into stages (DYMU's anchor, edge and weight stages).

**Record.** A run's status, configuration, final front (``F``, ``X``, ``prefs``), trace
(`(T,)` arrays: ``steps``, ``seconds``, ``evaluations``, ``samples``, ``hv``, ``igd``, ``loss``;
NaN where a method does not measure one), what it spent (``budget_used``), sizes and times, the
weights it kept (``state``) and method-specific details (``extra``).

>>> b = Budget(steps=100, seconds=60)
>>> b.to_dict(), b.exhausted({"steps": 100, "seconds": 5.0})
({'steps': 100, 'seconds': 60.0}, True)
>>> Budget("evaluations", 2000).split([0.5, 0.5])
[Budget(evaluations=1000), Budget(evaluations=1000)]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hybridmoo.errors import ConfigError, did_you_mean

__all__ = ["BUDGET_KINDS", "TRACE_KEYS", "Budget", "Record", "TrialResult"]

#: The kinds of budget limit, in the order they are listed.
BUDGET_KINDS = ("steps", "seconds", "epochs", "evaluations")
#: The columns of a record's trace.
TRACE_KEYS = ("steps", "seconds", "evaluations", "samples", "hv", "igd", "loss")
_INTEGER = ("steps", "evaluations")


def _limit(kind: str, value: Any) -> int | float:
    bad = (f"budget {kind} = {value!r} is invalid: expected a finite number > 0"
           + (" (a whole number ≥ 1)" if kind in _INTEGER else ""))
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise ConfigError(bad) from None
            bad += f"; write {kind} = {value:g} without quotes"
        raise ConfigError(bad)
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise ConfigError(bad)
    if kind in _INTEGER:
        if v < 1 or v > 2**53:
            raise ConfigError(bad)
        return int(v)
    return v


class Budget:
    """How much a run may spend; it stops at the first limit reached (see the module docstring).

    Args:
        kind, amount: one limit given positionally, e.g. ``Budget("seconds", 15)``.
        steps, seconds, epochs, evaluations: limits by name (any combination, at least one).

    Raises:
        ConfigError: no limit, an unknown kind, a limit that is not a finite number > 0 (steps
            and evaluations: an integer ≥ 1; they are rounded down), or a limit given twice.
    """

    __slots__ = ("steps", "seconds", "epochs", "evaluations")

    def __init__(self, kind: str | None = None, amount: float | None = None, *,
                 steps: int | None = None, seconds: float | None = None,
                 epochs: float | None = None, evaluations: int | None = None) -> None:
        given = {"steps": steps, "seconds": seconds, "epochs": epochs,
                 "evaluations": evaluations}
        if kind is not None:
            if kind not in BUDGET_KINDS:
                raise ConfigError(f"budget kind {kind!r} is not allowed."
                                  f"{did_you_mean(str(kind), BUDGET_KINDS)} Allowed: "
                                  f"{', '.join(BUDGET_KINDS)}")
            if given[kind] is not None:
                raise ConfigError(f"budget {kind} is given twice")
            given[kind] = amount
        if all(v is None for v in given.values()):
            raise ConfigError("a budget needs at least one limit: steps, seconds, epochs or "
                              "evaluations")
        for k in BUDGET_KINDS:
            object.__setattr__(self, k, None if given[k] is None else _limit(k, given[k]))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Budget is immutable; build a new one")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Budget) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(self.to_dict().items()))

    def __repr__(self) -> str:
        return "Budget(" + ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items()) + ")"

    def __reduce__(self):
        return (_rebuild, (self.to_dict(),))

    # ------------------------------------------------------------------ views
    def to_dict(self) -> dict[str, int | float]:
        """The limits that are set, ``{kind: amount}``, in :data:`BUDGET_KINDS` order."""
        return {k: getattr(self, k) for k in BUDGET_KINDS if getattr(self, k) is not None}

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds of limit that are set."""
        return tuple(self.to_dict())

    @property
    def kind(self) -> str:
        """The kind of a single-limit budget (comparisons use one).

        Raises:
            ConfigError: if several limits are set.
        """
        if len(self.kinds) != 1:
            raise ConfigError(f"{self!r} has several limits; this use needs exactly one")
        return self.kinds[0]

    @property
    def amount(self) -> float:
        """The amount of a single-limit budget, as a float."""
        return float(getattr(self, self.kind))

    @property
    def count(self) -> int:
        """The amount of a single-limit budget, as an integer (steps, evaluations)."""
        return int(getattr(self, self.kind))

    # ------------------------------------------------------------------ arithmetic
    def exhausted(self, used: Mapping[str, float]) -> bool:
        """Whether a run that has spent ``used`` (``{kind: amount}``; missing kinds count as 0)
        has reached any limit."""
        return any(float(used.get(k, 0.0)) >= v for k, v in self.to_dict().items())

    def scaled(self, factor: float) -> Budget:
        """Every limit multiplied by ``factor`` (> 0); integer limits rounded down, at least 1."""
        if not (isinstance(factor, int | float) and math.isfinite(factor) and factor > 0):
            raise ConfigError(f"factor = {factor!r} is invalid: expected a finite number > 0")
        return Budget(**{k: (max(1, int(v * factor)) if k in _INTEGER else v * factor)
                         for k, v in self.to_dict().items()})

    def split(self, fractions: Sequence[float]) -> list[Budget]:
        """Stages: one budget per fraction (each > 0, summing to 1 within 1e-6), each limit
        cut in those proportions; integer limits are rounded down, at least 1 each."""
        fr = [float(f) for f in fractions]
        if not fr or any(not math.isfinite(f) or f <= 0 for f in fr) or abs(sum(fr) - 1) > 1e-6:
            raise ConfigError(f"stage fractions {list(fractions)!r} are invalid: expected "
                              "positive numbers that sum to 1")
        return [self.scaled(f) for f in fr]

    @classmethod
    def of(cls, spec: Budget | Mapping | tuple) -> Budget:
        """Coerce a :class:`Budget`, ``{"kind": k, "amount": a}``, ``{kind: amount, ...}`` (a
        study file's ``[budget]`` table; ``None`` values are ignored) or ``(kind, amount)``.

        >>> Budget.of({"evaluations": 1000})
        Budget(evaluations=1000)
        """
        if isinstance(spec, Budget):
            return spec
        if isinstance(spec, tuple) and len(spec) == 2:
            return cls(spec[0], spec[1])
        if isinstance(spec, Mapping):
            if set(spec) == {"kind", "amount"}:
                return cls(spec["kind"], spec["amount"])
            unknown = [k for k in spec if k not in BUDGET_KINDS]
            if unknown:
                raise ConfigError(f"budget has no limit {unknown[0]!r}."
                                  f"{did_you_mean(str(unknown[0]), BUDGET_KINDS)} Limits: "
                                  f"{', '.join(BUDGET_KINDS)}")
            return cls(**{k: v for k, v in spec.items() if v is not None})
        raise ConfigError(
            f"budget {spec!r} is invalid: expected Budget(kind, amount), "
            "{'kind': ..., 'amount': ...} or a dict such as {'steps': 500, 'seconds': 60}; "
            f"kinds: {', '.join(BUDGET_KINDS)}")


def _rebuild(d: dict) -> Budget:
    return Budget(**d)


def empty_trace(n: int = 0) -> dict[str, np.ndarray]:
    """A trace with every column of :data:`TRACE_KEYS`, `(n,)` NaN arrays."""
    return {k: np.full(n, np.nan) for k in TRACE_KEYS}


def full_trace(trace: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """``trace`` as float64 arrays with every column of :data:`TRACE_KEYS` (NaN where missing;
    the older study-file name ``step`` is read as ``steps``).

    Raises:
        ValueError: columns of different lengths.
    """
    cols = {("steps" if k == "step" else k): np.asarray(v, dtype=np.float64).reshape(-1)
            for k, v in trace.items()}
    lengths = {len(v) for v in cols.values()}
    if len(lengths) > 1:
        raise ValueError(f"trace columns differ in length: "
                         f"{ {k: len(v) for k, v in cols.items()} }")
    n = lengths.pop() if lengths else 0
    out = empty_trace(n)
    out.update(cols)
    return out


@dataclass
class Record:
    """What one run of a method produced (a study trial, a comparison run).

    Attributes:
        method: the method's registry name (``"hypernet"``, ``"dymu"``, ``"nsga2"``, …).
        problem: ``problem.describe()``. seed: the run's seed.
        status: ``"ok"`` or ``"failed"``; ``error`` says why a run failed.
        config: the method's configuration as it ran (defaults included): ``{"hypernet": …,
            "train": …}`` for the hypernetwork trainer, ``{"dymu": …}`` for DYMU, the
            parameters for a baseline.
        F: `(n, m)` objective vectors of the final front (held-out losses for data problems).
        X: `(n, n_var)` decision vectors of ``F``, or ``None`` (network weights).
        prefs: `(n, m)` preferences that produced ``F``, or ``None`` (evolutionary methods).
        trace: `(T,)` float64 arrays, the columns of :data:`TRACE_KEYS` (NaN where not measured).
        budget_used: what the run spent, ``{kind: amount}`` for the kinds it counts.
        ref_point: `(m,)` the reference point of every HV here. hv: final hypervolume (NaN for a
            failed run). igd: final IGD (NaN without a reference front).
        n_params: parameters of the trained model (the hypernetwork); n_target_params:
            parameters it generates per preference.
        wall_time: seconds of the whole run; train_time: seconds of training steps only.
        device: where it ran. state: the kept weights as numpy arrays (``None`` if not kept).
        extra: method-specific details and measurements (accuracies, cost, FLOPs, latency…).
        lineage: where the run's starting weights came from (warm starts, inheritance).
    """

    method: str
    problem: dict
    seed: int
    F: np.ndarray
    ref_point: np.ndarray
    status: str = "ok"
    error: str = ""
    config: dict = field(default_factory=dict)
    X: np.ndarray | None = None
    prefs: np.ndarray | None = None
    trace: dict[str, np.ndarray] = field(default_factory=empty_trace)
    budget_used: dict[str, float] = field(default_factory=dict)
    hv: float = float("nan")
    igd: float = float("nan")
    n_params: int = 0
    n_target_params: int = 0
    wall_time: float = 0.0
    train_time: float = 0.0
    device: str = "cpu"
    state: dict[str, np.ndarray] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    lineage: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.trace = full_trace(self.trace)

    @property
    def ok(self) -> bool:
        """Whether the run finished without failure."""
        return self.status == "ok"

    @property
    def steps(self) -> int:
        """Steps taken (``budget_used["steps"]``, 0 if not counted)."""
        return int(self.budget_used.get("steps", 0))

    # the names the hypernetwork trainer's and the baselines' results had
    @property
    def hypernet(self) -> dict:
        """``config["hypernet"]`` (the trainer's hypernetwork configuration), else ``{}``."""
        return dict(self.config.get("hypernet", {}))

    @property
    def train(self) -> dict:
        """``config["train"]`` (the trainer's training configuration), else ``{}``."""
        return dict(self.config.get("train", {}))

    @property
    def params(self) -> dict:
        """The configuration (a baseline's parameters)."""
        return self.config

    @property
    def state_dict(self) -> dict[str, np.ndarray] | None:
        """The kept weights (:attr:`state`)."""
        return self.state

    @classmethod
    def failed(cls, error: str, *, method: str, problem: dict, seed: int, n_obj: int,
               config: Mapping | None = None, ref_point=None, device: str = "cpu",
               trace: Mapping[str, Any] | None = None,
               budget_used: Mapping[str, float] | None = None) -> Record:
        """A failed run; ``trace`` and ``budget_used`` keep what was recorded before it failed."""
        ref = np.full(n_obj, np.nan) if ref_point is None else \
            np.asarray(ref_point, dtype=np.float64).reshape(-1)
        return cls(method=method, problem=dict(problem), seed=int(seed), status="failed",
                   error=error, config=dict(config or {}), F=np.zeros((0, n_obj)),
                   ref_point=ref, trace=dict(trace or {}),
                   budget_used={k: float(v) for k, v in (budget_used or {}).items()},
                   device=device)


class TrialResult(Record):
    """Outcome of one training run.

    Attributes:
        status: ``"ok"`` or ``"failed"``; ``error`` says why a run failed.
        problem: the problem's description (name, options, sizes, reference point).
        hypernet: the hypernetwork configuration. train: the training configuration.
        seed: the seed of the run.
        prefs: `(n_eval, m)` evaluation preferences.
        F: `(n_eval, m)` objective values (held-out losses) of the final front.
        X: `(n_eval, n_var)` decision vectors (synthetic problems) or ``None``.
        trace: HV trace, `(T,)` arrays of :data:`TRACE_KEYS` (``steps``, ``seconds``,
            ``samples``, ``evaluations``, ``hv``, ``igd`` — NaN where no reference front exists —
            and ``loss``; older files' ``step`` is read as ``steps``), plus ``val_hv`` with
            ``checkpoint = "best"``.
        ref_point: `(m,)` the reference point behind every HV.
        hv: final hypervolume. igd: final IGD (NaN without reference front).
        n_params: hypernetwork parameters. n_target_params: generated parameters per preference.
        wall_time: seconds of the whole run; train_time: seconds of training steps only.
        steps: steps taken (``budget_used["steps"]``). device: where it ran.
        state_dict: the hypernetwork's weights as numpy arrays (``None`` if not kept; the
            record's ``state``).
        extra: problem-specific evaluation results (e.g. accuracies); ``"collapse"``: the
            collapse report of :mod:`hybridmoo.diagnostics` when the front collapsed;
            ``"normalize"``: the ideal/nadir the scalarisation normalised with (and the
            normaliser's state) unless ``train.normalize = "none"``.
        method: ``"hypernet"`` (a hypernetwork trained by :class:`Trainer`) or ``"dymu"`` (a
            DYMU controller, :mod:`hybridmoo.dymu`: ``hypernet`` then holds its
            :class:`~hybridmoo.dymu.DymuConfig` and ``train`` the trial's resource preference
            and budget). ``hypernet`` and ``train`` are the record's ``config`` tables.
    """

    def __init__(self, *, status: str, problem: dict, hypernet: Mapping, train: Mapping,
                 seed: int, prefs, F, X, trace: Mapping, ref_point, hv: float, igd: float,
                 n_params: int, n_target_params: int, wall_time: float, train_time: float,
                 steps: int, device: str, error: str = "",
                 state_dict: dict[str, np.ndarray] | None = None,
                 extra: dict[str, Any] | None = None, method: str = "hypernet",
                 lineage: dict[str, Any] | None = None, **used: float) -> None:
        budget_used = {"steps": int(steps)}
        budget_used.update({k: v for k, v in used.items() if k in BUDGET_KINDS})
        unknown = [k for k in used if k not in BUDGET_KINDS]
        if unknown:
            raise TypeError(f"TrialResult got an unexpected keyword argument {unknown[0]!r}")
        super().__init__(method=method, problem=problem, seed=seed, F=F, ref_point=ref_point,
                         status=status, error=error,
                         config={"hypernet": dict(hypernet), "train": dict(train)}, X=X,
                         prefs=prefs, trace=dict(trace), budget_used=budget_used, hv=hv,
                         igd=igd, n_params=n_params, n_target_params=n_target_params,
                         wall_time=wall_time, train_time=train_time, device=device,
                         state=state_dict, extra=dict(extra or {}), lineage=dict(lineage or {}))

    @property
    def hypernet(self) -> dict:
        """The hypernetwork configuration (``config["hypernet"]``; a DYMU trial's DymuConfig)."""
        return self.config["hypernet"]

    @property
    def train(self) -> dict:
        """The training configuration (``config["train"]``)."""
        return self.config["train"]

    @property
    def state_dict(self) -> dict[str, np.ndarray] | None:
        """The kept weights (the record's ``state``)."""
        return self.state

    @state_dict.setter
    def state_dict(self, value: dict[str, np.ndarray] | None) -> None:
        self.state = value

    @property
    def warnings(self) -> list[str]:
        """Warnings about the result: a collapsed front (``extra["collapse"]``, see
        :mod:`hybridmoo.diagnostics`) with its likely causes; empty if none."""
        c = self.extra.get("collapse") if isinstance(self.extra, dict) else None
        return [str(c["warning"])] if c else []

    @classmethod
    def failed(cls, error: str, *, problem: dict, hypernet: dict, train: dict, seed: int,
               n_obj: int, ref_point=None, device: str = "cpu",
               method: str = "hypernet") -> TrialResult:
        """A failed result for a run that could not even start (bad config, dead worker)."""
        ref = np.full(n_obj, np.nan) if ref_point is None else np.asarray(ref_point, float)
        return cls(status="failed", error=error, problem=problem, hypernet=dict(hypernet),
                   train=dict(train), seed=seed, prefs=np.zeros((0, n_obj)),
                   F=np.zeros((0, n_obj)), X=None, trace=empty_trace(0),
                   ref_point=ref, hv=float("nan"), igd=float("nan"), n_params=0,
                   n_target_params=0, wall_time=0.0, train_time=0.0, steps=0, device=device,
                   method=method)
