"""Scalarizations: preference-conditioned scalar losses for Pareto set learning (all minimised).

Every plain scalarization is a pure torch function

    ``f(losses, prefs, *, ideal=None, **params) -> Tensor``

with ``losses`` a `(..., K, m)` tensor (K preferences, m objectives), ``prefs`` a `(..., K, m)`
tensor of the same shape (or any shape that broadcasts to it, e.g. one `(m,)` preference) and
``ideal`` an optional `(m,)` ideal point z (default: zeros). The result has shape `(..., K)` and is
differentiable in ``losses``. ``prefs`` and ``ideal`` are cast to the dtype and device of
``losses``; they are constants for autograd only through the usual torch rules (nothing here
detaches them).

By name, through the registry:

>>> import torch
>>> from hybridmoo import scalarize
>>> s = scalarize.get("smooth_tchebycheff", mu=0.05)
>>> s.to_dict()
{'name': 'smooth_tchebycheff', 'mu': 0.05}
>>> s(torch.tensor([[1.0, 2.0]]), torch.tensor([[0.5, 0.5]])).shape
torch.Size([1])

Plain scalarizations are wrapped in :class:`Scalarization` (name, function, parameters, and the
two flags ``needs_ref`` and ``needs_grads`` a trainer reads). Gradient-based methods (:class:`EPO`,
:class:`PMTL`) declare ``needs_grads = True``: the trainer then computes per-preference,
per-objective gradients and asks the method for loss weights; plain scalarizations never pay for
those gradients.

Conventions: a larger ``prefs[i]`` means objective i matters more (it ends up smaller), for every
scalarization here, including the inverse forms (:func:`inverse_tchebycheff`, :func:`hv1`,
:func:`hv2`), whose preferences are *directions*: the solution lies on the ray z + t·λ.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from hybridmoo._losscheck import _check_param, _prepare, _real, _shape_text
from hybridmoo.aggregate.weighting import EPO, PMTL, GradientWeighting
from hybridmoo.errors import ConfigError, ShapeError, UnknownNameError, did_you_mean

__all__ = [
    "EPO",
    "GradientWeighting",
    "PMTL",
    "SCALARIZATIONS",
    "Scalarization",
    "cosmos",
    "from_dict",
    "get",
    "hv1",
    "hv2",
    "inverse_tchebycheff",
    "linear",
    "names",
    "needs_grads",
    "needs_ref",
    "pbi",
    "smooth_tchebycheff",
    "tchebycheff",
]


# ---------------------------------------------------------------------------- scalarizations
def linear(losses: Tensor, prefs: Tensor, *, ideal: Tensor | None = None) -> Tensor:
    """Linear (weighted-sum) scalarization Σ_i λ_i (f_i − z_i).

    Args:
        losses: `(..., K, m)` objective values f.
        prefs: `(..., K, m)` preferences λ (or a shape broadcasting to that of ``losses``).
        ideal: optional `(m,)` ideal point z (default zeros).

    Returns:
        `(..., K)` tensor.

    >>> linear(torch.tensor([[1.0, 2.0]]), torch.tensor([[0.25, 0.75]]))
    tensor([1.7500])
    """
    losses, prefs, z = _prepare("linear", losses, prefs, ideal)
    return (prefs * (losses - z)).sum(-1)


def tchebycheff(losses: Tensor, prefs: Tensor, *, ideal: Tensor | None = None) -> Tensor:
    """Weighted Tchebycheff scalarization max_i λ_i (f_i − z_i).

    Args:
        losses: `(..., K, m)` objective values f.
        prefs: `(..., K, m)` preferences λ (or a shape broadcasting to that of ``losses``).
        ideal: optional `(m,)` ideal point z (default zeros).

    Returns:
        `(..., K)` tensor. Where several terms tie for the maximum, the gradient is shared
        evenly among them (``torch.amax``).

    >>> tchebycheff(torch.tensor([[1.0, 2.0]]), torch.tensor([[0.25, 0.75]]))
    tensor([1.5000])
    """
    losses, prefs, z = _prepare("tchebycheff", losses, prefs, ideal)
    return (prefs * (losses - z)).amax(-1)


def smooth_tchebycheff(
    losses: Tensor, prefs: Tensor, *, ideal: Tensor | None = None, mu: float = 0.1
) -> Tensor:
    """Smooth Tchebycheff scalarization μ·log Σ_i exp(λ_i (f_i − z_i)/μ).

    Lin, Zhang, Liu, Zhang, Zhang, "Smooth Tchebycheff Scalarization for Multi-Objective
    Optimization", ICML 2024. Computed with ``torch.logsumexp``; it bounds the Tchebycheff value
    from above, tchebycheff ≤ smooth_tchebycheff ≤ tchebycheff + μ·log m, and tends to it as
    μ → 0.

    Args:
        losses: `(..., K, m)` objective values f.
        prefs: `(..., K, m)` preferences λ (or a shape broadcasting to that of ``losses``).
        ideal: optional `(m,)` ideal point z (default zeros).
        mu: smoothing parameter μ > 0.

    Returns:
        `(..., K)` tensor.

    Raises:
        ConfigError: if ``mu`` is not > 0.
    """
    _check_param("smooth_tchebycheff", "mu", mu)
    losses, prefs, z = _prepare("smooth_tchebycheff", losses, prefs, ideal)
    return mu * torch.logsumexp(prefs * (losses - z) / mu, dim=-1)


def inverse_tchebycheff(
    losses: Tensor, prefs: Tensor, *, ideal: Tensor | None = None, eps: float = 1e-4
) -> Tensor:
    """Inverse ("modified") Tchebycheff scalarization max_i (f_i − z_i)/λ_i.

    The form used by Pareto set learning (Lin, Yang, Zhang, Zhang, "Pareto Set Learning for
    Expensive Multi-Objective Optimization", NeurIPS 2022) and by HV-PSL's "mtche" baseline: its
    minimiser lies on the ray z + t·λ, so λ acts as a direction. λ is clamped below at ``eps``
    before dividing so that a zero preference gives a large finite value instead of inf/NaN
    (PSL's code adds 1e-4 to every preference for the same reason). Keep the sampled preferences
    off zero (e.g. :class:`hybridmoo.preferences.Sphere`'s clamp) rather than relying on ``eps``.

    Args:
        losses: `(..., K, m)` objective values f.
        prefs: `(..., K, m)` preferences λ ≥ 0 (or a shape broadcasting to that of ``losses``).
        ideal: optional `(m,)` ideal point z (default zeros).
        eps: lower clamp for λ, in (0, 1).

    Returns:
        `(..., K)` tensor.
    """
    _check_param("inverse_tchebycheff", "eps", eps)
    losses, prefs, z = _prepare("inverse_tchebycheff", losses, prefs, ideal)
    return ((losses - z) / prefs.clamp_min(eps)).amax(-1)


def pbi(
    losses: Tensor, prefs: Tensor, *, ideal: Tensor | None = None, theta: float = 5.0
) -> Tensor:
    """Penalty-based boundary intersection d1 + θ·d2 (Zhang & Li, MOEA/D, IEEE TEVC 2007).

    With u = λ/‖λ‖: d1 = (f − z)·u is the distance along the preference ray and
    d2 = ‖(f − z) − d1·u‖ the distance from it. θ = 5 is MOEA/D's usual setting. A zero
    preference row (‖λ‖ = 0) gives d1 = 0 and d2 = ‖f − z‖.

    Args:
        losses: `(..., K, m)` objective values f.
        prefs: `(..., K, m)` preferences λ (or a shape broadcasting to that of ``losses``).
        ideal: optional `(m,)` ideal point z (default zeros).
        theta: penalty θ ≥ 0.

    Returns:
        `(..., K)` tensor.
    """
    _check_param("pbi", "theta", theta)
    losses, prefs, z = _prepare("pbi", losses, prefs, ideal)
    d = losses - z
    norm = torch.linalg.vector_norm(prefs, dim=-1, keepdim=True)
    u = prefs / norm.clamp_min(torch.finfo(losses.dtype).tiny)
    d1 = (d * u).sum(-1)
    d2 = torch.linalg.vector_norm(d - d1.unsqueeze(-1) * u, dim=-1)
    return d1 + theta * d2


def cosmos(
    losses: Tensor, prefs: Tensor, *, ideal: Tensor | None = None, cos_weight: float = 2.0
) -> Tensor:
    """COSMOS loss Σ_i λ_i (f_i − z_i) − c·cos(f − z, λ) (Ruchte & Grabocka, ICDM 2021).

    "Scalable Pareto Front Approximation for Deep Multi-Objective Learning". The official code
    (``ruchtem/cosmos``, ``methods/cosmos/cosmos.py``) subtracts ``lamda`` times the cosine
    similarity between the loss vector and the Dirichlet-sampled preference from the linear
    scalarization; its settings use ``lamda = 2`` for Multi-MNIST and Multi-Fashion (the default
    here), 8 for Multi-Fashion+MNIST, 3 for CelebA and 0.01 for the fairness data sets. Reading:
    the code uses the raw losses (z = 0); with an ``ideal`` we shift both terms by z.

    Args:
        losses: `(..., K, m)` objective values f.
        prefs: `(..., K, m)` preferences λ (or a shape broadcasting to that of ``losses``).
        ideal: optional `(m,)` ideal point z (default zeros).
        cos_weight: the cosine penalty c ≥ 0 (``lamda`` in the COSMOS code).

    Returns:
        `(..., K)` tensor.
    """
    _check_param("cosmos", "cos_weight", cos_weight)
    losses, prefs, z = _prepare("cosmos", losses, prefs, ideal)
    d = losses - z
    lam = prefs.expand_as(d)
    return (lam * d).sum(-1) - cos_weight * F.cosine_similarity(d, lam, dim=-1)


def hv1(
    losses: Tensor,
    prefs: Tensor,
    *,
    ref: Tensor,
    ideal: Tensor | None = None,
    eps: float = 1e-4,
) -> Tensor:
    """HV-PSL's per-direction hypervolume loss (Zhang et al., NeurIPS 2023; ALGORITHMS.md §5).

    For a direction λ on the positive unit sphere, ρ(λ) = min_i (r_i − f_i)/λ_i is the distance
    from the reference point r back along λ to the boundary of the region f dominates. The
    hypervolume of a set Y is Φ_m·E_λ[max_{y∈Y} ρ_y(λ)^m] over directions uniform on the sphere,
    Φ_m = π^{m/2} / (2^m Γ(m/2 + 1)); so minimising the mean of this value over sampled
    directions maximises the hypervolume of the learned front.

    Value per preference: −ρ^m where ρ > 0, and −ρ where ρ ≤ 0 (f outside the box below r).
    The official code (``xzhang2523/hvpsl``, ``psl_main.py``) uses this piecewise form for
    m = 2 and plain −ρ^m for m ≥ 3. We use −ρ for ρ ≤ 0 for every m: it is continuous at ρ = 0,
    it keeps a gradient that pushes ρ up (back into the box), and for even m ≥ 4 plain −ρ^m
    would push ρ further down. For m = 2 it is exactly the official loss.

    Args:
        losses: `(..., K, m)` objective values f.
        prefs: `(..., K, m)` directions λ (unit-norm, positive; or a broadcasting shape).
            λ is clamped below at ``eps`` before dividing.
        ref: `(m,)` reference point r (HV-PSL uses nadir + 0.4). Required.
        ideal: ignored (accepted for the common signature).
        eps: lower clamp for λ, in (0, 1).

    Returns:
        `(..., K)` tensor. Its mean over directions uniform on the sphere, times −Φ_m, estimates
        the hypervolume of each single point (when all ρ > 0).
    """
    _check_param("hv1", "eps", eps)
    if ref is None:
        raise ConfigError("hv1 needs a reference point: pass ref=<(m,) tensor>.")
    losses, prefs, _ = _prepare("hv1", losses, prefs, None)
    r = torch.as_tensor(ref, dtype=losses.dtype, device=losses.device)
    if r.shape != losses.shape[-1:]:
        raise ShapeError(
            f"hv1: ref of shape {_shape_text(r)} does not match losses of shape "
            f"{_shape_text(losses)}; ref must be an ({losses.shape[-1]},) tensor."
        )
    m = losses.shape[-1]
    rho = ((r - losses) / prefs.clamp_min(eps)).amin(-1)
    return torch.where(rho > 0, -(rho.clamp_min(0) ** m), -rho)


def hv2(
    losses: Tensor, prefs: Tensor, *, ideal: Tensor | None = None, eps: float = 1e-4
) -> Tensor:
    """HV-PSL's second loss max_i ((f_i − z_i)/λ_i)^m (ALGORITHMS.md §5).

    The inverse Tchebycheff distance from the ideal point z raised to the power m, as in the
    official code (``psl_main.py``: ``max((J − z)**m / pref**m)``, elementwise power, then max).
    Per preference; average it over a batch of directions yourself. λ is clamped below at
    ``eps`` before dividing.

    Args:
        losses: `(..., K, m)` objective values f.
        prefs: `(..., K, m)` directions λ (or a shape broadcasting to that of ``losses``).
        ideal: optional `(m,)` ideal point z (default zeros; HV-PSL uses the problem's ideal).
        eps: lower clamp for λ, in (0, 1).

    Returns:
        `(..., K)` tensor.
    """
    _check_param("hv2", "eps", eps)
    losses, prefs, z = _prepare("hv2", losses, prefs, ideal)
    m = losses.shape[-1]
    return (((losses - z) / prefs.clamp_min(eps)) ** m).amax(-1)


# ---------------------------------------------------------------------------- registry
@dataclass(frozen=True, eq=True)
class Scalarization:
    """A named plain scalarization with fixed parameters; call it like the bare function.

    Attributes:
        name: registry name, e.g. ``"pbi"``.
        fn: the pure function, ``fn(losses, prefs, *, ideal=None, **params) -> Tensor``.
        params: the parameters passed to ``fn`` on every call (defaults filled in).
        needs_ref: whether a reference point must be passed (``hv1``).
        needs_grads: always ``False`` for plain scalarizations (see :class:`EPO`).
    """

    name: str
    fn: Callable[..., Tensor]
    params: Mapping[str, Any] = field(default_factory=dict)
    needs_ref: bool = False
    needs_grads: bool = False

    def __call__(
        self,
        losses: Tensor,
        prefs: Tensor,
        *,
        ideal: Tensor | None = None,
        ref: Tensor | None = None,
    ) -> Tensor:
        """Scalarized losses `(..., K)` of ``losses`` `(..., K, m)` under ``prefs``.

        Args:
            losses: `(..., K, m)` objective values.
            prefs: `(..., K, m)` preferences (or a broadcasting shape such as `(m,)`).
            ideal: optional `(m,)` ideal point (default zeros; ignored by ``hv1``).
            ref: `(m,)` reference point, required when :attr:`needs_ref`, ignored otherwise.

        Raises:
            ConfigError: if :attr:`needs_ref` and ``ref`` is None.
        """
        if self.needs_ref:
            if ref is None:
                raise ConfigError(
                    f"scalarization {self.name!r} needs a reference point: call it with "
                    "ref=<(m,) tensor> (HV-PSL uses nadir + 0.4)."
                )
            return self.fn(losses, prefs, ideal=ideal, ref=ref, **self.params)
        return self.fn(losses, prefs, ideal=ideal, **self.params)

    def to_dict(self) -> dict[str, Any]:
        """``{"name": name, **params}``; rebuild with :func:`from_dict`."""
        return {"name": self.name, **dict(self.params)}


#: name -> the bare function (or, for gradient-based methods, the class).
SCALARIZATIONS: dict[str, Callable[..., Any]] = {
    "linear": linear,
    "tchebycheff": tchebycheff,
    "smooth_tchebycheff": smooth_tchebycheff,
    "inverse_tchebycheff": inverse_tchebycheff,
    "pbi": pbi,
    "cosmos": cosmos,
    "hv1": hv1,
    "hv2": hv2,
    "epo": EPO,
    "pmtl": PMTL,
}

_NEEDS_REF = frozenset({"hv1"})


def names() -> list[str]:
    """Names of the registered scalarizations, in registration order."""
    return list(SCALARIZATIONS)


def _defaults(name: str) -> dict[str, Any]:
    """Tunable parameters of ``name`` with their defaults (``ideal``/``ref`` excluded)."""
    sig = inspect.signature(SCALARIZATIONS[name])
    return {
        p.name: p.default
        for p in sig.parameters.values()
        if p.kind is p.KEYWORD_ONLY and p.name not in ("ideal", "ref")
    }


def _key(name: str) -> str:
    if not isinstance(name, str):
        raise UnknownNameError(
            f"scalarization name must be a string, got {type(name).__name__}."
        )
    key = name.lower()
    if key not in SCALARIZATIONS:
        raise UnknownNameError(
            f"unknown scalarization {name!r}.{did_you_mean(key, names())} "
            f"Registered scalarizations: {', '.join(names())}."
        )
    return key


def needs_ref(name: str) -> bool:
    """Whether the scalarization ``name`` needs a reference point (only ``hv1``)."""
    return _key(name) in _NEEDS_REF


def needs_grads(name: str) -> bool:
    """Whether the scalarization ``name`` needs per-objective gradients (``epo``, ``pmtl``)."""
    return bool(getattr(SCALARIZATIONS[_key(name)], "needs_grads", False))


def get(name: str, **params: Any) -> Scalarization | EPO | PMTL:
    """Build the scalarization registered under ``name`` (case-insensitive) with ``params``.

    Args:
        name: one of :func:`names`.
        **params: the method's parameters (e.g. ``mu`` for ``smooth_tchebycheff``); missing
            ones take their defaults.

    Returns:
        A :class:`Scalarization`, or an :class:`EPO` / :class:`PMTL` instance for ``"epo"`` /
        ``"pmtl"``.

    Raises:
        UnknownNameError: if ``name`` is not registered (the message lists the names).
        ConfigError: on an unknown parameter (the message lists the allowed ones) or an invalid
            value.

    >>> get("pbi", theta=3.0).to_dict()
    {'name': 'pbi', 'theta': 3.0}
    """
    key = _key(name)
    allowed = _defaults(key)
    for k, v in params.items():
        if k not in allowed:
            accepted = ", ".join(f"{a}={d!r}" for a, d in allowed.items()) or "none"
            raise ConfigError(
                f"scalarization {key!r} has no parameter {k!r}.{did_you_mean(k, list(allowed))} "
                f"Allowed parameters: {accepted}."
            )
        _check_param(key, k, v)
    merged = {**allowed, **params}
    merged = {k: (float(v) if _real(v) else v) for k, v in merged.items()}
    if isinstance(SCALARIZATIONS[key], type):  # gradient-based methods (EPO, PMTL)
        return SCALARIZATIONS[key](**merged)
    return Scalarization(
        name=key, fn=SCALARIZATIONS[key], params=merged, needs_ref=key in _NEEDS_REF
    )


def from_dict(d: Mapping[str, Any]) -> Scalarization | EPO | PMTL:
    """Rebuild a scalarization from ``{"name": ..., **params}`` (the output of ``to_dict``).

    Raises:
        ConfigError: if ``"name"`` is missing or a parameter is invalid.
        UnknownNameError: if the name is not registered.
    """
    if not isinstance(d, Mapping) or "name" not in d:
        raise ConfigError(
            f"a scalarization dict needs a 'name' key (one of {', '.join(names())}), got {d!r}."
        )
    rest = {k: v for k, v in d.items() if k != "name"}
    return get(d["name"], **rest)
