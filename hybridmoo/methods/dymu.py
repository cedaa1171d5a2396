"""DYMU as a trial method: every trial trains a DYMU controller (:mod:`hybridmoo.dymu`) and is
judged at its resource preference ``c`` (configuration table ``[fixed.dymu]``, searched paths
``dymu.…``; the stage lengths come from ``[budget]`` split by ``dymu.stage_fractions``)."""

from __future__ import annotations

import json
import time
import traceback

import numpy as np

from hybridmoo._config import show
from hybridmoo.errors import ConfigError
from hybridmoo.methods.base import TrialMethod
from hybridmoo.record import TrialResult
from hybridmoo.space import (
    SearchSpace,
    Variable,
    check_fixed_table,
    check_search_path,
    flatten_search,
    probe_space,
)

__all__ = ["DYMU", "DYMU_TRIAL_KEYS", "DymuMethod", "dymu_trial_config", "run_dymu_trial"]

#: keys of [fixed.dymu] and of "dymu.…" paths that are the trial's, not DymuConfig's
DYMU_TRIAL_KEYS = {"c": 0.0, "stage_fractions": [0.4, 0.4, 0.2]}
_DYMU_BUDGET_KEYS = ("anchor_steps", "edge_steps", "weight_steps", "stage_seconds")


def dymu_trial_config(cfg: dict) -> tuple[dict, float, list]:
    """Split a DYMU trial's ``dymu`` table into (DymuConfig fields, c, stage_fractions)."""
    d = dict(cfg)
    c = d.pop("c", DYMU_TRIAL_KEYS["c"])
    fr = d.pop("stage_fractions", DYMU_TRIAL_KEYS["stage_fractions"])
    return d, c, fr


class DymuMethod(TrialMethod):
    """A DYMU trial: its front at ``c``, the cost and FLOPs of its trees."""

    name = "dymu"
    summary = "a DYMU controller"
    noun = "DYMU"
    tables = ("dymu",)
    default_objectives = ("hv", "cost")
    objectives = {"cost": "the trees of a DYMU controller (mean cost at c)",
                  "flops": "the trees of a DYMU controller (mean FLOPs at c)"}

    def build_space(self, doc: dict, budget: dict, problem, where: str = "<study file>"
                    ) -> SearchSpace:
        from hybridmoo.dymu import DymuConfig, dymu_data

        fixed = doc.get("fixed", {})
        try:
            dymu_data(problem)
        except ConfigError as exc:
            raise ConfigError(f'problem: study.method = "dymu": {exc}') from None
        table = check_fixed_table("dymu", fixed.get("dymu", {}), DymuConfig, where,
                                  DYMU_TRIAL_KEYS)
        for k in _DYMU_BUDGET_KEYS:
            if k in table:
                raise ConfigError(f"fixed.dymu.{k}: a DYMU trial's stage lengths come from "
                                  "[budget] (steps and/or seconds) split by "
                                  f"dymu.stage_fractions; remove {k}")
        variables = []
        for vpath, vspec in flatten_search(doc["search"]).items():
            if not vpath.startswith("dymu.") or vpath.split(".", 1)[1] in _DYMU_BUDGET_KEYS:
                raise ConfigError(
                    f"search.{vpath}: a DYMU study searches paths 'dymu.<field>' (a DymuConfig "
                    "field other than the stage lengths, or c), e.g. \"dymu.c\", "
                    "\"dymu.lambda_active\""
                )
            check_search_path(vpath, DymuConfig, "dymu", where, tuple(DYMU_TRIAL_KEYS))
            variables.append(Variable.from_spec(vpath, vspec))
        space = SearchSpace(variables, {"dymu": table})

        def check(cfg: dict) -> None:
            fields, c, fr = dymu_trial_config(cfg["dymu"])
            if isinstance(c, bool) or not isinstance(c, int | float) or not 0.0 <= c <= 1.0:
                raise ConfigError(f"dymu.c = {show(c)} is invalid: expected a number in [0, 1] "
                                  "(the resource preference; 1: the most frugal model)")
            if (not isinstance(fr, list | tuple) or len(fr) != 3
                    or not all(isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
                               for v in fr) or sum(fr) <= 0):
                raise ConfigError(f"dymu.stage_fractions = {show(fr)} is invalid: expected three "
                                  "numbers ≥ 0 with a positive sum (anchor, edge, weight)")
            DymuConfig.from_dict(fields)

        probe_space(space, where, check)
        return space

    def check_resources(self, *, gpus_per_trial: float, warm_start: str) -> None:
        if gpus_per_trial > 0:
            raise ConfigError(f"resources.gpus_per_trial = {gpus_per_trial}: DYMU trials train "
                              'on the CPU (study.method = "dymu"); set gpus_per_trial = 0')
        if warm_start != "none":
            raise ConfigError('algorithm.warm_start = "nearest" applies to hypernetwork trials; '
                              'a DYMU study (study.method = "dymu") starts every trial afresh: '
                              'remove warm_start')

    def front_columns(self, record, i: int) -> dict:
        """The trial's ``c``, and the tree, cost and FLOPs of point ``i``."""
        e = record.extra
        return {"c": float(record.train["c"]), "tree": json.dumps(e["trees"][i]),
                "cost": float(e["costs"][i]),
                "flops": float(e["point_flops"][i]) if "point_flops" in e else float("nan")}

    def predict(self, data, trial_id: int, preference, c: float | None = None, **options):
        """The tree and objectives of one preference at resource preference ``c`` (default:
        the trial's own), see :meth:`hybridmoo.analysis.StudyData.predict`."""
        return data._predict_dymu(trial_id, preference, c)

    def trial_payload(self, spec, config: dict, seed: int,
                      warm: tuple[int, dict] | None = None) -> dict:
        return {"method": self.name, "problem": spec.problem,
                "problem_options": spec.problem_options, "dymu": dict(config["dymu"]),
                "budget": dict(spec.budget), "threads": spec.threads_per_trial, "seed": seed}

    def cap_seconds(self, payload: dict, seconds: float) -> dict:
        budget = dict(payload["budget"])
        budget["seconds"] = float(seconds)  # (the study's share: its budget, less or more)
        return {**payload, "budget": budget}

    def run(self, payload: dict, cache: dict):
        return _run_dymu_trial(payload, cache)


#: the registered instance
DYMU = DymuMethod()


def _dymu_failed(spec: dict, error: str, n_obj: int, ref_point=None) -> TrialResult:
    return TrialResult.failed(
        error, problem={"name": spec["problem"], "options": spec.get("problem_options", {})},
        hypernet=spec.get("dymu", {}), train={"budget": spec.get("budget", {})},
        seed=spec["seed"], n_obj=n_obj, ref_point=ref_point, method="dymu")


def _run_dymu_trial(spec: dict, cache: dict) -> TrialResult:
    from hybridmoo.methods.trial import _problem, cache_n_obj

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
    import torch

    from hybridmoo.dymu import DymuConfig, dymu_data, split_budget, train_dymu

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
    trace = {"steps": np.array([s1, n_steps], dtype=np.float64),
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


def _last(values) -> float:
    return float(values[-1]) if values else float("nan")
