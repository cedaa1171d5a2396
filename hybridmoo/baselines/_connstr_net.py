"""The backbone and the maths of connection-strength optimisation (see
:mod:`hybridmoo.baselines.connstr`): the task-specific-BN LeNet, connection strength, task
priority, conflict projection, the two phases and their training steps."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from hybridmoo.aggregate import cagrad_direction, pcgrad_direction
from hybridmoo.errors import ConfigError, ShapeError

__all__ = [  # re-exported by hybridmoo.baselines.connstr
    "COMBINERS",
    "FC_MODES",
    "TaskBNLeNet",
    "combine_gradients",
    "connection_strength",
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


def _check_choice(name: str, v: Any, allowed: tuple[str, ...]) -> None:
    if v not in allowed:
        raise ConfigError(f"{name} = {v!r} is not allowed; allowed: {', '.join(allowed)}")


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


