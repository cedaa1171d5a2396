"""The front a training run returns: the evaluation preferences' points, or the best n points
of a dense query chosen by hypervolume (``train.front``).

``front = "preferences"`` (default): the network's points at the ``n_eval`` evaluation
preferences (evenly spread rays or a Das–Dennis lattice): each point is the answer to its
preference, which is what a user steering the model asks for. But a fixed set of preferences
is not where n points add the most hypervolume: a Tchebycheff front read at an even lattice
crowds some regions (DTLZ2's 105-lattice caps the HV of a perfectly converged model at 0.692,
below what 100 points chosen for HV reach).

``front = "hv_subset"``: after training, the network is read at ``front_density × n_eval``
evenly spread preferences plus the evaluation preferences, the non-dominated points inside the
reference box are pooled, and ``n_eval`` of them are chosen by greedy hypervolume contribution
improved by exchanges (:func:`hybridmoo.subset.select_front`; Guerreiro, Fonseca & Paquete
2016). Every chosen point keeps its preference (``result.prefs``), so the front stays
steerable. The query's evaluations are true evaluations on a black box: they count, and an
``evaluations`` budget keeps room for them (training stops that many evaluations early). The
HV trace holds the preference front's HV during training; the result's HV is the chosen
front's, never below the preference front's (that one is kept when the greedy choice is not
better), and ``result.extra["front"]`` says what was done (``evaluations``: the run's total,
the query's included; ``seconds``: the query and selection's wall time, which, like every
evaluation, a ``seconds`` budget does not count).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from hybridmoo import metrics, preferences
from hybridmoo.subset import select_front, subset_hypervolume

__all__ = ["FRONTS", "hv_subset_front", "query_cost"]

#: the values of ``train.front``
FRONTS = ("preferences", "hv_subset")


def query_cost(cfg) -> int:
    """Evaluations an ``evaluations`` budget keeps for the end: the last evaluation of the
    ``n_eval`` preferences and the ``hv_subset`` query (0 for ``preferences``)."""
    return (cfg.front_density + 1) * cfg.n_eval if cfg.front == "hv_subset" else 0


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
    Fs, Xs = [], []
    for s in range(0, len(dense), n):  # a data task sizes its evaluation for n_eval networks
        params = t.net(dense[s: s + n])
        Fs.append(t.task.eval_losses(params).to(torch.float64).cpu().numpy())
        X = t.task.decision_vectors(params)
        Xs.append(None if X is None else X.to(torch.float64).cpu().numpy())
    # the evaluation preferences' points are ev's (evaluated already: not paid twice)
    P = torch.cat([dense, t.eval_prefs])
    F = np.vstack([*Fs, ev["F"]])
    X = None if Xs[0] is None or ev["X"] is None else np.vstack([*Xs, ev["X"]])
    idx, how = select_front(F, t.ref_point, n)
    hv = subset_hypervolume(F, t.ref_point, idx)
    info = {"kind": "hv_subset", "queried": len(dense), "pooled": len(P), "selection": how,
            "hv_preferences": ev["hv"], "evaluations": t.evaluations,  # the query's included
            "seconds": time.perf_counter() - t0}  # not in train_time: like any evaluation
    if not hv > ev["hv"]:  # greedy is not exact: never worse than the preference front
        return {**ev, "extra": {**ev.get("extra", {}), "front": {**info, "kept": "preferences"}}}
    Fi = F[idx]
    return {"prefs": P[idx].to(torch.float64).cpu().numpy(), "F": Fi,
            "X": None if X is None else X[idx], "hv": float(hv),
            "igd": metrics.igd(Fi, t.reference_front) if t.reference_front is not None
            else float("nan"),
            "extra": {**ev.get("extra", {}), "front": {**info, "kept": "hv_subset"}}}
