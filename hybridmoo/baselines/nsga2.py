"""NSGA-II (Deb, Pratap, Agarwal & Meyarivan, "A fast and elitist multiobjective genetic
algorithm: NSGA-II", IEEE TEVC 6(2), 2002), through pymoo.

Settings and parameters: :mod:`hybridmoo.baselines.evolutionary`.
"""

from __future__ import annotations

from hybridmoo.baselines._pymoo import run_algorithm
from hybridmoo.baselines.common import BaselineResult, Budget, register

__all__ = ["nsga2"]


@register("nsga2", "evolutionary", "Deb, Pratap, Agarwal & Meyarivan, IEEE TEVC 6(2), 2002")
def nsga2(problem, budget: Budget, seed: int, *, pop_size: int = 100, front: str = "archive",
          trace_every: int | None = None, ref_point=None, threads: int | None = None,
          **options) -> BaselineResult:
    """NSGA-II: non-dominated sorting and crowding distance (SBX η=20, p=0.9; PM η=20)."""
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM

    defaults = {"crossover": SBX(prob=0.9, eta=20), "mutation": PM(eta=20)}
    return run_algorithm(NSGA2, problem, budget, seed, method="nsga2", pop_size=pop_size,
                         front=front, trace_every=trace_every, ref_point=ref_point, threads=threads,
                         options=options, defaults=defaults)
