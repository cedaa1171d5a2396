"""Figures of a comparison (``hybridmoo compare``): HV over time, final HV per method, fronts.

- :func:`hv_over_time`: per method the median over seeds of the HV trace, with a band from the
  seeds' minimum to maximum; one colour (by family) *and* line style per method; the legend
  outside the axes; a log time axis where most curves rise within the first tenth of the run;
  the method with the best median final HV named in the title.
- :func:`final_hv`: each seed's final HV as a dot, a box over the seeds, methods sorted from the
  best median down, and the two-sided exact Mann–Whitney U test (``scipy.stats.mannwhitneyu``,
  ``method="exact"``) of every method's final HVs against the best method's, its p value
  printed beside the row (a star where p < 0.05).
- :func:`compare_fronts`: one panel per method (its median-HV seed), see
  :mod:`hybridmoo.report.fronts`.
"""

from __future__ import annotations

import math

import numpy as np

from hybridmoo.report.fronts import FrontPanel, front_figure
from hybridmoo.report.palette import REFERENCE, method_styles, plt, plural

__all__ = ["compare_fronts", "final_hv", "hv_over_time", "mannwhitney_vs_best", "styles_of"]

TEST_NAME = "two-sided exact Mann–Whitney U test"


def styles_of(rows: list[dict]):
    """label → :class:`~hybridmoo.report.palette.Style` of the rows (``label``, ``family``)."""
    return method_styles([(r["label"], r["family"]) for r in rows])


def _median_trace(runs, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(median, min, max) over seeds of the HV traces on ``grid`` (seconds): each seed's HV is
    its last recorded value at or before the time (NaN before its first point; its final value
    after its end, which is the end of its budget)."""
    curves = []
    for r in runs:
        t = np.asarray(r.trace.get("seconds", []), dtype=float)
        h = np.asarray(r.trace.get("hv", []), dtype=float)
        if not len(t):
            continue
        idx = np.searchsorted(t, grid, side="right") - 1
        c = np.where(idx >= 0, h[np.clip(idx, 0, None)], np.nan)
        curves.append(c)
    if not curves:
        nan = np.full_like(grid, np.nan)
        return nan, nan, nan
    C = np.vstack(curves)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmedian(C, axis=0), np.nanmin(C, axis=0), np.nanmax(C, axis=0)


def _starts_fast(rows: list[dict]) -> bool:
    """True when most methods' median curves reach 80 % of their final HV rise within the first
    tenth of their run: then a log time axis shows where they differ."""
    fast = 0
    counted = 0
    for r in rows:
        for run in r["runs"][:1]:
            t = np.asarray(run.trace.get("seconds", []), dtype=float)
            h = np.asarray(run.trace.get("hv", []), dtype=float)
            if len(t) < 3 or t[-1] <= 0:
                continue
            counted += 1
            rise = h[-1] - h[0]
            if rise <= 0:
                fast += 1
                continue
            early = h[t <= t[0] + 0.1 * (t[-1] - t[0])]
            fast += bool(len(early) and early.max() - h[0] >= 0.8 * rise)
    return counted > 0 and fast > counted / 2


def winner(rows: list[dict]) -> dict | None:
    """The row with the best median final HV (``None`` when no method finished a run)."""
    done = [r for r in rows if r["runs"]]
    return max(done, key=lambda r: np.median([x.hv for x in r["runs"]])) if done else None


def hv_over_time(rows: list[dict], *, name: str, seeds: int, ref_hv: float | None = None):
    """HV over wall-clock time per method (see the module docstring); returns the Figure.

    Args:
        rows: one dict per method: ``label``, ``family`` and ``runs`` (its finished
            :class:`~hybridmoo.baselines.BaselineResult`, each with a ``trace`` of
            ``seconds`` and ``hv``).
        name: the comparison's name (title). seeds: seeds per method.
        ref_hv: the reference front's HV (a dashed line), or ``None``.
    """
    pyplot = plt()
    styles = styles_of(rows)
    log = _starts_fast(rows)
    times = [np.asarray(run.trace.get("seconds", []), dtype=float) for r in rows
             for run in r["runs"]]
    times = [t for t in times if len(t)]
    t_end = max((t[-1] for t in times), default=1.0)
    # a log axis starts where the first curve leaves zero (not at a start-up instant)
    rising = [np.asarray(run.trace["seconds"], dtype=float)[np.asarray(run.trace["hv"]) > 0]
              for r in rows for run in r["runs"] if len(run.trace.get("seconds", []))]
    rising = [t[t > 0] for t in rising]
    t_start = max(min((t.min() for t in rising if len(t)), default=t_end / 100) / 1.5,
                  t_end * 1e-4)
    grid = (np.geomspace(t_start, t_end, 300) if log and t_start < t_end
            else np.linspace(0.0, t_end, 300))
    fig, ax = pyplot.subplots(figsize=(9.5, 5.2))
    for r in rows:
        if not r["runs"]:
            continue
        s = styles[r["label"]]
        med, lo, hi = _median_trace(r["runs"], grid)
        lw = 2.2 if r["label"].startswith("hybridmoo") else 1.5
        # one marker at the end of the curve (and in the legend): for grey prints
        last = np.flatnonzero(np.isfinite(med))
        ax.plot(grid, med, lw=lw, label=r["label"], marker=s.marker, ms=6,
                markevery=[int(last[-1])] if len(last) else [], **s.line())
        if len(r["runs"]) > 1:
            ax.fill_between(grid, lo, hi, color=s.color, alpha=0.12, lw=0)
    if ref_hv is not None:
        ax.axhline(ref_hv, color="0.3", ls=(0, (2, 2)), lw=1, label="reference front HV")
    if log:
        ax.set_xscale("log")
    _zoom_hv(ax, rows, ref_hv)
    ax.set_xlabel("wall-clock time (s, log scale)" if log else "wall-clock time (s)")
    ax.set_ylabel("hypervolume")
    w = winner(rows)
    head = f"{name}: HV over time"
    if w is not None:
        med = np.median([x.hv for x in w["runs"]])
        head += f" — best: {w['label']} (median final HV {med:.4g})"
    ax.set_title(head, fontsize=11)
    ax.text(0.0, -0.13 if not log else -0.14, f"line: median over {plural(seeds, 'seed')}; "
            "band: their minimum to maximum", transform=ax.transAxes, fontsize=8, va="top")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False,
              handlelength=3.2)
    fig.tight_layout()
    return fig


def _zoom_hv(ax, rows, ref_hv) -> None:
    """Y axis from a little under the weakest final HV to a little over the best (or the
    reference HV): the start-up rise of every curve is not what tells methods apart."""
    finals = [x.hv for r in rows for x in r["runs"] if math.isfinite(x.hv)]
    if not finals:
        return
    top = max(finals + ([ref_hv] if ref_hv else []))
    bottom = min(finals)
    span = max(top - bottom, 1e-12)
    ax.set_ylim(max(0.0, bottom - 0.25 * span), top + 0.05 * span)


def mannwhitney_vs_best(rows: list[dict]) -> dict[str, float]:
    """label → p value of the two-sided exact Mann–Whitney U test of the method's final HVs
    against the best method's (:func:`winner`); NaN for the best itself or with under 2 runs.

    With 3 seeds against 3 the smallest two-sided exact p is 0.1: no difference can be
    significant at 0.05 with so few seeds."""
    from scipy.stats import mannwhitneyu

    best = winner(rows)
    out = {}
    for r in rows:
        x = [run.hv for run in r["runs"]]
        if best is None or r is best or len(x) < 2 or len(best["runs"]) < 2:
            out[r["label"]] = math.nan
            continue
        y = [run.hv for run in best["runs"]]
        out[r["label"]] = float(mannwhitneyu(x, y, alternative="two-sided",
                                             method="exact").pvalue)
    return out


def final_hv(rows: list[dict], *, name: str, ref_hv: float | None = None):
    """Final HV per method over its seeds, sorted, with the exact Mann–Whitney U p value of
    its gap to the best method (see the module docstring); returns the Figure. The left panel
    shows every method; the right one zooms on the methods whose median is within 2 % of the
    best's (points left of its axis are marked at the edge)."""
    pyplot = plt()
    styles = styles_of(rows)
    done = [r for r in rows if r["runs"]]
    done.sort(key=lambda r: np.median([x.hv for x in r["runs"]]))  # best ends on top
    pvals = mannwhitney_vs_best(rows)
    best = winner(rows)
    height = 0.42 * len(done) + 1.9
    fig, axes = pyplot.subplots(1, 2, figsize=(11.5, height), sharey=True,
                                gridspec_kw={"width_ratios": [1, 1]})
    medians = [float(np.median([x.hv for x in r["runs"]])) for r in done]
    top = max(medians, default=0.0)
    near = [x.hv for r, med in zip(done, medians, strict=True) if med >= top - 0.02 * abs(top)
            for x in r["runs"]]
    hi_all = max([x.hv for r in done for x in r["runs"]] + ([ref_hv] if ref_hv else []),
                 default=1.0)
    lo_zoom = min(near, default=top)
    span = max(hi_all - lo_zoom, 1e-9)
    zoom = (lo_zoom - 0.15 * span, hi_all + 0.1 * span)
    rng = np.random.default_rng(0)  # vertical jitter of the dots, fixed
    jitter = {r["label"]: rng.uniform(-0.12, 0.12, len(r["runs"])) for r in done}
    for a, ax in enumerate(axes):
        for k, r in enumerate(done):
            hv = np.array([x.hv for x in r["runs"]])
            s = styles[r["label"]]
            ax.boxplot(hv, positions=[k], orientation="horizontal", widths=0.55, manage_ticks=False,
                       showfliers=False, medianprops={"color": s.color, "lw": 2},
                       boxprops={"color": "0.45"}, whiskerprops={"color": "0.45"},
                       capprops={"color": "0.45"})
            ax.plot(hv, k + jitter[r["label"]], ls="none", marker=s.marker, color=s.color,
                    ms=6, mec="black", mew=0.5, zorder=3)
            if a == 1 and (hv < zoom[0]).any():
                ax.plot(zoom[0], k, marker="<", color="0.5", ms=7, clip_on=False, zorder=4)
            if a == 1:
                p = pvals.get(r["label"], math.nan)
                note = "best" if r is best else ("—" if math.isnan(p) else
                                                 f"p = {p:.2g}" + (" *" if p < 0.05 else ""))
                ax.annotate(note, (1.0, k), xycoords=("axes fraction", "data"),
                            xytext=(6, 0), textcoords="offset points", va="center",
                            fontsize=8)
        if ref_hv is not None:
            ax.axvline(ref_hv, color=REFERENCE, lw=2, ls="--", zorder=0)
        ax.grid(axis="x", alpha=0.3)
        ax.set_xlabel("final hypervolume (one dot per seed)")
    axes[1].set_xlim(*zoom)
    axes[0].set_yticks(range(len(done)), [r["label"] for r in done], fontsize=9)
    axes[0].set_ylim(-0.7, len(done) - 0.3)
    axes[0].set_title("every method", fontsize=10)
    axes[1].set_title("zoom: the methods within 2 % of the best median", fontsize=10)
    fig.suptitle(f"{name}: final HV per method"
                 + (f" — best: {best['label']}" if best is not None else ""))
    n = max((len(r["runs"]) for r in done), default=0)
    ref_note = "; dashed: the reference front's HV" if ref_hv is not None else ""
    fig.text(0.01, 0.005, f"p: {TEST_NAME} of each method's final HVs against the best's "
             f"({plural(n, 'seed')} each; * p < 0.05){ref_note}", fontsize=8, va="bottom")
    fig.tight_layout(rect=(0, 0.35 / height, 1, 1))
    return fig


def compare_fronts(rows: list[dict], names: list[str], *, name: str, reference=None,
                   ref_point=None):
    """Final fronts, one panel per method: the seed with the median final HV."""
    styles = styles_of(rows)
    panels = []
    for r in rows:
        if not r["runs"]:
            continue
        runs = sorted(r["runs"], key=lambda x: x.hv)
        run = runs[(len(runs) - 1) // 2]
        panels.append(FrontPanel(title=f"{r['label']} (seed {run.seed}, HV {run.hv:.4g})",
                                 F=np.asarray(run.F, dtype=float), style=styles[r["label"]]))
    return front_figure(panels, names, title=f"{name}: final fronts (median-HV seed of each "
                        "method)", reference=reference, ref_point=ref_point)
