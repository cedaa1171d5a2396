"""MT2O: multi-task learning by multi-task optimisation with convex parameter transfer.

Bai, Gupta & Ong, "Multi-Task Learning with Multi-Task Optimization", arXiv 2403.16162
(https://arxiv.org/abs/2403.16162). The update rule is that of multi-task gradient descent
(MGD): Bai, Gupta & Ong, Memetic Computing 12(4), 2020, official code
``BaiLu-BL/MGD_MultiMNIST`` (``msgd.py``).

The multi-objective problem is split by K evenly spread weight vectors w_k into K scalar
subproblems s_k(θ) = S(f(θ), w_k) (S linear by default). Each subproblem has a full model θ_k
of its own (no hypernetwork); all K are trained together, and every ``transfer_every`` steps the
parameters are mixed convexly before the optimiser step:

.. code-block:: text

    g_k  = ∇ s_k(θ_k)                         (own loss, own model, own gradient)
    θ̃_k = Σ_j M_kj θ_j                        (row-stochastic M ≥ 0; selected layers only)
    θ_k  ← θ̃_k − (optimiser step of g_k)      (SGD: − lr·g_k; momentum SGD: − lr·buffer_k)

MGD's code applies this as SGD with ``d_p ← d_p + (p − p_mix)/lr``, i.e. ``p ← p_mix − lr·d_p``.
Here the mix is written into the parameters after the backward pass and before
``optimizer.step()``, which gives exactly θ̃_k − lr·d_k for SGD and Adam (their step depends on
the gradient and the optimiser state, not on the parameter value; no weight decay is offered).

**What is verified and what is a reading** (see ``ALGORITHMS.md`` §3). Verified: K scalar
subproblems from diverse weight vectors, one model each, iterative parameter transfer among
them; the MGD rule above; MGD's two-task coefficient w = α·η·c⁺/(1 + c⁺) (α = 1, η = 1e-3, c⁺
the clipped cosine of the two label vectors), applied to LeNet's convolutional layers only. Not
verified, so every one of these is a parameter and the defaults are *our reading*, not the
paper's rule:

- ``scalarization``: linear (default) or Tchebycheff, or any plain scalarisation of
  :mod:`hybridmoo.scalarize`;
- the transfer graph: each subproblem draws from its ``n_neighbors`` nearest weight vectors
  (Euclidean distance, as the neighbourhoods of MOEA/D), default 2;
- the coefficients: M_kk = 1 − ``transfer``, and the mass ``transfer`` is shared among the
  neighbours in proportion to 1/‖w_k − w_j‖ (``coefficients="distance"``, default) or equally
  (``"uniform"``). MGD's w ≈ 4e-4 per step came with SGD at lr 1e-3; the per-step pull
  θ̃_k − θ_k = −transfer·(θ_k − mean of neighbours) acts like the gradient of a consensus
  penalty (transfer / 2·lr)·‖θ_k − θ̄‖², so a larger lr calls for a larger ``transfer``;
- how often: every step (``transfer_every = 1``, as MGD);
- which layers: all parameters (default) or ``"shared"``, the layers outside the target's
  ``heads`` (MultiLeNet: conv1, conv2, fc), or a list of name prefixes;
- the start: one initialisation shared by the K models (default) or independent ones (MGD's
  two LeNets, which it mixed with a w a hundred times smaller than the default here). Averaging
  networks that start apart averages unrelated features: on Multi-MNIST, ``transfer = 0.05``
  from independent initialisations nearly stopped learning, from a shared one it sped it up.

``transfer = 0`` gives M = I exactly, and the mixing is then skipped: the run is K independent
single-model runs, bit for bit with ``batched=False`` (a Python loop over the models). With the
default ``batched=True`` (``vmap``) this also holds for MLP targets, but ``vmap`` runs K
convolutions as one grouped convolution, whose rounding differs from a single model's.

Problems: data-driven multi-task problems (``multi_mnist`` and its kin with
:class:`~hybridmoo.targets.MultiLeNet`, ``mtl_regression`` with
:class:`~hybridmoo.targets.MultiHeadMLP`, ``tabular_sparsity``), where every model sees the same
minibatch of ``batch_size`` examples per step (as in MGD's code), and decision-vector problems
(ZDT, DTLZ, RE…), where a model is one decision vector kept inside the box by projection (the
convex mix never leaves the box).

>>> from hybridmoo import baselines
>>> from hybridmoo.baselines import mt2o as _mt2o  # registers "mt2o"
>>> r = baselines.run("mt2o", "zdt1", baselines.Budget("steps", 20), seed=0, n_models=4,
...                   problem_options={"n_var": 5})
>>> r.status, r.F.shape, r.budget_used["evaluations"]
('ok', (4, 2), 80.0)
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.func import functional_call

from hybridmoo import scalarize
from hybridmoo.baselines._trainer import is_data
from hybridmoo.baselines.common import BaselineResult, Budget, Tracer, register
from hybridmoo.errors import ConfigError
from hybridmoo.hypernet import batched_call
from hybridmoo.preferences import even_rays

__all__ = ["MT2O", "init_models", "mixing_matrix", "mt2o", "transfer_names"]

COEFFICIENTS = ("distance", "uniform")
OPTIMIZERS = ("sgd", "adam")
INITS = ("independent", "shared")
_MARGIN = 1e-6  # relative distance kept from the bounds (as the gradient baselines)


# ================================================================================ pure pieces
def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _is_real(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def mixing_matrix(weights: Tensor | np.ndarray, *, transfer: float, n_neighbors: int = 2,
                  coefficients: str = "distance") -> Tensor:
    """The row-stochastic transfer matrix M of MT2O (a reading of the paper, see the module).

    Row k keeps 1 − ``transfer`` of its own model and takes ``transfer`` from the
    ``n_neighbors`` weight vectors nearest to w_k (Euclidean distance; ties go to the lower
    index), shared in proportion to 1/‖w_k − w_j‖ (``"distance"``) or equally
    (``"uniform"``). Neighbours at distance 0 (duplicate weights) share the mass equally.

    Args:
        weights: `(K, m)` weight vectors of the K subproblems.
        transfer: off-diagonal mass of each row, in [0, 1]; 0 gives the identity exactly.
        n_neighbors: neighbours per subproblem, an integer ≥ 1 (capped at K − 1).
        coefficients: ``"distance"`` or ``"uniform"``.

    Returns:
        `(K, K)` float64 tensor, entries ≥ 0, rows summing to 1.

    Raises:
        ConfigError: on a transfer outside [0, 1], n_neighbors < 1, an unknown coefficient
            rule, or weights that are not a finite `(K, m)` array.

    >>> w = torch.tensor([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    >>> mixing_matrix(w, transfer=0.2, n_neighbors=1)
    tensor([[0.8000, 0.2000, 0.0000],
            [0.2000, 0.8000, 0.0000],
            [0.0000, 0.2000, 0.8000]], dtype=torch.float64)
    """
    W = torch.as_tensor(weights).detach().to("cpu", torch.float64)
    if W.dim() != 2 or W.shape[0] < 1 or not bool(torch.isfinite(W).all()):
        raise ConfigError(
            f"weights must be a finite (K, m) array with K >= 1, got shape {tuple(W.shape)}"
        )
    if not (_is_real(transfer) and 0.0 <= float(transfer) <= 1.0):
        raise ConfigError(f"transfer = {transfer!r} is invalid: expected a number in [0, 1]")
    if not (_is_int(n_neighbors) and n_neighbors >= 1):
        raise ConfigError(f"n_neighbors = {n_neighbors!r} is invalid: expected an integer >= 1")
    if coefficients not in COEFFICIENTS:
        raise ConfigError(f"coefficients = {coefficients!r} is not allowed; allowed: "
                          f"{', '.join(COEFFICIENTS)}")
    K = W.shape[0]
    M = torch.eye(K, dtype=torch.float64)
    t = float(transfer)
    if t == 0.0 or K == 1:
        return M
    n = min(int(n_neighbors), K - 1)
    D = torch.cdist(W, W)
    for k in range(K):
        d = D[k].clone()
        d[k] = math.inf
        nb = torch.argsort(d, stable=True)[:n]
        dn = d[nb]
        if coefficients == "uniform":
            a = torch.full((n,), 1.0 / n, dtype=torch.float64)
        elif bool((dn == 0).any()):
            a = (dn == 0).to(torch.float64)
            a = a / a.sum()
        else:
            a = 1.0 / dn
            a = a / a.sum()
        M[k, k] = 1.0 - t
        M[k, nb] = t * a
    return M


def transfer_names(param_names: Sequence[str], layers: str | Sequence[str] = "all") -> list[str]:
    """The parameters that take part in the transfer.

    Args:
        param_names: all parameter names of the model, in order.
        layers: ``"all"``; ``"shared"``: every parameter outside the ``heads`` submodule (the
            shared trunk of :class:`~hybridmoo.targets.MultiLeNet` and
            :class:`~hybridmoo.targets.MultiHeadMLP`); or a list of name prefixes (a prefix
            matches a name equal to it or starting with ``prefix + "."``).

    Returns:
        The selected names, in the order of ``param_names``.

    Raises:
        ConfigError: if the selection is empty, ``"shared"`` finds no ``heads`` parameters, or
            a prefix matches nothing.

    >>> transfer_names(["conv1.weight", "fc.bias", "heads.0.weight"], "shared")
    ['conv1.weight', 'fc.bias']
    """
    names = list(param_names)
    if isinstance(layers, str):
        if layers == "all":
            return names
        if layers == "shared":
            if not any(n.startswith("heads.") for n in names):
                raise ConfigError(
                    "transfer_layers = 'shared' needs a target with task heads (parameters "
                    f"named 'heads.*'); this model has {names}: use 'all' or a list of prefixes"
                )
            out = [n for n in names if not n.startswith("heads.")]
        else:
            raise ConfigError(
                f"transfer_layers = {layers!r} is not allowed: expected 'all', 'shared' or a "
                "list of parameter-name prefixes"
            )
    else:
        prefixes = [str(p) for p in layers]
        for p in prefixes:
            if not any(n == p or n.startswith(p + ".") for n in names):
                raise ConfigError(
                    f"transfer_layers prefix {p!r} matches no parameter; parameters: "
                    f"{', '.join(names)}"
                )
        out = [n for n in names if any(n == p or n.startswith(p + ".") for p in prefixes)]
    if not out:
        raise ConfigError(f"transfer_layers = {layers!r} selects no parameter")
    return out


def init_models(module: nn.Module, n_models: int, generator: torch.Generator, *,
                shared: bool = False) -> list[dict[str, Tensor]]:
    """K initial parameter sets of ``module`` with PyTorch's default initialisation.

    Model k is a copy of ``module`` whose submodules were reset (``reset_parameters``) under a
    seed drawn from ``generator``; the caller's global RNG state is left as it was.

    Args:
        module: the target template (not modified).
        n_models: K ≥ 1.
        generator: draws the K seeds.
        shared: give every model the first model's initialisation.

    Returns:
        K dicts ``{name: tensor}`` (fresh tensors, no gradient), in ``named_parameters`` order.
    """
    seeds = torch.randint(0, 2**62, (n_models,), generator=generator).tolist()
    out = []
    for k in range(n_models):
        if shared and k > 0:
            out.append({n: t.clone() for n, t in out[0].items()})
            continue
        clone = copy.deepcopy(module)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seeds[k]))
            for sub in clone.modules():
                reset = getattr(sub, "reset_parameters", None)
                if callable(reset):
                    reset()
        out.append({n: p.detach().clone() for n, p in clone.named_parameters()})
    return out


# ================================================================================ the trainer
class MT2O:
    """K models, one per scalar subproblem, trained together with parameter transfer.

    One :meth:`step` draws one minibatch (shared by all K models), computes each model's
    scalarised loss s_k and its gradient g_k at θ_k, mixes the selected parameters
    θ̃ = M θ (when the step is a transfer step), then lets the optimiser step from θ̃ with g_k.

    Args:
        task: a :class:`~hybridmoo.tasks.DataTask` (neural targets; its ``module``, ``X``,
            ``Y``, ``loss_fn``, ``eval_losses`` are used) or a
            :class:`~hybridmoo.tasks.VectorTask` (decision vectors ``x``).
        weights: `(K, m)` weight vectors w_k.
        init: K dicts of initial parameters (as :func:`init_models` returns; for a vector task
            ``{"x": (n_var,)}``); copied, never modified.
        M: `(K, K)` row-stochastic transfer matrix (:func:`mixing_matrix`).
        generator: draws the minibatch order.
        scalarization: a plain scalarisation (``hybridmoo.scalarize.get(...)``).
        ideal: `(m,)` ideal point for the scalarisation, or ``None`` (running minimum of the
            training losses, as hybridmoo's trainer).
        optimizer: ``"sgd"`` or ``"adam"``. lr: learning rate. momentum: SGD momentum.
        transfer_every: mix on steps t (1-based) with t % transfer_every == 0.
        transfer_layers: see :func:`transfer_names`.
        batch_size: examples per minibatch (data tasks).
        batched: run the K networks in one ``vmap`` pass (default) or a Python loop (which
            makes model k's arithmetic identical to a run of model k alone).
        bounds: ``(lower, upper)`` `(n_var,)` tensors of a vector task (projection), or None.
    """

    def __init__(self, task, weights: Tensor, init: Sequence[Mapping[str, Tensor]], M: Tensor,
                 generator: torch.Generator, *, scalarization: Callable[..., Tensor],
                 ideal: Tensor | None = None, optimizer: str = "sgd", lr: float = 0.01,
                 momentum: float = 0.9, transfer_every: int = 1,
                 transfer_layers: str | Sequence[str] = "all", batch_size: int = 256,
                 batched: bool = True, bounds: tuple[Tensor, Tensor] | None = None) -> None:
        K = int(weights.shape[0])
        if len(init) != K:
            raise ConfigError(f"init holds {len(init)} models, the weights {K}")
        if tuple(M.shape) != (K, K):
            raise ConfigError(f"M must be ({K}, {K}), got {tuple(M.shape)}")
        if optimizer not in OPTIMIZERS:
            raise ConfigError(f"optimizer = {optimizer!r} is not allowed; allowed: "
                              f"{', '.join(OPTIMIZERS)}")
        if not (_is_real(lr) and math.isfinite(lr) and lr > 0):
            raise ConfigError(f"lr = {lr!r} is invalid: expected a finite number > 0")
        if not (_is_real(momentum) and 0 <= momentum < 1):
            raise ConfigError(f"momentum = {momentum!r} is invalid: expected a number in [0, 1)")
        if not (_is_int(transfer_every) and transfer_every >= 1):
            raise ConfigError(
                f"transfer_every = {transfer_every!r} is invalid: expected an integer >= 1"
            )
        self.task = task
        self.K = K
        self.data = hasattr(task, "module")
        first = init[0]
        self.param_names = list(first)
        ref = next(iter(first.values()))
        self.device, self.dtype = ref.device, ref.dtype
        self.weights = weights.to(self.device, self.dtype)
        self.params: list[dict[str, Tensor]] = [
            {n: t.detach().clone().requires_grad_(True) for n, t in p.items()} for p in init
        ]
        self.mixed = transfer_names(self.param_names, transfer_layers)
        self.M = M.detach().to(torch.float64)
        self._M = self.M.to(self.device, self.dtype)
        self.transfers = not bool(torch.equal(self.M, torch.eye(K, dtype=torch.float64)))
        self.transfer_every = int(transfer_every)
        self.scal = scalarization
        self._ideal_known = ideal is not None
        self.ideal = None if ideal is None else ideal.to(self.device, self.dtype)
        leaves = [t for p in self.params for t in p.values()]
        if optimizer == "sgd":
            self.opt: torch.optim.Optimizer = torch.optim.SGD(
                leaves, lr=float(lr), momentum=float(momentum), foreach=False)
        else:
            self.opt = torch.optim.Adam(leaves, lr=float(lr), foreach=False)
        self.generator = generator
        self.batched = bool(batched)
        self.batch_size = int(batch_size)
        if self.data:
            self.buffers = dict(task.target.buffers) if hasattr(task, "target") else \
                dict(task.module.named_buffers())
            if task.X.shape[0] < self.batch_size:
                raise ConfigError(f"batch_size = {batch_size} exceeds the {task.X.shape[0]} "
                                  "training examples")
        self.bounds = None
        if bounds is not None:
            lo, hi = (b.to(self.device, self.dtype) for b in bounds)
            span = hi - lo
            self.bounds = (lo + _MARGIN * span, hi - _MARGIN * span)
        self.steps = 0
        self.seen = 0  # training examples drawn (data tasks)
        self.last_batch: Tensor | None = None
        self._perm: Tensor | None = None
        self._pos = 0

    # ------------------------------------------------------------------ helpers
    def stacked(self) -> dict[str, Tensor]:
        """The current parameters as ``{name: (K, *shape)}`` (detached copies)."""
        with torch.no_grad():
            return {n: torch.stack([p[n].detach() for p in self.params]) for n in
                    self.param_names}

    @property
    def epochs(self) -> float:
        """Passes over the training data so far (0 for vector tasks)."""
        return self.seen / self.task.X.shape[0] if self.data else 0.0

    def _next_batch(self) -> Tensor:
        N = self.task.X.shape[0]
        n, parts = self.batch_size, []
        while n > 0:
            if self._perm is None or self._pos >= N:
                self._perm = torch.randperm(N, generator=self.generator)
                self._pos = 0
            take = min(n, N - self._pos)
            parts.append(self._perm[self._pos: self._pos + take])
            self._pos += take
            n -= take
        self.seen += self.batch_size
        return torch.cat(parts).to(self.task.X.device)

    def _data_losses(self, params: list[dict[str, Tensor]], idx: Tensor) -> Tensor:
        """`(K, m)` training losses of the K models on the examples ``idx``."""
        task = self.task
        x, y = task.X[idx], task.Y[idx]
        if self.batched:
            stacked = {n: torch.stack([p[n] for p in params]) for n in self.param_names}
            xs = x.unsqueeze(0).expand(self.K, *x.shape)
            ys = y.unsqueeze(0).expand(self.K, *y.shape)
            losses = task.loss_fn(batched_call(task.module, stacked, xs, self.buffers), ys)
        else:
            stacked = None
            rows = []
            for p in params:
                out = functional_call(task.module, {**p, **self.buffers}, (x,))
                rows.append(task.loss_fn(out.unsqueeze(0), y.unsqueeze(0)))
            losses = torch.cat(rows)
        penalty = getattr(task, "penalty", None)
        if penalty is not None:
            if stacked is None:
                stacked = {n: torch.stack([p[n] for p in params]) for n in self.param_names}
            losses = torch.cat([losses, penalty(stacked)], dim=1)
        return losses

    def _vector_losses(self, params: list[dict[str, Tensor]]) -> Tensor:
        if self.batched:
            return self.task.problem.evaluate(torch.stack([p["x"] for p in params]))
        return torch.cat([self.task.problem.evaluate(p["x"].unsqueeze(0)) for p in params])

    def _scalarize(self, losses: Tensor) -> Tensor:
        if not self._ideal_known:
            cur = losses.detach().min(dim=0).values
            self.ideal = cur if self.ideal is None else torch.minimum(self.ideal, cur)
        return self.scal(losses, self.weights, ideal=self.ideal)

    # ------------------------------------------------------------------ the rule
    def step(self) -> Tensor:
        """One MT2O step on all K models.

        Returns:
            `(K, m)` training losses of the K models at θ_k (before the step), detached.

        Raises:
            FloatingPointError: if a loss is NaN or infinite.
        """
        if self.data:
            idx = self._next_batch()
            self.last_batch = idx
            losses = self._data_losses(self.params, idx)
        else:
            losses = self._vector_losses(self.params)
        if not bool(torch.isfinite(losses).all()):
            raise FloatingPointError(f"a training loss is not finite at step {self.steps}")
        s = self._scalarize(losses)  # (K,)
        self.opt.zero_grad(set_to_none=True)
        s.sum().backward()  # model k's gradient is that of s_k alone
        self.steps += 1
        with torch.no_grad():
            if self.transfers and self.steps % self.transfer_every == 0:
                self._mix()
        self.opt.step()
        if self.bounds is not None:
            lo, hi = self.bounds
            with torch.no_grad():
                for p in self.params:
                    p["x"].copy_(torch.maximum(torch.minimum(p["x"], hi), lo))
        return losses.detach()

    @torch.no_grad()
    def _mix(self) -> None:
        """θ_k ← Σ_j M_kj θ_j for the transferred parameters (in place, before the step)."""
        for n in self.mixed:
            S = torch.stack([p[n] for p in self.params])  # (K, *shape)
            mixed = torch.einsum("kj,j...->k...", self._M, S)
            for k, p in enumerate(self.params):
                p[n].copy_(mixed[k])

    @torch.no_grad()
    def eval_losses(self) -> Tensor:
        """`(K, m)` held-out losses (test split of data problems; objectives of vectors)."""
        if self.data:
            return self.task.eval_losses(self.stacked())
        return self.task.problem.evaluate(self.stacked()["x"])


# ================================================================================ the method
def _scalarization(spec: str | Mapping) -> Callable[..., Tensor]:
    scal = scalarize.from_dict(spec) if isinstance(spec, Mapping) else scalarize.get(spec)
    if not isinstance(scal, scalarize.Scalarization) or scal.needs_ref or scal.needs_grads:
        raise ConfigError(
            f"scalarization {spec!r} is not a plain scalarisation of the losses (it needs "
            "gradients or a reference point); use 'linear', 'tchebycheff' or another plain one"
        )
    return scal


@register("mt2o", "gradient", "Bai, Gupta & Ong, 'Multi-Task Learning with Multi-Task "
          "Optimization', arXiv 2403.16162 (MGD rule: Bai et al., Memetic Computing 12(4), "
          "2020)")
def mt2o(problem, budget: Budget, seed: int, *, n_models: int = 5, transfer: float = 0.05,
         n_neighbors: int = 2, coefficients: str = "distance", transfer_every: int = 1,
         transfer_layers: str | Sequence[str] = "all",
         scalarization: str | Mapping = "linear", optimizer: str = "sgd",
         lr: float | None = None, momentum: float = 0.9, batch_size: int = 256,
         init: str = "shared", boundary_eps: float = 0.0, batched: bool = True,
         eval_every: int | None = None, ref_point=None, threads: int | None = None,
         device: str = "cpu", dtype: str = "float32") -> BaselineResult:
    """MT2O: K models for K weight vectors, trained jointly with convex parameter transfer.

    See the module docstring for the rule and for which settings are readings.

    Args:
        problem: a data-driven multi-task problem or a decision-vector problem.
        budget: ``steps`` (one update of all K models), ``evaluations`` (K loss vectors per
            step: ``steps = max(1, evaluations // K)``) or ``seconds`` (training time; the
            evaluations of the trace are not counted).
        seed: seeds the initialisations and the minibatch order.
        n_models: K, the number of subproblems; weights ``even_rays(m, K)`` (corners included;
            for m ≥ 3 the Das–Dennis lattice may hold more than K rows, and every row gets a
            model).
        transfer: off-diagonal mass of each row of M per transfer, in [0, 1]; 0: no transfer.
        n_neighbors: source subproblems per subproblem (nearest weight vectors).
        coefficients: ``"distance"`` (∝ 1/‖w_k − w_j‖) or ``"uniform"``.
        transfer_every: steps between transfers.
        transfer_layers: ``"all"``, ``"shared"`` (outside the task heads) or name prefixes.
        scalarization: ``"linear"`` (default), ``"tchebycheff"`` or a dict
            ``{"name": ..., **params}`` of a plain scalarisation; the ideal point is the
            problem's (0 for the MTL problems) or the running minimum of the losses.
        optimizer: ``"sgd"`` (with ``momentum``, MGD's choice) or ``"adam"``.
        lr: learning rate; default 0.05 for data problems (MGD used 1e-3 for 100 epochs; with
            it Multi-MNIST barely moves in a few hundred steps: a reading for short budgets),
            0.1 with SGD / 0.01 with Adam for decision vectors.
        momentum: SGD momentum (MGD: 0.9; decision vectors: use 0 for plain projected SGD).
        batch_size: examples per minibatch, every model sees the same minibatch.
        init: ``"shared"`` (default: one initialisation copied to all K models) or
            ``"independent"`` (every model its own, as MGD's two LeNets).
        boundary_eps: keeps every weight coordinate ≥ about this (see ``even_rays``).
        batched: ``vmap`` over the K models (default) or a Python loop.
        eval_every: trace period in steps (default: steps / 20; for a seconds budget, every
            seconds / 20).
        ref_point: HV reference point (default the problem's, (2, 2) for Multi-MNIST).
        threads: ``torch.set_num_threads`` for the run (``None``: leave as is).
        device, dtype: where and in which precision the models train.

    Returns:
        A :class:`~hybridmoo.baselines.common.BaselineResult`: ``F`` the K models' held-out
        losses (test split) `(K, m)`, ``prefs`` the weights, ``X`` the decision vectors (vector
        problems) or ``None``; ``extra`` holds ``mixing_matrix``, ``transfer_names``,
        ``n_models``, ``epochs`` and, for classifiers, the per-task test ``accuracy``.
    """
    params = dict(n_models=n_models, transfer=transfer, n_neighbors=n_neighbors,
                  coefficients=coefficients, transfer_every=transfer_every,
                  transfer_layers=transfer_layers if isinstance(transfer_layers, str)
                  else list(transfer_layers), scalarization=scalarization,
                  optimizer=optimizer, lr=lr, momentum=momentum, batch_size=batch_size,
                  init=init, boundary_eps=boundary_eps, batched=batched,
                  eval_every=eval_every, ref_point=ref_point, threads=threads,
                  device=device, dtype=dtype)
    if not (_is_int(n_models) and n_models >= 1):
        raise ConfigError(f"n_models = {n_models!r} is invalid: expected an integer >= 1")
    if init not in INITS:
        raise ConfigError(f"init = {init!r} is not allowed; allowed: {', '.join(INITS)}")
    if dtype not in ("float32", "float64"):
        raise ConfigError(f"dtype = {dtype!r} is not allowed; allowed: float32, float64")
    if not (_is_int(batch_size) and batch_size >= 1):
        raise ConfigError(f"batch_size = {batch_size!r} is invalid: expected an integer >= 1")
    if eval_every is not None and not (_is_int(eval_every) and eval_every >= 1):
        raise ConfigError(f"eval_every = {eval_every!r} is invalid: expected an integer >= 1")
    if threads is not None:
        torch.set_num_threads(int(threads))
    tdt = torch.float64 if dtype == "float64" else torch.float32
    dev = torch.device(device)
    data = is_data(problem)
    if lr is None:
        lr = 0.05 if data else (0.01 if optimizer == "adam" else 0.1)
    params["lr"] = lr
    scal = _scalarization(scalarization)
    m = problem.n_obj
    weights = even_rays(m, int(n_models), boundary_eps=boundary_eps, dtype=torch.float64)
    K = int(weights.shape[0])
    M = mixing_matrix(weights, transfer=transfer, n_neighbors=n_neighbors,
                      coefficients=coefficients)
    gen = torch.Generator().manual_seed(int(seed))
    if data:
        from types import SimpleNamespace

        cfg = SimpleNamespace(batch_size=int(batch_size), n_prefs=K, split_batch=False,
                              batched=bool(batched), n_eval=K)
        task = problem.make_task(cfg, dtype=tdt, device=dev)
        inits = init_models(task.module, K, gen, shared=init == "shared")
        inits = [{n: t.to(dev, tdt) for n, t in p.items()} for p in inits]
        bounds = None
    else:
        from hybridmoo.tasks import VectorTask

        if getattr(problem, "n_var", 0) < 1:
            raise ConfigError(f"problem {problem.name!r} has neither data nor decision vectors")
        if transfer_layers not in ("all", ["x"], ("x",)):
            raise ConfigError("a decision-vector problem has one parameter, 'x': "
                              "transfer_layers must be 'all'")
        task = VectorTask(problem, dtype=tdt, device=dev)
        lo, hi = (b.to(dev, tdt) for b in problem.bounds)
        u = torch.rand(K, problem.n_var, generator=gen, dtype=torch.float64).to(dev, tdt)
        if init == "shared":
            u = u[:1].expand(K, -1)
        inits = [{"x": lo + (hi - lo) * u[k]} for k in range(K)]
        bounds = (lo, hi)
    ideal = getattr(problem, "ideal", None)
    runner = MT2O(task, weights.to(dev, tdt), inits, M, gen, scalarization=scal,
                  ideal=None if ideal is None else ideal.to(dev, tdt), optimizer=optimizer,
                  lr=lr, momentum=momentum, transfer_every=transfer_every,
                  transfer_layers=transfer_layers, batch_size=batch_size, batched=batched,
                  bounds=bounds)
    tracer = Tracer(problem, ref_point)
    # budget → steps
    if budget.kind == "steps":
        n_steps: int | None = budget.count
    elif budget.kind == "evaluations":
        n_steps = max(1, budget.count // K)
    else:
        n_steps = None
    every_steps: int | None
    every_seconds: float | None
    if eval_every is not None:
        every_steps, every_seconds = int(eval_every), None
    elif n_steps is not None:
        every_steps, every_seconds = max(1, n_steps // 20), None
    else:
        every_steps, every_seconds = None, budget.amount / 20
    train_time = 0.0
    next_trace = 0.0
    F = None
    desc = problem.describe()

    def record() -> np.ndarray:
        Fk = runner.eval_losses().to(torch.float64).cpu().numpy()
        tracer.record(Fk, seconds=train_time, evaluations=runner.steps * K,
                      steps=runner.steps)
        return Fk

    def used() -> dict[str, float]:
        return {"seconds": float(train_time), "evaluations": float(runner.steps * K),
                "steps": float(runner.steps)}

    try:
        F = record()
        while True:
            if n_steps is not None and runner.steps >= n_steps:
                break
            if n_steps is None and train_time >= budget.amount:
                break
            t0 = time.perf_counter()
            runner.step()
            train_time += time.perf_counter() - t0
            done = (runner.steps >= n_steps) if n_steps is not None else \
                train_time >= budget.amount
            if done or (every_steps is not None and runner.steps % every_steps == 0) or (
                    every_seconds is not None and train_time >= next_trace + every_seconds):
                F = record()
                if every_seconds is not None:
                    while next_trace + every_seconds <= train_time:
                        next_trace += every_seconds
        if F is None or not np.isfinite(F).all():
            raise FloatingPointError("the final held-out losses are not finite")
    except FloatingPointError as exc:
        return BaselineResult.failed(
            str(exc), method="mt2o", problem=desc, seed=int(seed), n_obj=m, params=params,
            ref_point=tracer.ref_point, trace=tracer.arrays(), budget_used=used())
    extra: dict[str, Any] = {"mixing_matrix": runner.M.numpy().tolist(),
                             "transfer_names": runner.mixed, "n_models": K,
                             "epochs": runner.epochs, "transfers": runner.transfers}
    if data and hasattr(task, "eval_extra"):
        extra["accuracy"] = task.eval_extra(runner.stacked())["accuracy"]
    X = None if data else runner.stacked()["x"].to(torch.float64).cpu().numpy()
    return BaselineResult(
        method="mt2o", params=params, problem=desc, seed=int(seed), status="ok", error="",
        F=np.asarray(F, dtype=np.float64), X=X,
        prefs=weights.numpy().astype(np.float64), trace=tracer.arrays(), budget_used=used(),
        hv=float(tracer.last_hv), ref_point=tracer.ref_point, extra=extra)
