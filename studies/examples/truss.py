"""A black-box engineering problem: the two-bar truss (numpy, no gradients, one constraint).

Two bars of cross-sections x1, x2 (m²) meet at a joint at height y (m) and carry a 100 kN load.
Minimise the truss's volume and the larger of the two bar stresses, subject to
stress <= 1e5 kPa (Chafekar, Xuan & Rasheed 2003; Deb & Sundar 2006). The objectives differ by
six orders of magnitude: hybridmoo normalises them for training and reports them in their own
units.

Used by truss.toml as ``name = "truss:make_problem"``. hybridmoo trains the Pareto set model
with zero-order gradient estimates (``hybridmoo.problems.from_pymoo``).
"""

import numpy as np
from pymoo.core.problem import Problem

STRESS_LIMIT = 1e5


class TwoBarTruss(Problem):
    """x = (x1, x2, y) in [1e-5, 0.01]² × [1, 3]; F = (volume, max stress); G = stress - limit."""

    def __init__(self):
        super().__init__(n_var=3, n_obj=2, n_ieq_constr=1, xl=np.array([1e-5, 1e-5, 1.0]),
                         xu=np.array([0.01, 0.01, 3.0]))

    def _evaluate(self, x, out, *args, **kwargs):
        x1, x2, y = x[:, 0], x[:, 1], x[:, 2]
        volume = x1 * np.sqrt(16 + y**2) + x2 * np.sqrt(1 + y**2)
        s1 = 20 * np.sqrt(16 + y**2) / (y * x1)
        s2 = 80 * np.sqrt(1 + y**2) / (y * x2)
        stress = np.maximum(s1, s2)
        out["F"] = np.column_stack([volume, stress])
        out["G"] = ((stress - STRESS_LIMIT) / STRESS_LIMIT)[:, None]


def make_problem():
    """The factory a study file names: returns the pymoo problem (hybridmoo wraps it)."""
    return TwoBarTruss()
