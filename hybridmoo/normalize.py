"""Objective normalisation for the inner loop: scalarisations see objectives on a common scale.

A scalarisation such as Tchebycheff, ``max_i λ_i (f_i − z_i)``, compares objectives directly,
so objectives on different scales (RE21 raw: f1 in the thousands, f2 around 0.01) make the
preference meaningless and the learned front collapses to one end. :class:`ObjectiveNormalizer`
maps the training losses to

    f̃ = (f − ideal) / (nadir − ideal)

before the scalarisation sees them, so that the ideal point is 0 and the nadir point 1 in every
objective. Only the training signal changes: HV, fronts, traces and exports stay in the
problem's own units.

Modes (``TrainConfig.normalize``):

- ``"auto"`` (default): per objective, the problem's own ideal / nadir where it publishes them,
  else running estimates from the training losses (below). On problems with a known ideal and
  nadir this is ``"known"``. A nadir the problem does not publish is taken from the reference
  point where the user gave one (``ref_point_source == "given"``, decision-vector problems:
  ``from_function``, ``from_numpy``, ``from_pymoo``): the reference point bounds the region
  that counts, and a fixed scale does not follow the model's own front. The running nadir
  does: early in training that front is narrow, its spread becomes the scale, and on ZDT2
  written with ``from_function`` (no ideal or nadir given) the front collapsed to its end point
  on 4 seeds of 4; with the reference point as nadir, on none (what it does to black boxes:
  results/blackbox_hv_subset.md).
- ``"known"``: the problem's ideal and nadir only; a problem that lacks either raises
  :class:`~hybridmoo.errors.ConfigError`.
- ``"none"``: raw losses, as published methods use them; the scalarisation's ideal point is the
  problem's ideal when known, else the running minimum of the losses (the trainer's behaviour
  before normalisation existed).

Running estimates (detached, updated once per training step from the `(K, m)` losses):

- *ideal* ``lo``: the running minimum of the losses. A lower bound keeps ``f − z ≥ 0``, which
  Tchebycheff-type and gradient-based scalarisations (EPO takes logarithms) rely on.
- *nadir* ``hi``: an exponential moving average, with rate ``rate`` (default 0.05, i.e. a memory
  of about 20 steps), of each objective's largest loss in the step, started at the first step's.
  To be robust to outliers the step's value is clipped to ``hi + clip · (hi − lo)`` (default
  ``clip = 1``) before it enters the average, so a single spike moves ``hi`` by at most
  ``rate · clip`` of the current range; decreases are not clipped, so ``hi`` follows the front
  down as training converges.
- the scale ``hi − lo`` is floored at ``eps_rel · max(|lo|, |hi|) + eps_abs`` so that a
  constant objective does not divide by zero.

The estimates are part of the trainer's state (:meth:`ObjectiveNormalizer.state_dict` /
:meth:`ObjectiveNormalizer.load_state_dict`), so they can be saved with a checkpoint and
restored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor

from hybridmoo.errors import ConfigError, ShapeError

__all__ = ["MODES", "ObjectiveNormalizer", "resolve_mode"]

MODES = ("auto", "known", "none")


def resolve_mode(value: Any) -> str:
    """The mode named by ``value``: one of :data:`MODES`; ``True`` → ``"auto"``, ``False`` →
    ``"none"`` (the boolean form of older configurations).

    Raises:
        ConfigError: for anything else.
    """
    if isinstance(value, bool | np.bool_):
        return "auto" if value else "none"
    if isinstance(value, str) and value.lower() in MODES:
        return value.lower()
    raise ConfigError(
        f"train.normalize = {value!r} is not a normalisation mode; expected one of "
        f"{', '.join(repr(m) for m in MODES)} (or true/false for 'auto'/'none')"
    )


def _vector(v, m: int, what: str) -> np.ndarray | None:
    if v is None:
        return None
    arr = np.asarray(v.detach().cpu().numpy() if isinstance(v, Tensor) else v,
                     dtype=np.float64).reshape(-1)
    if arr.shape != (m,):
        raise ShapeError(f"normalize: {what} has shape {arr.shape}, expected ({m},)")
    return arr


def _given_ref_as_nadir(problem, ideal, nadir):
    """``nadir`` `(m,)` with its unknown entries taken from the reference point the user gave a
    decision-vector problem (where it lies above a known ideal); unchanged otherwise."""
    ref = getattr(problem, "ref_point", None)
    if ref is None or getattr(problem, "ref_point_source", "") != "given" or \
            hasattr(problem, "make_task"):
        return nadir
    m = problem.n_obj
    r = _vector(ref, m, "ref_point")
    n = _vector(nadir, m, "nadir")
    n = np.full(m, np.nan) if n is None else n.copy()
    i = _vector(ideal, m, "ideal")
    fill = ~np.isfinite(n) & np.isfinite(r)
    if i is not None:
        fill &= ~np.isfinite(i) | (r > i)
    n[fill] = r[fill]
    return n if np.isfinite(n).any() else nadir


class ObjectiveNormalizer:
    """Maps `(K, m)` losses to ``(f − ideal) / (nadir − ideal)`` (see the module docstring).

    Args:
        n_obj: number of objectives m.
        mode: ``"auto"``, ``"known"`` or ``"none"`` (booleans map to ``"auto"`` / ``"none"``).
        ideal, nadir: the problem's `(m,)` ideal / nadir points, or ``None`` where unknown
            (NaN entries count as unknown).
        rate: EMA rate of the running nadir estimate, in (0, 1].
        clip: how far above the current estimate, in ranges, a step's maximum may pull it.
        eps_rel, eps_abs: floor of the scale, ``eps_rel · max(|lo|, |hi|) + eps_abs``.
        dtype, device: of the tensors :meth:`transform` receives.

    Raises:
        ConfigError: if ``mode = "known"`` and the ideal or nadir is not fully known, or a
            known nadir is not above the known ideal.
    """

    def __init__(self, n_obj: int, mode: Any = "auto", *, ideal=None, nadir=None,
                 rate: float = 0.05, clip: float = 1.0, eps_rel: float = 1e-6,
                 eps_abs: float = 1e-12, dtype: torch.dtype = torch.float32,
                 device: torch.device | str = "cpu") -> None:
        self.n_obj = int(n_obj)
        self.mode = resolve_mode(mode)
        if not 0 < rate <= 1:
            raise ConfigError(f"normalize: rate = {rate} must be in (0, 1]")
        if clip <= 0:
            raise ConfigError(f"normalize: clip = {clip} must be > 0")
        self.rate, self.clip, self.eps_rel, self.eps_abs = float(rate), float(clip), \
            float(eps_rel), float(eps_abs)
        self.dtype, self.device = dtype, torch.device(device)
        m = self.n_obj
        ki = _vector(ideal, m, "ideal")
        kn = _vector(nadir, m, "nadir")
        self.known_ideal = np.full(m, np.nan) if ki is None else ki
        self.known_nadir = np.full(m, np.nan) if kn is None else kn
        both = np.isfinite(self.known_ideal) & np.isfinite(self.known_nadir)
        if np.any(both & (self.known_nadir <= self.known_ideal)):
            i = int(np.flatnonzero(both & (self.known_nadir <= self.known_ideal))[0])
            raise ConfigError(
                f"normalize: the problem's nadir {self.known_nadir.tolist()} is not above its "
                f"ideal {self.known_ideal.tolist()} in objective {i + 1}; fix the problem's "
                "ideal/nadir or set train.normalize = 'none'"
            )
        if self.mode == "known" and not both.all():
            what = "ideal" if not np.isfinite(self.known_ideal).all() else "nadir"
            raise ConfigError(
                f"train.normalize = 'known' needs the problem's ideal and nadir points, but its "
                f"{what} is not (fully) known; use normalize = 'auto' (running estimates where "
                "unknown) or 'none'"
            )
        # running estimates (float64 numpy: tiny, and exact whatever the training dtype)
        self.lo = np.full(m, np.nan)
        self.hi = np.full(m, np.nan)
        self.count = 0
        self._cache: tuple[int, Tensor, Tensor] | None = None
        known_i = bool(np.isfinite(self.known_ideal).all())
        known_n = bool(np.isfinite(self.known_nadir).all())
        #: whether :meth:`update` matters (False when every point in use is known)
        self.needs_updates = not (known_i and (known_n or self.mode == "none"))

    @classmethod
    def for_problem(cls, problem, mode: Any = "auto", **kwargs: Any) -> ObjectiveNormalizer:
        """A normaliser with ``problem``'s ``ideal`` / ``nadir`` (``None`` where absent); in
        ``"auto"`` mode an unknown nadir is the reference point the user gave (see the module
        docstring)."""
        ideal, nadir = getattr(problem, "ideal", None), getattr(problem, "nadir", None)
        if resolve_mode(mode) == "auto":
            nadir = _given_ref_as_nadir(problem, ideal, nadir)
        return cls(problem.n_obj, mode, ideal=ideal, nadir=nadir, **kwargs)

    # ------------------------------------------------------------------ estimates
    @property
    def active(self) -> bool:
        """Whether losses are rescaled (``mode != "none"``)."""
        return self.mode != "none"

    def update(self, losses: Tensor) -> None:
        """Fold one step's `(K, m)` losses into the running estimates (detached)."""
        L = losses.detach()
        if L.ndim != 2 or L.shape[1] != self.n_obj:
            raise ShapeError(f"normalize: losses of shape {tuple(L.shape)}, expected (K, "
                             f"{self.n_obj})")
        L = L.to(torch.float64).cpu().numpy()
        finite = np.isfinite(L)
        if not finite.any():
            return
        big = np.where(finite, L, -np.inf).max(axis=0)
        small = np.where(finite, L, np.inf).min(axis=0)
        ok = np.isfinite(big)
        first = ok & ~np.isfinite(self.hi)
        self.lo = np.where(ok, np.fmin(self.lo, small), self.lo)
        self.hi = np.where(first, big, self.hi)
        upd = ok & ~first
        cap = self.hi + self.clip * np.maximum(self.hi - self.lo, 0.0)
        target = np.minimum(big, cap)
        self.hi = np.where(upd, self.hi + self.rate * (target - self.hi), self.hi)
        self.hi = np.maximum(self.hi, self.lo)
        self.count += 1
        self._cache = None

    def observe_bounds(self, ideal, nadir) -> None:
        """Widen the running estimates to cover ``ideal`` and ``nadir`` `(m,)` (e.g. from an
        evolutionary start's non-dominated points); known values still take precedence."""
        ideal = np.asarray(ideal, dtype=np.float64).reshape(-1)
        nadir = np.asarray(nadir, dtype=np.float64).reshape(-1)
        self.lo = np.where(np.isfinite(self.lo), np.fmin(self.lo, ideal), ideal)
        self.hi = np.where(np.isfinite(self.hi), np.fmax(self.hi, nadir), nadir)
        self.count += 1
        self._cache = None

    def ideal(self) -> np.ndarray:
        """`(m,)` ideal point in use: the known one where known (``auto``/``known``/``none``),
        else the running minimum (NaN before the first update)."""
        return np.where(np.isfinite(self.known_ideal), self.known_ideal, self.lo)

    def nadir_known(self) -> np.ndarray | None:
        """The `(m,)` nadir fixed before training (the problem's, or a given reference point in
        ``"auto"`` mode), or ``None`` where any entry is estimated online."""
        return self.known_nadir.copy() if np.isfinite(self.known_nadir).all() else None

    def nadir(self) -> np.ndarray:
        """`(m,)` nadir point in use: known where known, else the running estimate."""
        return np.where(np.isfinite(self.known_nadir), self.known_nadir, self.hi)

    def scale(self) -> np.ndarray:
        """`(m,)` ``nadir − ideal``, floored (see the module docstring)."""
        lo, hi = self.ideal(), self.nadir()
        floor = self.eps_rel * np.maximum(np.abs(lo), np.abs(hi)) + self.eps_abs
        return np.maximum(hi - lo, floor)

    def _tensors(self) -> tuple[Tensor, Tensor]:
        if self._cache is None or self._cache[0] != self.count:
            z = torch.as_tensor(self.ideal(), dtype=self.dtype, device=self.device)
            s = torch.as_tensor(self.scale(), dtype=self.dtype, device=self.device)
            self._cache = (self.count, z, s)
        return self._cache[1], self._cache[2]

    # ------------------------------------------------------------------ mapping
    def transform(self, values: Tensor) -> Tensor:
        """``(values − ideal) / scale`` for `(..., m)` values (differentiable); identity when
        ``mode = "none"``."""
        if not self.active:
            return values
        z, s = self._tensors()
        return (values - z.to(values.dtype)) / s.to(values.dtype)

    def scalarization_ideal(self) -> Tensor:
        """The `(m,)` ideal point to hand the scalarisation with :meth:`transform`'s output:
        zeros when normalising, the raw ideal estimate with ``mode = "none"``."""
        if self.active:
            return torch.zeros(self.n_obj, dtype=self.dtype, device=self.device)
        return self._tensors()[0]

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """JSON-friendly state: mode, settings, running estimates and update count."""
        return {"mode": self.mode, "rate": self.rate, "clip": self.clip,
                "lo": self.lo.tolist(), "hi": self.hi.tolist(), "count": int(self.count)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`'s running estimates (mode and settings are checked).

        Raises:
            ConfigError: if the state belongs to another mode or number of objectives.
        """
        lo = np.asarray(state["lo"], dtype=np.float64)
        if lo.shape != (self.n_obj,) or state.get("mode", self.mode) != self.mode:
            raise ConfigError(
                f"normalize: saved state (mode {state.get('mode')!r}, {lo.shape[0]} objectives) "
                f"does not fit this normaliser (mode {self.mode!r}, {self.n_obj} objectives)"
            )
        self.lo = lo
        self.hi = np.asarray(state["hi"], dtype=np.float64)
        self.count = int(state["count"])
        self._cache = None

    def __repr__(self) -> str:
        return (f"ObjectiveNormalizer(mode={self.mode!r}, ideal={self.ideal().tolist()}, "
                f"nadir={self.nadir().tolist()})")
