"""Tests of controllable Pareto MTL: the ``pmtl`` scalarisation and the ``cpmtl_*`` baselines."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

import hybridmoo.baselines.cpmtl as cpmtl  # registers cpmtl_ls and cpmtl_pmtl
from hybridmoo import baselines, scalarize
from hybridmoo.errors import ConfigError, ShapeError
from hybridmoo.scalarize import PMTL

DTYPES = [torch.float32, torch.float64]
R2 = 1 / math.sqrt(2.0)


# ---------------------------------------------------------------------------- hand-checked
@pytest.mark.parametrize("dtype", DTYPES)
def test_pmtl_weights_hand_computed(dtype):
    """Orthogonal gradients, p = (½, ½), l = (1, 3): one active constraint, α = (1 ∓ 1/√2).

    Reference vectors (n_refs = 3): (1, 0), (1, 1)/√2, (0, 1); p̂ = (1, 1)/√2. With
    l̂ = (1, 3)/√10: (u_1 − p̂)·l̂ < 0, u_2 = p̂ gives 0, and a = u_3 − p̂ = (−1/√2, 1 − 1/√2)
    has a·l̂ > 0 (l leans towards objective 2's axis). With G = I the min-norm point of the
    triangle {e1, e2, a} lies on the edge e1–a at t = (2 + √2)/6, i.e. (λ, β) = (1 − t, 0, t)
    and α = λ + t·a = ((3 − 2√2)/6, 1/6); rescaled to Σ|α| = 2: (1 − 1/√2, 1 + 1/√2). So the
    larger loss L_2 gets the larger weight, and the step −Σα_i g_i decreases a·l.
    """
    s = PMTL(n_refs=3, warmup_steps=0)
    G = torch.eye(2, dtype=dtype).unsqueeze(0)
    w = s.weights(torch.tensor([[1.0, 3.0]], dtype=dtype), torch.tensor([[0.5, 0.5]], dtype=dtype),
                  G)
    assert w.dtype == dtype and w.shape == (1, 2) and not w.requires_grad
    expected = torch.tensor([[1 - R2, 1 + R2]], dtype=dtype)
    torch.testing.assert_close(w, expected, atol=1e-4, rtol=0)  # SLSQP (3 vectors) tolerance
    assert s.last_active.tolist() == [1] and s.last_phase == ["main"]
    a = torch.tensor([-R2, 1 - R2], dtype=dtype)
    assert float(a @ w[0]) > 0  # the descent step −Σ α_i g_i lowers the violated constraint
    # the mirror image: l = (3, 1) swaps the weights
    w2 = PMTL(n_refs=3, warmup_steps=0).weights(torch.tensor([[3.0, 1.0]], dtype=dtype),
                                torch.tensor([[0.5, 0.5]], dtype=dtype), G)
    torch.testing.assert_close(w2, expected.flip(-1), atol=1e-4, rtol=0)


def test_pmtl_feasible_row_is_mgda():
    """A loss vector on the preferred ray activates no constraint: the weights are MGDA's, ×m.

    With ``direction="inverse"`` p = (¾, ¼) wants l ∝ 1/p ∝ (1, 3) (objective 1 smaller); with
    ``"aligned"`` the same ray belongs to p = (¼, ¾). Gradients g1 = (1, 0), g2 = (1, 1): MGDA's
    min-norm point of the segment is g1 (α = (1, 0)), rescaled to (2, 0).
    """
    G = torch.tensor([[[1.0, 0.0], [1.0, 1.0]]], dtype=torch.float64)
    l = torch.tensor([[1.0, 3.0]], dtype=torch.float64)
    for direction, p in (("inverse", [0.75, 0.25]), ("aligned", [0.25, 0.75])):
        s = PMTL(direction=direction)
        w = s.weights(l, torch.tensor([p], dtype=torch.float64), G)
        assert s.last_active.tolist() == [0], direction
        torch.testing.assert_close(w, torch.tensor([[2.0, 0.0]], dtype=torch.float64))
    # the opposite preference makes the same losses infeasible
    s = PMTL()
    s.weights(l, torch.tensor([[0.25, 0.75]], dtype=torch.float64), G)
    assert s.last_active.item() > 0


def test_pmtl_warmup_uses_constraints_only():
    """In the initial phase an infeasible row descends on its active constraint alone.

    Same case as the hand-computed test: the only active constraint is a = u_3 − p̂, so
    α = a = (−1/√2, 1 − 1/√2) (β = 1, not rescaled): training raises L_1 and lowers L_2,
    towards the ray. After ``warmup_steps`` calls the main step takes over.
    """
    s = PMTL(n_refs=3, warmup_steps=1)
    args = (torch.tensor([[1.0, 3.0]], dtype=torch.float64),
            torch.tensor([[0.5, 0.5]], dtype=torch.float64),
            torch.eye(2, dtype=torch.float64).unsqueeze(0))
    w = s.weights(*args)
    torch.testing.assert_close(w, torch.tensor([[-R2, 1 - R2]], dtype=torch.float64))
    assert s.last_phase == ["warmup"] and s.steps_seen == 1
    w = s.weights(*args)
    assert s.last_phase == ["main"] and s.steps_seen == 2
    torch.testing.assert_close(w, torch.tensor([[1 - R2, 1 + R2]], dtype=torch.float64),
                               atol=1e-4, rtol=0)
    # warmup_steps=None: infeasible rows always take the initial-phase step, feasible ones not
    s = PMTL(n_refs=3, warmup_steps=None)
    l2 = torch.tensor([[1.0, 3.0], [1.0, 1.0]], dtype=torch.float64)
    s.weights(l2, torch.tensor([0.5, 0.5], dtype=torch.float64),
              torch.eye(2, dtype=torch.float64).expand(2, 2, 2))
    assert s.last_phase == ["warmup", "main"]


# ---------------------------------------------------------------------------- shapes, errors
def test_pmtl_shapes_batch_and_gradient(gen):
    """Weights have the shape of the losses (also batched); the value's gradient is α."""
    losses = (torch.rand(3, 4, 2, generator=gen) + 0.1).requires_grad_()
    prefs = torch.rand(3, 4, 2, generator=gen) + 0.05
    grads = torch.randn(3, 4, 2, 7, generator=gen)
    s = PMTL()
    w = s.weights(losses, prefs, grads)
    assert w.shape == (3, 4, 2) and not w.requires_grad and s.last_active.shape == (3, 4)
    # main-phase rows are rescaled to Σ|α| = m
    main = torch.tensor([p == "main" for p in s.last_phase]).reshape(3, 4)
    torch.testing.assert_close(w.abs().sum(-1)[main], torch.full((int(main.sum()),), 2.0))
    out = PMTL()(losses, prefs, grads=grads)
    assert out.shape == (3, 4)
    out.sum().backward()
    torch.testing.assert_close(losses.grad, PMTL().weights(losses, prefs, grads))
    # three objectives: the Das–Dennis reference vectors, unit length
    s3 = PMTL(n_refs=6)
    w3 = s3.weights(torch.rand(5, 3, generator=gen) + 0.1, torch.full((3,), 1 / 3),
                    torch.randn(5, 3, 4, generator=gen))
    assert w3.shape == (5, 3) and torch.isfinite(w3).all()
    np.testing.assert_allclose(np.linalg.norm(s3.reference_vectors(3), axis=1), 1.0)


def test_pmtl_errors():
    """Mismatched gradients, negative or all-zero preferences raise ShapeError naming the issue."""
    losses = torch.ones(2, 3)
    with pytest.raises(ShapeError, match=r"grads of shape \(2, 2, 5\).*losses of shape \(2, 3\)"):
        PMTL().weights(losses, torch.full((2, 3), 1 / 3), torch.ones(2, 2, 5))
    with pytest.raises(ShapeError, match="non-negative"):
        PMTL().weights(losses, torch.tensor([0.5, -0.1, 0.6]), torch.ones(2, 3, 5))
    with pytest.raises(ShapeError, match="at least one positive entry"):
        PMTL().weights(losses, torch.zeros(3), torch.ones(2, 3, 5))
    with pytest.raises(ShapeError, match=r"prefs of shape \(2,\)"):
        PMTL().weights(losses, torch.ones(2), torch.ones(2, 3, 5))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"n_refs": 1}, r"'n_refs' must be an integer >= 2, got 1"),
        ({"n_refs": 2.5}, r"'n_refs' must be an integer >= 2"),
        ({"warmup_steps": -1}, r"'warmup_steps' must be an integer >= 0 or None"),
        ({"direction": "up"}, r"'direction' must be 'inverse' or 'aligned'"),
        ({"eps": 0.0}, r"'eps' must be a number in \(0, 1\)"),
        ({"rescale": True}, r"no parameter 'rescale'.*n_refs=3"),
    ],
)
def test_pmtl_invalid_params(params, match):
    """Invalid or unknown parameters raise ConfigError naming the key and the allowed values."""
    with pytest.raises(ConfigError, match=match):
        scalarize.get("pmtl", **params)


def test_pmtl_registry_round_trip():
    """'pmtl' is registered, needs gradients, and survives to_dict/from_dict with int params."""
    assert "pmtl" in scalarize.names() and scalarize.needs_grads("pmtl")
    assert not scalarize.needs_ref("pmtl")
    s = scalarize.get("PMTL", n_refs=7, warmup_steps=20, direction="aligned")
    assert isinstance(s, PMTL) and s.needs_grads
    d = s.to_dict()
    assert d == {"name": "pmtl", "n_refs": 7, "warmup_steps": 20, "direction": "aligned",
                 "eps": 1e-4}
    assert isinstance(d["n_refs"], int)
    assert scalarize.from_dict(d) == s and scalarize.from_dict(d) != PMTL()


# ---------------------------------------------------------------------------- the paper's claim
REG = {"conflict": 1.0, "hidden": (4,), "in_dim": 20, "n_train": 1000, "n_test": 500}


def _front(method: str, steps: int, seed: int = 0, **kw):
    r = baselines.run(method, "mtl_regression", baselines.Budget("steps", steps), seed=seed,
                      problem_options=REG, n_eval=11, threads=1,
                      hypernet={"n_chunks": 8, "chunk_embed_dim": 16, "chunk_hidden": 32},
                      train={"lr": 3e-3, "batch_size": 128}, **kw)
    assert r.status == "ok", r.error
    return r


def _assert_controlled(r, tol: float) -> None:
    """L_1 falls and L_2 rises as p_1 grows (up to ``tol``), with Spearman ρ beyond ∓0.9."""
    order = np.argsort(r.prefs[:, 0])
    p1, F = r.prefs[order, 0], r.F[order]
    assert spearmanr(p1, F[:, 0])[0] < -0.9, F
    assert spearmanr(p1, F[:, 1])[0] > 0.9, F
    assert np.diff(F[:, 0]).max() <= tol, F
    assert np.diff(F[:, 1]).min() >= -tol, F
    # a real trade-off, not noise around one point: the ends differ clearly
    assert F[0, 0] - F[-1, 0] > 10 * tol and F[-1, 1] - F[0, 1] > 10 * tol, F


def test_ls_front_is_controlled_fast():
    """(A) After 150 steps of linear scalarisation, test losses follow the preference.

    Over 11 evenly spread preferences L_1 does not rise and L_2 does not fall as p_1 grows (up
    to 1e-3), with Spearman ρ(p_1, L_1) < −0.9 and ρ(p_1, L_2) > 0.9 (the paper's claim of
    control, on the small synthetic regression whose two tasks compete for a 4-unit trunk).
    """
    _assert_controlled(_front("cpmtl_ls", 150), tol=1e-3)


def test_pmtl_front_is_controlled_fast():
    """(B) After 300 steps of the Pareto MTL update, test losses follow the preference.

    The same claim as for (A) with a looser step tolerance (0.01): (B) steers each preference
    towards its ray l ∝ 1/p, so the ends of the front are far apart and neighbouring extreme
    preferences can overshoot slightly.
    """
    _assert_controlled(_front("cpmtl_pmtl", 300), tol=1e-2)


def test_methods_registered_with_chunked_hypernetwork():
    """Both methods are registered as 'psl' baselines and default to the chunked hypernetwork."""
    for name in ("cpmtl_ls", "cpmtl_pmtl"):
        entry = baselines.get(name)
        assert entry.family == "psl" and "2010.06313" in entry.paper
    assert cpmtl.CPMTL_HYPERNET["head"] == "chunked"
    r = baselines.run("cpmtl_pmtl", "mtl_regression", baselines.Budget("steps", 2), seed=0,
                      problem_options={"n_train": 64, "n_test": 32}, n_eval=3, n_refs=5,
                      warmup_steps=1, train={"batch_size": 32})
    assert r.status == "ok", r.error
    assert r.params["hypernet"]["head"] == "chunked"
    assert r.params["train"]["scalarization"] == {
        "name": "pmtl", "n_refs": 5, "warmup_steps": 1, "direction": "inverse"}
    assert r.extra["n_target_params"] > 0 and r.budget_used["steps"] == 2
    with pytest.raises(ConfigError, match="'direction'"):
        baselines.run("cpmtl_pmtl", "mtl_regression", baselines.Budget("steps", 1), seed=0,
                      direction="sideways")


@pytest.mark.slow
def test_multimnist_pmtl_front_is_ordered():
    """(B) on Multi-MNIST (2,000 training overlays, 300 steps): losses ordered by the preference.

    Over 11 preferences, as p_1 grows L_1 falls and L_2 rises, each by more than 0.2 across the
    front, and neither moves the wrong way between neighbouring preferences by more than 5 % of
    its spread; the front beats the reference point (2, 2) (HV > 0). Monotone up to that
    tolerance, not strictly: near the end where a task already dominates its loss sits on a
    plateau, and the order of floating-point sums moves it by a few thousandths (measured with
    numpy 2.4.6: L_2 = 0.6245, 0.6219, 0.6209 at p_1 = 0, 0.1, 0.2, then rising to 0.912; a
    rank correlation there reads 0.77 although the trade-off is plain). (A) is not tested here:
    with this hypernetwork and budget linear scalarisation leaves the Multi-MNIST losses almost
    independent of the preference (results/cpmtl.md).
    """
    r = baselines.run("cpmtl_pmtl", "multi_mnist", baselines.Budget("steps", 300), seed=0,
                      problem_options={"n_train": 2000, "n_val": 500, "n_test": 500},
                      n_eval=11, threads=1)
    assert r.status == "ok", r.error
    order = np.argsort(r.prefs[:, 0])
    p1, F = r.prefs[order, 0], r.F[order]
    assert r.hv > 0
    assert np.all(np.diff(p1) > 0)
    spread = np.array([F[0, 0] - F[-1, 0], F[-1, 1] - F[0, 1]])
    assert (spread > 0.2).all(), F
    wrong_way = np.array([np.diff(F[:, 0]).max(), (-np.diff(F[:, 1])).max()])
    assert (wrong_way < 0.05 * spread).all(), (wrong_way, spread, F)
    assert spearmanr(p1, F[:, 0])[0] < -0.9, F
