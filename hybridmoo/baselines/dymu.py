"""DYMU: controllable dynamic multi-task architectures (tree search space + two hypernetworks).

Raychaudhuri, Suh, Schulter, Yu, Faraki, Roy-Chowdhury & Chandraker, "Controllable Dynamic
Multi-Task Architectures", CVPR 2022 (arXiv 2203.14949). The method itself lives in
:mod:`hybridmoo.dymu`; this module adapts it to ``hybridmoo compare``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from hybridmoo.baselines.common import BaselineResult, Budget, Tracer, ref_point_of, register
from hybridmoo.dymu import DymuConfig, dymu_data, split_budget, train_dymu
from hybridmoo.errors import ConfigError

__all__ = ["dymu", "run_dymu_method"]


def _stage_budget(budget: Budget, cfg: DymuConfig, n_tasks: int,
                  fractions: Sequence[float]) -> DymuConfig:
    """The configuration with the budget split over the three stages."""
    if budget.kind == "seconds":
        return split_budget(cfg, n_tasks, seconds=budget.amount, fractions=fractions)
    total = budget.count if budget.kind == "steps" else max(1, budget.count // cfg.n_prefs)
    return split_budget(cfg, n_tasks, steps=total, fractions=fractions)


@register("dymu", "psl",
          "Raychaudhuri et al., 'Controllable Dynamic Multi-Task Architectures', CVPR 2022")
def dymu(problem, budget: Budget, seed: int, *, c: float = 0.0, n_eval: int = 20,
         ref_point=None, threads: int | None = None,
         stage_fractions: Sequence[float] = (0.4, 0.4, 0.2),
         config: Mapping | None = None) -> BaselineResult:
    """DYMU: preference- and cost-conditioned trees in an anchor net of single-task streams.

    Trains the anchor streams, the edge hypernet and the weight hypernet of
    :func:`hybridmoo.dymu.train_dymu` and returns the front of ``n_eval`` evenly spread task
    preferences at the resource preference ``c`` (0: no pressure to share, 1: the most frugal).
    Works on ``multi_mnist``, ``multi_fashion``, ``multi_fashion_mnist`` and
    ``mtl_regression``; other problems raise :class:`~hybridmoo.errors.ConfigError`.

    Budget: split over the three stages by ``stage_fractions`` (anchor, edge, weight;
    default 0.4 / 0.4 / 0.2). ``steps``: optimiser steps in all (the anchor share divided
    among the N streams); ``evaluations``: ``steps = evaluations // n_prefs``; ``seconds``:
    each stage stops at its share of the time (the temperature then decays every 300 steps and
    the learning rate every 14,000, the paper's values).

    Parameters:
        c: the resource preference of the returned front. n_eval: its preferences.
        ref_point: HV reference point (default the problem's). threads: torch threads.
        stage_fractions: the budget split. config: further :class:`~hybridmoo.dymu.DymuConfig`
            fields (recorded in ``params``).

    ``extra`` holds ``cost`` (mean active-parameter ratio at ``c``), ``costs`` (per
    preference), ``uniformity``, ``by_c`` (HV, uniformity and cost at every ``eval_c``),
    ``anchor_losses`` (the single-task streams' test losses) and the trees.
    """
    if not 0.0 <= float(c) <= 1.0:
        raise ConfigError(f"dymu.c = {c!r} is invalid: expected a number in [0, 1]")
    return run_dymu_method("dymu", problem, budget, seed, c=c, n_eval=n_eval,
                           ref_point=ref_point, threads=threads,
                           stage_fractions=stage_fractions, config=config)


def run_dymu_method(method: str, problem, budget: Budget, seed: int, *, c: float, n_eval: int,
                    ref_point, threads: int | None, stage_fractions: Sequence[float],
                    config: Mapping | None) -> BaselineResult:
    """Train :func:`hybridmoo.dymu.train_dymu` under a compare budget (``dymu``, ``phn_bn``)."""
    base = DymuConfig.from_dict(config)
    data = dymu_data(problem)
    ref = ref_point_of(problem, ref_point)
    eval_c = tuple(sorted({*base.eval_c, float(c)}))
    cfg = replace(_stage_budget(budget, base, data.n_tasks, stage_fractions), n_eval=n_eval,
                  eval_c=eval_c, threads=threads)
    data.ref_point = ref
    t0 = time.perf_counter()
    res = train_dymu(data, cfg, seed=seed)
    wall = time.perf_counter() - t0
    ev = res.evals[float(c)]
    tracer = Tracer(problem, ref_point=ref, reference_front=False)
    train_s = sum(res.seconds.values())
    steps = float(sum(res.steps.values()))
    evals_used = float(res.steps["anchor"] + (res.steps["edge"] + res.steps["weight"])
                       * cfg.n_prefs)
    unadapted = res.evaluate(None, float(c), adapted=False)
    tracer.record(unadapted.F, seconds=res.seconds["anchor"] + res.seconds["edge"],
                  evaluations=res.steps["anchor"] + res.steps["edge"] * cfg.n_prefs,
                  steps=res.steps["anchor"] + res.steps["edge"])
    hv = tracer.record(ev.F, seconds=train_s, evaluations=evals_used, steps=steps)
    params = {"c": float(c), "n_eval": n_eval, "ref_point": ref_point, "threads": threads,
              "stage_fractions": list(stage_fractions), "config": cfg.to_dict()}
    return BaselineResult(
        method=method, params=params, problem=problem.describe(), seed=int(seed), status="ok",
        error="", F=ev.F, X=None, prefs=ev.prefs, trace=tracer.arrays(),
        budget_used={"seconds": train_s, "evaluations": evals_used, "steps": steps},
        hv=hv, ref_point=ref,
        extra={"cost": float(np.mean(ev.cost)), "costs": ev.cost.tolist(),
               "uniformity": float(np.mean(ev.uniformity)),
               "by_c": [e.summary() for e in res.evals.values()],
               "unadapted": unadapted.summary(),
               "anchor_losses": res.anchor_losses.tolist(),
               "affinity": res.affinity.tolist(), "trees": ev.parents.tolist(),
               "steps": dict(res.steps), "stage_seconds": dict(res.seconds),
               "wall_time": wall},
    )
