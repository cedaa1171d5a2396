"""Shared machinery of the gradient baselines that train one model per preference.

See :mod:`hybridmoo.baselines.gradient` for what a step, the budget, the bounds and the trace
mean; each method lives in its own module (``ls``, ``mgda_ub``, ``pcgrad``, ``cagrad``,
``epo``, ``pmtl``). :class:`Runner` holds the P models (decision vectors, or networks for
data-driven problems), :func:`execute` runs a method's direction function under a budget, and
:func:`min_norm_weights`, :func:`combine`, :func:`jacobian` are shared by several methods.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch
from torch import Tensor

from hybridmoo.aggregate import combine, min_norm_weights
from hybridmoo.baselines._trainer import is_data
from hybridmoo.baselines.common import BaselineResult, Budget, Tracer
from hybridmoo.errors import ConfigError
from hybridmoo.preferences import eval_preferences

__all__ = ["COMMON_DOC", "Runner", "check_choice", "check_positive", "combine", "common_params",
           "execute", "is_real", "jacobian", "min_norm_weights", "simplex_prefs"]

_F64 = torch.float64
_MARGIN = 1e-6  # relative distance kept from the bounds in "project" mode
PARAMETERIZATIONS = ("project", "sigmoid")
OPTIMIZERS = ("sgd", "adam")
VECTOR_LR = 0.1  # default learning rate of SGD on decision vectors
NEURAL_LR = 1e-3  # default learning rate of Adam on networks (Pareto MTL's ResNet, PHN)


def jacobian(problem, x: Tensor, transform: Callable[[Tensor], Tensor] | None = None
             ) -> tuple[Tensor, Tensor]:
    """Objectives `(P, m)` and per-objective gradients `(P, m, d)` of P independent models.

    m backward passes, each on ``F[:, i].sum()``: row p of the gradient is ∇f_i of model p
    alone, because model p only affects row p of ``F``.

    Args:
        problem: a :class:`~hybridmoo.problems.Problem`.
        x: `(P, d)` leaf tensor with ``requires_grad`` (decision vectors or their ``z``).
        transform: maps ``x`` to decision vectors (``None``: identity).
    """
    xx = x if transform is None else transform(x)
    F = problem.evaluate(xx)
    m = F.shape[-1]
    grads = []
    for i in range(m):
        (g,) = torch.autograd.grad(F[:, i].sum(), x, retain_graph=i < m - 1)
        grads.append(g)
    return F.detach(), torch.stack(grads, dim=1)


# ================================================================================ the runner
class _Failed(Exception):
    """A non-finite value ended the run."""


class Runner:
    """P models (decision vectors or networks), one optimiser, the budget loop and the trace.

    Attributes used by direction functions: ``prefs`` `(P, m)`, ``P``, ``generator`` (seeded
    by ``seed``), :meth:`progress`, ``neural`` (whether the models are networks).
    """

    def __init__(self, problem, budget: Budget, seed: int, prefs: Tensor, *,
                 lr: float | None, optimizer: str | None, momentum: float,
                 parameterization: str, eval_every: int | None, ref_point, device: str,
                 batch_size: int = 256) -> None:
        self.neural = is_data(problem)
        if not self.neural and getattr(problem, "n_var", 0) < 1:
            raise ConfigError(
                f"problem {problem.name!r} has neither decision vectors nor a training task; "
                "the gradient baselines train one decision vector or one network per preference"
            )
        if optimizer is None:
            optimizer = "adam" if self.neural else "sgd"
        if lr is None:
            lr = NEURAL_LR if self.neural else VECTOR_LR
        check_choice("parameterization", parameterization, PARAMETERIZATIONS)
        check_choice("optimizer", optimizer, OPTIMIZERS)
        check_positive("lr", lr)
        self.lr, self.optimizer = float(lr), optimizer
        if not (is_real(momentum) and 0 <= momentum < 1):
            raise ConfigError(f"momentum = {momentum!r} is invalid: expected a number in [0, 1)")
        self.problem = problem
        self.budget = budget
        self.seed = int(seed)
        self.device = torch.device(device)
        self.prefs = prefs.to(self.device, _F64)
        self.P = int(prefs.shape[0])
        self.parameterization = "weights" if self.neural else parameterization
        self.tracer = Tracer(problem, ref_point)
        gen = torch.Generator().manual_seed(self.seed)
        self.generator = gen  # continues the stream (minibatches, PCGrad's random orders)
        if self.neural:
            leaves = self._init_networks(batch_size)
        else:
            leaves = [self._init_vectors(gen)]
        if optimizer == "sgd":
            self.opt: torch.optim.Optimizer = torch.optim.SGD(leaves, lr=self.lr,
                                                              momentum=float(momentum))
        else:
            self.opt = torch.optim.Adam(leaves, lr=self.lr)
        self._setup_budget(budget, eval_every)

    def _init_vectors(self, gen: torch.Generator) -> Tensor:
        """Uniform decision vectors in the box (or their logits), as one `(P, n_var)` leaf."""
        problem = self.problem
        lo, hi = problem.bounds
        self.lo, self.hi = lo.to(self.device), hi.to(self.device)
        span = self.hi - self.lo
        self.lo_m, self.hi_m = self.lo + _MARGIN * span, self.hi - _MARGIN * span
        u = torch.rand(self.P, problem.n_var, generator=gen, dtype=_F64).to(self.device)
        x0 = self.lo + span * u
        if self.parameterization == "project":
            param = torch.maximum(torch.minimum(x0, self.hi_m), self.lo_m)
        else:
            t = ((x0 - self.lo) / span).clamp(1e-6, 1 - 1e-6)
            param = torch.log(t) - torch.log1p(-t)
        self.param = param.clone().requires_grad_(True)
        return self.param

    def _init_networks(self, batch_size: int) -> list[Tensor]:
        """P independently initialised copies of the problem's target network, stacked.

        The training task gives every model the same minibatch of ``batch_size`` examples per
        step (``split_batch = False``); model p's initial weights are the template's
        ``reset_parameters()`` under a seed drawn from the run's generator.
        """
        cfg = SimpleNamespace(batch_size=int(batch_size), n_prefs=self.P, split_batch=False,
                              batched="auto", n_eval=self.P)
        self.task = self.problem.make_task(cfg, dtype=torch.float32, device=self.device)
        module = self.task.module
        seeds = torch.randint(0, 2**62, (self.P,), generator=self.generator).tolist()
        copies = []
        with torch.random.fork_rng(devices=[]):
            for s in seeds:
                torch.manual_seed(int(s))
                for sub in module.modules():
                    if hasattr(sub, "reset_parameters"):
                        sub.reset_parameters()
                copies.append({k: v.detach().clone() for k, v in module.named_parameters()})
        self.names = list(copies[0])
        self.weights = [torch.stack([c[k] for c in copies]).requires_grad_(True)
                        for k in self.names]
        self.n_weights = sum(w[0].numel() for w in self.weights)
        return self.weights

    def _params(self) -> dict[str, Tensor]:
        return dict(zip(self.names, self.weights, strict=True))

    def _setup_budget(self, budget: Budget, eval_every: int | None) -> None:
        # budget → steps
        if budget.kind == "steps":
            self.n_steps: int | None = budget.count
        elif budget.kind == "evaluations":
            if budget.count < self.P:
                raise ConfigError(
                    f"budget of {budget.count} evaluations is below one evaluation of the "
                    f"{self.P} preference models; give at least {2 * self.P} evaluations or "
                    "fewer n_prefs"
                )
            self.n_steps = budget.count // self.P - 1
        else:
            self.n_steps = None
        # trace schedule: steps (int) or seconds (float, seconds budgets without eval_every)
        if eval_every is None:
            if self.n_steps is None:
                self.every_steps, self.every_seconds = None, budget.amount / 20
            else:
                self.every_steps, self.every_seconds = max(1, self.n_steps // 20), None
        else:
            if isinstance(eval_every, bool) or not isinstance(eval_every, (int, np.integer)) \
                    or eval_every < 1:
                raise ConfigError(
                    f"eval_every = {eval_every!r} is invalid: expected an integer >= 1 (steps)"
                )
            self.every_steps, self.every_seconds = int(eval_every), None
        self.compute_seconds = 0.0
        self.steps = 0
        self.evaluations = 0

    # ---------------------------------------------------------------- helpers
    def x(self) -> Tensor | None:
        """Current decision vectors `(P, n_var)` (detached); ``None`` for networks."""
        if self.neural:
            return None
        with torch.no_grad():
            if self.parameterization == "project":
                return self.param.detach().clone()
            return self.lo + (self.hi - self.lo) * torch.sigmoid(self.param.detach())

    def progress(self) -> float:
        """Fraction of the budget used so far (for phase schedules)."""
        if self.n_steps is None:
            return self.compute_seconds / self.budget.amount
        return self.steps / max(self.n_steps, 1)

    def _transform(self) -> Callable[[Tensor], Tensor] | None:
        if self.parameterization == "project":
            return None
        lo, span = self.lo, self.hi - self.lo
        return lambda z: lo + span * torch.sigmoid(z)

    def _mask_bounds(self, G: Tensor) -> Tensor:
        """Drop variables on a bound that every objective would push outside."""
        if self.neural or self.parameterization != "project":
            return G
        x = self.param.detach()
        at_lo = (x <= self.lo_m).unsqueeze(1)
        at_hi = (x >= self.hi_m).unsqueeze(1)
        out_lo = at_lo & (G >= 0).all(dim=1, keepdim=True)
        out_hi = at_hi & (G <= 0).all(dim=1, keepdim=True)
        return G.masked_fill(out_lo | out_hi, 0.0)

    def _objectives_and_jacobian(self) -> tuple[Tensor, Tensor]:
        """Training objectives `(P, m)` and Jacobian `(P, m, d)` (float64) of the P models."""
        if not self.neural:
            return jacobian(self.problem, self.param, self._transform())
        L = self.task.train_losses(self._params(), self.generator)
        m = L.shape[-1]
        rows = []
        for i in range(m):
            gs = torch.autograd.grad(L[:, i].sum(), self.weights, retain_graph=i < m - 1,
                                     allow_unused=True)
            rows.append(torch.cat([torch.zeros_like(w).flatten(1) if g is None else
                                   g.flatten(1) for g, w in zip(gs, self.weights, strict=True)],
                                  dim=1))
        return L.detach().to(_F64), torch.stack(rows, dim=1).to(_F64)

    def evaluate(self) -> Tensor:
        """Objectives of the current models: the problem's objectives of the decision vectors,
        or the networks' losses on the held-out split (the test split by default)."""
        with torch.no_grad():
            if self.neural:
                return self.task.eval_losses(self._params()).to(_F64)
            return self.problem.evaluate(self.x())

    def _apply(self, D: Tensor) -> None:
        """Set the models' gradients to the directions `(P, d)` and take an optimiser step."""
        self.opt.zero_grad(set_to_none=True)
        if not self.neural:
            self.param.grad = D.to(self.param.dtype)
            self.opt.step()
            if self.parameterization == "project":
                with torch.no_grad():
                    self.param.copy_(torch.maximum(torch.minimum(self.param, self.hi_m),
                                                   self.lo_m))
            return
        sizes = [w[0].numel() for w in self.weights]
        for w, g in zip(self.weights, torch.split(D, sizes, dim=1), strict=True):
            w.grad = g.reshape(w.shape).to(w.dtype)
        self.opt.step()

    def _finite(self, t: Tensor, what: str) -> None:
        if not bool(torch.isfinite(t).all()):
            rows = torch.nonzero(~torch.isfinite(t).reshape(t.shape[0], -1).all(-1))
            rows = rows.reshape(-1)[:5].tolist()
            raise _Failed(f"{what} is not finite (NaN or inf) at step {self.steps}, "
                          f"preference rows {rows}")

    # ---------------------------------------------------------------- the loop
    def run(self, direction: Callable[[Tensor, Tensor, Runner], Tensor]) -> dict[str, Any]:
        """Run until the budget is spent; returns the final state for the result."""
        next_trace = 0.0
        last_traced = -1
        last_norm = torch.full((self.P,), float("nan"), dtype=_F64)
        t_start = time.perf_counter()
        trace_time = 0.0
        F = None
        while True:
            self.compute_seconds = time.perf_counter() - t_start - trace_time
            if self.n_steps is not None:
                stop = self.steps >= self.n_steps
            else:
                stop = self.compute_seconds >= self.budget.amount
            if stop:
                F = self.evaluate()
                G = None
            else:
                F, G = self._objectives_and_jacobian()
            self.evaluations += self.P
            self._finite(F, "an objective")
            due = stop or (
                self.every_steps is not None and self.steps % self.every_steps == 0
            ) or (self.every_seconds is not None and self.compute_seconds >= next_trace)
            if due and last_traced != self.steps:
                t0 = time.perf_counter()
                Ft = F if (stop or not self.neural) else self.evaluate()
                self.tracer.record(Ft.cpu().numpy(), seconds=self.compute_seconds,
                                   evaluations=self.evaluations, steps=self.steps)
                trace_time += time.perf_counter() - t0
                last_traced = self.steps
                if self.every_seconds is not None:
                    while next_trace <= self.compute_seconds:
                        next_trace += self.every_seconds
            if stop:
                break
            self._finite(G, "a gradient")
            G = self._mask_bounds(G)
            D = direction(F, G, self)
            self._finite(D, "the update direction")
            last_norm = torch.linalg.vector_norm(D, dim=-1).detach().cpu()
            self._apply(D)
            self.steps += 1
        self.compute_seconds = time.perf_counter() - t_start - trace_time
        X = self.x()
        return {"F": F.detach().cpu().numpy().astype(np.float64),
                "X": None if X is None else X.cpu().numpy().astype(np.float64),
                "direction_norm": last_norm.numpy().astype(np.float64)}

    def used(self) -> dict[str, float]:
        return {"seconds": float(self.compute_seconds), "evaluations": float(self.evaluations),
                "steps": float(self.steps)}


# ================================================================================ helpers
def is_real(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def check_positive(name: str, v: Any) -> None:
    if not (is_real(v) and math.isfinite(v) and v > 0):
        raise ConfigError(f"{name} = {v!r} is invalid: expected a finite number > 0")


def check_choice(name: str, v: Any, allowed: tuple[str, ...]) -> None:
    if v not in allowed:
        raise ConfigError(f"{name} = {v!r} is not allowed; allowed: {', '.join(allowed)}")


def simplex_prefs(problem, n_prefs: Any, boundary_eps: Any) -> Tensor:
    if isinstance(n_prefs, bool) or not isinstance(n_prefs, (int, np.integer)) or n_prefs < 1:
        raise ConfigError(f"n_prefs = {n_prefs!r} is invalid: expected an integer >= 1")
    return eval_preferences(problem.n_obj, int(n_prefs), boundary_eps=boundary_eps,
                            dtype=_F64)


def common_params(*, n_prefs, lr, optimizer, momentum, parameterization, eval_every, ref_point,
                  device, batch_size, **method) -> dict[str, Any]:
    """The parameters every method records (plus its own ``method`` parameters)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or \
            batch_size < 1:
        raise ConfigError(f"batch_size = {batch_size!r} is invalid: expected an integer >= 1")
    return dict(n_prefs=n_prefs, lr=lr, optimizer=optimizer, momentum=momentum,
                parameterization=parameterization, **method, eval_every=eval_every,
                ref_point=ref_point, device=device, batch_size=int(batch_size))


def execute(method: str, problem, budget: Budget, seed: int, prefs: Tensor,
             direction: Callable[[Tensor, Tensor, Runner], Tensor], params: dict,
             extra: Callable[[], dict] | None = None) -> BaselineResult:
    """Build the runner from the common ``params``, run it, package the result.

    ``direction(F, G, runner)`` maps the `(P, m)` objectives and `(P, m, d)` Jacobian (float64)
    to `(P, d)` directions; ``extra()`` adds method-specific fields to ``result.extra``.
    """
    runner = Runner(problem, budget, seed, prefs, lr=params["lr"],
                     optimizer=params["optimizer"], momentum=params["momentum"],
                     parameterization=params["parameterization"],
                     eval_every=params["eval_every"], ref_point=params["ref_point"],
                     device=params["device"], batch_size=params["batch_size"])
    desc = problem.describe()
    try:
        out = runner.run(direction)
    except _Failed as exc:
        return BaselineResult.failed(
            str(exc), method=method, problem=desc, seed=int(seed), n_obj=problem.n_obj,
            params=params, ref_point=runner.tracer.ref_point, trace=runner.tracer.arrays(),
            budget_used=runner.used(),
        )
    hv, _ = runner.tracer.measure(out["F"])
    params.update(lr=runner.lr, optimizer=runner.optimizer)
    more = {"parameterization": runner.parameterization, "n_models": runner.P,
            "direction_norm": out["direction_norm"]}
    if runner.neural:
        more.update(n_target_params=runner.n_weights, epochs=runner.task.epochs_done)
    if extra is not None:
        more.update(extra())
    return BaselineResult(
        method=method, params=dict(params), problem=desc, seed=int(seed), status="ok",
        error="", F=out["F"], X=out["X"], prefs=prefs.cpu().numpy().astype(np.float64),
        trace=runner.tracer.arrays(), budget_used=runner.used(), hv=float(hv),
        ref_point=runner.tracer.ref_point, extra=more,
    )


COMMON_DOC = """
    Common args:
        problem: a decision-vector :class:`~hybridmoo.problems.Problem`, or a data-driven one
            (Multi-MNIST, ``mtl_regression``...): then each model is a copy of the problem's
            target network, and the objectives are its held-out losses.
        budget: steps (one update of all P models), evaluations (P per step, plus P for the
            final models) or seconds.
        seed: seeds the initialisation (and minibatches, random orders).
        n_prefs: number of preferences, spread by ``eval_preferences`` (for m >= 3 the
            Das–Dennis lattice may hold more; every model gets one).
        lr: learning rate (default 0.1 on decision vectors, 1e-3 on networks).
        optimizer: ``"sgd"`` (with ``momentum``) or ``"adam"`` (default: SGD on decision
            vectors, Adam on networks).
        parameterization: ``"project"`` (projected gradient, default) or ``"sigmoid"``
            (decision vectors only).
        boundary_eps: every preference coordinate is at least about this (see
            ``eval_preferences``).
        eval_every: trace period in steps (default: steps / 20, or seconds / 20).
        ref_point: HV reference point (default: the problem's).
        device: torch device of the models.
        batch_size: examples per step for networks; every model sees the same minibatch.
"""
