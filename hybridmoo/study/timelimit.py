"""A wall-clock time limit for a whole search: how long the next trial may train.

Shared by :class:`~hybridmoo.study.Study` (``[study] time_limit``) and the outer-loop baselines
of ``hybridmoo compare`` (:func:`hybridmoo.baselines.search.run_outer_loop`), so that every
search under a seconds budget ends in time by the same rule.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

__all__ = ["MAX_OVERHEAD", "trial_time_share"]

#: the most of a trial's wall time that its set-up and evaluation may take before the time
#: left is split among fewer trials
MAX_OVERHEAD = 1 / 3


def trial_time_share(left: float, n_left: int, slots: int,
                     finished: Sequence[tuple[float, float]],
                     budget_seconds: float | None) -> float | None:
    """The next trial's training seconds, or None when it does not fit.

    Args:
        left: wall-clock seconds to the deadline.
        n_left: trials not yet started, this one included.
        slots: trials that run at once (workers).
        finished: ``(wall, train)`` seconds of the trials run so far, in the order they
            started; the first ``slots`` (each worker's first trial, which pays its one-off
            start: imports, data, caches) are left out once later ones exist.
        budget_seconds: a trial's own training budget in seconds; None when it is counted in
            steps or epochs.

    Returns:
        With ``budget_seconds``: its fair share — ``left · slots / k`` less the median set-up
        and evaluation time (``wall − train``, the *overhead*) of the finished trials — never
        more than ``k`` trials' budgets nor less than half of ``budget_seconds``, or None if
        that and the overhead do not fit in ``left``. ``k`` is ``n_left``, or fewer where the
        overhead (measured on trials after the first ones) would take more than
        :data:`MAX_OVERHEAD` of each trial's time: then the last ``n_left − k`` trials do not
        start and their budgets go to those that do (``budget_seconds · n_left / k``), since
        fewer, longer trials train more in the same time. Without: ``left`` less the overhead
        (a cap that ends the trial by the deadline), or None if a trial like the finished
        ones (median wall time) does not fit.
    """
    ran = list(finished[slots:]) or list(finished)
    overhead = statistics.median([max(0.0, w - t) for w, t in ran]) if ran else 0.0
    hard = left - overhead  # what the trial may train and still end by the deadline
    if budget_seconds is None:
        wall = statistics.median([w for w, _ in ran]) if ran else 0.0
        return hard if hard > 0 and wall <= left else None
    n_left = max(n_left, 1)
    k = n_left
    if overhead > 0 and len(finished) > slots:  # (a first trial's start is partly one-off)
        k = max(1, min(n_left, math.floor(left * slots * MAX_OVERHEAD / overhead)))
    share = left * slots / k - overhead
    cap = min(float(budget_seconds) * n_left / k, max(share, float(budget_seconds) / 2))
    return cap if cap <= hard else None
