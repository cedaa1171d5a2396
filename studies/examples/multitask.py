"""A multi-task network of your own: a shared trunk and two heads on scikit-learn's diabetes data.

442 patients, 10 baseline measurements (Efron et al. 2004, bundled with scikit-learn). From the
9 measurements other than ``s5`` (log serum triglycerides), one small network learns two tasks
at once:

1. ``progression``: the disease progression one year later (regression, mean squared error on
   the standardised target);
2. ``high_s5``: whether ``s5`` is above the training median (classification, cross-entropy).

The trunk is narrow (2 units by default), so the tasks compete for it: the hypernetwork learns
the whole trade-off, one network per preference. Data split 60 / 20 / 20 (seeded) into train /
validation / test; the validation split picks the checkpoint (``checkpoint = "best"``).

Used by multitask.toml as ``name = "multitask:make_problem"``; in Python::

    from hybridmoo.train import train
    problem = make_problem()
    result = train(problem, steps=300, batch_size=64, checkpoint="best")
    net = problem.network(result, [0.5, 0.5])   # the trained nn.Module of one preference
"""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from hybridmoo.problems import from_model


class TwoHeads(nn.Module):
    """`(b, 9)` inputs → (progression `(b,)`, high-s5 logits `(b, 2)`)."""

    def __init__(self, in_dim: int = 9, hidden: int = 2) -> None:
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(in_dim, hidden), nn.Tanh())
        self.progression = nn.Linear(hidden, 1)
        self.high_s5 = nn.Linear(hidden, 2)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.trunk(x)
        return self.progression(z).squeeze(-1), self.high_s5(z)


def splits(seed: int = 0) -> dict:
    """``{"train" | "val" | "test": (X (n, 9) float32, (progression (n,), high_s5 (n,)))}``."""
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    s5 = X[:, 8]
    X = np.delete(X, 8, axis=1)
    perm = np.random.default_rng(seed).permutation(len(y))
    n_tr, n_va = int(0.6 * len(y)), int(0.2 * len(y))
    idx = {"train": perm[:n_tr], "val": perm[n_tr:n_tr + n_va], "test": perm[n_tr + n_va:]}
    tr = idx["train"]
    mu, sd = X[tr].mean(0), X[tr].std(0)
    y_mu, y_sd, cut = y[tr].mean(), y[tr].std(), np.median(s5[tr])
    out = {}
    for name, i in idx.items():
        out[name] = (torch.tensor((X[i] - mu) / sd, dtype=torch.float32),
                     (torch.tensor((y[i] - y_mu) / y_sd, dtype=torch.float32),
                      torch.tensor(s5[i] > cut, dtype=torch.long)))
    return out


def make_problem(hidden: int = 2, seed: int = 0):
    """The factory a study file names; its keyword arguments are the problem's options."""
    d = splits(seed)
    return from_model(TwoHeads(hidden=hidden), d["train"], d["val"], d["test"],
                      losses=[F.mse_loss, F.cross_entropy], name="diabetes_multitask",
                      obj_names=["mse_progression", "ce_high_s5"], ideal=[0.0, 0.0])
