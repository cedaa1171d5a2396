"""DYMU (Raychaudhuri et al., CVPR 2022): search-space maths, regulariser, modulation, training."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import hybridmoo.baselines.dymu  # noqa: F401  (registers the "dymu" compare method)
from hybridmoo import baselines, problems
from hybridmoo.dymu import (
    AnchorNet,
    DymuConfig,
    DymuData,
    branching_regularizer,
    dymu_data,
    gumbel_softmax,
    gumbel_temperature,
    p_use,
    rsa_affinity,
    train_dymu,
    tree_cost,
    used_nodes,
)
from hybridmoo.errors import ConfigError


# ---------------------------------------------------------------------------- helpers
def random_nu(L: int, N: int, gen: torch.Generator) -> torch.Tensor:
    """`(L, N, N)` random parent distributions (rows on the simplex), float64."""
    return torch.softmax(2.0 * torch.randn(L, N, N, generator=gen, dtype=torch.float64), -1)


def brute_force_p_use(nu: torch.Tensor) -> torch.Tensor:
    """Exact P_use by enumerating every tree (N^(L·N) parent assignments)."""
    L, N, _ = nu.shape
    total = torch.zeros(L + 1, N, dtype=torch.float64)
    for flat in itertools.product(range(N), repeat=L * N):
        parents = torch.tensor(flat).view(L, N)
        prob = torch.prod(nu[torch.arange(L).unsqueeze(1), torch.arange(N), parents])
        total += prob * used_nodes(parents).to(torch.float64)
    return total


def disjoint_tasks(N: int, d_per: int = 6, n: int = 768, seed: int = 0) -> DymuData:
    """N regression tasks on disjoint input blocks: each task needs its own features."""
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(N, 4, d_per, generator=g) * (2.0 / math.sqrt(d_per))

    def split(m: int):
        x = torch.randn(m, N * d_per, generator=g)
        y = torch.stack([torch.tanh(x[:, i * d_per:(i + 1) * d_per] @ W[i].T)
                         for i in range(N)], dim=1)
        return x, y

    xtr, ytr = split(n)
    xte, yte = split(256)
    return DymuData(xtr, ytr, xte, yte, "regression", 4, (yte ** 2).mean((0, 2)).numpy(),
                    "disjoint")


SMALL = {"widths": (16, 16, 16), "head_hidden": 8, "anchor_steps": 200, "edge_steps": 400,
         "weight_steps": 0, "batch_size": 64, "rsa_images": 64, "n_eval": 11,
         "eval_c": (0.0, 1.0), "threads": 1}


# ---------------------------------------------------------------------------- P_use
@pytest.mark.parametrize("L,N", [(3, 2), (2, 3), (1, 3)])
def test_p_use_exact_matches_brute_force(L, N, gen):
    """The subset dynamic programme equals the enumeration of all trees."""
    nu = random_nu(L, N, gen)
    torch.testing.assert_close(p_use(nu, "exact"), brute_force_p_use(nu), rtol=1e-10,
                               atol=1e-12)


@pytest.mark.parametrize("L,N", [(3, 2), (2, 3)])
def test_p_use_independent_formula_exact_below_heads(L, N, gen):
    """The [I] formula is exact one layer below the heads (and L = 1), approximate deeper."""
    nu = random_nu(L, N, gen)
    exact = brute_force_p_use(nu)
    approx = p_use(nu, "independent")
    torch.testing.assert_close(approx[L - 1:], exact[L - 1:], rtol=1e-10, atol=1e-12)
    # deeper layers: the independence assumption is visible but bounded
    assert not torch.allclose(approx[0], exact[0], atol=1e-6)
    assert (approx - exact).abs().max() < 0.25
    # batched input gives the same rows as one-by-one
    both = p_use(torch.stack([nu, nu.flip(0)]), "independent")
    torch.testing.assert_close(both[1], p_use(nu.flip(0), "independent"))


def test_p_use_deterministic_tree_is_used_set():
    """For one-hot parents both formulas return the tree's used nodes exactly."""
    parents = torch.tensor([[1, 1, 0], [2, 2, 2], [0, 2, 1]])  # (L = 3, N = 3)
    nu = F.one_hot(parents, 3).to(torch.float64)
    used = used_nodes(parents).to(torch.float64)
    for mode in ("independent", "exact"):
        torch.testing.assert_close(p_use(nu, mode), used)
    assert used[:3].sum(-1).tolist() == [1.0, 1.0, 3.0]


# ---------------------------------------------------------------------------- Gumbel
def test_gumbel_temperature_schedule():
    """ζ = 5 at the start and × 0.97 after every full block of 300 steps."""
    assert gumbel_temperature(0) == 5.0
    assert gumbel_temperature(299) == 5.0
    assert gumbel_temperature(300) == pytest.approx(5.0 * 0.97)
    assert gumbel_temperature(30000) == pytest.approx(5.0 * 0.97 ** 100)
    zs = [gumbel_temperature(s, 2.0, 0.5, 10) for s in range(0, 60, 5)]
    assert zs == [2.0, 2.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125, 0.0625, 0.0625]
    assert DymuConfig(edge_steps=30000).zeta_interval() == 300  # the paper at its scale
    assert DymuConfig(edge_steps=800).zeta_interval() == 8
    assert DymuConfig(edge_steps=800, zeta_every=300).zeta_interval() == 300


def test_gumbel_softmax_is_a_categorical_sample(gen):
    """The argmax of the relaxed sample follows softmax(logits) (Gumbel-max); low ζ ≈ one-hot."""
    logits = torch.tensor([1.0, 0.0, -1.0]).expand(20000, 3)
    v = gumbel_softmax(logits, 0.01, gen)
    torch.testing.assert_close(v.sum(-1), torch.ones(20000))
    assert (v.max(-1).values > 0.99).float().mean() > 0.95
    freq = torch.bincount(v.argmax(-1), minlength=3).double() / 20000
    # binomial standard error < 0.0036: 0.02 is over five of them
    torch.testing.assert_close(freq, torch.softmax(logits[0].double(), -1), atol=0.02, rtol=0)


# ---------------------------------------------------------------------------- regulariser
def hand_case():
    v = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
                      [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.5, 0.5, 0.0]]]).unsqueeze(0)
    p_child = torch.tensor([[[1.0, 0.5, 0.2], [1.0, 1.0, 1.0]]])
    A = torch.tensor([[1.0, 0.8, 0.3], [0.8, 1.0, 0.4], [0.3, 0.4, 1.0]])
    return v, p_child, A


def test_branching_regularizer_hand_checked():
    """Ω on a case worked by hand: tasks 1, 2 active (τ = 0.2), task 3 inactive.

    L_active: layer 0 pairs (1,2) and (2,1): depth 1 · A 0.8 · P 1·0.5 · ‖v1 − v2‖² 2 = 0.8
    each, 1.6 in all; layer 1: v1 = v2, 0. L_inactive: layer 0 min(2, 2) = 2, layer 1
    min(0.5, 0.5) = 0.5, 2.5 in all. Ω = c·λ_A·1.6 + 0.1·2.5.
    """
    v, p_child, A = hand_case()
    r = torch.tensor([[0.5, 0.35, 0.15]])
    for c, lam, want in ((0.5, 1.0, 1.05), (0.5, 0.05, 0.29), (0.0, 1.0, 0.25),
                         (1.0, 1.0, 1.85)):
        omega, la, li = branching_regularizer(v, p_child, A, r, torch.tensor([c]), tau=0.2,
                                              lambda_active=lam, lambda_inactive=0.1)
        assert la.item() == pytest.approx(1.6)
        assert li.item() == pytest.approx(2.5)
        assert omega.item() == pytest.approx(want)


def test_branching_regularizer_all_active_and_batch():
    """All tasks active: no inactive term; rows of a batch are computed independently."""
    v, p_child, A = hand_case()
    r = torch.tensor([[0.4, 0.35, 0.25], [0.5, 0.35, 0.15]])
    vv, pp = v.expand(2, -1, -1, -1), p_child.expand(2, -1, -1)
    omega, la, li = branching_regularizer(vv, pp, A, r, torch.tensor([1.0, 1.0]), tau=0.2)
    assert li[0].item() == 0.0 and li[1].item() == pytest.approx(2.5)
    # all three active at layer 0: pairs (1,2) 0.8, (1,3) 1·0.3·0.2·2 = 0.12,
    # (2,3) 1·0.4·0.1·2 = 0.08, doubled: 2.0; layer 1: (1,3), (2,3): 0.5·A·1·0.5 each
    want = 2.0 + 2 * 0.5 * (0.3 * 0.5 + 0.4 * 0.5)
    assert la[0].item() == pytest.approx(want)


# ---------------------------------------------------------------------------- affinity
def test_rsa_affinity_properties(gen):
    """Identical or affinely related features have affinity 1; 'row' zeroes the far task."""
    f = torch.randn(1, 20, 7, generator=gen)
    other = torch.randn(1, 20, 7, generator=gen)
    feats = [torch.cat([f, 3.0 * f + 1.0, other])]  # correlation ignores affine rescaling
    A = rsa_affinity(feats, "pair")
    torch.testing.assert_close(A, A.T)
    assert A[0, 1].item() == pytest.approx(1.0, abs=1e-6)  # 3f + 1 is rounded in float32
    assert 0.0 <= A[0, 2].item() < 1.0
    torch.testing.assert_close(torch.diagonal(A), torch.ones(3, dtype=torch.float64))
    A2 = rsa_affinity([torch.cat([f, other])], "row")
    assert A2[0, 1].item() == 0.0  # with N = 2 the only other task is also the farthest


# ---------------------------------------------------------------------------- networks
@pytest.mark.parametrize("shape,pool", [((1, 12, 12), 1), ((1, 12, 12), 2), ((7,), 1)])
def test_zero_bn_offsets_equal_the_anchor_streams(shape, pool, gen):
    """With the identity tree and zero Δγ, Δβ every task output is its own stream's."""
    torch.manual_seed(0)
    net = AnchorNet(2, shape, (4, 6), 5, 3, input_pool=pool)
    with torch.no_grad():  # non-trivial statistics and affine parameters
        for mod in net.modules():
            if isinstance(mod, torch.nn.BatchNorm1d):
                mod.running_mean.uniform_(-1, 1, generator=gen)
                mod.running_var.uniform_(0.5, 2, generator=gen)
                mod.weight.uniform_(0.5, 1.5, generator=gen)
                mod.bias.uniform_(-0.5, 0.5, generator=gen)
    net.eval()
    x = torch.randn(5, *shape, generator=gen)
    tree = F.one_hot(torch.arange(2).expand(2, 2), 2).float().expand(5, -1, -1, -1)
    with torch.no_grad():
        zero = net(x, tree, torch.zeros(5, net.n_deltas))
        plain = net(x, tree)
        own = torch.stack([net.forward_stream(i, x) for i in range(2)], dim=1)
        shifted = net(x, tree, torch.full((5, net.n_deltas), 0.3))
    torch.testing.assert_close(zero, own, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(plain, own, rtol=1e-5, atol=1e-6)
    assert not torch.allclose(shifted, own, atol=1e-3)


def test_used_nodes_and_cost():
    """Both heads on stream 0 use only stream 0's blocks: cost (blocks_0 + heads) / all."""
    params = torch.tensor([[10, 10], [20, 20], [5, 5]])  # 2 block layers, then heads
    shared = torch.tensor([[[0, 0], [0, 0]]])
    assert used_nodes(shared)[0].tolist() == [[True, False], [True, False], [True, True]]
    assert tree_cost(shared, params).item() == pytest.approx((10 + 20 + 10) / 70)
    assert tree_cost(torch.tensor([[0, 1], [0, 1]]), params).item() == 1.0


# ---------------------------------------------------------------------------- configuration
def test_node_flops_match_a_hand_count():
    """conv 3×3: 2·H·W·C_out·C_in·9 per example; linear: 2·in·out (bias adds not counted)."""
    net = AnchorNet(2, (1, 8, 8), (4, 6), head_hidden=5, out_dim=3, input_pool=1)
    want = [[2 * 8 * 8 * 4 * 1 * 9] * 2,  # block 0 on 8×8, 1 → 4 channels
            [2 * 4 * 4 * 6 * 4 * 9] * 2,  # block 1 on 4×4 (after pooling), 4 → 6
            [2 * (6 * 2 * 2) * 5 + 2 * 5 * 3] * 2]  # head: 24 → 5 → 3
    assert net.node_flops().tolist() == want
    vec = AnchorNet(3, (7,), (4,), head_hidden=2, out_dim=1)
    assert vec.node_flops().tolist() == [[2 * 7 * 4] * 3, [2 * 4 * 2 + 2 * 2 * 1] * 3]


def test_a_frugal_tree_runs_only_its_blocks():
    """Without a gradient through the tree, forward skips the blocks no node reads: the FLOPs
    torch counts (convolutions and linear layers; the routing einsum excluded) are the tree's
    used-node FLOPs, and the outputs equal those of the full computation."""
    from torch.utils.flop_counter import FlopCounterMode

    net = AnchorNet(3, (1, 16, 16), (4, 8, 8), head_hidden=5, out_dim=10, input_pool=1).eval()
    x = torch.randn(2, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    nf = net.node_flops()
    for parents in ([[0, 0, 2], [0, 0, 2], [0, 0, 2]], [[0, 0, 0], [0, 0, 0], [0, 0, 0]],
                    [[0, 1, 2], [0, 1, 2], [0, 1, 2]]):
        parents = torch.tensor(parents)
        mix = F.one_hot(parents, 3).float().expand(2, -1, -1, -1)
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            out = net(x, mix)
        ops = {str(k): v for k, v in counter.get_flop_counts()["Global"].items()}
        counted = ops.get("aten.convolution", 0) + ops.get("aten.addmm", 0)
        assert counted == 2 * int((used_nodes(parents) * nf).sum())  # 2 examples
        full = net(x, mix.clone().requires_grad_(True))  # a gradient: every block runs
        torch.testing.assert_close(out, full.detach())


def test_phn_bn_steers_the_losses_with_batch_norm_offsets_alone():
    """PHN-BN (the DYMU paper's baseline; PHN's claim): one shared network whose batch norms
    alone are generated from the preference still moves each task's loss monotonically with
    its weight; its tree is fixed (every node reads stream 0) whatever the preference."""
    import scipy.stats as st

    import hybridmoo.baselines.phn_bn  # noqa: F401  (registers "phn_bn")

    r = baselines.run("phn_bn", "mtl_regression", {"steps": 1000}, seed=0, n_eval=11,
                      threads=1, problem_options=dict(n_tasks=2, in_dim=8, n_train=512,
                                                      n_test=256, conflict=1.0),
                      config={"widths": [16, 16], "head_hidden": 16, "batch_size": 64,
                              "rsa_images": 16})
    assert r.status == "ok" and r.extra["steps"] == {"anchor": 800, "edge": 0, "weight": 200}
    p1 = r.prefs[:, 0]
    assert st.spearmanr(p1, r.F[:, 0])[0] < -0.8
    assert st.spearmanr(p1, r.F[:, 1])[0] > 0.8
    assert np.all(np.asarray(r.extra["trees"]) == 0)
    # cost: block of stream 0 per layer + both heads, over the whole two-stream anchor net
    blocks = [8 * 16 + 16 + 2 * 16, 16 * 16 + 16 + 2 * 16]  # linear + batch norm (γ, β)
    head = 16 * 16 + 16 + 2 * 16 + 16 * 10 + 10
    assert r.extra["cost"] == pytest.approx((sum(blocks) + 2 * head) / (2 * sum(blocks)
                                                                         + 2 * head))
    with pytest.raises(ConfigError, match="PHN-BN has no edge stage"):
        baselines.run("phn_bn", "mtl_regression", {"steps": 10}, stage_fractions=(1, 1, 1))


def test_config_and_problem_errors():
    """Bad settings and unsupported problems are refused with the key in the message."""
    with pytest.raises(ConfigError, match="affinity_norm"):
        DymuConfig(affinity_norm="max")
    with pytest.raises(ConfigError, match="tau"):
        DymuConfig(tau=1.5)
    with pytest.raises(ConfigError, match="unknown dymu option 'zeta'"):
        DymuConfig.from_dict({"zeta": 1.0})
    with pytest.raises(ConfigError, match="multi_mnist"):
        dymu_data(problems.get("zdt1", n_var=5))
    assert DymuConfig().tau_for(3) == pytest.approx(0.2)


def test_compare_method_runs_on_mtl_regression():
    """``dymu`` through the registry: a front of n_eval points and the cost in ``extra``."""
    r = baselines.run("dymu", "mtl_regression", baselines.Budget("steps", 60), seed=0,
                      problem_options={"n_tasks": 3, "in_dim": 8, "n_train": 256,
                                       "n_test": 128},
                      c=1.0, n_eval=6, threads=1,
                      config={"widths": (8, 8), "head_hidden": 4, "batch_size": 32,
                              "rsa_images": 16})
    assert r.ok, r.error
    assert r.F.shape == (r.prefs.shape[0], 3) and r.prefs.shape[0] >= 6
    np.testing.assert_allclose(r.prefs.sum(1), 1.0)
    assert 0.0 < r.extra["cost"] <= 1.0
    assert [row["c"] for row in r.extra["by_c"]] == [0.0, 0.5, 1.0]
    assert r.budget_used["steps"] <= 60
    assert baselines.get("dymu").family == "psl"


def test_compare_method_is_seeded():
    """The same seed gives the same front bit for bit; another seed a different one."""
    def go(seed: int):
        return baselines.run("dymu", "mtl_regression", baselines.Budget("steps", 40), seed=seed,
                             problem_options={"n_tasks": 2, "in_dim": 8, "n_train": 256,
                                              "n_test": 128},
                             n_eval=4, threads=1,
                             config={"widths": (8, 8), "head_hidden": 4, "batch_size": 32,
                                     "rsa_images": 16})

    a, b, c = go(0), go(0), go(1)
    np.testing.assert_array_equal(a.F, b.F)
    assert np.abs(a.F - c.F).max() > 1e-6


# ---------------------------------------------------------------------------- the paper's claims
@pytest.mark.slow
def test_skewed_preferences_give_single_stream_trees():
    """A dominant task keeps its own stream and the others follow it (near single-stream tree)."""
    data = disjoint_tasks(2)
    res = train_dymu(data, SMALL, seed=0)
    m = res.model
    L = len(SMALL["widths"])
    for i in range(2):
        r = torch.full((1, 2), 0.05)
        r[0, i] = 0.95
        for c in (0.0, 1.0):
            used = used_nodes(m.tree(r, c))[0, :L]  # block layers
            single = int((used.sum(-1) == 1).sum())
            assert single >= L - 1, (i, c, used.tolist())
            assert bool(used[L - 1, i]), "the dominant task must keep its own top block"
        # the dominant task's loss stays near its single-task loss
        ev = m.evaluate(data, r.double(), 0.0)
        assert ev.F[0, i] < 1.5 * res.anchor_losses[i]


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "not reproduced on this small problem: with a few hundred stage-1 steps the edge "
    "hypernet does not learn the c-dependence for balanced preferences; on Multi-MNIST "
    "the decrease is small but holds (test_cost_falls_as_c_rises_on_multi_mnist)"))
def test_cost_falls_as_c_rises():
    """The paper's claim: the mean cost of the chosen trees is lower at c = 1 than at c = 0."""
    data = disjoint_tasks(2)
    costs = {0.0: [], 1.0: []}
    for seed in (0, 1):
        res = train_dymu(data, dict(SMALL, lambda_active=0.4), seed=seed)
        for c in costs:
            costs[c].append(float(np.mean(res.evals[c].cost)))
    assert np.mean(costs[1.0]) < np.mean(costs[0.0]), costs


@pytest.mark.slow
def test_cost_falls_as_c_rises_on_multi_mnist():
    """The paper's claim on real data at the benchmark's scale (benchmarks/bench_dymu.py):
    with two seeds, the mean cost (active-parameter ratio) of the chosen trees over 20
    preferences is lower at c = 1 than at c = 0. (Their FLOPs fall on average, not on every
    seed: seed 1 gives 414.6 thousand at c = 0 and 415.1 at c = 1.)"""
    problem = problems.get("multi_mnist", source="t10k", seed=0)
    cfg = {"anchor_steps": 400, "edge_steps": 800, "weight_steps": 0, "batch_size": 64,
           "n_eval": 20, "eval_c": (0.0, 1.0), "threads": 1}
    for seed in (0, 1):
        res = train_dymu(problem, cfg, seed=seed)
        s0, s1 = res.evals[0.0].summary(), res.evals[1.0].summary()
        assert s1["cost"] < s0["cost"], (seed, s0, s1)
