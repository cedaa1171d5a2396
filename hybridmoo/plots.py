"""``hybridmoo plot``: PNG figures of a study, readable at a glance.

- ``<stem>_fronts.png``: the learned fronts of the outer-front trials (or of a ``train`` file's
  trial), one panel each, against the reference front and the study front: 2-D panels for two
  objectives, a 3-D view and the 2-D projections for three, parallel coordinates beyond;
- ``<stem>_traces.png``: the HV trace of every trial against training time, the outer-front
  trials apart, with the reference front's HV where known;
- ``<stem>_outer.png``: every trial's final HV against the study's other outer objective, and
  the outer Pareto front zoomed to its points (studies only).

The drawing lives in :mod:`hybridmoo.report.study_figures`; ``hybridmoo report FILE`` puts the
same figures in one HTML page.
"""

from __future__ import annotations

from pathlib import Path

from hybridmoo.analysis import StudyData
from hybridmoo.report.palette import save
from hybridmoo.report.study_figures import fronts_figure, outer_axis, outer_figure, traces_figure

__all__ = ["outer_axis", "plot_all", "plot_fronts", "plot_outer_front", "plot_traces"]


def plot_fronts(data: StudyData, out: Path) -> Path:
    """Learned fronts against the reference and study fronts (see the module docstring)."""
    return save(fronts_figure(data), out)


def plot_traces(data: StudyData, out: Path) -> Path:
    """HV traces of all trials against training time."""
    return save(traces_figure(data), out)


def plot_outer_front(data: StudyData, out: Path) -> Path:
    """Final HV against the study's other outer objective, the outer front zoomed."""
    return save(outer_figure(data), out)


def plot_all(path: str | Path, out_dir: str | Path | None = None) -> list[Path]:
    """Write every figure of a study file; returns the paths written."""
    data = StudyData(path)
    out_dir = Path(out_dir) if out_dir else data.path.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = data.path.stem
    if not [r for r in data.trial_records() if r["status"] == "ok"]:
        from hybridmoo.errors import StoreError

        raise StoreError(f"{data.path}: no finished trial to plot yet")
    written = [plot_fronts(data, out_dir / f"{stem}_fronts.png"),
               plot_traces(data, out_dir / f"{stem}_traces.png")]
    if data.kind == "study":
        written.append(plot_outer_front(data, out_dir / f"{stem}_outer.png"))
    return written
