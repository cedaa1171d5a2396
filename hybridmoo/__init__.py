"""hybridmoo: evolutionary + gradient hybrid multi-objective optimisation.

Inner loop: preference-conditioned hypernetworks (Pareto set learning) learn a whole Pareto front
in one training run. Outer loop: pymoo searches the hypernetwork's configuration. Ray actors train
the candidates; an HDF5 file keeps each study.
"""

from hybridmoo import metrics, preferences, problems, scalarize
from hybridmoo._version import __version__
from hybridmoo.analysis import StudyData, load
from hybridmoo.errors import HybridMooError
from hybridmoo.hypernet import HypernetConfig, Hypernetwork
from hybridmoo.train import TrainConfig, Trainer, TrialResult, train

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
