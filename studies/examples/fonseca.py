"""A differentiable problem written in torch: Fonseca & Fleming (1995), n variables.

f1(x) = 1 − exp(−Σ (x_i − 1/√n)²),  f2(x) = 1 − exp(−Σ (x_i + 1/√n)²),  x in [−4, 4]^n.
The Pareto set is the segment x_1 = … = x_n in [−1/√n, 1/√n]; the front is concave.

Used by fonseca.toml as ``name = "fonseca:make_problem"`` with ``options = { n_var = 3 }``.
"""

import math

import torch

from hybridmoo.problems import from_function


def fonseca(x: torch.Tensor) -> torch.Tensor:
    """`(..., n)` decision vectors → `(..., 2)` objectives."""
    c = 1.0 / math.sqrt(x.shape[-1])
    f1 = 1 - torch.exp(-((x - c) ** 2).sum(-1))
    f2 = 1 - torch.exp(-((x + c) ** 2).sum(-1))
    return torch.stack([f1, f2], dim=-1)


def make_problem(n_var: int = 3):
    """The factory a study file names; its keyword arguments are the problem's options."""
    return from_function(fonseca, n_var=n_var, n_obj=2, lower=-4.0, upper=4.0,
                         ref_point=[1.1, 1.1], ideal=[0.0, 0.0], name="fonseca",
                         obj_names=["f1", "f2"])
