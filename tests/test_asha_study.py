"""Multi-fidelity studies (``[algorithm] schedule = "asha"``): rungs follow η, promoted trials
continue (no restart), every rung/promotion/stop is in the file, and a study killed mid-schedule
resumes without losing or rerunning a finished rung."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import torch

from hybridmoo import journal, store
from hybridmoo.errors import ConfigError
from hybridmoo.scheduler import mo_order
from hybridmoo.study import Study, to_minimised
from hybridmoo.studyfile import load_study
from hybridmoo.train import Trainer

STUDY = """
[study]
seed = 3
output = "out.h5"
[problem]
name = "zdt1"
options = { n_var = 4 }
[algorithm]
name = "nsga2"
pop_size = 9
generations = 2
schedule = "asha"
min_budget = 10
eta = 3
[budget]
steps = 90
[resources]
retries = 0
keep_weights = "all"
[fixed.train]
n_eval = 11
eval_every = 5
threads = 1
lr = 0.01
[search]
"hypernet.width" = { type = "int", low = 4, high = 32, log = true }
"train.grad_clip" = { type = "real", low = 0.01, high = 1.0, log = true }
"""
BUDGETS = [10, 30, 90]


def write_study(d, text: str = STUDY):
    d.mkdir(exist_ok=True)
    (d / "s.toml").write_text(text)
    return d / "s.toml"


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """The study run straight through (local backend)."""
    d = tmp_path_factory.mktemp("asha")
    return Study(write_study(d), backend="local", progress=False).run()


def test_rungs_follow_eta(straight):
    res = straight
    counts = res.extra["rung_counts"]
    assert res.extra["rung_budgets"] == BUDGETS
    assert counts[0] == 18  # every configuration trains the first rung
    sched = res.extra["schedule"]
    for k in range(len(BUDGETS) - 1):
        done = {int(t): v for t, v in sched["results"][k].items()}
        top = mo_order(done)[: len(done) // 3]
        # ASHA's invariant once nothing is running: the best ⌊n/η⌋ of a rung were promoted
        assert set(top) <= {int(t) for t in sched["results"][k + 1]}
        assert len(done) // 3 <= counts[k + 1] < counts[k]
    # every trial's record holds its highest rung's training length
    for tid, r in res.trials.items():
        rung = max(k for k in range(3) if str(tid) in sched["results"][k])
        assert r.steps == BUDGETS[rung]
    assert res.extra["train_seconds"] > 0


def test_rungs_promotions_and_stops_are_recorded(straight):
    res = straight
    counts = res.extra["rung_counts"]
    rungs = store.read_rungs(res.path)
    assert len(rungs) == sum(counts)
    state, events = store.read_schedule(res.path)
    assert state == res.extra["schedule"]
    kinds = [e["event"] for e in events]
    assert kinds.count("rung") + kinds.count("finished") == sum(counts)
    assert kinds.count("promote") == sum(counts[1:])
    assert kinds.count("finished") == counts[-1]
    last = {}  # a trial stopped at one generation's end may be promoted later (ASHA)
    for e in events:
        if e["event"] in ("stop", "promote", "finished"):
            last[e["trial"]] = e["event"]
    stopped = {t for t, kind in last.items() if kind == "stop"}
    # each trial that never reached the top rung ends recorded as stopped
    assert stopped == {t for t in res.trials if res.trials[t].steps < BUDGETS[-1]}
    with h5py.File(res.path) as f:
        assert f.attrs["status"] == "finished"
        assert sorted(f["generations"]) == ["0000", "0001"]
        assert all("state" in g for g in f["asha/rungs"].values()
                   if int(g.attrs["rung"]) < 2)
        assert f["trials"][store.trial_key(0)].attrs["rung"] is not None


def test_promoted_trials_continue(straight):
    """A promoted trial's trace at rung k+1 starts with its trace at rung k, steps strictly
    increase, and its weights at the last rung equal one uninterrupted run to max_budget."""
    res = straight
    rungs = store.read_rungs(res.path)
    top = [t for (t, k) in rungs if k == 2]
    assert top
    for tid in {t for (t, k) in rungs if k >= 1}:
        highest = max(k for (t, k) in rungs if t == tid)
        traces = [store.read_rung(res.path, tid, k)[0].trace for k in range(highest + 1)]
        for lo, hi in zip(traces, traces[1:], strict=False):
            n = len(lo["steps"])
            np.testing.assert_array_equal(hi["steps"][:n], lo["steps"])
            np.testing.assert_array_equal(hi["hv"][:n], lo["hv"])
            assert np.all(np.diff(hi["steps"]) > 0)
            assert np.all(np.diff(hi["seconds"]) > 0)
    tid = top[0]
    final, _ = store.read_rung(res.path, tid, 2, weights=True)
    cfg = load_study(res.path.parent / "s.toml").space.config(res.values[tid])
    train = {**cfg["train"], "steps": 90, "lr_horizon": 90}
    one = Trainer("zdt1", cfg["hypernet"], train, seed=final.seed, problem_options={"n_var": 4})
    one.run()
    for k, v in one.net.state_dict().items():
        assert torch.allclose(v, torch.as_tensor(final.state_dict[k]), atol=1e-6), k


def test_outer_algorithm_told_the_highest_rung(straight):
    res = straight
    gens = store.read_generations(res.path)
    rungs = store.read_rungs(res.path)
    told = dict(zip(gens[1]["trial_ids"], gens[1]["objectives"], strict=True))
    for tid, f in told.items():  # the last generation: nothing was promoted after its tell
        highest = max(k for (t, k) in rungs if t == tid)
        a = rungs[tid, highest]
        assert f[0] == pytest.approx(a["outer_objectives"]["hv"])


@pytest.mark.parametrize("fault", ["journal-commit:14", "main-move:25", "main-close:40"])
def test_killed_mid_schedule_resumes(tmp_path, straight, fault, killed_run):
    """The driver killed (os._exit, as kill -9) while recording a rung result or a promotion;
    ``--resume`` keeps every rung recorded before, reruns none, and ends as the straight run."""
    path = write_study(tmp_path)
    killed_run(path, fault)
    out = tmp_path / "out.h5"
    store.recover(out)
    before = {key: a["wall_time"] for key, a in store.read_rungs(out).items()}
    assert 0 < len(before) < sum(straight.extra["rung_counts"])  # killed mid-schedule
    res = Study(path, backend="local", progress=False, resume=True).run()
    after = store.read_rungs(out)
    for key, wall in before.items():  # kept, not rerun
        assert after[key]["wall_time"] == wall
    assert res.extra["rung_counts"] == straight.extra["rung_counts"]
    assert sorted(res.trials) == sorted(straight.trials)
    for t in straight.objectives:
        np.testing.assert_allclose(res.objectives[t], straight.objectives[t], rtol=1e-6)
        assert res.trials[t].steps == straight.trials[t].steps
    assert res.front_ids == straight.front_ids
    with h5py.File(out) as f:
        assert f.attrs["status"] == "finished"
    assert not journal.journal_dir(out).exists()


def test_resume_refuses_another_schedule(tmp_path, straight):
    path = write_study(tmp_path)
    Study(path, backend="local", progress=False).run()
    store.set_attrs(tmp_path / "out.h5", status="running")
    path.write_text(STUDY.replace("eta = 3", "eta = 2"))
    with pytest.raises(ConfigError, match="schedule"):
        Study(path, backend="local", progress=False, resume=True).run()


@pytest.mark.parametrize("change, new, match", [
    ('schedule = "asha"', 'schedule = "hyperband"', "algorithm.schedule = 'hyperband'"),
    ("min_budget = 10\n", "", "needs min_budget"),
    ("min_budget = 10", "min_budget = 200", "exceeds max_budget"),
    ("eta = 3", "eta = 1", "algorithm.eta"),
    ("steps = 90", "steps = 90\nseconds = 5", "train steps"),
    ("eta = 3", "eta = 3\nmax_budget = 60", "differs from budget.steps"),
    ("eta = 3", 'eta = 3\nwarm_start = "nearest"', "warm_start"),
    ('schedule = "asha"', 'schedule = "none"', "algorithm.min_budget"),
    ("lr = 0.01", "lr = 0.01\nlr_horizon = 50", "lr_horizon"),
    ("lr = 0.01", 'lr = 0.01\ncheckpoint = "best"', "checkpoint"),
])
def test_bad_schedule_settings_are_refused(change, new, match):
    assert change in STUDY
    with pytest.raises(ConfigError, match=match):
        load_study(text=STUDY.replace(change, new))


def test_schedule_none_is_the_default():
    text = STUDY.replace('schedule = "asha"\nmin_budget = 10\neta = 3\n', "")
    spec = load_study(text=text)
    assert spec.schedule == "none" and spec.asha is None
    assert load_study(text=STUDY).asha == {"min_budget": 10, "max_budget": 90, "eta": 3}


def test_to_minimised_is_what_the_scheduler_sees(straight):
    """The scheduler ranks each rung's outer objectives in pymoo's (minimised) view."""
    sched = straight.extra["schedule"]
    rungs = store.read_rungs(straight.path)
    for (tid, k), a in rungs.items():
        obj = np.array([a["outer_objectives"][n] for n in straight.objective_names])
        assert sched["results"][k][str(tid)] == \
            to_minimised(obj, straight.objective_names).tolist()


def test_workers_finishing_out_of_order(tmp_path, straight, out_of_order_backend):
    """Several workers, results arriving out of order: the schedule keeps its invariants, no
    more jobs run than there are workers, and every configuration trains the first rung."""
    study = Study(write_study(tmp_path), backend="local", progress=False)
    fake = out_of_order_backend()
    study._backend = lambda: fake
    res = study.run()
    assert fake.max_running == fake.slots
    counts = res.extra["rung_counts"]
    assert counts[0] == 18
    sched = res.extra["schedule"]
    for k in range(2):
        done = {int(t): v for t, v in sched["results"][k].items()}
        assert set(mo_order(done)[: len(done) // 3]) <= {int(t) for t in sched["results"][k + 1]}
    rungs = store.read_rungs(res.path)
    for (tid, k) in rungs:
        if k:
            lo = store.read_rung(res.path, tid, k - 1)[0].trace["steps"]
            hi = store.read_rung(res.path, tid, k)[0].trace["steps"]
            np.testing.assert_array_equal(hi[: len(lo)], lo)
    # the first generation's rung-0 results do not depend on the order (same seeds, same
    # configurations): they equal the sequential study's
    gen0 = store.read_generations(res.path)[0]["trial_ids"]
    seq = store.read_rungs(straight.path)
    for t in gen0:
        assert rungs[t, 0]["outer_objectives"] == seq[t, 0]["outer_objectives"]


@pytest.mark.ray
def test_asha_study_on_ray_workers(tmp_path, ray_cluster):
    """The schedule on Ray actors: continuation states travel to the workers and back, every
    configuration trains the first rung, promoted trials continue, the invariant holds."""
    res = Study(write_study(tmp_path / "ray"), backend="ray", progress=False).run()
    counts = res.extra["rung_counts"]
    assert counts[0] == 18 and 0 < counts[-1] < counts[0] and res.failed == 0
    sched = res.extra["schedule"]
    for k in range(len(BUDGETS) - 1):
        done = {int(t): v for t, v in sched["results"][k].items()}
        assert set(mo_order(done)[: len(done) // 3]) <= {int(t) for t in
                                                          sched["results"][k + 1]}
    for tid, r in res.trials.items():
        rung = max(k for k in range(3) if str(tid) in sched["results"][k])
        assert r.steps == BUDGETS[rung] and r.trace["steps"][-1] == BUDGETS[rung]
