"""hybridmoo's own outer + inner search as a method of ``hybridmoo compare``.

``hybridmoo_search`` runs a small study in-process under the compare budget: NSGA-II over the
hypernetwork width, the learning rate, the scalarisation and the Dirichlet α (the choices the inner
loop is most sensitive to, see results/outer_vs_default.md) and, on box-constrained problems with
exact gradients, whether a trial starts with NSGA-II (``train.evo_start`` 0 or 0.1,
:mod:`hybridmoo.evostart`: gradients alone miss the pieces of a front across barriers),
``pop_size`` trials per generation for ``generations`` generations, the budget split evenly among
the trials (seconds or steps; an evaluations budget counts K preferences per step). A seconds
budget keeps back the study front's estimated selection time (5–25% of it,
:attr:`SearchSetup.reserve`) and runs the study under a time limit of the rest: each trial trains
its share of the time left less the set-up and evaluation the finished trials took, fewer and
longer trials where those would take more than a third of each
(:func:`hybridmoo.study.timelimit.trial_time_share`); the study front's exchanges and polish then
stop at 99% of the budget. Every trial trains as the library does by default (only the searched
values and ``threads = 1`` differ; the first trial is the defaults' configuration, the second,
where the start applies, the same with the start) and keeps its weights, and the result is the
**study front** (:meth:`hybridmoo.analysis.StudyData.study_front`): ``n_eval`` points (100 by
default, as many as the other methods return, even where a trial's evaluation lattice has more),
chosen by greedy hypervolume contribution from every trial's hypernetwork queried densely, so its
HV is at least the best trial's. Its trace is the best trial HV so far against the budget spent so
far, then one last point, the study front's HV, at the time spent once it is built: the search's
cost, the study front's included, is charged in full (``budget_used["seconds"]`` is the wall time
of the whole method).

With ``schedule = "asha"`` the study runs successive halving instead (rungs ``s·η^k`` in
training seconds, or steps under a steps budget; the first rung ``s`` sized by
:func:`asha_units` so that every rung's training fits the budget): the best trials continue
their own weights while the others stop, and the trace follows the rung jobs in the order they
ended.

The space, the budget split and the result are shared with the outer-loop baselines that
search the same space under the same accounting (:mod:`~hybridmoo.baselines.random_search`,
:mod:`~hybridmoo.baselines.optuna`): :func:`search_setup` builds the study spec and the
per-trial budget, :func:`run_outer_loop` trains proposed configurations one after another in
this process (the Study's trial seeds and trial function) and records them in a study file as
the Study does, and :func:`search_result` builds the study front from that file and turns the
trials into a :class:`BaselineResult`.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hybridmoo.baselines.common import BaselineResult, Budget, register
from hybridmoo.errors import ConfigError

__all__ = ["SearchSetup", "hybridmoo_search", "run_outer_loop", "run_search", "search_result",
           "search_setup"]

_STUDY = """
[study]
seed = {seed}
output = "search.h5"
[problem]
name = "{problem}"
options = {options}
[objectives]
names = ["hv"]
[algorithm]
name = "nsga2"
pop_size = {pop}
generations = {gens}
{schedule}
[budget]
{budget}
[resources]
retries = 0
keep_weights = "all"
[fixed.train]
n_prefs = {k}
threads = 1
eval_every = {eval_every}
n_eval = {n_eval}
[search]
"hypernet.width" = {{ type = "int", low = 16, high = 256, log = true }}
"train.lr" = {{ type = "real", low = 1e-3, high = 1e-2, log = true }}
"train.sampler.alpha" = {{ type = "real", low = 0.2, high = 2.0, log = true }}
"train.scalarization.name" = {{ type = "choice", values = [
    "tchebycheff", "smooth_tchebycheff", "inverse_tchebycheff"] }}
{evo}"""


#: the evolutionary start as a searched choice, where it applies (:func:`evo_applies`)
_EVO = '"train.evo_start" = { type = "choice", values = [0.0, 0.1] }\n'


def evo_applies(problem) -> bool:
    """Whether ``train.evo_start`` applies to ``problem`` (:func:`hybridmoo.evostart.applies`):
    a box-constrained problem with exact gradients, not a black box nor a data problem."""
    from hybridmoo.evostart import applies

    return applies(problem)


def _toml_inline(d: dict) -> str:
    def val(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return f'"{v}"'
        return repr(v)

    # TOML has no null: an option left at None takes the problem's default anyway
    return "{ " + ", ".join(f"{k} = {val(v)}" for k, v in d.items() if v is not None) + " }"


@dataclass
class SearchSetup:
    """A compare-budget search: the study spec and how the budget is split among trials.

    Attributes:
        spec: the study spec (problem, space, fixed settings, seed) every search method uses.
        n_trials: trials of a search that stops none early (``pop_size × generations``).
        unit: ``"steps"`` or ``"seconds"``, what a trial's budget counts.
        per_trial: each trial's training budget in ``unit``.
        budget: the compare budget. n_prefs: preferences per step. params: the search's settings.
        n_eval: the study front's size (the points every compared method returns; a trial's own
            evaluation front may have more: on three objectives 100 asks for 105 lattice
            preferences).
        reserve: seconds of a seconds budget kept for the study front: its estimated
            selection time (:func:`hybridmoo.studyfront.estimate_seconds`, every trial kept,
            three polish rounds: the rest run in what is left), at least 5% and at most 25% of
            the budget (0 for other budgets).
    """

    spec: Any
    n_trials: int
    unit: str
    per_trial: float
    budget: Budget
    n_prefs: int
    params: dict = field(default_factory=dict)
    n_eval: int = 100
    reserve: float = 0.0

    @property
    def total(self) -> float:
        """The training budget of the whole search, in ``unit``."""
        return self.n_trials * self.per_trial


def asha_units(n: int, eta: float) -> tuple[int, float]:
    """Rungs and cost of successive halving over ``n`` configurations with rungs ``s·η^k``:
    ``(rungs, cost / s)``, the rungs as many as leave about one trial at the last and the cost
    counting the ⌊n/η^k⌋ trials that reach rung k, each training from the rung below."""
    rungs = 1
    while math.floor(n / eta ** rungs) >= 1:
        rungs += 1
    units, below = 0.0, 0.0
    for k in range(rungs):
        units += math.floor(n / eta ** k) * (eta ** k - below)
        below = eta ** k
    return rungs, units


def search_setup(problem, budget: Budget, seed: int, *, pop_size: int = 4, generations: int = 2,
                 n_prefs: int = 8, eval_every: int = 10**6, n_eval: int = 100,
                 schedule: str = "none", eta: float = 2) -> SearchSetup:
    """The shared search space and budget split (see the module docstring).

    ``eval_every`` defaults to evaluating at the end of a trial only; a search that prunes
    trials on intermediate HV sets it lower. ``schedule = "asha"``: the study runs successive
    halving with continuation (:mod:`hybridmoo.study.multifidelity`), reduction factor ``eta``,
    its first rung sized so that every rung's training fits the budget
    (:func:`asha_units`); ``per_trial`` stays the even split.
    """
    from hybridmoo.studyfile import load_study
    from hybridmoo.studyfront import estimate_seconds

    n = pop_size * generations
    reserve = 0.0
    if budget.kind == "seconds":
        # the study front's reserve is kept; the rest is shared among the trials by the wall
        # clock (trial_time_share: an even share less each trial's set-up and evaluation, or
        # fewer, longer trials where those dominate)
        # (three polish rounds: later ones run in what is left before 99 % of the budget)
        est = estimate_seconds(n, n_eval, problem.n_obj, polish=3)
        reserve = min(max(0.05, est / budget.amount), 0.25) * budget.amount
        unit, per_trial = "seconds", (budget.amount - reserve) / n
        per = f"seconds = {per_trial!r}\nsteps = 1000000"
    else:  # an evaluations budget counts K preferences per step
        unit = "steps"
        per_trial = max(1, int(budget.amount // (n if budget.kind == "steps" else n * n_prefs)))
        per = f"steps = {per_trial}"
    sched = ""
    if schedule == "asha":
        rungs, units = asha_units(n, eta)
        first = per_trial * n / units
        if unit == "steps":
            first = max(1, int(first))
        top = first * eta ** (rungs - 1) if unit == "seconds" else int(first * eta ** (rungs - 1))
        per = f"{unit} = {top!r}"
        sched = f"schedule = \"asha\"\nmin_budget = {first!r}\neta = {eta!r}"
    elif schedule != "none":
        raise ConfigError(f"schedule = {schedule!r} is not allowed; allowed: none, asha")
    desc = problem.describe()
    text = textwrap.dedent(_STUDY.format(seed=seed, problem=desc["name"],
                                         options=_toml_inline(desc.get("options", {})),
                                         pop=pop_size, gens=generations, budget=per, k=n_prefs,
                                         eval_every=eval_every, n_eval=n_eval,
                                         schedule=sched, evo=_EVO if evo_applies(problem)
                                         else ""))
    params = {"pop_size": pop_size, "generations": generations, "n_prefs": n_prefs}
    if schedule != "none":
        params.update(schedule=schedule, eta=eta)
    return SearchSetup(load_study(text=text), n, unit, float(per_trial), budget, n_prefs, params,
                       n_eval, reserve)


def _trial_cost(setup: SearchSetup, r) -> float:
    """What a finished trial is charged, in ``setup.unit``: at most its share."""
    used = r.steps if setup.unit == "steps" else r.train_time
    return min(float(used), setup.per_trial)


class _Stop:
    """A trainer callback that ends the run at the current evaluation when ``prune`` says so:
    it lowers the trainer's step budget to the steps done, so the trial returns a normal result
    (its front at that step) and is charged only what it used."""

    def __init__(self, prune: Callable[[dict], bool]):
        self.prune, self.trainer, self.pruned = prune, None, False

    def __call__(self, ev: dict) -> None:
        if not self.pruned and not self.trainer.done() and self.prune(ev):
            self.pruned = True
            self.trainer.cfg = dataclasses.replace(self.trainer.cfg,
                                                   steps=self.trainer.step_count)


def _train(payload: dict, cache: dict, prune: Callable[[dict], bool] | None):
    """One trial in this process: the Study's trial function, or, to prune on intermediate
    HV, the same Trainer with a stopping callback. Returns ``(TrialResult, pruned)``."""
    from hybridmoo.methods.trial import _problem, cache_n_obj, run_trial
    from hybridmoo.train import Trainer, TrialResult

    if prune is None:
        return run_trial(payload, cache), False
    stop = _Stop(prune)
    try:
        stop.trainer = Trainer(_problem(payload, cache), payload["hypernet"], payload["train"],
                               seed=payload["seed"])
        return stop.trainer.run(callback=stop, keep_weights=True), stop.pruned
    except Exception as exc:  # a bad configuration fails its trial, not the search
        return TrialResult.failed(f"{type(exc).__name__}: {exc}", problem={
            "name": payload["problem"], "options": payload["problem_options"]},
            hypernet=payload["hypernet"], train=payload["train"], seed=payload["seed"],
            n_obj=cache_n_obj(payload, cache)), False


def run_outer_loop(setup: SearchSetup, ask: Callable[[int], dict],
                   tell: Callable[[int, dict, Any, bool], None], output: str | Path, *,
                   prune: Callable[[int, dict], bool] | None = None) -> tuple[dict, dict]:
    """Train the configurations ``ask`` proposes, one at a time, until the budget is spent.

    A trial starts only while its full share still fits in the budget that is left (trials
    are charged what they used, at most their share), so a search that stops none early runs
    exactly ``setup.n_trials`` trials, as :func:`hybridmoo_search` does, and one that stops
    trials early spends what it saved on more trials. With a seconds budget the wall clock
    also counts, as in :func:`hybridmoo_search`'s time-limited study: each trial trains at most
    its share of the wall-clock time left to the study front's reserve
    (:func:`~hybridmoo.study.timelimit.trial_time_share`), and none starts that would not fit.

    Args:
        setup: from :func:`search_setup`.
        ask: ``ask(trial_id) -> {path: value}``, a point of ``setup.spec.space``.
        tell: ``tell(trial_id, values, result, pruned)`` after each trial.
        output: the study file (new) that records every trial with its weights, as the Study
            writes it, for :func:`search_result`'s study front.
        prune: ``prune(trial_id, {"step", "hv", "igd", "seconds"}) -> bool`` at each of the
            trial's evaluations: True ends the trial there.

    Returns:
        ``(trials, values)``: trial id → TrialResult and trial id → ``{path: value}``.
    """
    import json

    from hybridmoo import store
    from hybridmoo.study import outer_objectives
    from hybridmoo.study.timelimit import trial_time_share

    spec = setup.spec
    names = list(spec.objectives)
    ref = _problem_of(spec).ref_point
    store.create(output, kind="study", problem=_problem_of(spec).describe(),
                 study_text=spec.text, extra_attrs={
                     "study_name": spec.name, "seed": spec.seed, "objectives": json.dumps(names),
                     "algorithm": "outer-loop baseline",
                     "search_space": json.dumps([v.__dict__ for v in spec.space.variables],
                                                default=list),
                     "ref_point": json.dumps(np.asarray(ref).tolist()), "status": "running"})
    trials, values, cache = {}, {}, {}
    spent, tid = 0.0, 0
    t0, ran = time.perf_counter(), []  # a seconds budget is also wall-clock time
    while spent + setup.per_trial <= setup.total * (1 + 1e-9) + 1e-9:
        cap = None
        if setup.unit == "seconds":  # as hybridmoo_search's study: the study front's reserve
            n_left = max(1, round((setup.total - spent) / setup.per_trial))  # is kept back
            cap = trial_time_share(setup.total - (time.perf_counter() - t0),
                                   n_left, 1, ran, setup.per_trial)
            if cap is None:
                break
        values[tid] = vals = ask(tid)
        payload = spec.trial_method.trial_payload(spec, spec.space.config(vals),
                                                  spec.seed * 100_003 + tid)  # as Study does
        if cap is not None:
            payload = spec.trial_method.cap_seconds(payload, cap) or payload
        hook = None if prune is None else (lambda ev, t=tid: prune(t, ev))
        trials[tid], pruned = _train(payload, cache, hook)
        spent += _trial_cost(setup, trials[tid])
        r = trials[tid]
        ran.append((r.wall_time, r.train_time))
        store.write_trial(output, r, trial_id=tid, keep_weights=r.ok, attrs={
            "values": vals, "outer_objectives": dict(zip(
                names, outer_objectives(r, names).tolist(), strict=True)), "attempts": 1,
            "warm_start_from": -1, "pruned": bool(pruned)})
        tell(tid, vals, r, pruned)
        tid += 1
    store.set_attrs(output, status="finished")
    return trials, values


def _problem_of(spec):
    from hybridmoo import problems

    return problems.get(spec.problem, **spec.problem_options)


def search_result(method: str, setup: SearchSetup, problem, seed: int, trials: dict,
                  values: dict, t0: float, path: str | Path, extra: dict | None = None,
                  segments: list | None = None) -> BaselineResult:
    """The study front of the search's study file ``path``, built and timed here; the trace is
    the best trial HV so far against the budget spent so far (each trial's training time and
    steps, in trial order), then the study front's HV once it is built (see the module
    docstring). ``segments``: the pieces trials trained in, in the order they ended, each
    ``(trial, seconds, steps, hv)`` at its end (a multi-fidelity study's rung jobs); default
    each trial in one piece, in trial order."""
    from hybridmoo.analysis import StudyData

    desc = problem.describe()
    ok = [t for t, r in trials.items() if r.ok and math.isfinite(r.hv)]
    if not ok:
        first = next(iter(trials.values()), None)
        why = first.error if first is not None else "no trial ran within the budget"
        return BaselineResult.failed(f"every trial failed; first: {why}", method=method,
                                     problem=desc, seed=seed, n_obj=problem.n_obj,
                                     params=setup.params)
    t_sf = time.perf_counter()  # the study front, built (and timed) within the budget
    limit = None  # a seconds budget: the exchanges and the polish stop at 99% of it
    if setup.budget.kind == "seconds":
        limit = max(0.0, 0.99 * setup.budget.amount - (t_sf - t0))
    sf = StudyData(path).study_front(setup.n_eval, time_limit=limit)
    sf_seconds = time.perf_counter() - t_sf
    n_prefs = setup.n_prefs
    secs, steps, evals, hvs = [], [], [], []
    spent_s = spent_steps = 0.0
    best = -np.inf
    if segments is None:  # trials one after another, each in one piece
        segments = [(t, trials[t].train_time, trials[t].steps, trials[t].hv)
                    for t in sorted(trials)]
    at: dict[int, tuple[float, float]] = {}  # trial -> (seconds, steps) trained so far
    for t, t_end, st_end, hv_end in segments:
        r = trials[t]
        t_from, st_from = at.get(t, (0.0, 0.0))
        at[t] = (float(t_end), float(st_end))
        if t in ok:  # the trial's own evaluations in this piece: an anytime curve
            tr = r.trace
            for sec, st, hv in zip(tr["seconds"], tr["steps"], tr["hv"], strict=True):
                if np.isfinite(hv) and st_from < st < st_end:
                    best = max(best, float(hv))
                    secs.append(spent_s + float(sec) - t_from)
                    steps.append(spent_steps + float(st) - st_from)
                    evals.append((spent_steps + float(st) - st_from) * n_prefs)
                    hvs.append(best)
        spent_s += float(t_end) - t_from
        spent_steps += float(st_end) - st_from
        if t in ok and math.isfinite(hv_end):
            best = max(best, float(hv_end))
        secs.append(spent_s)
        steps.append(spent_steps)
        evals.append(spent_steps * n_prefs)
        hvs.append(best if np.isfinite(best) else 0.0)
    # the study front's point: its HV once it is built, its building time charged
    secs.append(spent_s + sf_seconds)
    steps.append(spent_steps)
    evals.append(spent_steps * n_prefs)
    hvs.append(sf.hv)
    top = max(ok, key=lambda t: trials[t].hv)
    return BaselineResult(
        method=method, params=setup.params, problem=desc, seed=seed, status="ok", error="",
        F=sf.F, X=sf.X, prefs=sf.prefs,
        trace={"seconds": np.array(secs), "evaluations": np.array(evals),
               "steps": np.array(steps), "hv": np.array(hvs),
               "igd": np.full(len(hvs), np.nan)},
        budget_used={"seconds": time.perf_counter() - t0, "steps": spent_steps,
                     "evaluations": spent_steps * n_prefs},
        hv=float(sf.hv), ref_point=np.asarray(sf.ref_point, dtype=np.float64),
        extra={"best_trial": top, "best_values": values[top],
               "best_trial_hv": float(trials[top].hv), "n_trials": len(trials),
               "trial_values": {int(t): values[t] for t in sorted(values)},
               "trial_steps": [int(trials[t].steps) for t in sorted(trials)],
               "study_front": {"seconds": sf_seconds, "points": len(sf), "density": sf.density,
                               "trials": [int(t) for t in sorted(set(sf.trial_ids.tolist()))],
                               "kept_trials": len(sf.trials), "source": sf.source,
                               "split": sf.split, "trial_ids": sf.trial_ids.tolist()},
               **(extra or {})})


@register("hybridmoo_search", "hybridmoo",
          "this library: pymoo NSGA-II over Pareto-set-learning configurations")
def hybridmoo_search(problem, budget: Budget, seed: int, *, pop_size: int = 4,
                     generations: int = 2, n_prefs: int = 8,
                     variation: str = "explore", initial: str = "defaults",
                     eval_every: int | None = None, n_eval: int = 100,
                     schedule: str = "none", eta: float = 2) -> BaselineResult:
    """Outer + inner search under ``budget`` (see the module docstring). ``variation``: NSGA-II's
    operators (``[algorithm] options.variation``): ``"explore"`` (uniform crossover, PM η 1;
    default: with a few trials pymoo's SBX/PM η 20 children stay next to parents that all
    failed, results/outer_baselines_30.md) or ``"pymoo"``. ``initial``: ``"defaults"``
    (default: the first trial is the library's default configuration, ``[algorithm] initial``)
    or ``"none"`` (every first-generation trial drawn at random, as the outer-loop baselines
    draw theirs). ``eval_every``: steps between a trial's evaluations, which the trace shows
    (default 100, or only at a trial's end on a data-driven problem, where an evaluation passes
    over the test split). ``n_eval``: each trial's evaluation preferences, and so the study
    front's size (default 100). ``schedule``: ``"none"`` (every trial trains its share) or
    ``"asha"``: successive halving with continuation by reduction factor ``eta``
    (:func:`search_setup`; rungs in training seconds under a seconds budget), the best trials
    continuing from their own weights while the others stop, every trial kept for the study
    front."""
    from hybridmoo.study import Study
    from hybridmoo.studyfile import VARIATIONS

    if variation not in VARIATIONS:
        raise ConfigError(f"variation = {variation!r} is not allowed; allowed: "
                          f"{', '.join(VARIATIONS)}")
    if initial not in ("defaults", "none"):
        raise ConfigError(f"initial = {initial!r} is not allowed; allowed: defaults, none")
    if eval_every is None:
        eval_every = 10**6 if problem.describe().get("kind") == "data" else 100
    setup = search_setup(problem, budget, seed, pop_size=pop_size, generations=generations,
                         n_prefs=n_prefs, eval_every=eval_every, n_eval=n_eval,
                         schedule=schedule, eta=eta)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        spec = setup.spec
        spec.algorithm_options = {**spec.algorithm_options, "variation": variation}
        if initial == "defaults":  # (and the defaults with an evolutionary start)
            entries = ["defaults"] + ([{"train.evo_start": 0.1}] if evo_applies(problem) else [])
            spec.initial = [spec.space.initial(e, spec.trial_method.default_config(),
                                               "hybridmoo_search", i)
                            for i, e in enumerate(entries[:pop_size])]
        spec.output = Path(tmp) / "search.h5"
        study = Study(spec, backend="local", progress=False)
        if budget.kind == "seconds":  # the study ends in time for its study front
            spec.time_limit = max(budget.amount - setup.reserve - (time.perf_counter() - t0),
                                  1e-3)
        res = study.run()
        segments = None
        if schedule == "asha":  # the rung jobs in the order they finished
            segments = [(ev["trial"], ev["train_time"], ev["steps"], ev["hv"])
                        for ev in res.extra["events"] if ev["event"] in ("rung", "finished")]
        return search_result("hybridmoo_search", setup, problem, seed, res.trials, res.values,
                             t0, spec.output, segments=segments)


def run_search(method: str, setup: SearchSetup, problem, seed: int, ask, tell, *,
               prune=None, extra: Callable[[], dict] | None = None) -> BaselineResult:
    """:func:`run_outer_loop` into a temporary study file, then :func:`search_result`."""
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "search.h5"
        trials, values = run_outer_loop(setup, ask, tell, path, prune=prune)
        return search_result(method, setup, problem, seed, trials, values, t0, path,
                             extra=None if extra is None else extra())
