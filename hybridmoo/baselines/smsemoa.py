"""SMS-EMOA (Beume, Naujoks & Emmerich, "SMS-EMOA: Multiobjective selection based on
dominated hypervolume", EJOR 181(3), 2007), through pymoo.

Settings and parameters: :mod:`hybridmoo.baselines.evolutionary`.
"""

from __future__ import annotations

from hybridmoo.baselines._pymoo import run_algorithm
from hybridmoo.baselines.common import BaselineResult, Budget, register

__all__ = ["smsemoa"]


@register("smsemoa", "evolutionary", "Beume, Naujoks & Emmerich, EJOR 181(3), 2007")
def smsemoa(problem, budget: Budget, seed: int, *, pop_size: int = 100, front: str = "archive",
            trace_every: int | None = None, ref_point=None, threads: int | None = None,
            **options) -> BaselineResult:
    """SMS-EMOA: steady-state (μ + 1) selection by least hypervolume contribution."""
    from pymoo.algorithms.moo.sms import SMSEMOA

    return run_algorithm(SMSEMOA, problem, budget, seed, method="smsemoa", pop_size=pop_size,
                         front=front, trace_every=trace_every, ref_point=ref_point, threads=threads,
                         options=options, defaults={"n_offsprings": 1})
