"""DYMU in the outer loop: study files with ``method = "dymu"``, the resource objectives, the
stored controllers and prediction at any resource preference."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
import torch

from hybridmoo import load, metrics
from hybridmoo.cli import main
from hybridmoo.dymu import tree_cost
from hybridmoo.errors import ConfigError, StoreError
from hybridmoo.study import Study, outer_objectives
from hybridmoo.studyfile import load_study

DYMU = textwrap.dedent("""
    [study]
    name = "dymu"
    seed = 3
    method = "dymu"
    output = "out.h5"

    [problem]
    name = "mtl_regression"
    options = { n_tasks = 3, in_dim = 8, n_train = 256, n_test = 128 }

    [objectives]
    names = ["hv", "cost", "flops", "uniformity"]

    [algorithm]
    name = "nsga2"
    pop_size = 4
    generations = 2

    [budget]
    steps = 60

    [resources]
    retries = 0
    keep_weights = "all"

    [fixed.dymu]
    widths = [8, 8]
    head_hidden = 8
    batch_size = 32
    rsa_images = 16
    n_eval = 6
    threads = 1

    [search]
    "dymu.c" = { type = "real", low = 0.0, high = 1.0 }
    "dymu.lambda_active" = { type = "real", low = 0.05, high = 2.0, log = true }
""")


def dymu_text(*pairs: tuple[str, str]) -> str:
    text = DYMU
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="module")
def dymu_study(tmp_path_factory):
    """One small DYMU study on the local backend, shared by the tests below."""
    d = tmp_path_factory.mktemp("dymu")
    (d / "s.toml").write_text(DYMU)
    res = Study(d / "s.toml", backend="local", progress=False).run()
    return res, d / "out.h5"


def test_dymu_study_runs_and_records_controllers(dymu_study):
    res, path = dymu_study
    assert len(res.trials) == 8 and res.failed == 0
    data = load(path)
    for tid in data.trial_ids():
        r = data.trial(tid)
        assert r.method == "dymu" and r.state_dict
        assert r.train["c"] == pytest.approx(res.values[tid]["dymu.c"])
        assert r.hypernet["lambda_active"] == pytest.approx(res.values[tid]["dymu.lambda_active"])
        # the budget of 60 steps is split 0.4 / 0.4 / 0.2 (the anchor share over 3 streams)
        assert r.extra["stage_steps"] == {"anchor": 3 * 8, "edge": 24, "weight": 12}
        np.testing.assert_array_equal(r.trace["samples"], r.trace["steps"] * 32)
        assert r.F.shape == (6, 3) and np.allclose(r.prefs.sum(1), 1)  # n_eval = 6


def test_resource_objectives_are_measured_at_the_trials_c(dymu_study):
    """cost, flops and uniformity are recomputed from the rebuilt controller at the trial's c."""
    res, path = dymu_study
    data = load(path)
    names = ["hv", "cost", "flops", "uniformity"]
    for tid in (0, 5):
        r = data.trial(tid)
        model, tensors = data.dymu(tid)
        parents = model.tree(r.prefs, r.train["c"])
        cost = tree_cost(parents, model.anchor.node_params()).numpy()
        flops = model.flops(parents).numpy()  # AnchorNet.node_flops is checked by hand elsewhere
        full = model.flops(torch.arange(3).expand(1, 2, 3))[0].item()  # every node
        assert ((flops < full) | (cost == 1)).all() and (flops <= full).all()
        want = [r.hv, cost.mean(), float(np.mean(flops)),
                metrics.uniformity(np.maximum(r.F, 1e-12), r.prefs).mean()]
        got = outer_objectives(r, names)
        np.testing.assert_allclose(got, want, rtol=1e-9)
        np.testing.assert_allclose(res.objectives[tid], want, rtol=1e-9)
        assert 0 < got[1] <= 1
        # the stored front is the rebuilt controller's front at c
        ev = model.evaluate(tensors, r.prefs, r.train["c"])
        np.testing.assert_allclose(ev.F, r.F, rtol=1e-5)


def test_predict_at_any_resource_preference(dymu_study, capsys):
    _, path = dymu_study
    data = load(path)
    model, _ = data.dymu(2)
    for c in (0.0, 1.0):
        out = data.predict(2, [0.2, 0.3, 0.5], c=c)
        tree = model.tree([0.2, 0.3, 0.5], c)[0]
        assert out["c"] == c and np.array_equal(out["tree"], tree.numpy())
        assert out["cost"] == pytest.approx(
            float(tree_cost(tree, model.anchor.node_params())))
        assert out["objectives"].shape == (3,) and out["flops"] > 0
    assert data.predict(2, [0.2, 0.3, 0.5])["c"] == data.trial(2).train["c"]
    with pytest.raises(ConfigError, match=r"c = 1.5 is invalid"):
        data.predict(2, [0.2, 0.3, 0.5], c=1.5)
    with pytest.raises(Exception, match="sum to 1"):
        data.predict(2, [0.2, 0.3, 0.6])
    with pytest.raises(StoreError, match="DYMU controller, not a hypernetwork"):
        data.hypernetwork(2)
    assert main(["predict", str(path), "--trial", "2", "-p", "0.2,0.3,0.5", "--c", "1"]) == 0
    printed = capsys.readouterr().out
    assert "resource preference c = 1" in printed and "tree" in printed and "FLOPs" in printed
    assert main(["predict", str(path), "--trial", "2", "-p", "0.2,0.3,0.5", "--save",
                 "x.pt"]) != 0
    assert "is a DYMU controller" in capsys.readouterr().err


def test_epochs_and_seconds_budgets(tmp_path):
    """epochs count passes over the training set; seconds cap every stage at its share."""
    from hybridmoo import problems
    from hybridmoo.methods.dymu import run_dymu_trial

    p = problems.get("mtl_regression", n_tasks=2, in_dim=8, n_train=128, n_test=64)
    cfg = {"widths": [8], "head_hidden": 8, "batch_size": 32, "rsa_images": 16, "n_eval": 4,
           "c": 1.0, "stage_fractions": [0.5, 0.25, 0.25]}
    r = run_dymu_trial(p, cfg, {"epochs": 2}, seed=0)  # 2 × 128 / 32 = 8 steps
    assert r.ok and r.extra["stage_steps"] == {"anchor": 2 * 2, "edge": 2, "weight": 2}
    r = run_dymu_trial(p, cfg, {"seconds": 0.3}, seed=0)
    assert r.ok and r.train_time < 3.0
    assert r.hypernet["stage_seconds"] == pytest.approx([0.15, 0.075, 0.075])


@pytest.mark.parametrize(("pairs", "match"), [
    ([('method = "dymu"', 'method = "dymo"')], r"study.method = 'dymo' is not allowed"),
    ([('method = "dymu"\n', "")], r"'cost' measures the trees of a DYMU controller"),
    ([("[fixed.dymu]", "[fixed.train]\nlr = 0.01\n[fixed.dymu]")],
     r"\[fixed.train\] configures hypernetwork trials"),
    ([("[fixed.dymu]\n", "[fixed.dymu]\nedge_steps = 10\n")],
     r"fixed.dymu.edge_steps: a DYMU trial's stage lengths come from \[budget\]"),
    ([('"dymu.c"', '"hypernet.width"')], r"search.hypernet.width: a DYMU study searches"),
    ([('"dymu.c" = { type = "real", low = 0.0, high = 1.0 }',
       '"dymu.c" = { type = "real", low = 0.0, high = 2.0 }')], r"dymu.c = 2.0 is invalid"),
    ([("widths = [8, 8]", "widths = [8, 8]\nstage_fractions = [1, 0]")],
     r"dymu.stage_fractions = \[1, 0\] is invalid"),
    ([("widths = [8, 8]", "widths = [8, 8]\nlambda_actve = 1.0")], r"lambda_actve"),
    ([('name = "mtl_regression"\noptions = { n_tasks = 3, in_dim = 8, n_train = 256, '
       'n_test = 128 }', 'name = "zdt1"')], r"DYMU needs a multi-task problem"),
    ([('generations = 2', 'generations = 2\nwarm_start = "nearest"')],
     r"a DYMU study .* starts every trial afresh"),
    ([("retries = 0", "retries = 0\ngpus_per_trial = 1")], r"DYMU trials train on the CPU"),
])
def test_dymu_study_file_errors(pairs, match):
    with pytest.raises(ConfigError, match=match):
        load_study(text=dymu_text(*pairs))


def test_dymu_table_in_a_hypernetwork_study_is_an_error():
    text = dymu_text(('method = "dymu"\n', ""), ('names = ["hv", "cost", "flops", "uniformity"]',
                                                'names = ["hv"]'))
    with pytest.raises(ConfigError, match=r'\[fixed.dymu\] configures DYMU trials'):
        load_study(text=text)


def test_default_objectives_of_a_dymu_study_are_hv_and_cost():
    spec = load_study(text=dymu_text(('names = ["hv", "cost", "flops", "uniformity"]\n', "")))
    assert spec.objectives == ["hv", "cost"] and spec.method == "dymu"


def test_a_dymu_study_resumes_and_extends(tmp_path):
    """A DYMU study extended by a generation replays the recorded trials (same outer
    algorithm state) and reaches the outer objectives of a study that ran straight through."""
    one = dymu_text(("generations = 2", "generations = 1"), ('output = "out.h5"',
                                                            'output = "ext.h5"'))
    (tmp_path / "a.toml").write_text(one)
    Study(tmp_path / "a.toml", backend="local", progress=False).run()
    (tmp_path / "a.toml").write_text(one.replace("generations = 1", "generations = 2"))
    ext = Study(tmp_path / "a.toml", backend="local", progress=False, resume=True).run()
    (tmp_path / "b.toml").write_text(DYMU)
    straight = Study(tmp_path / "b.toml", backend="local", progress=False).run()
    assert sorted(ext.objectives) == list(range(8))
    for t in range(8):
        assert ext.values[t] == straight.values[t]
        np.testing.assert_allclose(ext.objectives[t], straight.objectives[t], rtol=1e-6)
    assert ext.front_ids == straight.front_ids


def test_outer_front_plot_uses_the_studys_objective(dymu_study, tmp_path):
    from hybridmoo import plots

    assert plots.outer_axis(["hv", "flops"]) == ("outer.flops", plots_label("flops"))
    assert plots.outer_axis(["hv"]) == ("n_params", "hypernetwork parameters")
    assert plots.outer_axis(["train_time", "hv"])[0] == "outer.train_time"
    written = plots.plot_all(dymu_study[1], tmp_path)
    assert [p.name for p in written] == ["out_fronts.png", "out_traces.png", "out_outer.png"]


def plots_label(name: str) -> str:
    from hybridmoo.studyfile import OBJECTIVES

    return OBJECTIVES[name][1]


def test_exported_fronts_carry_each_points_tree_cost_and_flops(dymu_study, tmp_path):
    import json

    from hybridmoo.export import export

    _, path = dymu_study
    data = load(path)
    rows = [r for r in data.front_records([3])]
    model, _ = data.dymu(3)
    r = data.trial(3)
    assert len(rows) == 6
    for i, row in enumerate(rows):
        tree = torch.tensor(json.loads(row["tree"]))
        assert row["c"] == r.train["c"]
        assert row["cost"] == pytest.approx(float(tree_cost(tree, model.anchor.node_params())))
        assert row["flops"] == pytest.approx(float(model.flops(tree[None])[0]))
        assert [row[n] for n in ("mse_1", "mse_2", "mse_3")] == pytest.approx(r.F[i].tolist())
    out = export(path, "fronts", "csv", tmp_path / "f.csv", trial_ids=[3])
    header = out.read_text().splitlines()[0].split(",")
    assert {"c", "tree", "cost", "flops"} <= set(header)
