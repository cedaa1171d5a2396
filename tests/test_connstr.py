"""Connection strength-based optimisation (Jeong & Yoon, CVPR 2024): hybridmoo.baselines.connstr."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from hybridmoo.baselines import connstr as cs
from hybridmoo.baselines.common import Budget, get
from hybridmoo.errors import ConfigError, ShapeError

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny runs on shared cores


def _tiny(n_tasks: int = 2, seed: int = 0, **kw) -> cs.TaskBNLeNet:
    opts = dict(n_tasks=n_tasks, n_classes=1, in_channels=2, image_size=12, channels=(4, 4),
                kernels=(3, 3), hidden=8)
    opts.update(kw)
    return cs.TaskBNLeNet(**opts, generator=torch.Generator().manual_seed(seed))


def _mse(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(out[:, 0], y)


# ------------------------------------------------------------------------------ strength
def test_connection_strength_matches_hand_computation():
    """S(c) = ΣW[c]²·γ(c)²/(runvar(c) + 1e-5), computed by hand for three channels."""
    W = torch.tensor([[1.0, 2.0], [0.0, 3.0], [1.0, 1.0]]).reshape(3, 2, 1, 1)
    gamma = torch.tensor([2.0, 0.5, -1.0])
    var = torch.tensor([1.0, 4.0, 0.25])
    # ΣW² = 5, 9, 2; γ² = 4, 0.25, 1
    expected = torch.tensor([5 * 4 / (1 + 1e-5), 9 * 0.25 / (4 + 1e-5), 2 * 1 / (0.25 + 1e-5)])
    torch.testing.assert_close(cs.connection_strength(W, gamma, var), expected, rtol=1e-6,
                               atol=0)


def test_task_priority_normalises_over_channels_then_takes_argmax():
    """P_t(c) = S_t(c)/Σ_c S_t(c) per task; the top task is the argmax over tasks per channel."""
    W = torch.ones(3, 1, 1, 1)
    gamma = torch.tensor([[1.0, 1.0, 2.0],     # S_0 ∝ 1, 1, 4 → P_0 = 1/6, 1/6, 4/6
                          [3.0, 1.0, 1.0]])    # S_1 ∝ 9, 1, 1 → P_1 = 9/11, 1/11, 1/11
    var = torch.ones(2, 3)
    P, top = cs.task_priority(W, gamma, var, eps=0.0)
    torch.testing.assert_close(P, torch.tensor([[1 / 6, 1 / 6, 4 / 6], [9 / 11, 1 / 11, 1 / 11]]))
    # channel 1: 1/6 > 1/11 → task 0, although both strengths are equal before normalising
    assert top.tolist() == [1, 0, 0]


def test_strength_rejects_mismatched_channels():
    """A γ of the wrong length is a ShapeError naming the expected shape."""
    with pytest.raises(ShapeError, match=r"must have shape \(3,\)"):
        cs.connection_strength(torch.ones(3, 1, 1, 1), torch.ones(2), torch.ones(3))


# ------------------------------------------------------------------------------ projection
def test_projection_only_on_conflicting_blocks_of_the_top_task():
    """Top-task block untouched; conflicting gradient projected; non-conflicting untouched."""
    top = torch.tensor([0, 0, 1, 1])
    G = torch.zeros(2, 4, 2)
    G[0, :2] = torch.tensor([[1.0, 0.0], [0.0, 1.0]])     # task 0 on its block C_0
    G[1, :2] = torch.tensor([[-2.0, 1.0], [1.0, -3.0]])   # task 1 on C_0: dot = -2 - 3 < 0
    G[1, 2:] = torch.tensor([[1.0, 2.0], [3.0, 4.0]])     # task 1 on its block C_1
    G[0, 2:] = torch.tensor([[1.0, 0.0], [0.0, 1.0]])     # task 0 on C_1: dot = 1 + 4 > 0
    out = cs.project_conflicts(G, top)
    # the top task's own block is never changed
    torch.testing.assert_close(out[0, :2], G[0, :2])
    torch.testing.assert_close(out[1, 2:], G[1, 2:])
    # no conflict on C_1 → task 0 untouched there
    torch.testing.assert_close(out[0, 2:], G[0, 2:])
    # conflict on C_0: g_j − (g_i·g_j/‖g_i‖²) g_i with g_i = (1,0,0,1), g_j = (-2,1,1,-3)
    gi, gj = torch.tensor([1.0, 0, 0, 1]), torch.tensor([-2.0, 1, 1, -3])
    expect = gj - (gi @ gj) / (gi @ gi) * gi                # (0.5, 1, 1, -0.5)
    torch.testing.assert_close(out[1, :2].reshape(-1), expect)
    assert float(out[1, :2].reshape(-1) @ gi) >= -1e-6
    assert not torch.equal(G, out) and G[1, 0, 0] == -2.0  # the input is not modified


def test_projection_degenerate_priority_is_the_plain_sum():
    """If every channel has the same top task, the gradients come back unchanged."""
    G = torch.randn(2, 5, 3, generator=torch.Generator().manual_seed(1))
    G[1] = -G[0]  # fully conflicting, yet no projection
    out = cs.project_conflicts(G, torch.zeros(5, dtype=torch.long))
    torch.testing.assert_close(out, G)


def test_projection_three_tasks_every_block_made_non_conflicting(gen):
    """With three tasks, on each block C_i every other task has a non-negative dot with task i."""
    G = torch.randn(3, 9, 4, generator=gen, dtype=torch.float64)
    top = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2])
    out = cs.project_conflicts(G, top)
    for i in range(3):
        block = top == i
        gi = out[i, block].reshape(-1)
        torch.testing.assert_close(gi, G[i, block].reshape(-1))
        for j in range(3):
            gj_old, gj = G[j, block].reshape(-1), out[j, block].reshape(-1)
            if j == i:
                continue
            if float(gi @ gj_old) >= 0:
                torch.testing.assert_close(gj, gj_old)
            else:
                assert abs(float(gi @ gj)) < 1e-10


# ------------------------------------------------------------------------------ schedule
def test_phase1_frequency_is_one_minus_e_over_E():
    """Over 20,000 draws Phase 1 comes up with frequency 1 − e/E (4 standard errors)."""
    n = 20_000
    for e, E in ((0, 4), (1, 4), (3, 4), (7, 10)):
        gen = torch.Generator().manual_seed(10 + e)
        freq = np.mean([cs.draw_phase(gen, e, E) == 1 for _ in range(n)])
        p = cs.phase1_probability(e, E)
        assert p == pytest.approx(1 - e / E)
        tol = 4 * math.sqrt(max(p * (1 - p), 1e-12) / n) + 1e-12
        assert abs(freq - p) <= tol, (e, E, freq, p)


def test_draw_phase_is_reproducible_from_the_generator():
    """The same generator seed gives the same phase sequence."""
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert [cs.draw_phase(g1, 2, 5) for _ in range(50)] == \
        [cs.draw_phase(g2, 2, 5) for _ in range(50)]


# ------------------------------------------------------------------------------ backbone, steps
def test_forward_uses_each_tasks_own_batch_norm():
    """Changing task 1's γ changes task 1's outputs only; forward(x, t) equals column t."""
    m = _tiny().eval()
    x = torch.randn(5, 2, 12, 12, generator=torch.Generator().manual_seed(0))
    before = m(x)
    torch.testing.assert_close(m(x, task=1), before[:, 1])
    with torch.no_grad():
        m.bns[1][1].weight.mul_(3.0)
    after = m(x)
    torch.testing.assert_close(after[:, 0], before[:, 0])
    assert not torch.allclose(after[:, 1], before[:, 1])


def test_lenet_shapes_and_parameter_groups():
    """Default backbone: Multi-MNIST shapes; shared = conv weights (+ fc when shared)."""
    m = cs.TaskBNLeNet(generator=torch.Generator().manual_seed(0))
    assert m(torch.zeros(3, 1, 36, 36)).shape == (3, 2, 10)
    assert [p.shape for p in m.shared_parameters()] == [(10, 1, 9, 9), (20, 10, 5, 5)]
    ms = cs.TaskBNLeNet(fc="shared")
    assert len(ms.shared_parameters()) == 4  # + fc weight and bias
    n_all = sum(p.numel() for p in m.parameters())
    n_split = sum(p.numel() for p in m.shared_parameters()) + sum(
        p.numel() for t in range(2) for p in m.task_parameters(t))
    assert n_all == n_split
    with pytest.raises(ConfigError, match="fc = 'mlp' is not allowed"):
        cs.TaskBNLeNet(fc="mlp")


def test_phase1_step_touches_only_that_tasks_path():
    """A Phase-1 step for task 0 leaves task 1's batch norms (and statistics) and head as is."""
    m = _tiny().train()
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(16, 2, 12, 12, generator=g), torch.randn(16, 2, generator=g)
    state0 = {k: v.clone() for k, v in m.state_dict().items()}
    cs.single_task_step(m, opt, x, y, task=0, weight=0.5, loss_fn=_mse)
    state1 = m.state_dict()
    changed = {k for k in state0 if not torch.equal(state0[k], state1[k])}
    for k in state0:
        if re.match(r"(bns\.\d+\.1\.|fcs\.1\.|heads\.1\.)", k):  # task 1's path
            assert k not in changed, k
    assert {"convs.0.weight", "convs.1.weight", "bns.0.0.weight", "bns.1.0.running_var",
            "heads.0.weight"} <= changed


def test_combine_sum_equals_weighted_loss_gradient():
    """combiner='sum' is the gradient of Σ λ_t L_t; PCGrad/CAGrad leave non-shared params so."""
    m = _tiny()
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(16, 2, 12, 12, generator=g), torch.randn(16, 2, generator=g)
    lam = torch.tensor([0.3, 0.7])
    params = list(m.parameters())
    out = m(x)
    losses = torch.stack([_mse(out[:, t], y[:, t]) for t in range(2)])
    grads = [torch.autograd.grad(losses[t], params, retain_graph=True, allow_unused=True)
             for t in range(2)]
    ref = torch.autograd.grad((lam * losses).sum(), params)
    shared = {id(p) for p in m.shared_parameters()}
    for comb in cs.COMBINERS:
        got = cs.combine_gradients(m, params, grads, lam, combiner=comb,
                                   generator=torch.Generator().manual_seed(0))
        for p, a, b in zip(params, got, ref, strict=True):
            if comb == "sum" or id(p) not in shared:
                torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
    # at initialisation all batch norms agree → the priority is degenerate → connstr = sum
    got = cs.combine_gradients(m, params, grads, lam, combiner="connstr")
    for a, b in zip(got, ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)


def test_connstr_combination_protects_the_top_task_on_its_channels():
    """With diverged batch norms, on block C_i the combined step is not against task i."""
    m = _tiny(seed=1)
    with torch.no_grad():  # give task 1 the first two channels of conv 0, task 0 the others
        m.bns[0][1].weight.copy_(torch.tensor([3.0, 3.0, 0.1, 0.1]))
    g = torch.Generator().manual_seed(2)
    x, y = torch.randn(32, 2, 12, 12, generator=g), torch.randn(32, 2, generator=g)
    y[:, 1] = -y[:, 0]
    params = list(m.parameters())
    out = m(x)
    losses = torch.stack([_mse(out[:, t], y[:, t]) for t in range(2)])
    grads = [torch.autograd.grad(losses[t], params, retain_graph=True, allow_unused=True)
             for t in range(2)]
    lam = torch.tensor([0.5, 0.5])
    got = cs.combine_gradients(m, params, grads, lam, combiner="connstr")
    _, top = m.priorities()[0]
    assert top.tolist() == [1, 1, 0, 0]
    k = [id(p) for p in params].index(id(m.convs[0].weight))
    for i in range(2):
        block = top == i
        gi = grads[i][k][block].reshape(-1)
        d = got[k][block].reshape(-1)
        # d = λ_i g_i + Σ_j PC(λ_j g_j), PC(·)·g_i ≥ 0 → g_i·d ≥ λ_i‖g_i‖²
        assert float(gi @ d) >= 0.5 * float(gi @ gi) * (1 - 1e-5)


# ------------------------------------------------------------------------------ behaviour
def _toy_data(seed: int, n: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """Two regression tasks on 2-channel 12×12 images: a ReLU filter energy of channel 0 and
    of channel 1 (standardised). They compete for the 4 shared channels of each layer."""
    X = torch.randn(n, 2, 12, 12, generator=torch.Generator().manual_seed(seed))
    k = torch.randn(2, 1, 3, 3, generator=torch.Generator().manual_seed(123))
    a = F.conv2d(X[:, :1], k[:1]).relu().mean((1, 2, 3))
    b = F.conv2d(X[:, 1:], k[1:]).relu().mean((1, 2, 3))
    Y = torch.stack([a, b], 1)
    return X, (Y - Y.mean(0)) / Y.std(0)


def _train_toy(combiner: str, seed: int, steps: int = 60, n_epochs: int = 3) -> np.ndarray:
    X, Y = _toy_data(1000 + seed)
    Xt, Yt = _toy_data(2000 + seed)
    m = _tiny(seed=seed).train()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    g_batch = torch.Generator().manual_seed(seed)
    g_phase = torch.Generator().manual_seed(seed + 1)
    g_comb = torch.Generator().manual_seed(seed + 2)
    lam = torch.tensor([0.5, 0.5])
    per_epoch = steps // n_epochs
    for s in range(steps):
        idx = torch.randint(0, X.shape[0], (32,), generator=g_batch)
        x, y = X[idx], Y[idx]
        phase = cs.draw_phase(g_phase, s // per_epoch, n_epochs) if combiner == "connstr" else 2
        if phase == 1:
            for t in range(2):
                cs.single_task_step(m, opt, x, y, t, 0.5, _mse)
        else:
            cs.joint_step(m, opt, x, y, lam, combiner=combiner, generator=g_comb, loss_fn=_mse)
    m.eval()
    with torch.no_grad():
        out = m(Xt)
    return np.array([float(_mse(out[:, t], Yt[:, t])) for t in range(2)])


def test_connstr_not_dominated_by_pcgrad_at_equal_iterations():
    """At equal iterations (Adam, lr 1e-3, the official toy's) connstr is never dominated by
    PCGrad, and its seed-mean loss is lower on both tasks.

    Why this holds robustly: Phase 1 dominates early (probability 1 − e/E) and takes one Adam
    step per task per iteration, so in the early, far-from-converged regime connstr moves the
    shared weights further per iteration. In exploration (10 seeds) connstr dominated PCGrad in
    10/10 seeds here; with Phase 1 switched off it was indistinguishable from PCGrad, and with
    lr 1e-2 over 300 iterations PCGrad was as good or better. So this is evidence that the
    two-phase schedule is implemented as specified, not that the priority projection finds
    better Pareto points (the paper's claim, not reproduced on this toy).
    """
    A = np.stack([_train_toy("connstr", s) for s in range(3)])
    B = np.stack([_train_toy("pcgrad", s) for s in range(3)])
    for s in range(3):
        assert not (B[s] < A[s]).all(), (s, A[s], B[s])
    assert (A.mean(0) < B.mean(0)).all(), (A.mean(0), B.mean(0))


# ------------------------------------------------------------------------------ the baseline
@pytest.fixture(scope="module")
def mnist():
    from hybridmoo.problems import get as get_problem

    return get_problem("multi_mnist", n_train=128, n_val=50, n_test=100)


def test_registered_as_gradient_baseline():
    """``connstr`` is in the registry under the gradient family, citing CVPR 2024."""
    entry = get("connstr")
    assert entry.family == "gradient" and "CVPR 2024" in entry.paper
    assert entry.defaults()["combiner"] == "connstr"


def test_baseline_runs_on_multi_mnist_steps_budget(mnist):
    """A steps budget: P models, (P, 2) test-loss front, a trace, the steps used."""
    r = cs.connstr(mnist, Budget("steps", 4), 0, n_prefs=2, batch_size=32, eval_every=2)
    assert r.status == "ok", r.error
    assert r.F.shape == (2, 2) and np.isfinite(r.F).all() and r.prefs.shape == (2, 2)
    assert r.budget_used["steps"] == 4 and r.budget_used["evaluations"] == 8
    assert r.trace["steps"].tolist() == [0, 2, 4]
    assert r.hv == pytest.approx(r.trace["hv"][-1])
    assert r.extra["accuracy"].shape == (2, 2)
    # E = ⌈4 / (128 / 32)⌉ = 1: always Phase 1 in the only epoch
    assert r.extra["epochs"] == 1 and r.extra["phase1_steps"].tolist() == [4, 4]


def test_baseline_evaluations_and_seconds_budgets(mnist):
    """Evaluations: E // P steps; seconds: stops once the training time is spent."""
    r = cs.connstr(mnist, Budget("evaluations", 7), 0, n_prefs=2, batch_size=32,
                   combiner="sum")
    assert r.budget_used["steps"] == 3 and r.budget_used["evaluations"] == 6
    assert r.extra["phase1_steps"].tolist() == [0, 0]
    r = cs.connstr(mnist, Budget("seconds", 0.5), 0, prefs=[[1, 1]], batch_size=32)
    assert r.status == "ok" and r.budget_used["seconds"] >= 0.5
    assert r.prefs.tolist() == [[0.5, 0.5]] and len(r.trace["hv"]) >= 2


def test_baseline_is_reproducible_and_combiners_share_the_initialisation(mnist):
    """The same seed gives the same front; at 0 steps every combiner has the same models."""
    kw = dict(n_prefs=1, batch_size=32, combiner="pcgrad")
    a = cs.connstr(mnist, Budget("steps", 2), 3, **kw)
    b = cs.connstr(mnist, Budget("steps", 2), 3, **kw)
    np.testing.assert_allclose(a.F, b.F, rtol=1e-6)
    f0 = {c: cs.connstr(mnist, Budget("steps", 1), 3, n_prefs=1, batch_size=32,
                        combiner=c).trace["hv"][0] for c in ("connstr", "cagrad")}
    assert f0["connstr"] == f0["cagrad"]


def test_baseline_rejects_bad_input(mnist):
    """Bad combiners, problems without images and bad prefs are ConfigErrors."""
    from hybridmoo.problems import get as get_problem

    with pytest.raises(ConfigError, match="combiner = 'mgda' is not allowed"):
        cs.connstr(mnist, Budget("steps", 1), 0, combiner="mgda")
    with pytest.raises(ConfigError, match="has no image data"):
        cs.connstr(get_problem("zdt1", n_var=3), Budget("steps", 1), 0)
    with pytest.raises(ConfigError, match=r"prefs must be an \(n, 2\) array"):
        cs.connstr(mnist, Budget("steps", 1), 0, prefs=[[1, 2, 3]])


def test_doctests():
    """The module's docstring examples run."""
    import doctest

    failures, _ = doctest.testmod(cs)
    assert failures == 0
