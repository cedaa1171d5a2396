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
from hybridmoo.problems import from_numpy
from hybridmoo.subset import select_front, subset_hypervolume
from hybridmoo.train import Trainer


def test_hv_subset_front_beats_the_lattice_and_stays_steerable():
    kw = {"steps": 150, "n_eval": 15, "threads": 1, "seed": 0}
    lattice = hybridmoo.train("dtlz2", **kw)
    t = Trainer("dtlz2", None, {**{k: v for k, v in kw.items() if k != "seed"},
                                "front": "hv_subset", "front_density": 8}, seed=0)
    best = t.run()
    assert len(best.F) == len(lattice.F) == 15
    # the same network (same seed and steps): only the choice of points differs
    np.testing.assert_allclose(best.trace["hv"], lattice.trace["hv"])
    assert best.hv > lattice.hv
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
    # training stopped early enough to leave the query its evaluations
    assert r.trace["evaluations"][-1] + r.extra["front"]["queried"] <= used
    with pytest.raises(ConfigError, match="leaves nothing to train on"):
        hybridmoo.train(_black_box(), evaluations=50, n_eval=10, front="hv_subset",
                        front_density=5)


def test_unknown_front_is_refused():
    with pytest.raises(ConfigError, match="front"):
        hybridmoo.train("zdt1", steps=5, front="dense")
