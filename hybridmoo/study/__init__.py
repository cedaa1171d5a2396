"""The outer loop: pymoo searches hypernetwork configurations; a backend trains them.

:class:`Study` owns the loop (pymoo's ask/tell, not its runner): each generation it asks the
algorithm for a population of encoded configurations (see :mod:`hybridmoo.space`), submits them
to the backend as trials, records every trial in the HDF5 study file the moment it returns (the
driver is the only writer, and each trial is flushed before the next is recorded), and tells
the algorithm the outer objectives. A failed trial (exception, NaN loss, dead worker) is
recorded with its reason and may be retried; the outer algorithm sees it with the worst possible
objective values, so the search goes on.

The package: :mod:`~hybridmoo.study.loop` (:class:`Study`, the plain loop),
:mod:`~hybridmoo.study.multifidelity` (``schedule = "asha"``),
:mod:`~hybridmoo.study.objectives` (outer objectives, pymoo's view, the algorithm, the result)
and :mod:`~hybridmoo.study.progress` (the display and the summary).
"""

from hybridmoo.study.loop import Study, run_study
from hybridmoo.study.objectives import StudyResult, outer_objectives, to_minimised
from hybridmoo.study.progress import _ProgressUI, format_value, print_summary, remaining_time

__all__ = ["Study", "StudyResult", "format_value", "outer_objectives", "print_summary",
           "remaining_time", "run_study", "to_minimised", "_ProgressUI"]
