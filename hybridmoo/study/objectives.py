"""The outer objectives of a trial, pymoo's minimised view of them, the algorithm, the result."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hybridmoo import metrics
from hybridmoo.record import TrialResult
from hybridmoo.studyfile import OBJECTIVES, StudySpec

__all__ = ["StudyResult", "outer_objectives", "pymoo_algorithm", "to_minimised"]

_PENALTY = 1e12  # objective value of a failed trial for minimised objectives


def _variation(opts: dict) -> dict:
    """``options.variation``: ``"pymoo"`` keeps pymoo's operators (SBX, PM η 20); ``"explore"``
    uses uniform crossover and polynomial mutation η 1, whose children move further from their
    parents: with a population of a few trials, pymoo's operators can keep proposing near-copies
    of configurations that all failed (results/outer_baselines_30.md: bad seeds on ZDT2, RE37)."""
    if opts.pop("variation", "pymoo") != "explore":
        return {}
    from pymoo.operators.crossover.ux import UX
    from pymoo.operators.mutation.pm import PM

    return {"crossover": UX(), "mutation": PM(eta=1)}


def _sampling(spec: StudySpec, n: int):
    """Generation 0 with ``[algorithm] initial``: those configurations first, the rest drawn
    uniformly (seeded by the study seed); encoded vectors, or pymoo dicts for ``mixed``."""
    from pymoo.core.population import Population

    rng = np.random.default_rng([spec.seed, 0x1A17])
    values = list(spec.initial[:n])
    values += [spec.space.values(rng.random(spec.space.n_var)) for _ in range(n - len(values))]
    if spec.algorithm == "mixed":
        return Population.new(X=np.array([spec.space.to_pymoo(v) for v in values],
                                         dtype=object))
    return np.stack([spec.space.encode(v) for v in values])


def pymoo_algorithm(spec: StudySpec, n_obj: int):
    """The pymoo algorithm of ``[algorithm]`` (NSGA-II, NSGA-III, SMS-EMOA, MOEA/D or the
    mixed-variable GA) for ``n_obj`` outer objectives; with ``[algorithm] initial`` its first
    generation starts with those configurations."""
    opts = dict(spec.algorithm_options)
    opts.update(_variation(opts))
    pop = spec.pop_size
    if spec.initial and spec.algorithm != "moead":
        opts["sampling"] = _sampling(spec, pop)
    if spec.algorithm == "nsga2":
        from pymoo.algorithms.moo.nsga2 import NSGA2

        return NSGA2(pop_size=pop, **opts)
    if spec.algorithm == "mixed":
        from pymoo.core.mixed import MixedVariableGA
        from pymoo.operators.survival.rank_and_crowding import RankAndCrowding

        return MixedVariableGA(pop_size=pop, survival=RankAndCrowding(), **opts)
    if spec.algorithm == "smsemoa":
        from pymoo.algorithms.moo.sms import SMSEMOA

        return SMSEMOA(pop_size=pop, **opts)
    from pymoo.util.ref_dirs import get_reference_directions

    n_part = opts.pop("n_partitions", None)
    if n_part is not None:  # a Das–Dennis lattice, as the user asked
        ref_dirs = get_reference_directions("das-dennis", n_obj, n_partitions=n_part)
    elif n_obj == 2:  # evenly spaced, exactly pop_size directions
        ref_dirs = get_reference_directions("das-dennis", 2, n_partitions=pop - 1)
    else:  # Riesz s-energy: exactly pop_size well-spread directions
        ref_dirs = get_reference_directions("energy", n_obj, pop, seed=spec.seed)
    if spec.algorithm == "nsga3":
        from pymoo.algorithms.moo.nsga3 import NSGA3

        return NSGA3(ref_dirs=ref_dirs, pop_size=pop, **opts)
    # pymoo's MOEAD is loop-wise (one offspring per ask, which would run trials one by one);
    # ParallelMOEAD proposes one offspring per subproblem per ask: a generation of trials
    from pymoo.algorithms.moo.moead import ParallelMOEAD

    opts.setdefault("n_neighbors", min(20, len(ref_dirs)))
    if spec.initial:
        opts["sampling"] = _sampling(spec, len(ref_dirs))
    return ParallelMOEAD(ref_dirs=ref_dirs, n_offsprings=len(ref_dirs), **opts)


def outer_objectives(result: TrialResult, names: list[str],
                     reference_hv: float | None = None) -> np.ndarray:
    """Outer objective values of a trial in their natural direction (HV as is).

    ``hv_auc`` is the mean of the HV trace over the run's steps (trapezoid rule), divided by
    ``reference_hv`` when given: 1 would mean the reference HV from the first step on.
    """
    out = []
    for n in names:
        if not result.ok:
            out.append(math.nan)
        elif n == "hv":
            out.append(result.hv)
        elif n == "n_params":
            out.append(float(result.n_params))
        elif n == "train_time":
            out.append(result.train_time)
        elif n == "latency":
            out.append(float(result.extra.get("latency_ms", math.nan)))
        elif n == "igd":
            out.append(result.igd)
        elif n == "hv_auc":
            s, h = result.trace["steps"], result.trace["hv"]
            auc = float(np.trapezoid(h, s) / max(s[-1] - s[0], 1)) if len(s) > 1 else h[-1]
            out.append(auc / reference_hv if reference_hv else auc)
        elif n == "uniformity":
            out.append(_uniformity(result))
        elif n in ("cost", "flops"):  # DYMU trials record them at their c
            out.append(float(result.extra.get(n, math.nan)))
    return np.asarray(out, dtype=np.float64)


def _uniformity(result: TrialResult) -> float:
    """Mean uniformity of a trial's front (preferences normalised to the simplex)."""
    if "uniformity" in result.extra:
        return float(result.extra["uniformity"])
    P = np.asarray(result.prefs, dtype=np.float64)
    P = P / np.maximum(P.sum(axis=1, keepdims=True), 1e-12)
    F = np.maximum(np.asarray(result.F, dtype=np.float64), 1e-12)
    return float(np.mean(metrics.uniformity(F, P)))


def to_minimised(values: np.ndarray, names: list[str]) -> np.ndarray:
    """pymoo's view: maximised objectives negated; NaN (failed) → the worst value."""
    out = np.empty_like(values)
    for j, n in enumerate(names):
        v = values[..., j]
        if OBJECTIVES[n][0] == "max":
            out[..., j] = np.where(np.isnan(v), 0.0, -v)  # HV ≥ 0: 0 is the worst
        else:
            out[..., j] = np.where(np.isnan(v), _PENALTY, v)
    return out


@dataclass
class StudyResult:
    """What a finished study returns (everything is also in the HDF5 file)."""

    path: Path
    trials: dict[int, TrialResult]
    values: dict[int, dict]
    objectives: dict[int, np.ndarray]
    front_ids: list[int]
    objective_names: list[str]
    wall_time: float
    trial_time: float
    failed: int
    extra: dict = field(default_factory=dict)
