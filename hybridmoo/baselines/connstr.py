"""Connection strength-based optimisation (Jeong & Yoon, CVPR 2024) on a task-specific-BN LeNet.

Jeong & Yoon, "Quantifying Task Priority for Multi-Task Optimization", CVPR 2024, pp. 363–372
(https://arxiv.org/abs/2406.02996; official core code ``wooseong97/MT-ST-core``, files
``conn_str.py`` and ``example.py``). ALGORITHMS.md §4 summarises what was verified.

The method needs a shared backbone whose every convolution is followed by one BatchNorm *per
task* (the "task-specific connections"); each task's forward pass runs through its own batch
norms, so the shared convolution weights W reach task t through (γ_t, β_t, running statistics).
For output channel c of a shared convolution and task t:

- connection strength ``S_t(c) = (Σ_{in,kh,kw} W[c]²) · γ_t(c)² / (runvar_t(c) + 1e-5)``
  (:func:`connection_strength`; the paper's Eqs. 4 and 6);
- ``P_t(c) = S_t(c) / Σ_c' S_t(c')`` (Eq. 7), and the top-priority task of channel c is
  ``argmax_t P_t(c)`` (:func:`task_priority`).

Training mixes two phases (:func:`draw_phase`): on every iteration draw u ~ U(0, 1) and run

- **Phase 1** if u ≥ e/E (e: epoch index from 0, E: number of epochs): for each task in turn,
  one optimiser step on that task's loss alone, through its own batch-norm path
  (:func:`single_task_step`), which lets the tasks pull channels towards themselves;
- **Phase 2** otherwise: one step on the combined per-task gradients
  (:func:`joint_step` with ``combiner="connstr"``): on every shared convolution, in the block
  C_i of channels whose top task is i, each other task's gradient is projected onto the normal
  plane of task i's gradient when the two conflict (:func:`project_conflicts`); every other
  parameter gets the plain sum.

So Phase 1 dominates early (probability 1 − e/E) and Phase 2 late.

On the same backbone the joint step can also use PCGrad, CAGrad or the plain sum
(``combiner="pcgrad" | "cagrad" | "sum"``, through
:func:`hybridmoo.baselines.gradient.pcgrad_direction` and
:func:`~hybridmoo.baselines.gradient.cagrad_direction` applied to the flattened gradients of the
shared parameters; batch norms and heads keep their own task's gradient), so that methods are
compared on one network. :func:`connstr` is the registered ``compare`` method.

>>> W = torch.ones(2, 1, 1, 1)  # two output channels, one weight each
>>> connection_strength(W, torch.tensor([1.0, 2.0]), torch.tensor([1.0, 1.0]), eps=0.0)
tensor([1., 4.])
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from hybridmoo.baselines.common import BaselineResult, Budget, Tracer, register
from hybridmoo.baselines.gradient import cagrad_direction, pcgrad_direction
from hybridmoo.errors import ConfigError, ShapeError
from hybridmoo.preferences import eval_preferences

__all__ = [
    "COMBINERS",
    "FC_MODES",
    "TaskBNLeNet",
    "combine_gradients",
    "connection_strength",
    "connstr",
    "draw_phase",
    "joint_step",
    "phase1_probability",
    "project_conflicts",
    "single_task_step",
    "task_priority",
]

#: Gradient combiners of the joint (Phase 2) step.
COMBINERS = ("connstr", "pcgrad", "cagrad", "sum")
#: Where the fully connected layer of :class:`TaskBNLeNet` sits.
FC_MODES = ("task", "shared")

LossFn = Callable[[Tensor, Tensor], Tensor]


def _cross_entropy(out: Tensor, y: Tensor) -> Tensor:
    return F.cross_entropy(out, y)


# ============================================================================= the backbone
class TaskBNLeNet(nn.Module):
    """The Multi-MNIST LeNet with one BatchNorm per task after every shared convolution.

    Layout (defaults as :class:`hybridmoo.targets.MultiLeNet`): shared convolutions
    1→10 (9×9) and 10→20 (5×5), without bias (a batch norm follows); after each, task t applies
    its own ``BatchNorm2d``, ReLU and 2×2 max-pooling; then a fully connected layer (500 → 50,
    ReLU) and a linear head per task. The forward pass of task t runs only through task t's
    batch norms, so from the second convolution on each task computes its own activations.

    ``fc`` (a reading, ALGORITHMS.md §4 requires only that shared convolutions carry task
    batch norms): ``"task"`` (default) gives every task its own fully connected layer, counted
    as part of its head, so that *every* shared layer is a convolution with task-specific batch
    norms, the structure the paper's backbones have (ResNet/HRNet convolutions with per-task
    heads); ``"shared"`` keeps MultiLeNet's shared fully connected layer, which Phase 2 then
    treats as an "other" parameter (plain sum) and PCGrad/CAGrad as a shared one.

    Args:
        n_tasks: number of tasks T. n_classes: outputs of each head. in_channels: image
            channels. image_size: side of the square input (36 for Multi-MNIST).
        channels: output channels of the shared convolutions. kernels: their kernel sizes.
        hidden: width of the fully connected layer. fc: ``"task"`` or ``"shared"``.
        generator: if given, the weights are drawn from it (as PyTorch's defaults do:
            U(±1/√fan_in) for convolutions and linear layers; γ = 1, β = 0 for batch norms).

    Shapes: input `(B, in_channels, image_size, image_size)` → `(B, T, n_classes)`, or
    `(B, n_classes)` for ``forward(x, task=t)``.

    Raises:
        ConfigError: on an unknown ``fc``, mismatched ``channels``/``kernels`` or an image too
            small for the convolutions.
    """

    def __init__(self, n_tasks: int = 2, n_classes: int = 10, in_channels: int = 1,
                 image_size: int = 36, channels: Sequence[int] = (10, 20),
                 kernels: Sequence[int] = (9, 5), hidden: int = 50, fc: str = "task",
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        _check_choice("fc", fc, FC_MODES)
        if len(channels) != len(kernels) or not channels:
            raise ConfigError(
                f"channels {tuple(channels)} and kernels {tuple(kernels)} must be non-empty and "
                "of equal length (one kernel size per shared convolution)"
            )
        if n_tasks < 1:
            raise ConfigError(f"n_tasks = {n_tasks!r} is invalid: expected an integer >= 1")
        self.n_tasks = int(n_tasks)
        self.fc_mode = fc
        side, c_in = int(image_size), int(in_channels)
        convs, bns = [], []
        for c_out, k in zip(channels, kernels, strict=True):
            side = (side - int(k) + 1) // 2
            if side < 1:
                raise ConfigError(
                    f"image_size = {image_size} is too small for kernels {tuple(kernels)} "
                    "(each convolution is followed by 2×2 pooling)"
                )
            convs.append(nn.Conv2d(c_in, int(c_out), int(k), bias=False))
            bns.append(nn.ModuleList(nn.BatchNorm2d(int(c_out)) for _ in range(self.n_tasks)))
            c_in = int(c_out)
        self.convs = nn.ModuleList(convs)
        self.bns = nn.ModuleList(bns)
        flat = c_in * side * side
        if fc == "shared":
            self.fc = nn.Linear(flat, hidden)
        else:
            self.fcs = nn.ModuleList(nn.Linear(flat, hidden) for _ in range(self.n_tasks))
        self.heads = nn.ModuleList(nn.Linear(hidden, n_classes) for _ in range(self.n_tasks))
        if generator is not None:
            self.reset_parameters(generator)

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator) -> None:
        """Redraw every weight from ``generator`` (PyTorch's default laws); reset BN statistics."""
        for mod in self.modules():
            if isinstance(mod, (nn.Conv2d, nn.Linear)):
                fan_in = mod.weight[0].numel()
                bound = 1.0 / math.sqrt(fan_in)
                mod.weight.uniform_(-bound, bound, generator=generator)
                if mod.bias is not None:
                    mod.bias.uniform_(-bound, bound, generator=generator)
            elif isinstance(mod, nn.BatchNorm2d):
                mod.reset_parameters()

    def _path(self, h: Tensor, task: int, first_done: bool = False) -> Tensor:
        """Task ``task``'s forward pass; ``first_done``: ``h`` is already conv1's output."""
        for layer, (conv, bns) in enumerate(zip(self.convs, self.bns, strict=True)):
            if layer > 0 or not first_done:
                h = conv(h)
            h = torch.max_pool2d(torch.relu(bns[task](h)), 2)
        fc = self.fc if self.fc_mode == "shared" else self.fcs[task]
        return self.heads[task](torch.relu(fc(h.flatten(1))))

    def forward(self, x: Tensor, task: int | None = None) -> Tensor:
        """`(B, C, H, W)` → `(B, T, n_classes)`; with ``task = t`` only task t's path, `(B, n)`.

        The first convolution's output does not depend on the task and is computed once.
        """
        if task is not None:
            if not 0 <= int(task) < self.n_tasks:
                raise ConfigError(f"task = {task!r} is invalid: expected 0..{self.n_tasks - 1}")
            return self._path(x, int(task))
        h0 = self.convs[0](x)
        return torch.stack([self._path(h0, t, first_done=True) for t in range(self.n_tasks)],
                           dim=1)

    def shared_parameters(self) -> list[nn.Parameter]:
        """The parameters every task uses: the convolution weights (and the shared fc)."""
        out = [conv.weight for conv in self.convs]
        if self.fc_mode == "shared":
            out += list(self.fc.parameters())
        return out

    def task_parameters(self, task: int) -> list[nn.Parameter]:
        """Parameters only task ``task`` uses: its batch norms, fc (``fc="task"``) and head."""
        out = [p for bns in self.bns for p in bns[task].parameters()]
        if self.fc_mode == "task":
            out += list(self.fcs[task].parameters())
        return out + list(self.heads[task].parameters())

    def priorities(self, eps: float = 1e-5) -> list[tuple[Tensor, Tensor]]:
        """:func:`task_priority` of every shared convolution: ``[(P (T, C), top (C,)), ...]``."""
        out = []
        for conv, bns in zip(self.convs, self.bns, strict=True):
            gamma = torch.stack([bn.weight.detach() for bn in bns])
            var = torch.stack([bn.running_var.detach() for bn in bns])
            out.append(task_priority(conv.weight, gamma, var, eps))
        return out


# ============================================================================= the maths
def connection_strength(conv_weight: Tensor, bn_weight: Tensor, running_var: Tensor,
                        eps: float = 1e-5) -> Tensor:
    """S(c) = (Σ_{in,kh,kw} W[c]²) · γ(c)² / (runvar(c) + eps), one value per output channel.

    The paper's Eqs. 4 and 6 (official ``conn_str``): the squared norm of the channel's
    filter times the squared gain the task's batch norm applies at inference.

    Args:
        conv_weight: `(C, C_in, kh, kw)` weight of the shared convolution (any `(C, ...)`).
        bn_weight: `(C,)` γ of one task's batch norm. running_var: `(C,)` its running variance.
        eps: added to the variance (1e-5, BatchNorm's default).

    Returns:
        `(C,)` strengths (detached).

    Raises:
        ShapeError: if the three do not have the same number of channels C.
    """
    W = conv_weight.detach()
    C = W.shape[0]
    if bn_weight.shape != (C,) or running_var.shape != (C,):
        raise ShapeError(
            f"bn_weight and running_var must have shape ({C},) to match conv_weight "
            f"{tuple(W.shape)}; got {tuple(bn_weight.shape)} and {tuple(running_var.shape)}"
        )
    filt = (W.reshape(C, -1) ** 2).sum(dim=1)
    return filt * bn_weight.detach() ** 2 / (running_var.detach() + eps)


def task_priority(conv_weight: Tensor, bn_weights: Tensor, running_vars: Tensor,
                  eps: float = 1e-5) -> tuple[Tensor, Tensor]:
    """Normalised strengths P_t(c) = S_t(c) / Σ_c' S_t(c') and the top task of each channel.

    Args:
        conv_weight: `(C, ...)` shared convolution weight.
        bn_weights: `(T, C)` γ of each task's batch norm. running_vars: `(T, C)` their running
            variances. eps: as in :func:`connection_strength`.

    Returns:
        ``(P, top)``: `(T, C)` proportions (each row sums to 1) and `(C,)` int64
        ``argmax_t P_t(c)`` (ties go to the lower task index).
    """
    if bn_weights.dim() != 2 or bn_weights.shape != running_vars.shape:
        raise ShapeError(
            "bn_weights and running_vars must both be (T, C); got "
            f"{tuple(bn_weights.shape)} and {tuple(running_vars.shape)}"
        )
    S = torch.stack([connection_strength(conv_weight, g, v, eps)
                     for g, v in zip(bn_weights, running_vars, strict=True)])
    P = S / S.sum(dim=1, keepdim=True).clamp_min(torch.finfo(S.dtype).tiny)
    return P, P.argmax(dim=0)


def project_conflicts(G: Tensor, top: Tensor) -> Tensor:
    """Phase 2's projection: on each top-task block, conflicting gradients lose their conflict.

    For each task i, on the block C_i of channels whose top task is i, and each j ≠ i, with
    g_i = vec(G_i[C_i]) and g_j = vec(G_j[C_i]): if g_i·g_j < 0, G_j[C_i] ← g_j −
    (g_i·g_j/‖g_i‖²) g_i (official ``conn_str_grad``). The top task's own block is never
    changed, and since the blocks are disjoint the order of the tasks does not matter. If every
    channel has the same top task the gradients are returned unchanged (the official code then
    sums the raw gradients).

    Args:
        G: `(T, C, ...)` per-task gradients of one shared convolution weight (already weighted
            by the preference, if any).
        top: `(C,)` top-priority task of each channel (:func:`task_priority`).

    Returns:
        `(T, C, ...)` modified copy; the combined gradient is its sum over T.
    """
    if G.dim() < 2 or top.shape != (G.shape[1],):
        raise ShapeError(
            f"G must be (T, C, ...) and top (C,); got {tuple(G.shape)} and {tuple(top.shape)}"
        )
    out = G.clone()
    if bool((top == top[0]).all()):
        return out
    T = G.shape[0]
    for i in range(T):
        block = top == i
        if not bool(block.any()):
            continue
        gi = out[i, block].reshape(-1)
        sq = gi @ gi
        for j in range(T):
            if j == i:
                continue
            gj = out[j, block]
            dot = gi @ gj.reshape(-1)
            if dot < 0 and sq > 0:
                out[j, block] = gj - (dot / sq) * gi.reshape(gj.shape)
    return out


def phase1_probability(epoch: int, n_epochs: int) -> float:
    """P(Phase 1) = P(u ≥ e/E) = 1 − e/E for u ~ U(0, 1), clipped to [0, 1]."""
    if n_epochs < 1:
        raise ConfigError(f"n_epochs = {n_epochs!r} is invalid: expected an integer >= 1")
    return float(min(1.0, max(0.0, 1.0 - epoch / n_epochs)))


def draw_phase(generator: torch.Generator, epoch: int, n_epochs: int) -> int:
    """Draw u ~ U(0, 1) from ``generator``; return 1 (Phase 1) if u ≥ e/E, else 2.

    The official schedule (``example.py``): e is the epoch index from 0 and E the number of
    epochs, so Phase 1 has probability 1 − e/E (always 1 in the first epoch).
    """
    if n_epochs < 1:
        raise ConfigError(f"n_epochs = {n_epochs!r} is invalid: expected an integer >= 1")
    u = float(torch.rand((), generator=generator, dtype=torch.float64))
    return 1 if u >= epoch / n_epochs else 2


def combine_gradients(model: TaskBNLeNet, params: Sequence[nn.Parameter],
                      grads: Sequence[Sequence[Tensor | None]], weights: Tensor, *,
                      combiner: str = "connstr", generator: torch.Generator | None = None,
                      c: float = 0.5, rescale: int = 1, eps: float = 1e-5
                      ) -> list[Tensor | None]:
    """One update direction per parameter from the T per-task gradients.

    Every parameter that is not shared (batch norms, task fc layers, heads) gets
    Σ_t λ_t g_t. The shared ones (``model.shared_parameters()``) get, by ``combiner``:

    - ``"sum"``: Σ_t λ_t g_t;
    - ``"connstr"``: on each shared convolution weight, Σ_t of :func:`project_conflicts`
      applied to the λ_t g_t with the current top tasks; a shared fc gets the plain sum;
    - ``"pcgrad"`` / ``"cagrad"``: the gradients of all shared parameters, flattened into one
      `(T, d)` matrix, go through :func:`~hybridmoo.baselines.gradient.pcgrad_direction`
      (random orders from ``generator``) or
      :func:`~hybridmoo.baselines.gradient.cagrad_direction` (``c``, ``rescale``) with
      weights λ.

    Args:
        model: the backbone (for its shared parameters and batch norms).
        params: the `n` parameters, in the order of each ``grads[t]``.
        grads: T sequences of `n` gradients (``None`` where the task does not reach it).
        weights: `(T,)` task weights λ (a preference).
        combiner: one of :data:`COMBINERS`. generator: PCGrad's random orders.
        c, rescale: CAGrad's radius and rescaling. eps: connection-strength epsilon.

    Returns:
        `n` tensors (``None`` where no task reaches the parameter).
    """
    _check_choice("combiner", combiner, COMBINERS)
    T = len(grads)
    lam = weights.detach().to(torch.float64).reshape(-1)
    if lam.numel() != T:
        raise ShapeError(f"weights must have {T} entries (one per task), got {lam.numel()}")
    shared_ids = {id(p) for p in model.shared_parameters()}

    def stacked(k: int) -> Tensor:
        p = params[k]
        return torch.stack([torch.zeros_like(p) if grads[t][k] is None else grads[t][k]
                            for t in range(T)])

    def weighted_sum(k: int) -> Tensor | None:
        if all(grads[t][k] is None for t in range(T)):
            return None
        G = stacked(k)
        return (lam.to(G.dtype).reshape(-1, *[1] * (G.dim() - 1)) * G).sum(0)

    out: list[Tensor | None] = [None] * len(params)
    shared_k = [k for k, p in enumerate(params) if id(p) in shared_ids]
    for k, p in enumerate(params):
        if id(p) not in shared_ids or combiner == "sum":
            out[k] = weighted_sum(k)
    if combiner == "sum":
        return out
    if combiner == "connstr":
        conv_ids = {id(conv.weight): layer for layer, conv in enumerate(model.convs)}
        for k in shared_k:
            layer = conv_ids.get(id(params[k]))
            if layer is None:
                out[k] = weighted_sum(k)
                continue
            bns = model.bns[layer]
            gamma = torch.stack([bn.weight.detach() for bn in bns])
            var = torch.stack([bn.running_var.detach() for bn in bns])
            _, top = task_priority(params[k], gamma, var, eps)
            G = stacked(k)
            Gw = lam.to(G.dtype).reshape(-1, *[1] * (G.dim() - 1)) * G
            out[k] = project_conflicts(Gw, top).sum(0)
        return out
    # pcgrad / cagrad on the flattened shared gradients
    if not shared_k:
        return out
    flat = torch.cat([stacked(k).reshape(T, -1) for k in shared_k], dim=1)  # (T, d)
    G64 = flat.to(torch.float64).unsqueeze(0)
    W64 = lam.unsqueeze(0)
    if combiner == "pcgrad":
        if generator is None:
            raise ConfigError("combiner 'pcgrad' needs a torch.Generator for its random orders")
        d = pcgrad_direction(G64, W64, generator)[0]
    else:
        d = cagrad_direction(G64, W64, float(c), int(rescale))[0][0]
    d = d.to(flat.dtype)
    start = 0
    for k in shared_k:
        n = params[k].numel()
        out[k] = d[start:start + n].reshape(params[k].shape)
        start += n
    return out


def single_task_step(model: TaskBNLeNet, optimizer: torch.optim.Optimizer, x: Tensor, y: Tensor,
                     task: int, weight: float = 1.0, loss_fn: LossFn = _cross_entropy
                     ) -> float:
    """One Phase-1 update: an optimiser step on ``weight · L_task`` through task's own path.

    Only the parameters on task ``task``'s path receive a gradient (the others keep
    ``grad = None``, which PyTorch's optimisers skip), and only its batch norms update their
    running statistics, so the other tasks' batch norms and heads are left exactly as they were.

    Args:
        model: the backbone (in training mode). optimizer: over ``model.parameters()``.
        x: `(B, C, H, W)` inputs. y: `(B, T, ...)` targets (column ``task`` is used).
        task: the task index. weight: its preference weight λ_task.
        loss_fn: ``(out (B, n_classes), y_task (B, ...)) -> scalar``; cross-entropy by default.

    Returns:
        The unweighted loss L_task before the step.
    """
    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn(model(x, task=task), y[:, task])
    (weight * loss).backward()
    optimizer.step()
    return float(loss.detach())


def joint_step(model: TaskBNLeNet, optimizer: torch.optim.Optimizer, x: Tensor, y: Tensor,
               weights: Tensor, *, combiner: str = "connstr",
               generator: torch.Generator | None = None, loss_fn: LossFn = _cross_entropy,
               c: float = 0.5, rescale: int = 1, eps: float = 1e-5) -> Tensor:
    """One Phase-2 update: T per-task gradients (T backward passes), combined, one step.

    Args:
        model, optimizer, x, y, loss_fn: as :func:`single_task_step`.
        weights: `(T,)` task weights λ. combiner, generator, c, rescale, eps: as
            :func:`combine_gradients`.

    Returns:
        `(T,)` per-task losses before the step (detached).
    """
    params = [p for p in model.parameters() if p.requires_grad]
    out = model(x)
    T = out.shape[1]
    losses = torch.stack([loss_fn(out[:, t], y[:, t]) for t in range(T)])
    grads = [torch.autograd.grad(losses[t], params, retain_graph=t < T - 1, allow_unused=True)
             for t in range(T)]
    combined = combine_gradients(model, params, grads, weights, combiner=combiner,
                                 generator=generator, c=c, rescale=rescale, eps=eps)
    optimizer.zero_grad(set_to_none=True)
    for p, g in zip(params, combined, strict=True):
        p.grad = None if g is None else g.detach()
    optimizer.step()
    return losses.detach()


# ============================================================================= the baseline
def _check_choice(name: str, v: Any, allowed: tuple[str, ...]) -> None:
    if v not in allowed:
        raise ConfigError(f"{name} = {v!r} is not allowed; allowed: {', '.join(allowed)}")


def _check_int(name: str, v: Any, low: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
        raise ConfigError(f"{name} = {v!r} is invalid: expected an integer >= {low}")
    return int(v)


def _check_real(name: str, v: Any, low: float = 0.0, strict: bool = True) -> float:
    ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) \
        and math.isfinite(float(v)) and (float(v) > low if strict else float(v) >= low)
    if not ok:
        sign = ">" if strict else ">="
        raise ConfigError(f"{name} = {v!r} is invalid: expected a finite number {sign} {low}")
    return float(v)


def _preferences(problem, n_prefs: Any, prefs: Any, boundary_eps: float) -> Tensor:
    m = problem.n_obj
    if prefs is None:
        _check_int("n_prefs", n_prefs)
        return eval_preferences(m, int(n_prefs), boundary_eps=boundary_eps, dtype=torch.float64)
    P = torch.as_tensor(np.asarray(prefs, dtype=np.float64))
    if P.dim() == 1:
        P = P.unsqueeze(0)
    if P.dim() != 2 or P.shape[1] != m or P.shape[0] < 1:
        raise ConfigError(f"prefs must be an (n, {m}) array of task weights, got shape "
                          f"{tuple(P.shape)}")
    if not bool(torch.isfinite(P).all()) or bool((P < 0).any()) or bool((P.sum(1) <= 0).any()):
        raise ConfigError("prefs must be finite, >= 0, and every row must have a positive sum")
    return P / P.sum(1, keepdim=True)


@torch.no_grad()
def _evaluate(model: TaskBNLeNet, X: Tensor, Y: Tensor, chunk: int = 2048
              ) -> tuple[np.ndarray, np.ndarray]:
    """Per-task mean cross-entropy and accuracy on (X, Y), batch norms in inference mode."""
    was = model.training
    model.eval()
    T = Y.shape[1]
    loss = torch.zeros(T, dtype=torch.float64)
    hits = torch.zeros(T, dtype=torch.float64)
    for s in range(0, X.shape[0], chunk):
        out = model(X[s:s + chunk])  # (b, T, C)
        yb = Y[s:s + chunk]
        for t in range(T):
            loss[t] += F.cross_entropy(out[:, t], yb[:, t], reduction="sum").double()
            hits[t] += (out[:, t].argmax(-1) == yb[:, t]).sum().double()
    model.train(was)
    n = X.shape[0]
    return (loss / n).numpy(), (hits / n).numpy()


@register("connstr", "gradient", "Jeong & Yoon, 'Quantifying Task Priority for Multi-Task "
          "Optimization', CVPR 2024")
def connstr(problem, budget: Budget, seed: int, *, combiner: str = "connstr", n_prefs: int = 5,
            prefs=None, boundary_eps: float = 0.0, lr: float = 1e-3, batch_size: int = 256,
            epochs: int | None = None, fc: str = "task", phase1: bool = True, c: float = 0.5,
            rescale: int = 1, eps: float = 1e-5, eval_every: int | None = None,
            ref_point=None, threads: int | None = None, device: str = "cpu"
            ) -> BaselineResult:
    """Connection strength-based optimisation: one task-specific-BN LeNet per preference.

    Jeong & Yoon, "Quantifying Task Priority for Multi-Task Optimization", CVPR 2024
    (https://arxiv.org/abs/2406.02996, code https://github.com/wooseong97/MT-ST-core); see the
    module docstring for the method. For a Multi-MNIST-type problem (``multi_mnist``,
    ``multi_fashion``, ``multi_fashion_mnist``) it trains P independent :class:`TaskBNLeNet`
    models, model p on the task weights λ_p (``n_prefs`` evenly spread preferences, or
    ``prefs``), and returns the `(P, 2)` per-task cross-entropies on the problem's evaluation
    split (its objectives) as the front.

    Settings and readings:

    - Adam, lr 1e-3 (the official toy example; the paper's settings were not recovered);
      minibatches of ``batch_size`` from a reshuffled training split every epoch, the same
      sequence for every model and every combiner of a seed; one optimiser per model.
    - preference weighting (a reading; the paper weights tasks equally): Phase 2 combines the
      weighted gradients λ_t g_t (projection onto g_i is invariant to λ_i > 0, so this is
      Σ_t λ_t·PC(g_t)); Phase 1 steps on λ_t L_t and skips tasks with λ_t = 0.
    - schedule: per model and iteration, Phase 1 if u ≥ e/E (:func:`draw_phase`). For a budget
      in steps or evaluations, with ``epochs = None`` an epoch is one pass over the training
      split, e = step // steps_per_epoch and E = ⌈S / steps_per_epoch⌉ for S steps; with
      ``epochs`` given, the S steps are cut into that many equal "epochs" (reading). For a
      budget in seconds, e/E is ⌊E·t/T⌋/E with E = ``epochs`` or 10 (reading: the number of
      epochs is not known in advance). ``phase1 = False`` runs Phase 2 only (an ablation).
    - other combiners (``"pcgrad"``, ``"cagrad"``, ``"sum"``) always take the joint step on the
      same backbone: they are the baselines trained the way their papers train.

    Budget: a *step* updates all P models once (in Phase 1 a model takes T optimiser steps,
    one per task, on the same minibatch); an *evaluation* is one model's loss vector on one
    minibatch, so a step costs P evaluations and E evaluations give ``max(1, E // P)`` steps;
    a budget in seconds counts training time only (the HV trace's evaluations excluded).

    Args:
        problem: a Multi-MNIST-type problem (``problem.tensors(split)`` gives images
            `(N, 1, H, H)` and labels `(N, T)`).
        budget: steps, evaluations or seconds (see above). seed: seeds the initialisation, the
            minibatch order, the phase draws and PCGrad's random orders (separate streams).
        combiner: one of ``"connstr"`` (default), ``"pcgrad"``, ``"cagrad"``, ``"sum"``.
        n_prefs: number of preferences (``eval_preferences``); ignored when ``prefs`` is given.
        prefs: `(P, T)` task weights (rows are normalised to sum to 1), or ``None``.
        boundary_eps: every preference coordinate is at least about this.
        lr: Adam's learning rate. batch_size: images per minibatch.
        epochs: the E of the schedule (see above), or ``None``.
        fc: ``"task"`` (default) or ``"shared"`` (see :class:`TaskBNLeNet`).
        phase1: whether connstr mixes in Phase 1 (default ``True``).
        c, rescale: CAGrad's radius and rescaling (``combiner="cagrad"``).
        eps: the ε of the connection strength.
        eval_every: trace period in steps (default: a twentieth of the steps, or of the seconds).
        ref_point: HV reference point (default the problem's, (2, 2) for Multi-MNIST).
        threads: torch threads during the run (``None``: unchanged). device: torch device.

    Returns:
        A :class:`~hybridmoo.baselines.common.BaselineResult`: ``F`` the `(P, T)` evaluation
        cross-entropies, ``prefs`` the λ, ``extra["accuracy"]`` `(P, T)` accuracies,
        ``extra["phase1_steps"]`` how many iterations of each model ran Phase 1, and
        ``extra["top_task_share"]`` `(P, layers, T)` the share of each shared convolution's
        channels whose top task is t at the end.

    Raises:
        ConfigError: a problem without image data or an invalid parameter.
    """
    _check_choice("combiner", combiner, COMBINERS)
    _check_choice("fc", fc, FC_MODES)
    if not callable(getattr(problem, "tensors", None)):
        raise ConfigError(
            f"problem {getattr(problem, 'name', problem)!r} has no image data: connstr trains "
            "a task-specific-BN LeNet on a Multi-MNIST-type problem (multi_mnist, "
            "multi_fashion, multi_fashion_mnist)"
        )
    lr = _check_real("lr", lr)
    batch_size = _check_int("batch_size", batch_size)
    c = _check_real("c", c, strict=False)
    eps = _check_real("eps", eps, strict=False)
    if rescale not in (0, 1, 2) or isinstance(rescale, bool):
        raise ConfigError(f"rescale = {rescale!r} is not allowed; allowed: 0, 1, 2")
    if epochs is not None:
        epochs = _check_int("epochs", epochs)
    if eval_every is not None:
        eval_every = _check_int("eval_every", eval_every)
    if threads is not None:
        threads = _check_int("threads", threads)
    lam = _preferences(problem, n_prefs, prefs, boundary_eps)
    params = dict(combiner=combiner, n_prefs=n_prefs, prefs=None if prefs is None
                  else lam.tolist(), boundary_eps=boundary_eps, lr=lr, batch_size=batch_size,
                  epochs=epochs, fc=fc, phase1=bool(phase1), c=c, rescale=rescale, eps=eps,
                  eval_every=eval_every, ref_point=ref_point, threads=threads, device=device)
    old_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _run(problem, budget, int(seed), lam, params)
    finally:
        if threads is not None:
            torch.set_num_threads(old_threads)


class _Failed(Exception):
    """A non-finite loss ended the run."""


def _run(problem, budget: Budget, seed: int, lam: Tensor, params: dict) -> BaselineResult:
    dev = torch.device(params["device"])
    Xtr, Ytr = problem.tensors("train", torch.float32, dev)
    split = getattr(problem, "options", {}).get("eval_split", "test")
    Xev, Yev = problem.tensors(split, torch.float32, dev)
    if Ytr.dim() != 2 or Ytr.shape[1] != problem.n_obj:
        raise ConfigError(f"problem {problem.name!r}: labels must be (N, {problem.n_obj}), got "
                          f"{tuple(Ytr.shape)}")
    N, T = Xtr.shape[0], Ytr.shape[1]
    P = lam.shape[0]
    n_classes = max(10, int(max(int(Ytr.max()), int(Yev.max()))) + 1)  # 10 for Multi-MNIST
    ss = np.random.SeedSequence(seed).spawn(4)
    gens = [torch.Generator().manual_seed(int(s.generate_state(1)[0])) for s in ss]
    g_init, g_batch, g_phase, g_comb = gens
    models = [TaskBNLeNet(n_tasks=T, n_classes=n_classes, in_channels=Xtr.shape[1],
                          image_size=Xtr.shape[-1], fc=params["fc"], generator=g_init).to(dev)
              for _ in range(P)]
    opts = [torch.optim.Adam(m.parameters(), lr=params["lr"]) for m in models]
    B = min(params["batch_size"], N)
    spe = math.ceil(N / B)
    if budget.kind == "steps":
        n_steps: int | None = budget.count
    elif budget.kind == "evaluations":
        n_steps = max(1, budget.count // P)
    else:
        n_steps = None
    E = params["epochs"] if params["epochs"] is not None else (
        max(1, math.ceil(n_steps / spe)) if n_steps is not None else 10)
    every_steps = params["eval_every"] if params["eval_every"] is not None else (
        max(1, n_steps // 20) if n_steps is not None else None)
    every_seconds = None if every_steps is not None else budget.amount / 20
    tracer = Tracer(problem, params["ref_point"])
    combiner = params["combiner"]
    use_phase1 = combiner == "connstr" and params["phase1"]
    phase1_steps = np.zeros(P, dtype=np.int64)

    def epoch_of(step: int, seconds: float) -> int:
        if n_steps is None:
            return min(E - 1, int(E * seconds / budget.amount))
        if params["epochs"] is None:
            return step // spe
        return min(E - 1, step * E // max(n_steps, 1))

    def front() -> tuple[np.ndarray, np.ndarray]:
        res = [_evaluate(m, Xev, Yev) for m in models]
        return np.stack([r[0] for r in res]), np.stack([r[1] for r in res])

    steps, train_time, next_trace = 0, 0.0, 0.0
    last_traced = -1
    perm = torch.randperm(N, generator=g_batch).to(dev)
    t_start = time.perf_counter()
    trace_time = 0.0
    failed = ""
    while True:
        train_time = time.perf_counter() - t_start - trace_time
        stop = steps >= n_steps if n_steps is not None else train_time >= budget.amount
        due = stop or (every_steps is not None and steps % every_steps == 0) or (
            every_seconds is not None and train_time >= next_trace)
        if due and last_traced != steps:
            t0 = time.perf_counter()
            Fv, _ = front()
            tracer.record(Fv, seconds=train_time, evaluations=steps * P, steps=steps)
            last_traced = steps
            if every_seconds is not None:
                while next_trace <= train_time:
                    next_trace += every_seconds
            trace_time += time.perf_counter() - t0
        if stop:
            break
        k = steps % spe
        if k == 0 and steps > 0:
            perm = torch.randperm(N, generator=g_batch).to(dev)
        idx = perm[k * B:(k + 1) * B]
        x, y = Xtr[idx], Ytr[idx]
        e = epoch_of(steps, train_time)
        try:
            for p_i, (model, opt) in enumerate(zip(models, opts, strict=True)):
                w = lam[p_i]
                phase = draw_phase(g_phase, e, E) if use_phase1 else 2
                if phase == 1:
                    phase1_steps[p_i] += 1
                    for t in range(T):
                        if float(w[t]) > 0:
                            loss = single_task_step(model, opt, x, y, t, float(w[t]))
                            if not math.isfinite(loss):
                                raise _Failed(f"task {t} loss is not finite at step {steps}, "
                                              f"model {p_i}")
                else:
                    losses = joint_step(model, opt, x, y, w.to(torch.float32),
                                        combiner=combiner, generator=g_comb, c=params["c"],
                                        rescale=params["rescale"], eps=params["eps"])
                    if not bool(torch.isfinite(losses).all()):
                        raise _Failed(f"a loss is not finite at step {steps}, model {p_i}")
        except _Failed as exc:
            failed = str(exc)
            break
        steps += 1
    used = {"seconds": float(train_time), "evaluations": float(steps * P),
            "steps": float(steps)}
    if failed:
        return BaselineResult.failed(
            failed, method="connstr", problem=problem.describe(), seed=seed, n_obj=problem.n_obj,
            params=params, ref_point=tracer.ref_point, trace=tracer.arrays(), budget_used=used)
    Fv, acc = front()
    hv, _ = tracer.measure(Fv)
    shares = np.array([[[float((top == t).double().mean()) for t in range(T)]
                        for _, top in m.priorities(params["eps"])] for m in models])
    extra = {"accuracy": acc, "phase1_steps": phase1_steps, "top_task_share": shares,
             "combiner": combiner, "epochs": E, "steps_per_epoch": spe,
             "n_params": sum(p.numel() for p in models[0].parameters())}
    return BaselineResult(
        method="connstr", params=dict(params), problem=problem.describe(), seed=seed,
        status="ok", error="", F=Fv.astype(np.float64), X=None,
        prefs=lam.numpy().astype(np.float64), trace=tracer.arrays(), budget_used=used,
        hv=float(hv), ref_point=tracer.ref_point, extra=extra)
