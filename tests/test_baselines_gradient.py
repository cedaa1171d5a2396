"""Tests of hybridmoo.baselines.gradient: each method against an analytic result on a quadratic.

The test problem is f_1 = ‖x − a‖², f_2 = ‖x − b‖² on [−2, 2]^3 (optionally a third objective
‖x − c‖²). Its Pareto set is the segment [a, b] (the triangle abc for three objectives), the
minimiser of λ_1 f_1 + λ_2 f_2 is (λ_1 a + λ_2 b)/(λ_1 + λ_2), and on the segment
x = (1 − t) a + t b the objectives are f = (t², (1 − t)²)·‖a − b‖².
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from hybridmoo import baselines
from hybridmoo.baselines import cagrad as cagrad_mod
from hybridmoo.baselines.gradient import (
    cagrad_direction,
    ls_direction,
    mgda_direction,
    min_norm_weights,
    pcgrad_direction,
)
from hybridmoo.errors import ConfigError
from hybridmoo.problems import Problem

A = (1.0, 0.0, 0.5)
B = (0.0, 1.0, 0.5)
C3 = (0.0, 0.0, -0.5)
STEPS = baselines.Budget("steps", 150)


class Quadratic(Problem):
    """f_i = ‖x − c_i‖² for centres c_i, x ∈ [−2, 2]^3."""

    def __init__(self, centres=(A, B)):
        self.centres = torch.tensor(centres, dtype=torch.float64)
        m = len(centres)
        self._setup(name="quadratic", n_var=3, n_obj=m, lower=-2.0, upper=2.0,
                    ref_point=[20.0] * m, ref_point_source="test", ideal=[0.0] * m)

    def _evaluate(self, x):
        c = self.centres.to(x)
        return ((x.unsqueeze(-2) - c) ** 2).sum(-1)


class NaNProblem(Quadratic):
    """The quadratic, but every objective is NaN."""

    def _evaluate(self, x):
        return super()._evaluate(x) * float("nan")


@pytest.fixture(autouse=True)
def one_thread():
    """Run torch on one thread (the machine is shared), restoring the previous setting."""
    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(prev)


def segment_distance(X: np.ndarray, a=A, b=B) -> np.ndarray:
    """Distance of each row of X to the segment [a, b]."""
    a, b = np.asarray(a), np.asarray(b)
    t = np.clip(((X - a) @ (b - a)) / ((b - a) @ (b - a)), 0.0, 1.0)
    return np.linalg.norm(X - (a + t[:, None] * (b - a)), axis=1)


def quad_grads(X: np.ndarray, centres=(A, B)) -> torch.Tensor:
    """`(P, m, d)` analytic gradients 2(x − c_i) of the quadratic."""
    X = torch.as_tensor(X, dtype=torch.float64)
    c = torch.tensor(centres, dtype=torch.float64)
    return 2 * (X.unsqueeze(1) - c)


def run(method, problem=None, budget=STEPS, **params):
    r = baselines.run(method, problem or Quadratic(), budget, seed=0, **params)
    assert r.status == "ok", r.error
    return r


# ------------------------------------------------------------------------------- methods
def test_registry_lists_the_six_gradient_methods():
    """The gradient family registers LS, MGDA-UB, PCGrad, CAGrad, EPO and Pareto MTL."""
    assert {"ls", "mgda_ub", "pcgrad", "cagrad", "epo", "pmtl"} <= set(baselines.names("gradient"))
    for name in baselines.names("gradient"):
        assert baselines.get(name).paper


def test_ls_reaches_the_analytic_minimiser():
    """LS's solution for λ is (λ_1 a + λ_2 b)/(λ_1 + λ_2) to 1e-6."""
    r = run("ls", n_prefs=7)
    lam = r.prefs
    expected = (lam[:, :1] * np.asarray(A) + lam[:, 1:] * np.asarray(B)) / lam.sum(1, keepdims=True)
    np.testing.assert_allclose(r.X, expected, atol=1e-6)
    assert r.F.shape == (7, 2) and r.X.shape == (7, 3)


def test_mgda_ends_pareto_stationary():
    """MGDA's points lie on the segment [a, b] and the min-norm element there is ~0."""
    r = run("mgda_ub", n_prefs=6)
    assert segment_distance(r.X).max() < 1e-4
    G = quad_grads(r.X)
    D, alpha = mgda_direction(G)
    assert torch.linalg.vector_norm(D, dim=-1).max() < 1e-4
    assert r.extra["direction_norm"].max() < 1e-4
    np.testing.assert_allclose(alpha.sum(-1).numpy(), 1.0)


def test_mgda_three_objectives_uses_the_qp():
    """With three objectives (SLSQP path) MGDA ends where the min-norm element is ~0."""
    centres = (A, B, C3)
    r = run("mgda_ub", Quadratic(centres), baselines.Budget("steps", 80), n_prefs=3)
    D, _ = mgda_direction(quad_grads(r.X, centres))
    assert torch.linalg.vector_norm(D, dim=-1).max() < 1e-3


def test_min_norm_weights_known_answers():
    """The min-norm weights match hand-worked cases for two and three vectors."""
    # v1 = (1, 0), v2 = (0, 1): the midpoint (½, ½) has the least norm
    np.testing.assert_allclose(min_norm_weights(np.eye(2)), [0.5, 0.5])
    # v1 = (1, 0), v2 = (2, 0): v1 itself
    np.testing.assert_allclose(min_norm_weights(np.array([[1.0, 2.0], [2.0, 4.0]])), [1, 0])
    # three unit vectors at 120°: the centroid, the origin, with equal weights
    V = np.array([[1.0, 0.0], [-0.5, math.sqrt(3) / 2], [-0.5, -math.sqrt(3) / 2]])
    w = min_norm_weights(V @ V.T)
    np.testing.assert_allclose(w, [1 / 3, 1 / 3, 1 / 3], atol=1e-6)
    assert np.linalg.norm(w @ V) < 1e-6


def test_pcgrad_surgery_keeps_both_gradients_decreasing():
    """For two conflicting gradients the PCGrad update makes an acute angle with both."""
    gen = torch.Generator().manual_seed(0)
    rng = np.random.default_rng(0)
    for _ in range(50):
        g = torch.as_tensor(rng.normal(size=(2, 4)))
        if float(g[0] @ g[1]) >= 0:
            g[1] = g[1] - 2 * (g[0] @ g[1]) / (g[0] @ g[0]) * g[0]  # make them conflict
        assert float(g[0] @ g[1]) < 0
        w = torch.as_tensor(rng.dirichlet([1.0, 1.0])).reshape(1, 2)
        d = pcgrad_direction(g.unsqueeze(0), w, gen)[0]
        assert float(d @ g[0]) >= -1e-12 and float(d @ g[1]) >= -1e-12
    # non-conflicting gradients are left alone: the weighted sum
    g = torch.tensor([[[1.0, 0.0], [1.0, 1.0]]], dtype=torch.float64)
    w = torch.tensor([[0.25, 0.75]], dtype=torch.float64)
    torch.testing.assert_close(pcgrad_direction(g, w, gen), ls_direction(g, w))


def test_pcgrad_converges_onto_the_pareto_set():
    """PCGrad's points end on the segment [a, b]."""
    r = run("pcgrad", n_prefs=6)
    assert segment_distance(r.X).max() < 1e-4


def test_cagrad_with_c_zero_is_the_averaged_gradient():
    """With c = 0 CAGrad's direction is the λ-weighted average gradient (m = 2 and m = 3)."""
    rng = np.random.default_rng(1)
    for m in (2, 3):
        G = torch.as_tensor(rng.normal(size=(5, m, 4)))
        lam = torch.as_tensor(rng.dirichlet(np.ones(m), size=5))
        d, _ = cagrad_direction(G, lam, c=0.0)
        torch.testing.assert_close(d, (lam.unsqueeze(-1) * G).sum(1))
        uniform = torch.full((5, m), 1.0 / m, dtype=torch.float64)
        d, _ = cagrad_direction(G, uniform, c=0.0)
        torch.testing.assert_close(d, G.mean(1))


def test_cagrad_two_objective_dual_is_exact():
    """The closed-form dual for m = 2 is no worse than a fine grid search over the simplex."""
    rng = np.random.default_rng(2)
    for _ in range(30):
        G = rng.normal(size=(2, 3)) * rng.uniform(0.1, 5, size=(2, 1))
        M = G @ G.T
        c = rng.uniform(0.1, 1.5)
        t = cagrad_mod.cagrad_dual_2(M[None], c)[0, 0]
        b, g0 = M.mean(1), math.sqrt(M.mean())

        grid = np.append(np.linspace(0, 1, 20001), t)
        w = np.stack([grid, 1 - grid], axis=-1)
        h = w @ b + c * g0 * np.sqrt(np.clip(np.einsum("ki,ij,kj->k", w, M, w), 0, None))
        assert h[-1] <= h[:-1].min() + 1e-9


def test_cagrad_converges_onto_the_pareto_set():
    """CAGrad (c = 0.5) ends on the segment [a, b]."""
    r = run("cagrad", n_prefs=6)
    assert segment_distance(r.X).max() < 1e-4


def test_epo_reaches_the_exact_proportional_point():
    """EPO's points satisfy λ_1 f_1 = λ_2 f_2 within EPO's balance tolerance, on the segment."""
    # EPO stops balancing once μ = KL(l̂ ‖ 1/m) <= mu_tol; for m = 2 and l̂ = (½ + e, ½ − e),
    # μ ≈ 2e² and the relative gap |λ_1 f_1 − λ_2 f_2| / mean = 4e, so mu_tol = 1e-4 allows
    # about 2.8% and mu_tol = 1e-6 about 0.3%.
    for mu_tol, tol in ((1e-4, 0.03), (1e-6, 0.005)):
        r = run("epo", n_prefs=5, budget=baselines.Budget("steps", 60), mu_tol=mu_tol)
        wl = r.prefs * r.F
        rel = np.abs(wl[:, 0] - wl[:, 1]) / wl.mean(1)
        assert rel.max() < tol, rel
        assert segment_distance(r.X).max() < 1e-3


def test_pmtl_solutions_end_in_their_subregions():
    """Each Pareto MTL point is closest in angle to its own reference vector, in order."""
    r = run("pmtl", n_prefs=5, budget=baselines.Budget("steps", 200))
    u = r.prefs / np.linalg.norm(r.prefs, axis=1, keepdims=True)
    f = r.F / np.linalg.norm(r.F, axis=1, keepdims=True)
    angle = np.arccos(np.clip(f @ u.T, -1.0, 1.0))  # (model, reference vector)
    own = angle[np.arange(len(u)), np.arange(len(u))]
    # a model may stop on the border of its sub-region, a constraint only just active
    # (Pareto MTL only pushes back once it is violated): allow 0.01 rad
    assert (own <= angle.min(axis=1) + 1e-2).all(), np.degrees(angle)
    assert r.extra["feasible"].all()
    assert segment_distance(r.X).max() < 1e-3
    # u_k turns from (1, 0) to (0, 1), so f_1 falls and f_2 rises along k
    assert (np.diff(r.F[:, 0]) < 0).all() and (np.diff(r.F[:, 1]) > 0).all()


# ------------------------------------------------------------------------------- runner
def test_step_budget_is_respected_and_traced():
    """S steps use (S + 1)·P evaluations; the trace covers steps 0..S and ends at the final HV."""
    r = run("ls", budget=baselines.Budget("steps", 40), n_prefs=4, eval_every=10)
    assert r.budget_used["steps"] == 40 and r.budget_used["evaluations"] == 41 * 4
    np.testing.assert_array_equal(r.trace["steps"], [0, 10, 20, 30, 40])
    np.testing.assert_array_equal(r.trace["evaluations"], 4 * (r.trace["steps"] + 1))
    assert r.trace["hv"][-1] == pytest.approx(r.hv)
    assert np.isnan(r.trace["igd"]).all()  # the test problem has no reference front


def test_evaluation_and_seconds_budgets_are_respected():
    """An evaluation budget is never exceeded; a seconds budget stops soon after it is spent."""
    r = run("pcgrad", budget=baselines.Budget("evaluations", 105), n_prefs=10)
    assert r.budget_used["evaluations"] <= 105 and r.budget_used["steps"] == 9
    r = run("ls", budget=baselines.Budget("seconds", 0.3), n_prefs=4)
    assert 0.3 <= r.budget_used["seconds"] < 1.5
    assert r.budget_used["evaluations"] == 4 * (r.budget_used["steps"] + 1)
    assert len(r.trace["hv"]) >= 2
    with pytest.raises(ConfigError, match="below one evaluation"):
        baselines.run("ls", Quadratic(), baselines.Budget("evaluations", 5), n_prefs=10)


def test_unknown_and_invalid_parameters_raise_config_error():
    """run() rejects an unknown parameter by name and invalid values with ConfigError."""
    with pytest.raises(ConfigError, match="no parameter 'learning_rate'"):
        baselines.run("cagrad", Quadratic(), STEPS, learning_rate=0.1)
    with pytest.raises(ConfigError, match="lr"):
        baselines.run("ls", Quadratic(), STEPS, lr=-1.0)
    with pytest.raises(ConfigError, match="parameterization"):
        baselines.run("mgda_ub", Quadratic(), STEPS, parameterization="clamp")
    with pytest.raises(ConfigError, match="normalize"):
        baselines.run("mgda_ub", Quadratic(), STEPS, normalize="l1")
    with pytest.raises(ConfigError, match="batch_size"):
        baselines.run("ls", Quadratic(), STEPS, batch_size=0)


def test_nan_objectives_give_a_failed_result():
    """A NaN objective ends the run with status 'failed' and says why."""
    r = baselines.run("epo", NaNProblem(), STEPS, seed=0, on_failure="return")
    assert r.status == "failed" and "not finite" in r.error
    assert r.F.shape == (0, 2) and math.isnan(r.hv)


@pytest.mark.parametrize("method", ["pcgrad", "pmtl"])
def test_same_seed_same_result(method):
    """Two runs with the same seed agree exactly; another seed starts elsewhere."""
    budget = baselines.Budget("steps", 15)
    r1 = baselines.run(method, Quadratic(), budget, seed=3, n_prefs=4)
    r2 = baselines.run(method, Quadratic(), budget, seed=3, n_prefs=4)
    r3 = baselines.run(method, Quadratic(), budget, seed=4, n_prefs=4)
    np.testing.assert_allclose(r1.F, r2.F, rtol=1e-12)
    assert not np.allclose(r1.X, r3.X)


def test_sigmoid_parameterisation_stays_in_bounds():
    """With the sigmoid parameterisation LS still reaches the analytic minimiser, inside the box."""
    r = run("ls", n_prefs=3, parameterization="sigmoid", budget=baselines.Budget("steps", 300))
    lam = r.prefs
    expected = (lam[:, :1] * np.asarray(A) + lam[:, 1:] * np.asarray(B)) / lam.sum(1, keepdims=True)
    np.testing.assert_allclose(r.X, expected, atol=1e-3)
    assert (np.abs(r.X) < 2).all()


# ------------------------------------------------------------------------------- networks
def _small_regression():
    from hybridmoo.problems import get

    return get("mtl_regression", conflict=0.9, n_train=512, n_test=256, in_dim=32)


@pytest.mark.parametrize("method,sign", [("ls", -1), ("mgda_ub", 0), ("pcgrad", -1),
                                         ("cagrad", -1), ("epo", -1), ("pmtl", 1)])
def test_gradient_methods_train_one_network_per_preference(method, sign):
    """On a data-driven problem each preference trains its own copy of the target network: the
    held-out HV grows from the untrained networks', and the trade-off follows the preferences
    (LS, PCGrad, CAGrad, EPO: a larger λ_1 gives a smaller f_1; Pareto MTL's reference vectors
    the opposite; MGDA ignores preferences)."""
    from scipy.stats import spearmanr

    r = baselines.run(method, _small_regression(), baselines.Budget("steps", 120), seed=0,
                      n_prefs=5, batch_size=64, lr=3e-3)
    assert r.status == "ok", r.error
    assert r.X is None and r.F.shape == (5, 2) and np.isfinite(r.F).all()
    assert r.params["optimizer"] == "adam" and r.extra["parameterization"] == "weights"
    assert r.trace["hv"][-1] > r.trace["hv"][0] + 0.05
    assert r.budget_used["steps"] == 120 and r.budget_used["evaluations"] == 5 * 121
    if sign:
        rho = spearmanr(r.prefs[:, 0], r.F[:, 0])[0]
        assert sign * rho > 0.8, rho


def test_network_models_start_from_different_seeded_weights():
    """The P networks are initialised independently; the same seed gives the same run."""
    a = baselines.run("ls", _small_regression(), baselines.Budget("steps", 3), seed=1,
                      n_prefs=3, batch_size=32)
    b = baselines.run("ls", _small_regression(), baselines.Budget("steps", 3), seed=1,
                      n_prefs=3, batch_size=32)
    c = baselines.run("ls", _small_regression(), baselines.Budget("steps", 3), seed=2,
                      n_prefs=3, batch_size=32)
    np.testing.assert_array_equal(a.F, b.F)
    assert not np.allclose(a.F, c.F)
