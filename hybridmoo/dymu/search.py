"""DYMU search-space maths: Gumbel softmax, P_use, trees and their cost, the branching
regulariser, RSA affinity."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from hybridmoo.errors import ConfigError, ShapeError


# ---------------------------------------------------------------------------- search-space maths
def gumbel_temperature(step: int, zeta0: float = 5.0, decay: float = 0.97,
                       every: int = 300) -> float:
    """Gumbel-softmax temperature ζ at a step: ``zeta0 · decay ^ ⌊step / every⌋``.

    >>> gumbel_temperature(0), round(gumbel_temperature(600), 6)
    (5.0, 4.7045)
    """
    return float(zeta0) * float(decay) ** (int(step) // int(every))


def gumbel_softmax(logits: Tensor, zeta: float, generator: torch.Generator) -> Tensor:
    """Relaxed one-hot samples ``softmax((log α + G) / ζ)`` over the last dimension.

    Args:
        logits: `(..., n)` unnormalised log-probabilities (log α up to a constant).
        zeta: temperature ζ > 0.
        generator: source of the uniform draws behind the Gumbel noise G = −log(−log U).

    Returns:
        `(..., n)` samples on the simplex.
    """
    u = torch.rand(logits.shape, generator=generator, dtype=logits.dtype,
                   device=logits.device).clamp_(1e-10, 1.0 - 1e-7)
    g = -torch.log(-torch.log(u))
    return torch.softmax((torch.log_softmax(logits, -1) + g) / zeta, dim=-1)


def _check_nu(nu: Tensor) -> tuple[int, int]:
    if nu.dim() < 3 or nu.shape[-1] != nu.shape[-2]:
        raise ShapeError(f"parent probabilities must be (..., L, N, N), got {tuple(nu.shape)}")
    return int(nu.shape[-3]), int(nu.shape[-1])


def p_use(nu: Tensor, mode: str = "independent") -> Tensor:
    """Probability that each node is in the sampled tree, by dynamic programming.

    Args:
        nu: `(..., L, N, N)` parent probabilities: ``nu[..., l, j, i]`` is the probability that
            node ``(l + 1, j)`` takes its input from node ``(l, i)``; rows sum to 1. Layer L
            holds the task heads, which are always used.
        mode: ``"independent"``: ``P(l, i) = 1 − Π_j (1 − P(l + 1, j)·nu[l, j, i])`` (the [I]
            formula of ALGORITHMS.md §2a: exact at layer L − 1, an approximation below, where
            the use of two children is correlated); ``"exact"``: the distribution over the set
            of used nodes per layer (2^N states), propagated layer by layer; exact.

    Returns:
        `(..., L + 1, N)`: ``P[..., l, i]`` for node layers 0 … L (row L is all ones).
        Differentiable in ``nu``.
    """
    L, N = _check_nu(nu)
    if mode == "independent":
        rows = [torch.ones(nu.shape[:-3] + (N,), dtype=nu.dtype, device=nu.device)]
        for layer in range(L - 1, -1, -1):
            pc = rows[0]  # (..., N) use of the children (l + 1, j)
            rows.insert(0, 1.0 - torch.prod(1.0 - pc.unsqueeze(-1) * nu[..., layer, :, :],
                                             dim=-2))
        return torch.stack(rows, dim=-2)
    if mode != "exact":
        raise ConfigError(f"p_use mode {mode!r} is not allowed; allowed: independent, exact")
    if N > 8:
        raise ConfigError(f"p_use(mode='exact') enumerates 2^N sets; N = {N} is too many "
                          "(use mode='independent')")
    n_sets = 1 << N
    members = [[j for j in range(N) if s >> j & 1] for s in range(n_sets)]
    bits = torch.tensor([[float(s >> i & 1) for i in range(N)] for s in range(n_sets)],
                        dtype=nu.dtype, device=nu.device)  # (2^N, N)
    q = torch.zeros(nu.shape[:-3] + (n_sets,), dtype=nu.dtype, device=nu.device)
    q[..., n_sets - 1] = 1.0  # every head is used
    rows = [q @ bits]
    for layer in range(L - 1, -1, -1):
        cols: list[Tensor | float] = [0.0] * n_sets
        for s in range(1, n_sets):
            kids = members[s]
            # every assignment of a parent to each used child; t: the set of chosen parents
            for parents in itertools.product(range(N), repeat=len(kids)):
                prob = q[..., s]
                for j, i in zip(kids, parents, strict=True):
                    prob = prob * nu[..., layer, j, i]
                t = sum(1 << i for i in set(parents))
                cols[t] = cols[t] + prob
        q = torch.stack([col if isinstance(col, Tensor) else torch.zeros_like(q[..., 0])
                         for col in cols], dim=-1)
        rows.insert(0, q @ bits)
    return torch.stack(rows, dim=-2)


def ml_tree(logits: Tensor) -> Tensor:
    """Maximum-likelihood parents `(..., L, N)` int64 of parent logits `(..., L, N, N)`."""
    _check_nu(logits)
    return logits.argmax(dim=-1)


def used_nodes(parents: Tensor) -> Tensor:
    """Which nodes a tree uses: `(..., L + 1, N)` bool from parents `(..., L, N)` int64.

    Row L (the heads) is all True; node ``(l, i)`` is used when a used child picks it.
    """
    if parents.dim() < 2:
        raise ShapeError(f"parents must be (..., L, N), got {tuple(parents.shape)}")
    L, N = parents.shape[-2:]
    rows = [torch.ones(parents.shape[:-2] + (N,), dtype=torch.bool, device=parents.device)]
    for layer in range(L - 1, -1, -1):
        child = rows[0]
        pick = F.one_hot(parents[..., layer, :], N).bool() & child.unsqueeze(-1)  # (..., N, N)
        rows.insert(0, pick.any(dim=-2))
    return torch.stack(rows, dim=-2)


def tree_cost(parents: Tensor, node_params: Tensor) -> Tensor:
    """Active parameter ratio of trees: used-node parameters over all parameters.

    Args:
        parents: `(..., L, N)` int64 parents. node_params: `(L + 1, N)` parameters per node
            (row L: the heads).

    Returns:
        `(...)` float64 ratios in (0, 1].
    """
    used = used_nodes(parents).to(torch.float64)
    w = node_params.to(torch.float64)
    return (used * w).sum(dim=(-2, -1)) / w.sum()


def branching_regularizer(v: Tensor, p_child: Tensor, affinity: Tensor, r: Tensor, c: Tensor,
                          *, tau: float, lambda_active: float = 1.0,
                          lambda_inactive: float = 0.1) -> tuple[Tensor, Tensor, Tensor]:
    """DYMU's branching regulariser ``Ω = c·λ_A·L_active + λ_I·L_inactive``.

    ``L_active = Σ_l Σ_{i ≠ j ∈ A} ((L − l)/L)·A(i, j)·P(l, i)·P(l, j)·‖v_i^l − v_j^l‖²`` over
    ordered pairs of active tasks, and ``L_inactive = Σ_l Σ_{j ∈ I} min_{i ∈ A}
    ‖v_i^l − v_j^l‖²``; A = {i : r_i ≥ τ}, I the others. Without active task L_inactive is 0.

    Args:
        v: `(K, L, N, N)` Gumbel-softmax samples; ``v[k, l, j]`` is the parent distribution of
            node ``(l + 1, j)`` (choice layer l = 0 … L − 1).
        p_child: `(K, L, N)` use probability of the choosing nodes ``(l + 1, j)``.
        affinity: `(N, N)` task affinity. r: `(K, N)` task preferences. c: `(K,)` resource
            preferences.
        tau: threshold of the active set. lambda_active, lambda_inactive: λ_A, λ_I.

    Returns:
        ``(omega, l_active, l_inactive)``, each `(K,)`.
    """
    K, L, N, _ = v.shape
    if p_child.shape != (K, L, N) or affinity.shape != (N, N) or r.shape != (K, N) \
            or c.shape != (K,):
        raise ShapeError(
            f"branching_regularizer: v {tuple(v.shape)} needs p_child ({K}, {L}, {N}), "
            f"affinity ({N}, {N}), r ({K}, {N}), c ({K},); got {tuple(p_child.shape)}, "
            f"{tuple(affinity.shape)}, {tuple(r.shape)}, {tuple(c.shape)}"
        )
    active = r >= tau  # (K, N)
    diff = ((v.unsqueeze(3) - v.unsqueeze(2)) ** 2).sum(-1)  # (K, L, N, N): ‖v_i − v_j‖²
    depth = (L - torch.arange(L, dtype=v.dtype, device=v.device)) / L
    pp = p_child.unsqueeze(-1) * p_child.unsqueeze(-2)
    eye = torch.eye(N, dtype=torch.bool, device=v.device)
    pair = (active.unsqueeze(-1) & active.unsqueeze(-2) & ~eye).unsqueeze(1)  # (K, 1, N, N)
    term = depth.view(1, L, 1, 1) * affinity * pp * diff
    l_active = torch.where(pair, term, torch.zeros_like(term)).sum(dim=(1, 2, 3))
    big = torch.finfo(v.dtype).max
    masked = torch.where(active.view(K, 1, N, 1), diff, torch.full_like(diff, big))
    nearest = masked.min(dim=2).values  # (K, L, N): min over active i, per node j
    use = (~active & active.any(dim=-1, keepdim=True)).unsqueeze(1)  # inactive, some active
    l_inactive = torch.where(use, nearest, torch.zeros_like(nearest)).sum(dim=(1, 2))
    omega = c * lambda_active * l_active + lambda_inactive * l_inactive
    return omega, l_active, l_inactive


def rsa_affinity(features: Sequence[Tensor], norm: str = "pair") -> Tensor:
    """Task affinity by representational similarity analysis (RSA).

    For every layer l and task i, ``S_l(i)`` is the K×K Pearson correlation between the
    flattened features of the K images; ``D_l(i, j) = ‖S_l(i) − S_l(j)‖_F``; normalised to
    [0, 1] (``norm``), ``A_l = 1 − D̃_l``, averaged over the layers.

    Args:
        features: one tensor per layer, `(N, K, ...)`: task i's features of image k.
        norm: ``"pair"``: ``D̃ = D / (‖S_l(i)‖_F + ‖S_l(j)‖_F)``; ``"row"``: each row divided
            by its maximum (the least similar task then gets affinity 0).

    Returns:
        `(N, N)` float64 affinity, symmetric for ``"pair"``, ones on the diagonal.
    """
    if not features:
        raise ShapeError("rsa_affinity needs the features of at least one layer")
    if norm not in ("pair", "row"):
        raise ConfigError(f"rsa_affinity norm {norm!r} is not allowed; allowed: pair, row")
    per_layer = []
    for f in features:
        if f.dim() < 3:
            raise ShapeError(f"features must be (N, K, ...) per layer, got {tuple(f.shape)}")
        z = f.reshape(f.shape[0], f.shape[1], -1).to(torch.float64)
        z = z - z.mean(dim=-1, keepdim=True)
        z = z / z.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        S = z @ z.transpose(1, 2)  # (N, K, K) correlations
        D = (S.unsqueeze(1) - S.unsqueeze(0)).flatten(2).norm(dim=-1)  # (N, N)
        if norm == "pair":
            n = S.flatten(1).norm(dim=-1)
            Dn = D / (n.unsqueeze(0) + n.unsqueeze(1)).clamp_min(1e-12)
        else:
            Dn = D / D.max(dim=1, keepdim=True).values.clamp_min(1e-12)
        per_layer.append(1.0 - Dn.clamp(0.0, 1.0))
    return torch.stack(per_layer).mean(dim=0)
