"""PCGrad: gradient surgery on conflicting task gradients.

Yu, Kumar, Gupta, Levine, Hausman & Finn, "Gradient Surgery for Multi-Task Learning",
NeurIPS 2020.
"""

from __future__ import annotations

import torch
from torch import Tensor

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


def pcgrad_direction(G: Tensor, weights: Tensor, generator: torch.Generator) -> Tensor:
    """PCGrad's gradient surgery on the weighted gradients w_i g_i, then their sum.

    For each objective i, in a random order of the other objectives j (one permutation per row
    and per i, drawn from ``generator``): if the (already modified) g_i^PC conflicts with the
    *original* g_j (g_i^PC·g_j < 0), project it onto the normal plane of g_j,
    g_i^PC ← g_i^PC − (g_i^PC·g_j/‖g_j‖²) g_j. The direction is Σ_i g_i^PC (Yu et al. 2020,
    Algorithm 1). Objectives with zero weight have a zero gradient here and so never cause a
    projection.

    Args:
        G: `(P, m, d)` gradients. weights: `(P, m)` weights w (the preferences).
        generator: source of the random orders.

    Returns:
        `(P, d)` directions.
    """
    P, m, _ = G.shape
    Gw = weights.to(G.dtype).unsqueeze(-1) * G
    out = Gw.clone()
    sq = (Gw * Gw).sum(-1)  # (P, m)
    rows = torch.arange(P, device=G.device)
    for i in range(m):
        others = [j for j in range(m) if j != i]
        if not others:
            continue
        keys = torch.rand(P, len(others), generator=generator, dtype=_F64)
        order = torch.as_tensor(others)[keys.argsort(dim=1)].to(G.device)  # (P, m − 1)
        gi = out[:, i]
        for k in range(len(others)):
            j = order[:, k]
            gj = Gw[rows, j]  # (P, d)
            dot = (gi * gj).sum(-1)
            den = sq[rows, j]
            coef = torch.where((dot < 0) & (den > 0), dot / den.clamp_min(1e-300),
                               torch.zeros_like(dot))
            gi = gi - coef.unsqueeze(-1) * gj
        out[:, i] = gi
    return out.sum(1)


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
