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
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from hybridmoo.baselines._connstr_net import (
    COMBINERS,
    FC_MODES,
    TaskBNLeNet,
    _check_choice,
    combine_gradients,
    connection_strength,
    draw_phase,
    joint_step,
    phase1_probability,
    project_conflicts,
    single_task_step,
    task_priority,
)
from hybridmoo.baselines.common import BaselineResult, Budget, Tracer, register
from hybridmoo.errors import ConfigError
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

# ============================================================================= the baseline
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
