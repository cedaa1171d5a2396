"""Training tasks: what the trainer needs from a problem, for vector and neural targets.

A *task* turns generated parameters into losses. The trainer asks it for

- ``target``: a :class:`~hybridmoo.hypernet.VectorTarget` or
  :class:`~hybridmoo.hypernet.ModuleTarget`;
- ``train_losses(params, generator) -> (K, m)``: losses of the K generated parameter sets on
  this step's data (a fresh minibatch for data-driven problems);
- ``eval_losses(params) -> (K, m)``: held-out objective values (no gradient needed);
- ``samples_per_step``: examples (or evaluations) consumed by one step, for the trace.

:class:`VectorTask` wraps a synthetic :class:`~hybridmoo.problems.Problem` (no data: the losses
are the objectives). :class:`DataTask` trains a target ``nn.Module`` on tensors held on the
device; by default the minibatch of ``batch_size`` examples is split among the K preferences
(each sees ``batch_size / K`` examples), so one step costs about one forward/backward pass of the
target on ``batch_size`` examples while teaching K points of the front.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from hybridmoo.errors import ConfigError, ShapeError
from hybridmoo.hypernet import ModuleTarget, VectorTarget, batched_call, looped_call

__all__ = ["DataTask", "VectorTask"]


class VectorTask:
    """Task of a synthetic problem: the generated parameter is the decision vector ``x``.

    Args:
        problem: a :class:`~hybridmoo.problems.Problem`.
        dtype, device: where the objectives are computed.
    """

    def __init__(self, problem, dtype: torch.dtype = torch.float32,
                 device: torch.device | str = "cpu") -> None:
        self.problem = problem
        self.n_obj = problem.n_obj
        lo, hi = problem.bounds
        self.target = VectorTarget(lo, hi, zero_order=getattr(problem, "zero_order", False))
        self.samples_per_step = 1

    def train_losses(self, params: dict[str, Tensor], generator: torch.Generator) -> Tensor:
        """Objective values `(K, m)` of the generated decision vectors ``params["x"]`` `(K, n)`."""
        return self.problem.evaluate(params["x"])

    def eval_losses(self, params: dict[str, Tensor]) -> Tensor:
        """Same as :meth:`train_losses` (synthetic problems have no held-out data)."""
        return self.problem.evaluate(params["x"])

    @staticmethod
    def decision_vectors(params: dict[str, Tensor]) -> Tensor:
        """The decision vectors `(K, n_var)` of generated parameters."""
        return params["x"]


class DataTask:
    """Task of a data-driven problem: the target is an ``nn.Module`` trained on minibatches.

    Args:
        module: target template, e.g. :class:`~hybridmoo.targets.MultiLeNet`.
        train: ``(X, Y)`` training tensors, first dimension the examples.
        evaluation: ``(X, Y)`` held-out tensors used by :meth:`eval_losses`.
        loss_fn: ``(outputs (K, b, ...), targets (K, b, ...)) -> (K, m)`` mean loss per objective.
        n_obj: number of objectives ``m``.
        batch_size: examples per step ``B``.
        n_prefs: preferences per step ``K``.
        split_batch: split the minibatch among the K preferences (``B/K`` each, the default)
            or give every preference the whole minibatch.
        batched: evaluate the K target networks in one ``vmap`` pass (``True``), a Python loop
            (``False``) or ``"auto"`` (default): the loop for convolutional targets on the CPU
            when each network gets at least 16 examples, else vmap (see :meth:`call`).
        eval_batch_size: examples per evaluation pass.
        selection: ``(X, Y)`` validation tensors behind :meth:`select_losses` (the checkpoint
            choice of ``train.checkpoint = "best"``), or ``None``.
    """

    def __init__(
        self,
        module: nn.Module,
        train: tuple[Tensor, Tensor],
        evaluation: tuple[Tensor, Tensor],
        loss_fn: Callable[[Tensor, Tensor], Tensor],
        n_obj: int,
        *,
        batch_size: int = 256,
        n_prefs: int = 8,
        split_batch: bool = True,
        batched: bool | str = "auto",
        eval_batch_size: int = 1024,
        selection: tuple[Tensor, Tensor] | None = None,
    ) -> None:
        if split_batch and batch_size % n_prefs:
            raise ConfigError(
                f"batch_size = {batch_size} is not divisible by n_prefs = {n_prefs}; with "
                "split_batch = true each preference gets batch_size / n_prefs examples: choose "
                "a multiple of n_prefs or set split_batch = false"
            )
        if train[0].shape[0] != train[1].shape[0]:
            raise ShapeError(
                f"training inputs and targets differ in length: {train[0].shape[0]} and "
                f"{train[1].shape[0]}"
            )
        if train[0].shape[0] < batch_size:
            raise ConfigError(
                f"batch_size = {batch_size} exceeds the {train[0].shape[0]} training examples"
            )
        self.module = module
        self.target = ModuleTarget(module)
        self.X, self.Y = train
        self.Xe, self.Ye = evaluation
        self.Xs, self.Ys = selection if selection is not None else (None, None)
        self.loss_fn = loss_fn
        self.n_obj = n_obj
        self.batch_size = batch_size
        self.n_prefs = n_prefs
        self.split_batch = split_batch
        if batched not in (True, False, "auto"):
            raise ConfigError(f"batched = {batched!r} is invalid: expected true, false or "
                              "\"auto\" (vmap, Python loop, or the faster one for the device)")
        self.batched = batched
        self._conv = any(isinstance(m, nn.modules.conv._ConvNd) for m in module.modules())
        self.eval_batch_size = eval_batch_size
        self.samples_per_step = batch_size if split_batch else batch_size * n_prefs
        self._perm: Tensor | None = None
        self._pos = 0
        self._seen = 0  # examples drawn so far (an integer, so epoch counts are exact)

    #: with ``batched = "auto"``, the fewest examples per network for which the loop is used
    LOOP_MIN_BATCH = 16

    def call(self, module: nn.Module, params: dict[str, Tensor], x: Tensor,
             buffers: dict[str, Tensor] | None = None) -> Tensor:
        """Run the K networks on `(K, B, ...)` inputs by vmap or a Python loop (see ``batched``).

        ``"auto"`` loops for convolutional targets on the CPU when each network gets at least
        :attr:`LOOP_MIN_BATCH` examples: there the loop is up to 3× faster than vmap, while for
        many networks on a few examples each (HV-PSL's 256 directions) vmap is up to 20× faster
        (``benchmarks/bench_kprefs.py``).
        """
        return self.call_for(x.shape[1])(module, params, x, buffers)

    def call_for(self, per_network: int) -> Callable[..., Tensor]:
        """:func:`~hybridmoo.hypernet.batched_call` or :func:`~hybridmoo.hypernet.looped_call`
        for ``per_network`` examples per network."""
        if self.batched == "auto":
            loop = (self._conv and self.X.device.type == "cpu"
                    and per_network >= self.LOOP_MIN_BATCH)
            return looped_call if loop else batched_call
        return batched_call if self.batched else looped_call

    @property
    def epochs_done(self) -> float:
        """Passes over the training data so far."""
        return self._seen / self.X.shape[0]

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> DataTask:
        """Move the data and the template to ``device`` (floating inputs to ``dtype``)."""
        def mv(t: Tensor) -> Tensor:
            return t.to(device, dtype) if (dtype is not None and t.is_floating_point()) else \
                t.to(device)
        self.X, self.Y, self.Xe, self.Ye = mv(self.X), mv(self.Y), mv(self.Xe), mv(self.Ye)
        if self.has_selection:
            self.Xs, self.Ys = mv(self.Xs), mv(self.Ys)
        self.module.to(device=device, dtype=dtype)
        self.target = ModuleTarget(self.module)
        return self

    def _next_indices(self, n: int, generator: torch.Generator) -> Tensor:
        """``n`` indices of a shuffled pass over the training set (reshuffled each epoch)."""
        N = self.X.shape[0]
        out = []
        while n > 0:
            if self._perm is None or self._pos >= N:
                self._perm = torch.randperm(N, generator=generator)
                self._pos = 0
            take = min(n, N - self._pos)
            out.append(self._perm[self._pos: self._pos + take])
            self._pos += take
            self._seen += take
            n -= take
        return torch.cat(out).to(self.X.device)

    def train_losses(self, params: dict[str, Tensor], generator: torch.Generator) -> Tensor:
        """Per-preference losses `(K, m)` on the next minibatch (split or shared)."""
        K = next(iter(params.values())).shape[0]
        idx = self._next_indices(self.batch_size, generator)
        if self.split_batch:
            if self.batch_size % K:
                raise ShapeError(f"batch of {self.batch_size} cannot be split among K = {K}")
            idx = idx.reshape(K, -1)
        else:
            idx = idx.unsqueeze(0).expand(K, -1)
        out = self.call(self.module, params, self.X[idx], self.target.buffers)
        return self.loss_fn(out, self.Y[idx])

    @property
    def has_selection(self) -> bool:
        """Whether a validation split backs :meth:`select_losses`."""
        return self.Xs is not None

    @torch.no_grad()
    def eval_losses(self, params: dict[str, Tensor]) -> Tensor:
        """Held-out losses `(K, m)`: each generated network on the whole evaluation set."""
        return self._mean_losses(params, self.Xe, self.Ye)

    @torch.no_grad()
    def select_losses(self, params: dict[str, Tensor]) -> Tensor:
        """Validation losses `(K, m)` (the checkpoint choice), as :meth:`eval_losses`."""
        if not self.has_selection:
            raise ConfigError("this task has no validation split to choose a checkpoint on")
        return self._mean_losses(params, self.Xs, self.Ys)

    def _mean_losses(self, params: dict[str, Tensor], X: Tensor, Y: Tensor) -> Tensor:
        K = next(iter(params.values())).shape[0]
        N = X.shape[0]
        total = None
        for s in range(0, N, self.eval_batch_size):
            xb = X[s: s + self.eval_batch_size]
            yb = Y[s: s + self.eval_batch_size]
            x = xb.unsqueeze(0).expand(K, *xb.shape)
            y = yb.unsqueeze(0).expand(K, *yb.shape)
            part = self.loss_fn(self.call(self.module, params, x, self.target.buffers), y)
            part = part * xb.shape[0]
            total = part if total is None else total + part
        return total / N

    @staticmethod
    def decision_vectors(params: dict[str, Tensor]) -> None:
        """Neural targets have no decision vectors to store (their weights are generated)."""
        return None


def multitask_cross_entropy(logits: Tensor, labels: Tensor) -> Tensor:
    """Mean cross-entropy per task.

    Args:
        logits: `(K, b, T, C)` outputs of K multi-head networks (T tasks, C classes).
        labels: `(K, b, T)` integer class labels.

    Returns:
        `(K, T)` mean cross-entropy of each task under each of the K networks.
    """
    K, b, T, C = logits.shape
    ce = torch.nn.functional.cross_entropy(
        logits.reshape(-1, C), labels.reshape(-1), reduction="none"
    )
    return ce.reshape(K, b, T).mean(dim=1)
