"""Quality indicators for approximation sets, thin and validated wrappers over moocore.

All objectives are minimised. Point sets are `(n, m)` arrays (numpy, torch tensors or nested
lists); a single point may be given as an `(m,)` array. Indicators are computed in float64.

- :func:`hypervolume`: the volume dominated by a set and bounded by a reference point (moocore's
  exact algorithms, any number of objectives). Points that do not strictly dominate the reference
  point contribute nothing; a set with no such point has hypervolume ``0.0`` (documented result,
  not an error).
- :func:`igd`, :func:`igd_plus`: inverted generational distance and its Pareto-compliant variant
  (Ishibuchi et al. 2015) against a reference front.
- :func:`igd_in_box`: IGD / IGD+ on normalised objectives against the reference-front points
  inside the reference box (comparable across problems whose objectives differ in scale, and
  not dominated by published front points far outside the box, as on the RE problems).
- :func:`is_nondominated`, :func:`filter_nondominated`: Pareto filtering.
- :func:`normalize`: affine map that sends ``ideal`` to 0 and ``nadir`` to 1.
- :func:`preference_angle`, :func:`uniformity`: preference-aware indicators of Pareto set
  learning (how well the solution generated for a preference follows it).
"""

from __future__ import annotations

import moocore
import numpy as np

from hybridmoo.errors import ShapeError

__all__ = [
    "filter_nondominated",
    "hypervolume",
    "igd",
    "igd_plus",
    "igd_in_box",
    "is_nondominated",
    "normalize",
    "preference_angle",
    "uniformity",
]


def _as_points(F, what: str = "F", m: int | None = None) -> np.ndarray:
    """`(n, m)` float64 array from array-like input; rejects NaN, wrong rank or width."""
    if hasattr(F, "detach"):  # torch tensor
        F = F.detach().cpu().numpy()
    a = np.asarray(F, dtype=np.float64)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise ShapeError(
            f"{what} must be an (n, m) array of objective vectors, got shape {a.shape}"
        )
    if m is not None and a.shape[1] != m:
        raise ShapeError(
            f"{what} has {a.shape[1]} objectives per point but {m} were expected "
            f"(shape {a.shape})"
        )
    if np.isnan(a).any():
        rows = np.unique(np.nonzero(np.isnan(a))[0])[:5].tolist()
        raise ShapeError(f"{what} contains NaN (rows {rows}); drop or repair those points first")
    return a


def _as_ref(ref, m: int | None) -> np.ndarray:
    if hasattr(ref, "detach"):
        ref = ref.detach().cpu().numpy()
    r = np.asarray(ref, dtype=np.float64).reshape(-1)
    if m is not None and r.size != m:
        raise ShapeError(f"'ref' must have length {m}, but it has length {r.size}")
    if not np.isfinite(r).all():
        raise ShapeError(f"'ref' must be finite, got {r.tolist()}")
    return r


def hypervolume(F, ref) -> float:
    """Hypervolume of the region dominated by ``F`` and bounded above by ``ref``.

    Args:
        F: `(n, m)` objective vectors (minimised); ``n`` may be 0. ``inf`` entries are allowed
            (such points dominate nothing); NaN is an error.
        ref: `(m,)` reference point.

    Returns:
        The hypervolume (``0.0`` if no point strictly dominates ``ref``).

    Raises:
        ShapeError: on a wrong shape, NaN in ``F`` or a non-finite ``ref``.

    >>> hypervolume([[0.0, 0.0]], ref=[1.0, 2.0])
    2.0
    """
    r = _as_ref(ref, None)
    P = _as_points(F, "F", r.size)
    P = P[np.all(P < r, axis=1)]
    if P.shape[0] == 0:
        return 0.0
    return float(moocore.hypervolume(P, ref=r))


def igd(F, reference_front) -> float:
    """Inverted generational distance of ``F`` to ``reference_front`` (both `(n, m)`)."""
    R = _as_points(reference_front, "reference_front")
    P = _as_points(F, "F", R.shape[1])
    _nonempty(P, R)
    return float(moocore.igd(P, ref=R))


def igd_plus(F, reference_front) -> float:
    """IGD+ (Ishibuchi et al. 2015) of ``F`` to ``reference_front`` (both `(n, m)`)."""
    R = _as_points(reference_front, "reference_front")
    P = _as_points(F, "F", R.shape[1])
    _nonempty(P, R)
    return float(moocore.igd_plus(P, ref=R))


def igd_in_box(F, reference_front, ref_point, plus: bool = False) -> float:
    """IGD (``plus``: IGD+) of ``F`` `(n, m)` to the points of ``reference_front`` `(k, m)` that
    lie inside the box ``[ideal, ref_point]``, all objectives mapped by
    ``(f − ideal) / (ref_point − ideal)`` with ``ideal`` the front's minimum. NaN when no
    reference point lies inside the box.

    >>> round(igd_in_box([[0.0, 1.0]], [[0.0, 1.0], [1.0, 0.0], [5.0, -1.0]], [2.0, 2.0]), 4)
    0.3536
    """
    R = _as_points(reference_front, "reference_front")
    P = _as_points(F, "F", R.shape[1])
    ref = np.asarray(ref_point, dtype=np.float64).reshape(-1)
    if ref.shape != (R.shape[1],):
        raise ShapeError(f"ref_point has shape {ref.shape}, expected ({R.shape[1]},)")
    R = R[np.all(R <= ref, axis=1)]
    if R.shape[0] == 0:
        return float("nan")
    ideal = R.min(axis=0)
    scale = np.where(ref - ideal > 0, ref - ideal, 1.0)
    Rn, Pn = (R - ideal) / scale, (P - ideal) / scale
    _nonempty(Pn, Rn)
    return float(moocore.igd_plus(Pn, ref=Rn) if plus else moocore.igd(Pn, ref=Rn))


def _nonempty(P: np.ndarray, R: np.ndarray) -> None:
    if P.shape[0] == 0 or R.shape[0] == 0:
        raise ShapeError(
            f"IGD needs at least one point in each set, got {P.shape[0]} points and a reference "
            f"front of {R.shape[0]}"
        )


def is_nondominated(F) -> np.ndarray:
    """Boolean mask `(n,)`: True where the point is not dominated by any other point of ``F``.

    Duplicates of a non-dominated point are all kept (weak non-domination)."""
    P = _as_points(F)
    if P.shape[0] == 0:
        return np.zeros(0, dtype=bool)
    return np.asarray(moocore.is_nondominated(P, keep_weakly=True), dtype=bool)


def filter_nondominated(F) -> np.ndarray:
    """The non-dominated points of ``F``, `(k, m)` float64, in their original order."""
    P = _as_points(F)
    return P[is_nondominated(P)]


def normalize(F, ideal, nadir) -> np.ndarray:
    """``(F - ideal) / (nadir - ideal)``, `(n, m)` float64.

    Raises:
        ShapeError: if ``nadir <= ideal`` in some objective.
    """
    P = _as_points(F)
    z = _as_ref(ideal, P.shape[1])
    n = _as_ref(nadir, P.shape[1])
    if np.any(n <= z):
        i = int(np.nonzero(n <= z)[0][0])
        raise ShapeError(
            f"nadir must exceed ideal in every objective; objective {i}: ideal {z[i]}, "
            f"nadir {n[i]}. Did you swap them?"
        )
    return (P - z) / (n - z)


def _pairs(F, prefs) -> tuple[np.ndarray, np.ndarray]:
    P = _as_points(F)
    W = _as_points(prefs, "prefs", P.shape[1])
    if W.shape[0] != P.shape[0]:
        raise ShapeError(
            f"one preference per objective vector is needed: {W.shape[0]} preferences for "
            f"{P.shape[0]} points"
        )
    if np.any(W < 0):
        raise ShapeError("preferences must be non-negative")
    return P, W


def preference_angle(F, prefs, ideal=None) -> np.ndarray:
    """Angle (radians) between each preference and its objective vector measured from ``ideal``.

    For inverse-Tchebycheff style Pareto set learning (PSL, Lin et al. 2022) the solution of
    preference λ lies on the ray ``ideal + t·λ``, so the angle is 0 for a perfectly steered front.

    Args:
        F: `(n, m)` objective vectors. prefs: `(n, m)` preferences. ideal: `(m,)`, default 0.

    Returns:
        `(n,)` angles in ``[0, π]``; ``nan`` where ``F - ideal`` is the zero vector.
    """
    P, W = _pairs(F, prefs)
    z = np.zeros(P.shape[1]) if ideal is None else _as_ref(ideal, P.shape[1])
    D = P - z
    # Kahan's stable form: angle = 2·atan2(‖â − ŵ‖, ‖â + ŵ‖), exact near 0 and π unlike arccos.
    with np.errstate(invalid="ignore", divide="ignore"):
        a = D / np.linalg.norm(D, axis=1, keepdims=True)
        w = W / np.linalg.norm(W, axis=1, keepdims=True)
        return 2.0 * np.arctan2(np.linalg.norm(a - w, axis=1), np.linalg.norm(a + w, axis=1))


def uniformity(F, prefs) -> np.ndarray:
    """Uniformity ``1 − KL(l̂ ‖ 1/m)`` with ``l̂_i = λ_i f_i / Σ_j λ_j f_j`` (per point).

    This is the preference-alignment measure of EPO (Mahapatra & Rajan 2020), reported as
    uniformity by PHN (Navon et al. 2021) and DYMU (Raychaudhuri et al. 2022): 1 when the weighted
    losses ``λ_i f_i`` are all equal, lower as they diverge. Losses must be positive.

    Args:
        F: `(n, m)` positive losses. prefs: `(n, m)` preferences.

    Returns:
        `(n,)` uniformity values (≤ 1).
    """
    P, W = _pairs(F, prefs)
    if np.any(P <= 0):
        raise ShapeError("uniformity needs positive losses (KL of normalised weighted losses)")
    wl = W * P
    lhat = wl / wl.sum(axis=1, keepdims=True)
    m = P.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(lhat > 0, lhat * np.log(lhat * m), 0.0)
    return 1.0 - terms.sum(axis=1)
