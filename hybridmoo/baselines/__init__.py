"""Baselines: the methods users measure hybridmoo against, on the same problem and budget.

Families (see each module for its papers and the defaults it takes from them):

- ``evolutionary`` (:mod:`hybridmoo.baselines.evolutionary`): NSGA-II, NSGA-III, MOEA/D,
  SMS-EMOA through pymoo, and any other pymoo algorithm as ``"pymoo:<name>"``;
- ``gradient`` (:mod:`hybridmoo.baselines.gradient`): one model per preference;
- ``psl`` (:mod:`hybridmoo.baselines.psl`): Pareto set learning with one fixed configuration
  (PHN-LS, PHN-EPO, COSMOS, PSL, HV-PSL) and hybridmoo's own default configuration.

>>> from hybridmoo import baselines
>>> "nsga2" in baselines.names("evolutionary")
True
"""

from hybridmoo.baselines import (  # noqa: F401  (importing a method's module registers it)
    cosmos,
    evolutionary,
    gradient,
    hv_psl,
    hybridmoo_default,
    phn_epo,
    phn_ls,
    psl,
    search,
)
from hybridmoo.baselines.common import (
    BUDGET_KINDS,
    BaselineResult,
    Budget,
    Tracer,
    budget_left,
    get,
    names,
    ref_point_of,
    register,
    registered,
    resolve_problem,
    run,
)

__all__ = [
    "BUDGET_KINDS",
    "BaselineResult",
    "Budget",
    "Tracer",
    "budget_left",
    "get",
    "names",
    "ref_point_of",
    "register",
    "registered",
    "resolve_problem",
    "run",
]
