"""Linear scalarisation, one model per preference: model p descends Σ_i λ_{p,i} f_i.

The classical weighted-sum method (Boyd & Vandenberghe, "Convex Optimization", 2004, §4.7); the
one-model-per-preference baseline of Lin et al., "Pareto Multi-Task Learning", NeurIPS 2019.
"""

from __future__ import annotations

from torch import Tensor

from hybridmoo.aggregate import ls_direction
from hybridmoo.baselines._perpref import (
    COMMON_DOC,
    Runner,
    common_params,
    execute,
    simplex_prefs,
)
from hybridmoo.baselines.common import BaselineResult, Budget, register

__all__ = ["ls", "ls_direction"]


@register("ls", "gradient", "Linear scalarisation, one model per preference (e.g. Boyd & "
          "Vandenberghe 2004 §4.7; the LS baseline of Lin et al., NeurIPS 2019)")
def ls(problem, budget: Budget, seed: int, *, n_prefs: int = 10, lr: float | None = None,
       optimizer: str | None = None, momentum: float = 0.0, parameterization: str = "project",
       boundary_eps: float = 0.0, eval_every: int | None = None, ref_point=None,
       device: str = "cpu", batch_size: int = 256) -> BaselineResult:
    """Linear scalarisation: model p descends Σ_i λ_{p,i} f_i.

    The classical weighted-sum method; as the one-model-per-preference baseline of multi-task
    learning it appears in Lin et al., "Pareto Multi-Task Learning", NeurIPS 2019
    (https://arxiv.org/abs/1912.12854) and Mahapatra & Rajan, ICML 2020. It finds only the
    supported (convex-hull) part of the front.

    Readings: the preferences are fixed and evenly spread (``eval_preferences``), corners
    included by default; SGD with lr 0.1 (the papers tune per data set).

    Returns:
        A :class:`~hybridmoo.baselines.common.BaselineResult`; ``prefs`` are the weights λ.
    """
    params = common_params(n_prefs=n_prefs, lr=lr, optimizer=optimizer, momentum=momentum,
                           parameterization=parameterization, boundary_eps=boundary_eps,
                           eval_every=eval_every, ref_point=ref_point, device=device,
                           batch_size=batch_size)
    prefs = simplex_prefs(problem, n_prefs, boundary_eps)

    def direction(F: Tensor, G: Tensor, run: Runner) -> Tensor:
        return ls_direction(G, run.prefs)

    return execute("ls", problem, budget, seed, prefs, direction, params)


ls.__doc__ = (ls.__doc__ or "") + COMMON_DOC
