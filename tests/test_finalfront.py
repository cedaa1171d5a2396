"""``train.front = "hv_subset"``: the best n points of a dense query by hypervolume, each still
the model's answer to its own preference, with the query's evaluations counted."""

from __future__ import annotations

import itertools

import moocore
import numpy as np
import pytest
import torch

import hybridmoo
from hybridmoo.errors import ConfigError
from hybridmoo.finalfront import AUTO_POOL, AUTO_SHARE
from hybridmoo.problems import from_numpy
from hybridmoo.subset import select_front, subset_hypervolume
from hybridmoo.train import Trainer


def test_hv_subset_front_beats_the_lattice_and_stays_steerable():
    kw = {"steps": 150, "n_eval": 15, "threads": 1, "seed": 0}
    lattice = hybridmoo.train("dtlz2", front="preferences", **kw)
    t = Trainer("dtlz2", None, {**{k: v for k, v in kw.items() if k != "seed"},
                                "front": "hv_subset", "front_density": 8}, seed=0)
    best = t.run()
    assert len(best.F) == len(lattice.F) == 15
    # the same network (same seed and steps): only the choice of points differs
    np.testing.assert_allclose(best.trace["hv"][:-1], lattice.trace["hv"][:-1])
    assert best.hv > lattice.hv and best.trace["hv"][-1] == best.hv  # the trace ends there
    assert best.trace["steps"][-1] == lattice.trace["steps"][-1] == 150
    assert best.trace["seconds"][-1] == best.train_time
    info = best.extra["front"]
    assert info["kept"] == "hv_subset" and info["hv_preferences"] == pytest.approx(lattice.hv)
    assert info["seconds"] > 0
    assert info["queried"] >= 8 * 15 and info["pooled"] == info["queried"] + 15
    assert best.hv == pytest.approx(float(moocore.hypervolume(best.F, ref=best.ref_point)))
    # each point is what the model gives at its preference
    with torch.no_grad():
        again = t.task.eval_losses(t.net(torch.as_tensor(best.prefs, dtype=t.dtype)))
    np.testing.assert_allclose(again.double().numpy(), best.F, rtol=1e-5, atol=1e-6)
    assert moocore.is_nondominated(best.F).all()


def test_select_front_is_exact_on_a_tiny_pool():
    rng = np.random.default_rng(0)
    F = rng.random((9, 2))
    ref = np.array([1.2, 1.2])
    idx, how = select_front(F, ref, 3)
    brute = max(subset_hypervolume(F, ref, c) for c in itertools.combinations(range(9), 3))
    assert how == "exact" and subset_hypervolume(F, ref, idx) == pytest.approx(brute)
    idx, how = select_front(F, ref, 3, exact=0)
    assert how == "greedy" and subset_hypervolume(F, ref, idx) >= 0.63 * brute
    assert len(select_front(np.full((4, 2), np.nan), ref, 2)[0]) == 0


def _black_box():
    def f(X):
        return np.stack([X[:, 0] ** 2 + X[:, 1] ** 2, (X[:, 0] - 1) ** 2 + X[:, 1] ** 2], 1)
    return from_numpy(f, 2, 2, -1.0, 2.0, ref_point=[4.0, 4.0], name="bb")


def test_black_box_query_is_counted_within_the_budget():
    p = _black_box()
    r = hybridmoo.train(p, evaluations=3000, n_eval=10, front="hv_subset", front_density=5,
                        threads=1, seed=0)
    assert r.ok and r.extra["front"]["queried"] >= 50
    used = r.extra["front"]["evaluations"]
    assert used == p.n_evals <= 3000 + 10 * 8  # within the budget's usual overshoot
    # the query's evaluations are in the trace's last point, within the budget
    assert r.trace["evaluations"][-1] == used
    with pytest.raises(ConfigError, match="leaves nothing to train on"):
        hybridmoo.train(_black_box(), evaluations=50, n_eval=10, front="hv_subset",
                        front_density=5)


def test_unknown_front_is_refused():
    with pytest.raises(ConfigError, match="front"):
        hybridmoo.train("zdt1", steps=5, front="dense")


def test_auto_front_is_hv_subset_unless_data_or_a_tight_evaluation_budget():
    small = {"n_var": 5}
    assert Trainer("zdt1", None, {"steps": 1}, problem_options=small).front == "hv_subset"
    assert Trainer("tabular_sparsity", {"width": 8}, {"steps": 1}).front == "preferences"
    # a black box: the query (front_density + 1) × n_eval must fit in a tenth of the budget
    bb = {"n_eval": 10, "front_density": 4}
    assert Trainer(_black_box(), None, {**bb, "steps": None, "evaluations": 300}).front == \
        "preferences"
    assert Trainer(_black_box(), None, {**bb, "steps": None, "evaluations": 600}).front == \
        "hv_subset"
    assert Trainer("zdt1", None, {"steps": 1, "front": "preferences"},
                   problem_options=small).front == "preferences"


def test_data_problem_chooses_on_validation_and_reports_the_test_losses():
    t = Trainer("tabular_sparsity", {"width": 16},
                {"steps": 40, "batch_size": 64, "n_eval": 5, "eval_every": 20, "threads": 1,
                 "front": "hv_subset", "front_density": 3}, seed=0)
    r = t.run()
    assert r.ok, r.error
    info = r.extra["front"]
    assert info["split"] == "validation" and info["pooled"] == 15 + 5
    P = torch.as_tensor(r.prefs, dtype=t.dtype)
    with torch.no_grad():  # the reported losses are the held-out split's at the chosen prefs
        test = t.task.eval_losses(t.net(P)).double().numpy()
        val_chosen = t.task.select_losses(t.net(P)).double().numpy()
        val_lattice = t.task.select_losses(t.net(t.eval_prefs)).double().numpy()
    np.testing.assert_allclose(r.F, test, rtol=1e-5, atol=1e-7)
    assert r.hv == pytest.approx(float(moocore.hypervolume(r.F, ref=r.ref_point)))
    hv = [float(moocore.hypervolume(v, ref=r.ref_point)) for v in (val_chosen, val_lattice)]
    assert hv[0] >= hv[1]  # chosen on validation: never below the lattice there


def test_hv_subset_needs_a_validation_split_on_data_problems():
    with pytest.raises(ConfigError, match="validation split"):
        Trainer("mtl_regression", {"width": 8}, {"steps": 1, "front": "hv_subset"})


def test_auto_skips_a_query_that_would_cost_more_than_its_share_of_the_seconds():
    """0.01 s of training cannot pay for selecting 200 of 2,200 points: "auto" keeps the
    preference front and says why; an explicit "hv_subset" always queries; a pool above
    AUTO_POOL is never queried by "auto"."""
    small = {"n_var": 5}
    t = Trainer("zdt1", None, {"steps": None, "seconds": 0.01, "n_eval": 200, "threads": 1},
                problem_options=small)
    r = t.run()
    info = r.extra["front"]
    assert info["kept"] == "preferences" and "exceed" in info["skipped"]
    assert info["estimated_seconds"] > AUTO_SHARE * 0.01
    assert r.trace["hv"][-1] == r.hv and len(r.F) == 200
    r = hybridmoo.train("zdt1", steps=None, seconds=0.01, n_eval=200, threads=1,
                        front="hv_subset", problem_options=small)
    assert "skipped" not in r.extra["front"] and r.extra["front"]["queried"] == 2000
    big = AUTO_POOL // 11 + 1  # (front_density + 1) × n_eval > AUTO_POOL
    assert Trainer("zdt1", None, {"steps": 1, "n_eval": big}, problem_options=small).front == \
        "preferences"
    assert Trainer("zdt1", None, {"steps": 1, "n_eval": big - 1},
                   problem_options=small).front == "hv_subset"
