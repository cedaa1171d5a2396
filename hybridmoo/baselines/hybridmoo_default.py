"""hybridmoo's inner loop with its library defaults, as a baseline (method ``"hybridmoo"``).
"""

from __future__ import annotations

from collections.abc import Mapping

from hybridmoo.baselines._trainer import COMMON_DOC, run_trainer
from hybridmoo.baselines.common import BaselineResult, Budget, register

__all__ = ["hybridmoo_default"]


@register("hybridmoo", "psl", "hybridmoo's default configuration (HypernetConfig(), TrainConfig())")
def hybridmoo_default(problem, budget: Budget, seed: int, *, n_eval: int = 100,
                      eval_every: int | None = None, ref_point=None, threads: int | None = None,
                      device: str = "cpu", dtype: str = "float32",
                      hypernet: Mapping | None = None,
                      train: Mapping | None = None) -> BaselineResult:
    """hybridmoo's inner loop with its defaults (``HypernetConfig()``, ``TrainConfig()``).

    The library configuration, as a user gets it from ``hybridmoo.train(problem)``: chosen by
    ``benchmarks/bench_defaults.py`` (results/defaults.md), with objectives normalised
    (``normalize = "auto"``); an outer-loop study searches over these settings instead. Under
    a seconds budget its cosine schedule anneals over the seconds.
    """
    return run_trainer(problem, budget, seed, method="hybridmoo", hypernet={}, config={},
                user_hypernet=hypernet, user_train=train, n_eval=n_eval, eval_every=eval_every,
                ref_point=ref_point, threads=threads, device=device, dtype=dtype,
                paper_defaults=False)


hybridmoo_default.__doc__ = f"{hybridmoo_default.__doc__.rstrip()}\n\n    {COMMON_DOC}\n"
