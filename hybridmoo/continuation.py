"""Exact continuation of a :class:`~hybridmoo.train.Trainer`: save its whole state, resume later.

:func:`save_state` packs everything the next step depends on into one ``bytes`` object (it
pickles through Ray and goes into the study file as a ``uint8`` array):

- the hypernetwork's weights and the optimiser's state (Adam moments, step counts, the current
  learning rate of each parameter group);
- the step, sample and evaluation counters, the training seconds used and the last loss;
- the normaliser's running estimates, the sampler's state (where it has one), the preference /
  minibatch generator's state, the data task's epoch order and position, a black-box problem's
  zero-order-estimator generator;
- the HV trace so far and the ``checkpoint = "best"`` candidate;
- the training settings, so that a resume with different settings is refused.

:func:`load_state` restores it into a freshly built trainer of the same problem, architecture
and settings, where only the budget (``steps``, ``seconds``, ``epochs``, ``evaluations``) may be
larger. Training N steps, saving, and continuing to N + M gives the same weights as N + M steps
in one run (on the CPU: tests/test_continuation.py).

The learning-rate schedule: a cosine schedule anneals over the fraction of the budget spent, so
continuing with a larger budget would change the learning rate of the steps already taken. With
``train.lr_horizon`` set, the schedule is defined against that many steps instead of the
stopping budget: ``lr = lr₀ · ½ (1 + cos(π · min(step / lr_horizon, 1)))``. A multi-fidelity
study sets it to the schedule's ``max_budget``, so a trial stopped at a low rung has taken
exactly the first steps of the run it would have done at the maximum budget. Resuming a cosine
schedule without ``lr_horizon`` under a changed budget raises :class:`ConfigError`.

**Inheritance** (population-based training, :func:`inherit_state`): a trainer with *other*
settings takes over a saved run. It continues the run's step, sample and evaluation counters,
trace and generators, so its record reads as one run whose settings changed at that step. The
weights transfer parameter by parameter where names and shapes match (all of them when the
architecture is the same; the rest keep their fresh initialisation otherwise), the optimiser's
state (Adam moments) only when every parameter transferred and the optimiser is the same, with
the learning rate, weight decay and momentum of the new settings.
"""

from __future__ import annotations

import io
from typing import Any

import torch

from hybridmoo.errors import ConfigError

__all__ = ["BUDGET_KEYS", "inherit_state", "load_state", "save_state"]

#: Settings that may differ between a saved trainer and the one resuming it.
BUDGET_KEYS = ("steps", "seconds", "epochs", "evaluations")
_FORMAT = 1
_TASK_KEYS = ("_perm", "_pos", "_seen")  # a data task's epoch order and position
#: settings newer than some saved states: one missing from a state takes the current value
_NEWER = ("evo_rescue",)


def save_state(trainer: Any) -> bytes:
    """A :class:`~hybridmoo.train.Trainer`'s whole state as bytes (see the module docstring;
    the trainer is not type-annotated: train imports this module, not the reverse)."""
    t = trainer
    state: dict[str, Any] = {
        "format": _FORMAT,
        "train": t.cfg.to_dict(),
        "hypernet": t.hcfg.to_dict(),
        "seed": t.seed,
        "net": {k: v.detach().cpu().clone() for k, v in t.net.state_dict().items()},
        "opt": t.opt.state_dict(),
        "gen": t.gen.get_state(),
        "counters": {"step_count": t.step_count, "samples": t.samples,
                     "evaluations": t.evaluations, "train_time": t.train_time,
                     "last_loss": t.last_loss},
        "normalizer": t.normalizer.state_dict(),
        "trace": {k: list(v) for k, v in t._trace.items()},
        "best": t._best,
        "task": {k: getattr(t.task, k) for k in _TASK_KEYS if hasattr(t.task, k)},
        "evo": {"info": t.evo_info, "rescue_pending": t._rescue_pending},
    }
    if hasattr(t.sampler, "state_dict"):
        state["sampler"] = t.sampler.state_dict()
    rng = getattr(t.problem, "_rng", None)
    if rng is not None and hasattr(rng, "bit_generator"):
        state["problem_rng"] = rng.bit_generator.state
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()


def _check_same(saved: dict, now: dict, what: str) -> None:
    diff = sorted(k for k in set(saved) | set(now) if saved.get(k) != now.get(k))
    if diff:
        k = diff[0]
        raise ConfigError(
            f"cannot resume training: {what}.{k} was {saved.get(k)!r} in the saved state but is "
            f"{now.get(k)!r} now; a continuation may change only the budget "
            f"({', '.join(BUDGET_KEYS)})"
        )


def _unpack(blob: bytes) -> dict:
    try:
        state = torch.load(io.BytesIO(bytes(blob)), map_location="cpu", weights_only=False)
    except Exception as exc:
        raise ConfigError(f"cannot resume training: the saved state does not load ({exc})") \
            from None
    if not isinstance(state, dict) or state.get("format") != _FORMAT:
        raise ConfigError("cannot resume training: not a saved trainer state (format "
                          f"{state.get('format') if isinstance(state, dict) else None!r}, "
                          f"expected {_FORMAT})")
    return state


def _restore_run(t: Any, state: dict) -> None:
    """The counters, trace, generators and data position of ``state`` into trainer ``t``."""
    t.gen.set_state(state["gen"])
    c = state["counters"]
    t.step_count = int(c["step_count"])
    t.samples = int(c["samples"])
    t.train_time = float(c["train_time"])
    t.last_loss = float(c["last_loss"])
    if t._counts_evals:
        t._evals0 = t.problem.n_evals - int(c["evaluations"])
    t._trace = {k: list(v) for k, v in state["trace"].items()}
    evo = state.get("evo", {})  # (absent from states saved before train.evo_rescue)
    t.evo_info = evo.get("info", t.evo_info)
    t._rescue_pending = bool(t._rescue_pending and evo.get("rescue_pending", False))
    for k, v in state["task"].items():
        setattr(t.task, k, v)
    rng = getattr(t.problem, "_rng", None)
    if "problem_rng" in state and rng is not None:
        rng.bit_generator.state = state["problem_rng"]


def inherit_state(trainer: Any, blob: bytes) -> dict[str, Any]:
    """Continue :func:`save_state`'s ``blob`` (another trial's run) in ``trainer``, whose
    settings and architecture may differ (see the module docstring).

    Returns:
        What transferred: ``{"step": the step taken over, "parameters": [matched, total],
        "optimizer": bool, "normalizer": bool, "sampler": bool}``.

    Raises:
        ConfigError: the blob is not a saved trainer state, or none of its parameters fits.
    """
    t = trainer
    state = _unpack(blob)
    own = t.net.state_dict()
    saved = state["net"]
    match = {k: v for k, v in saved.items() if k in own and tuple(v.shape) == tuple(own[k].shape)}
    if not match:
        raise ConfigError("cannot inherit the saved run: none of its hypernetwork parameters has "
                          "the name and shape of one of this architecture's")
    t.net.load_state_dict({**own, **{k: v.to(t.device) for k, v in match.items()}})
    same_arch = len(match) == len(own) == len(saved)
    saved_train = state["train"]
    now = t.cfg.to_dict()
    same_opt = same_arch and saved_train.get("optimizer") == now.get("optimizer")
    if same_opt:
        t.opt.load_state_dict(state["opt"])
        for g in t.opt.param_groups:  # the new settings' hyper-parameters, not the donor's
            g["lr"] = t.cfg.lr
            g["weight_decay"] = t.cfg.weight_decay
            if "momentum" in g:
                g["momentum"] = t.cfg.momentum
    _restore_run(t, state)
    if t._cosine:
        t._anneal()  # the new lr at the step taken over
    else:
        for g in t.opt.param_groups:
            g["lr"] = t.cfg.lr
    same_norm = saved_train.get("normalize") == now.get("normalize")
    if same_norm:
        t.normalizer.load_state_dict(state["normalizer"])
    same_sampler = "sampler" in state and hasattr(t.sampler, "load_state_dict") and \
        saved_train.get("sampler") == now.get("sampler")
    if same_sampler:
        t.sampler.load_state_dict(state["sampler"])
    # the donor's checkpoint = "best" candidate holds its own weights: kept when they fit
    t._best = state["best"] if same_arch and t.checkpoint == "best" else None
    t.resumed = True
    return {"step": t.step_count, "parameters": [len(match), len(own)], "optimizer": same_opt,
            "normalizer": same_norm, "sampler": bool(same_sampler)}


def load_state(trainer: Any, blob: bytes, *, restart: bool = False) -> None:
    """Restore :func:`save_state`'s ``blob`` into ``trainer`` (built with the same problem,
    architecture, seed and settings; only the budget may differ).

    ``restart``: a cosine schedule without ``lr_horizon`` may continue under a changed budget,
    annealing over the new one from the fraction of it already spent (a warm restart).

    Raises:
        ConfigError: the settings differ, or a cosine schedule without ``lr_horizon`` would
            change under a changed budget (and not ``restart``).
    """
    t = trainer
    state = _unpack(blob)
    now = t.cfg.to_dict()
    saved = {**{k: v for k, v in now.items() if k in _NEWER}, **dict(state["train"])}
    budget_changed = any(saved.get(k) != now.get(k) for k in BUDGET_KEYS)
    _check_same({k: v for k, v in saved.items() if k not in BUDGET_KEYS},
                {k: v for k, v in now.items() if k not in BUDGET_KEYS}, "train")
    _check_same(state["hypernet"], t.hcfg.to_dict(), "hypernet")
    if int(state["seed"]) != t.seed:
        raise ConfigError(f"cannot resume training: the saved state has seed {state['seed']}, "
                          f"this trainer {t.seed}; resume with the same seed")
    if budget_changed and now["lr_schedule"] == "cosine" and now.get("lr_horizon") is None \
            and not restart:
        raise ConfigError(
            "cannot resume a cosine learning-rate schedule under a changed budget: it anneals "
            "over the fraction of the budget spent, so the steps already taken would have had "
            "other learning rates; set train.lr_horizon (the steps the schedule spans, e.g. the "
            "largest budget) in both runs, or use lr_schedule = 'constant'"
        )
    t.net.load_state_dict({k: v.to(t.device) for k, v in state["net"].items()})
    t.opt.load_state_dict(state["opt"])
    _restore_run(t, state)
    t.normalizer.load_state_dict(state["normalizer"])
    t._best = state["best"]
    if "sampler" in state and hasattr(t.sampler, "load_state_dict"):
        t.sampler.load_state_dict(state["sampler"])
    t.resumed = True
