"""Baselines: the methods users measure hybridmoo against, on the same problem and budget.

Every method is its own module, named after it, whose docstring cites its paper and says which
defaults it takes from the paper or its code and which are readings. Families:

- ``evolutionary`` (facade :mod:`hybridmoo.baselines.evolutionary`): ``nsga2``, ``nsga3``,
  ``moead``, ``smsemoa`` through pymoo, and any other pymoo algorithm as ``"pymoo:<name>"``
  (:mod:`~hybridmoo.baselines.pymoo_any`);
- ``gradient`` (facade :mod:`hybridmoo.baselines.gradient`): one model per preference, decision
  vectors or networks: ``ls``, ``mgda_ub``, ``pcgrad``, ``cagrad``, ``epo``, ``pmtl``;
- ``psl``: Pareto set learning with one fixed configuration: ``phn_ls``, ``phn_epo``,
  ``cosmos``, ``psl``, ``hv_psl`` and hybridmoo's own defaults (``hybridmoo``,
  :mod:`~hybridmoo.baselines.hybridmoo_default`);
- ``hybridmoo``: the outer + inner search (``hybridmoo_search``,
  :mod:`~hybridmoo.baselines.search`);
- ``search``: other outer loops over the same space and budget: ``random_search``
  (:mod:`~hybridmoo.baselines.random_search`), ``optuna_tpe`` and ``optuna_nsga2``
  (:mod:`~hybridmoo.baselines.optuna`, needs ``pip install 'hybridmoo[optuna]'``).

>>> from hybridmoo import baselines
>>> "nsga2" in baselines.names("evolutionary")
True
"""

from hybridmoo.baselines import (  # noqa: F401  (importing a method's module registers it)
    cagrad,
    connstr,
    cosmos,
    cpmtl,
    dymu,
    epo,
    evolutionary,
    gradient,
    hv_psl,
    hybridmoo_default,
    ls,
    mgda_ub,
    moead,
    mt2o,
    nsga2,
    nsga3,
    optuna,
    pcgrad,
    phn_bn,
    phn_epo,
    phn_ls,
    pmtl,
    psl,
    pymoo_any,
    random_search,
    search,
    smsemoa,
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
