"""PHN-LS: Pareto HyperNetworks with linear scalarisation.

Navon, Shamsian, Chechik & Fetaya, "Learning the Pareto Front with Hypernetworks", ICLR 2021
(code ``AvivNavon/pareto-hypernetworks``).
"""

from __future__ import annotations

from collections.abc import Mapping

from hybridmoo.baselines._trainer import COMMON_DOC, is_data, run_trainer
from hybridmoo.baselines.common import BaselineResult, Budget, register

__all__ = ["phn_ls"]


@register("phn_ls", "psl", "Navon, Shamsian, Chechik & Fetaya, ICLR 2021")
def phn_ls(problem, budget: Budget, seed: int, *, n_eval: int = 100,
           eval_every: int | None = None, ref_point=None, threads: int | None = None,
           device: str = "cpu", dtype: str = "float32", hypernet: Mapping | None = None,
           train: Mapping | None = None) -> BaselineResult:
    """PHN-LS: a Pareto HyperNetwork trained with linear scalarisation, one ray per step.

    Settings and their sources:

    - rays Dirichlet(α = 0.2), one per step (K = 1): the paper's appendix, and COSMOS's
      reproduction of PHN (``ruchtem/cosmos`` ``settings.py``: ``hyperSolver_ln`` α = 0.2).
      The PHN code's own default draws λ_1 ~ U(0, 1) instead (``--alpha -1``).
    - loss Σ_i λ_i f_i (``phn/solvers.py``, ``LinearScalarizationSolver``).
    - Adam, lr 1e-4 on data-driven (MTL) problems, batch 256 (``experiments/multimnist/
      trainer.py`` defaults; COSMOS's ``hyperSolver_ln``). On synthetic problems the paper gives
      no setting; lr 1e-3 is our choice (reading: 1e-4 barely moves in short budgets).
    - hypernetwork: raw ray → 2 hidden ReLU layers of 100 units → one linear head per target
      tensor (PHN's ``ray_mlp`` has 3 linear layers of 100 units; its last, activation-free
      layer composes with the heads into one linear map, so ``embed_dim = 0, width = 100,
      depth = 2`` is the same function class). ``base = False``: PHN's heads generate the
      weights directly, without hybridmoo's learned offset.
    """
    lr = 1e-4 if is_data(problem) else 1e-3
    return run_trainer(problem, budget, seed, method="phn_ls",
                hypernet={"embed_dim": 0, "width": 100, "depth": 2, "base": False},
                config={"n_prefs": 1, "sampler": {"name": "dirichlet", "alpha": 0.2},
                        "scalarization": {"name": "linear"}, "optimizer": "adam", "lr": lr,
                        "batch_size": 256, "normalize": "none"},
                user_hypernet=hypernet, user_train=train, n_eval=n_eval, eval_every=eval_every,
                ref_point=ref_point, threads=threads, device=device, dtype=dtype)


phn_ls.__doc__ = f"{phn_ls.__doc__.rstrip()}\n\n    {COMMON_DOC}\n"
