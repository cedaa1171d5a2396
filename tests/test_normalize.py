"""Objective normalisation: scale invariance of the learned front, running estimates, state."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from hybridmoo import problems
from hybridmoo.errors import ConfigError
from hybridmoo.normalize import ObjectiveNormalizer, resolve_mode
from hybridmoo.train import TrainConfig, train


class Scaled:
    """``base`` with objective 2 multiplied by ``factor`` (ideal/nadir scaled, or unknown)."""

    def __init__(self, base, factor: float, known: bool = True) -> None:
        self.base = base
        self.name = base.name
        self.n_obj, self.n_var = base.n_obj, base.n_var
        self.bounds = base.bounds
        self.s = torch.tensor([1.0, factor], dtype=torch.float64)
        self.ideal = base.ideal * self.s if known else None
        self.nadir = base.nadir * self.s if known else None
        self.ref_point = base.ref_point * self.s

    def evaluate(self, x):
        return self.base.evaluate(x) * self.s.to(x.dtype)

    def pareto_front(self, n):
        return self.base.pareto_front(n) * self.s.numpy()

    def describe(self) -> dict:
        return {**self.base.describe(), "scaled": self.s.tolist()}


RUN = {"steps": 120, "eval_every": 60, "n_eval": 20, "n_prefs": 4, "lr": 3e-3,
       "dtype": "float64", "threads": 1}
NET = {"width": 16, "embed_dim": 8}


@pytest.mark.parametrize("known", [True, False])
def test_front_is_invariant_to_scaling_an_objective(known):
    """ZDT1 with f2 × 1e4 learns the same front, scaled, under normalize='auto' (known points or
    running estimates); raw losses ('none') learn a different one."""
    base = problems.get("zdt1", n_var=4)
    r0 = train(Scaled(base, 1.0, known), hypernet=NET, seed=3, normalize="auto", **RUN)
    r1 = train(Scaled(base, 1e4, known), hypernet=NET, seed=3, normalize="auto", **RUN)
    assert r0.ok and r1.ok
    np.testing.assert_allclose(r1.F / np.array([1.0, 1e4]), r0.F, rtol=1e-6, atol=1e-9)
    # HV scales with the objective (reference point scaled too)
    assert r1.hv == pytest.approx(1e4 * r0.hv, rel=1e-6)
    raw = train(Scaled(base, 1e4, known), hypernet=NET, seed=3, normalize="none", **RUN)
    assert raw.ok
    assert np.abs(raw.F / np.array([1.0, 1e4]) - r0.F).max() > 1e-2


def test_running_estimates_on_a_hand_made_stream():
    """Ideal = running minimum; nadir = EMA of each step's maximum, a spike clipped to one range."""
    n = ObjectiveNormalizer(2, "auto", rate=0.5, clip=1.0, dtype=torch.float64)
    assert n.needs_updates
    n.update(torch.tensor([[1.0, 10.0], [3.0, 30.0]]))
    np.testing.assert_allclose(n.ideal(), [1.0, 10.0])
    np.testing.assert_allclose(n.nadir(), [3.0, 30.0])  # the first step's maximum
    n.update(torch.tensor([[0.5, 20.0], [2.0, 25.0]]))
    np.testing.assert_allclose(n.ideal(), [0.5, 10.0])
    np.testing.assert_allclose(n.nadir(), [3.0 + 0.5 * (2.0 - 3.0), 30.0 + 0.5 * (25.0 - 30.0)])
    lo, hi = n.ideal().copy(), n.nadir().copy()
    n.update(torch.tensor([[1.0, 1e6], [1.0, 26.0]]))  # a spike in objective 2
    cap = hi[1] + 1.0 * (hi[1] - lo[1])
    assert n.nadir()[1] == pytest.approx(hi[1] + 0.5 * (cap - hi[1]))
    assert n.nadir()[1] < 50.0
    # transform maps the estimates to 0 and 1, differentiably
    L = torch.tensor([[0.5, 10.0]], dtype=torch.float64, requires_grad=True)
    out = n.transform(L)
    np.testing.assert_allclose(out.detach().numpy(), [[0.0, 0.0]], atol=1e-12)
    out.sum().backward()
    np.testing.assert_allclose(L.grad.numpy(), [[1 / n.scale()[0], 1 / n.scale()[1]]])
    # NaN rows are ignored; a constant objective gets a floored, finite scale
    c = ObjectiveNormalizer(2, "auto")
    c.update(torch.tensor([[2.0, float("nan")], [2.0, float("nan")]]))
    assert np.isfinite(c.scale()[0]) and c.scale()[0] > 0 and np.isnan(c.ideal()[1])


def test_known_points_win_over_estimates_and_modes():
    """Known ideal/nadir are used as published; 'none' passes raw losses; 'known' needs both."""
    k = ObjectiveNormalizer(2, "auto", ideal=[0.0, 0.0], nadir=[2.0, 4.0])
    assert not k.needs_updates
    np.testing.assert_allclose(k.transform(torch.tensor([[1.0, 1.0]])).numpy(), [[0.5, 0.25]])
    half = ObjectiveNormalizer(2, "auto", ideal=[0.0, 0.0], dtype=torch.float64)
    half.update(torch.tensor([[1.0, 3.0], [2.0, 5.0]]))
    np.testing.assert_allclose(half.ideal(), [0.0, 0.0])
    np.testing.assert_allclose(half.nadir(), [2.0, 5.0])
    none = ObjectiveNormalizer(2, "none", ideal=[0.0, -1.0])
    L = torch.tensor([[5.0, 7.0]])
    assert none.transform(L) is L
    np.testing.assert_allclose(none.scalarization_ideal().numpy(), [0.0, -1.0])
    with pytest.raises(ConfigError, match="needs the problem's ideal and nadir"):
        ObjectiveNormalizer(2, "known", ideal=[0.0, 0.0])
    with pytest.raises(ConfigError, match="not above its ideal"):
        ObjectiveNormalizer(2, "auto", ideal=[0.0, 1.0], nadir=[1.0, 1.0])


def test_state_round_trip():
    """state_dict → JSON → load_state_dict reproduces the estimates and the mapping."""
    a = ObjectiveNormalizer(3, "auto", dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    for _ in range(7):
        a.update(torch.rand(5, 3, generator=g, dtype=torch.float64) * torch.tensor([1, 1e3, 1e-3]))
    b = ObjectiveNormalizer(3, "auto", dtype=torch.float64)
    b.load_state_dict(json.loads(json.dumps(a.state_dict())))
    L = torch.rand(4, 3, generator=g, dtype=torch.float64)
    torch.testing.assert_close(a.transform(L), b.transform(L))
    assert b.count == 7
    b.update(L)
    a.update(L)
    np.testing.assert_allclose(a.nadir(), b.nadir())
    with pytest.raises(ConfigError, match="does not fit"):
        ObjectiveNormalizer(2, "auto").load_state_dict(a.state_dict())


def test_config_accepts_booleans_and_rejects_others():
    """normalize=True/False map to 'auto'/'none'; a typo names the valid modes."""
    assert TrainConfig(normalize=True).normalize == "auto"
    assert TrainConfig(normalize=False).normalize == "none"
    assert TrainConfig.from_dict({"normalize": "KNOWN"}).normalize == "known"
    assert resolve_mode(np.bool_(True)) == "auto"
    with pytest.raises(ConfigError, match="'auto', 'known', 'none'"):
        TrainConfig(normalize="minmax")


def test_raw_re21_front_spreads_only_when_normalised():
    """RE21 with raw objectives: normalisation (the default) gives a much larger HV than raw
    losses, and the result records what the scalarisation saw."""
    p = problems.get("re21")
    run = {"steps": 300, "eval_every": 300, "n_eval": 50, "threads": 1}
    auto = train(p, seed=0, **run)
    raw = train(p, seed=0, normalize="none", **run)
    assert auto.ok and raw.ok
    assert auto.hv > 2 * raw.hv
    np.testing.assert_allclose(auto.extra["normalize"]["nadir"], p.nadir.numpy())
    assert "normalize" not in raw.extra


def test_observe_bounds_widens_the_running_estimates():
    """An evolutionary start's ideal/nadir seed the estimates; later ones only widen them."""
    import numpy as np

    from hybridmoo.normalize import ObjectiveNormalizer

    n = ObjectiveNormalizer(2, "auto")
    n.observe_bounds([0.0, 1.0], [2.0, 3.0])
    np.testing.assert_array_equal(n.ideal(), [0.0, 1.0])
    np.testing.assert_array_equal(n.nadir(), [2.0, 3.0])
    n.observe_bounds([0.5, -1.0], [1.0, 4.0])
    np.testing.assert_array_equal(n.ideal(), [0.0, -1.0])
    np.testing.assert_array_equal(n.nadir(), [2.0, 4.0])


def _zdt2_torch(x):
    g = 1 + 9 * x[..., 1:].mean(-1)
    return torch.stack([x[..., 0], g * (1 - (x[..., 0] / g) ** 2)], -1)


def test_a_given_reference_point_stands_in_for_an_unknown_nadir():
    """"auto" takes a user's reference point as the nadir where the problem publishes none;
    an estimated reference point, a data problem, a known nadir and the other modes do not."""
    given = problems.from_function(_zdt2_torch, 4, 2, 0.0, 1.0, ref_point=[1.1, 3.0])
    n = ObjectiveNormalizer.for_problem(given)
    np.testing.assert_allclose(n.nadir(), [1.1, 3.0])
    assert n.needs_updates  # the ideal is still estimated
    np.testing.assert_allclose(n.nadir_known(), [1.1, 3.0])
    assert not np.isfinite(ObjectiveNormalizer.for_problem(given, "none").known_nadir).any()
    with pytest.raises(ConfigError, match="nadir"):  # "known" means the problem's own only
        ObjectiveNormalizer.for_problem(given, "known")
    estimated = problems.from_function(_zdt2_torch, 4, 2, 0.0, 1.0)
    assert estimated.ref_point_source.startswith("estimated")
    assert ObjectiveNormalizer.for_problem(estimated).nadir_known() is None
    own = problems.from_function(_zdt2_torch, 4, 2, 0.0, 1.0, ref_point=[1.1, 3.0],
                                 nadir=[1.0, 1.0])
    np.testing.assert_allclose(ObjectiveNormalizer.for_problem(own).nadir(), [1.0, 1.0])
    data = problems.get("mtl_regression")
    assert data.nadir is None and ObjectiveNormalizer.for_problem(data).nadir_known() is None


def test_a_users_concave_problem_keeps_its_front_with_a_reference_point():
    """ZDT2 written as a torch function, no ideal or nadir given: with the reference point as
    nadir the front spreads (HV near the true 0.537 at this budget); a collapsed front (its end
    point alone) scores 0.11."""
    p = problems.from_function(_zdt2_torch, 10, 2, 0.0, 1.0, ref_point=[1.1, 1.1])
    for seed in (0, 1):
        r = train(p, steps=300, seed=seed, threads=1, eval_every=10**6, n_eval=50)
        assert r.ok and r.hv > 0.5, (seed, r.hv)
        assert r.extra["normalize"]["nadir"] == pytest.approx([1.1, 1.1])
