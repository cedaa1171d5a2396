"""EPO search: exact Pareto optimal solutions for given preferences.

Mahapatra & Rajan, "Multi-Task Learning with User Preferences: Gradient Descent with
Controlled Ascent in Pareto Optimization", ICML 2020.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from hybridmoo.aggregate import EPO, epo_direction
from hybridmoo.baselines._perpref import (
    COMMON_DOC,
    Runner,
    common_params,
    execute,
    simplex_prefs,
)
from hybridmoo.baselines.common import BaselineResult, Budget, register
from hybridmoo.errors import ConfigError

__all__ = ["epo", "epo_direction"]

_F64 = torch.float64


@register("epo", "gradient", "Mahapatra & Rajan, 'Multi-Task Learning with User Preferences: "
          "Gradient Descent with Controlled Ascent in Pareto Optimization', ICML 2020")
def epo(problem, budget: Budget, seed: int, *, n_prefs: int = 10, lr: float | None = None,
        optimizer: str | None = None, momentum: float = 0.0, parameterization: str = "project",
        boundary_eps: float = 0.05, mu_tol: float = 1e-4, relax: bool = False,
        ideal=None, eval_every: int | None = None, ref_point=None, device: str = "cpu",
        batch_size: int = 256) -> BaselineResult:
    """EPO search: balance λ_i (f_i − z_i) across objectives, then descend along the front.

    Mahapatra & Rajan, "Multi-Task Learning with User Preferences: Gradient Descent with
    Controlled Ascent in Pareto Optimization", ICML 2020
    (https://proceedings.mlr.press/v119/mahapatra20a.html, code
    https://github.com/dbmptr/EPOSearch). The weights per preference come from
    :class:`hybridmoo.scalarize.EPO` (its docstring gives the LP and its readings); the
    target of model p is the exact Pareto optimal point where λ_{p,1}(f_1 − z_1) = … =
    λ_{p,m}(f_m − z_m).

    Readings: ``boundary_eps = 0.05`` keeps the preferences off the simplex's corners, where
    the balance condition degenerates (the official toy experiments keep their rays at least
    π/20 from the axes); ``ideal`` z defaults to the problem's ideal point, else zeros; a plain
    optimiser step replaces the toy code's μ-scaled step size.

    Method args:
        mu_tol, relax: passed to :class:`~hybridmoo.scalarize.EPO`.
        ideal: `(m,)` point z, or ``None`` for the problem's ideal point (zeros if unknown).

    Returns:
        A :class:`~hybridmoo.baselines.common.BaselineResult`; ``prefs`` are the λ, and
        ``extra["weights"]``/``extra["moves"]`` the last EPO weights and modes.
    """
    solver = EPO(mu_tol=mu_tol, relax=relax)
    if ideal is None:
        z = problem.ideal
    else:
        z = torch.as_tensor(ideal, dtype=_F64).reshape(-1)
        if z.numel() != problem.n_obj:
            raise ConfigError(
                f"ideal must have length {problem.n_obj}, but it has length {z.numel()}"
            )
    params = common_params(n_prefs=n_prefs, lr=lr, optimizer=optimizer, momentum=momentum,
                           parameterization=parameterization, boundary_eps=boundary_eps,
                           mu_tol=mu_tol, relax=relax, ideal=None if ideal is None else [float(v)
                           for v in z], eval_every=eval_every, ref_point=ref_point, device=device,
                           batch_size=batch_size)
    prefs = simplex_prefs(problem, n_prefs, boundary_eps)
    state: dict[str, Any] = {}

    def direction(F: Tensor, G: Tensor, run: Runner) -> Tensor:
        zz = None if z is None else z.to(F)
        D, alpha = epo_direction(G, F, run.prefs, solver, ideal=zz)
        state["alpha"], state["moves"] = alpha, list(solver.last_moves)
        return D

    def extra() -> dict:
        a = state.get("alpha")
        return {"weights": None if a is None else a.cpu().numpy(),
                "moves": state.get("moves", [])}

    return execute("epo", problem, budget, seed, prefs, direction, params, extra)


epo.__doc__ = (epo.__doc__ or "") + COMMON_DOC
