"""Shared machinery of the methods that train a hypernetwork with hybridmoo's own trainer.

PHN-LS, PHN-EPO, COSMOS, PSL, HV-PSL, hybridmoo's defaults and controllable Pareto MTL are each
:class:`hybridmoo.train.Trainer` run with the settings their papers use; :func:`run_trainer`
merges a method's configuration with the user's overrides, converts the budget, trains and turns
the :class:`~hybridmoo.train.TrialResult` into a :class:`~hybridmoo.baselines.BaselineResult`.

Normalisation: the published methods pin ``train.normalize = "none"`` (their losses reach the
scalarisation raw, as in their papers and code; ideal point the problem's, else the running
minimum); only ``hybridmoo`` (the library defaults) normalises. A user's ``train`` override can
still set it. More generally every setting a published method leaves unset takes
:data:`PAPER_TRAIN` / :data:`PAPER_HYPERNET` (the library defaults before issue 16), so changing
the library defaults never changes a baseline.

Budget conversion (``budget_used`` records what was spent):

- ``steps``: optimiser steps (``train.steps``).
- ``seconds``: seconds of training steps (``train.seconds``; evaluation time is excluded, as for
  the evolutionary baselines).
- ``evaluations``: ``steps = max(1, evaluations // K)``, since every step evaluates the objectives
  once per preference, K times (for data-driven problems: K losses on K shares of a minibatch).
  So ``steps × K ≤ evaluations`` except when ``evaluations < K`` (one step is still taken).
  ``budget_used["evaluations"] = steps × K``; the evaluation passes that measure the front
  (``n_eval`` preferences every ``eval_every`` steps) are not counted, as the HV trace of the
  evolutionary baselines is not.

Common parameters: ``n_eval`` (evaluation preferences, default 100), ``eval_every`` (steps
between trace points; default about 20 points over a step budget, every 100 steps otherwise),
``ref_point`` (HV reference point, default the problem's), ``threads``, ``device``, ``dtype``,
and ``hypernet`` / ``train``: dicts of :class:`~hybridmoo.hypernet.HypernetConfig` /
:class:`~hybridmoo.train.TrainConfig` fields that override the method's configuration (recorded
in the result's ``params``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from hybridmoo.baselines.common import BaselineResult, Budget
from hybridmoo.errors import ConfigError
from hybridmoo.hypernet import HypernetConfig
from hybridmoo.train import TrainConfig, TrialResult
from hybridmoo.train import train as _train

__all__ = ["COMMON_DOC", "PAPER_HYPERNET", "PAPER_TRAIN", "budget_fields", "is_data",
           "problem_family", "run_trainer", "to_result"]

#: Settings a published method's configuration leaves unset take these values (hybridmoo's
#: defaults before they were chosen by benchmarks/bench_defaults.py), so that the methods keep
#: their papers' behaviour whatever the library defaults: constant learning rate 1e-3, no
#: gradient clipping, Dirichlet(1) preferences, raw losses, the evaluation preferences' front,
#: the last step's network, no evolutionary rescue of a collapsed front, width-100
#: hypernetwork with one linear head per target tensor and the sigmoid bound mapping.
PAPER_TRAIN: dict[str, Any] = {"lr": 1e-3, "lr_schedule": "constant", "grad_clip": None,
                               "sampler": {"name": "dirichlet", "alpha": 1.0},
                               "normalize": "none", "front": "preferences", "checkpoint": "last",
                               "evo_rescue": False}
PAPER_HYPERNET: dict[str, Any] = {"width": 100, "head": "tensor", "bounds": "sigmoid"}


def is_data(problem) -> bool:
    """Whether the problem is data-driven (trains network weights on minibatches)."""
    return hasattr(problem, "make_task")


def problem_family(problem) -> str:
    """The registry family of the problem (``"ZDT"``, ``"RE"``, ``"MTL"``…), or ``""``."""
    from hybridmoo import problems

    for entry in problems.registered():
        if entry.name == getattr(problem, "name", None):
            return entry.family
    return ""


def budget_fields(budget: Budget, k: int) -> dict[str, Any]:
    if budget.kind == "steps":
        return {"steps": budget.count, "seconds": None}
    if budget.kind == "seconds":
        return {"steps": None, "seconds": budget.amount}
    return {"steps": max(1, budget.count // k), "seconds": None}


def to_result(trial: TrialResult, *, method: str, params: Mapping, k: int) -> BaselineResult:
    """Convert a :class:`~hybridmoo.train.TrialResult` into a :class:`BaselineResult`.

    Trace ``steps`` and ``seconds`` are the trainer's (training time only); ``evaluations`` are
    ``steps × k``.
    """
    tr = trial.trace
    steps = np.asarray(tr["steps"], dtype=np.float64)
    trace = {
        "seconds": np.asarray(tr["seconds"], dtype=np.float64),
        "evaluations": steps * k,
        "steps": steps,
        "hv": np.asarray(tr["hv"], dtype=np.float64),
        "igd": np.asarray(tr["igd"], dtype=np.float64),
    }
    return BaselineResult(
        method=method, params=dict(params), problem=dict(trial.problem), seed=int(trial.seed),
        status=trial.status, error=trial.error,
        F=np.asarray(trial.F, dtype=np.float64),
        X=None if trial.X is None else np.asarray(trial.X, dtype=np.float64),
        prefs=np.asarray(trial.prefs, dtype=np.float64), trace=trace,
        budget_used={"seconds": float(trial.train_time), "evaluations": float(trial.steps * k),
                     "steps": float(trial.steps)},
        hv=float(trial.hv), ref_point=np.asarray(trial.ref_point, dtype=np.float64),
        extra={"hypernet": trial.hypernet, "train": trial.train, "n_params": trial.n_params,
               "n_target_params": trial.n_target_params, "wall_time": trial.wall_time,
               "device": trial.device, "igd": trial.igd,
               **{k: trial.extra[k] for k in ("front", "evo_start") if k in trial.extra}},
    )


def run_trainer(problem, budget: Budget, seed: int, *, method: str, hypernet: Mapping,
         config: Mapping, user_hypernet: Mapping | None, user_train: Mapping | None,
         n_eval: int, eval_every: int | None, ref_point, threads: int | None, device: str,
         dtype: str, paper_defaults: bool = True) -> BaselineResult:
    """Merge the method's configuration with the user's overrides, train, convert.

    ``paper_defaults``: fill what the method leaves unset from :data:`PAPER_TRAIN` /
    :data:`PAPER_HYPERNET` (published methods) rather than the library defaults."""
    for what, d, cls in (("hypernet", user_hypernet, HypernetConfig),
                         ("train", user_train, TrainConfig)):
        if d is None:
            continue
        if not isinstance(d, Mapping):
            raise ConfigError(f"{what} must be a dict of {cls.__name__} fields, got {d!r}")
        allowed = {f.name for f in dataclasses.fields(cls)}
        bad = [key for key in d if key not in allowed]
        if bad:
            raise ConfigError(
                f"{what} has no field {bad[0]!r}; {cls.__name__} fields: "
                f"{', '.join(sorted(allowed))}"
            )
    legacy = paper_defaults  # published methods: the pre-issue-16 defaults underneath
    hcfg = {**(PAPER_HYPERNET if legacy else {}), **dict(hypernet), **dict(user_hypernet or {})}
    cfg = {**(PAPER_TRAIN if legacy else {}), **dict(config), **dict(user_train or {})}
    k = int(cfg.get("n_prefs", TrainConfig.n_prefs))
    cfg.update(budget_fields(budget, k))
    cfg["n_eval"] = n_eval
    cfg["eval_every"] = eval_every if eval_every is not None else (
        max(1, cfg["steps"] // 20) if cfg["steps"] is not None else 100)
    if ref_point is not None:
        cfg["ref_point"] = tuple(float(v) for v in np.asarray(ref_point, float).reshape(-1))
    cfg.update(threads=threads, device=device, dtype=dtype)
    # validate both configurations up front: a bad value is a ConfigError, not a failed run
    hc = HypernetConfig.from_dict(hcfg)
    tc = TrainConfig.from_dict(cfg)
    trial = _train(problem, hypernet=hc, config=tc, seed=seed, keep_weights=False)
    params = {"hypernet": hc.to_dict(), "train": tc.to_dict(), "n_eval": n_eval,
              "eval_every": tc.eval_every, "ref_point": ref_point, "threads": threads,
              "device": device, "dtype": dtype}
    return to_result(trial, method=method, params=params, k=k)


COMMON_DOC = "Parameters: n_eval, eval_every, ref_point, threads, device, dtype, hypernet, train."
