"""PHN-EPO: Pareto HyperNetworks trained with EPO loss weights.

Navon, Shamsian, Chechik & Fetaya, "Learning the Pareto Front with Hypernetworks", ICLR 2021;
EPO: Mahapatra & Rajan, "Multi-Task Learning with User Preferences: Gradient Descent with
Controlled Ascent in Pareto Optimization", ICML 2020.
"""

from __future__ import annotations

from collections.abc import Mapping

from hybridmoo.baselines._trainer import COMMON_DOC, is_data, run_trainer
from hybridmoo.baselines.common import BaselineResult, Budget, register

__all__ = ["phn_epo"]


@register("phn_epo", "psl", "Navon, Shamsian, Chechik & Fetaya, ICLR 2021 (EPO: Mahapatra & "
          "Rajan, ICML 2020)")
def phn_epo(problem, budget: Budget, seed: int, *, n_eval: int = 100,
            eval_every: int | None = None, ref_point=None, threads: int | None = None,
            device: str = "cpu", dtype: str = "float32", hypernet: Mapping | None = None,
            train: Mapping | None = None) -> BaselineResult:
    """PHN-EPO: a Pareto HyperNetwork trained with EPO loss weights, one ray per step.

    As :func:`phn_ls` (Dirichlet α = 0.2, K = 1, Adam lr 1e-4 on MTL / 1e-3 on synthetic
    problems, batch 256, the same hypernetwork) with the loss Σ_i m·α_i f_i, α from EPO's LP
    (``phn/solvers.py``, ``EPOSolver``). Difference (reading): PHN's EPO takes the gradients
    with respect to all *hypernetwork* parameters; hybridmoo's trainer takes them with respect to
    the parameters the hypernetwork generated for the ray (cheaper, and the LP sees the same
    directions up to the hypernetwork's Jacobian).
    """
    lr = 1e-4 if is_data(problem) else 1e-3
    return run_trainer(problem, budget, seed, method="phn_epo",
                hypernet={"embed_dim": 0, "width": 100, "depth": 2, "base": False},
                config={"n_prefs": 1, "sampler": {"name": "dirichlet", "alpha": 0.2},
                        "scalarization": {"name": "epo"}, "optimizer": "adam", "lr": lr,
                        "batch_size": 256, "normalize": "none"},
                user_hypernet=hypernet, user_train=train, n_eval=n_eval, eval_every=eval_every,
                ref_point=ref_point, threads=threads, device=device, dtype=dtype)


phn_epo.__doc__ = f"{phn_epo.__doc__.rstrip()}\n\n    {COMMON_DOC}\n"
