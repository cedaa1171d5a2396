"""Multi-fidelity scheduling of trials: asynchronous successive halving over several objectives.

ASHA (Li et al., "A System for Massively Parallel Hyperparameter Tuning", MLSys 2020) trains
every new configuration to a first *rung* of budget r, and promotes a trial from rung k to rung
k + 1 (budget r·η^(k+1), capped at the maximum R) when it is among the best 1/η of the trials
that have completed rung k. A free worker first looks for a promotable trial, from the highest
rung down, and only then starts a new configuration: no worker waits for a rung to fill, and a
trial that is not promoted now may be promoted later, when more trials have completed its rung.

With several objectives (MO-ASHA: Schmucker et al., arXiv 2106.12639) "the best 1/η" is the
first ⌊n/η⌋ trials in the order of non-dominated sorting of their objective vectors (moocore's
Pareto ranks), ties within a front broken by crowding distance (pymoo's, larger first: the
paper's ε-net is another diversity rule; crowding is this project's reading), then by trial id.
Objectives are minimised; NaN (a failed trial) counts as +inf.

The scheduler is pure bookkeeping: it never runs anything. The study asks it what a free worker
should do (:meth:`AshaScheduler.next_promotion`), tells it what finished (:meth:`report`), and
stores :meth:`state` in the study file so that a resumed study continues the schedule.

>>> s = AshaScheduler(min_budget=100, max_budget=900, eta=3)
>>> s.budgets
[100, 300, 900]
>>> for t, f in enumerate([[3.0], [1.0], [2.0]]):
...     s.start(t, 0)
...     s.report(t, 0, f)
>>> s.next_promotion()
(1, 1)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hybridmoo.errors import ConfigError

__all__ = ["AshaScheduler", "mo_order", "rung_budgets"]


def rung_budgets(min_budget: float, max_budget: float, eta: float) -> list:
    """Rung budgets ``min_budget·η^k`` below ``max_budget``, then ``max_budget`` itself.

    Integers in, integers out (steps, epochs); floats in, floats out (seconds).

    Raises:
        ConfigError: a non-finite or non-positive budget, ``min_budget > max_budget``, η ≤ 1.
    """
    for name, v in (("min_budget", min_budget), ("max_budget", max_budget), ("eta", eta)):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise ConfigError(f"{name} = {v!r} is invalid: expected a finite number")
    if min_budget <= 0 or max_budget <= 0:
        raise ConfigError(f"min_budget = {min_budget!r} and max_budget = {max_budget!r} must be "
                          "> 0")
    if min_budget > max_budget:
        raise ConfigError(f"min_budget = {min_budget!r} exceeds max_budget = {max_budget!r}: "
                          "the first rung cannot be longer than the last")
    if eta <= 1:
        raise ConfigError(f"eta = {eta!r} is invalid: the reduction factor must be > 1 "
                          "(typically 3)")
    integer = isinstance(min_budget, int) and isinstance(max_budget, int)
    out: list = []
    b = float(min_budget)
    while b < max_budget * (1 - 1e-9):
        v = int(round(b)) if integer else b
        if not out or v > out[-1]:
            out.append(v)
        b *= eta
    out.append(max_budget)
    return out


def mo_order(objectives: Mapping[int, Sequence[float]]) -> list[int]:
    """Trial ids ordered best first: Pareto rank, then crowding distance (larger first), then id.

    Args:
        objectives: trial id → `(k,)` objective vector (minimised; NaN counts as +inf).
    """
    import moocore
    from pymoo.operators.survival.rank_and_crowding.metrics import calc_crowding_distance

    ids = sorted(objectives)
    if not ids:
        return []
    F = np.array([np.asarray(objectives[t], dtype=np.float64).reshape(-1) for t in ids])
    F = np.where(np.isnan(F), np.inf, F)
    finite = np.isfinite(F).all(axis=1)
    rank = np.full(len(ids), np.iinfo(np.int64).max, dtype=np.int64)
    if finite.any():
        rank[finite] = moocore.pareto_rank(F[finite])
    crowd = np.zeros(len(ids))
    for r in np.unique(rank[finite]):
        members = np.nonzero(rank == r)[0]
        crowd[members] = calc_crowding_distance(F[members]) if len(members) > 2 else np.inf
    key = sorted(range(len(ids)), key=lambda i: (rank[i], -crowd[i], ids[i]))
    return [ids[i] for i in key]


class AshaScheduler:
    """Bookkeeping of asynchronous successive halving with several objectives.

    Args:
        min_budget: budget of the first rung (steps, seconds or epochs).
        max_budget: budget of the last rung (a trial there is finished).
        eta: reduction factor: the best 1/η of a rung are promotable.

    A trial's *rung* is the index into :attr:`budgets` it is training to or has completed.
    """

    def __init__(self, min_budget: float, max_budget: float, eta: float = 3) -> None:
        self.budgets = rung_budgets(min_budget, max_budget, eta)
        self.eta = float(eta)
        self.min_budget, self.max_budget = min_budget, max_budget
        # per rung: trial -> objectives of the trials that completed it
        self.results: list[dict[int, list[float]]] = [{} for _ in self.budgets]
        self.promoted: list[set[int]] = [set() for _ in self.budgets]
        self.running: dict[int, int] = {}  # trial -> rung it is training to
        # population-based training: child -> (parent, rung of the parent's state it continues,
        # the trial whose place it took)
        self.parents: dict[int, tuple[int, int, int]] = {}

    @property
    def top(self) -> int:
        """Index of the last rung."""
        return len(self.budgets) - 1

    def start(self, trial: int, rung: int) -> None:
        """Record that ``trial`` started training to ``rung`` (0 for a new configuration)."""
        if not 0 <= rung <= self.top:
            raise ValueError(f"rung {rung} is outside 0..{self.top}")
        if trial in self.running:
            raise ValueError(f"trial {trial} is already running (to rung {self.running[trial]})")
        if rung > 0:
            if trial not in self.results[rung - 1]:
                raise ValueError(f"trial {trial} has not completed rung {rung - 1}")
            self.promoted[rung - 1].add(trial)
        self.running[trial] = rung

    def report(self, trial: int, rung: int, objectives: Sequence[float]) -> None:
        """``trial`` completed ``rung`` with these (minimised) objectives."""
        if self.running.get(trial) != rung:
            raise ValueError(f"trial {trial} was not running to rung {rung}")
        del self.running[trial]
        self.results[rung][trial] = [float(v) for v in np.asarray(objectives).reshape(-1)]

    def abandon(self, trial: int) -> None:
        """``trial`` failed while training to its rung: it leaves the schedule."""
        self.running.pop(trial, None)

    def next_promotion(self) -> tuple[int, int] | None:
        """``(trial, rung)`` that a free worker should continue to, or ``None`` (start a new
        configuration). Looks from the highest rung down, as ASHA does."""
        for k in range(self.top - 1, -1, -1):
            done = self.results[k]
            n_top = int(len(done) // self.eta)
            if n_top == 0:
                continue
            for t in mo_order(done)[:n_top]:
                if t not in self.promoted[k] and t not in self.running:
                    return t, k + 1
        return None

    def next_exploit(self) -> tuple[int, int, list[int]] | None:
        """Population-based training's exploit step: ``(loser, rung, donors)``, a trial that
        completed ``rung`` in its bottom part (below the best ⌊n/η⌋, so not promotable now) and
        is neither running nor promoted nor replaced yet, and the best ⌊n/η⌋ of that rung (best
        first), one of which a child continues to ``rung + 1``; ``None`` if there is none. From
        the highest rung down, the worst trial of a rung first; each trial is replaced at most
        once per rung."""
        for k in range(self.top - 1, -1, -1):
            done = self.results[k]
            n_top = int(len(done) // self.eta)
            if n_top == 0:
                continue
            order, gone = mo_order(done), self.replaced(k)
            for t in reversed(order[n_top:]):
                if t not in self.promoted[k] and t not in self.running and t not in gone:
                    return t, k, order[:n_top]
        return None

    def replaced(self, rung: int) -> set[int]:
        """The trials of ``rung`` whose place a child took."""
        return {loser for _, k, loser in self.parents.values() if k == rung}

    def start_child(self, child: int, parent: int, rung: int, replaces: int) -> None:
        """``child`` (a new trial) continues ``parent``'s state at ``rung - 1`` and trains to
        ``rung``, in the place of ``replaces`` (a bottom trial of ``rung - 1``)."""
        if not 1 <= rung <= self.top:
            raise ValueError(f"a child starts at a rung in 1..{self.top}, not {rung}")
        if parent not in self.results[rung - 1]:
            raise ValueError(f"trial {parent} has not completed rung {rung - 1}")
        if child in self.running or any(child in r for r in self.results):
            raise ValueError(f"trial {child} already exists")
        self.parents[child] = (parent, rung - 1, replaces)
        self.running[child] = rung

    def entry_rung(self, trial: int) -> int:
        """The rung ``trial`` first trained to: 0, or a child's first rung."""
        parent = self.parents.get(trial)
        return 0 if parent is None else parent[1] + 1

    def rung_of(self, trial: int) -> int:
        """Highest rung ``trial`` has completed (−1 if none)."""
        done = [k for k in range(len(self.budgets)) if trial in self.results[k]]
        return max(done) if done else -1

    def finished(self, trial: int) -> bool:
        """Whether ``trial`` completed the last rung."""
        return trial in self.results[self.top]

    def stopped(self) -> list[int]:
        """Trials that completed a rung below the last and are neither running nor promoted
        (they may still be promoted later, as their rung fills)."""
        out = []
        for k in range(self.top):
            for t in self.results[k]:
                if t not in self.promoted[k] and t not in self.running:
                    out.append(t)
        return sorted(set(out))

    def state(self) -> dict[str, Any]:
        """A JSON-able snapshot (running trials are not included: they were lost with the
        driver and will be restarted)."""
        return {"min_budget": self.min_budget, "max_budget": self.max_budget, "eta": self.eta,
                "results": [{str(t): v for t, v in r.items()} for r in self.results],
                "promoted": [sorted(p) for p in self.promoted],
                "parents": {str(c): list(p) for c, p in self.parents.items()}}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> AshaScheduler:
        """The scheduler of :meth:`state` (promotions whose result never came are undone)."""
        eta = state["eta"]
        s = cls(state["min_budget"], state["max_budget"], int(eta) if eta == int(eta) else eta)
        for k, r in enumerate(state["results"]):
            s.results[k] = {int(t): list(v) for t, v in r.items()}
        for k, p in enumerate(state["promoted"]):
            # a promotion counts once the promoted trial has reported the next rung
            s.promoted[k] = {int(t) for t in p
                             if int(t) in s.results[k + 1] and int(t) in s.results[k]}
        # a child counts once it has reported its first rung (else its loser is free again)
        for c, (parent, k, loser) in state.get("parents", {}).items():
            if int(c) in s.results[int(k) + 1]:
                s.parents[int(c)] = (int(parent), int(k), int(loser))
        return s
