"""The trial functions of a study: a hypernetwork trained by :class:`~hybridmoo.train.Trainer`
(method ``"hypernet"``) or a DYMU controller (method ``"dymu"``).

:func:`run_trial` is what a backend's worker calls for one trial (``fn(payload, cache)``): it
looks the trial's method up in the registry (:func:`hybridmoo.methods.get`), builds the problem
once per worker and never raises (a failed trial is a failed result).
"""

from __future__ import annotations

import json
import time
import traceback

import torch

from hybridmoo.train import Trainer, TrialResult

__all__ = ["STATE_KEY", "run_trial"]

#: ``result.extra`` key of a trial's continuation state (with ``spec["save_state"]``)
STATE_KEY = "continuation_state"


def _problem(spec: dict, cache: dict):
    from hybridmoo import problems

    key = (spec["problem"], json.dumps(spec.get("problem_options", {}), sort_keys=True))
    if key not in cache:
        cache[key] = problems.get(spec["problem"], **spec.get("problem_options", {}))
    return cache[key]


def generation_latency_ms(trainer: Trainer, repeats: int = 20) -> float:
    """Median time (ms) to generate the solution of one preference with the trained net."""
    prefs = trainer.eval_prefs[:1]
    times = []
    with torch.no_grad():
        for _ in range(repeats):
            t0 = time.perf_counter()
            trainer.net(prefs)
            if trainer.device.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
    times.sort()
    return 1000 * times[len(times) // 2]


def run_trial(spec: dict, cache: dict | None = None) -> TrialResult:
    """Build the problem (cached), train, measure latency; never raises.

    Args:
        spec: ``{"problem", "problem_options", "hypernet", "train", "seed"}``, optionally
            ``"init_state"`` (hypernetwork weights to start from: a warm start) and
            ``"warm_start_from"`` (the trial they come from, recorded in ``result.extra``),
            ``"resume_state"`` (continue a saved run, see :mod:`hybridmoo.continuation`;
            with ``"lr_restart": True`` a cosine schedule may restart under a larger budget),
            ``"inherit_state"`` (take over another trial's saved run with this trial's
            settings: what transferred goes to ``result.extra["inherited"]``) and
            ``"save_state": True`` (return the run's state in ``result.extra[STATE_KEY]``:
            bytes the caller must pop before recording the result);
            or, for a DYMU trial, ``{"method": "dymu", "problem", "problem_options", "dymu",
            "budget", "threads", "seed"}`` (see :func:`run_dymu_trial`).
        cache: problems already built by this worker (data is loaded once per worker).

    Returns:
        The trial's :class:`~hybridmoo.train.TrialResult` (``status == "failed"`` with the
        reason if it failed).
    """
    threads = torch.get_num_threads()
    try:
        return _run_trial(spec, {} if cache is None else cache)
    finally:
        torch.set_num_threads(threads)  # train.threads applies to this trial only


def _run_trial(spec: dict, cache: dict) -> TrialResult:
    from hybridmoo import methods

    name = spec.get("method", "hypernet")
    try:
        method = methods.get(name)
    except Exception as exc:  # a user's method that does not import on this worker
        return TrialResult.failed(
            f"{type(exc).__name__} while looking up the trial method: {exc}",
            problem={"name": spec.get("problem"), "options": spec.get("problem_options", {})},
            hypernet={}, train={}, seed=spec.get("seed", 0), n_obj=cache_n_obj(spec, cache),
            method=str(name))
    result = method.run(spec, cache)
    result.method = name  # what the analysis looks up again (a user's import path included)
    return result


def _run_hypernet_trial(spec: dict, cache: dict) -> TrialResult:
    try:
        problem = _problem(spec, cache)
        trainer = Trainer(problem, spec["hypernet"], spec["train"], seed=spec["seed"],
                          init_state=spec.get("init_state"),
                          resume_state=spec.get("resume_state"),
                          inherit_state=spec.get("inherit_state"),
                          lr_restart=bool(spec.get("lr_restart", False)))
    except Exception as exc:  # a bad configuration must not kill the study
        n_obj = cache_n_obj(spec, cache)
        return TrialResult.failed(
            f"{type(exc).__name__} while setting up the trial: {exc}",
            problem={"name": spec["problem"], "options": spec.get("problem_options", {})},
            hypernet=spec["hypernet"], train=spec["train"], seed=spec["seed"], n_obj=n_obj,
        )
    try:
        result = trainer.run(keep_weights=True)
        if spec.get("save_state") and result.ok:  # before anything else touches the trainer
            result.extra[STATE_KEY] = trainer.save_state()
        if spec.get("warm_start_from") is not None:
            result.extra["warm_start_from"] = int(spec["warm_start_from"])
        if trainer.inherited is not None:
            result.extra["inherited"] = trainer.inherited
        if result.ok:
            result.extra["latency_ms"] = generation_latency_ms(trainer)
    except Exception as exc:
        tb = traceback.format_exc(limit=3)
        result = TrialResult.failed(
            f"{type(exc).__name__} during training: {exc}\n{tb}", problem=problem.describe(),
            hypernet=spec["hypernet"], train=spec["train"], seed=spec["seed"],
            n_obj=problem.n_obj,
        )
    return result


def cache_n_obj(spec: dict, cache: dict) -> int:
    """Number of objectives of the trial's problem (2 if it cannot be built)."""
    try:
        return _problem(spec, cache).n_obj
    except Exception:
        return 2
