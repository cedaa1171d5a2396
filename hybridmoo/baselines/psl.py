"""Pareto-set-learning baselines: one fixed configuration each, trained by :func:`hybridmoo.train`.

Each method is hybridmoo's own trainer (:class:`hybridmoo.train.Trainer`) run with the settings
the method's paper or official code uses, so the methods differ only in what their papers
choose: architecture, preference sampler, preferences per step K, scalarisation, optimiser.
Where the paper's choice cannot be expressed in hybridmoo, or is unknown, the docstring of the
method says so ("reading").

Budget conversion (``budget_used`` records what was spent):

- ``steps``: optimiser steps (``train.steps``).
- ``seconds``: seconds of training steps (``train.seconds``; evaluation time is excluded, as for
  the evolutionary baselines).
- ``evaluations``: ``steps = max(1, evaluations // K)``, since every step evaluates the objectives
  once per preference, K times (for data-driven problems: K losses on K shares of a minibatch).
  So ``steps × K ≤ evaluations`` except when ``evaluations < K`` (one step is still taken).
  ``budget_used["evaluations"] = steps × K``; the evaluation passes that measure the front
  (``n_eval`` preferences every ``eval_every`` steps) are not counted, as the HV trace of the
  evolutionary baselines is not.

Common parameters: ``n_eval`` (evaluation preferences, default 100), ``eval_every`` (steps
between trace points; default about 20 points over a step budget, every 100 steps otherwise),
``ref_point`` (HV reference point, default the problem's), ``threads``, ``device``, ``dtype``,
and ``hypernet`` / ``train``: dicts of :class:`~hybridmoo.hypernet.HypernetConfig` /
:class:`~hybridmoo.train.TrainConfig` fields that override the method's configuration (recorded
in the result's ``params``).

Methods (family ``"psl"``):

- ``phn_ls``, ``phn_epo``: Pareto HyperNetworks (Navon, Shamsian, Chechik & Fetaya, "Learning
  the Pareto Front with Hypernetworks", ICLR 2021; code ``AvivNavon/pareto-hypernetworks``).
- ``cosmos``: COSMOS (Ruchte & Grabocka, "Scalable Pareto Front Approximation for Deep
  Multi-Objective Learning", ICDM 2021; code ``ruchtem/cosmos``).
- ``psl``: Pareto set learning (Lin, Yang, Zhang & Zhang, "Pareto Set Learning for Expensive
  Multi-Objective Optimization", NeurIPS 2022; code ``Xi-L/PSL-MOBO``), run on the true
  objectives instead of a GP surrogate.
- ``hv_psl``: HV-PSL (Zhang, Lin, Xue, Chen & Zhang, "Hypervolume Maximization: A Geometric View
  of Pareto Set Learning", NeurIPS 2023; code ``xzhang2523/hvpsl``; ALGORITHMS.md §5).
- ``hybridmoo``: the library's own defaults (``HypernetConfig()``, ``TrainConfig()``).

>>> from hybridmoo import baselines
>>> r = baselines.run("psl", "zdt1", {"evaluations": 200}, problem_options={"n_var": 5},
...                   threads=1, n_eval=20)
>>> r.ok, r.budget_used["steps"], r.budget_used["evaluations"]
(True, 20.0, 200.0)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from hybridmoo.baselines.common import BaselineResult, Budget, register
from hybridmoo.errors import ConfigError
from hybridmoo.hypernet import HypernetConfig
from hybridmoo.train import TrainConfig, TrialResult
from hybridmoo.train import train as _train

__all__ = ["cosmos", "hv_psl", "hybridmoo_default", "phn_epo", "phn_ls", "psl", "to_result"]


# ---------------------------------------------------------------------------------- helpers
def _is_data(problem) -> bool:
    """Whether the problem is data-driven (trains network weights on minibatches)."""
    return hasattr(problem, "make_task")


def _family(problem) -> str:
    """The registry family of the problem (``"ZDT"``, ``"RE"``, ``"MTL"``…), or ``""``."""
    from hybridmoo import problems

    for entry in problems.registered():
        if entry.name == getattr(problem, "name", None):
            return entry.family
    return ""


def _budget_fields(budget: Budget, k: int) -> dict[str, Any]:
    if budget.kind == "steps":
        return {"steps": budget.count, "seconds": None}
    if budget.kind == "seconds":
        return {"steps": None, "seconds": budget.amount}
    return {"steps": max(1, budget.count // k), "seconds": None}


def to_result(trial: TrialResult, *, method: str, params: Mapping, k: int) -> BaselineResult:
    """Convert a :class:`~hybridmoo.train.TrialResult` into a :class:`BaselineResult`.

    Trace ``steps`` and ``seconds`` are the trainer's (training time only); ``evaluations`` are
    ``steps × k``.
    """
    tr = trial.trace
    steps = np.asarray(tr["step"], dtype=np.float64)
    trace = {
        "seconds": np.asarray(tr["seconds"], dtype=np.float64),
        "evaluations": steps * k,
        "steps": steps,
        "hv": np.asarray(tr["hv"], dtype=np.float64),
        "igd": np.asarray(tr["igd"], dtype=np.float64),
    }
    return BaselineResult(
        method=method, params=dict(params), problem=dict(trial.problem), seed=int(trial.seed),
        status=trial.status, error=trial.error,
        F=np.asarray(trial.F, dtype=np.float64),
        X=None if trial.X is None else np.asarray(trial.X, dtype=np.float64),
        prefs=np.asarray(trial.prefs, dtype=np.float64), trace=trace,
        budget_used={"seconds": float(trial.train_time), "evaluations": float(trial.steps * k),
                     "steps": float(trial.steps)},
        hv=float(trial.hv), ref_point=np.asarray(trial.ref_point, dtype=np.float64),
        extra={"hypernet": trial.hypernet, "train": trial.train, "n_params": trial.n_params,
               "n_target_params": trial.n_target_params, "wall_time": trial.wall_time,
               "device": trial.device, "igd": trial.igd},
    )


def _run(problem, budget: Budget, seed: int, *, method: str, hypernet: Mapping,
         config: Mapping, user_hypernet: Mapping | None, user_train: Mapping | None,
         n_eval: int, eval_every: int | None, ref_point, threads: int | None, device: str,
         dtype: str) -> BaselineResult:
    """Merge the method's configuration with the user's overrides, train, convert."""
    for what, d, cls in (("hypernet", user_hypernet, HypernetConfig),
                         ("train", user_train, TrainConfig)):
        if d is None:
            continue
        if not isinstance(d, Mapping):
            raise ConfigError(f"{what} must be a dict of {cls.__name__} fields, got {d!r}")
        allowed = {f.name for f in dataclasses.fields(cls)}
        bad = [key for key in d if key not in allowed]
        if bad:
            raise ConfigError(
                f"{what} has no field {bad[0]!r}; {cls.__name__} fields: "
                f"{', '.join(sorted(allowed))}"
            )
    hcfg = {**dict(hypernet), **dict(user_hypernet or {})}
    cfg = {**dict(config), **dict(user_train or {})}
    k = int(cfg.get("n_prefs", TrainConfig.n_prefs))
    cfg.update(_budget_fields(budget, k))
    cfg["n_eval"] = n_eval
    cfg["eval_every"] = eval_every if eval_every is not None else (
        max(1, cfg["steps"] // 20) if cfg["steps"] is not None else 100)
    if ref_point is not None:
        cfg["ref_point"] = tuple(float(v) for v in np.asarray(ref_point, float).reshape(-1))
    cfg.update(threads=threads, device=device, dtype=dtype)
    # validate both configurations up front: a bad value is a ConfigError, not a failed run
    hc = HypernetConfig.from_dict(hcfg)
    tc = TrainConfig.from_dict(cfg)
    trial = _train(problem, hypernet=hc, config=tc, seed=seed, keep_weights=False)
    params = {"hypernet": hc.to_dict(), "train": tc.to_dict(), "n_eval": n_eval,
              "eval_every": tc.eval_every, "ref_point": ref_point, "threads": threads,
              "device": device, "dtype": dtype}
    return to_result(trial, method=method, params=params, k=k)


_COMMON_DOC = "Parameters: n_eval, eval_every, ref_point, threads, device, dtype, hypernet, train."


# ---------------------------------------------------------------------------------- methods
@register("phn_ls", "psl", "Navon, Shamsian, Chechik & Fetaya, ICLR 2021")
def phn_ls(problem, budget: Budget, seed: int, *, n_eval: int = 100,
           eval_every: int | None = None, ref_point=None, threads: int | None = None,
           device: str = "cpu", dtype: str = "float32", hypernet: Mapping | None = None,
           train: Mapping | None = None) -> BaselineResult:
    """PHN-LS: a Pareto HyperNetwork trained with linear scalarisation, one ray per step.

    Settings and their sources:

    - rays Dirichlet(α = 0.2), one per step (K = 1): the paper's appendix, and COSMOS's
      reproduction of PHN (``ruchtem/cosmos`` ``settings.py``: ``hyperSolver_ln`` α = 0.2).
      The PHN code's own default draws λ_1 ~ U(0, 1) instead (``--alpha -1``).
    - loss Σ_i λ_i f_i (``phn/solvers.py``, ``LinearScalarizationSolver``).
    - Adam, lr 1e-4 on data-driven (MTL) problems, batch 256 (``experiments/multimnist/
      trainer.py`` defaults; COSMOS's ``hyperSolver_ln``). On synthetic problems the paper gives
      no setting; lr 1e-3 is our choice (reading: 1e-4 barely moves in short budgets).
    - hypernetwork: raw ray → 2 hidden ReLU layers of 100 units → one linear head per target
      tensor (PHN's ``ray_mlp`` has 3 linear layers of 100 units; its last, activation-free
      layer composes with the heads into one linear map, so ``embed_dim = 0, width = 100,
      depth = 2`` is the same function class). ``base = False``: PHN's heads generate the
      weights directly, without hybridmoo's learned offset.
    """
    lr = 1e-4 if _is_data(problem) else 1e-3
    return _run(problem, budget, seed, method="phn_ls",
                hypernet={"embed_dim": 0, "width": 100, "depth": 2, "base": False},
                config={"n_prefs": 1, "sampler": {"name": "dirichlet", "alpha": 0.2},
                        "scalarization": {"name": "linear"}, "optimizer": "adam", "lr": lr,
                        "batch_size": 256},
                user_hypernet=hypernet, user_train=train, n_eval=n_eval, eval_every=eval_every,
                ref_point=ref_point, threads=threads, device=device, dtype=dtype)


@register("phn_epo", "psl", "Navon, Shamsian, Chechik & Fetaya, ICLR 2021 (EPO: Mahapatra & "
          "Rajan, ICML 2020)")
def phn_epo(problem, budget: Budget, seed: int, *, n_eval: int = 100,
            eval_every: int | None = None, ref_point=None, threads: int | None = None,
            device: str = "cpu", dtype: str = "float32", hypernet: Mapping | None = None,
            train: Mapping | None = None) -> BaselineResult:
    """PHN-EPO: a Pareto HyperNetwork trained with EPO loss weights, one ray per step.

    As :func:`phn_ls` (Dirichlet α = 0.2, K = 1, Adam lr 1e-4 on MTL / 1e-3 on synthetic
    problems, batch 256, the same hypernetwork) with the loss Σ_i m·α_i f_i, α from EPO's LP
    (``phn/solvers.py``, ``EPOSolver``). Difference (reading): PHN's EPO takes the gradients
    with respect to all *hypernetwork* parameters; hybridmoo's trainer takes them with respect to
    the parameters the hypernetwork generated for the ray (cheaper, and the LP sees the same
    directions up to the hypernetwork's Jacobian).
    """
    lr = 1e-4 if _is_data(problem) else 1e-3
    return _run(problem, budget, seed, method="phn_epo",
                hypernet={"embed_dim": 0, "width": 100, "depth": 2, "base": False},
                config={"n_prefs": 1, "sampler": {"name": "dirichlet", "alpha": 0.2},
                        "scalarization": {"name": "epo"}, "optimizer": "adam", "lr": lr,
                        "batch_size": 256},
                user_hypernet=hypernet, user_train=train, n_eval=n_eval, eval_every=eval_every,
                ref_point=ref_point, threads=threads, device=device, dtype=dtype)


# COSMOS's cosine penalty per data set (ruchtem/cosmos, multi_objective/settings.py)
_COSMOS_WEIGHT = {"multi_mnist": 2.0, "multi_fashion": 2.0, "multi_fashion_mnist": 8.0,
                  "tabular_sparsity": 0.01}


@register("cosmos", "psl", "Ruchte & Grabocka, ICDM 2021")
def cosmos(problem, budget: Budget, seed: int, *, n_eval: int = 100,
           eval_every: int | None = None, ref_point=None, threads: int | None = None,
           device: str = "cpu", dtype: str = "float32", hypernet: Mapping | None = None,
           train: Mapping | None = None) -> BaselineResult:
    """COSMOS: linear scalarisation minus a cosine-similarity penalty, one preference per step.

    Settings (``ruchtem/cosmos``, ``multi_objective/settings.py`` and
    ``methods/cosmos/cosmos.py``): preferences Dirichlet(α = 1.2), one per batch (K = 1); loss
    Σ_i λ_i f_i − c·cos(f, λ) with c = 2 (Multi-MNIST, Multi-Fashion; 8 for
    Multi-Fashion+MNIST, 0.01 for the fairness tables, here ``tabular_sparsity``; 2 on synthetic
    problems, our choice); Adam lr 1e-3, batch 256 (the ``generic`` settings).

    Differences (reading): COSMOS conditions the *input* of a single network on the preference
    (it concatenates λ, up-sampled by transposed convolutions for images); here the preference
    conditions a hypernetwork (hybridmoo's default architecture), since the comparison is about
    the training method on a shared model family. COSMOS's multi-step learning-rate schedule
    (×0.1 at epochs 20, 40, 80, 90) is not applied (constant rate).
    """
    c = _COSMOS_WEIGHT.get(getattr(problem, "name", ""), 2.0)
    return _run(problem, budget, seed, method="cosmos", hypernet={},
                config={"n_prefs": 1, "sampler": {"name": "dirichlet", "alpha": 1.2},
                        "scalarization": {"name": "cosmos", "cos_weight": c},
                        "optimizer": "adam", "lr": 1e-3, "batch_size": 256},
                user_hypernet=hypernet, user_train=train, n_eval=n_eval, eval_every=eval_every,
                ref_point=ref_point, threads=threads, device=device, dtype=dtype)


@register("psl", "psl", "Lin, Yang, Zhang & Zhang, NeurIPS 2022")
def psl(problem, budget: Budget, seed: int, *, n_eval: int = 100,
        eval_every: int | None = None, ref_point=None, threads: int | None = None,
        device: str = "cpu", dtype: str = "float32", hypernet: Mapping | None = None,
        train: Mapping | None = None) -> BaselineResult:
    """PSL: a Pareto set model trained with the inverse Tchebycheff scalarisation, K = 10.

    Settings (``Xi-L/PSL-MOBO``, ``run.py`` and ``model.py``): 10 preferences per step
    (``n_pref_update``), Dirichlet(1) (uniform on the simplex); loss max_i (f_i − z_i)/λ_i;
    Adam lr 1e-3; model raw λ → 256 → 256 → n_var with ReLU and a sigmoid output scaled to the
    bounds (``embed_dim = 0, width = 256, depth = 2``); the paper's 1000 steps are the budget's
    business here.

    Differences (reading): PSL-MOBO learns on GP surrogate values with a lower-confidence bound;
    this baseline learns on the true objectives (the "PSL" of later papers, e.g. HV-PSL's
    ``mtche``). Its ideal point is min(Y) − 0.1 and its step uses a normalised, augmented
    Tchebycheff gradient (+0.01·Σ_i ∇f_i); here z is the problem's ideal point (or the running
    minimum of the losses) and the plain loss is differentiated.
    """
    return _run(problem, budget, seed, method="psl",
                hypernet={"embed_dim": 0, "width": 256, "depth": 2},
                config={"n_prefs": 10, "sampler": {"name": "uniform"},
                        "scalarization": {"name": "inverse_tchebycheff"}, "optimizer": "adam",
                        "lr": 1e-3},
                user_hypernet=hypernet, user_train=train, n_eval=n_eval, eval_every=eval_every,
                ref_point=ref_point, threads=threads, device=device, dtype=dtype)


# HV-PSL's SGD learning rates for hv1 per problem family (moo_data.py, hv1_sgd_lr_dict)
_HVPSL_LR = {"ZDT": 0.01, "VLMOP": 0.05, "RE": 0.1}


@register("hv_psl", "psl", "Zhang, Lin, Xue, Chen & Zhang, NeurIPS 2023")
def hv_psl(problem, budget: Budget, seed: int, *, n_eval: int = 100,
           eval_every: int | None = None, ref_point=None, threads: int | None = None,
           device: str = "cpu", dtype: str = "float32", hypernet: Mapping | None = None,
           train: Mapping | None = None) -> BaselineResult:
    """HV-PSL: maximise the hypervolume through the per-direction loss hv1, 256 directions/step.

    Settings (``xzhang2523/hvpsl``, ``psl_main.py``, ``model/psl_model.py``, ``moo_data.py``;
    ALGORITHMS.md §5): directions on the positive unit sphere (θ ~ U(0, π/2) for m = 2),
    clamped to [0.01, 0.99]; 256 directions per step; loss ``hv1`` with reference point
    nadir + 0.4 (the problem's nadir where known, else its HV reference point); model raw λ →
    3 hidden ReLU layers of 128 units (512 for the RE problems) → sigmoid to the bounds;
    gradient-norm clipping at 4.0; SGD with lr 0.01 (ZDT), 0.05 (VLMOP), 0.1 (RE); for the
    other families (DTLZ, PSL, MTL) 0.01, a reading. On data-driven problems the minibatch
    (256 examples) is split among the 256 directions, one example each (a reading: the paper's
    MTL runs do not state it).

    Difference: the official code uses plain SGD; hybridmoo's ``sgd`` has momentum 0.9 (not
    settable), so the learning rate is divided by 10 to keep the long-run step size lr/(1 − β)
    equal to the paper's.
    """
    fam = _family(problem)
    lr = round(_HVPSL_LR.get(fam, 0.01) * (1 - 0.9), 12)
    nadir = getattr(problem, "nadir", None)
    if nadir is not None:
        hv_ref = tuple(float(v) + 0.4 for v in nadir.tolist())
    else:
        hv_ref = None  # the trainer falls back to the HV reference point
    width = 512 if fam == "RE" else 128
    return _run(problem, budget, seed, method="hv_psl",
                hypernet={"embed_dim": 0, "width": width, "depth": 3},
                config={"n_prefs": 256, "sampler": {"name": "sphere", "clamp": [0.01, 0.99]},
                        "scalarization": {"name": "hv1"}, "optimizer": "sgd", "lr": lr,
                        "grad_clip": 4.0, "hv_ref": hv_ref},
                user_hypernet=hypernet, user_train=train, n_eval=n_eval, eval_every=eval_every,
                ref_point=ref_point, threads=threads, device=device, dtype=dtype)


@register("hybridmoo", "psl", "hybridmoo's default configuration (HypernetConfig(), TrainConfig())")
def hybridmoo_default(problem, budget: Budget, seed: int, *, n_eval: int = 100,
                      eval_every: int | None = None, ref_point=None, threads: int | None = None,
                      device: str = "cpu", dtype: str = "float32",
                      hypernet: Mapping | None = None,
                      train: Mapping | None = None) -> BaselineResult:
    """hybridmoo's inner loop with its defaults: K = 8, Dirichlet(1), Tchebycheff, Adam 1e-3.

    The untuned library configuration, as a user gets it from ``hybridmoo.train(problem)``;
    an outer-loop study searches over these settings instead.
    """
    return _run(problem, budget, seed, method="hybridmoo", hypernet={}, config={},
                user_hypernet=hypernet, user_train=train, n_eval=n_eval, eval_every=eval_every,
                ref_point=ref_point, threads=threads, device=device, dtype=dtype)


for _fn in (phn_ls, phn_epo, cosmos, psl, hv_psl, hybridmoo_default):
    _fn.__doc__ = f"{_fn.__doc__.rstrip()}\n\n    {_COMMON_DOC}\n"
