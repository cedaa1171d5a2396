"""Multi-fidelity studies with rungs in training seconds, under a time limit, and as
``hybridmoo_search(schedule="asha")``: rungs are seconds, promoted trials continue their own run
(a warm restart of the cosine schedule), the time limit ends the schedule, the search's trace
follows the rung jobs."""

from __future__ import annotations

import math

import h5py
import numpy as np
import pytest

from hybridmoo import store
from hybridmoo.errors import ConfigError
from hybridmoo.study import Study
from hybridmoo.studyfile import load_study
from hybridmoo.train import Trainer
from tests.test_asha_study import STUDY, write_study

SECONDS = (STUDY.replace("steps = 90", "seconds = 0.8")
           .replace("min_budget = 10", "min_budget = 0.2")
           .replace("eta = 3", "eta = 2")
           .replace("pop_size = 9", "pop_size = 4"))
BUDGETS = [0.2, 0.4, 0.8]


def test_seconds_rungs_parse_as_floats():
    spec = load_study(text=SECONDS)
    assert spec.asha == {"min_budget": 0.2, "max_budget": 0.8, "eta": 2, "unit": "seconds"}
    assert spec.budget == {"seconds": 0.8}
    # a fixed lr_horizon (steps) is the user's to set when rungs are seconds
    load_study(text=SECONDS.replace("lr = 0.01", "lr = 0.01\nlr_horizon = 500"))


@pytest.mark.parametrize("change, new, match", [
    ("min_budget = 0.2", "min_budget = 2.0", "exceeds max_budget = 0.8 train seconds"),
    ("eta = 2", "eta = 2\nmax_budget = 0.5", "differs from budget.seconds"),
    ("min_budget = 0.2", "min_budget = 0", "algorithm.min_budget = 0 is invalid"),
    ("seconds = 0.8", "seconds = 0.8\nsteps = 90", "seconds only"),
])
def test_bad_seconds_rungs_are_refused(change, new, match):
    assert change in SECONDS
    with pytest.raises(ConfigError, match=match):
        load_study(text=SECONDS.replace(change, new))


@pytest.fixture(scope="module")
def seconds_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("asha_seconds")
    return Study(write_study(d, SECONDS), backend="local", progress=False).run()


def test_seconds_rungs_continue_the_promoted_trials(seconds_run):
    res = seconds_run
    assert res.extra["rung_budgets"] == pytest.approx(BUDGETS)
    rungs = store.read_rungs(res.path)
    promoted = {t for (t, k) in rungs if k >= 1}
    assert promoted, "no trial was promoted"
    for tid in promoted:
        highest = max(k for (t, k) in rungs if t == tid)
        results = [store.read_rung(res.path, tid, k)[0] for k in range(highest + 1)]
        for lo, hi in zip(results, results[1:], strict=False):
            # the same run, longer: its trace starts with the lower rung's, steps go on
            n = len(lo.trace["steps"])
            np.testing.assert_array_equal(hi.trace["steps"][:n], lo.trace["steps"])
            assert hi.steps > lo.steps and hi.train_time > lo.train_time
    with h5py.File(res.path) as f:
        budgets = sorted({float(g.attrs["budget"]) for g in f["asha/rungs"].values()})
    assert budgets == pytest.approx(BUDGETS[:len(budgets)])
    events = [e for e in res.extra["events"] if e["event"] in ("rung", "finished")]
    assert all(e["train_time"] > 0 and e["steps"] > 0 for e in events)


def test_a_cosine_run_restarts_under_a_larger_seconds_budget_only_when_asked():
    train = {"steps": None, "seconds": 0.1, "n_eval": 5, "eval_every": 10**6, "threads": 1}
    first = Trainer("zdt1", {"width": 8}, train, seed=1, problem_options={"n_var": 3})
    first.run()
    state = first.save_state()
    longer = {**train, "seconds": 0.2}
    with pytest.raises(ConfigError, match="changed budget"):
        Trainer("zdt1", {"width": 8}, longer, seed=1, problem_options={"n_var": 3},
                resume_state=state)
    t = Trainer("zdt1", {"width": 8}, longer, seed=1, problem_options={"n_var": 3},
                resume_state=state, lr_restart=True)
    assert t.step_count == first.step_count
    # the warm restart: the learning rate rises to where the larger budget puts the run
    t._anneal()
    p = t.progress()
    assert 0 < p < 1
    lr = 0.5 * t.cfg.lr * (1 + math.cos(math.pi * p))
    assert t.opt.param_groups[0]["lr"] == pytest.approx(lr)
    r = t.run()
    assert r.ok and r.steps > first.step_count and r.train_time > first.train_time


def test_a_time_limit_ends_the_multi_fidelity_schedule(tmp_path):
    text = SECONDS.replace('output = "out.h5"', 'output = "out.h5"\ntime_limit = 0.5')
    res = Study(write_study(tmp_path, text), backend="local", progress=False).run()
    with h5py.File(res.path) as f:
        stopped = f.attrs.get("stopped", "")
        n_gen = len(f["generations"]) if "generations" in f else 0
    assert "time limit (0.5 s) reached" in stopped
    assert n_gen < 2  # the interrupted generation is not told to pymoo
    assert res.trials  # what finished is kept
    # no trial trained past the deadline's cap: a rung job is capped at the time left
    assert all(r.train_time < 0.8 for r in res.trials.values())


def test_a_time_limit_is_accepted_with_the_multi_fidelity_schedule():
    spec = load_study(text=SECONDS.replace('output = "out.h5"',
                                           'output = "out.h5"\ntime_limit = 60'))
    assert spec.time_limit == 60.0 and spec.schedule == "asha"


@pytest.mark.parametrize("n, eta, rungs, units", [
    (8, 2, 4, 8 * 1 + 4 * 1 + 2 * 2 + 1 * 4),  # rungs s, 2s, 4s, 8s
    (8, 3, 2, 8 * 1 + 2 * 2),  # s, 3s: ⌊8/3⌋ = 2 continue
    (6, 2, 3, 6 * 1 + 3 * 1 + 1 * 2),
    (1, 2, 1, 1),
])
def test_asha_units_count_every_rungs_training(n, eta, rungs, units):
    from hybridmoo.baselines.search import asha_units

    assert asha_units(n, eta) == (rungs, units)


def test_search_with_the_schedule_fits_its_rungs_in_the_budget():
    from hybridmoo import problems
    from hybridmoo.baselines.common import Budget
    from hybridmoo.baselines.search import asha_units, search_setup

    setup = search_setup(problems.get("zdt1"), Budget("seconds", 60), 0, schedule="asha",
                         eta=2)
    a = setup.spec.asha
    rungs, units = asha_units(setup.n_trials, 2)
    # every rung's training, the reserve kept back, is the budget
    assert a["min_budget"] * units == pytest.approx(60 - setup.reserve)
    assert a["max_budget"] == pytest.approx(a["min_budget"] * 2 ** (rungs - 1))
    steps = search_setup(problems.get("zdt1"), Budget("steps", 800), 0, schedule="asha", eta=2)
    assert steps.spec.asha["min_budget"] == 800 // 20 and steps.spec.budget == {"steps": 320}
    with pytest.raises(ConfigError, match="schedule = 'hyperband' is not allowed"):
        search_setup(problems.get("zdt1"), Budget("seconds", 60), 0, schedule="hyperband")


def test_hybridmoo_search_with_the_schedule(monkeypatch):
    from hybridmoo import problems
    from hybridmoo.baselines.common import Budget
    from hybridmoo.baselines.search import hybridmoo_search

    res = hybridmoo_search(problems.get("zdt1", n_var=4), Budget("seconds", 6.0), 0,
                           schedule="asha", pop_size=2, n_eval=10)
    assert res.status == "ok", res.error
    assert res.params["schedule"] == "asha"
    tr = res.trace
    assert np.all(np.diff(tr["seconds"]) >= 0) and np.all(np.diff(tr["steps"]) >= 0)
    assert np.all(np.diff(tr["hv"][:-1]) >= 0)  # best so far, then the study front
    assert res.hv >= res.extra["best_trial_hv"] - 1e-12
    # the trace counts each trial's training once, however many rungs it ran
    total = sum(res.extra["trial_steps"])
    assert tr["steps"][-1] == pytest.approx(total)
