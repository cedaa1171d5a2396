"""Figures of a study (or of a ``hybridmoo train`` file): fronts, HV traces, outer front.

- :func:`fronts_figure`: the learned fronts of the outer-front trials (at most six, best HV
  first; a train file's one trial), one panel each (:mod:`hybridmoo.report.fronts`), with the
  reference front and the study front in every panel;
- :func:`traces_figure`: every trial's HV trace against training time, trials on the outer
  front in vermillion solid lines, the others in thin dashed sky blue;
- :func:`outer_figure`: final HV against the study's other outer objective; left every
  finished trial, right the outer front zoomed to its own points.

The *study front* (:func:`study_front`) is ``StudyData.study_front(n)`` (:mod:`hybridmoo.
studyfront`: every kept hypernetwork queried densely, the pooled non-dominated points, ``n``
chosen by greedy hypervolume contribution), drawn in black over each trial's own front so that
the panels show what the study adds to every trial. Where no trial's weights were kept it is
computed here from the stored fronts instead: every finished trial's front pooled, the
non-dominated points kept (moocore) and ``n`` of them chosen by greedy hypervolume subset
selection (:func:`hybridmoo.subset.greedy_hv_subset`), ``n`` defaulting to the size of the best
trial's front. Its label says which.
"""

from __future__ import annotations

import json

import numpy as np

from hybridmoo import metrics, store
from hybridmoo.report.fronts import FrontPanel, front_figure
from hybridmoo.report.palette import (
    OFF_FRONT,
    OKABE_ITO,
    ON_FRONT,
    Style,
    method_styles,
    plt,
    plural,
)

__all__ = ["fronts_figure", "objective_names", "outer_axis", "outer_figure", "reference",
           "study_figures", "study_front", "traces_figure"]


def _problem(data):
    from hybridmoo.analysis import _problem as build

    return build(data.problem_info)


def reference(data) -> tuple[np.ndarray | None, float | None]:
    """(reference front `(R, m)`, its HV) of the study's problem, ``(None, None)`` without."""
    try:
        p = _problem(data)
    except Exception:  # noqa: BLE001 - a problem that cannot be rebuilt: no reference
        return None, None
    pf = p.pareto_front(2000)
    ref_hv = None
    if pf is not None and p.ref_point is not None:
        ref_hv = metrics.hypervolume(pf, p.ref_point)
    return pf, ref_hv


def _ok(data) -> list[dict]:
    return [r for r in data.trial_records() if r["status"] == "ok"]


def _front(data, tid: int):
    """A trial's stored result without its weights (fronts and traces only)."""
    return store.read_trial(data.path, tid, weights=False)


def objective_names(data, m: int) -> list[str]:
    """The problem's objective names, or f1…fm where they do not match ``m``."""
    names = list(data.problem_info.get("obj_names") or [])
    return names if len(names) == m else [f"f{i + 1}" for i in range(m)]


def study_front(data, n: int | None = None) -> tuple[np.ndarray, str] | None:
    """The study front `(k, m)` and its label (see the module docstring); ``None`` with fewer
    than two finished trials (a train file: there is nothing to pool)."""
    ok = _ok(data)
    if len(ok) < 2:
        return None
    best = max(ok, key=lambda r: r["hv"])
    if n is None:
        n = len(_front(data, best["trial_id"]).F)
    if hasattr(data, "study_front"):
        from hybridmoo.errors import StoreError

        try:
            res = data.study_front(n)
        except StoreError:  # no kept hypernetwork: pool the stored fronts below
            res = None
        if res is not None:
            used = len(set(np.asarray(res.trial_ids).tolist()))
            return np.asarray(res.F, dtype=float), (
                f"study front (HV {res.hv:.4g}): {len(res)} points from {used} of "
                f"{plural(len(res.trials), 'kept trial')}")
    import moocore

    from hybridmoo.subset import greedy_hv_subset

    results = [_front(data, r["trial_id"]) for r in ok]
    P = np.vstack([r.F for r in results])
    P = P[np.isfinite(P).all(axis=1)]
    P = P[moocore.is_nondominated(P)]
    idx = greedy_hv_subset(P, results[0].ref_point, n)
    hv = metrics.hypervolume(P[idx], results[0].ref_point)
    return P[idx], (f"study front (HV {hv:.4g}): {len(idx)} points chosen by greedy HV from "
                    f"the {len(P)} non-dominated points of {plural(len(ok), 'trial')}")


def _shown(data, limit: int = 6) -> list[dict]:
    ok = _ok(data)
    front = set(data.outer_front_ids())
    shown = [r for r in ok if r["trial_id"] in front] or ok
    return sorted(shown, key=lambda r: -r["hv"])[:limit]


def fronts_figure(data):
    """Learned fronts of the outer-front trials against the study and reference fronts."""
    shown = _shown(data)
    results = {r["trial_id"]: _front(data, r["trial_id"]) for r in shown}
    m = next(iter(results.values())).F.shape[1]
    names = objective_names(data, m)
    pf, _ = reference(data)
    sf = study_front(data) if data.kind == "study" else None
    front = set(data.outer_front_ids())
    styles = method_styles([(str(t), "trial") for t in results])
    panels = [FrontPanel(title=f"trial {t} (HV {r.hv:.4g})", F=np.asarray(r.F, dtype=float),
                         style=Style(OKABE_ITO["blue"], styles[str(t)].linestyle,
                                     styles[str(t)].marker))
              for t, r in results.items()]
    what = ("outer-front trials" if front and all(t in front for t in results)
            else plural(len(results), "trial"))
    title = f"{data.problem_info['name']}: learned fronts of the {what}"
    if data.kind != "study":
        title = f"{data.problem_info['name']}: learned front of trial {shown[0]['trial_id']}"
    ref_point = next(iter(results.values())).ref_point
    return front_figure(panels, names, title=title, reference=pf,
                        overlay=(sf[1], sf[0]) if sf is not None else None, ref_point=ref_point)


def traces_figure(data):
    """HV traces of every finished trial against training time."""
    pyplot = plt()
    _, ref_hv = reference(data)
    front = set(data.outer_front_ids())
    ok = _ok(data)
    fig, ax = pyplot.subplots(figsize=(8.5, 4.8))
    n_on = n_off = 0
    for r in ok:
        tr = _front(data, r["trial_id"]).trace
        on = r["trial_id"] in front
        n_on += on
        n_off += not on
        if on:
            ax.plot(tr["seconds"], tr["hv"], color=ON_FRONT, lw=1.8, zorder=3)
        else:
            ax.plot(tr["seconds"], tr["hv"], color=OFF_FRONT, lw=0.9, ls="--", alpha=0.7,
                    zorder=2)
    from matplotlib.lines import Line2D

    handles = []
    if data.kind != "study" and len(ok) == 1:
        handles = [Line2D([], [], color=OFF_FRONT, lw=0.9, ls="--",
                          label=f"trial {ok[0]['trial_id']} (final HV {ok[0]['hv']:.4g})")]
    else:
        if n_on:
            handles.append(Line2D([], [], color=ON_FRONT, lw=1.8,
                                  label=f"on the outer front ({plural(n_on, 'trial')})"))
        if n_off:
            handles.append(Line2D([], [], color=OFF_FRONT, lw=0.9, ls="--",
                                  label=f"not on it ({plural(n_off, 'trial')})"))
    if ref_hv is not None:
        ax.axhline(ref_hv, color="0.2", ls=":", lw=1)
        handles.append(Line2D([], [], color="0.2", ls=":", lw=1,
                              label=f"reference front HV ({ref_hv:.4g})"))
    ax.set_xlabel("training time (s)")
    ax.set_ylabel("hypervolume (held-out evaluation)")
    word = "HV trace" if len(ok) == 1 else "HV traces"
    ax.set_title(f"{data.problem_info['name']}: {word} of {plural(len(ok), 'trial')}")
    ax.set_ylim(bottom=max(ax.get_ylim()[0], 0))
    ax.grid(alpha=0.3)
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
                  frameon=False)
    fig.tight_layout()
    return fig


def outer_axis(names: list[str]) -> tuple[str, str]:
    """(trial-record key, axis label) of the outer-front plot's x axis for objectives
    ``names``: the first objective besides ``hv``, else the hypernetwork's parameters."""
    from hybridmoo.studyfile import OBJECTIVES

    others = [n for n in names if n != "hv"]
    if not others:
        return "n_params", "hypernetwork parameters"
    label = "hypernetwork parameters" if others[0] == "n_params" else OBJECTIVES[others[0]][1]
    return f"outer.{others[0]}", label


def _ticks(ax, x: np.ndarray) -> None:
    """Readable ticks: at most 6 per axis, no offset notation, log x for a wide positive x."""
    from matplotlib import ticker

    finite = x[np.isfinite(x)]
    if finite.size and finite.min() > 0 and finite.max() / finite.min() > 20:
        ax.set_xscale("log")
    elif finite.size and finite.min() >= 1000:
        ax.xaxis.set_major_locator(ticker.MaxNLocator(5))
        ax.xaxis.set_major_formatter(ticker.EngFormatter(sep=""))
    else:
        ax.xaxis.set_major_locator(ticker.MaxNLocator(5))
        ax.xaxis.set_major_formatter(ticker.ScalarFormatter(useOffset=False))
    if ax.get_xscale() == "log":
        ax.xaxis.set_major_formatter(ticker.EngFormatter(sep=""))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.yaxis.set_major_locator(ticker.MaxNLocator(6))
    ax.yaxis.set_major_formatter(ticker.ScalarFormatter(useOffset=False))


def _pad(lo: float, hi: float, frac: float = 0.15) -> tuple[float, float]:
    span = hi - lo
    if span <= 0:
        span = abs(hi) * 0.02 or 1.0
    return lo - frac * span, hi + frac * span


def outer_figure(data):
    """Final HV against the study's other outer objective (the first besides ``hv``;
    ``n_params`` when HV is the only one): every trial (left) and the outer front zoomed to its
    points (right), front trials labelled by id."""
    pyplot = plt()
    recs = _ok(data)
    front = set(data.outer_front_ids())
    names = json.loads(data.attrs.get("objectives", '["hv", "n_params"]'))
    key, label = outer_axis(names)
    x = np.array([r.get(key, np.nan) for r in recs], dtype=float)
    y = np.array([r["hv"] for r in recs])
    on = np.array([r["trial_id"] in front for r in recs], dtype=bool)
    ids = [r["trial_id"] for r in recs]
    _, ref_hv = reference(data)
    fig, axes = pyplot.subplots(1, 2, figsize=(11, 4.6))
    line = len(names) == 2 and "hv" in names  # the front is a staircase only in this plane
    order = np.argsort(x[on])
    for k, ax in enumerate(axes):
        ax.scatter(x[~on], y[~on], s=22, color=OFF_FRONT, marker="o", alpha=0.8, lw=0,
                   label=f"not on the outer front ({plural(int((~on).sum()), 'trial')})")
        ax.plot(x[on][order], y[on][order], "-" if line else "none", marker="D", ms=6,
                color=ON_FRONT, mec="black", mew=0.5,
                label=f"on the outer front ({plural(int(on.sum()), 'trial')})")
        if k == 1:
            if on.any():
                xl = _pad(np.nanmin(x[on]), np.nanmax(x[on]))
                if np.nanmin(x[on]) > 0 and np.nanmax(x[on]) / np.nanmin(x[on]) > 20:
                    xl = (np.nanmin(x[on]) / 1.5, np.nanmax(x[on]) * 1.5)
                ax.set_xlim(*xl)
                ax.set_ylim(*_pad(y[on].min(), y[on].max()))
            for xi, yi, t, o in zip(x, y, ids, on, strict=True):
                if o:
                    ax.annotate(str(t), (xi, yi), fontsize=8, xytext=(4, 4),
                                textcoords="offset points")
        _ticks(ax, x[on] if k == 1 and on.any() else x)
        if ref_hv is not None:
            lo, hi = ax.get_ylim()
            if lo <= ref_hv <= hi:
                ax.axhline(ref_hv, color="0.2", ls=":", lw=1,
                           label=f"reference front HV ({ref_hv:.4g})")
        ax.set_xlabel(label)
        ax.set_ylabel("hypervolume of the learned front")
        ax.grid(alpha=0.3)
    name = data.problem_info["name"]
    axes[0].set_title(f"all {plural(len(recs), 'finished trial')}", fontsize=10)
    axes[1].set_title("the outer front, zoomed", fontsize=10)
    fig.suptitle(f"{name}: outer front ({int(on.sum())} of {plural(len(recs), 'trial')})")
    handles, labels = [], []
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels and not lab.startswith("not on the outer front (0") \
                    and not lab.startswith("on the outer front (0"):
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False,
               fontsize=8)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def study_figures(data) -> dict:
    """name → matplotlib Figure: ``fronts``, ``traces`` and, for a study, ``outer``."""
    figs = {"fronts": fronts_figure(data), "traces": traces_figure(data)}
    if data.kind == "study":
        figs["outer"] = outer_figure(data)
    return figs
