"""COSMOS: preference-conditioned training with a cosine penalty.

Ruchte & Grabocka, "Scalable Pareto Front Approximation for Deep Multi-Objective Learning",
ICDM 2021 (code ``ruchtem/cosmos``).
"""

from __future__ import annotations

from collections.abc import Mapping

from hybridmoo.baselines._trainer import COMMON_DOC, run_trainer
from hybridmoo.baselines.common import BaselineResult, Budget, register

__all__ = ["cosmos"]


# COSMOS's cosine penalty per data set (ruchtem/cosmos, multi_objective/settings.py)
_COSMOS_WEIGHT = {"multi_mnist": 2.0, "multi_fashion": 2.0, "multi_fashion_mnist": 8.0,
                  "tabular_sparsity": 0.01}


@register("cosmos", "psl", "Ruchte & Grabocka, ICDM 2021")
def cosmos(problem, budget: Budget, seed: int, *, n_eval: int = 100,
           eval_every: int | None = None, ref_point=None, threads: int | None = None,
           device: str = "cpu", dtype: str = "float32", hypernet: Mapping | None = None,
           train: Mapping | None = None) -> BaselineResult:
    """COSMOS: linear scalarisation minus a cosine-similarity penalty, one preference per step.

    Settings (``ruchtem/cosmos``, ``multi_objective/settings.py`` and
    ``methods/cosmos/cosmos.py``): preferences Dirichlet(α = 1.2), one per batch (K = 1); loss
    Σ_i λ_i f_i − c·cos(f, λ) with c = 2 (Multi-MNIST, Multi-Fashion; 8 for
    Multi-Fashion+MNIST, 0.01 for the fairness tables, here ``tabular_sparsity``; 2 on synthetic
    problems, our choice); Adam lr 1e-3, batch 256 (the ``generic`` settings).

    Differences (reading): COSMOS conditions the *input* of a single network on the preference
    (it concatenates λ, up-sampled by transposed convolutions for images); here the preference
    conditions a hypernetwork (hybridmoo's default architecture), since the comparison is about
    the training method on a shared model family. COSMOS's multi-step learning-rate schedule
    (×0.1 at epochs 20, 40, 80, 90) is not applied (constant rate).
    """
    c = _COSMOS_WEIGHT.get(getattr(problem, "name", ""), 2.0)
    return run_trainer(problem, budget, seed, method="cosmos", hypernet={},
                config={"n_prefs": 1, "sampler": {"name": "dirichlet", "alpha": 1.2},
                        "scalarization": {"name": "cosmos", "cos_weight": c},
                        "optimizer": "adam", "lr": 1e-3, "batch_size": 256,
                        "normalize": "none"},
                user_hypernet=hypernet, user_train=train, n_eval=n_eval, eval_every=eval_every,
                ref_point=ref_point, threads=threads, device=device, dtype=dtype)


cosmos.__doc__ = f"{cosmos.__doc__.rstrip()}\n\n    {COMMON_DOC}\n"
