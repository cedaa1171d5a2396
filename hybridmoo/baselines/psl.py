"""PSL: Pareto set learning with the inverse Tchebycheff scalarisation.

Lin, Yang, Zhang & Zhang, "Pareto Set Learning for Expensive Multi-Objective Optimization",
NeurIPS 2022 (code ``Xi-L/PSL-MOBO``), run on the true objectives instead of a GP surrogate.
"""

from __future__ import annotations

from collections.abc import Mapping

from hybridmoo.baselines._trainer import COMMON_DOC, run_trainer
from hybridmoo.baselines.common import BaselineResult, Budget, register

__all__ = ["psl"]


@register("psl", "psl", "Lin, Yang, Zhang & Zhang, NeurIPS 2022")
def psl(problem, budget: Budget, seed: int, *, n_eval: int = 100,
        eval_every: int | None = None, ref_point=None, threads: int | None = None,
        device: str = "cpu", dtype: str = "float32", hypernet: Mapping | None = None,
        train: Mapping | None = None) -> BaselineResult:
    """PSL: a Pareto set model trained with the inverse Tchebycheff scalarisation, K = 10.

    Settings (``Xi-L/PSL-MOBO``, ``run.py`` and ``model.py``): 10 preferences per step
    (``n_pref_update``), Dirichlet(1) (uniform on the simplex); loss max_i (f_i − z_i)/λ_i;
    Adam lr 1e-3; model raw λ → 256 → 256 → n_var with ReLU and a sigmoid output scaled to the
    bounds (``embed_dim = 0, width = 256, depth = 2``); the paper's 1000 steps are the budget's
    business here.

    Differences (reading): PSL-MOBO learns on GP surrogate values with a lower-confidence bound;
    this baseline learns on the true objectives (the "PSL" of later papers, e.g. HV-PSL's
    ``mtche``). Its ideal point is min(Y) − 0.1 and its step uses a normalised, augmented
    Tchebycheff gradient (+0.01·Σ_i ∇f_i); here z is the problem's ideal point (or the running
    minimum of the losses) and the plain loss is differentiated.
    """
    return run_trainer(problem, budget, seed, method="psl",
                hypernet={"embed_dim": 0, "width": 256, "depth": 2},
                config={"n_prefs": 10, "sampler": {"name": "uniform"},
                        "scalarization": {"name": "inverse_tchebycheff"}, "optimizer": "adam",
                        "lr": 1e-3, "normalize": "none"},
                user_hypernet=hypernet, user_train=train, n_eval=n_eval, eval_every=eval_every,
                ref_point=ref_point, threads=threads, device=device, dtype=dtype)


psl.__doc__ = f"{psl.__doc__.rstrip()}\n\n    {COMMON_DOC}\n"
