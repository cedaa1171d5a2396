"""Pareto MTL: one model per sub-region of the front, kept there by active constraints.

Lin, Zhen, Li, Zhang & Kwong, "Pareto Multi-Task Learning", NeurIPS 2019.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from hybridmoo.aggregate import combine, pmtl_weights
from hybridmoo.baselines._perpref import (
    COMMON_DOC,
    Runner,
    common_params,
    execute,
    is_real,
)
from hybridmoo.baselines.common import BaselineResult, Budget, register
from hybridmoo.errors import ConfigError
from hybridmoo.preferences import eval_preferences

__all__ = ["pmtl", "pmtl_weights"]

_F64 = torch.float64


@register("pmtl", "gradient", "Lin et al., 'Pareto Multi-Task Learning', NeurIPS 2019")
def pmtl(problem, budget: Budget, seed: int, *, n_prefs: int = 10, lr: float | None = None,
         optimizer: str | None = None, momentum: float = 0.0, parameterization: str = "project",
         init_frac: float = 0.2, eval_every: int | None = None, ref_point=None,
         device: str = "cpu", batch_size: int = 256) -> BaselineResult:
    """Pareto MTL: each model is confined to the sub-region of the front around its vector u_k.

    Lin, Zhen, Li, Zhang, Kwong, "Pareto Multi-Task Learning", NeurIPS 2019
    (https://arxiv.org/abs/1912.12854, code https://github.com/Xi-L/ParetoMTL); ALGORITHMS.md
    §1. Reference vectors u_k are unit vectors evenly spread on the positive unit circle
    (m = 2, ``circle_points``: from (1, 0) to (0, 1)), or the Das–Dennis simplex lattice
    normalised to unit length (m ≥ 3; ``eval_preferences(kind="sphere")``). Model k first runs
    the initial phase (descend only along the active constraints until none is active), then
    the constrained MGDA step of :func:`pmtl_weights`.

    Convention: model k's objective vector ends *closest in angle to u_k*, so a larger u_{k,i}
    means a *larger* f_i (the opposite of LS and EPO). The recorded ``prefs`` are the u_k.

    Readings: the initial phase of a model ends at its first feasible step or once
    ``init_frac`` (0.2, the synthetic example's share) of the budget is used (the Multi-MNIST
    code allows 2 of 100 epochs and stops early); the main phase's weights are rescaled by
    m/Σ|weights| (the Multi-MNIST code; the synthetic example does not); SGD as in the
    Multi-MNIST LeNet code (lr 0.1 here instead of 1e-3 with momentum).

    Method args:
        init_frac: share of the budget after which the initial phase ends for every model.
        (``boundary_eps`` does not apply: the reference vectors include the axes.)

    Returns:
        A :class:`~hybridmoo.baselines.common.BaselineResult`; ``prefs`` are the reference
        vectors u_k, ``extra["feasible"]`` says which models ended in their sub-region.
    """
    if not (is_real(init_frac) and 0 <= init_frac <= 1):
        raise ConfigError(f"init_frac = {init_frac!r} is invalid: expected a number in [0, 1]")
    params = common_params(n_prefs=n_prefs, lr=lr, optimizer=optimizer, momentum=momentum,
                           parameterization=parameterization, init_frac=init_frac,
                           eval_every=eval_every, ref_point=ref_point, device=device,
                           batch_size=batch_size)
    if isinstance(n_prefs, bool) or not isinstance(n_prefs, (int, np.integer)) or n_prefs < 2:
        raise ConfigError(f"n_prefs = {n_prefs!r} is invalid: Pareto MTL needs an integer >= 2")
    refs = eval_preferences(problem.n_obj, int(n_prefs), kind="sphere", dtype=_F64)
    refs_np = refs.numpy()
    K = refs_np.shape[0]
    in_init = np.ones(K, dtype=bool)
    feasible = np.zeros(K, dtype=bool)
    init_steps = np.zeros(K, dtype=np.int64)

    def direction(F: Tensor, G: Tensor, run: Runner) -> Tensor:
        C = (G @ G.transpose(-1, -2)).cpu().numpy()
        f = F.cpu().numpy()
        W = np.zeros((K, problem.n_obj))
        late = run.progress() >= init_frac
        for k in range(K):
            if in_init[k] and not late:
                w, ok = pmtl_weights(C[k], f[k], refs_np, k, init=True)
                if not ok:
                    W[k] = w
                    init_steps[k] += 1
                    continue
            in_init[k] = False
            W[k], feasible[k] = pmtl_weights(C[k], f[k], refs_np, k, init=False)
        return combine(torch.from_numpy(W).to(G), G)

    def extra() -> dict:
        return {"init_steps": init_steps.copy(), "feasible": feasible.copy(),
                "convention": "F[k] is closest in angle to prefs[k] (prefs are reference "
                              "vectors u_k, not weights)"}

    return execute("pmtl", problem, budget, seed, refs, direction, params, extra)


pmtl.__doc__ = (pmtl.__doc__ or "") + COMMON_DOC
