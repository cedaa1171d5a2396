"""Diagnostics of a learned front: is it collapsed?

A learned front *collapses* when (nearly) every preference is mapped to the same point, e.g. a
linear scalarisation on a concave front (it only reaches the ends), objectives on very different
scales without normalisation (the preference then only weighs the largest one), or a learning
rate so high that training settles at one corner. The front's HV is then a fraction of what the
network can reach, and nothing else says why.

:func:`check_collapse` flags a front `(n, m)` as collapsed when either

- it has at most ``max(1, DISTINCT_FRACTION · n)`` distinct points (``DISTINCT_FRACTION`` =
  0.05), counting two points as the same when they agree within ``RESOLUTION`` (= 1e-3) of the
  range in every objective, or
- every objective's spread ``max − min`` is below ``SPREAD_FRACTION`` (= 0.01) of its range.

The *range* of objective i is ``nadir_i − ideal_i`` where both are known (the problem's ideal
and nadir points), else ``ref_i − ideal_i`` with the known ideal, else ``ref_i − min F_i`` (the
reference point's box around the front); a non-positive range falls back to ``|ref_i|`` (or 1).
Fronts with fewer than ``MIN_POINTS`` (= 4) points, or with non-finite values, are not judged.

:func:`collapse_report` adds the likely causes for a training configuration; the trainer stores
the report under ``TrialResult.extra["collapse"]`` (and so in the study's HDF5 file), and
``hybridmoo train`` / ``hybridmoo show`` print it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = [
    "CollapseWarning",
    "DISTINCT_FRACTION",
    "MIN_POINTS",
    "RESOLUTION",
    "SPREAD_FRACTION",
    "Collapse",
    "check_collapse",
    "collapse_report",
]

DISTINCT_FRACTION = 0.05
RESOLUTION = 1e-3
SPREAD_FRACTION = 0.01
MIN_POINTS = 4


class CollapseWarning(UserWarning):
    """Issued by :func:`hybridmoo.train` when the learned front collapsed."""


@dataclass(frozen=True)
class Collapse:
    """Evidence of a collapsed front.

    Attributes:
        n_points: points of the front. n_distinct: distinct points (at ``RESOLUTION``).
        spread: `(m,)` per-objective spread as a fraction of the range.
        reason: ``"distinct"``, ``"spread"`` or ``"distinct+spread"``.
    """

    n_points: int
    n_distinct: int
    spread: tuple[float, ...]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly fields."""
        d = asdict(self)
        d["spread"] = list(self.spread)
        return d


def _ranges(F: np.ndarray, ideal, nadir, ref_point) -> np.ndarray:
    m = F.shape[1]
    full = np.full(m, np.nan)
    z = full if ideal is None else np.asarray(ideal, dtype=np.float64).reshape(-1)
    w = full if nadir is None else np.asarray(nadir, dtype=np.float64).reshape(-1)
    r = full if ref_point is None else np.asarray(ref_point, dtype=np.float64).reshape(-1)
    lo = np.where(np.isfinite(z), z, F.min(axis=0))
    hi = np.where(np.isfinite(w) & np.isfinite(z), w, r)
    rng = hi - lo
    fallback = np.where(np.isfinite(r) & (np.abs(r) > 0), np.abs(r), 1.0)
    return np.where(np.isfinite(rng) & (rng > 0), rng, fallback)


def check_collapse(F, *, ideal=None, nadir=None, ref_point=None) -> Collapse | None:
    """Whether the front ``F`` `(n, m)` is collapsed (see the module docstring).

    Args:
        F: `(n, m)` objective values of the learned front.
        ideal, nadir: `(m,)` known points (``None`` or NaN entries where unknown).
        ref_point: `(m,)` HV reference point.

    Returns:
        A :class:`Collapse` when it is collapsed, else ``None`` (also for fronts too small or
        non-finite to judge).
    """
    F = np.asarray(F, dtype=np.float64)
    if F.ndim != 2 or F.shape[0] < MIN_POINTS or not np.isfinite(F).all():
        return None
    n = F.shape[0]
    rng = _ranges(F, ideal, nadir, ref_point)
    cells = np.floor((F - F.min(axis=0)) / (RESOLUTION * rng)).astype(np.int64)
    n_distinct = int(np.unique(cells, axis=0).shape[0])
    spread = (F.max(axis=0) - F.min(axis=0)) / rng
    few = n_distinct <= max(1, int(DISTINCT_FRACTION * n))
    flat = bool(np.all(spread < SPREAD_FRACTION))
    if not (few or flat):
        return None
    reason = "distinct+spread" if few and flat else ("distinct" if few else "spread")
    return Collapse(n_points=n, n_distinct=n_distinct,
                    spread=tuple(float(s) for s in spread), reason=reason)


def _causes(train: Mapping[str, Any], ideal, nadir, ref_point) -> list[str]:
    """Likely causes, the ones the configuration points at first."""
    scal = dict(train.get("scalarization") or {})
    name = str(scal.get("name", "")).lower()
    norm = str(train.get("normalize", "none"))
    lr = train.get("lr")
    first, rest = [], []
    linear = ("linear scalarisation on a concave front: a weighted sum only reaches the convex "
              "hull of the front and collapses to its ends; use scalarization = 'tchebycheff'")
    (first if name in ("linear", "ls", "cosmos") else rest).append(linear)
    scale_msg = ("objectives on different scales without normalisation: the preference then "
                 "only weighs the largest objective; set train.normalize = 'auto'")
    ratio = np.nan
    if ideal is not None and nadir is not None:
        r = np.asarray(nadir, float) - np.asarray(ideal, float)
        r = r[np.isfinite(r) & (r > 0)]
        ratio = float(r.max() / r.min()) if r.size else np.nan
    elif ref_point is not None:
        r = np.abs(np.asarray(ref_point, float))
        r = r[np.isfinite(r) & (r > 0)]
        ratio = float(r.max() / r.min()) if r.size else np.nan
    if norm == "none" and not (np.isfinite(ratio) and ratio < 10):
        scale_msg += (f" (objective ranges differ by {ratio:.3g}x)" if np.isfinite(ratio)
                      else "")
        first.append(scale_msg)
    elif norm == "none":
        rest.append(scale_msg)
    if norm == "auto" and nadir is None:
        first.append("a nadir estimated online from the model's own front, which is narrow "
                     "early in training: its spread becomes the scale and the front can "
                     "collapse with it; give the problem its nadir (from_function, from_numpy, "
                     "from_pymoo and from_model take nadir=[...]; a decision-vector problem "
                     "also takes a given ref_point as its nadir)")
    lr_msg = "learning rate too high: training settles in one corner; try a smaller train.lr"
    if lr is not None and float(lr) > 1e-2:
        first.append(lr_msg + f" (lr = {float(lr):g})")
    else:
        rest.append(lr_msg)
    return first + rest


def collapse_report(F, *, train: Mapping[str, Any] | None = None, ideal=None, nadir=None,
                    ref_point=None) -> dict[str, Any] | None:
    """:func:`check_collapse` plus a warning text with the likely causes, or ``None``.

    Returns:
        ``{"n_points", "n_distinct", "spread", "reason", "causes", "warning"}`` (JSON-friendly)
        for a collapsed front, else ``None``.
    """
    c = check_collapse(F, ideal=ideal, nadir=nadir, ref_point=ref_point)
    if c is None:
        return None
    causes = _causes(train or {}, ideal, nadir, ref_point)
    spread = ", ".join(f"f{i + 1} {100 * s:.2g}%" for i, s in enumerate(c.spread))
    text = (f"the learned front collapsed: {c.n_distinct} distinct point(s) of {c.n_points}, "
            f"spread {spread} of each objective's range. Likely causes: "
            + "; ".join(f"({i + 1}) {s}" for i, s in enumerate(causes)) + ".")
    return {**c.to_dict(), "causes": causes, "warning": text}
