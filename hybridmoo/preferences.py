"""Preference samplers for training and deterministic preference sets for evaluation.

Samplers draw ``k`` preference rows `(k, m)` from a ``torch.Generator`` the caller passes in;
nothing here touches the global random state. All rows are non-negative; the simplex samplers'
rows (:class:`Dirichlet`, :class:`Uniform`, :class:`MixtureDirichlet`) sum to 1, while
:class:`Sphere` draws HV-PSL's directions on the positive unit sphere (unit norm).

>>> import torch
>>> from hybridmoo import preferences
>>> s = preferences.get("dirichlet", n_obj=3, alpha=0.5)
>>> s.sample(4, torch.Generator().manual_seed(0)).shape
torch.Size([4, 3])
>>> preferences.from_dict(s.to_dict()) == s
True

Draws are made in float64 on the generator's device, then cast to ``dtype`` and moved to
``device``, so a seed gives the same preferences in float32 and float64.
"""

from __future__ import annotations

import importlib
import inspect
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from hybridmoo.errors import ConfigError, UnknownNameError, did_you_mean

__all__ = [
    "Dirichlet",
    "MixtureDirichlet",
    "PreferenceSampler",
    "Sphere",
    "Uniform",
    "das_dennis",
    "eval_preferences",
    "even_rays",
    "from_dict",
    "get",
    "names",
]

_F64 = torch.float64


# ---------------------------------------------------------------------------- helpers
def _check_n_obj(n_obj: Any, where: str) -> int:
    if isinstance(n_obj, bool) or not isinstance(n_obj, (int, np.integer)) or n_obj < 2:
        raise ConfigError(f"{where}: 'n_obj' must be an integer >= 2, got {n_obj!r}.")
    return int(n_obj)


def _is_real(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _alpha_vector(alpha: Any, n_obj: int, where: str, key: str = "alpha") -> float | tuple:
    """Validate a Dirichlet concentration: a scalar or a length-``n_obj`` sequence, all > 0."""
    if _is_real(alpha):
        if not (math.isfinite(alpha) and alpha > 0):
            raise ConfigError(
                f"{where}: {key!r} must be a finite number > 0 or a list of {n_obj} such "
                f"numbers, got {alpha!r}."
            )
        return float(alpha)
    try:
        vals = [float(a) for a in alpha]
        bad_type = any(isinstance(a, bool) for a in alpha)
    except (TypeError, ValueError):
        vals, bad_type = [], True
    if bad_type or len(vals) != n_obj or not all(math.isfinite(a) and a > 0 for a in vals):
        raise ConfigError(
            f"{where}: {key!r} must be a finite number > 0 or a list of {n_obj} such numbers "
            f"(n_obj = {n_obj}), got {alpha!r}."
        )
    return tuple(vals)


def _log_gamma(alpha: Tensor, generator: torch.Generator) -> Tensor:
    """Logs of independent Gamma(α, 1) draws, one per entry of ``alpha`` (float64, any shape).

    Marsaglia & Tsang (2000), "A simple method for generating gamma variables", with
    vectorised rejection; α < 1 uses Gamma(α) = Gamma(α + 1)·U^{1/α}, done in log space so that
    tiny α does not underflow to zero. Every random number comes from ``generator``.
    """
    dev = generator.device
    a = alpha.reshape(-1).to(device=dev, dtype=_F64)
    boost = a < 1
    a1 = torch.where(boost, a + 1, a)
    d = a1 - 1.0 / 3.0
    c = 1.0 / torch.sqrt(9.0 * d)
    out = torch.empty_like(a)
    todo = torch.arange(a.numel(), device=dev)
    while todo.numel():
        dd, cc = d[todo], c[todo]
        x = torch.randn(todo.numel(), generator=generator, dtype=_F64, device=dev)
        u = torch.rand(todo.numel(), generator=generator, dtype=_F64, device=dev)
        v = (1 + cc * x) ** 3
        logv = torch.log(v.clamp_min(torch.finfo(_F64).tiny))
        ok = (v > 0) & (torch.log1p(-u) < 0.5 * x * x + dd - dd * v + dd * logv)
        out[todo[ok]] = torch.log(dd[ok]) + logv[ok]
        todo = todo[~ok]
    if bool(boost.any()):
        u = torch.rand(a.numel(), generator=generator, dtype=_F64, device=dev)
        out = out + torch.where(boost, torch.log1p(-u) / a, torch.zeros_like(a))
    return out.reshape(alpha.shape)


def _dirichlet(alpha: Tensor, generator: torch.Generator) -> Tensor:
    """Dirichlet rows `(k, m)` for concentrations ``alpha`` `(k, m)`, via normalised Gammas."""
    return torch.softmax(_log_gamma(alpha, generator), dim=-1)


def _check_float_dtype(dtype: torch.dtype) -> None:
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise ConfigError(f"'dtype' must be a floating torch dtype, got {dtype!r}.")


# ---------------------------------------------------------------------------- samplers
class PreferenceSampler(ABC):
    """Base class of the random preference samplers.

    Subclasses set ``name``, ``on_simplex`` and ``n_obj``, implement :meth:`_sample` (float64
    rows on the generator's device) and :meth:`params` (the constructor arguments besides
    ``n_obj``, JSON-friendly).
    """

    name: ClassVar[str]
    on_simplex: ClassVar[bool] = True
    n_obj: int

    def sample(
        self,
        k: int,
        generator: torch.Generator,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
    ) -> Tensor:
        """Draw ``k`` preferences.

        Args:
            k: number of rows (>= 0).
            generator: the source of randomness (required; the global RNG is never used).
            dtype: floating dtype of the result.
            device: device of the result (default: the generator's device).

        Returns:
            `(k, n_obj)` tensor of non-negative rows.
        """
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
            raise ConfigError(f"{self.name}.sample: 'k' must be an integer >= 0, got {k!r}.")
        if not isinstance(generator, torch.Generator):
            raise TypeError(
                f"{self.name}.sample: 'generator' must be a torch.Generator, got "
                f"{type(generator).__name__}; pass torch.Generator().manual_seed(seed)."
            )
        _check_float_dtype(dtype)
        if k == 0:
            out = torch.zeros(0, self.n_obj, dtype=_F64, device=generator.device)
        else:
            out = self._sample(int(k), generator)
        return out.to(dtype=dtype, device=device if device is not None else out.device)

    @abstractmethod
    def _sample(self, k: int, generator: torch.Generator) -> Tensor:
        """`(k, n_obj)` float64 rows on ``generator.device`` (k >= 1)."""

    @abstractmethod
    def params(self) -> dict[str, Any]:
        """Constructor arguments other than ``n_obj``, JSON-friendly."""

    def to_dict(self) -> dict[str, Any]:
        """``{"name": ..., "n_obj": ..., **params}``; rebuild with :func:`from_dict`."""
        return {"name": self.name, "n_obj": self.n_obj, **self.params()}

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.to_dict() == other.to_dict()  # type: ignore[union-attr]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}(n_obj={self.n_obj}{', ' if args else ''}{args})"


class Dirichlet(PreferenceSampler):
    """Dirichlet(α) preferences on the simplex (e.g. COSMOS α = 1.2, DYMU α = 0.2).

    Gamma draws by Marsaglia–Tsang rejection from the passed generator, normalised (in log
    space, so small α such as 0.05 stays exact and never yields 0/0).

    Args:
        n_obj: number of objectives m >= 2.
        alpha: concentration, a number > 0 (symmetric) or a length-m list of numbers > 0.
    """

    name = "dirichlet"
    on_simplex = True

    def __init__(self, n_obj: int, alpha: float | Sequence[float] = 1.0):
        self.n_obj = _check_n_obj(n_obj, "dirichlet")
        self.alpha = _alpha_vector(alpha, self.n_obj, "dirichlet")

    def params(self) -> dict[str, Any]:
        """``{"alpha": float or list}``."""
        return {"alpha": list(self.alpha) if isinstance(self.alpha, tuple) else self.alpha}

    def concentration(self) -> Tensor:
        """The concentration as an `(n_obj,)` float64 tensor."""
        return torch.as_tensor(self.alpha, dtype=_F64).expand(self.n_obj).clone()

    def _sample(self, k: int, generator: torch.Generator) -> Tensor:
        a = self.concentration().to(generator.device).expand(k, self.n_obj)
        return _dirichlet(a, generator)


class Uniform(PreferenceSampler):
    """Uniform preferences on the simplex (Dirichlet(1)), as normalised exponential draws.

    Args:
        n_obj: number of objectives m >= 2.
    """

    name = "uniform"
    on_simplex = True

    def __init__(self, n_obj: int):
        self.n_obj = _check_n_obj(n_obj, "uniform")

    def params(self) -> dict[str, Any]:
        """No parameters."""
        return {}

    def _sample(self, k: int, generator: torch.Generator) -> Tensor:
        u = torch.rand(k, self.n_obj, generator=generator, dtype=_F64, device=generator.device)
        e = -torch.log1p(-u)  # Exp(1); 1 − u ∈ (0, 1] so no log(0)
        return e / e.sum(-1, keepdim=True)


class Sphere(PreferenceSampler):
    """HV-PSL's directions on the positive unit sphere (Zhang et al., NeurIPS 2023; §5).

    ``method="hvpsl"`` (default) follows the official code (``psl_util.generate_rand_pref``):

    * m = 2: θ ~ U(0, π/2), λ = (sin θ, cos θ);
    * m = 3: θ1, θ2 ~ U(0, π/2), λ = (sin θ1 sin θ2, sin θ1 cos θ2, cos θ1): uniform in the
      angles, *not* uniform in area on the sphere;
    * m >= 4 (the code covers only m <= 3; our extension): |g|/‖g‖ with g ~ N(0, I), which is
      uniform on the positive part of the sphere.

    ``method="uniform"`` uses |g|/‖g‖ for every m (the law under which Φ_m·E[ρ^m] equals the
    hypervolume). Afterwards every coordinate is clamped to ``clamp`` (HV-PSL: [0.01, 0.99] for
    ``hv1``, [0.05, 0.95] for ``hv2``/``mtche``/EPO), so rows are unit-norm only up to that
    clamp. Rows do **not** sum to 1.

    Args:
        n_obj: number of objectives m >= 2.
        clamp: ``(low, high)`` with 0 <= low < high <= 1, or ``None`` for no clamping.
        method: ``"hvpsl"`` or ``"uniform"``.
    """

    name = "sphere"
    on_simplex = False
    METHODS: ClassVar[tuple[str, ...]] = ("hvpsl", "uniform")

    def __init__(
        self,
        n_obj: int,
        clamp: tuple[float, float] | None = (0.01, 0.99),
        method: str = "hvpsl",
    ):
        self.n_obj = _check_n_obj(n_obj, "sphere")
        if clamp is not None:
            ok = (
                isinstance(clamp, (tuple, list))
                and len(clamp) == 2
                and all(_is_real(c) for c in clamp)
                and 0 <= clamp[0] < clamp[1] <= 1
            )
            if not ok:
                raise ConfigError(
                    f"sphere: 'clamp' must be None or a pair (low, high) with "
                    f"0 <= low < high <= 1, got {clamp!r}."
                )
            clamp = (float(clamp[0]), float(clamp[1]))
        self.clamp = clamp
        if method not in self.METHODS:
            raise ConfigError(
                f"sphere: 'method' must be one of {', '.join(self.METHODS)}, got {method!r}."
                f"{did_you_mean(str(method), list(self.METHODS))}"
            )
        self.method = method

    def params(self) -> dict[str, Any]:
        """``{"clamp": [low, high] or None, "method": str}``."""
        return {"clamp": None if self.clamp is None else list(self.clamp), "method": self.method}

    def _sample(self, k: int, generator: torch.Generator) -> Tensor:
        dev, m = generator.device, self.n_obj
        if self.method == "hvpsl" and m == 2:
            th = torch.rand(k, generator=generator, dtype=_F64, device=dev) * (math.pi / 2)
            lam = torch.stack([torch.sin(th), torch.cos(th)], dim=-1)
        elif self.method == "hvpsl" and m == 3:
            th = torch.rand(k, 2, generator=generator, dtype=_F64, device=dev) * (math.pi / 2)
            s1, c1 = torch.sin(th[:, 0]), torch.cos(th[:, 0])
            lam = torch.stack([s1 * torch.sin(th[:, 1]), s1 * torch.cos(th[:, 1]), c1], dim=-1)
        else:
            g = torch.randn(k, m, generator=generator, dtype=_F64, device=dev).abs()
            lam = g / torch.linalg.vector_norm(g, dim=-1, keepdim=True)
        if self.clamp is not None:
            lam = lam.clamp(self.clamp[0], self.clamp[1])
        return lam


class MixtureDirichlet(PreferenceSampler):
    """A mixture of Dirichlet laws: each row picks component c with probability w_c.

    Args:
        n_obj: number of objectives m >= 2.
        alphas: one concentration per component (each a number > 0 or a length-m list).
        weights: one non-negative weight per component (normalised; at least one > 0).
    """

    name = "mixture_dirichlet"
    on_simplex = True

    def __init__(
        self,
        n_obj: int,
        alphas: Sequence[float | Sequence[float]],
        weights: Sequence[float],
    ):
        self.n_obj = _check_n_obj(n_obj, "mixture_dirichlet")
        if isinstance(alphas, (str, bytes)) or not isinstance(alphas, Sequence) or not alphas:
            raise ConfigError(
                f"mixture_dirichlet: 'alphas' must be a non-empty list of concentrations, "
                f"got {alphas!r}."
            )
        self.alphas = tuple(
            _alpha_vector(a, self.n_obj, "mixture_dirichlet", f"alphas[{i}]")
            for i, a in enumerate(alphas)
        )
        ok = (
            isinstance(weights, Sequence)
            and not isinstance(weights, (str, bytes))
            and len(weights) == len(self.alphas)
            and all(_is_real(w) and math.isfinite(w) and w >= 0 for w in weights)
            and sum(weights) > 0
        )
        if not ok:
            raise ConfigError(
                f"mixture_dirichlet: 'weights' must be a list of {len(self.alphas)} finite "
                f"numbers >= 0 (one per alpha) with a positive sum, got {weights!r}."
            )
        total = float(sum(weights))
        self.weights = tuple(float(w) / total for w in weights)

    def params(self) -> dict[str, Any]:
        """``{"alphas": [...], "weights": [...]}`` (weights normalised)."""
        return {
            "alphas": [list(a) if isinstance(a, tuple) else a for a in self.alphas],
            "weights": list(self.weights),
        }

    def _sample(self, k: int, generator: torch.Generator) -> Tensor:
        dev = generator.device
        table = torch.stack(
            [torch.as_tensor(a, dtype=_F64).expand(self.n_obj) for a in self.alphas]
        ).to(dev)
        w = torch.tensor(self.weights, dtype=_F64, device=dev)
        comp = torch.multinomial(w, k, replacement=True, generator=generator)
        return _dirichlet(table[comp], generator)


# ---------------------------------------------------------------------------- registry
_SAMPLERS: dict[str, type[PreferenceSampler] | str] = {
    "dirichlet": Dirichlet,
    "uniform": Uniform,
    "sphere": Sphere,
    "mixture_dirichlet": MixtureDirichlet,
    "eps": "hybridmoo.eps:EPS",  # defined elsewhere (it subclasses ours): imported on first use
}


def _sampler_class(key: str) -> type[PreferenceSampler]:
    entry = _SAMPLERS[key]
    if isinstance(entry, str):  # "module:Class", resolved lazily so that no import cycle forms
        module, _, attr = entry.partition(":")
        entry = _SAMPLERS[key] = getattr(importlib.import_module(module), attr)
    return entry


def names() -> list[str]:
    """Names of the registered samplers, in registration order."""
    return list(_SAMPLERS)


def get(name: str, n_obj: int, **params: Any) -> PreferenceSampler:
    """Build the sampler registered under ``name`` (case-insensitive).

    Raises:
        UnknownNameError: if ``name`` is not registered (the message lists the names).
        ConfigError: on an unknown or invalid parameter (the message names it).

    >>> get("sphere", n_obj=2).to_dict()
    {'name': 'sphere', 'n_obj': 2, 'clamp': [0.01, 0.99], 'method': 'hvpsl'}
    """
    if not isinstance(name, str) or name.lower() not in _SAMPLERS:
        key = name.lower() if isinstance(name, str) else ""
        raise UnknownNameError(
            f"unknown preference sampler {name!r}.{did_you_mean(key, names())} "
            f"Registered samplers: {', '.join(names())}."
        )
    cls = _sampler_class(name.lower())
    sig = inspect.signature(cls.__init__)
    allowed = {p: v.default for p, v in sig.parameters.items() if p not in ("self", "n_obj")}
    for k in params:
        if k not in allowed:
            accepted = ", ".join(
                p if d is inspect.Parameter.empty else f"{p}={d!r}" for p, d in allowed.items()
            ) or "none"
            raise ConfigError(
                f"preference sampler {cls.name!r} has no parameter {k!r}."
                f"{did_you_mean(k, list(allowed))} Allowed parameters: {accepted}."
            )
    missing = [p for p, d in allowed.items() if d is inspect.Parameter.empty and p not in params]
    if missing:
        raise ConfigError(
            f"preference sampler {cls.name!r} needs parameter {missing[0]!r}."
        )
    return cls(n_obj, **params)


def from_dict(d: Mapping[str, Any]) -> PreferenceSampler:
    """Rebuild a sampler from ``{"name": ..., "n_obj": ..., **params}`` (its ``to_dict``)."""
    if not isinstance(d, Mapping) or "name" not in d or "n_obj" not in d:
        raise ConfigError(
            f"a preference sampler dict needs 'name' and 'n_obj' keys, got {d!r}."
        )
    rest = {k: v for k, v in d.items() if k not in ("name", "n_obj")}
    return get(d["name"], d["n_obj"], **rest)


# ---------------------------------------------------------------------------- evaluation sets
def _check_eps(boundary_eps: Any, n_obj: int, where: str) -> float:
    if not (_is_real(boundary_eps) and 0 <= boundary_eps < 1.0 / n_obj):
        raise ConfigError(
            f"{where}: 'boundary_eps' must be a number in [0, 1/n_obj) = [0, {1.0 / n_obj:g}), "
            f"got {boundary_eps!r}."
        )
    return float(boundary_eps)


def das_dennis(
    n_obj: int,
    n_partitions: int,
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Tensor:
    """Das–Dennis simplex lattice (pymoo ``get_reference_directions("das-dennis", ...)``).

    Args:
        n_obj: number of objectives m >= 2.
        n_partitions: lattice divisions p >= 1.

    Returns:
        `(C(p + m − 1, m − 1), m)` tensor of points on the simplex, including its corners.
    """
    from pymoo.util.ref_dirs import get_reference_directions

    m = _check_n_obj(n_obj, "das_dennis")
    if isinstance(n_partitions, bool) or not isinstance(n_partitions, (int, np.integer)) or (
        n_partitions < 1
    ):
        raise ConfigError(
            f"das_dennis: 'n_partitions' must be an integer >= 1, got {n_partitions!r}."
        )
    _check_float_dtype(dtype)
    pts = get_reference_directions("das-dennis", m, n_partitions=int(n_partitions))
    return torch.as_tensor(np.asarray(pts, dtype=np.float64)).to(dtype=dtype, device=device)


def _n_das_dennis(m: int, p: int) -> int:
    return math.comb(p + m - 1, m - 1)


def even_rays(
    n_obj: int,
    n: int,
    *,
    boundary_eps: float = 0.0,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Tensor:
    """Evenly spread preferences on the simplex.

    * m = 2: ``n`` evenly spaced points from (1, 0) to (0, 1) (for ``n == 1``: (½, ½)).
    * m >= 3: the Das–Dennis lattice with the smallest partition count p whose size
      C(p + m − 1, m − 1) is >= ``n``; so the result may hold *more* than ``n`` rows.

    ``boundary_eps`` maps every point p to ε + (1 − m·ε)·p: still on the simplex, every
    coordinate >= ε (keeps inverse-Tchebycheff/HV losses away from division by zero).

    Args:
        n_obj: number of objectives m >= 2.
        n: (minimum) number of rows, >= 1.
        boundary_eps: ε in [0, 1/m).

    Returns:
        `(n', m)` tensor, n' = n for m = 2 and n' >= n otherwise; rows sum to 1.
    """
    m = _check_n_obj(n_obj, "even_rays")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"even_rays: 'n' must be an integer >= 1, got {n!r}.")
    eps = _check_eps(boundary_eps, m, "even_rays")
    _check_float_dtype(dtype)
    if m == 2:
        if n == 1:
            pts = torch.full((1, 2), 0.5, dtype=_F64)
        else:
            t = torch.linspace(0.0, 1.0, int(n), dtype=_F64)
            pts = torch.stack([1 - t, t], dim=-1)
    else:
        p = 1
        while _n_das_dennis(m, p) < n:
            p += 1
        pts = das_dennis(m, p, dtype=_F64)
    pts = eps + (1 - m * eps) * pts
    return pts.to(dtype=dtype, device=device)


def eval_preferences(
    n_obj: int,
    n: int,
    *,
    kind: str = "simplex",
    boundary_eps: float = 0.0,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Tensor:
    """The deterministic preference set used for evaluation.

    * ``kind="simplex"``: :func:`even_rays` (rows sum to 1).
    * ``kind="sphere"`` (for models trained on :class:`Sphere` directions), unit-norm rows:
      m = 2: ``n`` directions evenly spaced in angle, λ = (cos θ, sin θ) with θ from
      asin(ε) to π/2 − asin(ε), i.e. from (1, 0) to (0, 1) (HV-PSL evaluates on 60 such
      directions, with an angular margin of 0.01); m >= 3: the :func:`even_rays` points
      normalised to unit length (HV-PSL uses an 80×80 grid of angles instead, which crowds
      points near the pole; this is our reading).

    Args:
        n_obj: number of objectives m >= 2.
        n: (minimum) number of rows, >= 1.
        kind: ``"simplex"`` or ``"sphere"``.
        boundary_eps: ε in [0, 1/m); every coordinate is then at least about ε.

    Returns:
        `(n', m)` tensor (n' = n for m = 2, n' >= n otherwise).
    """
    kinds = ("simplex", "sphere")
    if kind not in kinds:
        raise ConfigError(
            f"eval_preferences: 'kind' must be one of {', '.join(kinds)}, got {kind!r}."
            f"{did_you_mean(str(kind), list(kinds))}"
        )
    m = _check_n_obj(n_obj, "eval_preferences")
    eps = _check_eps(boundary_eps, m, "eval_preferences")
    if kind == "simplex":
        return even_rays(m, n, boundary_eps=eps, dtype=dtype, device=device)
    if m == 2:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ConfigError(f"eval_preferences: 'n' must be an integer >= 1, got {n!r}.")
        _check_float_dtype(dtype)
        lo = math.asin(eps)
        th = (
            torch.full((1,), math.pi / 4, dtype=_F64)
            if n == 1
            else torch.linspace(lo, math.pi / 2 - lo, int(n), dtype=_F64)
        )
        pts = torch.stack([torch.cos(th), torch.sin(th)], dim=-1)
        return pts.to(dtype=dtype, device=device)
    pts = even_rays(m, n, boundary_eps=eps, dtype=_F64)
    pts = pts / torch.linalg.vector_norm(pts, dim=-1, keepdim=True)
    return pts.to(dtype=dtype, device=device)
