"""Training settings of the inner loop: :class:`TrainConfig` (re-exported by
:mod:`hybridmoo.train`, where it is documented for users)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hybridmoo import preferences, scalarize
from hybridmoo._config import check_choices, check_ranges, check_types, reject_unknown
from hybridmoo.errors import ConfigError, UnknownNameError, did_you_mean
from hybridmoo.finalfront import FRONTS
from hybridmoo.normalize import resolve_mode

__all__ = ["TrainConfig"]

_OPTIMIZERS = ("adam", "adamw", "sgd")
_SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one inner-loop training run.

    Budget: training stops at the first of ``steps``, ``epochs`` (data-driven problems) and
    ``seconds`` that is reached; at least one must be set.

    Defaults (``steps`` 2000, K = 8, Dirichlet(0.5), Tchebycheff on normalised objectives, Adam
    lr 3e-3 with a cosine schedule, gradient clipping at 0.1; with ``HypernetConfig``'s width
    256) were chosen by ``benchmarks/bench_defaults.py``: the best worst-case rank over a suite
    of 14 problems (results/defaults.md).

    Attributes:
        steps: gradient steps.
        epochs: passes over the training data (data-driven problems only).
        seconds: wall-clock seconds of training (evaluation time excluded).
        evaluations: true function evaluations (every point the problem evaluates: training,
            zero-order gradient samples and the evaluation fronts), for problems that count them
            (``problem.n_evals``: the black-box adapters and every decision-vector problem).
        n_prefs: preferences K drawn per step.
        batch_size: examples per step (data-driven problems).
        split_batch: split the minibatch among the K preferences (default) or give each the
            whole minibatch.
        batched: evaluate the K targets in one vectorised pass (``True``), a Python loop
            (``False``) or ``"auto"`` (default: the loop for convolutional targets on the CPU
            when each gets at least 16 examples, where it is faster, else the vectorised pass).
        lr: learning rate. optimizer: ``adam``, ``adamw`` or ``sgd``.
        momentum: momentum of ``sgd`` (default 0.9; 0 is plain SGD, as HV-PSL's code uses).
        weight_decay: L2 penalty (decoupled for ``adamw``).
        grad_clip: clip the gradient's global L2 norm to this value (``None``: no clipping).
        lr_schedule: ``constant`` or ``cosine``: annealed as ``lr · ½ (1 + cos(π p))`` with
            p the fraction of the budget spent (:meth:`Trainer.progress`: steps, or training
            seconds / epochs when those end the run first; a seconds budget makes the schedule
            depend on the machine's speed).
        lr_horizon: steps the cosine schedule spans (``None``: the budget). Set, the schedule is
            ``lr · ½ (1 + cos(π · min(step / lr_horizon, 1)))`` whatever the stopping budget, so
            a run continued to a larger budget (:mod:`hybridmoo.continuation`) takes its earlier
            steps with the same learning rates; a multi-fidelity study sets it to its
            ``max_budget``.
        sampler: preference sampler as a dict (see :mod:`hybridmoo.preferences`).
        scalarization: scalarisation as a dict (see :mod:`hybridmoo.scalarize`).
        eval_every: evaluate (HV trace point) every this many steps; the last step is always
            evaluated.
        n_eval: number of evaluation preferences (evenly spread rays / Das–Dennis lattice).
        checkpoint: ``"last"``: the result is the network after the last step; ``"best"``: at
            every evaluation the HV on the problem's *validation* split is also measured (trace
            key ``val_hv``) and the result (front, HV, kept weights) is the evaluation with the
            highest validation HV — early stopping without touching the evaluation split; needs
            a data problem with a validation split (the Multi-MNIST family,
            ``tabular_sparsity``, a ``from_model`` problem given ``val``). ``"auto"``
            (default): ``"best"`` where there is a validation split, else ``"last"``
            (:attr:`Trainer.checkpoint` is the one used).
        front: the result's front: ``"preferences"`` (the points at the ``n_eval`` evaluation
            preferences), ``"hv_subset"`` (the best ``n_eval`` of ``front_density × n_eval``
            queried points by HV; their evaluations and time count) or ``"auto"`` (default:
            ``hv_subset`` but on data problems): :mod:`hybridmoo.finalfront`.
        ref_point: reference point for HV; default the problem's.
        hv_ref: reference point passed to ``hv1`` (HV-PSL); default ``ref_point``.
        dtype: ``float32`` or ``float64``. device: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``.
        threads: torch intra-op threads for this run (``None``: leave torch's setting).
        es_samples, es_sigma: the zero-order gradient estimator of a black-box problem
            (:mod:`hybridmoo.problems.custom`): ES directions per solution (forward differences
            by default; antithetic pairs with ``es_mode``) and the step as a fraction of each
            variable's range; ``None`` keeps the problem's own (8, 0.01). With an
            ``evaluations`` budget a black box first spends 10 % of it on an NSGA-II start
            (counted; ``problem.configure_es(warm_start=...)``).
        normalize: what the scalarisation sees (:mod:`hybridmoo.normalize`): ``"auto"``
            (default; objectives mapped to [0, 1] by the problem's ideal/nadir where known, else
            by running estimates from the training losses), ``"known"`` (the problem's own only)
            or ``"none"`` (raw losses, as the published baselines use them). ``True`` / ``False``
            are accepted as ``"auto"`` / ``"none"``.
        evo_start: fraction of the budget (seconds, or ``evo_start·steps·n_prefs`` evaluations
            besides a steps budget) spent first on NSGA-II, whose non-dominated points the
            hypernetwork is fitted to before gradient training (:mod:`hybridmoo.evostart`; box-
            constrained problems with exact gradients only). 0 (default): no start.
        evo_lr: after an evolutionary start, the learning rate is ``evo_lr · lr`` (default 0.3).
        evo_rescue: a run without ``evo_start`` whose front is collapsed or stuck at its first
            evaluation past a quarter of the budget (:func:`hybridmoo.evostart.rescue_reason`:
            collapsed, at most 5 % of its points non-dominated, or none inside the reference
            box) starts over from an evolutionary start with 10 % of the budget (default
            ``True``; where ``evo_start`` applies: :mod:`hybridmoo.evostart`). It rescues
            fronts that gradients cannot spread (DTLZ4, ZDT6); a spread front never triggers
            it.
    """

    steps: int | None = 2000
    epochs: float | None = None
    seconds: float | None = None
    evaluations: int | None = None
    n_prefs: int = 8
    batch_size: int = 256
    split_batch: bool = True
    batched: bool | str = "auto"
    lr: float = 3e-3
    optimizer: str = "adam"
    momentum: float = 0.9
    weight_decay: float = 0.0
    grad_clip: float | None = 0.1
    lr_schedule: str = "cosine"
    lr_horizon: int | None = None
    sampler: Mapping[str, Any] = field(default_factory=lambda: {"name": "dirichlet", "alpha": 0.5})
    scalarization: Mapping[str, Any] = field(default_factory=lambda: {"name": "tchebycheff"})
    eval_every: int = 100
    n_eval: int = 100
    checkpoint: str = "auto"
    front: str = "auto"
    front_density: int = 10
    ref_point: tuple[float, ...] | None = None
    hv_ref: tuple[float, ...] | None = None
    dtype: str = "float32"
    device: str = "cpu"
    threads: int | None = None
    normalize: str = "auto"
    es_samples: int | None = None
    es_sigma: float | None = None
    evo_start: float = 0.0
    evo_lr: float = 0.3
    evo_rescue: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "normalize", resolve_mode(self.normalize))
        check_types("train", self)  # booleans, quoted numbers, nan/inf: refused
        if self.steps is None and self.epochs is None and self.seconds is None and \
                self.evaluations is None:
            raise ConfigError("train: no budget: set steps, epochs, seconds or evaluations")
        checks = [
            ("steps", self.steps is None or self.steps >= 1, "an integer ≥ 1 or unset"),
            ("epochs", self.epochs is None or self.epochs > 0, "a number > 0 or unset"),
            ("seconds", self.seconds is None or self.seconds > 0, "a number > 0 or unset"),
            ("evaluations", self.evaluations is None or self.evaluations >= 1,
             "an integer ≥ 1 or unset"),
            ("es_samples", self.es_samples is None or self.es_samples >= 1,
             "an integer ≥ 1 or unset"),
            ("es_sigma", self.es_sigma is None or 0 < self.es_sigma < 1,
             "a number in (0, 1) or unset"),
            ("evo_start", 0 <= self.evo_start < 1, "a number in [0, 1)"),
            ("evo_lr", 0 < self.evo_lr <= 1, "a number in (0, 1]"),
            ("n_prefs", self.n_prefs >= 1, "an integer ≥ 1"),
            ("batch_size", self.batch_size >= 1, "an integer ≥ 1"),
            ("lr", self.lr > 0 and math.isfinite(self.lr), "a finite number > 0"),
            ("momentum", 0 <= self.momentum < 1, "a number in [0, 1)"),
            ("weight_decay", self.weight_decay >= 0, "a number ≥ 0"),
            ("grad_clip", self.grad_clip is None or self.grad_clip > 0, "a number > 0 or unset"),
            ("eval_every", self.eval_every >= 1, "an integer ≥ 1"),
            ("lr_horizon", self.lr_horizon is None or self.lr_horizon >= 1,
             "an integer ≥ 1 or unset"),
            ("n_eval", self.n_eval >= 2, "an integer ≥ 2"),
            ("front_density", self.front_density >= 1, "an integer ≥ 1"),
            ("threads", self.threads is None or self.threads >= 1, "an integer ≥ 1 or unset"),
        ]
        check_ranges("train", self, checks)
        check_choices("train", [
            ("optimizer", self.optimizer, _OPTIMIZERS),
            ("lr_schedule", self.lr_schedule, _SCHEDULES),
            ("dtype", self.dtype, ("float32", "float64")),
            ("checkpoint", self.checkpoint, ("auto", "last", "best")),
            ("front", self.front, FRONTS),
        ])
        # build once to validate names and parameters early
        if "n_obj" in self.sampler:
            preferences.from_dict(dict(self.sampler))
        elif not isinstance(self.sampler, Mapping) or "name" not in self.sampler:
            raise ConfigError(f"train.sampler needs a 'name' key, got {self.sampler!r}")
        elif str(self.sampler["name"]).lower() not in preferences.names():
            name = str(self.sampler["name"])
            raise UnknownNameError(
                f"unknown preference sampler {name!r}.{did_you_mean(name, preferences.names())}"
                f" Registered samplers: {', '.join(preferences.names())}"
            )
        scalarize.from_dict(dict(self.scalarization))

    def to_dict(self) -> dict:
        """Plain dict of the settings."""
        d = dataclasses.asdict(self)
        d["sampler"] = dict(self.sampler)
        d["scalarization"] = dict(self.scalarization)
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> TrainConfig:
        """Build from a dict; unknown keys raise :class:`ConfigError` naming them."""
        reject_unknown(d, (f.name for f in dataclasses.fields(cls)), "train")
        d = dict(d)
        for key in ("ref_point", "hv_ref"):
            if d.get(key) is not None:
                d[key] = tuple(float(v) for v in d[key])
        return cls(**d)
