"""MGDA-UB: the minimum-norm element of the convex hull of the task gradients.

Sener & Koltun, "Multi-Task Learning as Multi-Objective Optimization", NeurIPS 2018; MGDA:
Désidéri, "Multiple-gradient descent algorithm (MGDA) for multiobjective optimization",
Comptes Rendus Mathématique 350, 2012.
"""

from __future__ import annotations

from torch import Tensor

from hybridmoo.aggregate import MGDA_NORMALIZATIONS, mgda_direction
from hybridmoo.baselines._perpref import (
    COMMON_DOC,
    Runner,
    check_choice,
    common_params,
    execute,
    simplex_prefs,
)
from hybridmoo.baselines.common import BaselineResult, Budget, register

__all__ = ["mgda_direction", "mgda_ub"]


@register("mgda_ub", "gradient", "Sener & Koltun, 'Multi-Task Learning as Multi-Objective "
          "Optimization', NeurIPS 2018 (MGDA: Désidéri 2012)")
def mgda_ub(problem, budget: Budget, seed: int, *, n_prefs: int = 10, lr: float | None = None,
            optimizer: str | None = None, momentum: float = 0.0, parameterization: str = "project",
            boundary_eps: float = 0.0, normalize: str = "none", eval_every: int | None = None,
            ref_point=None, device: str = "cpu", batch_size: int = 256) -> BaselineResult:
    """MGDA-UB: step along the minimum-norm element of the convex hull of the gradients.

    Désidéri, "Multiple-gradient descent algorithm (MGDA) for multiobjective optimization",
    Comptes Rendus Mathématique 350, 2012; Sener & Koltun, "Multi-Task Learning as
    Multi-Objective Optimization", NeurIPS 2018 (https://arxiv.org/abs/1810.04650, code
    https://github.com/intel-isl/MultiObjectiveOptimization). The min-norm problem is solved in
    closed form for m = 2 and as a QP on the simplex (SLSQP) for m > 2 (:func:`min_norm_weights`).

    Readings:

    * "UB" (upper bound) replaces the gradients with respect to the shared parameters by those
      with respect to the shared representation, to save backward passes in a network. A
      decision vector has no shared representation, so this is plain MGDA on ∇_x f_i.
    * MGDA ignores preferences: the P models differ only by their random starting points, and
      the recorded ``prefs`` are labels only. Each converges to some Pareto-stationary point.
    * ``normalize`` (Sener & Koltun's ``normalization_type``) defaults to ``"none"``; see
      :func:`mgda_direction`.

    Method args:
        normalize: ``"none"``, ``"l2"``, ``"loss"`` or ``"loss+"``.

    Returns:
        A :class:`~hybridmoo.baselines.common.BaselineResult`; ``extra["weights"]`` holds the
        last `(P, m)` min-norm weights and ``extra["direction_norm"]`` the norms of the last
        directions (≈ 0 at Pareto-stationary points).
    """
    check_choice("normalize", normalize, MGDA_NORMALIZATIONS)
    params = common_params(n_prefs=n_prefs, lr=lr, optimizer=optimizer, momentum=momentum,
                           parameterization=parameterization, boundary_eps=boundary_eps,
                           normalize=normalize, eval_every=eval_every, ref_point=ref_point,
                           device=device, batch_size=batch_size)
    prefs = simplex_prefs(problem, n_prefs, boundary_eps)
    state: dict[str, Tensor] = {}

    def direction(F: Tensor, G: Tensor, run: Runner) -> Tensor:
        D, alpha = mgda_direction(G, F, normalize)
        state["alpha"] = alpha
        return D

    def extra() -> dict:
        a = state.get("alpha")
        return {"weights": None if a is None else a.cpu().numpy()}

    return execute("mgda_ub", problem, budget, seed, prefs, direction, params, extra)


mgda_ub.__doc__ = (mgda_ub.__doc__ or "") + COMMON_DOC
