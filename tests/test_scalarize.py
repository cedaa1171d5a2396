"""Tests of hybridmoo.scalarize: textbook values, shapes, gradients, registry, HV-PSL, EPO."""

from __future__ import annotations

import math

import moocore
import numpy as np
import pytest
import torch

from hybridmoo import scalarize
from hybridmoo.errors import ConfigError, ShapeError, UnknownNameError
from hybridmoo.scalarize import EPO, Scalarization

DTYPES = [torch.float32, torch.float64]
PLAIN = [n for n in scalarize.names() if not scalarize.needs_grads(n)]
S2, S5 = math.sqrt(2.0), math.sqrt(5.0)

# (name, params, f, λ, z, ref, expected) — expected values worked out by hand from the
# definitions; see the comment on each line.
# Example A (m = 2): f = (1, 2), λ = (0.5, 0.5), z = (0, 0), so d = f − z = (1, 2).
# Example B (m = 3): f = (1, 2, 3), λ = (0.2, 0.3, 0.5), z = (0, 1, 1), so d = (1, 1, 2).
FA, LA, ZA = [1.0, 2.0], [0.5, 0.5], [0.0, 0.0]
FB, LB, ZB = [1.0, 2.0, 3.0], [0.2, 0.3, 0.5], [0.0, 1.0, 1.0]
CASES = [
    ("linear", {}, FA, LA, ZA, None, 1.5),  # 0.5·1 + 0.5·2
    ("tchebycheff", {}, FA, LA, ZA, None, 1.0),  # max(0.5, 1.0)
    ("smooth_tchebycheff", {"mu": 0.5}, FA, LA, ZA, None,
     0.5 * math.log(math.exp(1.0) + math.exp(2.0))),  # μ log Σ exp(λd/μ) = 1.156631
    ("inverse_tchebycheff", {}, FA, LA, ZA, None, 4.0),  # max(1/0.5, 2/0.5)
    ("pbi", {"theta": 5.0}, FA, LA, ZA, None, 4 * S2),  # d1 = 3/√2, d2 = 1/√2: 3/√2 + 5/√2
    ("cosmos", {"cos_weight": 2.0}, FA, LA, ZA, None,
     1.5 - 2 * 3 / math.sqrt(10)),  # cos(d, λ) = 1.5/(√5·√0.5) = 3/√10
    ("hv1", {}, FA, LA, ZA, [3.0, 3.0], -4.0),  # ρ = min(2/0.5, 1/0.5) = 2 → −ρ²
    ("hv1", {}, [4.0, 1.0], LA, ZA, [3.0, 3.0], 2.0),  # ρ = min(−1/0.5, 2/0.5) = −2 → −ρ
    ("hv2", {}, FA, LA, ZA, None, 16.0),  # max((1/0.5)², (2/0.5)²)
    ("linear", {}, FB, LB, ZB, None, 1.5),  # 0.2 + 0.3 + 1.0
    ("tchebycheff", {}, FB, LB, ZB, None, 1.0),  # max(0.2, 0.3, 1.0)
    ("smooth_tchebycheff", {"mu": 1.0}, FB, LB, ZB, None,
     math.log(math.exp(0.2) + math.exp(0.3) + math.exp(1.0))),  # = 1.665731
    ("inverse_tchebycheff", {}, FB, LB, ZB, None, 5.0),  # max(1/0.2, 1/0.3, 2/0.5)
    ("pbi", {"theta": 2.0}, FB, LB, ZB, None,
     1.5 / math.sqrt(0.38) + 2 * math.sqrt(6 - 2.25 / 0.38)),  # d·λ = 1.5, ‖λ‖² = .38, ‖d‖² = 6
    ("cosmos", {"cos_weight": 1.0}, FB, LB, ZB, None,
     1.5 - 1.5 / (math.sqrt(6) * math.sqrt(0.38))),  # linear − cos(d, λ)
    ("hv1", {}, FB, LB, ZB, [2.0, 3.0, 4.0], -8.0),  # ρ = min(5, 3.33, 2) = 2 → −ρ³
    ("hv2", {}, FB, LB, ZB, None, 125.0),  # max(5³, 3.33³, 4³)
]


def _kw(name: str, ideal, ref) -> dict:
    kw = {"ideal": ideal}
    if scalarize.needs_ref(name):
        kw["ref"] = ref
    return kw


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("name", "params", "f", "lam", "z", "ref", "expected"), CASES)
def test_textbook_values(name, params, f, lam, z, ref, expected, dtype):
    """Each scalarization gives the hand-computed value of its textbook definition."""
    t = lambda v: None if v is None else torch.tensor(v, dtype=dtype)  # noqa: E731
    fn = scalarize.SCALARIZATIONS[name]
    kw = _kw(name, t(z), t(ref))
    out = fn(t([f]), t([lam]), **kw, **params)
    assert out.dtype == dtype and out.shape == (1,)
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    assert out.item() == pytest.approx(expected, rel=tol, abs=tol)
    # the registry object computes the same thing
    via_registry = scalarize.get(name, **params)(t([f]), t([lam]), ideal=t(z), ref=t(ref))
    torch.testing.assert_close(via_registry, out)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", PLAIN)
@pytest.mark.parametrize("lead", [(5,), (3, 5)])
def test_output_shapes(name, lead, dtype, gen):
    """`[K, m]` and `[B, K, m]` losses give `[K]` and `[B, K]` values; an `(m,)` pref broadcasts."""
    m = 3
    losses = torch.rand(*lead, m, generator=gen, dtype=dtype) + 0.1
    prefs = torch.rand(*lead, m, generator=gen, dtype=dtype) + 0.1
    s = scalarize.get(name)
    ref = torch.full((m,), 2.0, dtype=dtype)
    out = s(losses, prefs, ref=ref)
    assert out.shape == lead and out.dtype == dtype
    one = prefs.reshape(-1, m)[0]
    expect = s(losses, one.expand_as(losses), ref=ref)
    torch.testing.assert_close(s(losses, one, ref=ref), expect)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", PLAIN)
def test_gradients_flow(name, dtype, gen):
    """Gradients of every scalarization reach the losses and are finite and non-zero."""
    losses = (torch.rand(4, 2, 3, generator=gen, dtype=dtype) + 0.1).requires_grad_()
    prefs = torch.rand(4, 2, 3, generator=gen, dtype=dtype) + 0.1
    out = scalarize.get(name)(losses, prefs, ideal=torch.zeros(3, dtype=dtype),
                              ref=torch.full((3,), 2.0, dtype=dtype))
    out.sum().backward()
    assert losses.grad is not None
    assert torch.isfinite(losses.grad).all()
    assert (losses.grad.abs().sum(-1) > 0).all()


def test_pbi_gradient_on_the_ray_is_finite():
    """PBI has a finite gradient when f − z lies exactly on the preference ray (d2 = 0)."""
    losses = torch.tensor([[1.0, 1.0]], requires_grad=True)
    scalarize.pbi(losses, torch.tensor([[0.5, 0.5]])).sum().backward()
    assert torch.isfinite(losses.grad).all()


def test_hv1_negative_rho_pushes_back_inside():
    """For ρ ≤ 0 hv1 is −ρ, whose gradient decreases the losses (moves ρ up)."""
    losses = torch.tensor([[4.0, 1.0, 1.0]], requires_grad=True)  # outside the box below r
    prefs = torch.tensor([[0.6, 0.6, 0.52915]])
    out = scalarize.hv1(losses, prefs, ref=torch.tensor([3.0, 3.0, 3.0]))
    assert out.item() > 0
    out.sum().backward()
    assert losses.grad[0, 0] > 0 and losses.grad[0, 1:].abs().sum() == 0


@pytest.mark.parametrize("name", PLAIN)
def test_shape_mismatch_names_both_shapes(name):
    """A prefs tensor that does not fit the losses raises ShapeError naming both shapes."""
    with pytest.raises(ShapeError, match=r"prefs of shape \(4, 2\).*losses of shape \(4, 3\)"):
        scalarize.get(name)(torch.ones(4, 3), torch.ones(4, 2), ref=torch.ones(3))


def test_bad_ideal_and_ref_shapes():
    """An ideal or ref of the wrong length raises ShapeError naming it."""
    with pytest.raises(ShapeError, match=r"ideal of shape \(2,\)"):
        scalarize.linear(torch.ones(4, 3), torch.ones(4, 3), ideal=torch.zeros(2))
    with pytest.raises(ShapeError, match=r"ref of shape \(2,\)"):
        scalarize.hv1(torch.ones(4, 3), torch.ones(4, 3), ref=torch.zeros(2))
    with pytest.raises(ShapeError, match="floating"):
        scalarize.linear(torch.ones(4, 3, dtype=torch.long), torch.ones(4, 3))


def test_inputs_not_mutated():
    """Scalarizations leave their input tensors unchanged."""
    losses, prefs = torch.rand(5, 3), torch.rand(5, 3)
    l0, p0 = losses.clone(), prefs.clone()
    for name in PLAIN:
        scalarize.get(name)(losses, prefs, ref=torch.full((3,), 2.0))
    assert torch.equal(losses, l0) and torch.equal(prefs, p0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_smooth_tchebycheff_tends_to_tchebycheff(dtype, gen):
    """tch ≤ stch_μ ≤ tch + μ log m, so stch → tch as μ → 0."""
    losses = torch.rand(50, 4, generator=gen, dtype=dtype)
    prefs = torch.rand(50, 4, generator=gen, dtype=dtype)
    tch = scalarize.tchebycheff(losses, prefs)
    for mu in [1.0, 0.1, 0.01, 1e-3]:
        st = scalarize.smooth_tchebycheff(losses, prefs, mu=mu)
        slack = 1e-6 if dtype == torch.float32 else 1e-12
        assert (st >= tch - slack).all()
        assert (st <= tch + mu * math.log(4) + slack).all()
    torch.testing.assert_close(scalarize.smooth_tchebycheff(losses, prefs, mu=1e-4), tch,
                               atol=2e-4, rtol=0)


def _uniform_sphere(n: int, m: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, m, generator=g, dtype=torch.float64).abs()
    return x / x.norm(dim=-1, keepdim=True)


@pytest.mark.parametrize(
    ("points", "ref"),
    [
        ([[0.3, 0.5]], [1.2, 1.4]),
        ([[0.2, 0.9, 0.4]], [1.0, 1.5, 1.1]),
        ([[0.1, 0.8], [0.5, 0.4], [0.9, 0.05]], [1.1, 1.1]),
    ],
)
def test_hv1_monte_carlo_matches_exact_hypervolume(points, ref):
    """Φ_m·mean(max_y ρ_y^m) over 200k sphere directions is within 2% of moocore's hypervolume.

    The identity HV = Φ_m·E[ρ^m] holds for directions uniform on the positive unit sphere, so
    the directions here are normalised |Gaussian| draws, not HV-PSL's angle sampler (which is
    uniform in the angles, not in area, for m = 3).
    """
    y = torch.tensor(points, dtype=torch.float64)
    r = torch.tensor(ref, dtype=torch.float64)
    m = y.shape[1]
    lam = _uniform_sphere(200_000, m, seed=1)
    # hv1 = −ρ^m for points inside the box; a set takes the best point per direction
    rho_m = torch.stack([-scalarize.hv1(yy.expand_as(lam), lam, ref=r) for yy in y]).amax(0)
    phi = math.pi ** (m / 2) / (2**m * math.gamma(m / 2 + 1))
    estimate = phi * rho_m.mean().item()
    exact = moocore.hypervolume(np.asarray(points), ref=np.asarray(ref))
    assert estimate == pytest.approx(exact, rel=0.02)


# ---------------------------------------------------------------------------- registry
def test_names_and_flags():
    """names() lists every method; only hv1 needs a ref and only EPO and Pareto MTL need
    gradients."""
    assert scalarize.names() == [
        "linear", "tchebycheff", "smooth_tchebycheff", "inverse_tchebycheff", "pbi", "cosmos",
        "hv1", "hv2", "epo", "pmtl",
    ]
    assert [n for n in scalarize.names() if scalarize.needs_ref(n)] == ["hv1"]
    assert [n for n in scalarize.names() if scalarize.needs_grads(n)] == ["epo", "pmtl"]
    for n in PLAIN:
        s = scalarize.get(n)
        assert isinstance(s, Scalarization) and s.needs_grads is False
        assert s.needs_ref == (n == "hv1")
    assert isinstance(scalarize.get("epo"), EPO) and scalarize.get("EPO").needs_grads


def test_unknown_name_lists_names():
    """An unknown name raises UnknownNameError with a suggestion and the registered names."""
    with pytest.raises(UnknownNameError, match=r"Did you mean 'tchebycheff'.*linear, "):
        scalarize.get("tchebychef")
    with pytest.raises(UnknownNameError, match="Registered scalarizations"):
        scalarize.needs_ref("nope")


@pytest.mark.parametrize(
    ("name", "params", "match"),
    [
        ("smooth_tchebycheff", {"mu": 0.0}, r"'mu' must be a finite number > 0, got 0.0"),
        ("smooth_tchebycheff", {"mu": -1}, r"'mu' must be a finite number > 0"),
        ("pbi", {"theta": -0.1}, r"'theta' must be a finite number >= 0"),
        ("pbi", {"thta": 1.0}, r"no parameter 'thta'\. Did you mean 'theta'.*theta=5\.0"),
        ("linear", {"mu": 1.0}, r"no parameter 'mu'.*Allowed parameters: none"),
        ("inverse_tchebycheff", {"eps": 0.0}, r"'eps' must be a number in \(0, 1\)"),
        ("cosmos", {"cos_weight": "2"}, r"'cos_weight' must be a finite number >= 0"),
        ("epo", {"relax": 1}, r"'relax' must be True or False"),
        ("epo", {"mu_tol": 0}, r"'mu_tol' must be a finite number > 0"),
    ],
)
def test_invalid_params_raise_config_error(name, params, match):
    """Invalid or unknown parameters raise ConfigError naming the key and the allowed values."""
    with pytest.raises(ConfigError, match=match):
        scalarize.get(name, **params)


def test_bare_function_checks_params():
    """Calling a bare function with an invalid parameter raises ConfigError too."""
    with pytest.raises(ConfigError, match="'mu'"):
        scalarize.smooth_tchebycheff(torch.ones(2, 2), torch.ones(2, 2), mu=0)


def test_hv1_without_ref_raises():
    """Calling hv1 through the registry without a reference point raises ConfigError."""
    with pytest.raises(ConfigError, match="needs a reference point"):
        scalarize.get("hv1")(torch.ones(2, 2), torch.ones(2, 2))


@pytest.mark.parametrize("name", scalarize.names())
def test_dict_round_trip(name):
    """to_dict gives {'name', **params} and from_dict rebuilds an equal scalarization."""
    s = scalarize.get(name)
    d = s.to_dict()
    assert d["name"] == name
    assert scalarize.from_dict(d) == s
    assert scalarize.from_dict(dict(d)).to_dict() == d


def test_dict_round_trip_keeps_params():
    """Non-default parameters survive the round trip; a dict without 'name' is rejected."""
    s = scalarize.get("smooth_tchebycheff", mu=0.02)
    assert s.to_dict() == {"name": "smooth_tchebycheff", "mu": 0.02}
    assert scalarize.from_dict(s.to_dict()).params["mu"] == 0.02
    assert scalarize.from_dict({"name": "epo", "relax": True}).relax is True
    with pytest.raises(ConfigError, match="'name'"):
        scalarize.from_dict({"mu": 0.1})
    with pytest.raises(ConfigError, match="no parameter 'bogus'"):
        scalarize.from_dict({"name": "pbi", "bogus": 1})


# ---------------------------------------------------------------------------- EPO
@pytest.mark.parametrize("dtype", DTYPES)
def test_epo_balance_weights_hand_computed(dtype):
    """With orthogonal gradients and λ·l = (0.9, 0.1), EPO puts all weight on objective 1.

    l̂ = (0.9, 0.1), μ = 0.9 log 1.8 + 0.1 log 0.2 > 0, a = λ(log 2l̂ − μ) = (+, −); with C = I,
    J = {1} = J*, so the LP is max α1·a1 + α2·a2 s.t. α1 ≥ 0, α2 ≥ a2: α = (1, 0), weights 2α.
    """
    epo = EPO()
    w = epo.weights(
        torch.tensor([[1.0, 1.0]], dtype=dtype),
        torch.tensor([[0.9, 0.1]], dtype=dtype),
        torch.eye(2, dtype=dtype).unsqueeze(0),
    )
    assert w.dtype == dtype and not w.requires_grad
    torch.testing.assert_close(w, torch.tensor([[2.0, 0.0]], dtype=dtype), atol=1e-7, rtol=0)
    assert epo.last_moves == ["bal"]
    mu = 0.9 * math.log(1.8) + 0.1 * math.log(0.2)
    assert epo.last_mu.item() == pytest.approx(mu)


def test_epo_descent_mode_when_balanced():
    """With λ·l uniform EPO is in descent mode; rows sum to m (or 1 without rescale)."""
    losses = torch.tensor([[2.0, 1.0], [1.0, 1.0]])
    prefs = torch.tensor([[1.0, 2.0], [0.5, 0.5]])
    grads = torch.tensor([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.2], [0.3, 1.0]]])
    epo = EPO()
    w = epo.weights(losses, prefs, grads)
    assert epo.last_moves == ["dom", "dom"]
    assert (w >= 0).all()
    torch.testing.assert_close(w.sum(-1), torch.full((2,), 2.0))
    w1 = EPO(rescale=False).weights(losses, prefs, grads)
    torch.testing.assert_close(w1, w / 2)


def test_epo_weights_shapes_and_batch(gen):
    """EPO weights have the shape of the losses, also with a leading batch dimension."""
    losses = torch.rand(3, 4, 2, generator=gen) + 0.1
    prefs = torch.rand(3, 4, 2, generator=gen) + 0.1
    grads = torch.randn(3, 4, 2, 7, generator=gen)
    w = EPO().weights(losses.requires_grad_(), prefs, grads)
    assert w.shape == (3, 4, 2) and not w.requires_grad and (w >= 0).all()
    out = EPO()(losses, prefs, grads=grads)
    assert out.shape == (3, 4)
    out.sum().backward()
    torch.testing.assert_close(losses.grad, w)


def test_epo_errors_and_fallback():
    """EPO rejects bad gradient shapes and losses below the ideal; zero gradients fall back."""
    losses, prefs = torch.ones(2, 3), torch.full((2, 3), 1 / 3)
    with pytest.raises(ShapeError, match=r"grads of shape \(2, 2, 5\).*losses of shape \(2, 3\)"):
        EPO().weights(losses, prefs, torch.ones(2, 2, 5))
    with pytest.raises(ShapeError, match="losses must be >= ideal"):
        EPO().weights(-losses, prefs, torch.ones(2, 3, 5))
    epo = EPO()
    w = epo.weights(losses, torch.tensor([0.2, 0.3, 0.5]), torch.zeros(2, 3, 5))
    assert epo.last_moves == ["fallback", "fallback"]
    torch.testing.assert_close(w, torch.tensor([[0.6, 0.9, 1.5]] * 2))


def test_epo_reaches_exact_pareto_point():
    """Descent with EPO weights on f1 = ‖x − a‖², f2 = ‖x − b‖² reaches λ1 f1 = λ2 f2.

    The Pareto set is the segment x = a + t(b − a), where f1 = t²D², f2 = (1 − t)²D²; the exact
    Pareto optimal point for λ has t/(1 − t) = √(λ2/λ1).
    """
    a = torch.tensor([0.0, 0.0], dtype=torch.float64)
    b = torch.tensor([1.0, 1.0], dtype=torch.float64)
    prefs = torch.tensor([[0.2, 0.8], [0.7, 0.3]], dtype=torch.float64)
    x = torch.tensor([[2.0, -1.0], [-1.0, 2.5]], dtype=torch.float64)
    epo = EPO()
    for _ in range(200):
        f = torch.stack([((x - a) ** 2).sum(-1), ((x - b) ** 2).sum(-1)], -1)
        grads = torch.stack([2 * (x - a), 2 * (x - b)], dim=1)  # (K, m, d)
        w = epo.weights(f, prefs, grads)
        assert (w >= 0).all()
        x = x - 0.05 * (w.unsqueeze(-1) * grads).sum(1)
    f = torch.stack([((x - a) ** 2).sum(-1), ((x - b) ** 2).sum(-1)], -1)
    r = torch.sqrt(prefs[:, 1] / prefs[:, 0])
    t = r / (1 + r)
    torch.testing.assert_close(x, a + t[:, None] * (b - a), atol=1e-2, rtol=0)
    lf = prefs * f
    torch.testing.assert_close(lf[:, 0], lf[:, 1], atol=0, rtol=3e-2)
