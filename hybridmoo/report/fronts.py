"""Fronts as small multiples: one panel per method (or trial), the same axes everywhere.

Every panel draws the reference front (light grey) where the problem has one, and, for a
study, the study front (black) over which the panel's own front is laid. Two objectives: one
2-D panel per front. Three: a row per front with a 3-D view (labelled axes) and the three 2-D
projections. Four or more: parallel coordinates, each objective scaled to [0, 1] over every
point shown (0 = the smallest value seen).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hybridmoo.report.palette import REFERENCE, STUDY_FRONT, Style, plt

__all__ = ["FrontPanel", "front_figure"]


@dataclass
class FrontPanel:
    """One panel: its ``title``, the front ``F`` (`(n, m)` objective values) and its style."""

    title: str
    F: np.ndarray
    style: Style


def _limits(arrays: list[np.ndarray], ref_point) -> tuple[np.ndarray, np.ndarray]:
    """Per-objective axis limits over every point (capped at the reference point), 4 % margin."""
    pts = np.vstack([a for a in arrays if a is not None and len(a)])
    pts = pts[np.isfinite(pts).all(axis=1)]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    if ref_point is not None:
        r = np.asarray(ref_point, dtype=float)
        inside = pts[(pts <= r).all(axis=1)]
        if len(inside):
            hi = np.minimum(hi, np.maximum(inside.max(axis=0), r))
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    return lo - 0.04 * span, hi + 0.04 * span


def _beyond(F: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> int:
    """How many points of ``F`` fall outside the axes."""
    return int((~((F >= lo) & (F <= hi)).all(axis=1)).sum())


def front_figure(panels: list[FrontPanel], names: list[str], *, title: str,
                 reference: np.ndarray | None = None, overlay: tuple[str, np.ndarray] | None
                 = None, ref_point=None, ncols: int = 4):
    """Small multiples of fronts (see the module docstring); returns the matplotlib Figure.

    Args:
        panels: the fronts, one panel (or, for three objectives, one row of panels) each.
        names: the `m` objective names (axis labels).
        title: the figure's title.
        reference: `(R, m)` reference front drawn in every panel, or ``None``.
        overlay: ``(label, (S, m) front)`` drawn in every panel under the panel's own front
            (a study's study front), or ``None``.
        ref_point: `(m,)` HV reference point: the axes stop there (points beyond are counted
            in the panel).
        ncols: panels per row for two objectives and parallel coordinates.
    """
    m = len(names)
    for p in panels:
        if p.F.ndim != 2 or p.F.shape[1] != m:
            from hybridmoo.errors import ShapeError

            raise ShapeError(f"front of {p.title!r} has shape {p.F.shape}; expected (n, {m}) "
                             f"for the objectives {', '.join(names)}")
    if m == 2:
        return _two(panels, names, title, reference, overlay, ref_point, ncols)
    if m == 3:
        return _three(panels, names, title, reference, overlay, ref_point)
    return _parallel(panels, names, title, reference, overlay, ncols)


def _legend(fig, reference, overlay, extra=()) -> None:
    from matplotlib.lines import Line2D

    handles = list(extra)
    if reference is not None:
        handles.append(Line2D([], [], color=REFERENCE, lw=6, label="reference front"))
    if overlay is not None:
        two = overlay[1].shape[1] == 2
        handles.append(Line2D([], [], color=STUDY_FRONT, marker="none" if two else "x",
                              ls="-" if two else "none", lw=0.9, ms=5, label=overlay[0]))
    if handles:
        fig.legend(handles=handles, loc="lower center", ncol=min(3, len(handles)),
                   frameon=False, fontsize=9, bbox_to_anchor=(0.5, 0.0))


def _draw2(ax, F, i, j, p, reference, overlay, lo, hi, names):
    if reference is not None:
        R = reference[np.argsort(reference[:, i])] if reference.shape[1] == 2 else reference
        if reference.shape[1] == 2:
            ax.plot(R[:, i], R[:, j], color=REFERENCE, lw=7, solid_capstyle="round",
                    zorder=1)
        else:
            ax.scatter(R[:, i], R[:, j], s=2, color=REFERENCE, zorder=1, rasterized=True)
    if overlay is not None:
        S = overlay[1]
        if S.shape[1] == 2:  # a curve in the plane: joined; projections of 3-D: points only
            S = S[np.argsort(S[:, i])]
            ax.plot(S[:, i], S[:, j], "-", color=STUDY_FRONT, lw=0.9, zorder=4)
        else:
            ax.plot(S[:, i], S[:, j], "x", color=STUDY_FRONT, ms=3, alpha=0.5, zorder=2)
    ax.plot(F[:, i], F[:, j], ls="none", marker=p.style.marker, color=p.style.color, ms=3,
            alpha=0.8, zorder=3)
    ax.set_xlim(lo[i], hi[i])
    ax.set_ylim(lo[j], hi[j])
    ax.set_xlabel(names[i])
    ax.set_ylabel(names[j])
    ax.tick_params(labelsize=7)


def _note_beyond(ax, F, lo, hi, three_d=False) -> None:
    k = _beyond(F, lo, hi)
    if k:
        text = f"{k} point{'s' if k != 1 else ''} beyond the axes"
        if three_d:
            ax.text2D(0.98, 0.98, text, transform=ax.transAxes, ha="right", va="top",
                      fontsize=7)
        else:
            ax.text(0.98, 0.98, text, transform=ax.transAxes, ha="right", va="top", fontsize=7)


def _two(panels, names, title, reference, overlay, ref_point, ncols):
    pyplot = plt()
    n = max(1, len(panels))
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = pyplot.subplots(nrows, ncols, figsize=(3.1 * ncols, 2.9 * nrows + 0.9),
                                sharex=True, sharey=True, squeeze=False)
    lo, hi = _limits([p.F for p in panels] + [reference, overlay[1] if overlay else None],
                     ref_point)
    for k, ax in enumerate(axes.flat):
        if k >= len(panels):
            ax.remove()
            continue
        p = panels[k]
        _draw2(ax, p.F, 0, 1, p, reference, overlay, lo, hi, names)
        ax.xaxis.set_tick_params(labelbottom=True)
        ax.yaxis.set_tick_params(labelleft=True)
        ax.set_title(p.title, fontsize=9, color="black")
        _note_beyond(ax, p.F, lo, hi)
    fig.suptitle(title)
    _legend(fig, reference, overlay)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def _three(panels, names, title, reference, overlay, ref_point):
    pyplot = plt()
    n = max(1, len(panels))
    pairs = [(0, 1), (0, 2), (1, 2)]
    fig = pyplot.figure(figsize=(13, 3.1 * n + 0.9))
    lo, hi = _limits([p.F for p in panels] + [reference, overlay[1] if overlay else None],
                     ref_point)
    for r, p in enumerate(panels):
        ax = fig.add_subplot(n, 4, 4 * r + 1, projection="3d")
        if reference is not None:
            ax.scatter(*reference.T, s=1, color=REFERENCE, alpha=0.5, rasterized=True)
        if overlay is not None:
            ax.scatter(*overlay[1].T, s=10, marker="x", color=STUDY_FRONT, alpha=0.7)
        ax.scatter(*p.F.T, s=9, marker=p.style.marker, color=p.style.color, alpha=0.9,
                   depthshade=False)
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_zlim(lo[2], hi[2])
        ax.set_xlabel(names[0], fontsize=8, labelpad=-2)
        ax.set_ylabel(names[1], fontsize=8, labelpad=-2)
        ax.set_zlabel(names[2], fontsize=8, labelpad=-2)
        ax.tick_params(labelsize=6, pad=-2)
        ax.view_init(elev=25, azim=45)
        ax.set_title(p.title, fontsize=9)
        _note_beyond(ax, p.F, lo, hi, three_d=True)
        for c, (i, j) in enumerate(pairs):
            ax2 = fig.add_subplot(n, 4, 4 * r + 2 + c)
            _draw2(ax2, p.F, i, j, p, reference, overlay, lo, hi, names)
    fig.suptitle(title)
    _legend(fig, reference, overlay)
    fig.tight_layout(rect=(0, 0.9 / (3.1 * n + 0.9), 1, 1))
    return fig


def _parallel(panels, names, title, reference, overlay, ncols):
    pyplot = plt()
    m = len(names)
    n = max(1, len(panels))
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = pyplot.subplots(nrows, ncols, figsize=(3.6 * ncols, 3.0 * nrows + 0.9),
                                sharey=True, squeeze=False)
    arrays = [p.F for p in panels] + [reference, overlay[1] if overlay else None]
    pts = np.vstack([a for a in arrays if a is not None and len(a)])
    pts = pts[np.isfinite(pts).all(axis=1)]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)

    def scaled(A):
        return (A - lo) / span

    rng = np.random.default_rng(0)  # subsample of the reference front: the same in every panel
    R = None
    if reference is not None:
        R = scaled(reference[rng.choice(len(reference), min(200, len(reference)),
                                        replace=False)])
    x = np.arange(m)
    for k, ax in enumerate(axes.flat):
        if k >= len(panels):
            ax.remove()
            continue
        p = panels[k]
        if R is not None:
            ax.plot(x, R.T, color=REFERENCE, lw=0.6, alpha=0.5, zorder=1)
        if overlay is not None:
            ax.plot(x, scaled(overlay[1]).T, color=STUDY_FRONT, lw=0.6, ls=":", zorder=2)
        ax.plot(x, scaled(p.F).T, color=p.style.color, ls=p.style.linestyle, lw=0.9,
                alpha=0.6, zorder=3)
        ax.set_xticks(x, names, rotation=30, fontsize=8)
        ax.set_xlim(-0.2, m - 0.8)
        ax.set_ylabel("objective, scaled to [0, 1]", fontsize=8)
        ax.set_title(p.title, fontsize=9)
        ax.yaxis.set_tick_params(labelleft=True)
    fig.suptitle(title + " (parallel coordinates)")
    _legend(fig, reference, overlay)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig
