"""The :class:`Problem` base class: differentiable multi-objective test problems.

A problem maps decision vectors ``x`` of shape ``(..., n_var)`` to objective vectors of shape
``(..., n_obj)``, all objectives minimised. :meth:`Problem.evaluate` validates its input and casts
the problem's constants to the dtype and device of ``x``; subclasses implement
:meth:`Problem._evaluate` with torch operations only, so that objectives are differentiable in
``x`` (float32 or float64, CPU or CUDA).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from hybridmoo.errors import ShapeError

__all__ = ["Problem"]


class Problem(ABC):
    """A box-constrained multi-objective problem with differentiable objectives.

    Subclasses set the attributes below in ``__init__`` (through :meth:`_setup`) and implement
    :meth:`_evaluate`. Optionally they override :meth:`pareto_front` and :meth:`pareto_set`.

    Attributes:
        name: registry name, e.g. ``"zdt1"``.
        n_var: number of decision variables.
        n_obj: number of objectives (all minimised).
        obj_names: one name per objective, used in tables, exports and plot labels.
        ref_point: `n_obj` float64 tensor: the reference point the literature uses for
            hypervolume on this problem (see :attr:`ref_point_source`), or ``None``.
        ref_point_source: where the convention for :attr:`ref_point` comes from.
        ideal: `n_obj` float64 tensor of the ideal point where known, else ``None``.
        nadir: `n_obj` float64 tensor of the nadir point where known, else ``None``.
        options: the options the problem was built with (for serialisation).
    """

    name: str
    n_var: int
    n_obj: int
    obj_names: tuple[str, ...]
    ref_point: Tensor | None
    ref_point_source: str
    ideal: Tensor | None
    nadir: Tensor | None
    options: dict
    #: points evaluated so far through :meth:`evaluate` (true function evaluations)
    n_evals: int = 0
    _counts_own_evaluations: bool = False  # black boxes count in their own call
    #: gradients are zero-order estimates (a black box): picks ``hypernet.bounds = "auto"``
    zero_order: bool = False

    def _setup(
        self,
        *,
        name: str,
        n_var: int,
        n_obj: int,
        lower: Sequence[float] | Tensor | float,
        upper: Sequence[float] | Tensor | float,
        ref_point: Sequence[float] | Tensor | None,
        ref_point_source: str,
        ideal: Sequence[float] | Tensor | None = None,
        nadir: Sequence[float] | Tensor | None = None,
        obj_names: Sequence[str] | None = None,
        options: dict | None = None,
    ) -> None:
        """Set and check the problem's attributes (called by subclasses' ``__init__``)."""
        self.name = name
        self.n_var = int(n_var)
        self.n_obj = int(n_obj)
        lo = torch.as_tensor(lower, dtype=torch.float64).expand(self.n_var).clone()
        hi = torch.as_tensor(upper, dtype=torch.float64).expand(self.n_var).clone()
        if not bool((lo < hi).all()):
            bad = int(torch.nonzero(lo >= hi)[0])
            raise ValueError(
                f"{name}: lower bound {lo[bad].item()} >= upper bound {hi[bad].item()} at variable "
                f"{bad}; did you swap the bounds?"
            )
        self._lower, self._upper = lo, hi
        self.ref_point = _vec(ref_point, self.n_obj, "ref_point", name)
        self.ref_point_source = ref_point_source
        self.ideal = _vec(ideal, self.n_obj, "ideal", name)
        self.nadir = _vec(nadir, self.n_obj, "nadir", name)
        if obj_names is None:
            obj_names = [f"f{i + 1}" for i in range(self.n_obj)]
        if len(obj_names) != self.n_obj:
            raise ValueError(
                f"{name}: {len(obj_names)} objective names for {self.n_obj} objectives"
            )
        self.obj_names = tuple(obj_names)
        self.options = dict(options or {})

    # ------------------------------------------------------------------ public API
    @property
    def bounds(self) -> tuple[Tensor, Tensor]:
        """Lower and upper bounds, two `n_var` float64 tensors (copies)."""
        return self._lower.clone(), self._upper.clone()

    def evaluate(self, x: Tensor) -> Tensor:
        """Objective values of decision vectors.

        Args:
            x: `(..., n_var)` floating tensor (float32 or float64, any device). Values are used as
                given; they are not clipped to the bounds.

        Returns:
            `(..., n_obj)` tensor of the same dtype and device as ``x``, differentiable in ``x``.

        Raises:
            ShapeError: if ``x`` is not a floating tensor or its last dimension is not ``n_var``.
        """
        if not isinstance(x, Tensor):
            raise ShapeError(
                f"{self.name}.evaluate expects a torch.Tensor of shape (..., {self.n_var}), got "
                f"{type(x).__name__}; convert with torch.as_tensor(x, dtype=torch.float64)."
            )
        if not x.is_floating_point():
            raise ShapeError(
                f"{self.name}.evaluate expects a floating tensor, got dtype {x.dtype}; "
                "use x.double() or x.float()."
            )
        if x.ndim == 0 or x.shape[-1] != self.n_var:
            raise ShapeError(
                f"{self.name}.evaluate expects x of shape (..., {self.n_var}), got "
                f"{tuple(x.shape)}."
            )
        if not self._counts_own_evaluations:
            self.n_evals += x.numel() // self.n_var
        f = self._evaluate(x)
        if f.shape != (*x.shape[:-1], self.n_obj):  # pragma: no cover - guards subclasses
            raise ShapeError(
                f"{type(self).__name__}._evaluate returned shape {tuple(f.shape)}, expected "
                f"{(*x.shape[:-1], self.n_obj)}"
            )
        return f

    def pareto_front(self, n_points: int = 100) -> np.ndarray | None:
        """A reference Pareto front: `(n, n_obj)` float64 array, or ``None`` if none is known.

        Analytic fronts are sampled with about ``n_points`` points (exactly ``n_points`` for
        two objectives); fronts read from published data are returned whole.
        """
        return None

    def pareto_set(self, n_points: int = 100) -> np.ndarray | None:
        """Decision vectors of the reference front, `(n, n_var)` float64, or ``None``."""
        return None

    @property
    def has_pareto_front(self) -> bool:
        """Whether :meth:`pareto_front` returns a reference front."""
        return type(self).pareto_front is not Problem.pareto_front

    def lower_upper(self, like: Tensor) -> tuple[Tensor, Tensor]:
        """Bounds cast to the dtype and device of ``like``."""
        return (
            self._lower.to(dtype=like.dtype, device=like.device),
            self._upper.to(dtype=like.dtype, device=like.device),
        )

    def describe(self) -> dict:
        """A JSON-serialisable description (name, sizes, options, reference point)."""
        return {
            "name": self.name,
            "n_var": self.n_var,
            "n_obj": self.n_obj,
            "obj_names": list(self.obj_names),
            "options": dict(self.options),
            "ref_point": None if self.ref_point is None else self.ref_point.tolist(),
            "ref_point_source": self.ref_point_source,
            # a user's problem named "module:factory" is rebuilt from its import path
            **({"import_path": self.import_path} if getattr(self, "import_path", None) else {}),
            # ... from the folder it was imported from (hybridmoo.problems.registry.import_folder)
            **({"import_folder": self.import_folder}
               if getattr(self, "import_folder", None) else {}),
        }

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"{type(self).__name__}({opts})"

    # ------------------------------------------------------------------ implementation
    @abstractmethod
    def _evaluate(self, x: Tensor) -> Tensor:
        """Objectives of ``x`` (`(..., n_var)` → `(..., n_obj)`); torch ops only."""


def _vec(v, n: int, what: str, name: str) -> Tensor | None:
    if v is None:
        return None
    t = torch.as_tensor(v, dtype=torch.float64).reshape(-1)
    if t.numel() == 1 and n > 1:
        t = t.expand(n).clone()
    if t.numel() != n:
        raise ValueError(f"{name}: {what} must have length {n}, but it has length {t.numel()}")
    return t


def straight_through(x: Tensor, snapped: Tensor) -> Tensor:
    """Return ``snapped`` in the forward pass with the identity gradient of ``x`` (STE).

    Used by problems with discrete variables: the objective sees the snapped value while the
    gradient passes to ``x`` unchanged (Bengio et al. 2013, straight-through estimator).
    """
    return x + (snapped - x).detach()
