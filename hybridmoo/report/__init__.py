"""Reports people read at a glance: figures of comparisons and studies, one HTML page per file.

- :mod:`~hybridmoo.report.palette`: Okabe–Ito colours, line styles and markers per method;
- :mod:`~hybridmoo.report.compare_figures`: HV over time, final HV per method, fronts;
- :mod:`~hybridmoo.report.fronts`: fronts as small multiples (2-D, 3-D + projections,
  parallel coordinates);
- :mod:`~hybridmoo.report.study_figures`: a study's fronts, HV traces and outer front;
- :mod:`~hybridmoo.report.html`: the HTML page; :func:`write_report` (``hybridmoo report
  FILE``) writes it for any hybridmoo file.

matplotlib is imported only when a figure is drawn.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["write_report"]


def write_report(path, out=None) -> Path:
    """Write the HTML page of a study, train or comparison file; returns its path.

    Args:
        path: the HDF5 file (``hybridmoo run``, ``train`` or ``compare`` output).
        out: the page to write (default: the file's name with ``.html``).

    Raises:
        StoreError: the file is missing, not a hybridmoo file, or has no finished trial/run.
    """
    from hybridmoo import store
    from hybridmoo.report.html import machine, study_page

    path = Path(path)
    out = Path(out) if out else path.with_suffix(".html")
    kind = store.file_kind(path)
    if kind == "compare":
        text = _compare_page(path, out)
    else:
        from hybridmoo.analysis import StudyData
        from hybridmoo.errors import StoreError
        from hybridmoo.report.palette import png_bytes
        from hybridmoo.report.study_figures import study_figures

        data = StudyData(path)
        if not any(r["status"] == "ok" for r in data.trial_records()):
            raise StoreError(f"{path}: no finished trial to report yet")
        images = {k: png_bytes(f) for k, f in study_figures(data).items()}
        text = study_page(data, images, machine())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return out


def _compare_page(path: Path, out: Path) -> str:
    """A comparison's page, from the compare file stored in its HDF5 file."""
    from hybridmoo import problems, store
    from hybridmoo.compare import _report, load_compare, load_runs
    from hybridmoo.report.html import compare_page, machine

    with store.open_checked(path) as f:
        text = str(f.attrs.get("study_text", ""))
    spec = load_compare(text=text)
    spec.output = path.resolve()
    spec.report = out.with_suffix(".md")
    lines, figures = _report(spec, load_runs(spec),
                             problems.get(spec.problem, **spec.problem_options))
    from hybridmoo.report.palette import png_bytes

    images = {f"{spec.report.stem}_{k}.png": png_bytes(f) for k, f in figures.items()}
    return compare_page(spec, lines, images, machine())
