"""Preference-conditioned hypernetworks: ``h_φ(λ[, c]) → θ`` for K preferences at once.

A :class:`Hypernetwork` maps a batch of preferences `(K, m)` (and optionally a resource budget
`(K,)` in [0, 1], for DYMU-style control) to the parameters of a *target*:

- a :class:`VectorTarget`: the decision vector of a box-constrained problem, kept inside the
  bounds by ``x = lower + (upper − lower)·b(z)`` (``HypernetConfig.bounds``): the sigmoid
  ``b = σ`` (as in PSL, Lin et al. 2022, and HV-PSL, Zhang et al. 2023) or ``b(z) = clip(½ + z/4,
  0, 1)`` (``"clip"``, the default for black-box problems; see :data:`BOUNDS`);
- a :class:`ModuleTarget`: the parameters of any ``nn.Module``, one generated tensor per entry of
  ``named_parameters()``; the module then runs on them through ``torch.func.functional_call``
  (see :func:`batched_call`), so no hand-written weight insertion is needed.

Architecture (every field of :class:`HypernetConfig` is searchable by the outer loop):

1. preference embedding ``e = W_e·[λ; c]`` (a bias-free linear map, i.e. ``Σ_i λ_i E_i + c·e_c``
   as in PHN and DYMU), or the raw preference when ``embed_dim = 0``;
2. an MLP trunk (``depth`` hidden layers of ``width`` units, activation, optional layer norm);
3. output heads, either
   - ``head = "tensor"``: one linear head per target tensor (Pareto HyperNetworks, Navon et al.
     2021), or
   - ``head = "chunked"``: one shared generator MLP applied to ``[trunk features; chunk
     embedding]`` for each of ``n_chunks`` learned chunk embeddings; the concatenated chunks are
     cut into the target's tensors (Controllable Pareto MTL, Lin et al. 2020; PHN-ResNet).

For neural targets every generated tensor is ``θ_t = base_t + s_t · raw_t`` where ``s_t`` is the
standard deviation of the template's initial tensor (so generated weights start at the scale of
a normal initialisation whatever the head) and ``base_t`` is a learned offset initialised to the
template's own initial values (``base = True``, the default) or absent.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.func import functional_call, vmap

from hybridmoo._config import check_choices, check_ranges, check_types, reject_unknown
from hybridmoo.errors import ShapeError

__all__ = [
    "HypernetConfig",
    "Hypernetwork",
    "ModuleTarget",
    "VectorTarget",
    "batched_call",
    "looped_call",
]

_ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "silu": nn.SiLU, "elu": nn.ELU}
_NORMS = ("none", "layer")
_HEADS = ("auto", "tensor", "chunked")
#: ``HypernetConfig.bounds``: how a vector target's raw output z becomes a decision vector in
#: its box. ``"sigmoid"``: ``σ(z)`` (PSL). ``"clip"``: ``clip(½ + z/4, 0, 1)``, the sigmoid's
#: tangent at 0 cut at the box, so a variable reaches its bound exactly and moves at the same
#: speed everywhere inside (σ's slope, 1/4 at the centre, is 0.01 where x is 1 % from a bound, so
#: solutions on or near a bound — ZDT's distance variables, the ends of a front — arrive slowly);
#: outside the box its gradient is σ'(z)/4, never zero, so an output pushed past a bound can
#: come back. ``"auto"``: ``"clip"`` for black-box problems (zero-order gradients,
#: benchmarks/bench_blackbox.py: higher HV on ZDT1, DTLZ2, RE37, ZDT3 and ZDT2 over 8 seeds),
#: ``"sigmoid"`` otherwise (with exact gradients it loses ZDT3's last piece and on psl_f4/f5;
#: results/blackbox.md lists both).
BOUNDS = ("auto", "sigmoid", "clip")
#: ``head = "auto"`` is ``chunked`` for targets with at least this many parameters, else
#: ``tensor``: a tensor head's last layer has ``width × n_target`` weights, which then dominate
#: the step (benchmarks/bench_data_equal_time.py: on mtl_regression's 8,692-parameter target
#: the chunked head takes 3× the steps in the same time and ends 16 % higher; on
#: tabular_sparsity's 530 it is no faster)
CHUNKED_MIN = 2000


@dataclass(frozen=True)
class HypernetConfig:
    """Architecture of a :class:`Hypernetwork`.

    Attributes:
        embed_dim: size of the preference embedding; 0 feeds the raw preference to the trunk.
        width: units per trunk layer (also the size of the trunk's output features); default
            256, chosen by ``benchmarks/bench_defaults.py`` (results/defaults.md).
        depth: number of hidden trunk layers (≥ 1).
        activation: one of ``relu``, ``gelu``, ``tanh``, ``silu``, ``elu``.
        norm: ``none`` or ``layer`` (layer normalisation after each trunk layer).
        head: ``tensor`` (one head per target tensor), ``chunked`` (shared chunk generator) or
            ``auto`` (default: ``chunked`` for targets of at least :data:`CHUNKED_MIN`
            parameters — neural networks — else ``tensor``; :attr:`Hypernetwork.head` is the
            one built).
        n_chunks: number of chunks (``chunked`` only).
        chunk_embed_dim: size of each learned chunk embedding (``chunked`` only).
        chunk_hidden: hidden units of the chunk generator (``chunked`` only).
        budget: condition on a resource budget ``c ∈ [0, 1]`` besides the preference.
        base: add a learned base tensor (initialised to the template's weights) to the generated
            weights of neural targets. Ignored for vector targets.
        out_scale: multiplier of the heads' initial weights (smaller starts closer to ``base``).
        bounds: how a vector target's output is kept in its box: ``auto`` (default), ``sigmoid``
            or ``clip`` (see :data:`BOUNDS`; :attr:`Hypernetwork.bounds` is the one used).
            Ignored for neural targets.
    """

    embed_dim: int = 32
    width: int = 256
    depth: int = 2
    activation: str = "relu"
    norm: str = "none"
    head: str = "auto"
    n_chunks: int = 16
    chunk_embed_dim: int = 32
    chunk_hidden: int = 100
    budget: bool = False
    base: bool = True
    out_scale: float = 1.0
    bounds: str = "auto"

    def __post_init__(self) -> None:
        check_types("hypernet", self)  # booleans, quoted numbers, nan/inf: refused
        checks = [
            ("embed_dim", self.embed_dim >= 0, "an integer ≥ 0"),
            ("width", self.width >= 1, "an integer ≥ 1"),
            ("depth", self.depth >= 1, "an integer ≥ 1"),
            ("n_chunks", self.n_chunks >= 1, "an integer ≥ 1"),
            ("chunk_embed_dim", self.chunk_embed_dim >= 1, "an integer ≥ 1"),
            ("chunk_hidden", self.chunk_hidden >= 1, "an integer ≥ 1"),
            ("out_scale", self.out_scale > 0, "a number > 0"),
        ]
        check_ranges("hypernet", self, checks)
        check_choices("hypernet", [
            ("activation", self.activation, tuple(_ACTIVATIONS)),
            ("norm", self.norm, _NORMS),
            ("head", self.head, _HEADS),
            ("bounds", self.bounds, BOUNDS),
        ])

    def to_dict(self) -> dict:
        """Plain dict of the fields (for TOML, JSON and HDF5 attributes)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping) -> HypernetConfig:
        """Build from a dict; unknown keys raise :class:`ConfigError` naming them."""
        reject_unknown(d, (f.name for f in dataclasses.fields(cls)), "hypernet")
        return cls(**dict(d))

    @classmethod
    def from_stored(cls, d: Mapping, built: Mapping | None = None) -> HypernetConfig:
        """Build from a configuration stored with trained weights: a file written before
        ``bounds`` existed trained its vector targets with the sigmoid, so that is the value a
        missing ``bounds`` means here (not today's ``"auto"``); ``built`` (a result's
        ``extra["hypernet_built"]``: the ``head`` and ``bounds`` the trainer built) replaces an
        ``"auto"``, so that a later change of what ``"auto"`` picks cannot change a stored
        model."""
        cfg = {"bounds": "sigmoid", **dict(d)}
        for key, value in dict(built or {}).items():
            if key in ("head", "bounds") and cfg.get(key) == "auto":
                cfg[key] = value
        return cls.from_dict(cfg)


class VectorTarget:
    """A decision vector in a box: the hypernetwork outputs ``lower + (upper − lower)·b(z)``.

    Args:
        lower, upper: `(n_var,)` bounds.
        zero_order: the problem's gradients are zero-order estimates (a black box); this picks
            ``bounds = "auto"``'s mapping (see :data:`BOUNDS`).
    """

    kind = "vector"

    def __init__(self, lower: Tensor, upper: Tensor, zero_order: bool = False) -> None:
        self.lower = torch.as_tensor(lower, dtype=torch.float64).reshape(-1)
        self.upper = torch.as_tensor(upper, dtype=torch.float64).reshape(-1)
        self.shapes = {"x": tuple(self.lower.shape)}
        self.zero_order = bool(zero_order)

    @property
    def n_params(self) -> int:
        """Number of generated values (``n_var``)."""
        return int(self.lower.numel())


class ModuleTarget:
    """The parameters of an ``nn.Module`` template.

    Args:
        module: the template. Its parameters give the names, shapes and initial values of the
            generated tensors; its buffers are used as they are.
    """

    kind = "module"

    def __init__(self, module: nn.Module) -> None:
        self.module = module
        named = dict(module.named_parameters())
        if not named:
            raise ShapeError(f"target module {type(module).__name__} has no parameters")
        self.shapes = {k: tuple(v.shape) for k, v in named.items()}
        self.init = {k: v.detach().clone() for k, v in named.items()}
        self.buffers = {k: v.detach().clone() for k, v in module.named_buffers()}

    @property
    def n_params(self) -> int:
        """Number of generated values (the template's parameter count)."""
        return sum(math.prod(s) for s in self.shapes.values())


class _ClipUnit(torch.autograd.Function):
    """``clip(½ + z/4, eps, 1 − eps)`` whose gradient is 1/4 inside the box and σ'(z)/4 outside
    (:data:`BOUNDS` ``"clip"``): never zero, and smaller the further out z is."""

    @staticmethod
    def forward(ctx, z: Tensor) -> Tensor:  # noqa: D102
        ctx.save_for_backward(z)
        eps = torch.finfo(z.dtype).eps
        return (0.5 + 0.25 * z).clamp(eps, 1 - eps)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:  # noqa: D102
        (z,) = ctx.saved_tensors
        e = torch.exp(-z.abs())
        slope = torch.where(z.abs() < 2, torch.full_like(z, 0.25), 0.25 * e / (1 + e) ** 2)
        return grad * slope


class Hypernetwork(nn.Module):
    """Preference-conditioned hypernetwork (see the module docstring for the architecture).

    Args:
        n_obj: number of objectives ``m`` (length of a preference).
        target: a :class:`VectorTarget` or :class:`ModuleTarget`.
        config: architecture; defaults to ``HypernetConfig()``.

    Shapes:
        ``forward(prefs (K, m), budget (K,) | None) → {name: (K, *shape)}``.
    """

    def __init__(
        self, n_obj: int, target: VectorTarget | ModuleTarget, config: HypernetConfig | None = None
    ) -> None:
        super().__init__()
        self.config = cfg = config or HypernetConfig()
        self.n_obj = int(n_obj)
        self.target = target
        act = _ACTIVATIONS[cfg.activation]
        in_dim = self.n_obj + int(cfg.budget)
        layers: list[nn.Module] = []
        if cfg.embed_dim > 0:
            self.embed: nn.Module = nn.Linear(in_dim, cfg.embed_dim, bias=False)
            in_dim = cfg.embed_dim
        else:
            self.embed = nn.Identity()
        for _ in range(cfg.depth):
            layers.append(nn.Linear(in_dim, cfg.width))
            if cfg.norm == "layer":
                layers.append(nn.LayerNorm(cfg.width))
            layers.append(act())
            in_dim = cfg.width
        self.trunk = nn.Sequential(*layers)
        self._names = list(target.shapes)
        self._numels = [math.prod(target.shapes[k]) for k in self._names]
        total = sum(self._numels)
        #: the head built (``config.head`` with ``"auto"`` resolved by the target's size)
        self.head = cfg.head if cfg.head != "auto" else \
            ("chunked" if total >= CHUNKED_MIN else "tensor")
        #: the bound mapping of a vector target (``config.bounds``, ``"auto"`` resolved)
        self.bounds = cfg.bounds if cfg.bounds != "auto" else \
            ("clip" if getattr(target, "zero_order", False) else "sigmoid")
        if self.head == "tensor":
            self.heads = nn.ModuleList(nn.Linear(cfg.width, n) for n in self._numels)
            for h in self.heads:
                h.weight.data.mul_(cfg.out_scale)
                nn.init.zeros_(h.bias)
        else:
            self.chunk_size = math.ceil(total / cfg.n_chunks)
            self.chunk_embed = nn.Parameter(torch.randn(cfg.n_chunks, cfg.chunk_embed_dim))
            self.generator = nn.Sequential(
                nn.Linear(cfg.width + cfg.chunk_embed_dim, cfg.chunk_hidden),
                act(),
                nn.Linear(cfg.chunk_hidden, self.chunk_size),
            )
            self.generator[-1].weight.data.mul_(cfg.out_scale)
            nn.init.zeros_(self.generator[-1].bias)

        if isinstance(target, ModuleTarget):
            scales = []
            for k in self._names:
                std = float(target.init[k].float().std()) if target.init[k].numel() > 1 else 0.0
                scales.append(std if std > 0 else 0.1)
            self.register_buffer("_scales", torch.tensor(scales))
            self.base = (
                nn.ParameterDict(
                    {k.replace(".", "__"): nn.Parameter(v.clone()) for k, v in target.init.items()}
                )
                if cfg.base
                else None
            )
        else:
            self.register_buffer("_lower", target.lower.clone())
            self.register_buffer("_upper", target.upper.clone())
            self.base = None

    # ------------------------------------------------------------------ sizes
    @property
    def n_params(self) -> int:
        """Number of trainable parameters of the hypernetwork itself."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    @property
    def n_target_params(self) -> int:
        """Number of target parameters generated per preference."""
        return self.target.n_params

    # ------------------------------------------------------------------ forward
    def features(self, prefs: Tensor, budget: Tensor | None = None) -> Tensor:
        """Trunk features `(K, width)` of preferences `(K, m)` (and budgets `(K,)`)."""
        if prefs.ndim != 2 or prefs.shape[-1] != self.n_obj:
            raise ShapeError(
                f"prefs must have shape (K, {self.n_obj}), got {tuple(prefs.shape)}"
            )
        if self.config.budget:
            if budget is None:
                raise ShapeError(
                    "this hypernetwork is conditioned on a resource budget: pass budget of "
                    "shape (K,) with values in [0, 1]"
                )
            budget = budget.reshape(-1, 1).to(prefs)
            if budget.shape[0] != prefs.shape[0]:
                raise ShapeError(
                    f"budget must have shape ({prefs.shape[0]},), got {tuple(budget.shape)}"
                )
            prefs = torch.cat([prefs, budget], dim=-1)
        elif budget is not None:
            raise ShapeError("budget given but the hypernetwork was built with budget=False")
        return self.trunk(self.embed(prefs))

    def _bounded(self, raw: Tensor) -> Tensor:
        """``lower + (upper − lower)·b(raw)`` (:data:`BOUNDS`), strictly inside the bounds.

        ``b`` is clamped to ``[eps, 1 − eps]`` (the sigmoid to ``[eps³, 1 − eps]``) and x to the
        next representable values inside the box, so that an output never sits exactly on a
        bound (where objectives such as ZDT1's ``sqrt(f1/g)`` have infinite derivatives). The
        sigmoid's lower end is eps³ (1.7·10⁻²¹ in float32), not eps, because objectives with a
        fractional power of the distance to a bound need it: ZDT6's ``g = 1 + 9·mean(x)^0.25``
        is 1.17 at eps, 1.003 at eps² and 1.00006 at eps³ (its optimum 1), while the sigmoid's
        slope there, about the value itself, keeps gradients finite. With ``"clip"`` both
        clamps pass the gradient through (:class:`_ClipUnit`, a straight-through final clamp);
        its slope outside the box does not vanish, so its floor stays at eps."""
        eps = torch.finfo(raw.dtype).eps
        lo, hi = self._lower.to(raw.dtype), self._upper.to(raw.dtype)
        first, last = torch.nextafter(lo, hi), torch.nextafter(hi, lo)
        if self.bounds == "sigmoid":
            return torch.clamp(lo + (hi - lo) * torch.sigmoid(raw).clamp(eps ** 3, 1 - eps),
                               first, last)
        x = lo + (hi - lo) * _ClipUnit.apply(raw)
        return x + (torch.clamp(x, first, last) - x).detach()

    def forward(self, prefs: Tensor, budget: Tensor | None = None) -> dict[str, Tensor]:
        """Generated parameters ``{name: (K, *shape)}`` for preferences `(K, m)`."""
        h = self.features(prefs, budget)
        K = h.shape[0]
        if self.head == "tensor":
            raws = [head(h) for head in self.heads]
        else:
            E = self.chunk_embed.unsqueeze(0).expand(K, -1, -1)
            z = torch.cat([h.unsqueeze(1).expand(-1, E.shape[1], -1), E], dim=-1)
            flat = self.generator(z).flatten(1)[:, : sum(self._numels)]
            raws = list(torch.split(flat, self._numels, dim=1))
        out: dict[str, Tensor] = {}
        if isinstance(self.target, VectorTarget):
            out["x"] = self._bounded(raws[0])
            return out
        for i, (name, raw) in enumerate(zip(self._names, raws, strict=True)):
            t = (raw * self._scales[i]).reshape(K, *self.target.shapes[name])
            if self.base is not None:
                t = t + self.base[name.replace(".", "__")]
            out[name] = t
        return out


def batched_call(module: nn.Module, params: dict[str, Tensor], x: Tensor,
                 buffers: dict[str, Tensor] | None = None) -> Tensor:
    """Run ``module`` with K generated parameter sets on K input batches in one vectorised pass.

    Args:
        module: the target template.
        params: ``{name: (K, *shape)}`` generated parameters.
        x: `(K, B, ...)` inputs: batch ``k`` runs through parameter set ``k``.
        buffers: the template's buffers (shared by all K), default the module's own.

    Returns:
        `(K, B, ...)` outputs (``torch.func.vmap`` over ``functional_call``).
    """
    bufs = dict(module.named_buffers()) if buffers is None else buffers

    def one(p: dict[str, Tensor], xb: Tensor) -> Tensor:
        return functional_call(module, {**p, **bufs}, (xb,))

    return vmap(one)(params, x)


def looped_call(module: nn.Module, params: dict[str, Tensor], x: Tensor,
                buffers: dict[str, Tensor] | None = None) -> Tensor:
    """Same result as :func:`batched_call` with a Python loop over K (for checks and benchmarks)."""
    bufs = dict(module.named_buffers()) if buffers is None else buffers
    K = x.shape[0]
    return torch.stack(
        [functional_call(module, {**{k: v[i] for k, v in params.items()}, **bufs}, (x[i],))
         for i in range(K)]
    )
