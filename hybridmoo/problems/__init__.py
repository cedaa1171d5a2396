"""Differentiable multi-objective problems and their registry.

>>> from hybridmoo import problems
>>> p = problems.get("zdt1", n_var=5)
>>> p.n_obj
2
"""

from hybridmoo.problems import dtlz, mtl, re, vlmop, zdt  # noqa: F401  (registers the problems)
from hybridmoo.problems.base import Problem
from hybridmoo.problems.custom import from_function, from_numpy, from_pymoo
from hybridmoo.problems.model import from_model
from hybridmoo.problems.registry import get, names, options_of, register, registered

__all__ = ["Problem", "from_function", "from_model", "from_numpy", "from_pymoo",
           "get", "names", "options_of",
           "register", "registered"]
