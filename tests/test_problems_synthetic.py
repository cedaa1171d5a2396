"""Tests of the synthetic problems: ZDT, DTLZ, VLMOP and F1-F6 (Lin et al. 2022)."""

from __future__ import annotations

import math

import moocore
import numpy as np
import pytest
import torch

from hybridmoo import problems
from hybridmoo.errors import ConfigError, ShapeError
from hybridmoo.problems import dtlz, zdt

# (name, options) of every problem under test: defaults plus non-default sizes.
CASES = [
    ("zdt1", {}),
    ("zdt1", {"n_var": 5}),
    ("zdt2", {}),
    ("zdt3", {}),
    ("zdt3", {"n_var": 4}),
    ("zdt4", {}),
    ("zdt4", {"n_var": 3}),
    ("zdt6", {}),
    ("zdt6", {"n_var": 2}),
    ("dtlz1", {}),
    ("dtlz1", {"n_obj": 2, "n_var": 6}),
    ("dtlz2", {}),
    ("dtlz2", {"n_obj": 5}),
    ("dtlz2", {"n_obj": 2, "n_var": 2}),
    ("dtlz3", {}),
    ("dtlz3", {"n_obj": 4, "n_var": 8}),
    ("dtlz4", {}),
    ("dtlz4", {"n_obj": 2}),
    ("dtlz5", {}),
    ("dtlz5", {"n_obj": 4}),
    ("dtlz6", {}),
    ("dtlz6", {"n_obj": 2, "n_var": 5}),
    ("dtlz7", {}),
    ("dtlz7", {"n_obj": 2}),
    ("dtlz7", {"n_obj": 4, "n_var": 9}),
    ("vlmop1", {}),
    ("vlmop2", {}),
    ("vlmop2", {"n_var": 6}),
    ("psl_f1", {}),
    ("psl_f2", {}),
    ("psl_f3", {"n_var": 3}),
    ("psl_f4", {}),
    ("psl_f5", {"n_var": 9}),
    ("psl_f6", {}),
]
PYMOO_CASES = [c for c in CASES if c[0].startswith(("zdt", "dtlz"))]
DEFAULT_SIZES = {
    "zdt1": 30, "zdt2": 30, "zdt3": 30, "zdt4": 10, "zdt6": 10,
    "dtlz1": 7, "dtlz2": 12, "dtlz3": 12, "dtlz4": 12, "dtlz5": 12, "dtlz6": 12, "dtlz7": 22,
    "vlmop1": 1, "vlmop2": 2,
    "psl_f1": 6, "psl_f2": 6, "psl_f3": 6, "psl_f4": 6, "psl_f5": 6, "psl_f6": 6,
}  # fmt: skip


def _ids(cases):
    return [c[0] + "".join(f"-{k}{v}" for k, v in c[1].items()) for c in cases]


def _uniform(p, n: int, rng: np.random.Generator, margin: float = 0.0) -> np.ndarray:
    """``n`` uniform points inside the bounds, kept ``margin`` (relative) away from them."""
    lo, hi = (b.numpy() for b in p.bounds)
    u = margin + (1.0 - 2.0 * margin) * rng.random((n, p.n_var))
    return lo + u * (hi - lo)


@pytest.mark.parametrize(("name", "options"), PYMOO_CASES, ids=_ids(PYMOO_CASES))
def test_matches_pymoo(name, options, rng):
    """ZDT and DTLZ objectives equal pymoo's on 200 random points in the bounds (float64)."""
    from pymoo.problems import get_problem

    p = problems.get(name, **options)
    kwargs = {"n_var": p.n_var} if name.startswith("zdt") else {"n_var": p.n_var, "n_obj": p.n_obj}
    ref = get_problem(name, **kwargs)
    np.testing.assert_array_equal(ref.xl, p.bounds[0].numpy())
    np.testing.assert_array_equal(ref.xu, p.bounds[1].numpy())
    x = _uniform(p, 200, rng)
    ours = p.evaluate(torch.from_numpy(x)).numpy()
    theirs = ref.evaluate(x)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(("name", "options"), CASES, ids=_ids(CASES))
@pytest.mark.parametrize("n_points", [100, 7])
def test_front_is_nondominated(name, options, n_points):
    """Every point of the analytic Pareto front is non-dominated by the others."""
    p = problems.get(name, **options)
    front = p.pareto_front(n_points)
    assert front.ndim == 2 and front.shape[1] == p.n_obj and front.dtype == np.float64
    if p.n_obj == 2:
        assert front.shape[0] == n_points
    assert moocore.is_nondominated(front).all()


@pytest.mark.parametrize(("name", "options"), CASES, ids=_ids(CASES))
def test_pareto_set_maps_onto_front(name, options):
    """Evaluating the Pareto set gives the Pareto front, row by row, inside the bounds."""
    p = problems.get(name, **options)
    xs, front = p.pareto_set(50), p.pareto_front(50)
    assert xs.shape == (front.shape[0], p.n_var)
    lo, hi = p.bounds
    assert (xs >= lo.numpy()).all() and (xs <= hi.numpy()).all()
    np.testing.assert_allclose(p.evaluate(torch.from_numpy(xs)).numpy(), front, atol=1e-10)


@pytest.mark.parametrize(("name", "options"), CASES, ids=_ids(CASES))
def test_ideal_nadir_ref_point_agree_with_front(name, options):
    """The front spans ideal to nadir, and the reference point lies beyond the nadir."""
    p = problems.get(name, **options)
    front = p.pareto_front(200)
    assert p.ref_point is not None and p.ref_point.dtype == torch.float64
    assert p.ref_point_source
    assert (p.ref_point.numpy() > front.max(axis=0)).all()
    if p.ideal is not None:
        np.testing.assert_allclose(front.min(axis=0), p.ideal.numpy(), atol=1e-9)
    if p.nadir is not None:
        np.testing.assert_allclose(front.max(axis=0), p.nadir.numpy(), atol=1e-9)
        if name not in ("dtlz5", "dtlz6", "vlmop2"):  # these use 1.1 × a looser bound
            np.testing.assert_allclose(p.ref_point.numpy(), 1.1 * p.nadir.numpy(), rtol=1e-12)


@pytest.mark.parametrize(("name", "options"), CASES, ids=_ids(CASES))
def test_gradients_are_finite(name, options, rng):
    """Autograd gives a finite Jacobian at a float64 point strictly inside the bounds."""
    p = problems.get(name, **options)
    x = torch.from_numpy(_uniform(p, 1, rng, margin=0.05)[0])
    jac = torch.autograd.functional.jacobian(p.evaluate, x)
    assert jac.shape == (p.n_obj, p.n_var)
    assert torch.isfinite(jac).all()
    assert jac.abs().sum() > 0


@pytest.mark.parametrize(("name", "options"), CASES, ids=_ids(CASES))
def test_float32_matches_float64(name, options, rng):
    """float32 evaluation keeps its dtype and matches float64 within 1e-4 relative."""
    p = problems.get(name, **options)
    x32 = torch.from_numpy(_uniform(p, 100, rng)).float()
    f32 = p.evaluate(x32)
    f64 = p.evaluate(x32.double())
    assert f32.dtype == torch.float32 and f64.dtype == torch.float64
    scale = f64.abs().clamp_min(1.0)
    assert ((f32.double() - f64).abs() / scale).max() < 1e-4


@pytest.mark.parametrize(("name", "options"), CASES, ids=_ids(CASES))
def test_batch_shapes(name, options, rng):
    """Inputs of shape (..., n_var) give (..., n_obj), equal to the flat evaluation."""
    p = problems.get(name, **options)
    x = torch.from_numpy(_uniform(p, 12, rng))
    flat = p.evaluate(x)
    assert flat.shape == (12, p.n_obj)
    batched = p.evaluate(x.reshape(3, 4, p.n_var))
    assert batched.shape == (3, 4, p.n_obj)
    torch.testing.assert_close(batched.reshape(12, p.n_obj), flat)
    single = p.evaluate(x[0])
    assert single.shape == (p.n_obj,)
    torch.testing.assert_close(single, flat[0])
    empty = p.evaluate(torch.zeros(0, p.n_var, dtype=torch.float64))
    assert empty.shape == (0, p.n_obj)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize(("name", "options"), CASES, ids=_ids(CASES))
def test_cuda_matches_cpu(name, options, rng):
    """On a CUDA device the objectives stay on the device and match the CPU values."""
    p = problems.get(name, **options)
    x = torch.from_numpy(_uniform(p, 50, rng))
    f_gpu = p.evaluate(x.cuda())
    assert f_gpu.device.type == "cuda"
    torch.testing.assert_close(f_gpu.cpu(), p.evaluate(x), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["zdt1", "dtlz2", "vlmop1", "psl_f4"])
def test_wrong_shape_raises(name):
    """Inputs whose last dimension is not n_var, 0-d, integer or non-tensor raise ShapeError."""
    p = problems.get(name)
    with pytest.raises(ShapeError, match=rf"\(\.\.\., {p.n_var}\)"):
        p.evaluate(torch.zeros(4, p.n_var + 1, dtype=torch.float64))
    with pytest.raises(ShapeError):
        p.evaluate(torch.tensor(0.5, dtype=torch.float64))
    with pytest.raises(ShapeError, match="floating"):
        p.evaluate(torch.zeros(4, p.n_var, dtype=torch.int64))
    with pytest.raises(ShapeError, match="torch.Tensor"):
        p.evaluate(np.zeros((4, p.n_var)))


BAD_OPTIONS = [
    ("zdt1", {"n_var": 1}, r"zdt1: option n_var=1 .*>= 2"),
    ("zdt4", {"n_var": 2.5}, r"zdt4: option n_var=2\.5 must be an integer >= 2"),
    ("zdt6", {"n_var": True}, r"n_var=True must be an integer"),
    ("dtlz1", {"n_obj": 1}, r"dtlz1: option n_obj=1 .*>= 2"),
    ("dtlz2", {"n_obj": 5, "n_var": 3}, r"dtlz2: option n_var=3 .*>= 5"),
    ("dtlz7", {"n_obj": "3"}, r"n_obj='3' must be an integer >= 2"),
    ("dtlz5", {"n_obj": 0}, r"dtlz5: option n_obj=0 .*>= 2"),
    ("vlmop2", {"n_var": 0}, r"vlmop2: option n_var=0 .*>= 1"),
    ("psl_f1", {"n_var": 2}, r"psl_f1: option n_var=2 .*>= 3"),
    ("psl_f6", {"n_var": -1}, r"psl_f6: option n_var=-1 .*>= 3"),
]


@pytest.mark.parametrize(("name", "options", "match"), BAD_OPTIONS, ids=_ids(BAD_OPTIONS))
def test_bad_options_raise_config_error(name, options, match):
    """Out-of-range or non-integer options raise ConfigError naming option, value and range."""
    with pytest.raises(ConfigError, match=match):
        problems.get(name, **options)


def test_registry_families_and_defaults():
    """All problems are registered in their families with the documented default sizes."""
    assert problems.names("ZDT") == ["zdt1", "zdt2", "zdt3", "zdt4", "zdt6"]
    assert problems.names("DTLZ") == [f"dtlz{i}" for i in range(1, 8)]
    assert problems.names("VLMOP") == ["vlmop1", "vlmop2"]
    assert problems.names("PSL") == [f"psl_f{i}" for i in range(1, 7)]
    for name, n_var in DEFAULT_SIZES.items():
        p = problems.get(name)
        assert p.n_var == n_var, name
        assert p.n_obj == (3 if name.startswith("dtlz") else 2), name
        assert p.has_pareto_front
        assert p.describe()["options"] == p.options
    assert problems.get("dtlz2", n_obj=5).n_var == 14
    assert problems.get("dtlz7", n_obj=5).n_var == 24
    assert problems.get("dtlz1", n_obj=4).n_var == 8


def test_zdt3_pieces_are_exact():
    """ZDT3's pieces end at local minima of f2 and start where f2 drops below the previous end."""
    pieces = zdt._ZDT3_PIECES

    def h(t):
        return 1 - torch.sqrt(t) - t * torch.sin(10 * math.pi * t)

    for k, (a, b) in enumerate(pieces):
        t = torch.tensor(b, dtype=torch.float64, requires_grad=True)
        (grad,) = torch.autograd.grad(h(t), t)
        assert abs(grad.item()) < 1e-9
        if k:
            prev = h(torch.tensor(pieces[k - 1][1], dtype=torch.float64))
            assert abs(h(torch.tensor(a, dtype=torch.float64)) - prev) < 1e-12
    assert abs(h(torch.tensor(pieces[-1][1], dtype=torch.float64)) - zdt._ZDT3_F2_MIN) < 1e-15
    # pymoo's hard-coded boundaries agree (its 0.182228780 is off by 5e-8 from 0.1822287280)
    pymoo_pieces = [0, 0.0830015349, 0.182228780, 0.2577623634, 0.4093136748, 0.4538821041,
                    0.6183967944, 0.6525117038, 0.8233317983, 0.8518328654]  # fmt: skip
    np.testing.assert_allclose(np.ravel(pieces), pymoo_pieces, atol=1e-7)


def test_dtlz7_pieces_are_exact():
    """DTLZ7's pieces end at maxima of z(t) = t (1 + sin 3 pi t) and restart at the same level."""
    (_, a), (b, c) = dtlz._DTLZ7_PIECES

    def z(t):
        return t * (1 + torch.sin(3 * math.pi * t))

    for end in (a, c):
        t = torch.tensor(end, dtype=torch.float64, requires_grad=True)
        (grad,) = torch.autograd.grad(z(t), t)
        assert abs(grad.item()) < 1e-9
    as_t = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    assert abs(z(as_t(b)) - z(as_t(a))) < 1e-12
    assert abs(z(as_t(c)) - dtlz._DTLZ7_Z_MAX) < 1e-15
    t = torch.linspace(0, 1, 100001, dtype=torch.float64)
    assert z(t).max() <= dtlz._DTLZ7_Z_MAX + 1e-12


def test_zdt6_front_start():
    """ZDT6's front starts at the minimum of f1 = 1 - exp(-4 x) sin^6(6 pi x) (0.2807753188)."""
    p = problems.get("zdt6", n_var=2)

    def f1(x1):
        return p.evaluate(torch.stack([x1, torch.zeros_like(x1)], dim=-1))[:, 0]

    everywhere = f1(torch.linspace(0, 1, 100001, dtype=torch.float64))
    assert everywhere.min().item() >= zdt._ZDT6_F1_MIN - 1e-12
    x_min = zdt._ZDT6_X1_MIN
    near = f1(torch.linspace(x_min - 1e-4, x_min + 1e-4, 20001, dtype=torch.float64))
    assert abs(near.min().item() - zdt._ZDT6_F1_MIN) < 1e-13
    assert abs(zdt._ZDT6_F1_MIN - 0.2807753191) < 1e-9  # pymoo's value


def test_known_values():
    """Hand-computed objective values at simple points."""
    x = torch.tensor([0.25] + [0.0] * 29, dtype=torch.float64)
    torch.testing.assert_close(problems.get("zdt1").evaluate(x), x.new_tensor([0.25, 0.5]))
    x = torch.full((12,), 0.5, dtype=torch.float64)  # DTLZ2: angles pi/4, g = 0
    want = x.new_tensor([0.5, 0.5, 0.5**0.5])
    torch.testing.assert_close(problems.get("dtlz2").evaluate(x), want)
    x = torch.tensor([[3.0]], dtype=torch.float64)
    torch.testing.assert_close(problems.get("vlmop1").evaluate(x), x.new_tensor([[9.0, 1.0]]))
    x = torch.zeros(2, dtype=torch.float64)
    e = 1 - math.exp(-1.0)
    torch.testing.assert_close(problems.get("vlmop2").evaluate(x), x.new_tensor([e, e]))
    # F1 at x1 = 0.5: Pareto-optimal x_i = 0; x_2 = x_3 = 1 gives G1 = G2 = 2
    x = torch.tensor([0.5, 1.0, 1.0], dtype=torch.float64)
    want = [2 * 0.5, 2 * (1 - math.sqrt(0.5 / 2))]
    torch.testing.assert_close(problems.get("psl_f1", n_var=3).evaluate(x), x.new_tensor(want))


def test_pareto_front_sizes():
    """Many-objective fronts have about n_points rows; bad n_points raise ValueError."""
    for name, opts in [("dtlz1", {"n_obj": 5}), ("dtlz2", {"n_obj": 4}), ("dtlz7", {"n_obj": 4})]:
        front = problems.get(name, **opts).pareto_front(100)
        assert 30 <= front.shape[0] <= 300, (name, front.shape)
    with pytest.raises(ValueError, match="n_points"):
        problems.get("zdt1").pareto_front(0)
