"""Evolutionary preference sampling (EPS) for Pareto set learning.

Ye, Chen, Zhang & Ishibuchi, "Evolutionary Preference Sampling for Pareto Set Learning",
GECCO 2024 (arXiv 2404.08414). Instead of drawing every training preference from a fixed law
(Dirichlet), EPS keeps a *population* of preferences and, every few training steps, evolves it
with crossover and mutation toward the preferences whose generated solutions add most to the
front. On fronts in disconnected pieces (ZDT3, DTLZ7) many preferences map to dominated points in
the gaps; EPS stops spending gradient steps on them.

Our reading (the code here is ours; the paper's official code was not available to us):

* the population (``pop_size`` rows on the simplex) starts as Dirichlet(``alpha``) draws;
* every training step draws ``k`` rows: ``round(explore · k)`` fresh Dirichlet(``alpha``) rows
  (exploration, so a region the population left can be found again) and the rest from the
  population (a random permutation, with replacement only when ``k`` exceeds ``pop_size``);
* the trainer reports the (normalised) objective values of the solutions generated for the
  sampled preferences through :meth:`EPS.observe` (``Trainer.step`` calls it when a sampler
  has it); observations of the same preference within a period are averaged;
* every ``period`` draws, the observed points are scored by their hypervolume contribution
  (moocore, objectives scaled to [0, 1] over the period's observations, reference 1.1), ties
  and dominated points broken by non-dominated rank; the best ``elite · pop_size``
  preferences survive and the rest of the population is refilled with their offspring by
  simulated binary crossover (η = ``eta_c``) and polynomial mutation (η = ``eta_m``,
  probability 1/m per coordinate) on the coordinates, renormalised onto the simplex.

Every random number comes from the ``torch.Generator`` that :meth:`sample` receives, so a
seed gives the same preferences; :meth:`state_dict` / :meth:`load_state_dict` carry the
population across a checkpoint.

>>> import torch
>>> from hybridmoo import preferences
>>> s = preferences.get("eps", n_obj=2, pop_size=8, period=2)
>>> g = torch.Generator().manual_seed(0)
>>> p = s.sample(4, g)
>>> s.observe(p, torch.stack([p[:, 0], 1 - p[:, 0] ** 0.5], dim=1))
>>> q = s.sample(4, g)  # the second draw evolves the population first
>>> s.generations, bool(torch.allclose(q.sum(-1), torch.ones(4)))
(1, True)
"""

from __future__ import annotations

import math
from typing import Any

import moocore
import numpy as np
import torch
from torch import Tensor

from hybridmoo.errors import ConfigError
from hybridmoo.preferences import PreferenceSampler, _check_n_obj, _dirichlet, _is_real

__all__ = ["EPS"]

_F64 = torch.float64


def _check(name: str, value: Any, ok: bool, expected: str) -> None:
    if isinstance(value, bool) or not ok:
        raise ConfigError(f"eps: {name!r} must be {expected}, got {value!r}.")


class EPS(PreferenceSampler):
    """Evolutionary preference sampling (see the module docstring).

    Args:
        n_obj: number of objectives m >= 2.
        pop_size: preferences in the population (>= 4).
        period: draws between two evolutions (>= 1).
        elite: fraction of the population kept at each evolution, in (0, 1).
        explore: fraction of each draw taken fresh from Dirichlet(``alpha``), in [0, 1).
        alpha: concentration of the initial and exploration draws (a number > 0; default 0.5,
            the trainer's default Dirichlet, so that EPS changes only what it adapts).
        eta_c: SBX distribution index (> 0; larger: children nearer their parents).
        eta_m: polynomial-mutation distribution index (> 0).
        warmup: draws before the first evolution (the population stays Dirichlet meanwhile).
    """

    name = "eps"
    on_simplex = True

    def __init__(self, n_obj: int, pop_size: int = 32, period: int = 20, elite: float = 0.5,
                 explore: float = 0.25, alpha: float = 0.5, eta_c: float = 15.0,
                 eta_m: float = 20.0, warmup: int = 0):
        self.n_obj = _check_n_obj(n_obj, "eps")
        _check("pop_size", pop_size, isinstance(pop_size, (int, np.integer)) and pop_size >= 4,
               "an integer >= 4")
        _check("period", period, isinstance(period, (int, np.integer)) and period >= 1,
               "an integer >= 1")
        _check("elite", elite, _is_real(elite) and 0 < elite < 1,
               "a number in (0, 1), the fraction of the population kept")
        _check("explore", explore, _is_real(explore) and 0 <= explore < 1,
               "a number in [0, 1), the fraction of each draw that is fresh Dirichlet rows")
        _check("warmup", warmup, isinstance(warmup, (int, np.integer)) and warmup >= 0,
               "an integer >= 0 (draws before the first evolution)")
        for key, v in (("eta_c", eta_c), ("eta_m", eta_m)):
            _check(key, v, _is_real(v) and math.isfinite(v) and v > 0, "a number > 0")
        _check("alpha", alpha, _is_real(alpha) and math.isfinite(alpha) and alpha > 0,
               "a finite number > 0")
        self.alpha = float(alpha)
        self.pop_size, self.period = int(pop_size), int(period)
        self.elite, self.explore = float(elite), float(explore)
        self.eta_c, self.eta_m = float(eta_c), float(eta_m)
        self.warmup = int(warmup)
        self.population: Tensor | None = None  # (pop_size, m) float64
        self.draws = 0
        self.generations = 0
        self._seen: list[tuple[np.ndarray, np.ndarray]] = []

    def params(self) -> dict[str, Any]:
        """The constructor arguments other than ``n_obj``."""
        return {"pop_size": self.pop_size, "period": self.period, "elite": self.elite,
                "explore": self.explore, "alpha": self.alpha, "eta_c": self.eta_c,
                "eta_m": self.eta_m, "warmup": self.warmup}

    # ------------------------------------------------------------------ sampling
    def _fresh(self, k: int, generator: torch.Generator) -> Tensor:
        a = torch.full((k, self.n_obj), self.alpha, dtype=_F64, device=generator.device)
        return _dirichlet(a, generator)

    def _sample(self, k: int, generator: torch.Generator) -> Tensor:
        dev = generator.device
        if self.population is None:
            self.population = self._fresh(self.pop_size, generator)
        self.population = self.population.to(dev)
        self.draws += 1
        if self.draws % self.period == 0 and self._seen and self.draws > self.warmup:
            self._evolve(generator)
        n_new = int(round(self.explore * k))
        n_pop = k - n_new
        if n_pop <= self.pop_size:
            idx = torch.randperm(self.pop_size, generator=generator, device=dev)[:n_pop]
        else:
            idx = torch.randint(self.pop_size, (n_pop,), generator=generator, device=dev)
        rows = [self.population[idx]]
        if n_new:
            rows.append(self._fresh(n_new, generator))
        return torch.cat(rows)

    def observe(self, prefs: Tensor, losses: Tensor) -> None:
        """Record the objective values of the solutions generated for ``prefs``.

        Args:
            prefs: `(k, m)` the preferences of the last draw.
            losses: `(k, m)` their solutions' objective values (minimised; any common scale).

        Raises:
            ConfigError: if the shapes disagree or are not `(k, n_obj)`.
        """
        p = prefs.detach().to("cpu", _F64).numpy()
        f = losses.detach().to("cpu", _F64).numpy()
        if p.ndim != 2 or p.shape != f.shape or p.shape[1] != self.n_obj:
            raise ConfigError(
                f"eps.observe: prefs and losses must both be (k, {self.n_obj}), got "
                f"{tuple(p.shape)} and {tuple(f.shape)}.")
        ok = np.isfinite(f).all(axis=1)
        if ok.any():
            self._seen.append((p[ok], f[ok]))

    # ------------------------------------------------------------------ evolution
    def scores(self) -> tuple[np.ndarray, np.ndarray]:
        """The distinct preferences observed since the last evolution and their scores.

        Returns:
            ``(prefs (n, m), score (n,))``: the hypervolume contribution of each preference's
            mean observed point among all of them (objectives scaled to [0, 1], reference 1.1),
            minus its non-dominated rank (so dominated points rank below every front point).
        """
        P = np.concatenate([p for p, _ in self._seen])
        F = np.concatenate([f for _, f in self._seen])
        uniq, inv = np.unique(P, axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        Fm = np.zeros((len(uniq), self.n_obj))
        np.add.at(Fm, inv, F)
        Fm /= np.bincount(inv, minlength=len(uniq))[:, None]
        lo, hi = Fm.min(axis=0), Fm.max(axis=0)
        Fs = (Fm - lo) / np.where(hi > lo, hi - lo, 1.0)
        contrib = moocore.hv_contributions(Fs, ref=np.full(self.n_obj, 1.1))
        rank = moocore.pareto_rank(Fs)  # 0 on the front
        return uniq, contrib - rank

    def _evolve(self, generator: torch.Generator) -> None:
        dev = generator.device
        uniq, score = self.scores()
        self._seen = []
        n_elite = max(2, int(round(self.elite * self.pop_size)))
        # the population's unobserved rows (none, usually) keep their place behind the observed
        order = np.argsort(-score, kind="stable")[:n_elite]
        elite = torch.as_tensor(uniq[order], dtype=_F64, device=dev)
        if len(elite) < n_elite:
            elite = torch.cat([elite, self.population[: n_elite - len(elite)]])
        n_child = self.pop_size - len(elite)
        children = self._offspring(elite, n_child, generator) if n_child > 0 else elite[:0]
        self.population = torch.cat([elite, children])
        self.generations += 1

    def _offspring(self, parents: Tensor, n: int, generator: torch.Generator) -> Tensor:
        """``n`` children `(n, m)` of random parent pairs: SBX, polynomial mutation, simplex."""
        dev, m = generator.device, self.n_obj
        pairs = (n + 1) // 2
        i = torch.randint(len(parents), (pairs,), generator=generator, device=dev)
        j = torch.randint(len(parents) - 1, (pairs,), generator=generator, device=dev)
        j = j + (j >= i)  # a different parent
        p1, p2 = parents[i], parents[j]
        u = torch.rand(pairs, m, generator=generator, dtype=_F64, device=dev)
        e = 1.0 / (self.eta_c + 1.0)
        beta = torch.where(u <= 0.5, (2 * u) ** e, (0.5 / (1 - u).clamp_min(1e-12)) ** e)
        c1 = 0.5 * ((1 + beta) * p1 + (1 - beta) * p2)
        c2 = 0.5 * ((1 - beta) * p1 + (1 + beta) * p2)
        x = torch.cat([c1, c2])[:n].clamp(0.0, 1.0)
        u = torch.rand(n, m, generator=generator, dtype=_F64, device=dev)
        hit = torch.rand(n, m, generator=generator, dtype=_F64, device=dev) < 1.0 / m
        e = 1.0 / (self.eta_m + 1.0)
        delta = torch.where(u < 0.5, (2 * u) ** e - 1, 1 - (2 * (1 - u)) ** e)
        x = torch.where(hit, x + delta, x).clamp(1e-9, 1.0)
        return x / x.sum(-1, keepdim=True)

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """The evolving state: ``{"population": (pop_size, m) array or None, "draws",
        "generations", "seen": [(prefs, losses), ...]}``."""
        pop = None if self.population is None else self.population.cpu().numpy().copy()
        return {"population": pop, "draws": self.draws, "generations": self.generations,
                "seen": [(p.copy(), f.copy()) for p, f in self._seen]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        pop = state["population"]
        if pop is not None and np.shape(pop) != (self.pop_size, self.n_obj):
            raise ConfigError(
                f"eps.load_state_dict: population must be ({self.pop_size}, {self.n_obj}), got "
                f"{np.shape(pop)}; was the state saved with other pop_size/n_obj settings?")
        self.population = None if pop is None else torch.as_tensor(pop, dtype=_F64)
        self.draws, self.generations = int(state["draws"]), int(state["generations"])
        self._seen = [(np.asarray(p), np.asarray(f)) for p, f in state["seen"]]
