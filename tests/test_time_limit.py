"""A study's wall-clock time limit (``[study] time_limit``): trial shares, the stop, the file."""

from __future__ import annotations

import time
from collections import deque
from types import SimpleNamespace

import h5py
import numpy as np
import pytest

from hybridmoo.errors import ConfigError
from hybridmoo.study import Study
from hybridmoo.studyfile import load_study
from tests.test_study import study_text


def _spec(tmp_path, *, budget="steps = 30", pop=4, gens=2, extra=""):
    text = study_text(b=("steps = 30", budget), p=("pop_size = 4", f"pop_size = {pop}"),
                      g=("generations = 2", f"generations = {gens}"),
                      s=('output = "out.h5"', f'output = "out.h5"\n{extra}'))
    (tmp_path / "s.toml").write_text(text)
    return load_study(tmp_path / "s.toml")


def _study(tmp_path, left: float, waiting: int, finished: list[tuple[float, float]], **kw):
    """A Study mid-run (generation 0): ``left`` seconds to its deadline, ``waiting`` trials of
    this generation not started, ``finished``: (wall, train) seconds of the trials run."""
    st = Study.__new__(Study)
    st.spec = _spec(tmp_path, extra="time_limit = 100", **kw)
    st._deadline = time.perf_counter() + left
    st._waiting = deque(range(waiting))
    st._trials = {i: SimpleNamespace(result=SimpleNamespace(wall_time=w, train_time=t),
                                     replayed=False) for i, (w, t) in enumerate(finished)}
    return st


def test_the_first_trial_gets_its_budget_when_its_share_is_larger(tmp_path):
    st = _study(tmp_path, left=100.0, waiting=4, finished=[], budget="seconds = 10", gens=2)
    # 8 trials left, 1 worker: 12.5 s each, more than the trial's 10 s
    assert st._time_share(0, slots=1) == pytest.approx(10.0)


def test_a_trial_gets_its_fair_share_less_the_overhead_finished_trials_took(tmp_path):
    # 40 s for 4 trials, 1 s of set-up and evaluation each (the first trial's one-off start
    # is left out): 9 s of training, below 10
    st = _study(tmp_path, left=40.0, waiting=4, finished=[(15.0, 10.0), (11.0, 10.0)],
                budget="seconds = 10", gens=1)
    assert st._time_share(0, slots=1) == pytest.approx(9.0, abs=1e-3)
    # two workers share the time left: each of the 4 trials may take 20 s, so the full 10
    assert st._time_share(0, slots=2) == pytest.approx(10.0)


def test_a_trial_is_never_cut_below_half_its_budget_and_does_not_start_when_that_does_not_fit(
        tmp_path):
    st = _study(tmp_path, left=12.0, waiting=4, finished=[(16.0, 10.0)] * 2,
                budget="seconds = 10", gens=1)
    # fair share 12/4 - 6 < 5; 6 s of set-up is too much for 4 trials in 12 s: one trial takes
    # the time left, 12 - 6
    assert st._time_share(0, slots=1) == pytest.approx(6.0, abs=1e-3)
    st._deadline = time.perf_counter() + 10.0  # half the budget + 6 > 10: no further trial
    assert st._time_share(0, slots=1) is None


def test_a_dominating_set_up_makes_fewer_longer_trials():
    from hybridmoo.study.timelimit import MAX_OVERHEAD, trial_time_share

    # 6 s of set-up and evaluation per trial, 30 s for 4 trials of 10 s: an even split would
    # train 1.5 s each (80% overhead); at most a third overhead leaves room for 30 / 18 -> 1
    # trial, which takes the budgets of the 3 that do not start
    ran = [(16.0, 10.0)] * 2
    assert MAX_OVERHEAD == pytest.approx(1 / 3)
    assert trial_time_share(30.0, 4, 1, ran, 10.0) == pytest.approx(30.0 - 6.0)
    # 40 s: 2 trials of 20 s, 14 s of training each
    assert trial_time_share(40.0, 4, 1, ran, 10.0) == pytest.approx(14.0)
    # never more than the budgets of the trials it stands for
    assert trial_time_share(40.0, 4, 1, ran, 5.0) == pytest.approx(10.0)
    # a cheap set-up leaves the even split
    assert trial_time_share(40.0, 4, 1, [(10.5, 10.0)] * 2, 10.0) == pytest.approx(9.5)
    # a first trial's set-up alone (partly one-off: imports, caches) does not merge trials
    assert trial_time_share(40.0, 4, 1, ran[:1], 10.0) == pytest.approx(5.0)


def test_a_steps_budget_starts_a_trial_only_if_one_like_the_last_fits(tmp_path):
    st = _study(tmp_path, left=5.0, waiting=2, finished=[(9.0, 2.5), (3.0, 2.5), (4.0, 3.5)])
    assert st._time_share(0, slots=1) == pytest.approx(5.0 - 0.5, abs=1e-3)  # capped at the end
    st._deadline = time.perf_counter() + 3.0  # the median trial after the first took 3.5 s
    assert st._time_share(0, slots=1) is None


def test_a_time_limited_study_stops_in_time_and_keeps_what_it_ran(tmp_path):
    spec = _spec(tmp_path, budget="seconds = 0.3\nsteps = 1000000", gens=8,
                 extra="time_limit = 4")
    res = Study(spec, backend="local", progress=False).run()
    n = len(res.trials)
    assert 0 < n < spec.n_trials
    assert "time limit (4 s) reached" in res.extra["stopped"]
    assert res.wall_time < 4 + 1.0
    # every trial trained at most its budget (a step's length over), at least half of it
    assert all(0.1 <= r.train_time <= 0.4 for r in res.trials.values()), [
        (r.train_time, r.wall_time, r.steps) for r in res.trials.values()]
    with h5py.File(spec.output, "r") as f:
        assert f.attrs["status"] == "finished"
        assert "reached" in str(f.attrs["stopped"])
        assert len(f["trials"]) == n
        front = set(f["outer_front"]["trial_ids"][()].tolist())
    assert front == set(res.front_ids) and front <= set(res.trials)


def test_a_workers_first_trial_stands_alone_only_while_no_other_has_run(tmp_path):
    st = _study(tmp_path, left=40.0, waiting=4, finished=[(15.0, 10.0)], budget="seconds = 10",
                gens=1)
    assert st._time_share(0, slots=1) == pytest.approx(5.0, abs=1e-3)  # 40/4 - 5 s overhead


def test_a_study_within_its_limit_runs_every_trial(tmp_path):
    spec = _spec(tmp_path, extra="time_limit = 600")
    res = Study(spec, backend="local", progress=False).run()
    assert len(res.trials) == spec.n_trials and res.extra["stopped"] == ""


@pytest.mark.parametrize(("line", "match"), [
    ("time_limit = 0", r"study.time_limit = 0 is invalid"),
    ('time_limit = "1h"', r"study.time_limit = .1h. is invalid"),
])
def test_bad_time_limits_are_refused(tmp_path, line, match):
    with pytest.raises(ConfigError, match=match):
        _spec(tmp_path, extra=line)


def test_hybridmoo_search_runs_its_study_within_the_compare_budget(monkeypatch):
    from hybridmoo import problems
    from hybridmoo.baselines.common import Budget
    from hybridmoo.baselines.search import hybridmoo_search

    seen = []

    def fake_run(self):
        seen.append(self.spec.time_limit)
        raise RuntimeError("stop here")

    monkeypatch.setattr(Study, "run", fake_run)
    prob = problems.get("zdt1", n_var=4)
    for budget in (Budget("seconds", 20.0), Budget("steps", 100)):
        with pytest.raises(RuntimeError, match="stop here"):
            hybridmoo_search(prob, budget, seed=0)
    # the budget less the study front's reserve (5–25 % of it, estimated from this machine's
    # hypervolume timings) and the set-up's second or so
    assert 0.75 * 20 - 1.0 < seen[0] <= 0.95 * 20 and seen[1] is None


def test_the_cli_time_limit_stops_a_study_and_resume_runs_the_rest(tmp_path, capsys):
    from hybridmoo.cli import main

    text = study_text(b=("steps = 30", "seconds = 0.3\nsteps = 1000000"),
                      g=("generations = 2", "generations = 6"))
    (tmp_path / "s.toml").write_text(text)
    out = tmp_path / "out.h5"
    assert main(["run", str(tmp_path / "s.toml"), "--backend", "local", "-q",
                 "--time-limit", "2.5"]) == 0
    printed = capsys.readouterr().out
    assert "time limit (2.5 s) reached" in printed and f"hybridmoo resume {out}" in printed
    with h5py.File(out, "r") as f:
        first = len(f["trials"])
    assert 0 < first < 24
    # resumed without a limit: the finished trials are kept and the rest run
    assert main(["resume", str(out), "--backend", "local", "-q"]) == 0
    with h5py.File(out, "r") as f:
        assert len(f["trials"]) == 24 and str(f.attrs["stopped"]) == ""


def test_outer_loop_baselines_keep_to_the_wall_clock_of_a_seconds_budget(monkeypatch, tmp_path):
    """Trials whose set-up and evaluation take most of their share: the search shortens the
    next ones (to at least half their share) and starts none that would not end before the
    study front's reserve."""
    import hybridmoo.baselines.search as search
    from hybridmoo import problems
    from hybridmoo.baselines.common import Budget

    real = search._train

    def slow_setup(payload, cache, prune):  # 0.8 s of set-up per trial
        time.sleep(0.8)
        r, pruned = real(payload, cache, prune)
        r.wall_time += 0.8
        return r, pruned

    monkeypatch.setattr(search, "_train", slow_setup)
    setup = search.search_setup(problems.get("zdt1", n_var=4), Budget("seconds", 4.0), 0,
                                pop_size=2, generations=2)  # 4 trials
    share = setup.per_trial  # (4 s less the study front's reserve) / 4
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    trials, _ = search.run_outer_loop(
        setup, lambda t: setup.spec.space.values(rng.random(setup.spec.space.n_var)),
        lambda *a: None, tmp_path / "s.h5")
    assert time.perf_counter() - t0 < 4.0 - setup.reserve + 0.5
    steps = [r.train_time for r in trials.values()]
    assert 1 <= len(trials) < 4
    # its share, less what its hv_subset front's query is expected to take
    assert share / 2 <= steps[0] <= share + 0.1
    # never cut below half a share (less the hv_subset query's estimate, which the trainer
    # keeps back from its cap and may overestimate)
    assert all(s >= share / 4 for s in steps)


def test_with_several_workers_trials_go_out_one_per_free_worker(tmp_path, out_of_order_backend):
    """Under a time limit no more trials are submitted than there are workers (each gets its
    share when it starts); without one the whole generation is submitted at once."""
    spec = _spec(tmp_path, budget="seconds = 0.2\nsteps = 1000000", pop=6, gens=2,
                 extra="time_limit = 600")
    study = Study(spec, backend="local", progress=False)
    fake = out_of_order_backend()
    study._backend = lambda: fake
    res = study.run()
    assert fake.max_running == fake.slots and len(res.trials) == 12
    spec = _spec(tmp_path, budget="seconds = 0.2\nsteps = 1000000", pop=6, gens=1)
    spec.output = tmp_path / "plain.h5"
    study = Study(spec, backend="local", progress=False)
    fake = out_of_order_backend()
    study._backend = lambda: fake
    study.run()
    assert fake.max_running == 6


def test_a_trials_share_replaces_its_seconds_budget_even_when_larger(tmp_path):
    """Where the study merges the budgets of trials that will not start, a trial trains longer
    than its own budget: the share is set, not only capped."""
    spec = _spec(tmp_path, budget="seconds = 2\nsteps = 1000000")
    payload = {"train": {"seconds": 2.0, "steps": 1000000}}
    assert spec.trial_method.cap_seconds(payload, 5.0)["train"]["seconds"] == 5.0
    assert spec.trial_method.cap_seconds(payload, 1.0)["train"]["seconds"] == 1.0
    assert payload["train"]["seconds"] == 2.0  # (a new payload)
