"""Argument checks shared by the scalarizations and the gradient weightings (private).

``prepare`` validates a `(..., K, m)` losses tensor against its preferences and ideal point;
``check_param`` validates a named method parameter against one table of rules, so that every
scalarization and weighting words its errors the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from hybridmoo.errors import ConfigError, ShapeError


# ---------------------------------------------------------------------------- parameter checks
def _real(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


# name -> (predicate, description of the allowed values)
_PARAM_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "mu": (lambda v: _real(v) and math.isfinite(v) and v > 0, "a finite number > 0"),
    "theta": (lambda v: _real(v) and math.isfinite(v) and v >= 0, "a finite number >= 0"),
    "eps": (lambda v: _real(v) and 0 < v < 1, "a number in (0, 1)"),
    "cos_weight": (lambda v: _real(v) and math.isfinite(v) and v >= 0, "a finite number >= 0"),
    "mu_tol": (lambda v: _real(v) and math.isfinite(v) and v > 0, "a finite number > 0"),
    "relax": (lambda v: isinstance(v, bool), "True or False"),
    "rescale": (lambda v: isinstance(v, bool), "True or False"),
    # PMTL (controllable Pareto MTL)
    "n_refs": (lambda v: _real(v) and float(v).is_integer() and v >= 2, "an integer >= 2"),
    "warmup_steps": (lambda v: v is None or (_real(v) and float(v).is_integer() and v >= 0),
                     "an integer >= 0 or None"),
    "direction": (lambda v: v in ("inverse", "aligned"), "'inverse' or 'aligned'"),
}


def _check_param(method: str, key: str, value: Any) -> None:
    ok, allowed = _PARAM_RULES[key]
    if not ok(value):
        raise ConfigError(
            f"scalarization {method!r}: parameter {key!r} must be {allowed}, got {value!r}."
        )


# ---------------------------------------------------------------------------- shape checks
def _shape_text(t: Tensor) -> str:
    return str(tuple(t.shape))


def _prepare(
    method: str, losses: Tensor, prefs: Tensor, ideal: Tensor | None
) -> tuple[Tensor, Tensor, Tensor]:
    """Validate shapes; return (losses, prefs, ideal) with prefs/ideal cast like losses."""
    if not isinstance(losses, Tensor):
        raise ShapeError(
            f"{method}: losses must be a torch.Tensor of shape (..., K, m), got "
            f"{type(losses).__name__}."
        )
    if not losses.is_floating_point():
        raise ShapeError(
            f"{method}: losses must be a floating tensor, got dtype {losses.dtype}; "
            "use losses.float() or losses.double()."
        )
    if losses.ndim == 0 or losses.shape[-1] == 0:
        raise ShapeError(
            f"{method}: losses must have shape (..., K, m) with m >= 1, got {_shape_text(losses)}."
        )
    prefs = torch.as_tensor(prefs, dtype=losses.dtype, device=losses.device)
    if not _broadcasts_to(prefs, losses):
        raise ShapeError(
            f"{method}: prefs of shape {_shape_text(prefs)} do not match losses of shape "
            f"{_shape_text(losses)}; prefs must have the shape of losses (..., K, m) or one that "
            f"broadcasts to it, such as ({losses.shape[-1]},)."
        )
    m = losses.shape[-1]
    if ideal is None:
        ideal_t = torch.zeros(m, dtype=losses.dtype, device=losses.device)
    else:
        ideal_t = torch.as_tensor(ideal, dtype=losses.dtype, device=losses.device)
        if not _broadcasts_to(ideal_t, losses):
            raise ShapeError(
                f"{method}: ideal of shape {_shape_text(ideal_t)} does not match losses of shape "
                f"{_shape_text(losses)}; ideal must be an ({m},) tensor."
            )
    return losses, prefs, ideal_t


def _broadcasts_to(t: Tensor, target: Tensor) -> bool:
    if t.ndim == 0 or t.shape[-1] != target.shape[-1]:
        return False
    try:
        return torch.broadcast_shapes(t.shape, target.shape) == target.shape
    except RuntimeError:
        return False

