"""Reports people read at a glance: figures of comparisons and studies, one HTML page per file.

- :mod:`~hybridmoo.report.palette`: Okabe–Ito colours, line styles and markers per method;
- :mod:`~hybridmoo.report.compare_figures`: HV over time, final HV per method, fronts;
- :mod:`~hybridmoo.report.fronts`: fronts as small multiples (2-D, 3-D + projections,
  parallel coordinates);
- :mod:`~hybridmoo.report.study_figures`: a study's fronts, HV traces and outer front;
- :mod:`~hybridmoo.report.html`: ``hybridmoo report FILE``, one self-contained HTML page.

matplotlib is imported only when a figure is drawn.
"""

from __future__ import annotations

__all__ = ["write_report"]


def write_report(path, out=None):
    """Write the HTML report of a study, train or comparison file (see
    :func:`hybridmoo.report.html.write_report`)."""
    from hybridmoo.report.html import write_report as write

    return write(path, out)
