"""Random search over hybridmoo_search's space, under the same budget accounting.

Bergstra & Bengio, "Random Search for Hyper-Parameter Optimization", JMLR 13, 2012: the
baseline every hyperparameter search is held against. Each trial's configuration is a uniform
draw from the encoded search space ``[0, 1]^d`` of :mod:`~hybridmoo.baselines.search` (so
log-scaled ranges are uniform in the log, every choice value has an equal share), the trial
count and the per-trial budget are hybridmoo_search's (``pop_size × generations`` trials, the
budget split evenly), and the trial seeds and trial function are the Study's. The result is the
study front of its trials (as hybridmoo_search's), its trace the best HV so far against the
budget spent.
"""

from __future__ import annotations

import numpy as np

from hybridmoo.baselines.common import BaselineResult, Budget, register
from hybridmoo.baselines.search import run_search, search_setup

__all__ = ["random_search"]


@register("random_search", "search",
          "Bergstra & Bengio, Random Search for Hyper-Parameter Optimization, JMLR 2012")
def random_search(problem, budget: Budget, seed: int, *, pop_size: int = 4,
                  generations: int = 2, n_prefs: int = 8) -> BaselineResult:
    """Uniform random configurations of hybridmoo_search's space, same trials and budget."""
    setup = search_setup(problem, budget, seed, pop_size=pop_size, generations=generations,
                         n_prefs=n_prefs)
    space = setup.spec.space
    rng = np.random.default_rng([seed, 0x5EA4C4])

    def ask(tid: int) -> dict:
        return space.values(rng.random(space.n_var))

    return run_search("random_search", setup, problem, seed, ask, lambda *a: None)
