"""hybridmoo's own outer + inner search as a method of ``hybridmoo compare``.

``hybridmoo_search`` runs a small study in-process under the compare budget: NSGA-II over the
hypernetwork width, the learning rate, the scalarisation and the Dirichlet α (the choices the
inner loop is most sensitive to, see results/outer_vs_default.md), ``pop_size`` trials per
generation for ``generations`` generations, the budget split evenly among the trials (seconds
or steps; an evaluations budget counts K preferences per step; with a seconds budget each trial
trains for 80% of its share of the budget less 5% kept for the study front, the rest covering
evaluation and set-up). Every
trial keeps its weights, and the result is the **study front**
(:meth:`hybridmoo.analysis.StudyData.study_front`): as many points as a trial's evaluation
front (``n_eval``, 100 by default), chosen by greedy hypervolume contribution from every
trial's hypernetwork queried densely, so its HV is at least the best trial's. Its trace is the
best trial HV so far against the budget spent so far, then one last point, the study front's
HV, at the time spent once it is built: the search's cost, the study front's included, is
charged in full (``budget_used["seconds"]`` is the wall time of the whole method).
"""

from __future__ import annotations

import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

from hybridmoo.baselines.common import BaselineResult, Budget, register

__all__ = ["hybridmoo_search"]

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
[budget]
{budget}
[resources]
retries = 0
keep_weights = "all"
[fixed.train]
n_prefs = {k}
threads = 1
eval_every = {eval_every}
grad_clip = 1.0
[search]
"hypernet.width" = {{ type = "int", low = 16, high = 256, log = true }}
"train.lr" = {{ type = "real", low = 1e-3, high = 1e-2, log = true }}
"train.sampler.alpha" = {{ type = "real", low = 0.2, high = 2.0, log = true }}
"train.scalarization.name" = {{ type = "choice", values = [
    "tchebycheff", "smooth_tchebycheff", "inverse_tchebycheff"] }}
"""


def _toml_inline(d: dict) -> str:
    def val(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return f'"{v}"'
        return repr(v)

    return "{ " + ", ".join(f"{k} = {val(v)}" for k, v in d.items()) + " }"


@register("hybridmoo_search", "hybridmoo",
          "this library: pymoo NSGA-II over Pareto-set-learning configurations")
def hybridmoo_search(problem, budget: Budget, seed: int, *, pop_size: int = 4,
                     generations: int = 2, n_prefs: int = 8) -> BaselineResult:
    """Outer + inner search under ``budget`` (see the module docstring)."""
    from hybridmoo.study import Study
    from hybridmoo.studyfile import load_study

    n = pop_size * generations
    if budget.kind == "seconds":
        # 5% is kept for the study front; 80% of an even share of the rest goes to training:
        # evaluation and set-up take the other 20%
        per = f"seconds = {0.8 * 0.95 * budget.amount / n!r}\nsteps = 1000000"
    elif budget.kind == "steps":
        per = f"steps = {max(1, int(budget.amount // n))}"
    else:
        per = f"steps = {max(1, int(budget.amount // (n * n_prefs)))}"
    desc = problem.describe()
    text = textwrap.dedent(_STUDY.format(seed=seed, problem=desc["name"],
                                         options=_toml_inline(desc.get("options", {})),
                                         pop=pop_size, gens=generations, budget=per, k=n_prefs,
                                         eval_every=10**6))  # evaluate at the end only
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        spec = load_study(text=text)
        spec.output = Path(tmp) / "search.h5"
        res = Study(spec, backend="local", progress=False).run()
        ok = [t for t, r in res.trials.items() if r.ok]
        sf = None
        if ok:  # the study front, built (and timed) within the method's budget
            from hybridmoo.analysis import StudyData

            t_sf = time.perf_counter()
            sf = StudyData(spec.output).study_front()
            sf_seconds = time.perf_counter() - t_sf
    params = {"pop_size": pop_size, "generations": generations, "n_prefs": n_prefs}
    if not ok:
        first = next(iter(res.trials.values()))
        return BaselineResult.failed(f"every trial failed; first: {first.error}",
                                     method="hybridmoo_search", problem=desc, seed=seed,
                                     n_obj=problem.n_obj, params=params)
    # trace: best HV so far against the cumulative cost of the trials, in id order
    secs, steps, evals, hvs = [], [], [], []
    spent_s = spent_steps = 0.0
    best = -np.inf
    for t in sorted(res.trials):
        r = res.trials[t]
        spent_s += r.train_time
        spent_steps += r.steps
        if r.ok:
            best = max(best, r.hv)
        secs.append(spent_s)
        steps.append(spent_steps)
        evals.append(spent_steps * n_prefs)
        hvs.append(best if np.isfinite(best) else 0.0)
    # the study front's point: its HV once it is built, its building time charged
    secs.append(spent_s + sf_seconds)
    steps.append(spent_steps)
    evals.append(spent_steps * n_prefs)
    hvs.append(sf.hv)
    top = max(ok, key=lambda t: res.trials[t].hv)
    used_s = time.perf_counter() - t0
    return BaselineResult(
        method="hybridmoo_search", params=params, problem=desc, seed=seed, status="ok", error="",
        F=sf.F, X=sf.X, prefs=sf.prefs,
        trace={"seconds": np.array(secs), "evaluations": np.array(evals),
               "steps": np.array(steps), "hv": np.array(hvs),
               "igd": np.full(len(hvs), np.nan)},
        budget_used={"seconds": used_s, "steps": spent_steps,
                     "evaluations": spent_steps * n_prefs},
        hv=float(sf.hv), ref_point=np.asarray(sf.ref_point, dtype=np.float64),
        extra={"best_trial": top, "best_values": res.values[top],
               "best_trial_hv": float(res.trials[top].hv),
               "study_front": {"seconds": sf_seconds, "points": len(sf), "density": sf.density,
                               "trials": [int(t) for t in sorted(set(sf.trial_ids.tolist()))],
                               "kept_trials": len(sf.trials), "source": sf.source,
                               "trial_ids": sf.trial_ids.tolist()}})
