"""``hybridmoo plot``: PNG figures of a study, readable at a glance.

- ``<stem>_fronts.png``: the learned fronts of the outer-front trials (or of a ``train`` file's
  trial) against the reference front: a 2-D scatter for two objectives, 3-D for three, parallel
  coordinates beyond;
- ``<stem>_traces.png``: the HV trace of every trial against training time, with the reference
  front's HV where known;
- ``<stem>_outer.png``: every trial's final HV against its hypernetwork's parameter count, the
  outer Pareto front highlighted (studies only).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hybridmoo import metrics
from hybridmoo.analysis import StudyData, _problem

__all__ = ["plot_all", "plot_fronts", "plot_outer_front", "plot_traces"]


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _reference(data: StudyData):
    try:
        p = _problem(data.problem_info)
    except Exception:  # noqa: BLE001 - a problem that cannot be rebuilt: no reference
        return None, None
    pf = p.pareto_front(2000)
    ref_hv = None
    if pf is not None and p.ref_point is not None:
        ref_hv = metrics.hypervolume(pf, p.ref_point)
    return pf, ref_hv


def _shown_trials(data: StudyData, limit: int = 6) -> list[int]:
    front = data.outer_front_ids()
    ok = [r for r in data.trial_records() if r["status"] == "ok"]
    ids = [r["trial_id"] for r in ok if r["trial_id"] in front] or [r["trial_id"] for r in ok]
    hv = {r["trial_id"]: r["hv"] for r in ok}
    return sorted(ids, key=lambda t: -hv[t])[:limit]


def plot_fronts(data: StudyData, out: Path, trial_ids: list[int] | None = None) -> Path:
    """Learned fronts against the reference front (see module docstring)."""
    plt = _plt()
    names = data.problem_info.get("obj_names") or []
    ids = trial_ids or _shown_trials(data)
    pf, _ = _reference(data)
    trials = {t: data.trial(t) for t in ids}
    m = next(iter(trials.values())).F.shape[1] if trials else len(names)
    names = names if len(names) == m else [f"f{i + 1}" for i in range(m)]
    title = f"{data.problem_info['name']}: learned fronts"
    if m == 2:
        fig, ax = plt.subplots(figsize=(6.5, 5))
        if pf is not None:
            order = np.argsort(pf[:, 0])
            ax.plot(pf[order, 0], pf[order, 1], ".", ms=2, color="0.6", label="reference front")
        for t, r in trials.items():
            ax.plot(r.F[:, 0], r.F[:, 1], "o", ms=3, alpha=0.8,
                    label=f"trial {t} (HV {r.hv:.4g})")
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
    elif m == 3:
        fig = plt.figure(figsize=(7, 6))
        ax = fig.add_subplot(projection="3d")
        if pf is not None:
            ax.scatter(*pf.T, s=1, color="0.6", alpha=0.4, label="reference front")
        for t, r in trials.items():
            ax.scatter(*r.F.T, s=6, alpha=0.8, label=f"trial {t} (HV {r.hv:.4g})")
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        ax.set_zlabel(names[2])
    else:
        fig, ax = plt.subplots(figsize=(8, 5))
        for k, (t, r) in enumerate(trials.items()):
            for i, row in enumerate(r.F):
                ax.plot(range(m), row, color=f"C{k}", alpha=0.3,
                        label=f"trial {t} (HV {r.hv:.4g})" if i == 0 else None)
        ax.set_xticks(range(m), names)
        ax.set_ylabel("objective value")
        title += " (parallel coordinates)"
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def plot_traces(data: StudyData, out: Path) -> Path:
    """HV traces of all trials against training time."""
    plt = _plt()
    _, ref_hv = _reference(data)
    front = set(data.outer_front_ids())
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for r in data.trial_records():
        if r["status"] != "ok":
            continue
        tr = data.trial(r["trial_id"]).trace
        on = r["trial_id"] in front
        ax.plot(tr["seconds"], tr["hv"], lw=1.6 if on else 0.8, alpha=0.9 if on else 0.35,
                color="C1" if on else "C0")
    if ref_hv is not None:
        ax.axhline(ref_hv, color="k", ls="--", lw=1, label=f"reference front HV {ref_hv:.4g}")
    ax.plot([], [], color="C1", label="outer-front trials")
    ax.plot([], [], color="C0", alpha=0.5, label="other trials")
    ax.set_xlabel("training time (s)")
    ax.set_ylabel("hypervolume (held-out evaluation)")
    ax.set_title(f"{data.problem_info['name']}: HV traces of {len(data.trial_ids())} trials")
    ax.legend(fontsize=8, loc="lower right")
    lo = [v for v in ax.get_ylim()]
    ax.set_ylim(bottom=max(lo[0], 0))
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def outer_axis(names: list[str]) -> tuple[str, str]:
    """(trial-record key, axis label) of the outer-front plot's x axis for objectives
    ``names``: the first objective besides ``hv``, else the hypernetwork's parameters."""
    from hybridmoo.studyfile import OBJECTIVES

    others = [n for n in names if n != "hv"]
    if not others:
        return "n_params", "hypernetwork parameters"
    label = "hypernetwork parameters" if others[0] == "n_params" else OBJECTIVES[others[0]][1]
    return f"outer.{others[0]}", label


def plot_outer_front(data: StudyData, out: Path) -> Path:
    """Final HV against the study's other outer objective (the first one besides ``hv``;
    ``n_params`` when HV is the only one) for every trial, the outer front highlighted."""
    import json

    plt = _plt()
    recs = [r for r in data.trial_records() if r["status"] == "ok"]
    front = set(data.outer_front_ids())
    names = json.loads(data.attrs.get("objectives", '["hv", "n_params"]'))
    key, label = outer_axis(names)
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    x = np.array([r.get(key, np.nan) for r in recs], dtype=float)
    y = np.array([r["hv"] for r in recs])
    on = np.array([r["trial_id"] in front for r in recs], dtype=bool)
    ax.scatter(x[~on], y[~on], s=18, color="C0", alpha=0.5, label="trials")
    order = np.argsort(x[on])
    # the front is a line in the plane only when it has these two objectives
    style = "o-" if len(names) == 2 and "hv" in names else "o"
    ax.plot(x[on][order], y[on][order], style, color="C1", label="outer Pareto front")
    for xi, yi, r in zip(x, y, recs, strict=True):
        if r["trial_id"] in front:
            ax.annotate(str(r["trial_id"]), (xi, yi), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")
    _, ref_hv = _reference(data)
    if ref_hv is not None:
        ax.axhline(ref_hv, color="k", ls="--", lw=1, label=f"reference front HV {ref_hv:.4g}")
    finite = x[np.isfinite(x)]
    if finite.size and finite.min() > 0 and finite.max() / finite.min() > 20:
        ax.set_xscale("log")
    ax.set_xlabel(label)
    ax.set_ylabel("hypervolume of the learned front")
    ax.set_title(f"{data.problem_info['name']}: outer front ({len(front)} of {len(recs)} "
                 "trials)")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def plot_all(path: str | Path, out_dir: str | Path | None = None) -> list[Path]:
    """Write every figure of a study file; returns the paths written."""
    data = StudyData(path)
    out_dir = Path(out_dir) if out_dir else data.path.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = data.path.stem
    written = []
    if not [r for r in data.trial_records() if r["status"] == "ok"]:
        from hybridmoo.errors import StoreError

        raise StoreError(f"{data.path}: no finished trial to plot yet")
    written.append(plot_fronts(data, out_dir / f"{stem}_fronts.png"))
    written.append(plot_traces(data, out_dir / f"{stem}_traces.png"))
    if data.kind == "study":
        written.append(plot_outer_front(data, out_dir / f"{stem}_outer.png"))
    return written
