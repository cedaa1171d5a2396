"""Hypervolume subset selection: the best n of N points, greedily.

Choosing the n points of a set that maximise its hypervolume is NP-hard in general, but the
hypervolume is a monotone submodular set function, so adding greedily the point with the
largest hypervolume contribution gives at least (1 − 1/e) of the optimum (Guerreiro, Fonseca &
Paquete, "Greedy Hypervolume Subset Selection in Low Dimensions", Evolutionary Computation
24(3), 2016). :func:`greedy_hv_subset` does that *lazily* (Minoux's accelerated greedy): a
point's contribution can only shrink as the selection grows, so a stale contribution is an
upper bound, and only the candidate on top of the heap is re-evaluated. Every hypervolume comes
from moocore; the first contributions, with nothing selected, are the points' own boxes.
:func:`swap_refine` then improves a selection by single exchanges (a local search with a cap
on the hypervolume evaluations it may spend): first with each point's nearest candidates, which
reaches every point of a large pool's selection, then with every candidate; it closes most of
the gap to the best subset on small sets, and on a dense pool moves the selection toward the
evenly spread set that HV-driven evolution (SMS-EMOA) converges to.

>>> F = np.array([[0.0, 1.0], [0.5, 0.5], [1.0, 0.0], [0.6, 0.6]])
>>> greedy_hv_subset(F, ref=[1.5, 1.5], n=2).tolist()
[1, 0]
"""

from __future__ import annotations

import heapq
import itertools
import math
import time

import moocore
import numpy as np

from hybridmoo.errors import ConfigError, ShapeError

__all__ = ["exact_hv_subset", "greedy_hv_subset", "select_front", "subset_hypervolume",
           "swap_refine"]


def _check(F, ref) -> tuple[np.ndarray, np.ndarray]:
    P = np.asarray(F, dtype=np.float64)
    if P.ndim != 2:
        raise ShapeError(f"F must be an (N, m) array of objective vectors, got shape {P.shape}")
    r = np.asarray(ref, dtype=np.float64).reshape(-1)
    if r.size != P.shape[1]:
        raise ShapeError(f"ref has {r.size} entries but F has {P.shape[1]} objectives")
    if not np.isfinite(r).all():
        raise ShapeError(f"ref must be finite, got {r.tolist()}")
    return P, r


def _contributing(P: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Indices of the rows of ``P`` that can add hypervolume: finite, strictly inside ``r`` and
    non-dominated (dominated points never add any)."""
    cand = np.nonzero(np.all(P < r, axis=1) & ~np.isnan(P).any(axis=1))[0]
    return cand[moocore.is_nondominated(P[cand])] if len(cand) else cand


def subset_hypervolume(F, ref, idx) -> float:
    """Hypervolume of the rows ``idx`` of ``F`` (`(N, m)`) with reference point ``ref``."""
    P, r = _check(F, ref)
    sel = P[np.asarray(idx, dtype=np.int64)]
    sel = sel[np.all(sel < r, axis=1)]
    return float(moocore.hypervolume(sel, ref=r)) if len(sel) else 0.0


def greedy_hv_subset(F, ref, n: int) -> np.ndarray:
    """Indices of (at most) ``n`` rows of ``F`` chosen greedily by hypervolume contribution.

    Args:
        F: `(N, m)` objective vectors (minimised). Rows with NaN or that do not strictly
            dominate ``ref`` are never chosen (they contribute nothing).
        ref: `(m,)` reference point.
        n: how many points to choose (≥ 1).

    Returns:
        `(k,)` int64 indices into ``F`` in the order they were chosen, ``k = min(n, number of
        rows that contribute)``: each index adds the largest hypervolume to those before it.
        Ties go to the lower index.

    Raises:
        ShapeError: F not `(N, m)`, ref of another length or not finite.
        ConfigError: n < 1.
    """
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ConfigError(f"n = {n!r} is invalid: expected an integer ≥ 1")
    P, r = _check(F, ref)
    cand = _contributing(P, r)
    chosen: list[int] = []
    if not len(cand):
        return np.zeros(0, dtype=np.int64)
    # heap of (-gain upper bound, index, size of the selection when the bound was computed)
    heap = [(-float(np.prod(r - P[i])), int(i), 0) for i in cand]
    heapq.heapify(heap)
    hv = moocore.Hypervolume(ref=r)
    buf = np.empty((min(int(n), len(cand)) + 1, P.shape[1]))  # the selection, then a candidate
    hv_sel = 0.0
    while heap and len(chosen) < n:
        neg, i, at = heapq.heappop(heap)
        k = len(chosen)
        buf[k] = P[i]
        if at == k:  # its bound is fresh: nothing can beat it
            if -neg <= 0.0:
                break
            chosen.append(i)
            hv_sel = float(hv(buf[: k + 1]))
            continue
        gain = float(hv(buf[: k + 1])) - hv_sel
        heapq.heappush(heap, (-max(gain, 0.0), i, k))
    return np.asarray(chosen, dtype=np.int64)


def swap_refine(F, ref, idx, max_evals: int = 20000, neighbours: int = 16,
                wide: bool = True, deadline: float | None = None) -> np.ndarray:
    """Improve the selection ``idx`` of rows of ``F`` by single exchanges.

    Two kinds of exchange, each made only when it raises the hypervolume. First, small moves
    along the front: each selected point in turn is tried against its ``neighbours`` nearest
    candidates (in objective space scaled to the candidates' range), the best exchange made,
    and sweeps repeat until one changes nothing; this reaches every point of a selection from
    a large, dense pool (with 2,000 candidates, trying all of them for each point would spend
    20,000 evaluations on the first ten points). Then moves across the front: each selected
    point against every candidate (a non-dominated row strictly inside ``ref``), passes
    repeating until one makes no exchange. Both stop once ``max_evals`` hypervolumes (moocore)
    have been computed. The result's hypervolume is never below that of ``idx``.

    Args:
        F: `(N, m)` objective vectors (minimised). ref: `(m,)` reference point.
        idx: `(k,)` indices of the current selection (e.g. :func:`greedy_hv_subset`'s).
        max_evals: cap on hypervolume evaluations (≥ 0; 20,000 take about 0.2 s for k = 100).
        neighbours: candidates tried per point in the first phase (0: skip it).
        wide: run the second phase (exchanges with every candidate).
        deadline: a :func:`time.perf_counter` time at which to stop, as at ``max_evals``
            (None: none).

    Returns:
        `(k,)` int64 indices: ``idx`` with some entries exchanged, in the same positions.
    """
    P, r = _check(F, ref)
    sel = [int(i) for i in np.asarray(idx, dtype=np.int64).reshape(-1)]
    if len(sel) < 1 or max_evals <= 0:
        return np.asarray(sel, dtype=np.int64)
    if isinstance(neighbours, bool) or int(neighbours) != neighbours or neighbours < 0:
        raise ConfigError(f"neighbours = {neighbours!r} is invalid: expected an integer ≥ 0")
    cand = _contributing(P, r)
    hv_of = moocore.Hypervolume(ref=r)
    buf = P[sel].copy()  # the selection, one row swapped for the candidate being tried
    hv = float(hv_of(buf))
    evals = 0
    if deadline is None:
        deadline = math.inf

    def spent() -> bool:
        return evals >= max_evals or (evals % 64 == 0 and time.perf_counter() >= deadline)

    def sweep(options) -> bool:
        """One pass over the selection; True if it made an exchange."""
        nonlocal hv, evals
        improved = False
        for pos in range(len(sel)):
            chosen = set(sel)
            best_h, best_j = hv * (1 + 1e-12) + 1e-300, -1
            for j in options(pos):
                if int(j) in chosen:
                    continue
                buf[pos] = P[j]
                h = float(hv_of(buf))
                evals += 1
                if h > best_h:
                    best_h, best_j = h, int(j)
                if spent():
                    break
            if best_j >= 0:
                sel[pos], hv, improved = best_j, best_h, True
            buf[pos] = P[sel[pos]]
            if spent():
                break
        return improved

    if neighbours and len(cand) > neighbours + 1:
        from scipy.spatial import cKDTree

        lo, hi = P[cand].min(axis=0), P[cand].max(axis=0)
        scale = np.where(hi > lo, hi - lo, 1.0)
        tree = cKDTree((P[cand] - lo) / scale)

        def near(pos: int) -> np.ndarray:
            _, k = tree.query((P[sel[pos]] - lo) / scale, k=int(neighbours) + 1)
            return cand[np.asarray(k).reshape(-1)]

        while not spent() and sweep(near):
            pass
    while wide and not spent() and sweep(lambda pos: cand):
        pass
    return np.asarray(sel, dtype=np.int64)


def exact_hv_subset(F, ref, n: int, limit: int = 5000) -> np.ndarray | None:
    """The best ``n`` rows of ``F`` by exhaustive search, when that is cheap.

    Every ``n``-subset of the contributing rows (non-dominated, strictly inside ``ref``) is
    scored with moocore; ties go to the first subset in lexicographic order.

    Args:
        F: `(N, m)` objective vectors (minimised). ref: `(m,)` reference point.
        n: subset size (≥ 1). limit: the most subsets to score.

    Returns:
        `(min(n, C),)` int64 indices of the best subset (C: the contributing rows), or
        ``None`` when there are more than ``limit`` subsets to score.
    """
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ConfigError(f"n = {n!r} is invalid: expected an integer ≥ 1")
    P, r = _check(F, ref)
    cand = _contributing(P, r)
    k = min(int(n), len(cand))
    if math.comb(len(cand), k) > limit:
        return None
    best, best_h = (), -1.0
    for combo in itertools.combinations(cand.tolist(), k):
        h = float(moocore.hypervolume(P[list(combo)], ref=r)) if combo else 0.0
        if h > best_h:
            best, best_h = combo, h
    return np.asarray(best, dtype=np.int64)


def select_front(F, ref, n: int, *, refine: int = 20000, exact: int = 5000,
                 deadline: float | None = None) -> tuple[np.ndarray, str]:
    """The best ``n`` rows of ``F`` `(N, m)` for the hypervolume with reference ``ref``:
    ``(indices, how)``. Non-finite and dominated rows are dropped; when the non-dominated rows
    have at most ``exact`` subsets of size ``n``, all are scored (``how = "exact"``), else the
    greedy choice is improved by exchanges with at most ``refine`` HV evaluations, stopped at
    ``deadline`` (a :func:`time.perf_counter` time; ``"greedy"``). Empty when no row lies
    inside the reference box."""
    P, r = _check(F, ref)
    finite = np.isfinite(P).all(axis=1)
    cand = np.nonzero(finite)[0]
    if not len(cand):
        return np.zeros(0, dtype=np.int64), "greedy"
    cand = cand[moocore.is_nondominated(P[cand])]
    Fc = P[cand]
    best = exact_hv_subset(Fc, r, n, limit=exact) if exact else None
    if best is not None:
        return cand[best], "exact"
    idx = swap_refine(Fc, r, greedy_hv_subset(Fc, r, n), max_evals=refine, deadline=deadline)
    return cand[idx], "greedy"

