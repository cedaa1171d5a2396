"""Tests of hybridmoo.hypernet: vector and module targets, sizes, batched calls, conditioning."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from hybridmoo import problems
from hybridmoo.errors import ConfigError, ShapeError
from hybridmoo.hypernet import (
    HypernetConfig,
    Hypernetwork,
    ModuleTarget,
    VectorTarget,
    batched_call,
    looped_call,
)
from hybridmoo.targets import MLP, MultiHeadMLP, MultiLeNet

DTYPES = [torch.float32, torch.float64]
SMALL = HypernetConfig(embed_dim=4, width=8, depth=1)
LOWER = torch.tensor([-5.0, 0.0, 1.0])
UPPER = torch.tensor([5.0, 1.0, 3.0])


def _prefs(K: int, m: int = 2, dtype: torch.dtype = torch.float32, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    p = torch.rand(K, m, generator=g, dtype=torch.float64) + 0.05
    return (p / p.sum(-1, keepdim=True)).to(dtype)


def _extreme_prefs(dtype: torch.dtype) -> torch.Tensor:
    return torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.9, 0.1]], dtype=dtype)


def _saturate(net: Hypernetwork, value: float) -> None:
    """Push every raw output of a tensor-head vector network to ``value`` (sigmoid saturation)."""
    with torch.no_grad():
        net.heads[0].weight.zero_()
        net.heads[0].bias.fill_(value)


# ---------------------------------------------------------------------------- vector targets
@pytest.mark.parametrize("head", ["tensor", "chunked"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("K", [0, 1, 5])
def test_vector_target_shape_and_dtype(head, dtype, K):
    """A vector target gives one `(K, n_var)` decision vector per preference in the net's dtype."""
    cfg = HypernetConfig(embed_dim=4, width=8, depth=1, head=head, n_chunks=2, chunk_hidden=4)
    net = Hypernetwork(2, VectorTarget(LOWER, UPPER), cfg).to(dtype=dtype)
    out = net(_prefs(K, dtype=dtype))
    assert list(out) == ["x"]
    assert out["x"].shape == (K, 3)
    assert out["x"].dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_vector_target_inside_bounds_at_init(dtype):
    """At initialisation the generated decision vectors lie strictly inside the box."""
    net = Hypernetwork(2, VectorTarget(LOWER, UPPER), SMALL).to(dtype=dtype)
    x = net(_prefs(64, dtype=dtype))["x"]
    assert (x > LOWER.to(dtype)).all() and (x < UPPER.to(dtype)).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("raw", [-200.0, -20.0, 20.0, 200.0])
def test_vector_target_strictly_inside_bounds_for_extreme_raw_values(dtype, raw):
    """Saturated raw outputs still give decision vectors strictly inside the bounds.

    Exactly hitting a bound is not harmless: ZDT1's sqrt(f1/g) has an infinite derivative at
    x1 = 0, and sigmoid'(z) = 0 there, so the gradient becomes 0·inf = NaN.
    """
    net = Hypernetwork(2, VectorTarget(LOWER, UPPER), SMALL).to(dtype=dtype)
    _saturate(net, raw)
    x = net(_extreme_prefs(dtype))["x"]
    lo, hi = LOWER.to(dtype), UPPER.to(dtype)
    assert (x > lo).all() and (x < hi).all(), f"raw={raw}: x={x[0].tolist()}"


@pytest.mark.parametrize("dtype", DTYPES)
def test_vector_target_strictly_inside_bounds_for_big_weights(dtype):
    """Very large head weights (out_scale = 1e4) keep the outputs strictly inside the bounds."""
    torch.manual_seed(0)
    net = Hypernetwork(2, VectorTarget(LOWER, UPPER), HypernetConfig(out_scale=1e4)).to(
        dtype=dtype
    )
    x = net(_extreme_prefs(dtype))["x"]
    assert torch.isfinite(x).all()
    assert (x > LOWER.to(dtype)).all() and (x < UPPER.to(dtype)).all()


def test_saturated_vector_target_gives_finite_gradients_on_zdt1():
    """A saturated lower end of x1 on ZDT1 still back-propagates a finite gradient."""
    p = problems.get("zdt1", n_var=5)
    lo, hi = p.bounds
    net = Hypernetwork(2, VectorTarget(lo, hi), SMALL)
    with torch.no_grad():
        net.heads[0].bias[0] = -200.0
    f = p.evaluate(net(_prefs(3))["x"])
    assert torch.isfinite(f).all()
    f.sum().backward()
    for name, q in net.named_parameters():
        assert torch.isfinite(q.grad).all(), f"non-finite gradient in {name}"


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_reaches_eps_cubed_from_a_lower_bound_so_zdt6_can_converge(dtype):
    """ZDT6's g = 1 + 9·mean(x₂..)^0.25 is 1 at its optimum x₂.. = 0 (on the lower bound): a
    sigmoid output floored at eps would leave g at 1 + 9·eps^0.25 (1.17 in float32); floored at
    eps³ it comes within 10⁻³ of 1 in either dtype, and the gradient stays finite."""
    p = problems.get("zdt6", n_var=4)
    lo, hi = p.bounds
    net = Hypernetwork(2, VectorTarget(lo, hi), SMALL).to(dtype=dtype)
    with torch.no_grad():
        net.heads[0].bias[1:] = -200.0
    eps = torch.finfo(dtype).eps
    x = net(_prefs(3, dtype=dtype))["x"]
    assert (x[:, 1:] > 0).all() and (x[:, 1:] <= 2 * eps ** 3).all()
    g = 1 + 9 * x[:, 1:].mean(dim=1) ** 0.25
    assert (g < 1.001).all()
    # just above the floor (σ(−40) ≈ 4·10⁻¹⁸) the gradient flows, and stays finite: g's slope
    # there is ~10¹³, the sigmoid's ~10⁻¹⁸
    with torch.no_grad():
        net.heads[0].bias[1:] = -40.0
    p.evaluate(net(_prefs(3, dtype=dtype))["x"]).sum().backward()
    for name, q in net.named_parameters():
        assert torch.isfinite(q.grad).all(), f"non-finite gradient in {name}"
    assert (net.heads[0].bias.grad[1:] != 0).all()


@pytest.mark.parametrize("raw", [-200.0, 200.0])
def test_float64_vector_target_respects_bounds_not_representable_in_float32(raw):
    """In float64 the outputs stay inside the problem's float64 bounds (re21: √2, re35: 0.8)."""
    for name in ("re21", "re35"):
        lo, hi = problems.get(name).bounds  # float64
        net = Hypernetwork(2, VectorTarget(lo, hi), SMALL).to(dtype=torch.float64)
        _saturate(net, raw)
        x = net(_extreme_prefs(torch.float64))["x"]
        assert (x >= lo).all() and (x <= hi).all(), (
            f"{name}: x = {x[0].tolist()} outside [{lo.tolist()}, {hi.tolist()}]"
        )


def test_vector_target_n_params_is_n_var():
    """A vector target generates n_var values and the hypernetwork reports that count."""
    t = VectorTarget(LOWER, UPPER)
    assert t.n_params == 3 and t.shapes == {"x": (3,)}
    assert Hypernetwork(2, t, SMALL).n_target_params == 3


# ---------------------------------------------------------------------------- module targets
@pytest.mark.parametrize("head", ["tensor", "chunked"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_module_target_names_and_shapes(head, dtype):
    """Generated dicts have exactly the template's parameter names, shapes with a leading K."""
    module = MultiHeadMLP(3, [6, 5], n_tasks=2)
    cfg = HypernetConfig(embed_dim=4, width=8, depth=1, head=head, n_chunks=3,
                         chunk_embed_dim=4, chunk_hidden=8)
    net = Hypernetwork(2, ModuleTarget(module), cfg).to(dtype=dtype)
    K = 4
    out = net(_prefs(K, dtype=dtype))
    expected = dict(module.named_parameters())
    assert list(out) == list(expected)
    for k, v in out.items():
        assert v.shape == (K, *expected[k].shape), k
        assert v.dtype == dtype


@pytest.mark.parametrize("head", ["tensor", "chunked"])
def test_module_target_empty_batch(head):
    """Zero preferences give zero parameter sets of the right shapes."""
    module = MLP(3, [4], 2)
    net = Hypernetwork(2, ModuleTarget(module), HypernetConfig(width=8, head=head, n_chunks=5))
    out = net(_prefs(0))
    for k, v in module.named_parameters():
        assert out[k].shape == (0, *v.shape)


def test_module_target_without_parameters_raises():
    """A template without parameters is rejected with a ShapeError naming the module."""
    with pytest.raises(ShapeError, match="ReLU has no parameters"):
        ModuleTarget(nn.ReLU())


@pytest.mark.parametrize("module", [MLP(3, [4, 5], 2), MultiHeadMLP(3, [6], 3), MultiLeNet()])
def test_n_target_params_equals_template_count(module):
    """n_target_params equals the number of parameters of the template."""
    net = Hypernetwork(2, ModuleTarget(module), HypernetConfig(width=4, head="chunked"))
    assert net.n_target_params == sum(p.numel() for p in module.parameters())


def test_multilenet_has_31910_parameters():
    """The two-task MultiLeNet target has the 31,910 parameters quoted by PHN."""
    assert sum(p.numel() for p in MultiLeNet().parameters()) == 31910


@pytest.mark.parametrize(
    "cfg",
    [
        HypernetConfig(embed_dim=4, width=8, depth=2),
        HypernetConfig(embed_dim=0, width=8, depth=1, norm="layer", budget=True),
        HypernetConfig(width=8, head="chunked", n_chunks=3, chunk_embed_dim=2, chunk_hidden=6),
        HypernetConfig(width=8, base=False),
    ],
)
def test_n_params_is_sum_of_trainable_numel(cfg):
    """n_params counts exactly the trainable parameters of the hypernetwork."""
    net = Hypernetwork(2, ModuleTarget(MLP(3, [4], 2)), cfg)
    assert net.n_params == sum(p.numel() for p in net.parameters() if p.requires_grad)


def test_n_params_by_hand_vector_tensor_head():
    """A small tensor-head vector hypernetwork has the hand-counted number of parameters."""
    # embed 2·4 (no bias) + trunk (4·8+8) + (8·8+8) + head 8·5+5 = 8 + 40 + 72 + 45
    net = Hypernetwork(2, VectorTarget(torch.zeros(5), torch.ones(5)),
                       HypernetConfig(embed_dim=4, width=8, depth=2))
    assert net.n_params == 8 + 40 + 72 + 45


def test_n_params_by_hand_module_chunked_head():
    """A chunked-head module hypernetwork has the hand-counted number of parameters."""
    module = MLP(3, [4], 2)  # 3·4+4 + 4·2+2 = 26 target parameters
    cfg = HypernetConfig(embed_dim=0, width=8, depth=1, head="chunked", n_chunks=3,
                         chunk_embed_dim=2, chunk_hidden=6, budget=True)
    net = Hypernetwork(2, ModuleTarget(module), cfg)
    chunk = math.ceil(26 / 3)  # 9
    trunk = 3 * 8 + 8  # input = 2 prefs + budget
    gen = 3 * 2 + (8 + 2) * 6 + 6 + 6 * chunk + chunk
    assert net.n_params == trunk + gen + 26  # + base tensors


def test_base_false_removes_exactly_the_target_count():
    """base=False drops exactly n_target_params learned parameters."""
    module = MultiHeadMLP(3, [6], 2)
    with_base = Hypernetwork(2, ModuleTarget(module), HypernetConfig(width=8))
    without = Hypernetwork(2, ModuleTarget(module), HypernetConfig(width=8, base=False))
    assert without.base is None
    assert with_base.n_params - without.n_params == with_base.n_target_params


def test_chunked_head_much_smaller_than_tensor_head_for_multilenet():
    """For MultiLeNet a chunked head with few chunks is ≥ 10× smaller than the tensor head."""
    target = ModuleTarget(MultiLeNet())
    tensor = Hypernetwork(2, target, HypernetConfig(head="tensor"))
    chunked = Hypernetwork(2, target, HypernetConfig(head="chunked", n_chunks=32))
    assert chunked.n_params * 10 < tensor.n_params
    assert chunked.n_target_params == tensor.n_target_params == 31910


def test_phn_size_on_multilenet():
    """PHN's configuration (embed 100, width 100, depth 2, tensor heads) has ≈ 3.2M parameters."""
    cfg = HypernetConfig(embed_dim=100, width=100, depth=2, head="tensor")
    net = Hypernetwork(2, ModuleTarget(MultiLeNet()), cfg)
    assert 3_100_000 <= net.n_params <= 3_400_000, net.n_params


# ---------------------------------------------------------------------------- batched calls
def _lenet_case(K: int = 3, B: int = 2, seed: int = 0):
    torch.manual_seed(seed)
    module = MultiLeNet()
    net = Hypernetwork(2, ModuleTarget(module), HypernetConfig(width=16, head="chunked",
                                                               n_chunks=8))
    x = torch.randn(K, B, 1, 36, 36, generator=torch.Generator().manual_seed(seed))
    return module, net, x


def _mlp_case(K: int = 4, B: int = 5, seed: int = 0):
    torch.manual_seed(seed)
    module = MultiHeadMLP(3, [6, 5], n_tasks=2, out_dim=2)
    net = Hypernetwork(2, ModuleTarget(module), HypernetConfig(width=8))
    x = torch.randn(K, B, 3, generator=torch.Generator().manual_seed(seed))
    return module, net, x


@pytest.mark.parametrize("case", [_lenet_case, _mlp_case], ids=["multilenet", "multiheadmlp"])
def test_batched_call_equals_looped_call(case):
    """vmap'd batched_call gives the same outputs as the Python loop (fp32 tolerance 1e-5)."""
    module, net, x = case()
    params = net(_prefs(x.shape[0]))
    a = batched_call(module, params, x)
    b = looped_call(module, params, x)
    assert a.shape == b.shape == (x.shape[0], x.shape[1], 2, a.shape[-1])
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", [_lenet_case, _mlp_case], ids=["multilenet", "multiheadmlp"])
def test_batched_call_gradients_match_looped_call(case):
    """Gradients w.r.t. the hypernetwork's parameters agree for batched and looped calls."""
    module, net, x = case()
    prefs = _prefs(x.shape[0])
    grads = []
    for call in (batched_call, looped_call):
        net.zero_grad(set_to_none=True)
        call(module, net(prefs), x).pow(2).mean().backward()
        grads.append({k: p.grad.clone() for k, p in net.named_parameters()})
    for k in grads[0]:
        torch.testing.assert_close(grads[0][k], grads[1][k], rtol=1e-4, atol=1e-6, msg=k)


def test_batched_call_uses_each_parameter_set_on_its_own_batch():
    """Row k of the output is the template run with parameter set k on input batch k."""
    module, net, x = _mlp_case(K=3)
    params = net(_prefs(3))
    out = batched_call(module, params, x)
    for k in range(3):
        m = MultiHeadMLP(3, [6, 5], n_tasks=2, out_dim=2)
        m.load_state_dict({n: v[k] for n, v in params.items()})
        torch.testing.assert_close(out[k], m(x[k]), rtol=1e-5, atol=1e-6)


def test_generated_weights_do_not_touch_the_template():
    """Running batched_call leaves the template module's own parameters unchanged."""
    module, net, x = _mlp_case()
    before = {k: v.clone() for k, v in module.state_dict().items()}
    batched_call(module, net(_prefs(x.shape[0])), x).sum().backward()
    for k, v in module.state_dict().items():
        assert torch.equal(v, before[k]), k
        assert dict(module.named_parameters())[k].grad is None


# ---------------------------------------------------------------------------- base tensors
@pytest.mark.parametrize("head", ["tensor", "chunked"])
def test_base_initialised_to_template_values(head):
    """With base=True the learned base tensors start equal to the template's parameters."""
    module = MultiHeadMLP(3, [6, 5], n_tasks=2)
    net = Hypernetwork(2, ModuleTarget(module), HypernetConfig(width=8, head=head, n_chunks=4))
    for k, v in module.named_parameters():
        assert torch.equal(net.base[k.replace(".", "__")].detach(), v.detach()), k


def test_base_is_a_copy_not_the_template_tensor():
    """Training the base does not write into the template module's parameters."""
    module = MLP(3, [4], 2)
    before = {k: v.detach().clone() for k, v in module.named_parameters()}
    net = Hypernetwork(2, ModuleTarget(module), HypernetConfig(width=8))
    with torch.no_grad():
        for p in net.base.values():
            p.add_(1.0)
    for k, v in module.named_parameters():
        assert torch.equal(v.detach(), before[k]), k


@pytest.mark.parametrize("head", ["tensor", "chunked"])
def test_small_out_scale_starts_near_template(head):
    """With base=True and a tiny out_scale the generated weights start at the template's init."""
    module = MultiHeadMLP(3, [6, 5], n_tasks=2)
    net = Hypernetwork(2, ModuleTarget(module),
                       HypernetConfig(width=8, head=head, n_chunks=4, out_scale=1e-6))
    out = net(_prefs(5))
    for k, v in module.named_parameters():
        torch.testing.assert_close(out[k], v.detach().expand_as(out[k]), rtol=0, atol=1e-5)


def test_generated_weights_have_template_scale_without_base():
    """Without base the generated tensors have a spread comparable to the template's init."""
    torch.manual_seed(0)
    module = MLP(20, [50], 20)
    net = Hypernetwork(2, ModuleTarget(module), HypernetConfig(base=False))
    with torch.no_grad():
        w = net(_prefs(8))["net.0.weight"]
    ratio = float(w.std() / module.net[0].weight.detach().std())
    # the scale is the template's std times raw head outputs of order 0.1–10 (not 1e3 or 1e-3)
    assert 0.01 < ratio < 10.0, ratio


# ---------------------------------------------------------------------------- conditioning
def test_budget_required_when_configured():
    """A budget-conditioned hypernetwork called without a budget raises a ShapeError."""
    net = Hypernetwork(2, VectorTarget(LOWER, UPPER), HypernetConfig(width=8, budget=True))
    with pytest.raises(ShapeError, match=r"conditioned on a resource budget: pass budget"):
        net(_prefs(3))


def test_budget_wrong_length_raises():
    """A budget whose length differs from K raises a ShapeError naming the expected shape."""
    net = Hypernetwork(2, VectorTarget(LOWER, UPPER), HypernetConfig(width=8, budget=True))
    with pytest.raises(ShapeError, match=r"budget must have shape \(3,\), got \(2, 1\)"):
        net(_prefs(3), torch.tensor([0.1, 0.2]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_budget_changes_output(dtype):
    """Changing the budget changes the generated parameters for the same preferences."""
    torch.manual_seed(0)
    net = Hypernetwork(2, ModuleTarget(MLP(3, [4], 2)),
                       HypernetConfig(width=8, budget=True)).to(dtype=dtype)
    prefs = _prefs(3, dtype=dtype)
    lo = net(prefs, torch.zeros(3, dtype=dtype))
    hi = net(prefs, torch.ones(3, dtype=dtype))
    assert lo["net.0.weight"].dtype == dtype
    assert not torch.allclose(lo["net.0.weight"], hi["net.0.weight"])
    again = net(prefs, torch.zeros(3, dtype=dtype))
    assert torch.equal(lo["net.0.weight"], again["net.0.weight"])


def test_budget_rejected_when_not_configured():
    """Passing a budget to a hypernetwork built with budget=False raises a ShapeError."""
    net = Hypernetwork(2, VectorTarget(LOWER, UPPER), HypernetConfig(width=8))
    with pytest.raises(ShapeError, match="budget given but the hypernetwork was built with"):
        net(_prefs(3), torch.ones(3))


@pytest.mark.parametrize("kind", ["vector", "module"])
def test_different_preferences_give_different_outputs(kind):
    """Different preferences map to different generated parameters; equal ones to equal."""
    torch.manual_seed(0)
    target = VectorTarget(LOWER, UPPER) if kind == "vector" else ModuleTarget(MLP(3, [4], 2))
    net = Hypernetwork(2, target, HypernetConfig(width=8))
    out = net(torch.tensor([[0.9, 0.1], [0.1, 0.9], [0.9, 0.1]]))
    for k, v in out.items():
        assert not torch.allclose(v[0], v[1]), k
        assert torch.equal(v[0], v[2]), k


@pytest.mark.parametrize("shape", [(3,), (3, 3), (2, 3, 2), (3, 1)])
def test_wrong_pref_shape_raises(shape):
    """Preferences not of shape (K, n_obj) raise a ShapeError naming the expected shape."""
    net = Hypernetwork(2, VectorTarget(LOWER, UPPER), SMALL)
    with pytest.raises(ShapeError, match=r"prefs must have shape \(K, 2\), got"):
        net(torch.rand(*shape))


def test_prefs_are_not_mutated():
    """The caller's preference tensor is left unchanged by a forward pass."""
    net = Hypernetwork(2, ModuleTarget(MLP(3, [4], 2)), HypernetConfig(width=8, budget=True))
    prefs, budget = _prefs(4), torch.rand(4)
    p0, b0 = prefs.clone(), budget.clone()
    net(prefs, budget)
    assert torch.equal(prefs, p0) and torch.equal(budget, b0)


# ---------------------------------------------------------------------------- config
@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"width": 0}, r"hypernet\.width = 0 is invalid: expected an integer ≥ 1"),
        ({"depth": 0}, r"hypernet\.depth = 0 is invalid"),
        ({"embed_dim": -1}, r"hypernet\.embed_dim = -1 is invalid: expected an integer ≥ 0"),
        ({"n_chunks": 0}, r"hypernet\.n_chunks = 0 is invalid"),
        ({"out_scale": 0.0}, r"hypernet\.out_scale = 0\.0 is invalid: expected a number > 0"),
        ({"activation": "rellu"}, r"activation = 'rellu' is not allowed\. Did you mean 'relu'\?"),
        ({"norm": "batch"}, r"hypernet\.norm = 'batch' is not allowed.*Allowed: none, layer"),
        ({"head": "tensors"}, r"Did you mean 'tensor'\?"),
    ],
)
def test_config_validation(kwargs, pattern):
    """Invalid HypernetConfig values raise a ConfigError naming the key and what is allowed."""
    with pytest.raises(ConfigError, match=pattern):
        HypernetConfig(**kwargs)


def test_config_from_dict_unknown_key():
    """from_dict rejects an unknown key, suggesting the closest field."""
    pattern = r"unknown hypernet option 'widht'\. Did you mean 'width'"
    with pytest.raises(ConfigError, match=pattern):
        HypernetConfig.from_dict({"widht": 10})


def test_config_round_trip():
    """to_dict/from_dict round-trips a non-default configuration."""
    cfg = HypernetConfig(embed_dim=0, width=7, head="chunked", budget=True, out_scale=0.5)
    assert HypernetConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize("activation", ["relu", "gelu", "tanh", "silu", "elu"])
@pytest.mark.parametrize("norm", ["none", "layer"])
def test_every_activation_and_norm_builds(activation, norm):
    """Every allowed activation/norm combination builds and gives finite outputs."""
    net = Hypernetwork(2, VectorTarget(LOWER, UPPER),
                       HypernetConfig(width=8, activation=activation, norm=norm))
    assert torch.isfinite(net(_prefs(3))["x"]).all()


def test_auto_head_chunks_large_targets_only():
    """head = "auto": a tensor head for a decision vector or a small network, the chunked
    generator from CHUNKED_MIN target parameters on (far fewer hypernetwork parameters)."""
    from hybridmoo.hypernet import CHUNKED_MIN

    small = Hypernetwork(2, ModuleTarget(nn.Linear(10, 2)))  # 22 parameters
    assert small.head == "tensor" and hasattr(small, "heads")
    vec = Hypernetwork(2, VectorTarget(torch.zeros(30), torch.ones(30)))
    assert vec.head == "tensor"
    big_module = nn.Linear(CHUNKED_MIN, 1)  # CHUNKED_MIN + 1 parameters
    big = Hypernetwork(2, ModuleTarget(big_module))
    assert big.head == "chunked" and not hasattr(big, "heads")
    tensor = Hypernetwork(2, ModuleTarget(big_module), HypernetConfig(head="tensor"))
    assert tensor.head == "tensor" and big.n_params < tensor.n_params / 4
    out = big(torch.tensor([[0.3, 0.7], [1.0, 0.0]]))
    assert out["weight"].shape == (2, 1, CHUNKED_MIN) and torch.isfinite(out["weight"]).all()
    # the published baselines keep PHN's tensor heads whatever the library default
    from hybridmoo import baselines
    r = baselines.run("phn_ls", "mtl_regression", ("steps", 1), seed=0, n_eval=2, threads=1)
    assert r.extra["hypernet"]["head"] == "tensor"


def test_clip_bounds_reach_the_box_and_keep_a_gradient_outside_it():
    """bounds = "clip": x = lower + (upper − lower)·clip(½ + z/4): the sigmoid's slope at the
    centre, the bound itself (to the last float) for large |z|, and a small non-zero gradient
    beyond it so that a pushed-out output can return; the sigmoid stays strictly inside."""
    lo, hi = torch.tensor([-2.0, 0.0]), torch.tensor([2.0, 10.0])
    net = Hypernetwork(2, VectorTarget(lo, hi), HypernetConfig(bounds="clip"))
    sig = Hypernetwork(2, VectorTarget(lo, hi), HypernetConfig(bounds="sigmoid"))
    assert (net.bounds, sig.bounds) == ("clip", "sigmoid")
    raw = torch.tensor([[-40.0, 40.0], [0.0, 1.0], [3.0, -3.0]], requires_grad=True)
    x = net._bounded(raw)
    assert ((x > lo) & (x < hi)).all()  # never exactly on a bound (ZDT1's sqrt)
    torch.testing.assert_close(x[0], torch.stack([lo[0], hi[1]]), atol=1e-5, rtol=0)
    torch.testing.assert_close(x[1], lo + (hi - lo) * torch.tensor([0.5, 0.75]))
    x.sum().backward()
    g = raw.grad / (hi - lo)
    torch.testing.assert_close(g[1], torch.full((2,), 0.25))  # inside: the constant slope
    assert (g[0] > 0).all() and (g[0] < 1e-15).all()  # far out: tiny, never zero
    assert (g[2] > 0).all() and (g[2] < g[1]).all()
    # the sigmoid cannot come as close to a bound from the same raw value
    xs = sig._bounded(torch.tensor([[-6.0, 6.0]]))
    xc = net._bounded(torch.tensor([[-6.0, 6.0]]))
    assert xc[0, 0] - lo[0] < 1e-5 < xs[0, 0] - lo[0]


def test_auto_bounds_clip_black_boxes_only_and_stored_models_keep_the_sigmoid():
    from hybridmoo.problems import from_numpy
    from hybridmoo.tasks import VectorTask

    def f(X):
        return X[:, :2] ** 2

    box = VectorTask(from_numpy(f, 3, 2, 0.0, 1.0, ref_point=[2.0, 2.0]))
    assert box.target.zero_order and Hypernetwork(2, box.target).bounds == "clip"
    plain = VectorTask(problems.get("zdt1", n_var=3))
    assert not plain.target.zero_order and Hypernetwork(2, plain.target).bounds == "sigmoid"
    assert HypernetConfig().bounds == "auto"
    # a configuration stored before `bounds` existed was trained with the sigmoid
    assert HypernetConfig.from_stored({"width": 8}).bounds == "sigmoid"
    assert HypernetConfig.from_stored({"width": 8, "bounds": "clip"}).bounds == "clip"
    with pytest.raises(ConfigError, match="bounds"):
        HypernetConfig(bounds="tanh")
    # the published baselines keep PSL's sigmoid on a black box
    from hybridmoo.baselines._trainer import PAPER_HYPERNET
    assert PAPER_HYPERNET["bounds"] == "sigmoid"


def test_a_stored_model_keeps_what_auto_built():
    """A result records the head and bounds its trainer built; reloading takes those for an
    "auto", whatever "auto" would pick today."""
    from hybridmoo.train import Trainer

    result = Trainer(problems.get("zdt1", n_var=4), None, {"steps": 2, "n_eval": 5,
                                                           "threads": 1}, seed=0).run()
    assert result.extra["hypernet_built"] == {"head": "tensor", "bounds": "sigmoid"}
    built = {"head": "chunked", "bounds": "clip"}
    cfg = HypernetConfig.from_stored({"width": 8, "head": "auto", "bounds": "auto"}, built)
    assert (cfg.head, cfg.bounds) == ("chunked", "clip")
    fixed = HypernetConfig.from_stored({"width": 8, "head": "tensor", "bounds": "sigmoid"}, built)
    assert (fixed.head, fixed.bounds) == ("tensor", "sigmoid")  # an explicit choice stands
