"""hybridmoo: evolutionary + gradient hybrid multi-objective optimisation.

Inner loop: preference-conditioned hypernetworks (Pareto set learning) learn a whole Pareto front
in one training run. Outer loop: pymoo searches the hypernetwork's configuration. Ray actors train
the candidates; an HDF5 file keeps each study.

The public names below are imported on first use (PEP 562), so ``import hybridmoo`` — and the
``hybridmoo`` command's ``--version`` and ``--help`` — do not pay for torch.
"""

import sys
from importlib import import_module
from types import ModuleType

from hybridmoo._version import __version__
from hybridmoo.errors import HybridMooError

#: public name -> (module, attribute or None for the module itself)
_LAZY = {
    "metrics": ("hybridmoo.metrics", None),
    "preferences": ("hybridmoo.preferences", None),
    "problems": ("hybridmoo.problems", None),
    "scalarize": ("hybridmoo.scalarize", None),
    "StudyData": ("hybridmoo.analysis", "StudyData"),
    "load": ("hybridmoo.analysis", "load"),
    "HypernetConfig": ("hybridmoo.hypernet", "HypernetConfig"),
    "Hypernetwork": ("hybridmoo.hypernet", "Hypernetwork"),
    "TrainConfig": ("hybridmoo.train", "TrainConfig"),
    "Trainer": ("hybridmoo.train", "Trainer"),
    "TrialResult": ("hybridmoo.record", "TrialResult"),
    "Record": ("hybridmoo.record", "Record"),
    "Budget": ("hybridmoo.record", "Budget"),
    "methods": ("hybridmoo.methods", None),
    "train": ("hybridmoo.train", "train"),
}

__all__ = [
    "Budget",
    "HybridMooError",
    "HypernetConfig",
    "Hypernetwork",
    "Record",
    "StudyData",
    "TrainConfig",
    "Trainer",
    "TrialResult",
    "__version__",
    "load",
    "methods",
    "metrics",
    "preferences",
    "problems",
    "scalarize",
    "train",
]


def __getattr__(name: str):
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = import_module(module)
        value = value if attr is None else getattr(value, attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hybridmoo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(ModuleType):
    """``hybridmoo.train`` stays the function when the submodule of that name is imported
    (the import system then binds the submodule to the package's attribute)."""

    def __setattr__(self, name: str, value) -> None:
        if name == "train" and isinstance(value, ModuleType):
            value = value.train
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
