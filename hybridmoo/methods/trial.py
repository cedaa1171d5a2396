"""The trial functions of a study: a hypernetwork trained by :class:`~hybridmoo.train.Trainer`
(method ``"hypernet"``) or a DYMU controller (method ``"dymu"``).

:func:`run_trial` is what a backend's worker calls for one trial (``fn(payload, cache)``): it
looks the trial's method up in :data:`TRIAL_METHODS`, builds the problem once per worker and
never raises (a failed trial is a failed result).
"""

from __future__ import annotations

import json
import time
import traceback

import numpy as np
import torch

from hybridmoo.train import Trainer, TrialResult

__all__ = ["STATE_KEY", "TRIAL_METHODS", "run_dymu_trial", "run_trial"]

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
            ``"resume_state"`` (continue a saved run, see :mod:`hybridmoo.continuation`) and
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
    return TRIAL_METHODS[spec.get("method", "hypernet")](spec, cache)


def _run_hypernet_trial(spec: dict, cache: dict) -> TrialResult:
    try:
        problem = _problem(spec, cache)
        trainer = Trainer(problem, spec["hypernet"], spec["train"], seed=spec["seed"],
                          init_state=spec.get("init_state"),
                          resume_state=spec.get("resume_state"))
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


def _dymu_failed(spec: dict, error: str, n_obj: int, ref_point=None) -> TrialResult:
    return TrialResult.failed(
        error, problem={"name": spec["problem"], "options": spec.get("problem_options", {})},
        hypernet=spec.get("dymu", {}), train={"budget": spec.get("budget", {})},
        seed=spec["seed"], n_obj=n_obj, ref_point=ref_point, method="dymu")


def _run_dymu_trial(spec: dict, cache: dict) -> TrialResult:
    try:
        problem = _problem(spec, cache)
    except Exception as exc:
        return _dymu_failed(spec, f"{type(exc).__name__} while building the problem: {exc}",
                            cache_n_obj(spec, cache))
    try:
        return run_dymu_trial(problem, spec["dymu"], spec["budget"], seed=spec["seed"],
                              threads=spec.get("threads"))
    except Exception as exc:  # a bad configuration or a failed run must not kill the study
        tb = traceback.format_exc(limit=3)
        return _dymu_failed(spec, f"{type(exc).__name__} in the DYMU trial: {exc}\n{tb}",
                            problem.n_obj, problem.ref_point.detach().cpu().numpy()
                            if problem.ref_point is not None else None)


def run_dymu_trial(problem, dymu: dict, budget: dict, seed: int = 0,
                   threads: int | None = None) -> TrialResult:
    """Train a DYMU controller as one outer-loop trial and judge it at its resource preference.

    Args:
        problem: a problem :func:`hybridmoo.dymu.dymu_data` accepts.
        dymu: :class:`~hybridmoo.dymu.DymuConfig` fields plus ``c`` (the resource preference
            the trial is judged at) and ``stage_fractions`` (see :mod:`hybridmoo.studyfile`).
        budget: ``{"steps", "seconds", "epochs"}`` (any of them) for the whole run; epochs
            count passes over the training set at the configured batch size.
        seed: the run's seed. threads: torch threads during the run.

    Returns:
        A :class:`TrialResult` with ``method = "dymu"``: the front of the evaluation
        preferences at ``c``, ``hypernet`` the DymuConfig, ``train`` ``{"c",
        "stage_fractions", "budget"}``, ``state_dict`` the whole controller (anchor, edge and
        weight hypernetworks), ``n_params`` the hypernetworks' parameters (the anchor's are in
        ``extra["anchor_params"]``), ``extra`` the cost, FLOPs, uniformity and trees at ``c``
        and the summary at every ``eval_c``.
    """
    from hybridmoo.dymu import DymuConfig, dymu_data, split_budget, train_dymu
    from hybridmoo.studyfile import dymu_trial_config

    fields, c, fractions = dymu_trial_config(dymu)
    c = float(c)
    base = DymuConfig.from_dict(fields)
    data = dymu_data(problem)
    steps = budget.get("steps")
    if budget.get("epochs") is not None:
        per_epoch = max(1, data.x_train.shape[0] // min(base.batch_size, data.x_train.shape[0]))
        by_epochs = int(round(float(budget["epochs"]) * per_epoch))
        steps = by_epochs if steps is None else min(int(steps), by_epochs)
    cfg = split_budget(base, data.n_tasks, steps=steps, seconds=budget.get("seconds"),
                       fractions=fractions)
    cfg = DymuConfig.from_dict({**cfg.to_dict(), "eval_c": sorted({*cfg.eval_c, c}),
                                "threads": threads if threads is not None else cfg.threads})
    t0 = time.perf_counter()
    res = train_dymu(data, cfg, seed=seed)
    wall = time.perf_counter() - t0
    ev = res.evals[c]
    model = res.model
    # HV trace: the stage-1 network (no BN offsets) after stage 1, the final one after stage 2
    unadapted = res.evaluate(None, c, adapted=False)
    s1 = res.steps["anchor"] + res.steps["edge"]
    t1 = res.seconds["anchor"] + res.seconds["edge"]
    total = float(sum(res.seconds.values()))
    n_steps = int(sum(res.steps.values()))
    trace = {"step": np.array([s1, n_steps], dtype=np.float64),
             "seconds": np.array([t1, total]),
             "samples": np.array([s1, n_steps], dtype=np.float64) * cfg.batch_size,
             "hv": np.array([unadapted.hv, ev.hv]), "igd": np.full(2, np.nan),
             "loss": np.array([_last(res.history.get("edge")), _last(res.history.get("weight"))])}
    r = torch.as_tensor(ev.prefs[:1], dtype=torch.float32)
    lat = []
    for _ in range(20):
        t = time.perf_counter()
        with torch.no_grad():
            model.tree(r, c), model.weight(r, torch.full((1,), c))
        lat.append(time.perf_counter() - t)
    hyper = sum(p.numel() for m in (model.edge, model.weight) for p in m.parameters())
    anchor = sum(p.numel() for p in model.anchor.parameters())
    summary = ev.summary()
    extra = {"c": c, "cost": summary["cost"], "flops": summary["flops"],
             "flops_ratio": summary["flops_ratio"], "uniformity": summary["uniformity"],
             "costs": ev.cost.tolist(), "point_flops": ev.flops.tolist(),
             "trees": ev.parents.tolist(),
             "by_c": [e.summary() for e in res.evals.values()], "unadapted": unadapted.summary(),
             "anchor_losses": res.anchor_losses.tolist(), "affinity": res.affinity.tolist(),
             "stage_steps": dict(res.steps), "stage_seconds": dict(res.seconds),
             "anchor_params": int(anchor), "latency_ms": 1000 * float(np.median(lat))}
    if ev.accuracy is not None:
        extra["accuracy"] = ev.accuracy.tolist()
    state = {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}
    return TrialResult(
        status="ok", problem=problem.describe(), hypernet=cfg.to_dict(),
        train={"c": c, "stage_fractions": list(fractions), "budget": dict(budget)},
        seed=int(seed), prefs=ev.prefs, F=ev.F, X=None, trace=trace,
        ref_point=np.asarray(data.ref_point, dtype=np.float64), hv=float(ev.hv),
        igd=float("nan"), n_params=int(hyper), n_target_params=int(anchor), wall_time=wall,
        train_time=total, steps=n_steps, device="cpu", state_dict=state, extra=extra,
        method="dymu")


#: The trial function of each study method, ``fn(spec, cache) -> TrialResult``.
TRIAL_METHODS = {"hypernet": _run_hypernet_trial, "dymu": _run_dymu_trial}


def _last(values) -> float:
    return float(values[-1]) if values else float("nan")
