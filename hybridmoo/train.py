"""The inner loop: train one preference-conditioned hypernetwork and record its front.

:class:`Trainer` follows the lifecycle of Ray Tune's ``Trainable`` in plain Python (no Ray, no
HDF5 inside): build, :meth:`Trainer.step` repeatedly, :meth:`Trainer.evaluate` every
``eval_every`` steps, :meth:`Trainer.result`. :func:`train` runs the whole loop in one call.

Each step draws K preferences from the configured sampler, generates K parameter sets in one
batched pass of the hypernetwork, computes the `(K, m)` losses (for data-driven problems on a
minibatch split among the K preferences), scalarises them and takes one optimiser step on the
mean. Gradient-based scalarisations (``needs_grads``, e.g. EPO) additionally receive the
per-preference, per-objective gradients with respect to the *generated* parameters, obtained
with m backward passes; plain scalarisations pay nothing for this.

Normalisation (``TrainConfig.normalize``, :mod:`hybridmoo.normalize`): by default (``"auto"``)
the scalarisation sees the losses mapped by ``(f − ideal) / (nadir − ideal)``, with the problem's
own ideal / nadir where known, else running estimates from the training losses (detached), so
objectives on different scales get a meaningful preference. The ideal point of Tchebycheff-type
scalarisations is then 0. With ``"none"`` they see the raw losses and the ideal point is the
problem's known ideal, else the running minimum of the observed losses. HV, fronts and traces are
always in the problem's units.
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor

from hybridmoo import diagnostics, metrics, preferences, scalarize
from hybridmoo._trainconfig import TrainConfig
from hybridmoo.errors import ConfigError, UnknownNameError
from hybridmoo.evostart import applies as _evo_applies
from hybridmoo.finalfront import finish, query_cost, reserve_seconds, resolve
from hybridmoo.hypernet import HypernetConfig, Hypernetwork
from hybridmoo.normalize import ObjectiveNormalizer
from hybridmoo.record import TrialResult
from hybridmoo.tasks import VectorTask

__all__ = ["TrainConfig", "Trainer", "TrialResult", "train"]


def _resolve_device(name: str) -> torch.device:
    dev = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if name == "auto"
                       else name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"train.device = {name!r} but CUDA is not available on this machine; "
                          "use 'cpu' or 'auto'")
    return dev


def make_task(problem, config: TrainConfig, dtype: torch.dtype, device: torch.device):
    """The training task of ``problem`` (a synthetic :class:`Problem` or a data problem)."""
    if hasattr(problem, "make_task"):
        return problem.make_task(config, dtype=dtype, device=device)
    return VectorTask(problem, dtype=dtype, device=device)


class Trainer:
    """Trains one hypernetwork on one problem (see the module docstring).

    Args:
        problem: a registered problem name, or a problem object.
        hypernet: architecture (:class:`HypernetConfig` or dict).
        config: training settings (:class:`TrainConfig` or dict).
        seed: seeds the hypernetwork's initialisation, the preference draws and the minibatch
            order (the caller's global RNG state is left untouched).
        problem_options: options for a problem given by name.
        init_state: start from these hypernetwork weights (a ``state_dict``, e.g. the
            ``TrialResult.state_dict`` of an earlier run with the same architecture) instead of
            the seeded initialisation: the outer loop's warm start.
        resume_state: continue exactly where a run saved by :meth:`save_state` stopped (same
            problem, architecture, seed and settings; only the budget may be larger): see
            :mod:`hybridmoo.continuation`.
        lr_restart: with ``resume_state`` under a larger budget and a cosine schedule without
            ``lr_horizon``: continue with the schedule the new budget gives (the learning rate
            rises to where the larger budget puts the steps taken: a warm restart) instead of
            refusing.
        inherit_state: take over another run saved by :meth:`save_state` with these (other)
            settings: population-based training's exploit step
            (:func:`hybridmoo.continuation.inherit_state`; what transferred is in
            :attr:`inherited`).

    Raises:
        ConfigError: if ``init_state`` does not fit the architecture (names or shapes differ).
    """

    def __init__(self, problem, hypernet: HypernetConfig | Mapping | None = None,
                 config: TrainConfig | Mapping | None = None, *, seed: int = 0,
                 problem_options: Mapping | None = None,
                 init_state: Mapping[str, Any] | None = None,
                 resume_state: bytes | None = None,
                 inherit_state: bytes | None = None, lr_restart: bool = False) -> None:
        from hybridmoo import problems as registry

        given = [n for n, v in (("init_state", init_state), ("resume_state", resume_state),
                                ("inherit_state", inherit_state)) if v is not None]
        if len(given) > 1:
            raise ConfigError(f"Trainer takes one starting state, got {' and '.join(given)}")
        t0 = time.perf_counter()
        if isinstance(problem, str):
            problem = registry.get(problem, **dict(problem_options or {}))
        self.problem = problem
        self.hcfg = hypernet if isinstance(hypernet, HypernetConfig) else \
            HypernetConfig.from_dict(hypernet or {})
        self.cfg = config if isinstance(config, TrainConfig) else \
            TrainConfig.from_dict(config or {})
        self.seed = int(seed)
        self.device = _resolve_device(self.cfg.device)
        self.dtype = torch.float64 if self.cfg.dtype == "float64" else torch.float32
        if self.cfg.threads is not None:
            torch.set_num_threads(self.cfg.threads)
        m = problem.n_obj
        self.n_obj = m
        if self.hcfg.budget:
            raise ConfigError(
                "hypernet.budget = true needs a problem with a resource budget (DYMU-style "
                "control); the synthetic and data problems have none: set budget = false"
            )
        self.sampler = preferences.from_dict({**dict(self.cfg.sampler), "n_obj": m})
        self.scal = scalarize.from_dict(dict(self.cfg.scalarization))
        self.gen = torch.Generator().manual_seed(self.seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)  # the target template and the hypernetwork
            self.task = make_task(problem, self.cfg, self.dtype, self.device)
            self.net = Hypernetwork(m, self.task.target, self.hcfg).to(self.device, self.dtype)
        if init_state is not None:
            self._load_state(init_state)
        self.opt = self._make_optimizer()
        self._cosine = self.cfg.lr_schedule == "cosine"
        ref = self.cfg.ref_point if self.cfg.ref_point is not None else (
            None if problem.ref_point is None else problem.ref_point.tolist())
        if ref is None:
            raise ConfigError(
                f"problem {problem.name!r} has no default reference point: set train.ref_point"
            )
        if len(ref) != m:
            raise ConfigError(f"train.ref_point has length {len(ref)}, the problem has {m} "
                              "objectives")
        self.ref_point = np.asarray(ref, dtype=np.float64)
        hv_ref = self.cfg.hv_ref if self.cfg.hv_ref is not None else ref
        self._hv_ref = torch.tensor(hv_ref, dtype=self.dtype, device=self.device)
        self.normalizer = ObjectiveNormalizer.for_problem(problem, self.cfg.normalize,
                                                         dtype=self.dtype, device=self.device)
        kind = "simplex" if self.sampler.on_simplex else "sphere"
        self.eval_prefs = preferences.eval_preferences(m, self.cfg.n_eval, kind=kind,
                                                       dtype=self.dtype, device=self.device)
        # IGD reference: about 10 points per evaluation preference, capped (IGD costs n × N)
        pf = problem.pareto_front(min(max(self.cfg.n_eval * 10, 1000), 5000)) \
            if hasattr(problem, "pareto_front") else None
        self.reference_front = pf
        self.step_count = 0
        self.samples = 0
        if hasattr(problem, "configure_es"):  # a black box: zero-order gradients
            problem.configure_es(es_samples=self.cfg.es_samples, es_sigma=self.cfg.es_sigma)
            problem.reseed(self.seed)
        self._counts_evals = isinstance(getattr(problem, "n_evals", None), int)
        if self.cfg.evaluations is not None and not self._counts_evals:
            raise ConfigError(
                f"train.evaluations = {self.cfg.evaluations}: problem {problem.name!r} does not "
                "count function evaluations (a data-driven problem's objectives are losses over "
                "minibatches); use steps, epochs or seconds")
        self._evals0 = problem.n_evals if self._counts_evals else 0
        self.front = resolve(self.cfg, problem, self.task)  # "auto" made concrete
        self.eval_seconds = math.inf  # the fastest evaluation pass (reserve_seconds's unit)
        cost = query_cost(self.front, self.cfg)
        if self._counts_evals and (self.cfg.evaluations or math.inf) <= cost:
            raise ConfigError(
                f"train.evaluations = {self.cfg.evaluations} leaves nothing to train on: "
                f"front = 'hv_subset' queries {cost} points at the end; raise "
                "the budget or lower front_density")
        if hasattr(problem, "prepare_training") and not given:
            problem.prepare_training(self)  # a black box's hybrid start (its evaluations count)
        self.train_time = 0.0
        self.last_loss = float("nan")
        self._trace: dict[str, list[float]] = {k: [] for k in
                                               ("steps", "seconds", "samples", "evaluations", "hv",
                                                "igd", "loss")}
        has_val = getattr(self.task, "has_selection", False)
        self.checkpoint = ("best" if has_val else "last") if self.cfg.checkpoint == "auto" \
            else self.cfg.checkpoint
        if self.checkpoint == "best":
            if not has_val:
                raise ConfigError(
                    f"train.checkpoint = 'best' chooses the evaluation with the best validation "
                    f"HV, but {problem.name!r} has no validation split; use checkpoint = "
                    "'last' (or a problem with one: the Multi-MNIST family, tabular_sparsity)")
            self._trace["val_hv"] = []
        self._best: tuple[float, dict, dict] | None = None  # (val HV, evaluation, weights)
        self._t_start = t0
        self.resumed = False
        self.inherited: dict[str, Any] | None = None
        self.evo_info: dict | None = None  # the evolutionary start's record (hybridmoo.evostart)
        # the rescue's check is still to come (a continued run takes its saved flag)
        self._rescue_pending = bool(self.cfg.evo_rescue and self.cfg.evo_start == 0 and
                                    "init_state" not in given and _evo_applies(problem, self.cfg))
        if resume_state is not None:
            from hybridmoo.continuation import load_state

            load_state(self, resume_state, restart=lr_restart)
        if inherit_state is not None:
            from hybridmoo.continuation import inherit_state as inherit

            self.inherited = inherit(self, inherit_state)
        if self.cfg.evo_start > 0 and not given:
            from hybridmoo.evostart import evo_start

            self.evo_info = evo_start(self)
            self.train_time += self.evo_info["seconds"]
        self._setup_time = time.perf_counter() - t0

    def save_state(self) -> bytes:
        """The whole training state as bytes, for :class:`Trainer` ``(resume_state=...)``."""
        from hybridmoo.continuation import save_state

        return save_state(self)

    # ------------------------------------------------------------------ pieces
    def _load_state(self, state: Mapping[str, Any]) -> None:
        """Copy ``state`` (tensors or arrays) into the hypernetwork, checking names and shapes."""
        own = self.net.state_dict()
        missing = sorted(set(own) - set(state))
        extra = sorted(set(state) - set(own))
        wrong = [k for k in own if k in state and tuple(np.shape(state[k])) != tuple(own[k].shape)]
        if missing or extra or wrong:
            what = (f"missing {missing[:3]}" if missing else f"unexpected {extra[:3]}" if extra
                    else f"{wrong[0]} has shape {tuple(np.shape(state[wrong[0]]))}, the "
                         f"architecture needs {tuple(own[wrong[0]].shape)}")
            raise ConfigError(
                f"init_state does not fit this hypernetwork ({what}): warm starts need the same "
                "architecture (hypernet settings other than activation and out_scale)"
            )
        self.net.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in state.items()})

    def _make_optimizer(self) -> torch.optim.Optimizer:
        params = self.net.parameters()
        c = self.cfg
        if c.optimizer == "adam":
            return torch.optim.Adam(params, lr=c.lr, weight_decay=c.weight_decay)
        if c.optimizer == "adamw":
            return torch.optim.AdamW(params, lr=c.lr, weight_decay=c.weight_decay)
        return torch.optim.SGD(params, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay)

    @property
    def evaluations(self) -> int:
        """True function evaluations of this run so far (0 where the problem does not count)."""
        return self.problem.n_evals - self._evals0 if self._counts_evals else 0

    def progress(self) -> float:
        """Fraction of the budget spent, in [0, 1]: the largest of steps / ``steps``, training
        seconds / ``seconds``, evaluations / ``evaluations`` and epochs / ``epochs`` over the
        budgets that are set, seconds and evaluations counting an hv_subset front's expected
        cost (:mod:`hybridmoo.finalfront`) as spent."""
        c = self.cfg
        p = 0.0
        if c.steps is not None:
            p = max(p, self.step_count / c.steps)
        if c.seconds is not None:
            p = max(p, (self.train_time + reserve_seconds(self)) / c.seconds)
        if c.evaluations is not None:
            p = max(p, (self.evaluations + query_cost(self.front, c)) / c.evaluations)
        epochs = getattr(self.task, "epochs_done", None)
        if c.epochs is not None and epochs is not None:
            p = max(p, float(epochs) / c.epochs)
        return min(p, 1.0)

    def _anneal(self) -> None:
        """Cosine schedule: lr = lr₀ · ½ (1 + cos(π · p)), p the progress or, with
        ``lr_horizon``, min(step / lr_horizon, 1)."""
        h = self.cfg.lr_horizon
        p = self.progress() if h is None else min(self.step_count / h, 1.0)
        lr = 0.5 * self.cfg.lr * (1.0 + math.cos(math.pi * p))
        lr *= self.cfg.evo_lr if self.cfg.evo_start > 0 or self.evo_info is not None else 1.0
        for g in self.opt.param_groups:
            g["lr"] = lr

    def generate(self, prefs: Tensor, budget: Tensor | None = None) -> dict[str, Tensor]:
        """Generated parameters for preferences `(K, m)` (see :class:`Hypernetwork`)."""
        return self.net(prefs.to(self.device, self.dtype), budget)

    # ------------------------------------------------------------------ lifecycle
    def step(self) -> float:
        """One optimisation step on K fresh preferences; returns the scalarised loss.

        Raises:
            FloatingPointError: if the loss is NaN or infinite (the caller records a failure).
        """
        t0 = time.perf_counter()
        K = self.cfg.n_prefs
        prefs = self.sampler.sample(K, self.gen, dtype=self.dtype, device=self.device)
        params = self.net(prefs)
        raw = self.task.train_losses(params, self.gen)
        norm = self.normalizer
        if norm.needs_updates:
            norm.update(raw)
        losses = norm.transform(raw)
        if hasattr(self.sampler, "observe"):  # adaptive samplers (EPS) learn from the losses
            self.sampler.observe(prefs, losses)
        ideal = norm.scalarization_ideal()
        if getattr(self.scal, "needs_grads", False):
            grads = self._per_objective_grads(losses, params)
            value = self.scal(losses, prefs, grads=grads, ideal=ideal)
        else:
            ref = norm.transform(self._hv_ref) if getattr(self.scal, "needs_ref", False) \
                else None
            value = self.scal(losses, prefs, ideal=ideal, ref=ref)
        loss = value.mean()
        if not torch.isfinite(loss):
            bad = raw.detach().cpu().numpy()
            raise FloatingPointError(
                f"non-finite loss at step {self.step_count + 1}: scalarised loss {loss.item()}, "
                f"objective values {np.array2string(bad, precision=4, threshold=20)}. Try a "
                "smaller learning rate, gradient clipping (train.grad_clip) or another "
                "scalarization."
            )
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.cfg.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.cfg.grad_clip)
        self.opt.step()
        self.step_count += 1
        self.samples += self.task.samples_per_step
        self.last_loss = float(loss.detach())
        self.train_time += time.perf_counter() - t0
        if self._cosine:
            self._anneal()
        return self.last_loss

    def _per_objective_grads(self, losses: Tensor, params: dict[str, Tensor]) -> Tensor:
        """`(K, m, d)` gradients of each objective w.r.t. its own preference's generated params.

        Row k of the generated parameters only affects row k of the losses, so the gradient of
        ``losses[:, i].sum()`` holds all K per-preference gradients of objective i: m backward
        passes in all, whatever K."""
        tensors = list(params.values())
        rows = []
        for i in range(losses.shape[1]):
            g = torch.autograd.grad(losses[:, i].sum(), tensors, retain_graph=True,
                                    allow_unused=True)
            g = [torch.zeros_like(t) if gi is None else gi for gi, t in zip(g, tensors,
                                                                            strict=True)]
            rows.append(torch.cat([gi.reshape(gi.shape[0], -1) for gi in g], dim=1))
        return torch.stack(rows, dim=1).detach()

    @torch.no_grad()
    def evaluate(self) -> dict[str, Any]:
        """Evaluate the current hypernetwork on the evaluation preferences.

        Returns:
            ``prefs`` `(n, m)`, ``F`` `(n, m)`, ``X`` `(n, n_var)` or None, ``hv``, ``igd``.
        """
        t0 = time.perf_counter()
        params = self.net(self.eval_prefs)
        Fn = self.task.eval_losses(params).detach().to(torch.float64).cpu().numpy()
        X = self.task.decision_vectors(params)
        self.eval_seconds = min(self.eval_seconds, time.perf_counter() - t0)
        hv = float("nan") if np.isnan(Fn).any() else metrics.hypervolume(Fn, self.ref_point)
        igd = metrics.igd(Fn, self.reference_front) if self.reference_front is not None \
            and math.isfinite(hv) else float("nan")
        out = {"prefs": self.eval_prefs.detach().to(torch.float64).cpu().numpy(), "F": Fn,
               "X": None if X is None else X.detach().to(torch.float64).cpu().numpy(),
               "hv": hv, "igd": igd}
        if hasattr(self.task, "eval_extra"):
            out["extra"] = self.task.eval_extra(params)
        return out

    def record(self) -> dict[str, Any]:
        """Evaluate and append a point to the HV trace; returns the evaluation.

        With ``checkpoint = "best"`` also the validation HV (``ev["val_hv"]``); the evaluation
        and weights with the highest one so far are kept for the result."""
        ev = self.evaluate()
        self._trace_point(ev)
        if self.checkpoint == "best":
            with torch.no_grad():
                Fv = self.task.select_losses(self.net(self.eval_prefs))
            Fv = Fv.detach().to(torch.float64).cpu().numpy()
            val = float("nan") if np.isnan(Fv).any() else \
                metrics.hypervolume(Fv, self.ref_point)
            ev["val_hv"] = val
            self._trace["val_hv"].append(val)
            if math.isfinite(val) and (self._best is None or val > self._best[0]):
                state = {k: v.detach().clone() for k, v in self.net.state_dict().items()}
                self._best = (val, {**ev, "step": self.step_count}, state)
        return ev

    def _trace_point(self, ev: dict, replace: bool = False) -> None:
        for k, v in (("steps", self.step_count), ("seconds", self.train_time),
                     ("samples", self.samples), ("evaluations", self.evaluations),
                     ("hv", ev["hv"]), ("igd", ev["igd"]), ("loss", self.last_loss)):
            if replace:
                self._trace[k][-1] = float(v)
            else:
                self._trace[k].append(float(v))

    def done(self) -> bool:
        """Whether the budget is spent (:meth:`progress` reached 1)."""
        return self.progress() >= 1.0

    def run(self, callback: Callable[[dict], None] | None = None,
            keep_weights: bool = True) -> TrialResult:
        """Train until the budget is spent; never raises on a failing run.

        Args:
            callback: called after each evaluation with ``{"step", "hv", "igd", "seconds"}``.
            keep_weights: store the hypernetwork's weights in the result.

        Returns:
            A :class:`TrialResult`, ``status == "failed"`` with the reason if the loss became
            non-finite or training raised.
        """
        error = ""
        ev = None
        try:
            if not (self.resumed and self._trace["steps"]):  # a continuation has its point
                ev = self.record()
            while not self.done():
                self.step()
                if self.step_count % self.cfg.eval_every == 0 or self.done():
                    ev = self.record()
                    if self._rescue_pending and not self.done():
                        self._rescue_check(ev)
                    if callback is not None:
                        callback({"step": self.step_count, "hv": ev["hv"], "igd": ev["igd"],
                                  "seconds": self.train_time})
            if ev is None:  # continued with no step left to take
                ev = self.evaluate()
        except FloatingPointError as exc:
            error = str(exc)
        except (RuntimeError, ValueError) as exc:
            error = f"{type(exc).__name__} during training at step {self.step_count}: {exc}"
        if not error and self._best is not None:  # checkpoint = "best"
            val, ev, state = self._best
            self.net.load_state_dict(state)
            ev = dict(ev)
            ev["extra"] = {**ev.get("extra", {}), "checkpoint_step": ev.pop("step"),
                           "val_hv": val}
        if not error and ev is not None:
            ev = finish(self, ev)  # the hv_subset front, where the run's front is one
        if not error and ev is not None and not math.isfinite(ev["hv"]):
            error = "the final front contains NaN objective values"
        return self._result(ev, error, keep_weights)

    def _rescue_check(self, ev: dict) -> None:
        """``train.evo_rescue``: at the first evaluation past a quarter of the budget (of
        ``lr_horizon`` steps where set, so that a continued run checks where one long run
        would), an evolutionary start where the front is collapsed or stuck
        (:func:`hybridmoo.evostart.rescue`)."""
        from hybridmoo import evostart

        h = self.cfg.lr_horizon
        done = self.progress() if h is None else self.step_count / h
        if done < evostart.RESCUE_AT or self.step_count < evostart.RESCUE_MIN_STEPS:
            return
        self._rescue_pending = False
        info = evostart.rescue(self, ev)
        if info is not None:
            self.evo_info = info
            self.train_time += info["seconds"]

    def _result(self, ev: dict | None, error: str, keep_weights: bool) -> TrialResult:
        m = self.n_obj
        empty = np.zeros((0, m))
        trace = {k: np.asarray(v, dtype=np.float64) for k, v in self._trace.items()}
        state = None
        if keep_weights:
            state = {k: v.detach().cpu().numpy().copy() for k, v in self.net.state_dict().items()}
        extra = dict((ev or {}).get("extra", {}))
        if ev and not error:
            report = diagnostics.collapse_report(
                ev["F"], train=self.cfg.to_dict(), ideal=getattr(self.problem, "ideal", None),
                nadir=self.normalizer.nadir_known(), ref_point=self.ref_point)
            if report is not None:
                extra["collapse"] = report
        if ev and ev.get("X") is not None and hasattr(self.problem, "violation"):
            viol = self.problem.violation(ev["X"])  # constrained black box: report infeasible
            extra["infeasible"] = int((viol > 0).sum())
        if self.normalizer.active:  # what the scalarisation saw: (f - ideal) / (nadir - ideal)
            norm = self.normalizer
            extra["normalize"] = {"ideal": norm.ideal().tolist(), "nadir": norm.nadir().tolist(),
                                  "state": norm.state_dict()}
        extra["hypernet_built"] = {"head": self.net.head, "bounds": self.net.bounds}  # "auto"s
        if self.evo_info is not None:
            extra["evo_start"] = self.evo_info
        return TrialResult(
            status="failed" if error else "ok",
            error=error,
            problem=self.problem.describe(),
            hypernet=self.hcfg.to_dict(),
            train=self.cfg.to_dict(),
            seed=self.seed,
            prefs=ev["prefs"] if ev else empty,
            F=ev["F"] if ev else empty,
            X=ev["X"] if ev else None,
            trace=trace,
            ref_point=self.ref_point,
            hv=float(ev["hv"]) if ev and not error else float("nan"),
            igd=float(ev["igd"]) if ev and not error else float("nan"),
            n_params=self.net.n_params,
            n_target_params=self.net.n_target_params,
            wall_time=time.perf_counter() - self._t_start,
            train_time=self.train_time,
            steps=self.step_count,
            device=str(self.device),
            state_dict=state,
            extra=extra,
        )


def train(problem, *, hypernet: HypernetConfig | Mapping | None = None,
          config: TrainConfig | Mapping | None = None, seed: int = 0,
          problem_options: Mapping | None = None, callback=None, keep_weights: bool = True,
          **overrides: Any) -> TrialResult:
    """Train a hypernetwork on ``problem`` in one call and return its :class:`TrialResult`.

    Args:
        problem: a registered name (``"zdt1"``) or a problem object.
        hypernet: architecture (dict or :class:`HypernetConfig`); defaults otherwise.
        config: training settings (dict or :class:`TrainConfig`).
        seed: random seed (same seed → same trace on the CPU).
        problem_options: options when ``problem`` is a name (e.g. ``{"n_var": 30}``).
        callback: called after each evaluation.
        keep_weights: keep the hypernetwork's weights in the result.
        **overrides: individual :class:`TrainConfig` fields, e.g. ``steps=500``.

    A collapsed front (see :mod:`hybridmoo.diagnostics`) issues a
    :class:`~hybridmoo.diagnostics.CollapseWarning` and is recorded in ``result.warnings``.

    >>> r = train("zdt1", problem_options={"n_var": 5}, steps=50, seed=0)
    >>> r.ok and r.F.shape == (100, 2)
    True
    """
    if overrides:
        base = config.to_dict() if isinstance(config, TrainConfig) else dict(config or {})
        unknown = [k for k in overrides if k not in {f.name for f in
                                                      dataclasses.fields(TrainConfig)}]
        if unknown:
            raise UnknownNameError(
                f"train() got an unknown option {unknown[0]!r}; TrainConfig fields: "
                f"{', '.join(f.name for f in dataclasses.fields(TrainConfig))}"
            )
        config = {**base, **overrides}
    threads = torch.get_num_threads()
    try:
        trainer = Trainer(problem, hypernet, config, seed=seed, problem_options=problem_options)
        result = trainer.run(callback=callback, keep_weights=keep_weights)
        for text in result.warnings:
            warnings.warn(text, diagnostics.CollapseWarning, stacklevel=2)
        return result
    finally:
        torch.set_num_threads(threads)  # train.threads applies to this run only
