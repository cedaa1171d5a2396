"""Tests of hybridmoo.preferences: samplers, their laws, serialisation, evaluation sets."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from pymoo.util.ref_dirs import get_reference_directions

from hybridmoo import preferences
from hybridmoo.errors import ConfigError, UnknownNameError
from hybridmoo.preferences import Dirichlet, MixtureDirichlet, Sphere, Uniform

DTYPES = [torch.float32, torch.float64]

SAMPLERS = {
    "dirichlet-sym": lambda m: Dirichlet(m, 0.5),
    "dirichlet-vec": lambda m: Dirichlet(m, [0.3 + i for i in range(m)]),
    "dirichlet-tiny": lambda m: Dirichlet(m, 0.02),
    "uniform": lambda m: Uniform(m),
    "sphere": lambda m: Sphere(m),
    "sphere-uniform": lambda m: Sphere(m, clamp=None, method="uniform"),
    "mixture": lambda m: MixtureDirichlet(m, [1.0, [5.0] * m], [0.3, 0.7]),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m", [2, 3, 5])
@pytest.mark.parametrize("key", list(SAMPLERS))
def test_shape_nonnegative_and_sums(key, m, dtype):
    """Samples have shape (k, m), are non-negative, and simplex rows sum to 1 (sphere: norm 1)."""
    s = SAMPLERS[key](m)
    p = s.sample(257, torch.Generator().manual_seed(3), dtype=dtype)
    assert p.shape == (257, m) and p.dtype == dtype
    assert torch.isfinite(p).all() and (p >= 0).all()
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    if s.on_simplex:
        torch.testing.assert_close(p.sum(-1), torch.ones(257, dtype=dtype), atol=tol, rtol=0)
    elif s.clamp is None:
        torch.testing.assert_close(p.norm(dim=-1), torch.ones(257, dtype=dtype), atol=tol, rtol=0)


@pytest.mark.parametrize("key", list(SAMPLERS))
def test_reproducible_and_seed_dependent(key):
    """A seed fixes the draws, another seed changes them, and the global RNG is untouched."""
    s = SAMPLERS[key](3)
    state = torch.get_rng_state()
    a = s.sample(64, torch.Generator().manual_seed(11))
    b = s.sample(64, torch.Generator().manual_seed(11))
    c = s.sample(64, torch.Generator().manual_seed(12))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert torch.equal(torch.get_rng_state(), state)
    d64 = s.sample(64, torch.Generator().manual_seed(11), dtype=torch.float64)
    assert torch.equal(d64.float(), a)


def test_zero_rows_and_bad_arguments():
    """k = 0 gives an empty (0, m) tensor; bad k, generator or dtype are rejected clearly."""
    s = Uniform(3)
    g = torch.Generator().manual_seed(0)
    assert s.sample(0, g).shape == (0, 3)
    with pytest.raises(ConfigError, match="'k' must be an integer >= 0"):
        s.sample(-1, g)
    with pytest.raises(TypeError, match="must be a torch.Generator"):
        s.sample(4, 0)
    with pytest.raises(ConfigError, match="floating torch dtype"):
        s.sample(4, g, dtype=torch.int64)


@pytest.mark.parametrize("alpha", [[0.5, 1.0, 2.5], [0.1, 0.2, 0.3], [4.0, 4.0, 4.0]])
def test_dirichlet_mean_and_variance(alpha):
    """Dirichlet sample mean is α/α0 and variance α_i(α0 − α_i)/(α0²(α0 + 1)) within tolerance.

    With 100k rows the standard error of the mean is below 1.6e-3, so atol = 5e-3; the
    variance's relative standard error is about 1%, hence rtol = 5%.
    """
    a = torch.tensor(alpha, dtype=torch.float64)
    a0 = a.sum()
    p = Dirichlet(3, alpha).sample(100_000, torch.Generator().manual_seed(0), dtype=torch.float64)
    torch.testing.assert_close(p.mean(0), a / a0, atol=5e-3, rtol=0)
    var = a * (a0 - a) / (a0**2 * (a0 + 1))
    torch.testing.assert_close(p.var(0), var, rtol=5e-2, atol=0)


def test_uniform_is_dirichlet_one():
    """For m = 2 the first coordinate of Uniform is U(0, 1): mean 1/2, variance 1/12."""
    p = Uniform(2).sample(100_000, torch.Generator().manual_seed(1), dtype=torch.float64)
    assert p[:, 0].mean().item() == pytest.approx(0.5, abs=5e-3)
    assert p[:, 0].var().item() == pytest.approx(1 / 12, rel=3e-2)


def test_sphere_hvpsl_angles_are_uniform():
    """HV-PSL directions: θ = atan2(λ1, λ2) (m = 2) and θ1 = acos(λ3) (m = 3) are U(0, π/2)."""
    g = torch.Generator().manual_seed(2)
    p2 = Sphere(2, clamp=None).sample(50_000, g, dtype=torch.float64)
    th = torch.atan2(p2[:, 0], p2[:, 1])
    assert th.mean().item() == pytest.approx(math.pi / 4, abs=1e-2)
    assert th.var().item() == pytest.approx((math.pi / 2) ** 2 / 12, rel=3e-2)
    p3 = Sphere(3, clamp=None).sample(50_000, g, dtype=torch.float64)
    torch.testing.assert_close(p3.norm(dim=-1), torch.ones(50_000, dtype=torch.float64))
    assert torch.acos(p3[:, 2]).mean().item() == pytest.approx(math.pi / 4, abs=1e-2)


def test_sphere_clamp():
    """The default clamp keeps every coordinate in [0.01, 0.99], like HV-PSL's code."""
    p = Sphere(2).sample(10_000, torch.Generator().manual_seed(4), dtype=torch.float64)
    assert p.min().item() >= 0.01 and p.max().item() <= 0.99
    assert (p == 0.01).any()


def test_mixture_component_frequencies():
    """A mixture of two sharp Dirichlets picks its components with the given weights."""
    s = MixtureDirichlet(2, [[50.0, 1.0], [1.0, 50.0]], [1.0, 3.0])
    assert s.weights == (0.25, 0.75)
    p = s.sample(20_000, torch.Generator().manual_seed(5), dtype=torch.float64)
    assert (p[:, 0] > 0.5).double().mean().item() == pytest.approx(0.25, abs=1.5e-2)


@pytest.mark.parametrize("key", list(SAMPLERS))
def test_dict_round_trip(key):
    """to_dict/from_dict rebuilds an equal sampler that draws the same preferences."""
    s = SAMPLERS[key](3)
    d = s.to_dict()
    assert d["name"] == s.name and d["n_obj"] == 3
    t = preferences.from_dict(d)
    assert t == s and t.to_dict() == d
    g1, g2 = torch.Generator().manual_seed(9), torch.Generator().manual_seed(9)
    assert torch.equal(s.sample(8, g1), t.sample(8, g2))


def test_registry():
    """get builds samplers by name; names lists them; unknown names raise UnknownNameError."""
    assert preferences.names() == ["dirichlet", "uniform", "sphere", "mixture_dirichlet",
                                   "eps"]
    assert preferences.get("Dirichlet", 3, alpha=0.2) == Dirichlet(3, 0.2)
    assert preferences.get("sphere", n_obj=2, clamp=None).clamp is None
    with pytest.raises(UnknownNameError, match=r"Did you mean 'dirichlet'.*Registered samplers"):
        preferences.get("dirichlt", 3)


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: Dirichlet(3, 0.0), r"'alpha' must be a finite number > 0"),
        (lambda: Dirichlet(3, -1.0), r"'alpha' must be"),
        (lambda: Dirichlet(3, [1.0, 2.0]), r"'alpha' must be .* list of 3 .*got \[1.0, 2.0\]"),
        (lambda: Dirichlet(3, [1.0, 0.0, 1.0]), r"'alpha'"),
        (lambda: Dirichlet(1, 1.0), r"'n_obj' must be an integer >= 2"),
        (lambda: Sphere(2, clamp=(0.5, 0.1)), r"'clamp' must be None or a pair"),
        (lambda: Sphere(2, method="angles"), r"'method' must be one of hvpsl, uniform"),
        (lambda: MixtureDirichlet(2, [1.0, 2.0], [1.0]), r"'weights' must be a list of 2"),
        (lambda: MixtureDirichlet(2, [1.0], [-1.0]), r"'weights'"),
        (lambda: MixtureDirichlet(2, [], []), r"'alphas' must be a non-empty list"),
        (lambda: MixtureDirichlet(2, [1.0, -2.0], [1, 1]), r"'alphas\[1\]'"),
        (lambda: preferences.get("uniform", 3, alpha=1.0), r"no parameter 'alpha'.*none"),
        (lambda: preferences.get("sphere", 3, clmap=None), r"Did you mean 'clamp'"),
        (lambda: preferences.get("mixture_dirichlet", 3), r"needs parameter 'alphas'"),
        (lambda: preferences.from_dict({"name": "uniform"}), r"'name' and 'n_obj'"),
    ],
)
def test_bad_params_raise_config_error(build, match):
    """Invalid sampler parameters raise ConfigError naming the parameter."""
    with pytest.raises(ConfigError, match=match):
        build()


# ---------------------------------------------------------------------------- evaluation sets
@pytest.mark.parametrize(("m", "p"), [(2, 5), (3, 4), (4, 3)])
def test_das_dennis_matches_pymoo(m, p):
    """das_dennis returns pymoo's lattice of C(p + m − 1, m − 1) simplex points."""
    d = preferences.das_dennis(m, p, dtype=torch.float64)
    assert d.shape == (math.comb(p + m - 1, m - 1), m)
    np.testing.assert_allclose(d.numpy(), get_reference_directions("das-dennis", m, n_partitions=p))
    with pytest.raises(ConfigError, match="'n_partitions' must be an integer >= 1"):
        preferences.das_dennis(m, 0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_even_rays(dtype):
    """even_rays spans (1, 0)…(0, 1) for m = 2 and the smallest big-enough lattice for m ≥ 3."""
    r = preferences.even_rays(2, 5, dtype=dtype)
    expect = torch.tensor([[1, 0], [0.75, 0.25], [0.5, 0.5], [0.25, 0.75], [0, 1]], dtype=dtype)
    torch.testing.assert_close(r, expect)
    torch.testing.assert_close(preferences.even_rays(2, 1), torch.tensor([[0.5, 0.5]]))
    assert preferences.even_rays(3, 10).shape == (10, 3)  # p = 3
    assert preferences.even_rays(3, 11).shape == (15, 3)  # p = 4
    e = preferences.even_rays(3, 11, boundary_eps=0.02, dtype=torch.float64)
    assert e.min().item() == pytest.approx(0.02)
    torch.testing.assert_close(e.sum(-1), torch.ones(15, dtype=torch.float64))
    with pytest.raises(ConfigError, match=r"'boundary_eps' must be a number in \[0, 1/n_obj\)"):
        preferences.even_rays(3, 5, boundary_eps=0.5)


def test_eval_preferences():
    """eval_preferences gives simplex rays, or unit-norm directions evenly spaced in angle."""
    torch.testing.assert_close(preferences.eval_preferences(3, 6), preferences.even_rays(3, 6))
    s = preferences.eval_preferences(2, 60, kind="sphere", dtype=torch.float64)
    assert s.shape == (60, 2)
    torch.testing.assert_close(s.norm(dim=-1), torch.ones(60, dtype=torch.float64))
    th = torch.atan2(s[:, 1], s[:, 0])
    torch.testing.assert_close(th.diff(), torch.full((59,), math.pi / 2 / 59, dtype=torch.float64))
    torch.testing.assert_close(s[0], torch.tensor([1.0, 0.0], dtype=torch.float64))
    se = preferences.eval_preferences(2, 60, kind="sphere", boundary_eps=0.01)
    assert se.min().item() == pytest.approx(0.01, abs=1e-6)
    s3 = preferences.eval_preferences(3, 20, kind="sphere", boundary_eps=0.01)
    assert s3.shape[0] >= 20 and (s3 >= 0.01).all()
    torch.testing.assert_close(s3.norm(dim=-1), torch.ones(len(s3)))
    with pytest.raises(ConfigError, match="'kind' must be one of simplex, sphere"):
        preferences.eval_preferences(2, 5, kind="grid")
