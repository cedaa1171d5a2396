"""The ZDT test problems (two objectives, box constraints), differentiable in torch.

Zitzler, Deb and Thiele (2000), "Comparison of Multiobjective Evolutionary Algorithms: Empirical
Results", *Evolutionary Computation* 8(2), 173-195. The definitions follow pymoo's
``pymoo.problems.multi.zdt`` exactly (ZDT6 included); ZDT5 (binary variables) is not provided.

All ZDT problems have the form ``f1 = f1(x1)``, ``f2 = g(x2..xn) * h(f1, g)``; the Pareto set is
``g`` at its minimum (``x2..xn = 0``). Reference points follow the convention "1.1 × the nadir
point of the true Pareto front" used in the Pareto set learning literature (Lin et al. 2022,
"Pareto Set Learning for Expensive Multi-Objective Optimization", NeurIPS; code
github.com/Xi-L/PSL-MOBO, where ``ref_point = 1.1 * nadir_point``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from hybridmoo.errors import ConfigError
from hybridmoo.problems.base import Problem
from hybridmoo.problems.registry import register

__all__ = ["ZDT1", "ZDT2", "ZDT3", "ZDT4", "ZDT6"]

_REF_SOURCE = (
    "1.1 × nadir of the true Pareto front (the convention of the PSL literature, "
    "Lin et al. 2022, NeurIPS)"
)

# ZDT3: the non-dominated pieces of f2 = 1 - sqrt(f1) - f1 sin(10 pi f1), f1 in [0, 1]. Each piece
# ends at a local minimum of f2 and the next starts where f2 falls below that minimum again.
# Computed to ~1e-15 with mpmath root finding; tests check both properties. pymoo's values agree
# to 1e-10.
_ZDT3_PIECES = (
    (0.0, 0.08300153492691163),
    (0.18222872802939977, 0.2577623633878302),
    (0.4093136748086568, 0.4538821040888302),
    (0.6183967944392658, 0.6525117038046625),
    (0.8233317983266327, 0.8518328654364139),
)
_ZDT3_F2_MIN = -0.7733690123266405  # f2 at the end of the last piece

# ZDT6: f1 = 1 - exp(-4 x) sin^6(6 pi x) is smallest where d/dx [-4x + 6 log sin(6 pi x)] = 0,
# i.e. cot(6 pi x) = 1 / (9 pi); on [0, _ZDT6_X1_MIN] f1 decreases from 1 to _ZDT6_F1_MIN.
_ZDT6_X1_MIN = (math.pi / 2 - math.atan(1 / (9 * math.pi))) / (6 * math.pi)
_ZDT6_F1_MIN = 1 - math.exp(-4 * _ZDT6_X1_MIN) * math.sin(6 * math.pi * _ZDT6_X1_MIN) ** 6


def _int_option(problem: str, option: str, value, minimum: int) -> int:
    """Check that an integer option is ``>= minimum``; raise :class:`ConfigError` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ConfigError(f"{problem}: option {option}={value!r} must be an integer >= {minimum}.")
    if value < minimum:
        raise ConfigError(
            f"{problem}: option {option}={value} is out of range; it must be an integer "
            f">= {minimum}."
        )
    return int(value)


def _spread_over_intervals(intervals: Sequence[tuple[float, float]], n: int) -> np.ndarray:
    """``n`` points spread over disjoint intervals in proportion to their lengths (sorted).

    Every interval gets at least one point when ``n >= len(intervals)``; each interval's points
    include its end points (a single point sits at the interval's end).
    """
    lengths = np.array([b - a for a, b in intervals], dtype=np.float64)
    k = len(intervals)
    if n < k:  # too few points to cover every piece: take the longest pieces' end points
        keep = np.sort(np.argsort(-lengths, kind="stable")[:n])
        return np.array([intervals[i][1] for i in keep], dtype=np.float64)
    counts = np.ones(k, dtype=np.int64)
    extra = n - k
    share = lengths / lengths.sum() * extra
    counts += np.floor(share).astype(np.int64)
    rest = n - counts.sum()
    if rest:
        counts[np.argsort(-(share - np.floor(share)), kind="stable")[:rest]] += 1
    parts = []
    for (a, b), c in zip(intervals, counts, strict=True):
        parts.append(np.array([b]) if c == 1 else np.linspace(a, b, int(c)))
    return np.concatenate(parts)


def _check_n_points(n_points: int) -> int:
    if isinstance(n_points, bool) or not isinstance(n_points, int | np.integer) or n_points < 1:
        raise ValueError(f"n_points must be a positive integer, got {n_points!r}")
    return int(n_points)


class _ZDT(Problem):
    """Shared set-up of the ZDT problems (two objectives ``f1``, ``f2``)."""

    _default_n_var = 30

    def __init__(self, name: str, n_var: int, lower, upper, ideal, nadir) -> None:
        n_var = _int_option(name, "n_var", n_var, 2)
        nadir = np.asarray(nadir, dtype=np.float64)
        self._setup(
            name=name,
            n_var=n_var,
            n_obj=2,
            lower=lower,
            upper=upper,
            ref_point=1.1 * nadir,
            ref_point_source=_REF_SOURCE,
            ideal=ideal,
            nadir=nadir,
            obj_names=("f1", "f2"),
            options={"n_var": n_var},
        )

    def _g_linear(self, x: Tensor) -> Tensor:
        """``g = 1 + 9 / (n - 1) * sum(x2..xn)`` (ZDT1-3), shape `(...)`."""
        return 1.0 + 9.0 / (self.n_var - 1) * x[..., 1:].sum(dim=-1)

    def _front_f1(self, n_points: int) -> np.ndarray:
        return np.linspace(0.0, 1.0, _check_n_points(n_points))

    def _front_from_f1(self, f1: np.ndarray) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def pareto_front(self, n_points: int = 100) -> np.ndarray:
        """The analytic Pareto front, `(n_points, 2)` float64, sorted by ``f1``."""
        f1 = self._front_f1(n_points)
        return np.stack([f1, self._front_from_f1(f1)], axis=-1)

    def pareto_set(self, n_points: int = 100) -> np.ndarray:
        """Decision vectors of :meth:`pareto_front` (same order), `(n_points, n_var)` float64.

        ``x1`` is the front's ``f1`` and ``x2..xn = 0`` (where ``g`` is smallest).
        """
        x = np.zeros((_check_n_points(n_points), self.n_var))
        x[:, 0] = self._front_f1(n_points)
        return x


@register("zdt1", "ZDT", "ZDT1: convex front f2 = 1 - sqrt(f1) (Zitzler et al. 2000)")
class ZDT1(_ZDT):
    """ZDT1: convex Pareto front ``f2 = 1 - sqrt(f1)``.

    ``f1 = x1``, ``g = 1 + 9 / (n - 1) * sum_{i>=2} x_i``, ``f2 = g * (1 - sqrt(f1 / g))``,
    ``x in [0, 1]^n`` (Zitzler, Deb and Thiele 2000).

    Args:
        n_var: number of variables (>= 2), 30 in the original paper.

    Shapes:
        :meth:`evaluate` maps `(..., n_var)` to `(..., 2)`.
    """

    def __init__(self, n_var: int = 30) -> None:
        super().__init__("zdt1", n_var, 0.0, 1.0, ideal=(0.0, 0.0), nadir=(1.0, 1.0))

    def _evaluate(self, x: Tensor) -> Tensor:
        f1 = x[..., 0]
        g = self._g_linear(x)
        f2 = g * (1.0 - torch.sqrt(f1 / g))
        return torch.stack([f1, f2], dim=-1)

    def _front_from_f1(self, f1: np.ndarray) -> np.ndarray:
        return 1.0 - np.sqrt(f1)


@register("zdt2", "ZDT", "ZDT2: concave front f2 = 1 - f1^2 (Zitzler et al. 2000)")
class ZDT2(_ZDT):
    """ZDT2: concave Pareto front ``f2 = 1 - f1^2``.

    ``f1 = x1``, ``g = 1 + 9 / (n - 1) * sum_{i>=2} x_i``, ``f2 = g * (1 - (f1 / g)^2)``,
    ``x in [0, 1]^n`` (Zitzler, Deb and Thiele 2000).

    Args:
        n_var: number of variables (>= 2), 30 in the original paper.

    Shapes:
        :meth:`evaluate` maps `(..., n_var)` to `(..., 2)`.
    """

    def __init__(self, n_var: int = 30) -> None:
        super().__init__("zdt2", n_var, 0.0, 1.0, ideal=(0.0, 0.0), nadir=(1.0, 1.0))

    def _evaluate(self, x: Tensor) -> Tensor:
        f1 = x[..., 0]
        g = self._g_linear(x)
        f2 = g * (1.0 - (f1 / g) ** 2)
        return torch.stack([f1, f2], dim=-1)

    def _front_from_f1(self, f1: np.ndarray) -> np.ndarray:
        return 1.0 - f1**2


@register("zdt3", "ZDT", "ZDT3: disconnected front of five pieces (Zitzler et al. 2000)")
class ZDT3(_ZDT):
    """ZDT3: Pareto front made of five disconnected pieces.

    ``f1 = x1``, ``g = 1 + 9 / (n - 1) * sum_{i>=2} x_i``,
    ``f2 = g * (1 - sqrt(f1 / g) - (f1 / g) * sin(10 pi f1))``, ``x in [0, 1]^n``
    (Zitzler, Deb and Thiele 2000). On the front ``f1`` lies in five intervals within
    ``[0, 0.8518]`` and ``f2`` in ``[-0.7734, 1]``; the reference point is
    ``1.1 × (0.8518, 1)``.

    Args:
        n_var: number of variables (>= 2), 30 in the original paper.

    Shapes:
        :meth:`evaluate` maps `(..., n_var)` to `(..., 2)`.
    """

    pieces = _ZDT3_PIECES

    def __init__(self, n_var: int = 30) -> None:
        super().__init__(
            "zdt3", n_var, 0.0, 1.0, ideal=(0.0, _ZDT3_F2_MIN), nadir=(_ZDT3_PIECES[-1][1], 1.0)
        )

    def _evaluate(self, x: Tensor) -> Tensor:
        f1 = x[..., 0]
        g = self._g_linear(x)
        r = f1 / g
        f2 = g * (1.0 - torch.sqrt(r) - r * torch.sin(10.0 * math.pi * f1))
        return torch.stack([f1, f2], dim=-1)

    def _front_f1(self, n_points: int) -> np.ndarray:
        # A piece's first point ties in f2 with the previous piece's last point (and has a larger
        # f1), so it is dominated; start the later pieces just after it.
        pieces = [(a + (1e-9 if a > 0 else 0.0), b) for a, b in _ZDT3_PIECES]
        return _spread_over_intervals(pieces, _check_n_points(n_points))

    def _front_from_f1(self, f1: np.ndarray) -> np.ndarray:
        return 1.0 - np.sqrt(f1) - f1 * np.sin(10.0 * np.pi * f1)


@register("zdt4", "ZDT", "ZDT4: convex front, 21^9 local fronts (Zitzler et al. 2000)")
class ZDT4(_ZDT):
    """ZDT4: convex Pareto front with many local fronts (multimodal ``g``).

    ``f1 = x1``, ``g = 1 + 10 (n - 1) + sum_{i>=2} (x_i^2 - 10 cos(4 pi x_i))``,
    ``f2 = g * (1 - sqrt(f1 / g))``, ``x1 in [0, 1]``, ``x2..xn in [-5, 5]``
    (Zitzler, Deb and Thiele 2000).

    Args:
        n_var: number of variables (>= 2), 10 in the original paper.

    Shapes:
        :meth:`evaluate` maps `(..., n_var)` to `(..., 2)`.
    """

    def __init__(self, n_var: int = 10) -> None:
        n = _int_option("zdt4", "n_var", n_var, 2)
        lower = [0.0] + [-5.0] * (n - 1)
        upper = [1.0] + [5.0] * (n - 1)
        super().__init__("zdt4", n, lower, upper, ideal=(0.0, 0.0), nadir=(1.0, 1.0))

    def _evaluate(self, x: Tensor) -> Tensor:
        f1 = x[..., 0]
        rest = x[..., 1:]
        g = (
            1.0
            + 10.0 * (self.n_var - 1)
            + (rest * rest - 10.0 * torch.cos(4.0 * math.pi * rest)).sum(dim=-1)
        )
        f2 = g * (1.0 - torch.sqrt(f1 / g))
        return torch.stack([f1, f2], dim=-1)

    def _front_from_f1(self, f1: np.ndarray) -> np.ndarray:
        return 1.0 - np.sqrt(f1)


@register("zdt6", "ZDT", "ZDT6: concave, non-uniform front (Zitzler et al. 2000; pymoo form)")
class ZDT6(_ZDT):
    """ZDT6: concave Pareto front with a non-uniform density of solutions.

    ``f1 = 1 - exp(-4 x1) sin^6(6 pi x1)``, ``g = 1 + 9 ((sum_{i>=2} x_i) / (n - 1))^0.25``,
    ``f2 = g * (1 - (f1 / g)^2)``, ``x in [0, 1]^n`` (Zitzler, Deb and Thiele 2000, in pymoo's
    form). On the front ``f2 = 1 - f1^2`` with ``f1 in [0.2807753188, 1]``: the lower end is the
    minimum of ``f1``, reached where ``cot(6 pi x1) = 1 / (9 pi)``.

    Args:
        n_var: number of variables (>= 2), 10 in the original paper.

    Shapes:
        :meth:`evaluate` maps `(..., n_var)` to `(..., 2)`.
    """

    def __init__(self, n_var: int = 10) -> None:
        super().__init__(
            "zdt6",
            n_var,
            0.0,
            1.0,
            ideal=(_ZDT6_F1_MIN, 0.0),
            nadir=(1.0, 1.0 - _ZDT6_F1_MIN**2),
        )

    def _evaluate(self, x: Tensor) -> Tensor:
        x1 = x[..., 0]
        f1 = 1.0 - torch.exp(-4.0 * x1) * torch.sin(6.0 * math.pi * x1) ** 6
        g = 1.0 + 9.0 * (x[..., 1:].sum(dim=-1) / (self.n_var - 1.0)) ** 0.25
        f2 = g * (1.0 - (f1 / g) ** 2)
        return torch.stack([f1, f2], dim=-1)

    def _front_f1(self, n_points: int) -> np.ndarray:
        return np.linspace(_ZDT6_F1_MIN, 1.0, _check_n_points(n_points))

    def _front_from_f1(self, f1: np.ndarray) -> np.ndarray:
        return 1.0 - f1**2

    def pareto_set(self, n_points: int = 100) -> np.ndarray:
        """Decision vectors of :meth:`pareto_front` (same order), `(n_points, n_var)` float64.

        ``x1`` in ``[0, 0.0815]`` (where ``f1`` falls monotonically from 1 to its minimum),
        found by bisection, and ``x2..xn = 0``.
        """
        target = self._front_f1(n_points)
        lo = np.zeros_like(target)
        hi = np.full_like(target, _ZDT6_X1_MIN)
        for _ in range(80):  # f1 is decreasing on [0, _ZDT6_X1_MIN]
            mid = 0.5 * (lo + hi)
            f1 = 1.0 - np.exp(-4.0 * mid) * np.sin(6.0 * np.pi * mid) ** 6
            above = f1 > target
            lo = np.where(above, mid, lo)
            hi = np.where(above, hi, mid)
        x = np.zeros((target.shape[0], self.n_var))
        x[:, 0] = 0.5 * (lo + hi)
        return x
