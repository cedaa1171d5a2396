"""VLMOP1, VLMOP2 and the F1-F6 problems of Pareto set learning, differentiable in torch.

VLMOP1 and VLMOP2 are problems MOP1 and MOP2 of the test suite of Van Veldhuizen and Lamont
(1999), "Multiobjective evolutionary algorithm test suites", Proc. ACM Symposium on Applied
Computing, 351-357 (originally due to Schaffer 1985 and Fonseca and Fleming 1995); the bounds are
those of the Pareto set learning literature: Lin, Yang, Zhang and Zhang (2022), "Pareto Set
Learning for Expensive Multi-Objective Optimization", NeurIPS (code github.com/Xi-L/PSL-MOBO),
VLMOP2's ``[-2, 2]`` as in Knowles (2006), ParEGO, IEEE TEVC 10(1).

F1-F6 are the synthetic problems with complicated Pareto sets of Lin et al. (2022), as defined in
the authors' code (PSL-MOBO, ``problem.py``); they are built like the LZ09 problems of Li and
Zhang (2009), IEEE TEVC 13(2). All six share the front ``f2 = 1 - sqrt(f1)``, ``f1 in [0, 1]``.

Reference points are 1.1 × the nadir point used by Lin et al. (2022) (``ref_point = 1.1 *
nadir_point`` in their code): ``(4.4, 4.4)`` for VLMOP1, ``(1.1, 1.1)`` for VLMOP2 and F1-F6.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from hybridmoo.problems.base import Problem
from hybridmoo.problems.registry import register
from hybridmoo.problems.zdt import _check_n_points, _int_option

__all__ = ["F1", "F2", "F3", "F4", "F5", "F6", "VLMOP1", "VLMOP2"]

_REF_SOURCE = (
    "1.1 × the nadir point used by Lin et al. 2022 (PSL for expensive MOBO, NeurIPS; "
    "github.com/Xi-L/PSL-MOBO)"
)


@register("vlmop1", "VLMOP", "VLMOP1: f = (x^2, (x - 2)^2), x in [-2, 4] (Van Veldhuizen 1999)")
class VLMOP1(Problem):
    """VLMOP1 (Schaffer's problem, MOP1 of Van Veldhuizen and Lamont 1999).

    ``f1 = x^2``, ``f2 = (x - 2)^2`` with one variable ``x in [-2, 4]`` (the bounds of
    Lin et al. 2022). The Pareto set is ``x in [0, 2]``, the front ``f2 = (sqrt(f1) - 2)^2``.

    Shapes:
        :meth:`evaluate` maps `(..., 1)` to `(..., 2)`.
    """

    def __init__(self) -> None:
        self._setup(
            name="vlmop1",
            n_var=1,
            n_obj=2,
            lower=-2.0,
            upper=4.0,
            ref_point=(4.4, 4.4),
            ref_point_source=_REF_SOURCE + "; nadir (4, 4)",
            ideal=(0.0, 0.0),
            nadir=(4.0, 4.0),
            obj_names=("f1", "f2"),
            options={},
        )

    def _evaluate(self, x: Tensor) -> Tensor:
        x0 = x[..., 0]
        return torch.stack([x0 * x0, (x0 - 2.0) ** 2], dim=-1)

    def pareto_set(self, n_points: int = 100) -> np.ndarray:
        """``x`` evenly spaced in ``[0, 2]``, `(n_points, 1)`."""
        return np.linspace(0.0, 2.0, _check_n_points(n_points))[:, None]

    def pareto_front(self, n_points: int = 100) -> np.ndarray:
        """The front ``(x^2, (x - 2)^2)`` for :meth:`pareto_set`, `(n_points, 2)`."""
        x = self.pareto_set(n_points)[:, 0]
        return np.stack([x**2, (x - 2.0) ** 2], axis=-1)


@register("vlmop2", "VLMOP", "VLMOP2: Fonseca-Fleming, x in [-2, 2]^n (Van Veldhuizen 1999)")
class VLMOP2(Problem):
    """VLMOP2 (Fonseca and Fleming's problem, MOP2 of Van Veldhuizen and Lamont 1999).

    ``f1 = 1 - exp(-sum_i (x_i - 1/sqrt(n))^2)``, ``f2 = 1 - exp(-sum_i (x_i + 1/sqrt(n))^2)``,
    ``x in [-2, 2]^n``. The Pareto set is the diagonal segment ``x_i = t``,
    ``t in [-1/sqrt(n), 1/sqrt(n)]``; the front's nadir is ``(1 - e^-4, 1 - e^-4)``. The reference
    point ``(1.1, 1.1)`` is 1.1 × the nadir ``(1, 1)`` used by Lin et al. (2022).

    Args:
        n_var: number of variables (>= 1); Lin et al. (2022) use 6.

    Shapes:
        :meth:`evaluate` maps `(..., n_var)` to `(..., 2)`.
    """

    def __init__(self, n_var: int = 2) -> None:
        n_var = _int_option("vlmop2", "n_var", n_var, 1)
        corner = 1.0 - math.exp(-4.0)
        self._setup(
            name="vlmop2",
            n_var=n_var,
            n_obj=2,
            lower=-2.0,
            upper=2.0,
            ref_point=(1.1, 1.1),
            ref_point_source=_REF_SOURCE + "; nadir (1, 1)",
            ideal=(0.0, 0.0),
            nadir=(corner, corner),
            obj_names=("f1", "f2"),
            options={"n_var": n_var},
        )

    def _evaluate(self, x: Tensor) -> Tensor:
        c = 1.0 / math.sqrt(self.n_var)
        f1 = 1.0 - torch.exp(-((x - c) ** 2).sum(dim=-1))
        f2 = 1.0 - torch.exp(-((x + c) ** 2).sum(dim=-1))
        return torch.stack([f1, f2], dim=-1)

    def _diagonal(self, n_points: int) -> np.ndarray:
        """``s = sqrt(n) t`` evenly spaced in ``[-1, 1]``."""
        return np.linspace(-1.0, 1.0, _check_n_points(n_points))

    def pareto_set(self, n_points: int = 100) -> np.ndarray:
        """Points of the diagonal segment, `(n_points, n_var)`."""
        s = self._diagonal(n_points) / math.sqrt(self.n_var)
        return np.repeat(s[:, None], self.n_var, axis=1)

    def pareto_front(self, n_points: int = 100) -> np.ndarray:
        """``(1 - exp(-(s - 1)^2), 1 - exp(-(s + 1)^2))`` for ``s in [-1, 1]``, `(n_points, 2)`."""
        s = self._diagonal(n_points)
        return np.stack([1.0 - np.exp(-((s - 1.0) ** 2)), 1.0 - np.exp(-((s + 1.0) ** 2))], -1)


class _PSLF(Problem):
    """Shared structure of F1-F6 (Lin et al. 2022).

    With ``i = 2..n`` (1-based) split into odd ``J1`` and even ``J2`` indices and residuals
    ``y_i = s (x_i - t_i(x_1))`` (zero on the Pareto set ``x_i = t_i(x_1)``; ``s = 2`` for F4-F6,
    whose residuals are taken in ``z_i = 2 x_i - 1``, else 1), ``G_1 = 1 + mean_{J1} y_i^p``,
    ``G_2 = 1 + mean_{J2} y_i^p`` (``p = 2``, ``p = 4`` for F6) and ``f1 = G_1 x_1``,
    ``f2 = G_2 (1 - sqrt(x_1 / G_2))``.
    """

    _name = ""
    _power = 2
    _scale = 1.0  # F4-F6 measure residuals in z = 2 x - 1, i.e. twice those in x

    def __init__(self, n_var: int) -> None:
        n_var = _int_option(self._name, "n_var", n_var, 3)
        self._setup(
            name=self._name,
            n_var=n_var,
            n_obj=2,
            lower=0.0,
            upper=1.0,
            ref_point=(1.1, 1.1),
            ref_point_source=_REF_SOURCE + "; nadir (1, 1)",
            ideal=(0.0, 0.0),
            nadir=(1.0, 1.0),
            obj_names=("f1", "f2"),
            options={"n_var": n_var},
        )

    def _index(self, like: Tensor) -> Tensor:
        """The 1-based indices ``2..n`` of ``x_2..x_n``, a `(n - 1)` tensor like ``like``."""
        return torch.arange(2, self.n_var + 1, dtype=like.dtype, device=like.device)

    def _target(self, x1: Tensor, i: Tensor) -> Tensor:
        """Where ``x_2..x_n`` lie on the Pareto set, `(..., n - 1)` (in ``[0, 1]``)."""
        raise NotImplementedError  # pragma: no cover

    def _f2_h(self, x1: Tensor, g2: Tensor) -> Tensor:
        return g2 * (1.0 - torch.sqrt(x1 / g2))

    def _evaluate(self, x: Tensor) -> Tensor:
        x1 = x[..., :1]
        i = self._index(x)
        y = (self._scale * (x[..., 1:] - self._target(x1, i))) ** self._power
        odd = torch.remainder(i, 2.0) == 1.0
        zero = torch.zeros((), dtype=x.dtype, device=x.device)
        n_odd, n_even = (self.n_var - 1) // 2, self.n_var // 2
        g1 = 1.0 + torch.where(odd, y, zero).sum(dim=-1) / n_odd
        g2 = 1.0 + torch.where(odd, zero, y).sum(dim=-1) / n_even
        f1 = g1 * x1[..., 0]
        return torch.stack([f1, self._f2_h(x1[..., 0], g2)], dim=-1)

    def pareto_set(self, n_points: int = 100) -> np.ndarray:
        """``x_1`` evenly spaced in ``[0, 1]``, the rest on their targets, `(n_points, n_var)`."""
        x1 = torch.linspace(0.0, 1.0, _check_n_points(n_points), dtype=torch.float64)[:, None]
        rest = self._target(x1, self._index(x1))
        return torch.cat([x1, rest], dim=-1).numpy()

    def pareto_front(self, n_points: int = 100) -> np.ndarray:
        """``f2 = 1 - sqrt(f1)``, ``f1`` evenly spaced in ``[0, 1]``, `(n_points, 2)`."""
        f1 = np.linspace(0.0, 1.0, _check_n_points(n_points))
        return np.stack([f1, 1.0 - np.sqrt(f1)], axis=-1)


def _odd(i: Tensor) -> Tensor:
    return torch.remainder(i, 2.0) == 1.0


@register("psl_f1", "PSL", "F1 of Lin et al. 2022: x_i = (2 x_1 - 1)^2 on the Pareto set")
class F1(_PSLF):
    """F1 of Lin et al. (2022): the Pareto set is ``x_i = (2 x_1 - 1)^2``, ``i >= 2``.

    ``y_i = x_i - (2 x_1 - 1)^2``, ``f1 = (1 + mean_{odd i} y_i^2) x_1``,
    ``f2 = G (1 - sqrt(x_1 / G))`` with ``G = 1 + mean_{even i} y_i^2``, ``x in [0, 1]^n``.

    Args:
        n_var: number of variables (>= 3), 6 in the paper.

    Shapes:
        :meth:`evaluate` maps `(..., n_var)` to `(..., 2)`.
    """

    _name = "psl_f1"

    def __init__(self, n_var: int = 6) -> None:
        super().__init__(n_var)

    def _target(self, x1: Tensor, i: Tensor) -> Tensor:
        return ((2.0 * x1 - 1.0) ** 2).expand(*x1.shape[:-1], i.shape[0])


@register("psl_f2", "PSL", "F2 of Lin et al. 2022: x_i = x_1^(theta_i / 2) on the Pareto set")
class F2(_PSLF):
    """F2 of Lin et al. (2022): the Pareto set is ``x_i = x_1^(0.5 theta_i)``.

    ``theta_i = 1 + 3 (i - 2) / (n - 2)``, ``y_i = x_i - x_1^(0.5 theta_i)``; ``f1`` and ``f2`` as
    in :class:`F1`, ``x in [0, 1]^n``.

    Args:
        n_var: number of variables (>= 3), 6 in the paper.

    Shapes:
        :meth:`evaluate` maps `(..., n_var)` to `(..., 2)`.
    """

    _name = "psl_f2"

    def __init__(self, n_var: int = 6) -> None:
        super().__init__(n_var)

    def _target(self, x1: Tensor, i: Tensor) -> Tensor:
        theta = 1.0 + 3.0 * (i - 2.0) / (self.n_var - 2)
        return x1 ** (0.5 * theta)


@register("psl_f3", "PSL", "F3 of Lin et al. 2022: x_i = (sin(4 pi x_1 + i pi / n) + 1) / 2")
class F3(_PSLF):
    """F3 of Lin et al. (2022): the Pareto set is ``x_i = (sin(4 pi x_1 + i pi / n) + 1) / 2``.

    ``y_i = x_i - (sin(4 pi x_1 + i pi / n) + 1) / 2``, ``f1 = (1 + mean_{odd i} y_i^2) x_1``,
    ``f2 = (1 + mean_{even i} y_i^2) (1 - sqrt(x_1))``, ``x in [0, 1]^n``.

    Args:
        n_var: number of variables (>= 3), 6 in the paper.

    Shapes:
        :meth:`evaluate` maps `(..., n_var)` to `(..., 2)`.
    """

    _name = "psl_f3"

    def __init__(self, n_var: int = 6) -> None:
        super().__init__(n_var)

    def _target(self, x1: Tensor, i: Tensor) -> Tensor:
        return (torch.sin(4.0 * math.pi * x1 + i * (math.pi / self.n_var)) + 1.0) / 2.0

    def _f2_h(self, x1: Tensor, g2: Tensor) -> Tensor:
        return g2 * (1.0 - torch.sqrt(x1))


@register("psl_f4", "PSL", "F4 of Lin et al. 2022: x_i = (1 + 0.8 x_1 sin|cos(4 pi x_1 + ...)) / 2")
class F4(_PSLF):
    """F4 of Lin et al. (2022): a Pareto set winding around ``x_i = 1/2``.

    With ``z_i = 2 x_i - 1`` and ``phi_i = 4 pi x_1 + i pi / n``:
    ``y_i = z_i - 0.8 x_1 sin(phi_i)`` for even ``i``, ``y_i = z_i - 0.8 x_1 cos(phi_i)`` for odd
    ``i``; ``f1`` and ``f2`` as in :class:`F1`, ``x in [0, 1]^n``.

    Args:
        n_var: number of variables (>= 3), 6 in the paper.

    Shapes:
        :meth:`evaluate` maps `(..., n_var)` to `(..., 2)`.
    """

    _name = "psl_f4"
    _scale = 2.0

    def __init__(self, n_var: int = 6) -> None:
        super().__init__(n_var)

    def _target(self, x1: Tensor, i: Tensor) -> Tensor:
        phi = 4.0 * math.pi * x1 + i * (math.pi / self.n_var)
        z = 0.8 * x1 * torch.where(_odd(i), torch.cos(phi), torch.sin(phi))
        return (z + 1.0) / 2.0


@register("psl_f5", "PSL", "F5 of Lin et al. 2022: as F4 with cos(phi / 3) for odd i")
class F5(_PSLF):
    """F5 of Lin et al. (2022): F4 with ``cos(phi_i / 3)`` for odd ``i``.

    With ``z_i = 2 x_i - 1`` and ``phi_i = 4 pi x_1 + i pi / n``:
    ``y_i = z_i - 0.8 x_1 sin(phi_i)`` for even ``i``, ``y_i = z_i - 0.8 x_1 cos(phi_i / 3)`` for
    odd ``i``; ``f1`` and ``f2`` as in :class:`F1`, ``x in [0, 1]^n``.

    Args:
        n_var: number of variables (>= 3), 6 in the paper.

    Shapes:
        :meth:`evaluate` maps `(..., n_var)` to `(..., 2)`.
    """

    _name = "psl_f5"
    _scale = 2.0

    def __init__(self, n_var: int = 6) -> None:
        super().__init__(n_var)

    def _target(self, x1: Tensor, i: Tensor) -> Tensor:
        phi = 4.0 * math.pi * x1 + i * (math.pi / self.n_var)
        z = 0.8 * x1 * torch.where(_odd(i), torch.cos(phi / 3.0), torch.sin(phi))
        return (z + 1.0) / 2.0


@register("psl_f6", "PSL", "F6 of Lin et al. 2022: a curled Pareto set, quartic residuals")
class F6(_PSLF):
    """F6 of Lin et al. (2022): a curled Pareto set and quartic residuals.

    With ``z_i = 2 x_i - 1``, ``a_i = 0.3 x_1^2 cos(12 pi x_1 + 4 i pi / n) + 0.6 x_1`` and
    ``psi_i = 6 pi x_1 + i pi / n``: ``y_i = z_i - a_i sin(psi_i)`` for even ``i``,
    ``y_i = z_i - a_i cos(psi_i)`` for odd ``i``; ``f1 = (1 + mean_{odd i} y_i^4) x_1``,
    ``f2 = G (1 - sqrt(x_1 / G))`` with ``G = 1 + mean_{even i} y_i^4``, ``x in [0, 1]^n``.

    Args:
        n_var: number of variables (>= 3), 6 in the paper.

    Shapes:
        :meth:`evaluate` maps `(..., n_var)` to `(..., 2)`.
    """

    _name = "psl_f6"
    _power = 4
    _scale = 2.0

    def __init__(self, n_var: int = 6) -> None:
        super().__init__(n_var)

    def _target(self, x1: Tensor, i: Tensor) -> Tensor:
        n = self.n_var
        amp = 0.3 * x1**2 * torch.cos(12.0 * math.pi * x1 + i * (4.0 * math.pi / n)) + 0.6 * x1
        psi = 6.0 * math.pi * x1 + i * (math.pi / n)
        z = amp * torch.where(_odd(i), torch.cos(psi), torch.sin(psi))
        return (z + 1.0) / 2.0
