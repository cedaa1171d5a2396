"""Outer-loop baselines of `hybridmoo compare` (random search, Optuna's TPE and NSGA-II): same
space, trial count and budget accounting as hybridmoo_search; pruning; registry; errors."""

from __future__ import annotations

import importlib.util
import sys

import h5py
import numpy as np
import pytest

from hybridmoo import baselines
from hybridmoo.baselines.search import run_outer_loop, search_setup
from hybridmoo.cli import main
from hybridmoo.compare import load_compare
from hybridmoo.errors import ConfigError

needs_optuna = pytest.mark.skipif(importlib.util.find_spec("optuna") is None,
                                  reason="optuna is not installed: pip install 'hybridmoo[optuna]'")

TINY = {"pop_size": 2, "generations": 2}
STEPS = {"kind": "steps", "amount": 240}  # 4 trials of 60 steps


def _run(name: str, budget=STEPS, seed: int = 0, **params):
    return baselines.run(name, "zdt1", budget, seed=seed, problem_options={"n_var": 4},
                         **TINY, **params)


def _check_valid(r, space_values: dict) -> None:
    assert r.ok, r.error
    assert r.F.ndim == 2 and r.F.shape[1] == 2 and len(r.F) > 0
    assert np.isfinite(r.hv) and r.hv > 0
    assert r.hv == pytest.approx(r.trace["hv"][-1])  # the study front, built last
    assert r.hv >= r.extra["best_trial_hv"] - 1e-12  # never worse than the best trial
    assert np.all(np.diff(r.trace["steps"][:-1]) > 0)  # cumulative cost (anytime)
    assert r.trace["steps"][-2] == sum(r.extra["trial_steps"])
    assert r.trace["steps"][-1] == r.trace["steps"][-2]  # building the front costs no steps
    # best so far while the trials train (a trial's front mid-training may beat every final
    # one: the answer is the study front of the final networks, never below the best of them)
    assert np.all(np.diff(r.trace["hv"][:-1]) >= 0)
    width = space_values["hypernet.width"]
    assert 16 <= width <= 256 and 1e-3 <= space_values["train.lr"] <= 1e-2
    assert space_values["train.scalarization.name"] in (
        "tchebycheff", "smooth_tchebycheff", "inverse_tchebycheff")


@pytest.fixture(scope="module")
def reference():
    """hybridmoo_search under the same tiny budget: 4 trials of 60 steps, its first generation
    drawn at random and evaluated at each trial's end as the other outer loops do."""
    return _run("hybridmoo_search", initial="none", eval_every=10**6)


@pytest.mark.parametrize("name, params", [
    ("random_search", {}),
    pytest.param("optuna_tpe", {"pruner": "none"}, marks=needs_optuna),
    pytest.param("optuna_nsga2", {"pruner": "none"}, marks=needs_optuna),
])
def test_same_trials_and_steps_as_hybridmoo_search(reference, name, params):
    """Without early stopping every outer loop runs hybridmoo_search's trials and steps."""
    r = _run(name, **params)
    _check_valid(r, r.extra["best_values"])
    assert r.extra["n_trials"] == reference.extra["n_trials"] == 4
    assert r.budget_used["steps"] == reference.budget_used["steps"] == 240
    np.testing.assert_array_equal(r.trace["steps"], reference.trace["steps"])
    assert r.budget_used["evaluations"] == 240 * 8  # K = 8 preferences per step


def test_hybridmoo_search_starts_from_the_defaults_with_an_anytime_trace():
    """By default the first trial is the library's default configuration, and the trace holds
    each trial's evaluations as it trained (best HV so far, cumulative steps)."""
    from hybridmoo.train import TrainConfig

    r = _run("hybridmoo_search", budget={"kind": "steps", "amount": 1200})  # 4 × 300 steps
    assert r.ok
    tr = r.trace
    assert len(tr["steps"]) > 4 + 1  # more than one point per trial (+ the study front)
    assert np.all(np.diff(tr["steps"][:-1]) > 0) and np.all(np.diff(tr["hv"]) >= 0)
    assert tr["steps"][0] == 100  # the first trial's first evaluation
    first = r.extra["trial_values"][0]  # the library defaults (width clipped to the space)
    assert first["train.lr"] == TrainConfig().lr
    assert first["train.scalarization.name"] == TrainConfig().scalarization["name"]
    assert first["train.sampler.alpha"] == TrainConfig().sampler["alpha"]
    assert len(r.extra["trial_values"]) == 4


def test_random_search_is_seeded():
    a, b, c = _run("random_search"), _run("random_search"), _run("random_search", seed=1)
    assert a.extra["best_values"] == b.extra["best_values"]
    np.testing.assert_array_equal(a.F, b.F)
    assert a.extra["best_values"] != c.extra["best_values"]


def test_outer_loop_trains_a_configuration_as_the_study_does(reference, tmp_path):
    """The loop uses the Study's trial seeds and trial function: hybridmoo_search's best
    configuration, run as the same trial id, gives the same front."""
    setup = search_setup(_problem(), baselines.Budget("steps", 240), 0, **TINY)
    best = reference.extra["best_trial"]
    trials, _ = run_outer_loop(setup, lambda tid: reference.extra["best_values"],
                               lambda *a: None, tmp_path / "s.h5")
    assert len(trials) == 4
    assert trials[best].hv == pytest.approx(reference.extra["best_trial_hv"], rel=1e-9)
    # the loop's study file is one the study front (and hybridmoo.load) can read
    from hybridmoo.analysis import StudyData

    sf = StudyData(tmp_path / "s.h5").study_front()
    assert sf.hv >= max(t.hv for t in trials.values()) - 1e-12


def test_evaluations_budget_counts_preferences_per_step():
    setup = search_setup(_problem(), baselines.Budget("evaluations", 3200), 0, **TINY)
    assert (setup.unit, setup.per_trial, setup.n_trials) == ("steps", 100, 4)
    setup = search_setup(_problem(), baselines.Budget("seconds", 10), 0, **TINY)
    # the study front's reserve (5-25%) is kept, the rest shared evenly
    assert setup.unit == "seconds" and 0.5 <= setup.reserve <= 2.5
    assert setup.per_trial == pytest.approx((10 - setup.reserve) / 4)


def test_the_study_front_reserve_grows_with_the_pool_it_selects_from():
    from hybridmoo.studyfront import estimate_seconds

    assert estimate_seconds(32, 100, 3) > estimate_seconds(1, 100, 3) > 0
    small = search_setup(_problem(), baselines.Budget("seconds", 40), 0, pop_size=2,
                         generations=1, n_eval=10)
    large = search_setup(_problem(), baselines.Budget("seconds", 40), 0, pop_size=8,
                         generations=4, n_eval=200)
    assert small.reserve == pytest.approx(2.0)  # the 5% floor
    assert 2.0 < large.reserve <= 10.0  # 32 networks x 4,000 points: seconds of selection
    assert search_setup(_problem(), baselines.Budget("steps", 100), 0, **TINY).reserve == 0


def _problem():
    from hybridmoo import problems

    return problems.get("zdt1", n_var=4)


@needs_optuna
@pytest.mark.parametrize("name", ["optuna_tpe", "optuna_nsga2"])
@pytest.mark.parametrize("pruner", ["hyperband", "successive_halving"])
def test_pruning_stops_trials_and_spends_the_savings(name, pruner):
    """A pruned trial is charged the steps it used; the loop starts trials while a full share
    fits, so it never overspends and runs at least as many trials as without pruning."""
    r = _run(name, budget={"kind": "steps", "amount": 480}, pruner=pruner)  # 4 × 120 steps
    _check_valid(r, r.extra["best_values"])
    assert r.extra["pruner"] == pruner and r.extra["eval_every"] == 15
    per_trial = np.asarray(r.extra["trial_steps"])
    # the trace: each trial's evaluations (every 15 steps) at the cumulative steps
    assert r.trace["steps"][-2] == per_trial.sum() and len(r.trace["steps"]) > len(per_trial)
    assert per_trial.max() <= 120 and r.budget_used["steps"] <= 480
    assert r.extra["n_trials"] == len(per_trial) >= 4
    assert r.extra["pruned"] == int((per_trial < 120).sum())
    assert 480 - r.budget_used["steps"] < 120  # no full share left unspent


@needs_optuna
def test_registry_and_compare_file(tmp_path):
    assert set(baselines.names("search")) == {"random_search", "optuna_tpe", "optuna_nsga2"}
    for n in baselines.names("search"):
        assert baselines.get(n).paper
    text = """
[compare]
name = "outer"
seeds = 1
output = "out.h5"
report = "report.md"
[problem]
name = "zdt1"
options = { n_var = 4 }
[budget]
kind = "steps"
amount = 120
[[methods]]
name = "random_search"
params = { pop_size = 2, generations = 1 }
[[methods]]
name = "optuna_tpe"
params = { pop_size = 2, generations = 1, pruner = "none" }
[[methods]]
name = "optuna_nsga2"
params = { pop_size = 2, generations = 1 }
"""
    spec = load_compare(text=text)
    assert [m["name"] for m in spec.methods] == ["random_search", "optuna_tpe", "optuna_nsga2"]
    (tmp_path / "c.toml").write_text(text)
    assert main(["compare", str(tmp_path / "c.toml"), "--backend", "local", "--quiet"]) == 0
    with h5py.File(tmp_path / "out.h5") as f:
        assert sorted(f["runs"]) == ["optuna_nsga2", "optuna_tpe", "random_search"]
        assert all(f["runs"][m]["000"].attrs["status"] == "ok" for m in f["runs"])
    assert "| optuna_tpe" in (tmp_path / "report.md").read_text()


def test_bad_settings_and_missing_optuna_are_named(monkeypatch):
    with pytest.raises(ConfigError, match="pruner = 'hyperbnd' is not allowed.*hyperband"):
        _run("optuna_tpe", pruner="hyperbnd")
    with pytest.raises(ConfigError, match="reports = 1 must be an integer >= 2"):
        _run("optuna_nsga2", reports=1)
    monkeypatch.setitem(sys.modules, "optuna", None)  # as if not installed
    with pytest.raises(ConfigError, match=r"pip install 'hybridmoo\[optuna\]'"):
        _run("optuna_tpe")


def test_search_on_a_data_problem_with_unset_options_and_its_own_n_eval():
    """Options left at None are dropped from the search's study file (TOML has no null);
    n_eval sets every trial's front and so the study front's size; a data problem with a
    validation split has its study front chosen there."""
    from hybridmoo.baselines.search import _toml_inline

    assert _toml_inline({"data_dir": None, "source": "t10k", "seed": 0}) == \
        '{ source = "t10k", seed = 0 }'
    r = baselines.run("hybridmoo_search", "tabular_sparsity", ("steps", 40), seed=0,
                      pop_size=2, generations=1, n_eval=5)
    assert r.ok, r.error
    assert len(r.F) <= 5 and r.extra["study_front"]["split"] == "validation"
