"""The RE suite of real-world multi-objective engineering problems, in differentiable torch.

Tanabe and Ishibuchi, "An easy-to-use real-world multi-objective optimization problem suite",
Applied Soft Computing 89, 106078 (2020). The formulas follow the authors' reference
implementation (github.com/ryojitanabe/reproblems, ``reproblem.py`` and ``reproblem.c``)
exactly, including its quirks, so that the objective values agree with it to machine precision:

* problems whose original formulation has constraints (RE22–RE25, RE31–RE33, RE35, RE36) turn
  them into an extra objective, the sum of the constraint violations ``max(0, -g_i)``, which is
  always the last objective;
* RE21's first objective uses ``sqrt(x3)``, as in the reference code;
* RE22's table of allowed reinforcement areas is the reference code's table, which contains
  ``3, 10`` where ``3.10`` was meant (77 entries, with 3.0 twice and a spurious 10.0).

Discrete variables. Some variables only take discrete values. In the forward pass they are
snapped exactly as the reference implementation does: RE22 ``x1`` to the nearest value of the
table above; RE23 ``x1, x2`` to ``0.0625 * round(x)`` (integer multiples of 1/16 inch); RE25
``x1`` to ``round(x1)`` and ``x3`` to the nearest of 42 wire diameters; RE35 ``x3`` to
``round(x3)``; RE36 all four variables to ``round(x)``. The snapping uses
:func:`~hybridmoo.problems.base.straight_through`, so the gradient with respect to a snapped
variable is that of the objective at the snapped value, passed straight through to the
continuous input (a straight-through estimator), and objectives stay differentiable in ``x``.
``torch.round`` rounds halves to even, like ``numpy.round`` in the reference code.

Option ``normalize`` (default ``False``): return ``(f - ideal) / (nadir - ideal)`` with the
ideal and nadir points published with the suite (bundled in ``data/re``). The reference
point for hypervolume is ``1.1`` per objective on the normalised scale (the convention of the
Pareto set learning literature, e.g. Lin et al. 2022, "Pareto Set Learning for Expensive
Multi-Objective Optimization", which normalises the RE problems this way), and the same point
mapped back to raw objectives, ``ideal + 1.1 * (nadir - ideal)``, without normalisation.

>>> import torch
>>> from hybridmoo import problems
>>> p = problems.get("re21", normalize=True)
>>> lo, hi = p.bounds
>>> p.evaluate((lo + hi) / 2).shape
torch.Size([2])
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import torch
from torch import Tensor

from hybridmoo.problems.base import Problem, straight_through
from hybridmoo.problems.registry import register

__all__ = [
    "RE21",
    "RE22",
    "RE23",
    "RE24",
    "RE25",
    "RE31",
    "RE32",
    "RE33",
    "RE34",
    "RE35",
    "RE36",
    "RE37",
    "read_re_data",
]

_SQRT2 = 2.0**0.5
_PI = float(np.pi)
_VIOLATION = "constraint_violation"

# RE22: allowed values of x1 (area of reinforcement, in^2), verbatim from the reference code,
# including its typo ``3, 10`` (for 3.10), which is part of the published problem's behaviour.
_RE22_TABLE = (
    0.20, 0.31, 0.40, 0.44, 0.60, 0.62, 0.79, 0.80, 0.88, 0.93, 1.0, 1.20, 1.24, 1.32, 1.40,
    1.55, 1.58, 1.60, 1.76, 1.80, 1.86, 2.0, 2.17, 2.20, 2.37, 2.40, 2.48, 2.60, 2.64, 2.79,
    2.80, 3.0, 3.08, 3, 10, 3.16, 3.41, 3.52, 3.60, 3.72, 3.95, 3.96, 4.0, 4.03, 4.20, 4.34,
    4.40, 4.65, 4.74, 4.80, 4.84, 5.0, 5.28, 5.40, 5.53, 5.72, 6.0, 6.16, 6.32, 6.60, 7.11,
    7.20, 7.80, 7.90, 8.0, 8.40, 8.69, 9.0, 9.48, 10.27, 11.0, 11.06, 11.85, 12.0, 13.0, 14.0,
    15.0,
)  # fmt: skip

# RE25: allowed wire diameters x3 (inch).
_RE25_TABLE = (
    0.009, 0.0095, 0.0104, 0.0118, 0.0128, 0.0132, 0.014, 0.015, 0.0162, 0.0173, 0.018, 0.02,
    0.023, 0.025, 0.028, 0.032, 0.035, 0.041, 0.047, 0.054, 0.063, 0.072, 0.08, 0.092, 0.105,
    0.12, 0.135, 0.148, 0.162, 0.177, 0.192, 0.207, 0.225, 0.244, 0.263, 0.283, 0.307, 0.331,
    0.362, 0.394, 0.4375, 0.5,
)  # fmt: skip


def read_re_data(filename: str, n_cols: int | None = None) -> np.ndarray:
    """Read a bundled RE data file (``data/re/<filename>``) as a float64 array.

    The files hold white-space separated numbers (ideal/nadir points on one line, fronts one
    point per line). With ``n_cols`` the values are reshaped to ``(-1, n_cols)``.
    """
    text = resources.files("hybridmoo.problems").joinpath("data", "re", filename).read_text()
    values = np.array(text.split(), dtype=np.float64)
    return values if n_cols is None else values.reshape(-1, n_cols)


def _snap_to_table(v: Tensor, table: tuple[float, ...]) -> Tensor:
    """Nearest table value (first on ties, like ``argmin``), with a straight-through gradient."""
    t = torch.tensor(table, dtype=v.dtype, device=v.device)
    idx = torch.argmin(torch.abs(t - v.detach().unsqueeze(-1)), dim=-1)
    return straight_through(v, t[idx])


def _round(v: Tensor) -> Tensor:
    """``round(v)`` (half to even) in the forward pass, identity gradient."""
    return straight_through(v, torch.round(v.detach()))


def _violation(*g: Tensor) -> Tensor:
    """Sum of the violations ``max(0, -g_i)`` of constraints ``g_i >= 0``, summed in order."""
    total = torch.clamp(-g[0], min=0.0)
    for gi in g[1:]:
        total = total + torch.clamp(-gi, min=0.0)
    return total


class _RE(Problem):
    """Common machinery of the RE problems: bounds, ideal/nadir, normalisation, fronts."""

    KEY: str = ""
    LOWER: tuple[float, ...] = ()
    UPPER: tuple[float, ...] = ()
    N_OBJ: int = 0
    OBJ_NAMES: tuple[str, ...] | None = None
    #: a nadir point that replaces the published file's (see RE21), or None
    NADIR_OVERRIDE: tuple[float, ...] | None = None

    def __init__(self, *, normalize: bool = False) -> None:
        self.normalize = bool(normalize)
        raw_ideal = read_re_data(f"ideal_{self.KEY}.dat")
        raw_nadir = self.NADIR_OVERRIDE or read_re_data(f"nadir_{self.KEY}.dat")
        self._raw_ideal = torch.as_tensor(raw_ideal, dtype=torch.float64)
        self._raw_nadir = torch.as_tensor(raw_nadir, dtype=torch.float64)
        if self.normalize:
            ideal = np.zeros(self.N_OBJ)
            nadir = np.ones(self.N_OBJ)
            ref = np.full(self.N_OBJ, 1.1)
            source = (
                "1.1 per objective on RE objectives normalised with the suite's published "
                "ideal/nadir points (Lin et al. 2022, Pareto Set Learning for Expensive "
                "Multi-Objective Optimization, NeurIPS)"
            )
        else:
            ideal, nadir = raw_ideal, raw_nadir
            ref = raw_ideal + 1.1 * (raw_nadir - raw_ideal)
            source = (
                "ideal + 1.1 * (nadir - ideal) with the suite's published ideal/nadir points "
                "(Tanabe & Ishibuchi 2020), i.e. 1.1 per objective after normalisation as in "
                "Lin et al. 2022, Pareto Set Learning for Expensive Multi-Objective Optimization"
            )
        self._setup(
            name=self.KEY.lower(),
            n_var=len(self.LOWER),
            n_obj=self.N_OBJ,
            lower=self.LOWER,
            upper=self.UPPER,
            ref_point=ref,
            ref_point_source=source,
            ideal=ideal,
            nadir=nadir,
            obj_names=self.OBJ_NAMES,
            options={"normalize": self.normalize},
        )

    def _evaluate(self, x: Tensor) -> Tensor:
        f = self._raw(x)
        if self.normalize:
            lo = self._raw_ideal.to(dtype=x.dtype, device=x.device)
            hi = self._raw_nadir.to(dtype=x.dtype, device=x.device)
            f = (f - lo) / (hi - lo)
        return f

    def _raw(self, x: Tensor) -> Tensor:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def pareto_front(self, n_points: int = 100) -> np.ndarray:
        """The authors' approximated Pareto front (whole file; ``n_points`` is ignored).

        Returns a `(n, n_obj)` float64 array, normalised with the ideal and nadir points when
        the problem was built with ``normalize=True``.
        """
        front = read_re_data(f"{self.KEY}.dat", self.N_OBJ)
        if self.normalize:
            ideal = self._raw_ideal.numpy()
            nadir = self._raw_nadir.numpy()
            front = (front - ideal) / (nadir - ideal)
        return front


@register("re21", "RE", "Four bar truss design (RE21): 4 continuous variables, 2 objectives.")
class RE21(_RE):
    """Four bar truss design: minimise structural volume and joint displacement.

    Four continuous variables (cross-sectional areas); no discrete variables, no constraints.

    Nadir point: the published ``nadir_RE21.dat`` (2086.37, 0.003414) predates the authors' fix
    of RE21's second objective and lies inside the published (post-fix) front, whose nadir is
    (2886.3695604236013, 0.04); with the file's point every front point would fall outside the
    normalised reference box (HV 0). hybridmoo uses the front's own nadir, as the Pareto set
    learning code bases do; the ideal point is the published one (it equals the front's).
    """

    KEY = "RE21"
    NADIR_OVERRIDE = (2886.3695604236013, 0.039999999999998245)
    LOWER = (1.0, _SQRT2, _SQRT2, 1.0)
    UPPER = (3.0, 3.0, 3.0, 3.0)
    N_OBJ = 2
    OBJ_NAMES = ("volume", "displacement")

    def _raw(self, x: Tensor) -> Tensor:
        x1, x2, x3, x4 = x.unbind(-1)
        F, E, L = 10.0, 2.0 * 1e5, 200.0
        f1 = L * ((2 * x1) + _SQRT2 * x2 + torch.sqrt(x3) + x4)
        f2 = ((F * L) / E) * ((2.0 / x1) + (2.0 * _SQRT2 / x2) - (2.0 * _SQRT2 / x3) + (2.0 / x4))
        return torch.stack([f1, f2], dim=-1)


@register("re22", "RE", "Reinforced concrete beam design (RE22): 3 variables, 2 objectives.")
class RE22(_RE):
    """Reinforced concrete beam design: minimise cost and the sum of constraint violations.

    ``x1`` (reinforcement area) is discrete: it is snapped to the nearest value of the
    reference code's table (77 entries, see the module docstring) in the forward pass, with a
    straight-through gradient. ``x2``, ``x3`` are continuous.
    """

    KEY = "RE22"
    LOWER = (0.2, 0.0, 0.0)
    UPPER = (15.0, 20.0, 40.0)
    N_OBJ = 2
    OBJ_NAMES = ("cost", _VIOLATION)

    def _raw(self, x: Tensor) -> Tensor:
        x1 = _snap_to_table(x[..., 0], _RE22_TABLE)
        x2, x3 = x[..., 1], x[..., 2]
        f1 = (29.4 * x1) + (0.6 * x2 * x3)
        g1 = (x1 * x3) - 7.735 * ((x1 * x1) / x2) - 180.0
        g2 = 4.0 - (x3 / x2)
        return torch.stack([f1, _violation(g1, g2)], dim=-1)


@register("re23", "RE", "Pressure vessel design (RE23): 4 variables, 2 objectives.")
class RE23(_RE):
    """Pressure vessel design: minimise total cost and the sum of constraint violations.

    ``x1``, ``x2`` (shell and head thickness) are discrete: the forward pass uses
    ``0.0625 * round(x)`` (integer multiples of 1/16 inch) with a straight-through gradient
    through the rounding. ``x3``, ``x4`` are continuous.
    """

    KEY = "RE23"
    LOWER = (1.0, 1.0, 10.0, 10.0)
    UPPER = (100.0, 100.0, 200.0, 240.0)
    N_OBJ = 2
    OBJ_NAMES = ("cost", _VIOLATION)

    def _raw(self, x: Tensor) -> Tensor:
        x1 = 0.0625 * _round(x[..., 0])
        x2 = 0.0625 * _round(x[..., 1])
        x3, x4 = x[..., 2], x[..., 3]
        f1 = (
            (0.6224 * x1 * x3 * x4)
            + (1.7781 * x2 * x3 * x3)
            + (3.1661 * x1 * x1 * x4)
            + (19.84 * x1 * x1 * x3)
        )
        g1 = x1 - (0.0193 * x3)
        g2 = x2 - (0.00954 * x3)
        g3 = (_PI * x3 * x3 * x4) + ((4.0 / 3.0) * (_PI * x3 * x3 * x3)) - 1296000
        return torch.stack([f1, _violation(g1, g2, g3)], dim=-1)


@register("re24", "RE", "Hatch cover design (RE24): 2 continuous variables, 2 objectives.")
class RE24(_RE):
    """Hatch cover design: minimise weight and the sum of constraint violations.

    Two continuous variables; no discrete variables.
    """

    KEY = "RE24"
    LOWER = (0.5, 0.5)
    UPPER = (4.0, 50.0)
    N_OBJ = 2
    OBJ_NAMES = ("weight", _VIOLATION)

    def _raw(self, x: Tensor) -> Tensor:
        x1, x2 = x[..., 0], x[..., 1]
        f1 = x1 + (120 * x2)
        E, sigma_b_max, tau_max, delta_max = 700000.0, 700.0, 450.0, 1.5
        sigma_k = (E * x1 * x1) / 100
        sigma_b = 4500 / (x1 * x2)
        tau = 1800 / x2
        delta = (56.2 * 10000) / (E * x1 * x2 * x2)
        g1 = 1 - (sigma_b / sigma_b_max)
        g2 = 1 - (tau / tau_max)
        g3 = 1 - (delta / delta_max)
        g4 = 1 - (sigma_b / sigma_k)
        return torch.stack([f1, _violation(g1, g2, g3, g4)], dim=-1)


@register("re25", "RE", "Coil compression spring design (RE25): 3 variables, 2 objectives.")
class RE25(_RE):
    """Coil compression spring design: minimise wire volume and the sum of violations.

    ``x1`` (number of coils) is snapped to ``round(x1)`` and ``x3`` (wire diameter) to the
    nearest of 42 allowed diameters, both with straight-through gradients; ``x2`` is continuous.
    """

    KEY = "RE25"
    LOWER = (1.0, 0.6, 0.09)
    UPPER = (70.0, 3.0, 0.5)
    N_OBJ = 2
    OBJ_NAMES = ("volume", _VIOLATION)

    def _raw(self, x: Tensor) -> Tensor:
        x1 = _round(x[..., 0])
        x2 = x[..., 1]
        x3 = _snap_to_table(x[..., 2], _RE25_TABLE)
        f1 = (_PI * _PI * x2 * x3 * x3 * (x1 + 2)) / 4.0
        Cf = ((4.0 * (x2 / x3) - 1) / (4.0 * (x2 / x3) - 4)) + (0.615 * x3 / x2)
        Fmax, S, G = 1000.0, 189000.0, 11.5 * 1e6
        K = (G * x3 * x3 * x3 * x3) / (8 * x1 * x2 * x2 * x2)
        lmax = 14.0
        lf = (Fmax / K) + 1.05 * (x1 + 2) * x3
        Fp, sigmaPM, sigmaW = 300.0, 6.0, 1.25
        sigmaP = Fp / K
        g1 = -((8 * Cf * Fmax * x2) / (_PI * x3 * x3 * x3)) + S
        g2 = -lf + lmax
        g3 = -3 + (x2 / x3)
        g4 = -sigmaP + sigmaPM
        g5 = -sigmaP - ((Fmax - Fp) / K) - 1.05 * (x1 + 2) * x3 + lf
        g6 = sigmaW - ((Fmax - Fp) / K)
        return torch.stack([f1, _violation(g1, g2, g3, g4, g5, g6)], dim=-1)


@register("re31", "RE", "Two bar truss design (RE31): 3 continuous variables, 3 objectives.")
class RE31(_RE):
    """Two bar truss design: minimise volume, stress and the sum of constraint violations.

    Three continuous variables; no discrete variables.
    """

    KEY = "RE31"
    LOWER = (0.00001, 0.00001, 1.0)
    UPPER = (100.0, 100.0, 3.0)
    N_OBJ = 3
    OBJ_NAMES = ("volume", "stress", _VIOLATION)

    def _raw(self, x: Tensor) -> Tensor:
        x1, x2, x3 = x.unbind(-1)
        f1 = x1 * torch.sqrt(16.0 + (x3 * x3)) + x2 * torch.sqrt(1.0 + x3 * x3)
        f2 = (20.0 * torch.sqrt(16.0 + (x3 * x3))) / (x1 * x3)
        g1 = 0.1 - f1
        g2 = 100000.0 - f2
        g3 = 100000 - ((80.0 * torch.sqrt(1.0 + x3 * x3)) / (x3 * x2))
        return torch.stack([f1, f2, _violation(g1, g2, g3)], dim=-1)


@register("re32", "RE", "Welded beam design (RE32): 4 continuous variables, 3 objectives.")
class RE32(_RE):
    """Welded beam design: minimise cost, end deflection and the sum of constraint violations.

    Four continuous variables; no discrete variables.
    """

    KEY = "RE32"
    LOWER = (0.125, 0.1, 0.1, 0.125)
    UPPER = (5.0, 10.0, 10.0, 5.0)
    N_OBJ = 3
    OBJ_NAMES = ("cost", "deflection", _VIOLATION)

    def _raw(self, x: Tensor) -> Tensor:
        x1, x2, x3, x4 = x.unbind(-1)
        P, L, E, G = 6000.0, 14.0, 30 * 1e6, 12 * 1e6
        tau_max, sigma_max = 13600.0, 30000.0
        f1 = (1.10471 * x1 * x1 * x2) + (0.04811 * x3 * x4) * (14.0 + x2)
        f2 = (4 * P * L * L * L) / (E * x4 * x3 * x3 * x3)
        M = P * (L + (x2 / 2))
        R = torch.sqrt(((x2 * x2) / 4.0) + ((x1 + x3) / 2.0) ** 2)
        J = 2 * _SQRT2 * x1 * x2 * (((x2 * x2) / 12.0) + ((x1 + x3) / 2.0) ** 2)
        tau_dd = (M * R) / J
        tau_d = P / (_SQRT2 * x1 * x2)
        tau = torch.sqrt(tau_d * tau_d + ((2 * tau_d * tau_dd * x2) / (2 * R)) + (tau_dd * tau_dd))
        sigma = (6 * P * L) / (x4 * x3 * x3)
        tmp = 4.013 * E * torch.sqrt((x3 * x3 * x4 * x4 * x4 * x4 * x4 * x4) / 36.0) / (L * L)
        tmp2 = (x3 / (2 * L)) * (E / (4 * G)) ** 0.5
        PC = tmp * (1 - tmp2)
        g1 = tau_max - tau
        g2 = sigma_max - sigma
        g3 = x4 - x1
        g4 = PC - P
        return torch.stack([f1, f2, _violation(g1, g2, g3, g4)], dim=-1)


@register("re33", "RE", "Disc brake design (RE33): 4 continuous variables, 3 objectives.")
class RE33(_RE):
    """Disc brake design: minimise mass, stopping time and the sum of constraint violations.

    Four continuous variables; no discrete variables.
    """

    KEY = "RE33"
    LOWER = (55.0, 75.0, 1000.0, 11.0)
    UPPER = (80.0, 110.0, 3000.0, 20.0)
    N_OBJ = 3
    OBJ_NAMES = ("mass", "stopping_time", _VIOLATION)

    def _raw(self, x: Tensor) -> Tensor:
        x1, x2, x3, x4 = x.unbind(-1)
        sq = x2 * x2 - x1 * x1
        cu = x2 * x2 * x2 - x1 * x1 * x1
        f1 = 4.9 * 1e-5 * sq * (x4 - 1.0)
        f2 = ((9.82 * 1e6) * sq) / (x3 * x4 * cu)
        g1 = (x2 - x1) - 20.0
        g2 = 0.4 - (x3 / (3.14 * sq))
        g3 = 1.0 - (2.22 * 1e-3 * x3 * cu) / sq**2
        g4 = (2.66 * 1e-2 * x3 * x4 * cu) / sq - 900.0
        return torch.stack([f1, f2, _violation(g1, g2, g3, g4)], dim=-1)


@register("re34", "RE", "Vehicle crashworthiness design (RE34): 5 variables, 3 objectives.")
class RE34(_RE):
    """Vehicle crashworthiness design: minimise mass, acceleration and toe-board intrusion.

    Five continuous variables (thicknesses); no discrete variables, no constraints.
    """

    KEY = "RE34"
    LOWER = (1.0,) * 5
    UPPER = (3.0,) * 5
    N_OBJ = 3
    OBJ_NAMES = ("mass", "acceleration", "intrusion")

    def _raw(self, x: Tensor) -> Tensor:
        x1, x2, x3, x4, x5 = x.unbind(-1)
        f1 = (
            1640.2823
            + (2.3573285 * x1)
            + (2.3220035 * x2)
            + (4.5688768 * x3)
            + (7.7213633 * x4)
            + (4.4559504 * x5)
        )
        f2 = (
            6.5856
            + (1.15 * x1)
            - (1.0427 * x2)
            + (0.9738 * x3)
            + (0.8364 * x4)
            - (0.3695 * x1 * x4)
            + (0.0861 * x1 * x5)
            + (0.3628 * x2 * x4)
            - (0.1106 * x1 * x1)
            - (0.3437 * x3 * x3)
            + (0.1764 * x4 * x4)
        )
        f3 = (
            -0.0551
            + (0.0181 * x1)
            + (0.1024 * x2)
            + (0.0421 * x3)
            - (0.0073 * x1 * x2)
            + (0.024 * x2 * x3)
            - (0.0118 * x2 * x4)
            - (0.0204 * x3 * x4)
            - (0.008 * x3 * x5)
            - (0.0241 * x2 * x2)
            + (0.0109 * x4 * x4)
        )
        return torch.stack([f1, f2, f3], dim=-1)


@register("re35", "RE", "Speed reducer design (RE35): 7 variables, 3 objectives.")
class RE35(_RE):
    """Speed reducer design: minimise weight, shaft stress and the sum of constraint violations.

    ``x3`` (number of teeth) is snapped to ``round(x3)`` with a straight-through gradient; the
    other six variables are continuous.
    """

    KEY = "RE35"
    LOWER = (2.6, 0.7, 17.0, 7.3, 7.3, 2.9, 5.0)
    UPPER = (3.6, 0.8, 28.0, 8.3, 8.3, 3.9, 5.5)
    N_OBJ = 3
    OBJ_NAMES = ("weight", "stress", _VIOLATION)

    def _raw(self, x: Tensor) -> Tensor:
        x1, x2, _, x4, x5, x6, x7 = x.unbind(-1)
        x3 = _round(x[..., 2])
        f1 = (
            0.7854 * x1 * (x2 * x2) * (((10.0 * x3 * x3) / 3.0) + (14.933 * x3) - 43.0934)
            - 1.508 * x1 * (x6 * x6 + x7 * x7)
            + 7.477 * (x6 * x6 * x6 + x7 * x7 * x7)
            + 0.7854 * (x4 * x6 * x6 + x5 * x7 * x7)
        )
        f2 = torch.sqrt(((745.0 * x4) / (x2 * x3)) ** 2 + 1.69 * 1e7) / (0.1 * x6 * x6 * x6)
        g = [
            -(1.0 / (x1 * x2 * x2 * x3)) + 1.0 / 27.0,
            -(1.0 / (x1 * x2 * x2 * x3 * x3)) + 1.0 / 397.5,
            -(x4 * x4 * x4) / (x2 * x3 * x6 * x6 * x6 * x6) + 1.0 / 1.93,
            -(x5 * x5 * x5) / (x2 * x3 * x7 * x7 * x7 * x7) + 1.0 / 1.93,
            -(x2 * x3) + 40.0,
            -(x1 / x2) + 12.0,
            -5.0 + (x1 / x2),
            -1.9 + x4 - 1.5 * x6,
            -1.9 + x5 - 1.1 * x7,
            -f2 + 1300.0,
            -torch.sqrt(((745.0 * x5) / (x2 * x3)) ** 2 + 1.575 * 1e8) / (0.1 * x7 * x7 * x7)
            + 1100.0,
        ]
        return torch.stack([f1, f2, _violation(*g)], dim=-1)


@register("re36", "RE", "Gear train design (RE36): 4 integer variables, 3 objectives.")
class RE36(_RE):
    """Gear train design: minimise gear-ratio error, largest gear size and constraint violation.

    All four variables (numbers of teeth) are integers: each is snapped to ``round(x)`` with a
    straight-through gradient. The second objective is the largest of the four, whose gradient
    goes to the largest variable.
    """

    KEY = "RE36"
    LOWER = (12.0,) * 4
    UPPER = (60.0,) * 4
    N_OBJ = 3
    OBJ_NAMES = ("ratio_error", "max_gear_size", _VIOLATION)

    def _raw(self, x: Tensor) -> Tensor:
        r = _round(x)
        x1, x2, x3, x4 = r.unbind(-1)
        f1 = torch.abs(6.931 - ((x3 / x1) * (x4 / x2)))
        f2 = torch.amax(r, dim=-1)
        g1 = 0.5 - (f1 / 6.931)
        return torch.stack([f1, f2, _violation(g1)], dim=-1)


@register("re37", "RE", "Rocket injector design (RE37): 4 continuous variables, 3 objectives.")
class RE37(_RE):
    """Rocket injector design: minimise TF_max, X_cc and TT_max (response-surface models).

    Four continuous variables in [0, 1]; no discrete variables, no constraints.
    """

    KEY = "RE37"
    LOWER = (0.0,) * 4
    UPPER = (1.0,) * 4
    N_OBJ = 3
    OBJ_NAMES = ("TF_max", "X_cc", "TT_max")

    def _raw(self, x: Tensor) -> Tensor:
        a, ha, oa, optt = x.unbind(-1)
        f1 = (
            0.692
            + (0.477 * a)
            - (0.687 * ha)
            - (0.080 * oa)
            - (0.0650 * optt)
            - (0.167 * a * a)
            - (0.0129 * ha * a)
            + (0.0796 * ha * ha)
            - (0.0634 * oa * a)
            - (0.0257 * oa * ha)
            + (0.0877 * oa * oa)
            - (0.0521 * optt * a)
            + (0.00156 * optt * ha)
            + (0.00198 * optt * oa)
            + (0.0184 * optt * optt)
        )
        f2 = (
            0.153
            - (0.322 * a)
            + (0.396 * ha)
            + (0.424 * oa)
            + (0.0226 * optt)
            + (0.175 * a * a)
            + (0.0185 * ha * a)
            - (0.0701 * ha * ha)
            - (0.251 * oa * a)
            + (0.179 * oa * ha)
            + (0.0150 * oa * oa)
            + (0.0134 * optt * a)
            + (0.0296 * optt * ha)
            + (0.0752 * optt * oa)
            + (0.0192 * optt * optt)
        )
        f3 = (
            0.370
            - (0.205 * a)
            + (0.0307 * ha)
            + (0.108 * oa)
            + (1.019 * optt)
            - (0.135 * a * a)
            + (0.0141 * ha * a)
            + (0.0998 * ha * ha)
            + (0.208 * oa * a)
            - (0.0301 * oa * ha)
            - (0.226 * oa * oa)
            + (0.353 * optt * a)
            - (0.0497 * optt * oa)
            - (0.423 * optt * optt)
            + (0.202 * ha * a * a)
            - (0.281 * oa * a * a)
            - (0.342 * ha * ha * a)
            - (0.245 * ha * ha * oa)
            + (0.281 * oa * oa * ha)
            - (0.184 * optt * optt * a)
            - (0.281 * ha * a * oa)
        )
        return torch.stack([f1, f2, f3], dim=-1)
