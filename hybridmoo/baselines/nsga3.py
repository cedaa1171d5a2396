"""NSGA-III (Deb & Jain, "An evolutionary many-objective optimization algorithm using
reference-point-based nondominated sorting approach, part I", IEEE TEVC 18(4), 2014), through pymoo.

Settings and parameters: :mod:`hybridmoo.baselines.evolutionary`.
"""

from __future__ import annotations

from hybridmoo.baselines._pymoo import run_algorithm
from hybridmoo.baselines.common import BaselineResult, Budget, register

__all__ = ["nsga3"]


@register("nsga3", "evolutionary", "Deb & Jain, IEEE TEVC 18(4), 2014")
def nsga3(problem, budget: Budget, seed: int, *, pop_size: int = 100, front: str = "archive",
          trace_every: int | None = None, ref_point=None, threads: int | None = None,
          **options) -> BaselineResult:
    """NSGA-III: reference-direction niching on Das–Dennis directions (SBX η=30, p=1)."""
    from pymoo.algorithms.moo.nsga3 import NSGA3

    return run_algorithm(NSGA3, problem, budget, seed, method="nsga3", pop_size=pop_size,
                         front=front, trace_every=trace_every, ref_point=ref_point, threads=threads,
                         options=options, ref_dirs=True)
