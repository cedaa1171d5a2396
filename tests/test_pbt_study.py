"""Population-based training inside the multi-fidelity schedule (``[algorithm] inherit =
"pbt"``): children continue a better trial's state with mutated settings, their lineage is
recorded, told to pymoo, exported, and a study killed mid-schedule resumes without loss."""

from __future__ import annotations

import numpy as np
import pytest

from hybridmoo import store
from hybridmoo.analysis import StudyData
from hybridmoo.errors import ConfigError
from hybridmoo.export import export
from hybridmoo.study import Study
from hybridmoo.studyfile import load_study

STUDY = """
[study]
seed = 4
output = "out.h5"
[problem]
name = "zdt1"
options = { n_var = 4 }
[algorithm]
name = "nsga2"
pop_size = 6
generations = 2
schedule = "asha"
min_budget = 10
eta = 3
inherit = "pbt"
[budget]
steps = 90
[resources]
retries = 0
keep_weights = "all"
[fixed.train]
n_eval = 11
eval_every = 5
threads = 1
[search]
"hypernet.width" = { type = "int", low = 4, high = 32, log = true }
"train.lr" = { type = "real", low = 1e-3, high = 3e-2, log = true }
"""
BUDGETS = [10, 30, 90]


def write_study(d, text: str = STUDY):
    d.mkdir(exist_ok=True)
    (d / "s.toml").write_text(text)
    return d / "s.toml"


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    d = tmp_path_factory.mktemp("pbt")
    return Study(write_study(d), backend="local", progress=False).run()


def _children(path) -> dict[int, dict]:
    return {t: a for t, a in store.read_trial_attrs(path).items() if a.get("lineage")}


def test_children_continue_a_better_trial_with_mutated_settings(straight):
    res = straight
    kids = _children(res.path)
    assert len(kids) >= 3
    sched = res.extra["schedule"]
    spec = load_study(res.path.parent / "s.toml")
    for tid, a in kids.items():
        lin = a["lineage"]
        parent, k = lin["parent"], lin["rung"] - 1
        assert lin["step"] == BUDGETS[k]
        # the parent was among the best ⌊n/η⌋ of its rung, the replaced trial completed it too
        assert str(parent) in sched["results"][k] and str(lin["replaces"]) in sched["results"][k]
        assert sched["parents"][str(tid)] == [parent, k, lin["replaces"]]
        # settings: the parent's with the changed values, all inside the search space
        values, pvalues = res.values[tid], res.values[parent]
        assert lin["changed"] and set(lin["changed"]) <= set(values)
        for path, (old, new) in lin["changed"].items():
            assert pvalues[path] == old and values[path] == new != old
        assert {p: v for p, v in values.items() if p not in lin["changed"]} == \
            {p: v for p, v in pvalues.items() if p not in lin["changed"]}
        assert 4 <= values["hypernet.width"] <= 32 and 1e-3 <= values["train.lr"] <= 3e-2
        assert spec.space.encode(values).min() >= 0 and spec.space.encode(values).max() <= 1
        # one record: the parent's trace up to the step taken over, then the child's own
        ptrace = store.read_rung(res.path, parent, k)[0].trace
        child, _ = store.read_rung(res.path, tid, k + 1)
        n = len(ptrace["steps"])
        np.testing.assert_array_equal(child.trace["steps"][:n], ptrace["steps"])
        np.testing.assert_array_equal(child.trace["hv"][:n], ptrace["hv"])
        assert child.trace["steps"][-1] == BUDGETS[k + 1]
        inherited = child.extra["inherited"]  # the record of its first rung
        assert inherited["step"] == BUDGETS[k]
        same_arch = values["hypernet.width"] == pvalues["hypernet.width"]
        assert inherited["optimizer"] is same_arch
        assert (inherited["parameters"][0] == inherited["parameters"][1]) is same_arch


def test_compute_counts_each_step_once(straight):
    """A child's first rung charges only the steps it added to its parent's run."""
    rungs = store.read_rungs(straight.path)
    total = sum(a["rung_train_time"] for a in rungs.values())
    assert total == pytest.approx(straight.extra["train_seconds"])
    for tid, a in _children(straight.path).items():
        k = a["lineage"]["rung"]
        r = rungs[tid, k]
        parent_time = store.read_rung(straight.path, a["lineage"]["parent"], k - 1)[0].train_time
        assert a["lineage"]["train_time_before"] == pytest.approx(parent_time)
        assert 0 < r["rung_train_time"] < store.read_rung(straight.path, tid, k)[0].train_time


def test_children_are_told_to_the_algorithm_and_counted(straight):
    gens = store.read_generations(straight.path)
    kids = _children(straight.path)
    told = [t for g in sorted(gens) for t in gens[g]["trial_ids"]]
    assert sorted(told) == sorted(straight.trials)  # proposed trials and children, once each
    for g, rec in gens.items():
        assert rec["trial_ids"][:6] == list(range(rec["trial_ids"][0], rec["trial_ids"][0] + 6))
        assert {t for t in rec["trial_ids"][6:]} <= set(kids)
        assert all(kids[t]["lineage"]["generation"] == g for t in rec["trial_ids"][6:])
    assert len(straight.trials) == 12 + len(kids)


def test_lineage_is_exported_and_shown(straight, tmp_path, capsys):
    from hybridmoo.cli import main

    kids = _children(straight.path)
    out = export(straight.path, "lineage", "csv", tmp_path / "lin.csv")
    import pandas as pd

    df = pd.read_csv(out)
    assert len(df) == sum(len(a["lineage"]["changed"]) for a in kids.values())
    assert set(df["trial_id"]) == set(kids)
    row = df.iloc[0]
    lin = kids[int(row["trial_id"])]["lineage"]
    assert row["parent"] == lin["parent"] and row["step"] == lin["step"]
    trials = StudyData(straight.path).trials()
    assert set(trials.loc[trials["parent"].notna(), "trial_id"]) == set(kids)
    assert main(["show", str(straight.path)]) == 0
    text = capsys.readouterr().out
    assert f"{len(kids)} children" in text and "--what lineage" in text


def _lineages(path) -> dict[int, dict]:
    """Each child's lineage but its parent's training seconds (they vary run to run)."""
    return {t: {k: v for k, v in a["lineage"].items() if k != "train_time_before"}
            for t, a in _children(path).items()}


@pytest.mark.parametrize("fault", ["journal-commit:20", "main-move:30"])
def test_killed_mid_schedule_resumes(tmp_path, straight, fault, killed_run):
    """kill -9 (os._exit) while a rung result, promotion or child is being recorded; resume
    keeps every rung recorded before, reruns none, and ends as the straight run."""
    path = write_study(tmp_path)
    killed_run(path, fault)
    out = tmp_path / "out.h5"
    store.recover(out)
    before = {key: a["wall_time"] for key, a in store.read_rungs(out).items()}
    assert 0 < len(before) < sum(straight.extra["rung_counts"])
    assert _children(out)  # killed after a child had reported
    res = Study(path, backend="local", progress=False, resume=True).run()
    after = store.read_rungs(out)
    for key, wall in before.items():
        assert after[key]["wall_time"] == wall
    assert sorted(res.trials) == sorted(straight.trials)
    for t in straight.objectives:
        np.testing.assert_allclose(res.objectives[t], straight.objectives[t], rtol=1e-6)
    assert _lineages(out) == _lineages(straight.path)  # the same children, parents, changes
    assert res.front_ids == straight.front_ids


def test_children_with_workers_finishing_out_of_order(tmp_path, out_of_order_backend):
    """Three workers, results arriving last-submitted-first: no more jobs than workers, every
    child continues its parent's state at the rung it took over, and each replaced trial is
    replaced once."""
    study = Study(write_study(tmp_path), backend="local", progress=False)
    fake = out_of_order_backend()
    study._backend = lambda: fake
    res = study.run()
    assert fake.max_running == fake.slots and res.failed == 0
    kids = _children(res.path)
    assert kids
    replaced = [(a["lineage"]["replaces"], a["lineage"]["rung"]) for a in kids.values()]
    assert len(replaced) == len(set(replaced))
    for tid, a in kids.items():
        lin = a["lineage"]
        ptrace = store.read_rung(res.path, lin["parent"], lin["rung"] - 1)[0].trace
        child = store.read_rung(res.path, tid, lin["rung"])[0].trace
        np.testing.assert_array_equal(child["steps"][:len(ptrace["steps"])], ptrace["steps"])


@pytest.mark.parametrize("change, new, match", [
    ('inherit = "pbt"', 'inherit = "pbt2"', "algorithm.inherit = 'pbt2'"),
    ('schedule = "asha"\nmin_budget = 10\neta = 3\n', "", "needs the multi-fidelity|rungs"),
])
def test_bad_inherit_settings_are_refused(change, new, match):
    assert change in STUDY
    with pytest.raises(ConfigError, match=match):
        load_study(text=STUDY.replace(change, new))


def test_inherit_is_off_by_default():
    assert load_study(text=STUDY.replace('inherit = "pbt"\n', "")).inherit == "none"


@pytest.mark.parametrize("algorithm", ["mixed", "moead", "smsemoa"])
def test_other_algorithms_mutate_and_record_children(tmp_path, algorithm):
    """The mixed-variable GA and MOEA/D (polynomial mutation on the encoded space; children
    recorded, not told) and SMS-EMOA (its own mutation; children told) all run with inherit."""
    text = (STUDY.replace('name = "nsga2"', f'name = "{algorithm}"')
            .replace("pop_size = 6", "pop_size = 4").replace("steps = 90", "steps = 40")
            .replace("min_budget = 10\neta = 3", "min_budget = 10\neta = 2"))
    res = Study(write_study(tmp_path, text), backend="local", progress=False).run()
    kids = _children(res.path)
    assert kids and res.failed == 0
    gens = store.read_generations(res.path)
    assert sorted(t for g in gens.values() for t in g["trial_ids"]) == sorted(res.trials)
    for tid, a in kids.items():
        assert a["lineage"]["changed"]
        assert res.values[tid] != res.values[a["lineage"]["parent"]]


@pytest.mark.ray
def test_children_train_on_ray_workers(tmp_path, ray_cluster):
    """The parent's state travels to a Ray worker and the child's result comes back: children
    continue their parent's trace there as in-process."""
    res = Study(write_study(tmp_path / "ray"), backend="ray", progress=False).run()
    kids = _children(res.path)
    assert kids and res.failed == 0
    for tid, a in kids.items():
        lin = a["lineage"]
        ptrace = store.read_rung(res.path, lin["parent"], lin["rung"] - 1)[0].trace
        child = store.read_rung(res.path, tid, lin["rung"])[0]
        n = len(ptrace["steps"])
        np.testing.assert_array_equal(child.trace["steps"][:n], ptrace["steps"])
        assert child.extra["inherited"]["step"] == lin["step"]
