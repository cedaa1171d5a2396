"""The DTLZ test problems (any number of objectives, ``x in [0, 1]^n``), differentiable in torch.

Deb, Thiele, Laumanns and Zitzler (2002), "Scalable multi-objective optimization test problems",
Proc. IEEE Congress on Evolutionary Computation, 825-830; and (2005), "Scalable test problems for
evolutionary multiobjective optimization", in *Evolutionary Multiobjective Optimization*,
Springer, 105-145. The definitions follow pymoo's ``pymoo.problems.many.dtlz`` exactly (DTLZ4
with ``alpha = 100``; DTLZ5/6 with the angle mapping ``theta_1 = x_1``,
``theta_i = (1 + 2 g x_i) / (2 (1 + g))``).

The variables split into ``x_I = x[:M-1]`` (position on the front) and ``x_M = x[M-1:]``
(``k = n - M + 1`` distance variables, the front is where ``g(x_M)`` is smallest). Reference
points are 1.1 × the nadir point of the true Pareto front (DTLZ1: 0.55 per objective; DTLZ2-6:
1.1 per objective; DTLZ7: computed from its nadir), the convention of the Pareto set learning
literature (Lin et al. 2022, NeurIPS; github.com/Xi-L/PSL-MOBO uses ``1.1 * nadir_point``).
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import torch
from torch import Tensor

from hybridmoo.problems.base import Problem
from hybridmoo.problems.registry import register
from hybridmoo.problems.zdt import _check_n_points, _int_option, _spread_over_intervals

__all__ = ["DTLZ1", "DTLZ2", "DTLZ3", "DTLZ4", "DTLZ5", "DTLZ6", "DTLZ7"]

_REF_SOURCE = (
    "1.1 × nadir of the true Pareto front (the convention of the PSL literature, "
    "Lin et al. 2022, NeurIPS)"
)
_REF_SOURCE_DEGENERATE = (
    "1.1 per objective: 1.1 × the nadir (1, ..., 1) of the DTLZ2 sphere that contains the "
    "front (the convention of the PSL literature, Lin et al. 2022, NeurIPS)"
)

# DTLZ7: on the front f_M = 2 M - sum_{i<M} z(f_i) with z(t) = t (1 + sin(3 pi t)); f_i is
# non-dominated where z(t) exceeds z on all of [0, t): t in [0, A] or (B, C]. A and C are local
# maxima of z, z(B) = z(A); computed to ~1e-15 with mpmath root finding (checked by the tests).
_DTLZ7_PIECES = ((0.0, 0.2514118360889171), (0.6316265307000613, 0.8594008566447239))
_DTLZ7_Z_MAX = 1.6929956344984225  # z(C), the largest z(t) on [0, 1]


@cache
def _das_dennis(n_obj: int, n_points: int) -> np.ndarray:
    """Das-Dennis weights on the simplex: the lattice whose size is closest to ``n_points``."""
    from pymoo.util.ref_dirs import get_reference_directions

    def size(p: int) -> int:
        return math.comb(p + n_obj - 1, n_obj - 1)

    p = 1
    while size(p) < n_points:
        p += 1
    if p > 1 and n_points - size(p - 1) <= size(p) - n_points:
        p -= 1
    w = np.array(get_reference_directions("das-dennis", n_obj, n_partitions=p), dtype=np.float64)
    w.setflags(write=False)  # cached: callers must not modify it
    return w


def _spherical(theta: Tensor, radius: Tensor) -> Tensor:
    """DTLZ2-style objectives from angles ``theta * pi / 2``.

    ``f_1 = r prod_{j<M} cos(a_j)``, ``f_i = r prod_{j<=M-i} cos(a_j) sin(a_{M-i+1})``,
    ``f_M = r sin(a_1)``.

    Args:
        theta: `(..., M-1)` angles in units of ``pi / 2``.
        radius: `(...)` the factor ``1 + g``.

    Returns:
        `(..., M)` objectives.
    """
    a = theta * (math.pi / 2)
    c, s = torch.cos(a), torch.sin(a)
    one = torch.ones_like(a[..., :1])
    cum = torch.cumprod(torch.cat([one, c], dim=-1), dim=-1)  # cum[..., j] = prod_{l<j} c_l
    tail = torch.cat([one, torch.flip(s, dims=[-1])], dim=-1)
    return radius.unsqueeze(-1) * torch.flip(cum, dims=[-1]) * tail


def _sphere_angles(f: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_spherical` for ``r = 1``: `(n, M)` points -> `(n, M-1)` angles."""
    m = f.shape[1]
    theta = np.empty((f.shape[0], m - 1))
    for j in range(m - 1):
        theta[:, j] = np.arctan2(f[:, m - 1 - j], np.linalg.norm(f[:, : m - 1 - j], axis=1))
    return np.clip(theta / (np.pi / 2), 0.0, 1.0)


class _DTLZ(Problem):
    """Shared set-up of the DTLZ problems: options ``n_obj`` and ``n_var``."""

    def __init__(
        self,
        name: str,
        n_obj: int,
        n_var: int | None,
        k_default: int,
        *,
        ideal,
        nadir,
        ref_point,
        ref_point_source: str = _REF_SOURCE,
    ) -> None:
        n_obj = _int_option(name, "n_obj", n_obj, 2)
        if n_var is None:
            n_var = n_obj + k_default - 1
        n_var = _int_option(name, "n_var", n_var, n_obj)
        self.k = n_var - n_obj + 1
        self._setup(
            name=name,
            n_var=n_var,
            n_obj=n_obj,
            lower=0.0,
            upper=1.0,
            ref_point=ref_point,
            ref_point_source=ref_point_source,
            ideal=ideal,
            nadir=nadir,
            options={"n_obj": n_obj, "n_var": n_var},
        )

    def _split(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return x[..., : self.n_obj - 1], x[..., self.n_obj - 1 :]

    def _g1(self, xm: Tensor) -> Tensor:
        """Rastrigin-like ``g`` of DTLZ1/3: ``100 (k + sum((x - .5)^2 - cos(20 pi (x - .5))))``."""
        d = xm - 0.5
        return 100.0 * (self.k + (d * d - torch.cos(20.0 * math.pi * d)).sum(dim=-1))

    @staticmethod
    def _g2(xm: Tensor) -> Tensor:
        """Sphere ``g`` of DTLZ2/4/5: ``sum((x - 0.5)^2)``."""
        d = xm - 0.5
        return (d * d).sum(dim=-1)


class _SphericalFront(_DTLZ):
    """DTLZ2/3/4: the front is the unit sphere's positive orthant, sampled by Das-Dennis."""

    _alpha = 1.0

    def __init__(self, name: str, n_obj: int, n_var: int | None) -> None:
        super().__init__(name, n_obj, n_var, 10, ideal=0.0, nadir=1.0, ref_point=1.1)

    def pareto_front(self, n_points: int = 100) -> np.ndarray:
        """Das-Dennis weights projected on the unit sphere, about ``n_points`` rows, `(n, M)`.

        Exactly ``n_points`` rows for two objectives; otherwise the Das-Dennis lattice whose size
        is closest to ``n_points``.
        """
        w = _das_dennis(self.n_obj, _check_n_points(n_points))
        return w / np.linalg.norm(w, axis=1, keepdims=True)

    def pareto_set(self, n_points: int = 100) -> np.ndarray:
        """Decision vectors of :meth:`pareto_front` (same order), `(n, n_var)`; ``x_M = 0.5``."""
        theta = _sphere_angles(self.pareto_front(n_points))
        x = np.full((theta.shape[0], self.n_var), 0.5)
        x[:, : self.n_obj - 1] = theta ** (1.0 / self._alpha)
        return x


@register("dtlz1", "DTLZ", "DTLZ1: linear front sum f = 0.5, multimodal g (Deb et al. 2002)")
class DTLZ1(_DTLZ):
    """DTLZ1: linear Pareto front ``sum_i f_i = 0.5`` and a multimodal distance function.

    ``g = 100 (k + sum_{x in x_M} ((x - 0.5)^2 - cos(20 pi (x - 0.5))))``,
    ``f_1 = 0.5 (1 + g) x_1 ... x_{M-1}``, ``f_i = 0.5 (1 + g) x_1 ... x_{M-i} (1 - x_{M-i+1})``,
    ``f_M = 0.5 (1 + g) (1 - x_1)`` (Deb et al. 2002, 2005).

    Args:
        n_obj: number of objectives ``M`` (>= 2).
        n_var: number of variables (>= n_obj); default ``n_obj + 4`` (``k = 5``).

    Shapes:
        :meth:`evaluate` maps `(..., n_var)` to `(..., n_obj)`.
    """

    def __init__(self, n_obj: int = 3, n_var: int | None = None) -> None:
        super().__init__("dtlz1", n_obj, n_var, 5, ideal=0.0, nadir=0.5, ref_point=0.55)

    def _evaluate(self, x: Tensor) -> Tensor:
        xi, xm = self._split(x)
        g = self._g1(xm)
        one = torch.ones_like(xi[..., :1])
        cum = torch.cumprod(torch.cat([one, xi], dim=-1), dim=-1)  # prod of the first j x_i
        tail = torch.cat([one, 1.0 - torch.flip(xi, dims=[-1])], dim=-1)
        return (0.5 * (1.0 + g)).unsqueeze(-1) * torch.flip(cum, dims=[-1]) * tail

    def pareto_front(self, n_points: int = 100) -> np.ndarray:
        """Das-Dennis points on the simplex ``sum f = 0.5``, about ``n_points`` rows, `(n, M)`.

        Exactly ``n_points`` rows for two objectives; otherwise the Das-Dennis lattice whose size
        is closest to ``n_points``.
        """
        return 0.5 * _das_dennis(self.n_obj, _check_n_points(n_points))

    def pareto_set(self, n_points: int = 100) -> np.ndarray:
        """Decision vectors of :meth:`pareto_front` (same order), `(n, n_var)`; ``x_M = 0.5``."""
        f = self.pareto_front(n_points)
        m = self.n_obj
        # 2 * (f_1 + ... + f_{i+1}) = x_1 ... x_{M-1-i}, so each x_j is a ratio of partial sums.
        part = np.minimum(2.0 * np.cumsum(f, axis=1), 1.0)
        part[:, -1] = 1.0
        x = np.full((f.shape[0], self.n_var), 0.5)
        for i in range(m - 1):
            num, den = part[:, i], part[:, i + 1]
            safe = den > 0
            x[:, m - 2 - i] = np.where(safe, num / np.where(safe, den, 1.0), 0.0)
        return x


@register("dtlz2", "DTLZ", "DTLZ2: spherical front (Deb et al. 2002)")
class DTLZ2(_SphericalFront):
    """DTLZ2: the Pareto front is the positive orthant of the unit sphere.

    ``g = sum_{x in x_M} (x - 0.5)^2``, ``f_1 = (1 + g) prod_{j<M} cos(x_j pi / 2)``,
    ``f_i = (1 + g) prod_{j<=M-i} cos(x_j pi / 2) sin(x_{M-i+1} pi / 2)``,
    ``f_M = (1 + g) sin(x_1 pi / 2)`` (Deb et al. 2002, 2005).

    Args:
        n_obj: number of objectives ``M`` (>= 2).
        n_var: number of variables (>= n_obj); default ``n_obj + 9`` (``k = 10``).

    Shapes:
        :meth:`evaluate` maps `(..., n_var)` to `(..., n_obj)`.
    """

    def __init__(self, n_obj: int = 3, n_var: int | None = None) -> None:
        super().__init__("dtlz2", n_obj, n_var)

    def _evaluate(self, x: Tensor) -> Tensor:
        xi, xm = self._split(x)
        return _spherical(xi, 1.0 + self._g2(xm))


@register("dtlz3", "DTLZ", "DTLZ3: spherical front, multimodal g (Deb et al. 2002)")
class DTLZ3(_SphericalFront):
    """DTLZ3: DTLZ2's spherical front with DTLZ1's multimodal ``g`` (many local fronts).

    ``g = 100 (k + sum_{x in x_M} ((x - 0.5)^2 - cos(20 pi (x - 0.5))))`` and the objectives of
    DTLZ2 (Deb et al. 2002, 2005).

    Args:
        n_obj: number of objectives ``M`` (>= 2).
        n_var: number of variables (>= n_obj); default ``n_obj + 9`` (``k = 10``).

    Shapes:
        :meth:`evaluate` maps `(..., n_var)` to `(..., n_obj)`.
    """

    def __init__(self, n_obj: int = 3, n_var: int | None = None) -> None:
        super().__init__("dtlz3", n_obj, n_var)

    def _evaluate(self, x: Tensor) -> Tensor:
        xi, xm = self._split(x)
        return _spherical(xi, 1.0 + self._g1(xm))


@register("dtlz4", "DTLZ", "DTLZ4: spherical front, biased density, alpha = 100 (Deb et al. 2002)")
class DTLZ4(_SphericalFront):
    """DTLZ4: DTLZ2 with the position variables raised to ``alpha = 100`` (biased density).

    The objectives of DTLZ2 evaluated at ``x_j^alpha`` for ``j < M`` (Deb et al. 2002, 2005).

    Args:
        n_obj: number of objectives ``M`` (>= 2).
        n_var: number of variables (>= n_obj); default ``n_obj + 9`` (``k = 10``).

    Shapes:
        :meth:`evaluate` maps `(..., n_var)` to `(..., n_obj)`.
    """

    _alpha = 100.0

    def __init__(self, n_obj: int = 3, n_var: int | None = None) -> None:
        super().__init__("dtlz4", n_obj, n_var)

    def _evaluate(self, x: Tensor) -> Tensor:
        xi, xm = self._split(x)
        return _spherical(xi**self._alpha, 1.0 + self._g2(xm))


class _DegenerateFront(_DTLZ):
    """DTLZ5/6: angles ``theta_1 = x_1``, ``theta_i = (1 + 2 g x_i) / (2 (1 + g))``."""

    def __init__(self, name: str, n_obj: int, n_var: int | None) -> None:
        m = _int_option(name, "n_obj", n_obj, 2)
        if m <= 3:
            # the curve's largest values: f_1 = f_2 = (1/sqrt 2)^(M-2), f_i = (1/sqrt 2)^(M-i)
            nadir = [2.0 ** (-(m - 2) / 2)] + [2.0 ** (-(m - i) / 2) for i in range(2, m + 1)]
        else:
            nadir = None  # the front is not only the curve for M >= 4 (see pareto_front)
        super().__init__(
            name,
            m,
            n_var,
            10,
            ideal=0.0,
            nadir=nadir,
            ref_point=1.1,
            ref_point_source=_REF_SOURCE_DEGENERATE,
        )

    def _g(self, xm: Tensor) -> Tensor:  # pragma: no cover - overridden
        raise NotImplementedError

    def _evaluate(self, x: Tensor) -> Tensor:
        xi, xm = self._split(x)
        g = self._g(xm).unsqueeze(-1)
        theta = (1.0 + 2.0 * g * xi[..., 1:]) / (2.0 * (1.0 + g))
        theta = torch.cat([xi[..., :1], theta], dim=-1)
        return _spherical(theta, 1.0 + g.squeeze(-1))

    def pareto_front(self, n_points: int = 100) -> np.ndarray:
        """The degenerate curve ``theta_1 in [0, 1]``, ``theta_i = 1/2``: `(n_points, M)`.

        For ``M <= 3`` this is the whole Pareto front. For ``M >= 4`` it is pymoo's reference
        front, but the true front also contains points off the curve (Ishibuchi, Masuda and
        Nojima 2016, "Pareto fronts of many-objective degenerate test problems", IEEE TEVC
        20(5)); ``nadir`` is then ``None``.
        """
        n = _check_n_points(n_points)
        theta = np.full((n, self.n_obj - 1), 0.5)
        theta[:, 0] = np.linspace(0.0, 1.0, n)
        return _spherical(torch.from_numpy(theta), torch.ones(n, dtype=torch.float64)).numpy()

    def pareto_set(self, n_points: int = 100) -> np.ndarray:
        """Decision vectors of :meth:`pareto_front` (same order), `(n_points, n_var)`."""
        n = _check_n_points(n_points)
        x = np.full((n, self.n_var), self._x_m_opt)
        x[:, : self.n_obj - 1] = 0.5
        x[:, 0] = np.linspace(0.0, 1.0, n)
        return x


@register("dtlz5", "DTLZ", "DTLZ5: degenerate curve front (Deb et al. 2002)")
class DTLZ5(_DegenerateFront):
    """DTLZ5: degenerate (curve) Pareto front for three objectives.

    ``g = sum_{x in x_M} (x - 0.5)^2``; the objectives of DTLZ2 evaluated at the angles
    ``theta_1 = x_1``, ``theta_i = (1 + 2 g x_i) / (2 (1 + g))`` for ``1 < i < M``
    (Deb et al. 2002, 2005; pymoo's form).

    Args:
        n_obj: number of objectives ``M`` (>= 2).
        n_var: number of variables (>= n_obj); default ``n_obj + 9`` (``k = 10``).

    Shapes:
        :meth:`evaluate` maps `(..., n_var)` to `(..., n_obj)`.
    """

    _x_m_opt = 0.5

    def __init__(self, n_obj: int = 3, n_var: int | None = None) -> None:
        super().__init__("dtlz5", n_obj, n_var)

    def _g(self, xm: Tensor) -> Tensor:
        return self._g2(xm)


@register("dtlz6", "DTLZ", "DTLZ6: degenerate curve front, g = sum x^0.1 (Deb et al. 2002)")
class DTLZ6(_DegenerateFront):
    """DTLZ6: DTLZ5 with the harder distance function ``g = sum_{x in x_M} x^0.1``.

    (Deb et al. 2002, 2005; pymoo's form.) The gradient of ``x^0.1`` is infinite at ``x = 0``,
    which is where the Pareto set lies.

    Args:
        n_obj: number of objectives ``M`` (>= 2).
        n_var: number of variables (>= n_obj); default ``n_obj + 9`` (``k = 10``).

    Shapes:
        :meth:`evaluate` maps `(..., n_var)` to `(..., n_obj)`.
    """

    _x_m_opt = 0.0

    def __init__(self, n_obj: int = 3, n_var: int | None = None) -> None:
        super().__init__("dtlz6", n_obj, n_var)

    def _g(self, xm: Tensor) -> Tensor:
        return (xm**0.1).sum(dim=-1)


@register("dtlz7", "DTLZ", "DTLZ7: 2^(M-1) disconnected front pieces (Deb et al. 2002)")
class DTLZ7(_DTLZ):
    """DTLZ7: disconnected Pareto front of ``2^(M-1)`` pieces.

    ``f_i = x_i`` for ``i < M``, ``g = 1 + 9 / k * sum_{x in x_M} x``,
    ``h = M - sum_{i<M} f_i / (1 + g) (1 + sin(3 pi f_i))``, ``f_M = (1 + g) h``
    (Deb et al. 2002, 2005). On the front ``g = 1``, each ``f_i`` (``i < M``) lies in
    ``[0, 0.2514] ∪ (0.6316, 0.8594]`` and ``f_M`` in ``[2 M - 1.6930 (M - 1), 2 M]``.

    Args:
        n_obj: number of objectives ``M`` (>= 2).
        n_var: number of variables (>= n_obj); default ``n_obj + 19`` (``k = 20``).

    Shapes:
        :meth:`evaluate` maps `(..., n_var)` to `(..., n_obj)`.
    """

    def __init__(self, n_obj: int = 3, n_var: int | None = None) -> None:
        m = _int_option("dtlz7", "n_obj", n_obj, 2)
        c = _DTLZ7_PIECES[-1][1]
        nadir = [c] * (m - 1) + [2.0 * m]
        ideal = [0.0] * (m - 1) + [2.0 * m - (m - 1) * _DTLZ7_Z_MAX]
        super().__init__(
            "dtlz7", m, n_var, 20, ideal=ideal, nadir=nadir, ref_point=[1.1 * v for v in nadir]
        )

    def _evaluate(self, x: Tensor) -> Tensor:
        f = x[..., : self.n_obj - 1]
        g = 1.0 + 9.0 / self.k * x[..., self.n_obj - 1 :].sum(dim=-1)
        h = self.n_obj - (f / (1.0 + g).unsqueeze(-1) * (1.0 + torch.sin(3.0 * math.pi * f))).sum(
            dim=-1
        )
        return torch.cat([f, ((1.0 + g) * h).unsqueeze(-1)], dim=-1)

    def _front_position(self, n_points: int) -> np.ndarray:
        """The first ``M - 1`` objectives of the front: a grid over the non-dominated pieces."""
        n = _check_n_points(n_points)
        m = self.n_obj
        # a piece's first point ties with the previous piece's last one in z, so start after it
        pieces = [(a + (1e-9 if a > 0 else 0.0), b) for a, b in _DTLZ7_PIECES]
        per_axis = n if m == 2 else max(2, round(n ** (1.0 / (m - 1))))
        axis = _spread_over_intervals(pieces, per_axis)
        grids = np.meshgrid(*([axis] * (m - 1)), indexing="ij")
        return np.stack([gr.reshape(-1) for gr in grids], axis=-1)

    def pareto_front(self, n_points: int = 100) -> np.ndarray:
        """The disconnected front, `(n, M)`: exactly ``n_points`` rows for two objectives.

        The first ``M - 1`` objectives form a grid (about ``n_points`` nodes) over the
        non-dominated pieces, ``f_M = 2 M - sum_i f_i (1 + sin(3 pi f_i))``; any dominated row
        is then removed with ``moocore.is_nondominated``.
        """
        import moocore

        pos = self._front_position(n_points)
        last = 2.0 * self.n_obj - (pos * (1.0 + np.sin(3.0 * np.pi * pos))).sum(axis=1)
        front = np.concatenate([pos, last[:, None]], axis=1)
        return front[moocore.is_nondominated(front)]

    def pareto_set(self, n_points: int = 100) -> np.ndarray:
        """Decision vectors of :meth:`pareto_front` (same order): ``x_i = f_i``, ``x_M = 0``."""
        front = self.pareto_front(n_points)
        x = np.zeros((front.shape[0], self.n_var))
        x[:, : self.n_obj - 1] = front[:, :-1]
        return x
