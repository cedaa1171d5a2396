"""PCGrad: gradient surgery on conflicting task gradients.

Yu, Kumar, Gupta, Levine, Hausman & Finn, "Gradient Surgery for Multi-Task Learning",
NeurIPS 2020.
"""

from __future__ import annotations

import torch
from torch import Tensor

from hybridmoo.aggregate import pcgrad_direction
from hybridmoo.baselines._perpref import (
    COMMON_DOC,
    Runner,
    common_params,
    execute,
    simplex_prefs,
)
from hybridmoo.baselines.common import BaselineResult, Budget, register

__all__ = ["pcgrad", "pcgrad_direction"]

_F64 = torch.float64


@register("pcgrad", "gradient", "Yu et al., 'Gradient Surgery for Multi-Task Learning', "
          "NeurIPS 2020")
def pcgrad(problem, budget: Budget, seed: int, *, n_prefs: int = 10, lr: float | None = None,
           optimizer: str | None = None, momentum: float = 0.0, parameterization: str = "project",
           boundary_eps: float = 0.0, eval_every: int | None = None, ref_point=None,
           device: str = "cpu", batch_size: int = 256) -> BaselineResult:
    """PCGrad: project each gradient onto the normal plane of the gradients it conflicts with.

    Yu, Kumar, Gupta, Levine, Hausman, Finn, "Gradient Surgery for Multi-Task Learning",
    NeurIPS 2020 (https://arxiv.org/abs/2001.06782, code https://github.com/tianheyu927/PCGrad).
    See :func:`pcgrad_direction`; the random orders come from a generator seeded by ``seed``.

    Readings: PCGrad has no preference; model p applies the surgery to the gradients of the
    weighted losses λ_{p,i} f_i and sums them (the surgery is scale-invariant in the gradient
    projected onto, so for λ > 0 this equals Σ_i λ_i PC(g_i); a zero weight removes the
    objective, including from the projections). SGD instead of the paper's Adam (``optimizer``).

    Returns:
        A :class:`~hybridmoo.baselines.common.BaselineResult`; ``prefs`` are the weights λ.
    """
    params = common_params(n_prefs=n_prefs, lr=lr, optimizer=optimizer, momentum=momentum,
                           parameterization=parameterization, boundary_eps=boundary_eps,
                           eval_every=eval_every, ref_point=ref_point, device=device,
                           batch_size=batch_size)
    prefs = simplex_prefs(problem, n_prefs, boundary_eps)

    def direction(F: Tensor, G: Tensor, run: Runner) -> Tensor:
        return pcgrad_direction(G, run.prefs, run.generator)

    return execute("pcgrad", problem, budget, seed, prefs, direction, params)


pcgrad.__doc__ = (pcgrad.__doc__ or "") + COMMON_DOC
