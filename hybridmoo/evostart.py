"""Evolutionary start of a hypernetwork run (``TrainConfig.evo_start``): NSGA-II first, then
gradients from the front it found.

Gradient training of a Pareto set model follows each preference's scalarisation downhill, so
on a multimodal problem every preference ends in the basin it starts in: on ZDT3, whose front
lies in five pieces over narrow basins of x₁, runs from the usual initialisation keep the first
three pieces and lose the last ones (the compare reports show it). An evolutionary algorithm
finds the pieces; gradients then converge on them. With ``evo_start = w`` a run on a
box-constrained problem (a vector target: the synthetic, RE and ``from_function`` problems)

1. runs pymoo's NSGA-II (population 100, the trainer's seed) for the fraction ``w`` of its
   budget — ``w·seconds`` of wall time under a seconds budget (charged to ``train_time``), else
   ``w·steps·n_prefs`` evaluations (the evaluations that many steps would take; a steps budget
   still counts its gradient steps in full);
2. widens the objective normaliser's running estimates to the non-dominated points found
   (where the problem's ideal / nadir are not known);
3. fits the hypernetwork to those points (:func:`hybridmoo.problems.custom.fit_to_points`: each
   preference regressed onto the point with the smallest Tchebycheff value; 300 steps, or
   fewer where they would take more than ``FIT_SHARE`` of a seconds budget);
4. trains with gradients as usual, at ``evo_lr`` times the learning rate: at the full rate
   Adam's first steps move every output by more than a narrow basin is wide, and the pieces
   found are lost again.

A run that starts from given weights (``init_state``, ``resume_state``, ``inherit_state``:
a warm start, a continued rung, an inherited trial) skips the start but keeps ``evo_lr``.

**The rescue** (``TrainConfig.evo_rescue``, on by default): a run without a start whose front
is collapsed or stuck (:func:`rescue_reason`: collapsed as the collapse warning says, at most
5 % of its points distinct and non-dominated, or none inside the reference box) at its first
evaluation past a quarter of its budget (and past step ``RESCUE_MIN_STEPS``) starts over from a
fresh initialisation (seeded by the trainer's seed: a collapsed network's outputs can sit where
the bound's slope vanishes, and the fit could not move them), runs the start with
``RESCUE_FRACTION`` of the budget, clears the optimiser's moments and continues at ``evo_lr``.
Gradients alone cannot leave a point where the objectives' slopes vanish: on DTLZ4 (x ↦ x¹⁰⁰)
every preference's decision vector starts at the box centre, where the position variables'
gradients are ~10⁻²⁸, and the whole front stays at the corner (1, 0, 0); on ZDT6 x₁ can settle
at 0, where f₁ = 1 for every preference; on ZDT4 the front stays on a local front far outside
the reference box. A run whose front is spread never pays for the check beyond one test (a
problem whose objectives do not conflict, with a one-point front, pays for a start it does not
need).

Black-box problems have their own start (``warm_start``, :mod:`hybridmoo.problems.custom`);
data problems (neural targets) have no decision vector for NSGA-II: both refuse ``evo_start``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from hybridmoo.errors import ConfigError

__all__ = ["EVO_POP", "FIT_SHARE", "RESCUE_AT", "RESCUE_FRACTION", "RESCUE_MIN_STEPS", "applies",
           "evo_start", "rescue", "rescue_reason"]

#: NSGA-II's population in the evolutionary start
EVO_POP = 100
#: the rescue's check: the first evaluation past this fraction of the budget …
RESCUE_AT = 0.25
#: … and past this many steps (a shorter run's front may still be spreading)
RESCUE_MIN_STEPS = 200
#: the budget fraction the rescue's evolutionary start takes
RESCUE_FRACTION = 0.1
#: under a seconds budget, the most of it the fit to NSGA-II's points may take (it takes well
#: under that unless the budget is a second or so: 300 Adam steps)
FIT_SHARE = 0.25


def applies(problem: Any, cfg: Any = None) -> bool:
    """Whether an evolutionary start can run for ``problem``: a box-constrained problem with
    exact gradients (not a black box, not a data problem), and under ``cfg`` (a
    :class:`~hybridmoo.TrainConfig`, where given) a seconds or steps budget."""
    return hasattr(problem, "bounds") and not hasattr(problem, "make_task") and \
        not hasattr(problem, "configure_es") and \
        (cfg is None or cfg.seconds is not None or cfg.steps is not None)


def _check(trainer: Any) -> None:
    p = trainer.problem
    if hasattr(p, "configure_es"):
        raise ConfigError(f"train.evo_start = {trainer.cfg.evo_start}: problem {p.name!r} is a "
                          "black box, which has its own evolutionary start (warm_start, a "
                          "fraction of an evaluations budget): set evo_start = 0")
    if not hasattr(p, "bounds") or hasattr(p, "make_task"):
        raise ConfigError(f"train.evo_start = {trainer.cfg.evo_start}: problem {p.name!r} has no "
                          "decision vector in a box for NSGA-II (a data problem trains network "
                          "weights): set evo_start = 0")
    c = trainer.cfg
    if c.seconds is None and c.steps is None:
        raise ConfigError(f"train.evo_start = {c.evo_start} takes its share of a seconds or "
                          "steps budget; this run has neither: set one, or evo_start = 0")


def evo_start(trainer: Any, fraction: float | None = None, steps: int | None = None) -> dict:
    """Run the evolutionary start on ``trainer`` (see the module docstring) with ``fraction``
    of its budget (default ``train.evo_start``; under a steps budget of ``steps`` steps,
    default ``train.steps``).

    Returns:
        ``{"seconds", "evaluations", "points", "fit_error"}``: the start's wall time, NSGA-II's
        evaluations, the non-dominated points the network was fitted to, the fit's final mean
        squared error (box-normalised).
    """
    from pymoo.termination.max_eval import MaximumFunctionCallTermination
    from pymoo.termination.max_time import TimeBasedTermination

    from hybridmoo.problems.custom import fit_to_points, nsga2_points

    p, c = trainer.problem, trainer.cfg
    w = c.evo_start if fraction is None else float(fraction)
    if fraction is None:
        _check(trainer)
    t0 = time.perf_counter()
    lo = np.asarray(torch.as_tensor(p.bounds[0]).cpu(), dtype=np.float64).reshape(-1)
    hi = np.asarray(torch.as_tensor(p.bounds[1]).cpu(), dtype=np.float64).reshape(-1)
    n_evals = [0]

    def evaluate(X: np.ndarray) -> np.ndarray:
        n_evals[0] += len(X)
        with torch.no_grad():
            F = p.evaluate(torch.as_tensor(X, dtype=torch.float64))
        return np.asarray(F.detach().cpu(), dtype=np.float64)

    if c.seconds is not None:
        stop = TimeBasedTermination(w * c.seconds)
    else:
        n = c.steps if steps is None else steps
        stop = MaximumFunctionCallTermination(max(2 * EVO_POP, int(w * n * c.n_prefs)))
    X, F = nsga2_points(evaluate, lo, hi, p.n_obj, stop, pop_size=EVO_POP, seed=trainer.seed,
                        what="train.evo_start")
    norm = trainer.normalizer
    if norm.active and norm.needs_updates:
        span = np.where(F.max(axis=0) > F.min(axis=0), F.max(axis=0), F.min(axis=0) + 1.0)
        norm.observe_bounds(F.min(axis=0), span)
    # under a seconds budget the fit stops at FIT_SHARE of it (the budget's own tiny trials)
    err = fit_to_points(trainer, X, F,
                        seconds=None if c.seconds is None else FIT_SHARE * c.seconds)
    for g in trainer.opt.param_groups:
        g["lr"] = c.lr * c.evo_lr
    return {"seconds": time.perf_counter() - t0, "evaluations": int(n_evals[0]),
            "points": int(len(X)), "fit_error": float(err)}


def rescue_reason(F: np.ndarray, *, ideal=None, nadir=None, ref_point=None) -> str | None:
    """Why the rescue would start the front ``F`` `(n, m)` over, or ``None``.

    - Collapsed as the collapse warning says (:func:`hybridmoo.diagnostics.check_collapse`:
      few distinct points, or no spread);
    - or at most that share of distinct non-dominated points: on ZDT6 a front with x₁ = 0
      everywhere has f₁ = 1 at every point and f₂ spread over 2 % of its range, which is one
      non-dominated point and the HV of one;
    - or no point inside the reference box ``ref_point`` (a hypervolume of 0): on ZDT4, whose
      g has 21⁹ local optima, gradients from the box centre end on a local front far outside
      it.

    Returns:
        The reason (``"1 distinct of 100, distinct+spread"``, ``"1 non-dominated of 100"``,
        ``"no point inside the reference box"``), or ``None``: the front is spread, too small
        to judge (fewer than ``diagnostics.MIN_POINTS``) or not finite.
    """
    from moocore import is_nondominated

    from hybridmoo import diagnostics

    F = np.asarray(F, dtype=np.float64)
    col = diagnostics.check_collapse(F, ideal=ideal, nadir=nadir, ref_point=ref_point)
    if col is not None:
        return f"{col.n_distinct} distinct of {col.n_points}, {col.reason}"
    if F.ndim != 2 or len(F) < diagnostics.MIN_POINTS or not np.isfinite(F).all():
        return None
    n_nd = len(np.unique(F[is_nondominated(F)], axis=0))
    if n_nd <= max(1, int(diagnostics.DISTINCT_FRACTION * len(F))):
        return f"{n_nd} non-dominated of {len(F)}"
    if ref_point is not None and not np.any(np.all(F < np.asarray(ref_point, float), axis=1)):
        return "no point inside the reference box"
    return None


def rescue(trainer: Any, ev: dict) -> dict | None:
    """The rescue's check on evaluation ``ev`` of ``trainer`` (``{"F": (n, m), …}``), and the
    start where :func:`rescue_reason` gives a reason (see the module docstring).

    Returns:
        :func:`evo_start`'s record with ``"trigger"`` (the step and the reason), or
        ``None`` where the front is spread.
    """
    why = rescue_reason(ev["F"], ideal=getattr(trainer.problem, "ideal", None),
                        nadir=trainer.normalizer.nadir_known(), ref_point=trainer.ref_point)
    if why is None:
        return None
    from hybridmoo.hypernet import Hypernetwork

    step = trainer.step_count
    with torch.random.fork_rng(devices=[]):  # a fresh initialisation, seeded by the trainer
        torch.manual_seed(trainer.seed)
        fresh = Hypernetwork(trainer.n_obj, trainer.task.target, trainer.hcfg).state_dict()
    with torch.no_grad():  # (a collapsed network's outputs can sit where the bound is flat)
        trainer.net.load_state_dict(fresh)
    trainer.opt.state.clear()  # the moments belong to the abandoned weights
    # (of lr_horizon steps where set, as for the check: a continuation repeats one long run)
    info = evo_start(trainer, RESCUE_FRACTION, steps=trainer.cfg.lr_horizon or trainer.cfg.steps)
    info["trigger"] = f"front at step {step}: {why}"
    return info
