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
   preference regressed onto the point with the smallest Tchebycheff value);
4. trains with gradients as usual, at ``evo_lr`` times the learning rate: at the full rate
   Adam's first steps move every output by more than a narrow basin is wide, and the pieces
   found are lost again.

A run that starts from given weights (``init_state``, ``resume_state``, ``inherit_state``:
a warm start, a continued rung, an inherited trial) skips the start but keeps ``evo_lr``.

Black-box problems have their own start (``warm_start``, :mod:`hybridmoo.problems.custom`);
data problems (neural targets) have no decision vector for NSGA-II: both refuse ``evo_start``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from hybridmoo.errors import ConfigError

__all__ = ["EVO_POP", "evo_start"]

#: NSGA-II's population in the evolutionary start
EVO_POP = 100


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


def evo_start(trainer: Any) -> dict:
    """Run the evolutionary start on ``trainer`` (see the module docstring).

    Returns:
        ``{"seconds", "evaluations", "points", "fit_error"}``: the start's wall time, NSGA-II's
        evaluations, the non-dominated points the network was fitted to, the fit's final mean
        squared error (box-normalised).
    """
    from pymoo.termination.max_eval import MaximumFunctionCallTermination
    from pymoo.termination.max_time import TimeBasedTermination

    from hybridmoo.problems.custom import fit_to_points, nsga2_points

    _check(trainer)
    t0 = time.perf_counter()
    p, c = trainer.problem, trainer.cfg
    lo = np.asarray(torch.as_tensor(p.bounds[0]).cpu(), dtype=np.float64).reshape(-1)
    hi = np.asarray(torch.as_tensor(p.bounds[1]).cpu(), dtype=np.float64).reshape(-1)
    n_evals = [0]

    def evaluate(X: np.ndarray) -> np.ndarray:
        n_evals[0] += len(X)
        with torch.no_grad():
            F = p.evaluate(torch.as_tensor(X, dtype=torch.float64))
        return np.asarray(F.detach().cpu(), dtype=np.float64)

    if c.seconds is not None:
        stop = TimeBasedTermination(c.evo_start * c.seconds)
    else:
        stop = MaximumFunctionCallTermination(max(2 * EVO_POP,
                                                  int(c.evo_start * c.steps * c.n_prefs)))
    X, F = nsga2_points(evaluate, lo, hi, p.n_obj, stop, pop_size=EVO_POP, seed=trainer.seed,
                        what="train.evo_start")
    norm = trainer.normalizer
    if norm.active and norm.needs_updates:
        span = np.where(F.max(axis=0) > F.min(axis=0), F.max(axis=0), F.min(axis=0) + 1.0)
        norm.observe_bounds(F.min(axis=0), span)
    err = fit_to_points(trainer, X, F)
    for g in trainer.opt.param_groups:
        g["lr"] = c.lr * c.evo_lr
    return {"seconds": time.perf_counter() - t0, "evaluations": int(n_evals[0]),
            "points": int(len(X)), "fit_error": float(err)}
