"""The front a training run returns: the evaluation preferences' points, or the best n points
of a dense query chosen by hypervolume (``train.front``).

``front = "preferences"``: the network's points at the ``n_eval`` evaluation preferences
(evenly spread rays or a Das–Dennis lattice): each point is the answer to its preference. But a
fixed set of preferences is not where n points add the most hypervolume: a Tchebycheff front
read at an even lattice crowds some regions (DTLZ2's 105-lattice caps the HV of a perfectly
converged model at 0.692, below what 100 points chosen for HV reach).

``front = "hv_subset"``: after training, the network is read at ``front_density × n_eval``
evenly spread preferences plus the evaluation preferences, the non-dominated points inside the
reference box are pooled, and ``n_eval`` of them are chosen greedily by hypervolume
contribution (:func:`hybridmoo.subset.select_front`; Guerreiro, Fonseca & Paquete 2016).
Every chosen point keeps its preference (``result.prefs``), so the front stays steerable. The
HV trace holds the preference front's HV during training and ends at the result's front; the
result's HV is the chosen front's, and the preference front is kept when the greedy choice is
not better. When fewer than ``n_eval`` pooled points add hypervolume (early in training), the
front is filled up to ``n_eval`` with evaluation preferences' points.

- **Data-driven problems** choose on the *validation* split (``select_losses``) and report the
  chosen points' held-out losses, so the evaluation split never picks its own points; a data
  problem without a validation split refuses ``hv_subset``.
- **Black boxes**: the query's evaluations are true evaluations: they count, and an
  ``evaluations`` budget keeps room for them (training stops that many evaluations early).
- **Time**: the query and the selection are charged to the run's ``train_time``; under a
  ``seconds`` budget training stops early by an estimate of their cost (:func:`reserve_seconds`:
  ``front_density`` evaluation passes plus about ``8 (front_density + 1) n_eval`` hypervolume
  computations of ``n_eval`` points, both timed at the run's last evaluation).

``front = "auto"`` (the default) is ``"hv_subset"`` except on data-driven problems (a dense
query is ``front_density`` passes over the evaluation data), under an ``evaluations`` budget
the query would take more than a tenth of, for a query of more than :data:`AUTO_POOL` points
(the selection grows as ``n_eval²``; large ``n_eval`` lattices are dense already), and under
a ``seconds`` budget whose :data:`AUTO_SHARE` the estimated cost exceeds (then
``extra["front"]["skipped"]`` says why); there it is ``"preferences"``.
``result.extra["front"]`` says what was done (``evaluations``: the run's total, the query's
included; ``seconds``: the query and selection's wall time).
"""

from __future__ import annotations

import time
from typing import Any

import moocore
import numpy as np
import torch

from hybridmoo import metrics, preferences
from hybridmoo.errors import ConfigError
from hybridmoo.subset import select_front, subset_hypervolume

__all__ = ["AUTO_POOL", "AUTO_SHARE", "FRONTS", "estimate_seconds", "finish", "hv_subset_front",
           "query_cost", "reserve_seconds", "resolve"]

#: the values of ``train.front``
FRONTS = ("auto", "preferences", "hv_subset")
#: ``"auto"`` queries at most this many points (the selection's cost grows as ``n_eval²``)
AUTO_POOL = 5000
#: under a ``seconds`` budget, ``"auto"`` queries only when the estimated cost is at most this
#: share of the budget
AUTO_SHARE = 0.25


def query_cost(front: str, cfg) -> int:
    """Evaluations an ``evaluations`` budget keeps for the end: the last evaluation of the
    ``n_eval`` preferences and the ``hv_subset`` query (0 for ``preferences``)."""
    return (cfg.front_density + 1) * cfg.n_eval if front == "hv_subset" else 0


def resolve(cfg, problem, task) -> str:
    """``cfg.front`` for this problem: ``"auto"`` made concrete (see the module docstring).

    Raises:
        ConfigError: ``hv_subset`` on a data problem with no validation split to choose on.
    """
    data = hasattr(problem, "make_task")
    if cfg.front == "auto":
        pool = query_cost("hv_subset", cfg)
        cheap = pool <= AUTO_POOL and (cfg.evaluations is None or pool <= 0.1 * cfg.evaluations)
        return "preferences" if data or not cheap else "hv_subset"
    if cfg.front == "hv_subset" and data and not getattr(task, "has_selection", False):
        raise ConfigError(
            f"train.front = 'hv_subset' chooses the front's points by HV on a validation "
            f"split, and {problem.name!r} has none (choosing on the evaluation split would "
            "let it pick its own points); use front = 'preferences' or a problem with a "
            "validation split")
    return cfg.front


def estimate_seconds(trainer: Any) -> float:
    """Estimated seconds of an ``hv_subset`` query and selection (``inf`` before the first
    evaluation): ``front_density`` times the run's fastest evaluation pass, plus
    ``8 (front_density + 1) n_eval`` hypervolumes of ``n_eval / 2`` points (the greedy
    selection's typical count and size), timed once per run on every second evaluation
    preference."""
    if not np.isfinite(trainer.eval_seconds):
        return float("inf")
    d, n = trainer.cfg.front_density, trainer.cfg.n_eval
    if getattr(trainer, "_hv_seconds", None) is None:  # mutually non-dominated: a full front
        pts = trainer.eval_prefs.detach().to(torch.float64).cpu().numpy()
        pts = pts[:: 2] if len(pts) >= 4 else pts  # the greedy's sets average n / 2 points
        ref = pts.max(axis=0) + 0.1
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            moocore.hypervolume(pts, ref=ref)
            times.append(time.perf_counter() - t0)
        trainer._hv_seconds = float(np.median(times))
    return d * trainer.eval_seconds + 8 * (d + 1) * n * trainer._hv_seconds


def _affordable(trainer: Any, est: float) -> bool:
    """Whether the run queries: always but for ``"auto"`` under a ``seconds`` budget, where the
    estimate must be within :data:`AUTO_SHARE` of it (a decision on time only where the
    budget is time already: steps, epochs and evaluations budgets stay reproducible)."""
    c = trainer.cfg
    return c.front != "auto" or c.seconds is None or est <= AUTO_SHARE * c.seconds


def reserve_seconds(trainer: Any) -> float:
    """Seconds a ``seconds`` budget keeps for the end: :func:`estimate_seconds` when the run
    will query, else 0."""
    if trainer.front != "hv_subset":
        return 0.0
    est = estimate_seconds(trainer)
    return est if np.isfinite(est) and _affordable(trainer, est) else 0.0


def finish(trainer: Any, ev: dict) -> dict:
    """The run's result evaluation: ``ev`` (:meth:`Trainer.evaluate`'s dict), replaced by the
    ``hv_subset`` front when the run's front is one (``"auto"``: and it is affordable), its
    cost charged to ``train_time`` and the trace's last point made the result's."""
    if trainer.front != "hv_subset":
        return ev
    c = trainer.cfg  # (only "auto" under a seconds budget asks what it would cost)
    est = estimate_seconds(trainer) if c.front == "auto" and c.seconds is not None else 0.0
    if not _affordable(trainer, est):
        info = {"kind": "preferences", "kept": "preferences", "estimated_seconds": est,
                "skipped": f"the estimated {est:.3g} s of an hv_subset query exceed "
                           f"{AUTO_SHARE:.0%} of the seconds budget"}
        return {**ev, "extra": {**ev.get("extra", {}), "front": info}}
    ev = hv_subset_front(trainer, ev)
    trainer.train_time += ev["extra"]["front"]["seconds"]  # charged like training
    trainer._trace_point(ev, replace=True)  # the trace ends at the result's front
    return ev


def _losses(trainer: Any, prefs: torch.Tensor, split: str) -> tuple[np.ndarray, Any]:
    """`(N, m)` losses on ``split`` ("eval" or "select") and decision vectors (or None) of
    the network at ``prefs`` `(N, m)`, in chunks of ``n_eval`` (a data task sizes its
    evaluation for n_eval networks)."""
    t, n = trainer, trainer.cfg.n_eval
    fn = t.task.select_losses if split == "select" else t.task.eval_losses
    Fs, Xs = [], []
    for s in range(0, len(prefs), n):
        params = t.net(prefs[s: s + n])
        Fs.append(fn(params).to(torch.float64).cpu().numpy())
        X = t.task.decision_vectors(params)
        Xs.append(None if X is None else X.to(torch.float64).cpu().numpy())
    X = None if any(x is None for x in Xs) else np.vstack(Xs)
    return np.vstack(Fs), X


@torch.no_grad()
def hv_subset_front(trainer: Any, ev: dict) -> dict:
    """The evaluation ``ev`` (:meth:`Trainer.evaluate`'s dict) replaced by the best
    ``n_eval`` points of a dense query of ``trainer``'s network (see the module docstring)."""
    t, cfg = trainer, trainer.cfg
    t0 = time.perf_counter()
    n, m = cfg.n_eval, t.n_obj
    kind = "simplex" if t.sampler.on_simplex else "sphere"
    dense = preferences.eval_preferences(m, cfg.front_density * n, kind=kind, dtype=t.dtype,
                                         device=t.device)
    P = torch.cat([dense, t.eval_prefs])
    data = getattr(t.task, "has_selection", False)
    if data:  # choose on the validation split; the preference front is scored there too
        S, _ = _losses(t, P, "select")
        X = None
    else:  # the evaluation preferences' points are ev's (evaluated already: not paid twice)
        Fd, Xd = _losses(t, dense, "eval")
        S = np.vstack([Fd, ev["F"]])
        X = None if Xd is None or ev["X"] is None else np.vstack([Xd, ev["X"]])
    idx, how = select_front(S, t.ref_point, n, refine=0)
    if len(idx) < n:  # fewer points contribute: fill up with evaluation preferences' points
        taken = set(idx.tolist())
        rest = [i for i in range(len(dense), len(P)) if i not in taken]
        idx = np.concatenate([idx, np.asarray(rest[: n - len(idx)], dtype=np.int64)])
    hv_chosen = subset_hypervolume(S, t.ref_point, idx)
    hv_prefs = subset_hypervolume(S, t.ref_point, np.arange(len(dense), len(P)))
    info = {"kind": "hv_subset", "queried": len(dense), "pooled": len(P), "selection": how,
            "hv_preferences": ev["hv"], "evaluations": t.evaluations,  # the query's included
            "split": "validation" if data else "evaluation"}
    if not hv_chosen > hv_prefs:  # greedy is not exact: never worse than the preference front
        info.update(kept="preferences", seconds=time.perf_counter() - t0)
        return {**ev, "extra": {**ev.get("extra", {}), "front": info}}
    Fi = _losses(t, P[idx], "eval")[0] if data else S[idx]
    info.update(kept="hv_subset", seconds=time.perf_counter() - t0)
    return {"prefs": P[idx].to(torch.float64).cpu().numpy(), "F": Fi,
            "X": None if X is None else X[idx],
            "hv": float("nan") if np.isnan(Fi).any() else metrics.hypervolume(Fi, t.ref_point),
            "igd": metrics.igd(Fi, t.reference_front) if t.reference_front is not None
            else float("nan"),
            "extra": {**ev.get("extra", {}), "front": info}}
