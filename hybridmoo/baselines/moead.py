"""MOEA/D (Zhang & Li, "MOEA/D: A multiobjective evolutionary algorithm based on
decomposition", IEEE TEVC 11(6), 2007), through pymoo.

Settings and parameters: :mod:`hybridmoo.baselines.evolutionary`.
"""

from __future__ import annotations

from typing import Any

from hybridmoo.baselines._pymoo import check_common, das_dennis_dirs, run_algorithm
from hybridmoo.baselines.common import BaselineResult, Budget, register
from hybridmoo.errors import ConfigError

__all__ = ["moead"]


@register("moead", "evolutionary", "Zhang & Li, IEEE TEVC 11(6), 2007")
def moead(problem, budget: Budget, seed: int, *, pop_size: int = 100, front: str = "archive",
          trace_every: int | None = None, ref_point=None, threads: int | None = None,
          parallel: bool = True, **options) -> BaselineResult:
    """MOEA/D: Tchebycheff decomposition over Das–Dennis weights, T = 20 neighbours."""
    from pymoo.algorithms.moo.moead import MOEAD, ParallelMOEAD
    from pymoo.decomposition.tchebicheff import Tchebicheff
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM

    if not isinstance(parallel, bool):
        raise ConfigError(f"parallel = {parallel!r} is invalid: expected true or false")
    cls = ParallelMOEAD if parallel else MOEAD
    check_common(pop_size, front, trace_every, threads)
    dirs = options.get("ref_dirs")
    n_dirs = len(dirs) if dirs is not None else len(das_dennis_dirs(problem.n_obj, pop_size))
    defaults: dict[str, Any] = {
        "n_neighbors": min(20, n_dirs),
        "decomposition": Tchebicheff(),
        "prob_neighbor_mating": 1.0,
        "crossover": SBX(prob=1.0, eta=20),
        "mutation": PM(eta=20),
    }
    result = run_algorithm(cls, problem, budget, seed, method="moead", pop_size=pop_size,
                           front=front, trace_every=trace_every, ref_point=ref_point,
                           threads=threads, options=options, defaults=defaults, ref_dirs=True,
                           pass_pop=False)
    result.params["parallel"] = parallel
    return result
