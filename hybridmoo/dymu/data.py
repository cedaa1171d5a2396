"""DYMU data: the multi-task problem's tensors in the form the streams read."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from hybridmoo.errors import ConfigError, ShapeError


# ---------------------------------------------------------------------------- data
@dataclass
class DymuData:
    """The tensors of an N-task problem as DYMU uses them.

    Attributes:
        x_train, x_test: inputs `(n, C, H, W)` (images) or `(n, d)` (vectors).
        y_train, y_test: `(n, N)` int64 class labels (``task = "classification"``) or
            `(n, N, o)` float targets (``task = "regression"``).
        task: ``"classification"`` (per-task cross-entropy) or ``"regression"`` (per-task
            mean squared error).
        out_dim: classes (classification) or outputs per task (regression).
        ref_point: `(N,)` HV reference point of the test losses.
        name: the problem's name.
    """

    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    task: str
    out_dim: int
    ref_point: np.ndarray
    name: str = ""

    def __post_init__(self) -> None:
        if self.task not in ("classification", "regression"):
            raise ConfigError(f"DymuData.task = {self.task!r}: expected 'classification' or "
                              "'regression'")
        for split in ("train", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if x.shape[0] != y.shape[0]:
                raise ShapeError(f"x_{split} has {x.shape[0]} rows but y_{split} has "
                                 f"{y.shape[0]}")
            want = 2 if self.task == "classification" else 3
            if y.dim() != want:
                raise ShapeError(f"y_{split} must have {want} dimensions for {self.task}, got "
                                 f"shape {tuple(y.shape)}")
            if x.dim() not in (2, 4):
                raise ShapeError(f"x_{split} must be (n, d) or (n, C, H, W), got shape "
                                 f"{tuple(x.shape)}")
        self.ref_point = np.asarray(self.ref_point, dtype=np.float64).reshape(-1)
        if self.ref_point.size != self.n_tasks:
            raise ShapeError(f"ref_point has length {self.ref_point.size} for {self.n_tasks} "
                             "tasks")

    @property
    def n_tasks(self) -> int:
        """N, the number of tasks."""
        return int(self.y_train.shape[1])

    def losses(self, out: Tensor, y: Tensor) -> Tensor:
        """Per-example, per-task losses `(B, N)` of outputs `(B, N, out_dim)`."""
        if self.task == "classification":
            B, N, C = out.shape
            return F.cross_entropy(out.reshape(B * N, C), y.reshape(B * N),
                                   reduction="none").view(B, N)
        return ((out - y) ** 2).mean(dim=-1)


def dymu_data(problem) -> DymuData:
    """The :class:`DymuData` of a Multi-MNIST-family problem or of ``mtl_regression``.

    Multi-MNIST, Multi-Fashion and Multi-(Fashion+MNIST) give images `(n, 1, 36, 36)` and two
    10-class tasks (objectives: the test cross-entropies on the problem's ``eval_split``);
    ``mtl_regression`` gives vectors and N regression tasks (test MSEs).

    Raises:
        ConfigError: for any other problem.
    """
    from hybridmoo.problems.mtl import MTLRegression, _MultiOverlay

    ref = None if problem.ref_point is None else problem.ref_point.detach().cpu().numpy()
    if isinstance(problem, _MultiOverlay):
        xtr, ytr = problem.tensors("train")
        xte, yte = problem.tensors(problem.options["eval_split"])
        return DymuData(xtr, ytr, xte, yte, "classification", 10, ref, problem.name)
    if isinstance(problem, MTLRegression):
        d = problem.data()
        xtr, ytr = (torch.as_tensor(a, dtype=torch.float32) for a in d["train"])
        xte, yte = (torch.as_tensor(a, dtype=torch.float32) for a in d["test"])
        return DymuData(xtr, ytr, xte, yte, "regression", problem.options["out_dim"], ref,
                        problem.name)
    raise ConfigError(
        f"DYMU needs a multi-task problem whose tasks can each own a stream: multi_mnist, "
        f"multi_fashion, multi_fashion_mnist or mtl_regression; got {problem.name!r}"
    )
