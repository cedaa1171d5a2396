"""Tests of hybridmoo.metrics: analytic values, metamorphic properties, pymoo as an oracle."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from hybridmoo import metrics
from hybridmoo.errors import ShapeError


def test_single_point_box_volume():
    """The HV of one point is the volume of the box it spans with the reference point."""
    assert metrics.hypervolume([[0.2, 0.5, 0.0]], ref=[1.0, 1.0, 2.0]) == pytest.approx(0.8)
    assert metrics.hypervolume(np.array([0.5, 0.5]), ref=[1.0, 1.0]) == pytest.approx(0.25)


def test_linear_front_converges_to_triangle_area():
    """A dense sample of the linear front f1 + f2 = 1 with ref (1, 1) has HV → 1/2."""
    t = np.linspace(0, 1, 2001)
    F = np.stack([t, 1 - t], axis=1)
    exact_staircase = 0.5 - 0.5 / 2000  # n steps under the diagonal lose 1/(2n)
    assert metrics.hypervolume(F, ref=[1.0, 1.0]) == pytest.approx(exact_staircase, rel=1e-9)


def test_reference_point_nothing_dominates_gives_zero():
    """A reference point that no point strictly dominates gives HV 0 (documented result)."""
    assert metrics.hypervolume([[2.0, 2.0], [1.0, 3.0]], ref=[1.0, 1.0]) == 0.0
    assert metrics.hypervolume(np.zeros((0, 2)), ref=[1.0, 1.0]) == 0.0


def test_torch_input_accepted():
    """Tensors (any dtype) are accepted like arrays."""
    F = torch.tensor([[0.0, 0.5]], dtype=torch.float32)
    assert metrics.hypervolume(F, ref=torch.tensor([1.0, 1.0])) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("F", "ref", "match"),
    [
        ([[0.0, np.nan]], [1.0, 1.0], "NaN"),
        ([[0.0, 0.0]], [1.0, 1.0, 1.0], "2 objectives per point but 3"),
        ([[0.0, 0.0]], [1.0, np.inf], "'ref' must be finite"),
        (np.zeros((2, 2, 2)), [1.0, 1.0], r"must be an \(n, m\) array"),
    ],
)
def test_bad_input_raises_clear_error(F, ref, match):
    """Wrong shapes, NaN and non-finite reference points raise ShapeError naming the problem."""
    with pytest.raises(ShapeError, match=match):
        metrics.hypervolume(F, ref=ref)


points = st.integers(2, 4).flatmap(
    lambda m: arrays(np.float64, st.tuples(st.integers(1, 12), st.just(m)),
                     elements=st.floats(0.0, 1.0, allow_nan=False))
)


@settings(max_examples=60, deadline=None)
@given(points)
def test_hv_equals_hv_of_nondominated_subset(F):
    """HV of a set equals HV of its non-dominated subset (metamorphic)."""
    ref = np.full(F.shape[1], 1.1)
    assert metrics.hypervolume(F, ref) == pytest.approx(
        metrics.hypervolume(metrics.filter_nondominated(F), ref), rel=1e-12, abs=1e-15)


@settings(max_examples=60, deadline=None)
@given(points, st.floats(0.0, 1.0))
def test_adding_dominated_point_leaves_hv_unchanged(F, shift):
    """Adding a point dominated by a member of the set does not change the HV."""
    ref = np.full(F.shape[1], 2.5)
    dominated = F[0] + shift
    G = np.vstack([F, dominated])
    assert metrics.hypervolume(G, ref) == pytest.approx(metrics.hypervolume(F, ref), rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(points, st.floats(0.01, 1.0))
def test_hv_grows_as_reference_moves_away(F, delta):
    """Moving the reference point away from the set strictly increases the HV."""
    ref = np.full(F.shape[1], 1.1)
    assert metrics.hypervolume(F, ref + delta) > metrics.hypervolume(F, ref)


@pytest.mark.parametrize("m", [2, 3, 5])
def test_agrees_with_pymoo(m):
    """HV, IGD and IGD+ agree with pymoo's indicators on random sets."""
    from pymoo.indicators.hv import HV
    from pymoo.indicators.igd import IGD
    from pymoo.indicators.igd_plus import IGDPlus

    rng = np.random.default_rng(m)
    F = rng.uniform(size=(30, m))
    R = rng.uniform(size=(50, m))
    ref = np.full(m, 1.2)
    assert metrics.hypervolume(F, ref) == pytest.approx(HV(ref_point=ref)(F), rel=1e-9)
    assert metrics.igd(F, R) == pytest.approx(IGD(R)(F), rel=1e-9)
    assert metrics.igd_plus(F, R) == pytest.approx(IGDPlus(R)(F), rel=1e-9)


def test_igd_analytic_and_empty():
    """IGD of a front to itself is 0; an empty set is a clear error."""
    R = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert metrics.igd(R, R) == 0.0
    assert metrics.igd([[0.0, 1.0]], R) == pytest.approx(np.sqrt(2) / 2)
    with pytest.raises(ShapeError, match="at least one point"):
        metrics.igd(np.zeros((0, 2)), R)


def test_nondominated_mask_and_filter():
    """The mask flags exactly the non-dominated points and keeps duplicates."""
    F = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    assert metrics.is_nondominated(F).tolist() == [True, True, False, True]
    np.testing.assert_array_equal(metrics.filter_nondominated(F), F[[0, 1, 3]])


def test_normalize_maps_ideal_and_nadir():
    """Normalisation sends the ideal to 0 and the nadir to 1; swapped points are an error."""
    out = metrics.normalize([[1.0, 10.0], [3.0, 30.0]], ideal=[1.0, 10.0], nadir=[3.0, 30.0])
    np.testing.assert_allclose(out, [[0.0, 0.0], [1.0, 1.0]])
    with pytest.raises(ShapeError, match="Did you swap them"):
        metrics.normalize([[1.0, 1.0]], ideal=[3.0, 3.0], nadir=[1.0, 1.0])


def test_preference_angle():
    """The angle is 0 on the preference ray and π/2 for an orthogonal objective vector."""
    ang = metrics.preference_angle([[1.0, 1.0], [0.0, 2.0]], [[0.5, 0.5], [1.0, 0.0]])
    np.testing.assert_allclose(ang, [0.0, np.pi / 2], atol=1e-12)


def test_uniformity_known_values():
    """Uniformity is 1 when λ_i f_i are equal and matches 1 − KL by hand otherwise."""
    u = metrics.uniformity([[2.0, 1.0], [1.0, 3.0]], [[1 / 3, 2 / 3], [0.5, 0.5]])
    # second point: l̂ = (1/4, 3/4); KL = 1/4 ln(1/2) + 3/4 ln(3/2)
    expected = 1 - (0.25 * np.log(0.5) + 0.75 * np.log(1.5))
    np.testing.assert_allclose(u, [1.0, expected], rtol=1e-12)
    with pytest.raises(ShapeError, match="one preference per objective vector"):
        metrics.uniformity([[1.0, 1.0]], [[0.5, 0.5], [0.5, 0.5]])


def test_igd_in_box_normalises_and_drops_points_outside_the_box():
    """Hand-checked: R inside [ideal, ref] = {(0, 1), (1, 0)} → normalised (0, .5), (.5, 0);
    F = (0, 1) → (0, .5): IGD = mean(0, √(.25 + .25)) and IGD+ = mean(0, .5)."""
    from hybridmoo.metrics import igd_in_box

    R = [[0.0, 1.0], [1.0, 0.0], [5.0, -1.0]]  # (5, −1) lies outside the box: ignored
    assert igd_in_box([[0.0, 1.0]], R, [2.0, 2.0]) == pytest.approx(np.sqrt(0.5) / 2)
    assert igd_in_box([[0.0, 1.0]], R, [2.0, 2.0], plus=True) == pytest.approx(0.25)
    # scale-free: multiplying an objective (and its reference) by 1e6 changes nothing
    S = np.array([1.0, 1e6])
    assert igd_in_box(np.array([[0.0, 1.0]]) * S, np.array(R) * S, np.array([2.0, 2.0]) * S) \
        == pytest.approx(np.sqrt(0.5) / 2)
    # raw IGD is dominated by the far point and by the scale
    assert metrics.igd([[0.0, 1.0]], R) > 1.0
    assert np.isnan(igd_in_box([[0.0, 1.0]], [[3.0, 3.0]], [2.0, 2.0]))
