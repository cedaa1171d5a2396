"""Users' own problems: torch functions, numpy black boxes and pymoo problems."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import hybridmoo
from hybridmoo import metrics
from hybridmoo.errors import ConfigError, ShapeError
from hybridmoo.problems import from_function, from_numpy, from_pymoo, get


def _zdt1_torch(x):
    f1 = x[..., 0]
    g = 1 + 9 * x[..., 1:].mean(-1)
    return torch.stack([f1, g * (1 - torch.sqrt(f1 / g))], -1)


def test_function_problem_matches_the_shipped_one_in_values_and_gradients():
    mine = from_function(_zdt1_torch, 5, 2, 0.0, 1.0, ref_point=[1.1, 1.1], name="my_zdt1")
    ship = get("zdt1", n_var=5)
    x = torch.rand(7, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 0.9
    x = (x + 0.05).requires_grad_(True)
    a, b = mine.evaluate(x), ship.evaluate(x)
    torch.testing.assert_close(a, b)
    (ga,) = torch.autograd.grad(a[:, 1].sum(), x)
    (gb,) = torch.autograd.grad(b[:, 1].sum(), x)
    torch.testing.assert_close(ga, gb)
    assert mine.ref_point.tolist() == [1.1, 1.1] and mine.ref_point_source == "given"


@pytest.mark.parametrize("f, error, words", [
    (lambda x: x[..., :2].numpy(), ShapeError, "from_numpy"),
    (lambda x: x[..., :3], ShapeError, "(1024, 3)"),
    (lambda x: torch.stack([x[..., 0], torch.log(x[..., 0] - 2)], -1), ShapeError, "non-finite"),
    (lambda x: x.sum(), ShapeError, "returned shape ()"),
    (lambda x: 1 / 0, ConfigError, "ZeroDivisionError"),
    (lambda x: x[..., :2].detach(), ShapeError, "autograd"),
    (lambda x: x[..., :2].long(), ShapeError, "floating"),
])
def test_function_problem_names_what_f_returned(f, error, words):
    with pytest.raises(error, match=None) as info:
        from_function(f, 4, 2, 0.0, 1.0, name="bad")
    assert words in str(info.value) and "'bad'" in str(info.value)


@pytest.mark.parametrize("kwargs, words", [
    ({"lower": 1.0, "upper": 0.0}, "not below upper"),
    ({"lower": [0.0, 0.0], "upper": 1.0}, "one per variable"),
    ({"lower": 0.0, "upper": float("inf")}, "non-finite"),
    ({"n_var": 0}, "n_var = 0"),
    ({"n_obj": 1}, "n_obj = 1"),
    ({"n_var": True}, "n_var = True"),
])
def test_bad_sizes_and_bounds(kwargs, words):
    args = {"n_var": 4, "n_obj": 2, "lower": 0.0, "upper": 1.0, **kwargs}
    with pytest.raises(ConfigError, match=None) as info:
        from_function(lambda x: x[..., :2], **args)
    assert words in str(info.value)


def test_reference_point_is_estimated_and_said_so():
    p = from_function(_zdt1_torch, 5, 2, 0.0, 1.0)
    assert p.ref_point_source.startswith("estimated")
    x = torch.rand(4000, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    F = p.evaluate(x).numpy()
    # the estimate covers (nearly) everything in the box: a sample of 4,000 points
    assert (F <= p.ref_point.numpy()).all(axis=1).mean() > 0.99


def _quadratic(X):
    A = np.array([[1.0, 2.0, -1.0], [0.5, -1.0, 3.0]])
    return np.stack([(X - 0.3) ** 2 @ A[0] + X[:, 0] * X[:, 1], X @ A[1]], axis=1)


def test_es_jacobian_against_the_analytic_gradient():
    p = from_numpy(_quadratic, 3, 2, -1.0, 1.0, es_samples=4000, es_sigma=0.01, seed=3)
    x = np.array([[0.1, -0.4, 0.5], [0.7, 0.2, -0.6]])
    J = p.es_jacobian(x)
    A = np.array([[1.0, 2.0, -1.0], [0.5, -1.0, 3.0]])
    exact = np.empty((2, 2, 3))
    for n, xn in enumerate(x):
        exact[n, 0] = 2 * (xn - 0.3) * A[0] + np.array([xn[1], xn[0], 0.0])
        exact[n, 1] = A[1]
    np.testing.assert_allclose(J, exact, atol=0.15)
    # and the estimate is not trivially exact: few samples leave visible noise
    few = from_numpy(_quadratic, 3, 2, -1.0, 1.0, es_samples=2, seed=3).es_jacobian(x)
    assert np.abs(few - exact).max() > 0.05


def test_black_box_gradients_flow_and_evaluations_are_counted():
    p = from_numpy(_quadratic, 3, 2, -1.0, 1.0, es_samples=5)
    assert p.n_evals == 0
    x = torch.zeros(4, 3, dtype=torch.float32, requires_grad=True)
    F = p.evaluate(x)
    assert F.dtype == torch.float32 and F.shape == (4, 2) and p.n_evals == 4
    F.sum().backward()
    assert p.es_mode == "forward" and p.n_evals == 4 + 5 * 4  # differences from F(x) itself
    p.configure_es(es_mode="antithetic")
    p.evaluate(x).sum().backward()
    assert p.n_evals == 2 * (4 + 5 * 4) + 5 * 4  # antithetic: 2 evaluations per direction
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_black_box_draws_follow_the_seed():
    x = np.full((2, 3), 0.2)
    a = from_numpy(_quadratic, 3, 2, -1.0, 1.0, seed=5).es_jacobian(x)
    b = from_numpy(_quadratic, 3, 2, -1.0, 1.0, seed=5).es_jacobian(x)
    c = from_numpy(_quadratic, 3, 2, -1.0, 1.0, seed=6).es_jacobian(x)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_elementwise_and_vectorised_agree():
    vec = from_numpy(_quadratic, 3, 2, -1.0, 1.0, seed=0)
    one = from_numpy(lambda x: _quadratic(x[None])[0], 3, 2, -1.0, 1.0, vectorized=False, seed=0)
    x = np.random.default_rng(0).uniform(-1, 1, (6, 3))
    np.testing.assert_allclose(vec.evaluate_raw(x)[0], one.evaluate_raw(x)[0])
    np.testing.assert_allclose(vec.es_jacobian(x), one.es_jacobian(x))


def test_black_box_errors_name_the_problem():
    with pytest.raises(ShapeError, match="returned shape"):
        from_numpy(lambda X: X, 3, 2, 0.0, 1.0, name="sim")
    with pytest.raises(ShapeError, match="non-finite"):
        from_numpy(lambda X: np.full((len(X), 2), np.nan), 3, 2, 0.0, 1.0)
    with pytest.raises(ConfigError, match="failed on 256 points"):
        from_numpy(lambda X: X.missing, 3, 2, 0.0, 1.0)
    with pytest.raises(ConfigError, match="es_sigma"):
        from_numpy(_quadratic, 3, 2, -1.0, 1.0, es_sigma=2.0)
    with pytest.raises(ConfigError, match="n_constr"):
        from_numpy(_quadratic, 3, 2, -1.0, 1.0, constraints=lambda X: X[:, :1])


def test_constraints_are_penalised_and_reported():
    p = from_numpy(lambda X: X[:, :2], 2, 2, 0.0, 1.0, constraints=lambda X: 0.5 - X.sum(1,
                   keepdims=True), n_constr=1, penalty=10.0, ref_point=[2.0, 2.0])
    x = np.array([[0.1, 0.1], [0.4, 0.4]])
    F, V = p.evaluate_raw(x)
    np.testing.assert_allclose(V, [0.3, 0.0])
    pen = p.evaluate(torch.tensor(x)).numpy()
    np.testing.assert_allclose(pen, F + 10.0 * V[:, None])


def test_pymoo_problem_trains_to_its_front():
    from pymoo.problems import get_problem

    p = from_pymoo(get_problem("zdt1", n_var=5), ref_point=[1.1, 1.1])
    assert p.has_pareto_front and p.name == "zdt1"
    torch.manual_seed(0)
    r = hybridmoo.train(p, steps=600, seed=0, threads=1, n_eval=50)
    assert r.ok, r.error
    best = metrics.hypervolume(p.pareto_front(500), [1.1, 1.1])
    assert r.hv > 0.9 * best
    assert p.n_evals > 600 * 8 * p.es_samples  # the ES samples were paid for


def test_pymoo_refuses_what_it_cannot_take():
    from pymoo.core.problem import Problem as PymooProblem

    class Eq(PymooProblem):
        def __init__(self):
            super().__init__(n_var=2, n_obj=2, n_eq_constr=1, xl=0.0, xu=1.0)

        def _evaluate(self, x, out, *args, **kwargs):
            out["F"], out["H"] = x, x[:, :1]

    with pytest.raises(ConfigError, match="equality"):
        from_pymoo(Eq())
    with pytest.raises(ConfigError, match="pymoo"):
        from_pymoo(lambda x: x)


def test_zero_order_gradient_points_the_right_way_at_the_default_sample_count():
    """Cosine similarity with autograd's gradient on a smooth 3-variable problem (DTLZ2)."""
    q = get("dtlz2", n_var=3, n_obj=2)
    p = from_numpy(lambda X: q.evaluate(torch.from_numpy(X)).numpy(), 3, 2, 0.0, 1.0, seed=0)
    x = np.random.default_rng(0).uniform(0.2, 0.8, (200, 3))
    J = p.es_jacobian(x)
    xt = torch.tensor(x, requires_grad=True)
    F = q.evaluate(xt)
    Jt = torch.stack([torch.autograd.grad(F[:, i].sum(), xt, retain_graph=True)[0]
                      for i in range(2)], 1).numpy()
    cos = (J * Jt).sum(-1) / np.linalg.norm(J, axis=-1) / np.linalg.norm(Jt, axis=-1)
    assert p.es_samples == 8 and np.median(cos) >= 0.9


def test_evaluation_budget_counts_true_evaluations():
    p = from_numpy(_quadratic, 3, 2, -1.0, 1.0, ref_point=[20.0, 20.0])
    r = hybridmoo.train(p, evaluations=3000, steps=None, seed=0, n_eval=20, eval_every=5,
                        n_prefs=4, es_samples=3)
    assert r.ok, r.error
    per_step = 4 + 3 * 4  # K forward passes, then 3 forward differences each
    used = r.trace["evaluations"]
    assert used[-1] >= 3000 and used[-1] - 3000 < per_step + 20  # stops at the step reaching it
    assert np.all(np.diff(used) > 0) and p.es_samples == 3
    # a differentiable problem counts what it evaluates too
    q = from_function(_zdt1_torch, 5, 2, 0.0, 1.0, ref_point=[1.1, 1.1])
    r = hybridmoo.train(q, evaluations=2000, steps=None, seed=0, n_eval=20, eval_every=10)
    assert r.ok and 2000 <= r.trace["evaluations"][-1] < 2000 + 8 + 20


def test_evaluation_budget_needs_a_counting_problem():
    with pytest.raises(ConfigError, match="does not count"):
        hybridmoo.train("mtl_regression", evaluations=100, steps=None)


def test_constrained_pymoo_problem_yields_feasible_points():
    from pymoo.core.problem import Problem as PymooProblem

    class Disk(PymooProblem):
        """f = x (both minimised) on [0, 1]²; feasible outside the disk of radius 0.8."""

        def __init__(self):
            super().__init__(n_var=2, n_obj=2, n_ieq_constr=1, xl=0.0, xu=1.0)

        def _evaluate(self, x, out, *args, **kwargs):
            out["F"] = x.copy()
            out["G"] = (0.8 - np.linalg.norm(x, axis=1))[:, None]

    p = from_pymoo(Disk(), ref_point=[1.1, 1.1])
    r = hybridmoo.train(p, steps=400, seed=0, n_eval=40, threads=1)
    assert r.ok, r.error
    assert r.extra["infeasible"] <= 2  # of 40 points
    radius = np.linalg.norm(r.X, axis=1)
    assert np.median(radius) == pytest.approx(0.8, abs=0.05)  # on the constraint's boundary


def _zdt1_numpy(X):
    g = 1 + 9 * X[:, 1:].mean(1)
    return np.stack([X[:, 0], g * (1 - np.sqrt(X[:, 0] / g))], 1)


def test_es_steps_are_relative_to_each_range_and_stay_in_the_box():
    """σ is a fraction of each variable's range; perturbed points never leave the box."""
    seen = []

    def f(X):
        seen.append(X.copy())
        return _quadratic(X / np.array([1.0, 100.0, 1.0]))

    lo, hi = np.array([-1.0, -100.0, -1.0]), np.array([1.0, 100.0, 1.0])
    wide = from_numpy(f, 3, 2, lo, hi, es_samples=4000, es_sigma=0.01, seed=3)
    narrow = from_numpy(_quadratic, 3, 2, -1.0, 1.0, es_samples=4000, es_sigma=0.01, seed=3)
    x = np.array([[0.1, -0.4, 0.5]])
    seen.clear()
    for mode in ("forward", "antithetic"):
        wide.configure_es(es_mode=mode)
        narrow.configure_es(es_mode=mode)
        centre = _quadratic(x)
        Jw = wide.es_jacobian(x * [1, 100, 1], centre)
        Jn = narrow.es_jacobian(x, centre)
        # same draws in units of each range: the chain rule's 1/100 on the wide variable
        np.testing.assert_allclose(Jw * [1, 100, 1], Jn, rtol=1e-6, atol=1e-9)
    steps = np.abs(np.concatenate(seen) - x * [1, 100, 1])
    assert 0.5 < steps[:, 1].std() / 100 / steps[:, 0].std() < 2  # σ scales with the range
    # at a corner, every evaluated point is inside the bounds
    seen.clear()
    corner = np.array([[-1.0, 100.0, 1.0]])
    J = wide.es_jacobian(corner, f(corner))
    pts = np.concatenate(seen)
    assert np.isfinite(J).all() and (pts >= lo).all() and (pts <= hi).all()


def test_forward_differences_point_the_right_way_at_the_default_sample_count():
    """Forward differences from the value at x: cosine with autograd >= 0.9 (DTLZ2, smooth)."""
    q = get("dtlz2", n_var=3, n_obj=2)
    f = lambda X: q.evaluate(torch.from_numpy(X)).numpy()  # noqa: E731
    p = from_numpy(f, 3, 2, 0.0, 1.0, seed=0)
    x = np.random.default_rng(1).uniform(0.2, 0.8, (200, 3))
    before = p.n_evals
    J = p.es_jacobian(x, f(x))
    assert p.n_evals - before == 200 * p.es_samples  # one evaluation per direction
    xt = torch.tensor(x, requires_grad=True)
    F = q.evaluate(xt)
    Jt = torch.stack([torch.autograd.grad(F[:, i].sum(), xt, retain_graph=True)[0]
                      for i in range(2)], 1).numpy()
    cos = (J * Jt).sum(-1) / np.linalg.norm(J, axis=-1) / np.linalg.norm(Jt, axis=-1)
    assert p.es_mode == "forward" and p.es_samples == 8 and np.median(cos) >= 0.9


def test_centred_differences_are_unbiased_where_steps_are_clipped_at_the_bounds():
    """A linear f at a corner of the box: every step is clipped, so the raw products pick up
    E[diff]·E[u] from the other variables. Variable 0 sits at its upper bound and f grows with
    it (gradient +1): centred, the estimate says so; uncentred it said the opposite and would
    push the variable further into its bound."""
    def f(X):
        return np.stack([X.sum(1), X.sum(1)], 1)

    x = np.zeros((1, 20))
    x[0, 0] = 1.0  # the others at their lower bound 0
    est = {}
    for centred in (True, False):
        p = from_numpy(f, 20, 2, 0.0, 1.0, es_samples=4, es_sigma=0.03, seed=0)
        p.configure_es(es_centred=centred)
        X = np.repeat(x, 4000, axis=0)
        est[centred] = p.es_vjp(X, np.tile([1.0, 0.0], (4000, 1)), f(X))[:, 0].mean()
    assert est[True] > 0.1  # points where f grows (towards the inside of the box)
    assert est[False] < -0.1  # the former estimate: wrong sign at the bound
    # inside the box (nothing clipped) both are unbiased and agree with the gradient
    for centred in (True, False):
        p = from_numpy(f, 20, 2, 0.0, 1.0, es_samples=4, es_sigma=0.03, seed=1)
        p.configure_es(es_centred=centred)
        X = np.full((4000, 20), 0.5)
        g = p.es_vjp(X, np.tile([1.0, 0.0], (4000, 1)), f(X)).mean(0)
        np.testing.assert_allclose(g, 1.0, atol=0.2)
        assert abs(g.mean() - 1.0) < 0.05


def test_es_settings_are_checked():
    p = from_numpy(_quadratic, 3, 2, -1.0, 1.0)
    with pytest.raises(ConfigError, match="es_mode"):
        p.configure_es(es_mode="central")
    with pytest.raises(ConfigError, match="warm_start"):
        p.configure_es(warm_start=1.5)
    with pytest.raises(ConfigError, match="es_centred"):
        p.configure_es(es_centred="yes")


def test_hybrid_start_is_counted_and_helps():
    """10 % of the budget on NSGA-II seeds the normalisation and the model; it is paid for."""
    def run(warm, seed=0):
        p = from_numpy(_zdt1_numpy, 10, 2, 0.0, 1.0, ref_point=[1.1, 1.1], seed=0)
        p.configure_es(warm_start=warm)
        r = hybridmoo.train(p, evaluations=6000, steps=None, seed=seed, n_eval=50, threads=1,
                            es_samples=4, es_sigma=0.03, eval_every=10**6)
        assert r.ok, r.error
        return r, p

    r, p = run(0.1)
    used = r.trace["evaluations"]
    assert used[0] >= 600  # the NSGA-II start is counted before the first record
    assert 6000 <= used[-1] < 6000 + 8 * 5 + 50 and p.n_evals >= used[-1]
    r0, _ = run(0.0)
    assert r0.trace["evaluations"][0] == 50
    # over two seeds (one start without it collapses to a corner, HV 0.11)
    with_start = [r.hv, run(0.1, seed=1)[0].hv]
    without = [r0.hv, run(0.0, seed=1)[0].hv]
    assert min(with_start) > 0.8 and sum(with_start) > sum(without)
