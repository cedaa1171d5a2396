"""Tests of the multi-task problems: Multi-MNIST family, mtl_regression, tabular_sparsity."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from hybridmoo import problems, train
from hybridmoo.cli import main
from hybridmoo.errors import ConfigError, DataError
from hybridmoo.problems.mtl import MultiMNIST
from hybridmoo.train import TrainConfig

MTL = ["multi_mnist", "multi_fashion", "multi_fashion_mnist", "mtl_regression",
       "tabular_sparsity"]


def test_registered_in_family_mtl():
    """The five problems are registered in family MTL, build with defaults and load nothing."""
    assert problems.names("MTL") == MTL
    for name in MTL:
        p = problems.get(name)
        assert p.n_var == 0 and p.n_obj >= 2 and not p.has_pareto_front
        assert p.ideal.tolist() == [0.0] * p.n_obj
        assert p.ref_point.dtype == torch.float64 and p.pareto_front(10) is None
        json.dumps(p.describe())
        assert getattr(p, "_data", None) is None


def test_problems_cli_lists_them_without_data(tmp_path, monkeypatch, capsys):
    """`hybridmoo problems` lists the MTL problems when the data directory is empty."""
    monkeypatch.setenv("HYBRIDMOO_DATA", str(tmp_path))
    assert main(["problems", "--family", "MTL"]) == 0
    out = capsys.readouterr().out
    for name in MTL:
        assert name in out


def test_missing_data_fails_at_first_use(tmp_path, monkeypatch):
    """Without the IDX files, building succeeds and make_task names the file and the fix."""
    monkeypatch.setenv("HYBRIDMOO_DATA", str(tmp_path))
    p = problems.get("multi_mnist")
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz not found") as info:
        p.make_task(TrainConfig(steps=1))
    assert f"hybridmoo data fetch mnist --dir {tmp_path}" in str(info.value)
    with pytest.raises(DataError, match="hybridmoo data fetch fashion"):
        problems.get("multi_fashion", data_dir=str(tmp_path)).data()


def test_options_are_checked():
    """Bad options are ConfigErrors naming the option; ref_point is configurable."""
    with pytest.raises(ConfigError, match="n_train = 9000 exceeds the 8000 train"):
        problems.get("multi_mnist", n_train=9000)
    with pytest.raises(ConfigError, match="source = 'all'"):
        problems.get("multi_mnist", source="all")
    with pytest.raises(ConfigError, match="conflict"):
        problems.get("mtl_regression", conflict=1.5)
    with pytest.raises(ConfigError, match="dataset = 'iris'"):
        problems.get("tabular_sparsity", dataset="iris")
    assert problems.get("multi_mnist", ref_point=[3, 3]).ref_point.tolist() == [3.0, 3.0]
    with pytest.raises(NotImplementedError, match="data-driven problem"):
        problems.get("multi_mnist").evaluate(torch.zeros(1, 0))


def test_multi_mnist_trains_briefly(mnist_root):
    """A few steps on a small Multi-MNIST give finite test losses and accuracies in [0, 1]."""
    p = problems.get("multi_mnist", data_dir=str(mnist_root), n_train=256, n_test=100)
    r = train(p, steps=4, batch_size=64, n_prefs=4, n_eval=3, eval_every=2, threads=1,
              lr=1e-3, seed=0, hypernet={"head": "chunked", "n_chunks": 8, "width": 32})
    assert r.ok, r.error
    assert r.F.shape == (3, 2) and np.isfinite(r.F).all() and (r.F > 0).all()
    assert r.ref_point.tolist() == [2.0, 2.0] and r.trace["steps"].tolist() == [0, 2, 4]
    acc = np.asarray(r.extra["accuracy"])
    assert acc.shape == (3, 2) and ((acc >= 0) & (acc <= 1)).all()
    assert r.extra["tasks"] == ["left", "right"] and r.extra["eval_split"] == "test"
    assert np.allclose(acc * 100, np.round(acc * 100))  # fractions of the 100 test images
    json.dumps(r.extra)
    assert p.data().sizes() == {"train": 256, "val": 1000, "test": 100}


def test_multi_mnist_task_uses_the_train_config(mnist_root):
    """make_task takes batch size and K from the config and keeps the data on the device."""
    p = MultiMNIST(data_dir=str(mnist_root), n_train=128, n_test=50, eval_split="val")
    cfg = TrainConfig(steps=1, batch_size=32, n_prefs=4, split_batch=False, n_eval=5)
    task = p.make_task(cfg, dtype=torch.float64)
    assert task.batch_size == 32 and task.n_prefs == 4 and task.samples_per_step == 128
    assert task.X.shape == (128, 1, 36, 36) and task.X.dtype == torch.float64
    assert 0.0 <= float(task.X.min()) and float(task.X.max()) <= 1.0
    assert task.Xe.shape[0] == 1000 and task.eval_split == "val"
    assert p.make_task(cfg).X.data_ptr() != task.X.data_ptr()  # one fresh tensor per task


def test_batched_auto_loops_over_conv_targets_on_cpu(mnist_root):
    """batched = "auto" picks the loop for the LeNet on the CPU and vmap for an MLP target;
    both paths give the same losses; a wrong value is a ConfigError naming the choices."""
    from hybridmoo.hypernet import batched_call, looped_call

    p = MultiMNIST(data_dir=str(mnist_root), n_train=64, n_test=50, eval_split="val")
    task = p.make_task(TrainConfig(steps=1, batch_size=16, n_prefs=2), dtype=torch.float64)
    assert task.batched == "auto" and task.call_for(16) is looped_call
    assert task.call_for(1) is batched_call  # many networks on few examples: vmap
    mlp = problems.get("mtl_regression").make_task(TrainConfig(steps=1, n_prefs=2))
    assert mlp.call_for(128) is batched_call
    params = {k: torch.stack([v.detach(), 1.1 * v.detach()])
              for k, v in task.module.named_parameters()}
    looped = task.eval_losses(params)
    task.batched = True
    assert task.call_for(16) is batched_call
    torch.testing.assert_close(task.eval_losses(params), looped)
    with pytest.raises(ConfigError, match="batched = 'yes' is invalid: expected true, false"):
        p.make_task(TrainConfig(steps=1, batch_size=16, n_prefs=2, batched="yes"))


def test_mtl_regression_hv_improves():
    """mtl_regression trains in seconds and the test HV rises from its start."""
    r = train("mtl_regression", problem_options={"n_train": 512, "n_test": 256}, steps=150,
              batch_size=64, n_prefs=8, n_eval=5, eval_every=50, lr=1e-3, lr_schedule="constant",
              threads=1, seed=0,
              hypernet={"width": 32})
    assert r.ok, r.error
    hv = r.trace["hv"]
    assert hv[-1] > hv[0] + 0.02 and np.isfinite(r.F).all()


def test_mtl_regression_conflict_and_scales():
    """conflict = 0 makes the tasks one function; scales set the zero-predictor reference."""
    same = problems.get("mtl_regression", conflict=0.0, n_train=8, n_test=8)
    _, Y = same.data()["train"]
    np.testing.assert_allclose(Y[:, 0], Y[:, 1])
    p = problems.get("mtl_regression", scales=[1.0, 10.0], n_train=4000, n_test=8)
    ref = p.ref_point.numpy()
    assert ref[1] / ref[0] == pytest.approx(100, rel=0.2)
    _, Y = p.data()["train"]
    np.testing.assert_allclose((Y**2).mean(axis=(0, 2)), ref, rtol=0.1)


def test_tabular_sparsity_trains():
    """tabular_sparsity trains; objectives are the cross-entropy and the scaled first-layer L1."""
    r = train("tabular_sparsity", steps=60, batch_size=64, n_prefs=8, n_eval=5, eval_every=30,
              lr=3e-3, threads=1, seed=0, hypernet={"width": 32})
    assert r.ok, r.error
    assert r.F.shape == (5, 2) and (r.F >= 0).all() and r.hv > 0
    acc = np.asarray(r.extra["accuracy"])
    assert acc.shape == (5, 1) and acc.max() > 0.85
    assert r.ref_point.tolist() == pytest.approx([math.log(2), 1.0])
    # a genuine trade-off: the preference (1, 0) fits better, (0, 1) is sparser
    assert r.prefs[0].tolist() == [1.0, 0.0] and r.prefs[-1].tolist() == [0.0, 1.0]
    assert r.F[0, 0] < r.F[-1, 0] and r.F[0, 1] > r.F[-1, 1]


def test_checkpoint_best_keeps_the_best_validation_evaluation():
    """checkpoint = "best": the result is the evaluation with the highest validation HV (its
    test front, HV and weights), not the last one; the trace records every validation HV."""
    from hybridmoo.train import Trainer

    popt = {"source": "t10k", "n_train": 1024, "n_val": 256, "n_test": 256}
    cfg = {"steps": 60, "eval_every": 10, "n_eval": 5, "batch_size": 64, "lr": 3e-3,
           "checkpoint": "best"}
    r = train("multi_mnist", problem_options=popt, config=cfg, seed=0)
    assert r.ok
    val, hv, steps = r.trace["val_hv"], r.trace["hv"], r.trace["steps"]
    assert len(val) == len(hv) == 7 and np.isfinite(val).all()
    j = int(np.argmax(val))
    assert r.hv == hv[j] and r.extra["checkpoint_step"] == steps[j]
    assert r.extra["val_hv"] == val[j] and "accuracy" in r.extra
    # the kept weights are the checkpoint's: rebuilt, they give the result's front again
    t = Trainer("multi_mnist", config=cfg, seed=0, problem_options=popt)
    t.net.load_state_dict({k: torch.as_tensor(v) for k, v in r.state_dict.items()})
    np.testing.assert_allclose(t.evaluate()["F"], r.F, rtol=1e-5)
    # the validation HV differs from the test HV: it is measured on another split
    assert not np.allclose(val, hv)
    last = train("multi_mnist", problem_options=popt,
                           config={**cfg, "checkpoint": "last"}, seed=0)
    assert "val_hv" not in last.trace and last.hv == hv[-1]


@pytest.mark.parametrize("problem", ["zdt1", "mtl_regression"])
def test_checkpoint_best_needs_a_validation_split(problem):
    with pytest.raises(ConfigError, match="has no validation split"):
        train(problem, steps=5, checkpoint="best")
    with pytest.raises(ConfigError, match="checkpoint"):
        train("zdt1", steps=5, checkpoint="first")


def test_checkpoint_best_in_a_study_file_needs_a_validation_split():
    from hybridmoo.studyfile import load_study

    text = """
[study]
output = "x.h5"
[problem]
name = "{name}"
{options}
[algorithm]
pop_size = 2
generations = 1
[budget]
steps = 5
[fixed.train]
checkpoint = "best"
[search]
"train.lr" = {{ type = "real", low = 1e-3, high = 1e-2 }}
"""
    with pytest.raises(ConfigError, match="'mtl_regression' has no validation split"):
        load_study(text=text.format(name="mtl_regression", options=""))
    spec = load_study(text=text.format(name="multi_mnist", options=""))
    assert spec.space.decode([0.5])["train"]["checkpoint"] == "best"


def test_checkpoint_auto_is_best_where_there_is_a_validation_split():
    """checkpoint = "auto" (default): the best-validation checkpoint on a problem with a
    validation split, the last step elsewhere; the published baselines keep "last"."""
    from hybridmoo import baselines
    from hybridmoo.train import Trainer

    t = Trainer("tabular_sparsity", {"width": 8}, {"steps": 30, "batch_size": 64, "n_eval": 5,
                                                   "eval_every": 10, "threads": 1})
    assert t.checkpoint == "best"
    r = t.run()
    assert r.ok and "val_hv" in r.trace and 0 <= r.extra["checkpoint_step"] <= 30
    assert r.extra["val_hv"] == pytest.approx(np.nanmax(r.trace["val_hv"]))
    assert Trainer("mtl_regression", {"width": 8}, {"steps": 1}).checkpoint == "last"
    assert Trainer("zdt1", None, {"steps": 1}).checkpoint == "last"
    b = baselines.run("cosmos", "tabular_sparsity", ("steps", 5), seed=0, n_eval=3, threads=1)
    assert b.ok and b.extra["train"]["checkpoint"] == "last"
