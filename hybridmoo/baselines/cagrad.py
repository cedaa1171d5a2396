"""CAGrad: the average gradient corrected towards the worst-off objective.

Liu, Liu, Jin, Stone & Liu, "Conflict-Averse Gradient Descent for Multi-task Learning",
NeurIPS 2021.
"""

from __future__ import annotations

import math

from torch import Tensor

from hybridmoo.aggregate import cagrad_direction, cagrad_dual_2
from hybridmoo.baselines._perpref import (
    COMMON_DOC,
    Runner,
    common_params,
    execute,
    is_real,
    simplex_prefs,
)
from hybridmoo.baselines.common import BaselineResult, Budget, register
from hybridmoo.errors import ConfigError

__all__ = ["cagrad", "cagrad_direction", "cagrad_dual_2"]


@register("cagrad", "gradient", "Liu et al., 'Conflict-Averse Gradient Descent for Multi-task "
          "Learning', NeurIPS 2021")
def cagrad(problem, budget: Budget, seed: int, *, n_prefs: int = 10, lr: float | None = None,
           optimizer: str | None = None, momentum: float = 0.0, parameterization: str = "project",
           boundary_eps: float = 0.0, c: float = 0.5, rescale: int = 1,
           eval_every: int | None = None, ref_point=None, device: str = "cpu",
           batch_size: int = 256) -> BaselineResult:
    """CAGrad: the average gradient corrected towards the worst-off objective.

    Liu, Liu, Jin, Stone, Liu, "Conflict-Averse Gradient Descent for Multi-task Learning",
    NeurIPS 2021 (https://arxiv.org/abs/2110.14048, code https://github.com/Cranial-XIX/CAGrad).
    d = g0 + (√φ/‖g_w‖) g_w with √φ = c‖g0‖ and w from the dual on the simplex, solved with
    SLSQP (:func:`cagrad_direction`); c = 0.5 and ``rescale = 1`` (d/(1 + c²)) as in the
    official NYUv2 code.

    Readings: g0 is the λ-weighted average Σ_i λ_i g_i instead of the plain average (they agree
    for λ uniform), i.e. CAGrad on the weighted losses m λ_i f_i; with c = 0 the method is
    linear scalarisation. SGD instead of the paper's Adam (``optimizer``).

    Method args:
        c: conflict-aversion radius c ≥ 0 (0.5). rescale: 0, 1 (default) or 2.

    Returns:
        A :class:`~hybridmoo.baselines.common.BaselineResult`; ``prefs`` are the weights λ.
    """
    if not (is_real(c) and math.isfinite(c) and c >= 0):
        raise ConfigError(f"c = {c!r} is invalid: expected a finite number >= 0")
    if rescale not in (0, 1, 2) or isinstance(rescale, bool):
        raise ConfigError(f"rescale = {rescale!r} is not allowed; allowed: 0, 1, 2")
    params = common_params(n_prefs=n_prefs, lr=lr, optimizer=optimizer, momentum=momentum,
                           parameterization=parameterization, boundary_eps=boundary_eps, c=c,
                           rescale=rescale, eval_every=eval_every, ref_point=ref_point,
                           device=device, batch_size=batch_size)
    prefs = simplex_prefs(problem, n_prefs, boundary_eps)

    def direction(F: Tensor, G: Tensor, run: Runner) -> Tensor:
        D, _ = cagrad_direction(G, run.prefs, float(c), int(rescale))
        return D

    return execute("cagrad", problem, budget, seed, prefs, direction, params)


cagrad.__doc__ = (cagrad.__doc__ or "") + COMMON_DOC
