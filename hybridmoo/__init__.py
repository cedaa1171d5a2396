"""hybridmoo: evolutionary + gradient hybrid multi-objective optimisation.

Inner loop: preference-conditioned hypernetworks (Pareto set learning) learn a whole Pareto front
in one training run. Outer loop: pymoo searches the hypernetwork's configuration. Ray actors train
the candidates; an HDF5 file keeps each study.
"""

from importlib.metadata import PackageNotFoundError, version

from hybridmoo import metrics, preferences, problems, scalarize
from hybridmoo.analysis import StudyData, load
from hybridmoo.errors import HybridMooError
from hybridmoo.hypernet import HypernetConfig, Hypernetwork
from hybridmoo.train import TrainConfig, Trainer, TrialResult, train

try:
    __version__ = version("hybridmoo")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = [
    "HybridMooError",
    "HypernetConfig",
    "Hypernetwork",
    "StudyData",
    "TrainConfig",
    "Trainer",
    "TrialResult",
    "__version__",
    "load",
    "metrics",
    "preferences",
    "problems",
    "scalarize",
    "train",
]
