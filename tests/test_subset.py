"""Greedy hypervolume subset selection against brute force and against plain greedy."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from hybridmoo import metrics
from hybridmoo.errors import ConfigError, ShapeError
from hybridmoo.subset import greedy_hv_subset, subset_hypervolume


def brute_force(F, ref, n):
    best, arg = -1.0, None
    for c in itertools.combinations(range(len(F)), n):
        hv = subset_hypervolume(F, ref, c)
        if hv > best:
            best, arg = hv, c
    return best, arg


def plain_greedy(F, ref, n):
    """Recompute every contribution at every step (the definition, no laziness)."""
    chosen = []
    for _ in range(n):
        base = subset_hypervolume(F, ref, chosen)
        gains = [(subset_hypervolume(F, ref, chosen + [i]) - base, -i)
                 for i in range(len(F)) if i not in chosen]
        g, neg_i = max(gains)
        if g <= 0:
            break
        chosen.append(-neg_i)
    return chosen


def test_equals_brute_force_on_a_tiny_front():
    """Five points of a concave 2-D front, choose 3: greedy finds the optimum."""
    t = np.linspace(0, 1, 5)
    F = np.stack([t, 1 - t ** 2], axis=1)
    ref = [1.1, 1.1]
    best, arg = brute_force(F, ref, 3)
    got = greedy_hv_subset(F, ref, 3)
    assert sorted(got.tolist()) == sorted(arg)
    assert subset_hypervolume(F, ref, got) == pytest.approx(best)


@pytest.mark.parametrize("m", [2, 3])
@pytest.mark.parametrize("seed", range(6))
def test_within_the_greedy_bound_of_the_optimum_and_equal_to_plain_greedy(m, seed):
    rng = np.random.default_rng(seed)
    X = rng.random((9, m))
    F = X / np.linalg.norm(X, axis=1, keepdims=True)  # points on a sphere: mostly non-dominated
    ref = np.full(m, 1.1)
    n = 4
    best, _ = brute_force(F, ref, n)
    got = greedy_hv_subset(F, ref, n)
    hv = subset_hypervolume(F, ref, got)
    assert hv >= (1 - 1 / math.e) * best - 1e-12
    assert hv <= best + 1e-12
    assert got.tolist() == plain_greedy(F, ref, n)  # laziness changes nothing


def test_dominated_and_out_of_box_points_are_never_chosen():
    F = np.array([[0.2, 0.8], [0.3, 0.9], [0.8, 0.2], [2.0, 0.0], [np.nan, 0.1]])
    got = greedy_hv_subset(F, ref=[1.0, 1.0], n=5)
    assert sorted(got.tolist()) == [0, 2]  # 1 dominated by 0; 3 outside the box; 4 NaN
    assert metrics.hypervolume(F[got], [1.0, 1.0]) == pytest.approx(
        metrics.hypervolume(F[[0, 2]], [1.0, 1.0]))


def test_first_choice_is_the_largest_box_and_order_is_by_contribution():
    F = np.array([[0.0, 0.9], [0.4, 0.4], [0.9, 0.0]])
    got = greedy_hv_subset(F, ref=[1.0, 1.0], n=3).tolist()
    assert got[0] == 1  # box 0.36 against 0.1 and 0.1
    assert sorted(got) == [0, 1, 2]


def test_no_point_inside_the_box_gives_an_empty_selection():
    assert greedy_hv_subset(np.array([[2.0, 2.0]]), ref=[1.0, 1.0], n=3).size == 0


@pytest.mark.parametrize("bad, err", [(0, ConfigError), (1.5, ConfigError), (True, ConfigError)])
def test_bad_n(bad, err):
    with pytest.raises(err, match="expected an integer ≥ 1"):
        greedy_hv_subset(np.zeros((2, 2)), [1, 1], bad)


def test_bad_shapes():
    with pytest.raises(ShapeError, match="ref has 3 entries"):
        greedy_hv_subset(np.zeros((2, 2)), [1, 1, 1], 1)
    with pytest.raises(ShapeError, match=r"\(N, m\)"):
        greedy_hv_subset(np.zeros(3), [1, 1, 1], 1)
