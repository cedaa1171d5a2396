"""Gradient aggregation: directions and loss weights from per-objective gradients.

One home for the multi-gradient methods that several parts of hybridmoo share:

- :mod:`~hybridmoo.aggregate.directions`: pure functions on a `(P, m, d)` Jacobian —
  :func:`min_norm_weights` (MGDA's min-norm point), :func:`combine`, and the directions of
  linear scalarisation, MGDA, PCGrad, CAGrad, EPO and Pareto MTL;
- :mod:`~hybridmoo.aggregate.weighting`: :class:`EPO` and :class:`PMTL`, loss weightings a
  preference-conditioned trainer calls with per-preference gradients.

The one-model-per-preference baselines (:mod:`hybridmoo.baselines.gradient`) and the
scalarizations (:mod:`hybridmoo.scalarize`) both import from here; nothing here imports them.
"""

from hybridmoo.aggregate.directions import (
    MGDA_NORMALIZATIONS,
    cagrad_direction,
    cagrad_dual_2,
    combine,
    ls_direction,
    mgda_direction,
    min_norm_weights,
    pcgrad_direction,
    pmtl_weights,
)
from hybridmoo.aggregate.weighting import EPO, PMTL, GradientWeighting, epo_direction

__all__ = [
    "EPO",
    "MGDA_NORMALIZATIONS",
    "PMTL",
    "GradientWeighting",
    "cagrad_direction",
    "cagrad_dual_2",
    "combine",
    "epo_direction",
    "ls_direction",
    "mgda_direction",
    "min_norm_weights",
    "pcgrad_direction",
    "pmtl_weights",
]
