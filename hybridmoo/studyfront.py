"""The study front: the best ``n`` points drawn from every kept hypernetwork of a study.

A study's answer is not only its best trial's front. Each kept hypernetwork (a finished trial
whose weights are stored) is queried densely — at ``density × n`` preferences of a
deterministic lattice (:func:`hybridmoo.preferences.eval_preferences`, the simplex or, for
sphere-sampled HV-PSL networks, unit directions) plus the trial's own evaluation preferences —
the points of all of them are pooled, the non-dominated ones kept (moocore) and ``n`` of them
selected by greedy hypervolume contribution (:func:`hybridmoo.subset.greedy_hv_subset`, at
least (1 − 1/e) of the best subset's HV), then improved by single exchanges
(:func:`hybridmoo.subset.swap_refine`, at most 20,000 hypervolume evaluations); a pool with
at most 5,000 subsets of size ``n`` is searched exhaustively instead. Several
models can then cover what one continuous model cannot, e.g. a front in disconnected pieces.

A polish then moves the chosen points below the lattice's resolution (``polish`` rounds,
default :data:`POLISH`): each round queries every chosen point's own network at
preferences around the point's and exchanges points for better neighbours, so the front's
points need not lie in the pool (problems with decision vectors only).

Neither step is exact, so a kept trial's own evaluation front of at most ``n`` points
with a higher HV than the greedy pick is taken instead (:attr:`StudyFront.source` says which):
the study front is never worse than the best kept trial at equal ``n``.

**Data-driven problems** (``problem.kind == "data"``, e.g. Multi-MNIST): a point's objectives
are the held-out losses of the generated network on the problem's evaluation split, one pass
over that split per preference, so a dense query costs ``density × n`` such passes per trial.
By default (``density=None``) these problems therefore pool the stored evaluation fronts of
the kept trials (``density = 1``: the points the trainer already evaluated at its evaluation
preferences, which the rebuilt network reproduces exactly); pass ``density > 1`` to query
them densely anyway. Where the problem has a validation split (the Multi-MNIST family,
``tabular_sparsity``, ``from_model`` given ``val``), every pooled point is also evaluated
there (one validation pass per trial and ``n`` preferences) and the points — and the "never
worse than a kept trial" comparison — are chosen on the validation losses, so the evaluation
split only reports (:attr:`StudyFront.split`). Without one the selection uses the split the HV
reports, as the outer loop's choice of the best trial does: an in-sample figure.

Nothing is written to the study file: the front is rebuilt on each call (seconds for the
synthetic problems; :attr:`StudyFront.seconds` says how long).

>>> sf = hybridmoo.load("results/quickstart.h5").study_front(20)   # doctest: +SKIP
>>> sf.hv, sf.F.shape, sf.trial_ids[:3]                              # doctest: +SKIP
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import moocore
import numpy as np

from hybridmoo.errors import ConfigError, StoreError
from hybridmoo.subset import select_front, subset_hypervolume

__all__ = ["DATA_DENSITY", "DENSITY", "POLISH", "StudyFront", "build_study_front",
           "estimate_seconds"]

#: default query density (preferences per point of the front) of problems with decision vectors
DENSITY = 20
#: default density of data-driven problems: their stored evaluation fronts (no forward passes)
DATA_DENSITY = 1
#: preferences per forward pass of a problem with decision vectors
_CHUNK = 512
#: default rounds of the selection's local search in preference space (``polish``)
POLISH = 10
#: preferences tried around each chosen point per round
_POLISH_SAMPLES = 16
#: factor of the polish's step from one round to the next (on the shipped DTLZ2, ZDT2 and RE37
#: studies 10 rounds at 0.8 add 7·10⁻⁶ to 8·10⁻⁵ of HV over the 3 rounds at 0.5 before, for
#: 0.5–1.2 s more: README, "The study front")
_POLISH_DECAY = 0.8
#: hypervolume evaluations of the lazy greedy selection per pooled point (measured: 5.9 on the
#: shipped DTLZ2 study's pool of 8,904 points)
_GREEDY_EVALS = 6


def estimate_seconds(n_models: int, n: int, m: int, density: int = DENSITY, *,
                     refine: int = 20000, polish: int = POLISH) -> float:
    """Rough seconds the selection of a study front takes on this machine, for planning a
    time budget (e.g. what a search keeps back for its study front).

    Counts the hypervolume evaluations — :data:`_GREEDY_EVALS` per pooled point for the greedy
    selection, ``refine`` for the exchanges and each polish round — and times a few of
    ``n / 2`` points (the greedy's average selection) with ``m`` objectives here; the
    networks' queries (cheap on problems with decision vectors) and a data problem's passes
    are not counted.

    Args:
        n_models: kept hypernetworks. n: the front's points. m: objectives.
        density, refine, polish: as :func:`build_study_front`'s.
    """
    # points on the simplex are mutually non-dominated, as the greedy's selections are
    pts = np.random.default_rng(0).dirichlet(np.ones(m), size=max(n // 2, 2))
    hv = moocore.Hypervolume(ref=np.ones(m))
    times = []
    for _ in range(5):  # (batches of 20: one call is too short to time steadily)
        t0 = time.perf_counter()
        for _ in range(20):
            hv(pts)
        times.append((time.perf_counter() - t0) / 20)
    evals = _GREEDY_EVALS * n_models * (density + 1) * n + refine * (1 + polish)
    return evals * float(np.median(times))


@dataclass
class StudyFront:
    """The study front of :func:`build_study_front` (``StudyData.study_front(n)``).

    Attributes:
        F: `(k, m)` objective vectors (minimised), in the order they were selected (each adds
            the most HV to those before it); ``k ≤ n`` (fewer when fewer points contribute).
        X: `(k, n_var)` decision vectors, or ``None`` (data problems: network weights, served
            by ``StudyData.predict(trial_id, preference)``).
        trial_ids: `(k,)` the trial whose hypernetwork produced each point.
        prefs: `(k, m)` the preference that produced each point in that trial's network.
        hv: hypervolume of ``F`` with ``ref_point``. ref_point: `(m,)`.
        seconds: wall-clock seconds the whole build took (reading the weights, rebuilding and
            querying the networks, pooling, selecting).
        n: the size asked for. density: preferences queried per point (1: the stored fronts).
        n_pooled: points pooled from all trials. n_nondominated: of them, non-dominated.
        trials: the kept trials pooled (their ids).
        trial_hv: ``{trial_id: HV of its own stored front}`` of the pooled trials.
        source: ``"greedy"`` (greedy and exchanges), ``"exact"`` (exhaustive search of a small
            pool), or ``"trial T"`` when trial T's own front (≤ n points) had the
            higher HV and was taken instead.
        objective_names: the objectives' names.
        split: what the selection saw: ``"evaluation"`` (the objectives reported) or
            ``"validation"`` (a data problem's validation losses; ``F`` and ``hv`` stay the
            evaluation split's).
    """

    F: np.ndarray
    X: np.ndarray | None
    trial_ids: np.ndarray
    prefs: np.ndarray
    hv: float
    ref_point: np.ndarray
    seconds: float
    n: int
    density: int
    n_pooled: int
    n_nondominated: int
    trials: list[int] = field(default_factory=list)
    trial_hv: dict[int, float] = field(default_factory=dict)
    source: str = "greedy"
    objective_names: list[str] = field(default_factory=list)
    split: str = "evaluation"

    def __len__(self) -> int:
        return int(self.F.shape[0])

    def records(self) -> list[dict[str, Any]]:
        """One dict per point: ``point`` (selection order), ``trial_id``, ``pref_1…pref_m``,
        the objectives under their names, ``x_1…x_n`` where there are decision vectors."""
        m = self.F.shape[1]
        names = self.objective_names if len(self.objective_names) == m else \
            [f"f{j + 1}" for j in range(m)]
        rows = []
        for i in range(len(self)):
            row: dict[str, Any] = {"point": i, "trial_id": int(self.trial_ids[i])}
            row.update({f"pref_{j + 1}": float(self.prefs[i, j]) for j in range(m)})
            row.update({names[j]: float(self.F[i, j]) for j in range(m)})
            if self.X is not None:
                row.update({f"x_{j + 1}": float(self.X[i, j]) for j in range(self.X.shape[1])})
            rows.append(row)
        return rows

    def to_frame(self):
        """pandas DataFrame of :meth:`records`."""
        import pandas as pd

        return pd.DataFrame(self.records())


def _check_int(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ConfigError(f"study_front: {name} = {value!r} is invalid: expected an integer "
                          f"≥ {low}")
    return int(value)


def build_study_front(data, n: int | None = None, density: int | None = None, *,
                      refine: int = 20000, exact: int = 5000,
                      polish: int | None = None, time_limit: float | None = None) -> StudyFront:
    """The study front of a study (see the module docstring).

    Args:
        data: a :class:`~hybridmoo.analysis.StudyData`.
        n: number of points (default: the size of the largest kept trial's evaluation front,
            i.e. the study's ``train.n_eval``).
        density: preferences queried per point, ``density × n`` per kept network (default
            :data:`DENSITY`; :data:`DATA_DENSITY` for data-driven problems, whose stored
            fronts are pooled as they are).
        refine: cap on the hypervolume evaluations of the exchange step that improves the
            greedy selection (:func:`hybridmoo.subset.swap_refine`; 0: greedy only).
        exact: when the non-dominated pool has at most this many ``n``-subsets, all are scored
            and the best is taken (:func:`hybridmoo.subset.exact_hv_subset`; 0: never).
        polish: rounds of local search in preference space after the selection (default
            :data:`POLISH`; 0: none; see
            :func:`_polish`); problems with decision vectors (on a data problem every query is
            a pass over its evaluation split), greedy selections only.
        time_limit: seconds the build may take (None: no limit). The query and the greedy
            selection always run; the exchanges and the polish stop once the time is spent,
            so the front may be a little worse than without a limit, never worse than greedy,
            and, unlike an unlimited build, depends on the machine's speed.

    Raises:
        StoreError: no finished trial with stored weights (the fix: ``keep_weights``).
        ConfigError: ``n`` or ``density`` not an integer ≥ 1.
    """
    t0 = time.perf_counter()
    if time_limit is not None and not time_limit >= 0:
        raise ConfigError(f"study_front: time_limit = {time_limit!r} is invalid: expected "
                          "seconds ≥ 0 or None")
    deadline = None if time_limit is None else t0 + float(time_limit)
    if n is not None:
        n = _check_int("n", n, 1)
    is_data = data.problem_info.get("kind") == "data"
    if density is None:
        density = DATA_DENSITY if is_data else DENSITY
    density = _check_int("density", density, 1)
    polish = _check_int("polish", POLISH if polish is None else polish, 0)
    from hybridmoo import methods, store

    kept, others = [], 0
    for tid in data.trial_ids():
        r = store.read_trial(data.path, tid)
        if not (r.ok and r.state_dict):
            continue
        # hypernetworks only: a DYMU controller's points also depend on its resource preference
        if methods.get(r.method).hypernetwork:
            kept.append((tid, r))
        else:
            others += 1
    if not kept and others:
        raise StoreError(
            f"{data.path}: its {others} kept trial(s) trained no hypernetwork (e.g. DYMU "
            "controllers, whose points also depend on the resource preference c); a study front "
            "pools hypernetworks only (read such a trial with StudyData.predict(trial, "
            "preference, c))")
    if not kept:
        raise StoreError(
            f"{data.path}: no finished hypernetwork trial has stored weights, so there is no "
            "model to draw a study front from; run the study with resources.keep_weights = "
            "\"all\" (or the default \"front\", which keeps the outer front's weights)")
    if n is None:
        n = max(len(r.F) for _, r in kept)
    _, best = max(kept, key=lambda t: t[1].hv if np.isfinite(t[1].hv) else -np.inf)
    ref = np.asarray(best.ref_point, dtype=np.float64)
    Fs, Xs, Ts, Ps, Ss, own_rows, start = [], [], [], [], [], {}, 0
    models = {}  # the rebuilt networks of a dense query, for the polish
    val = None if is_data else False  # a data problem with a validation split chooses there
    for tid, r in kept:
        chunk = max(len(r.prefs), 1) if is_data else _CHUNK
        model = data._rebuild(tid, r) if density > 1 or val is not False else None
        if val is None:  # (the problem's splits: the first trial's rebuilt task says)
            val = bool(getattr(model.task, "has_selection", False))
        if density == 1:  # the stored evaluation front (what the network gives there)
            F, X, P = np.asarray(r.F, float), r.X, np.asarray(r.prefs, float)
        else:
            F, X, P = _query(model, r, n * density, chunk=chunk)
            models[tid] = model
        if val:
            Ss.append(_evaluate(model, P, chunk, split="validation")[0])
        start += len(F)
        own_rows[tid] = np.arange(start - len(r.F), start)  # the rows of its own preferences
        Fs.append(F)
        Xs.append(X)
        Ts.append(np.full(len(F), tid, dtype=np.int64))
        Ps.append(P)
    F = np.vstack(Fs)
    S = np.vstack(Ss) if val else F  # what the selection sees
    X = None if any(x is None for x in Xs) else np.vstack([np.asarray(x, float) for x in Xs])
    T, P = np.concatenate(Ts), np.vstack(Ps)
    idx, how = select_front(S, ref, n, refine=refine, exact=exact, deadline=deadline)
    if polish and how == "greedy" and not is_data and models and len(idx):
        F, X, T, P, idx = _polish(models, F, X, T, P, idx, ref, density, refine, polish,
                                  deadline)
        S = F
    n_pooled = len(F)
    finite = np.isfinite(S).all(axis=1)
    nd = np.zeros(n_pooled, dtype=bool)
    if finite.any():
        nd[np.nonzero(finite)[0][moocore.is_nondominated(S[finite])]] = True
    hv = subset_hypervolume(F, ref, idx)
    trial_hv = {tid: subset_hypervolume(r.F, ref, np.arange(len(r.F))) for tid, r in kept}
    out = {"F": F[idx], "X": None if X is None else X[idx], "trial_ids": T[idx],
           "prefs": P[idx], "hv": float(hv), "source": how}
    by_id = dict(kept)
    chosen = subset_hypervolume(S, ref, idx) if val else hv
    scores = {tid: subset_hypervolume(S, ref, own_rows[tid]) for tid in trial_hv} if val else \
        trial_hv
    own = [(h, tid) for tid, h in scores.items() if len(by_id[tid].F) <= n]
    if own and max(own)[0] > chosen:  # greedy is not exact: never worse than a kept trial
        tid = max(own)[1]
        h = trial_hv[tid]
        r = by_id[tid]
        out = {"F": np.asarray(r.F, float), "X": None if r.X is None else np.asarray(r.X, float),
               "trial_ids": np.full(len(r.F), tid, dtype=np.int64),
               "prefs": np.asarray(r.prefs, float), "hv": float(h), "source": f"trial {tid}"}
    return StudyFront(**out, ref_point=ref, seconds=time.perf_counter() - t0, n=n,
                      density=density, n_pooled=n_pooled, n_nondominated=int(nd.sum()),
                      trials=[t for t, _ in kept], trial_hv=trial_hv,
                      objective_names=_names(data, F.shape[1]),
                      split="validation" if val else "evaluation")


def _polish(models: dict, F, X, T, P, idx, ref, density: int, refine: int, rounds: int,
            deadline: float | None = None):
    """Local search in preference space: the selection moves below the pool's resolution.

    Each round queries every chosen point's own network at :data:`_POLISH_SAMPLES`
    preferences around the point's preference (Gaussian steps of half the query lattice's
    spacing, times :data:`_POLISH_DECAY` each round, put back on the simplex or the unit
    sphere), adds the points to the pool and improves the selection by exchanges with each
    point's nearest candidates (the new points; :func:`~hybridmoo.subset.swap_refine` without
    its wide phase). The random steps come from a fixed seed, so the same study gives the same
    front. No round starts after ``deadline`` (a :func:`time.perf_counter` time), whose
    exchanges also stop there. Returns the grown pool ``(F, X, T, P)`` and the selection's
    indices into it; its HV is never lower.
    """
    from hybridmoo.subset import swap_refine

    rng = np.random.default_rng(0)
    n, m = len(idx), P.shape[1]
    step = 0.5 * float(density * n) ** (-1.0 / max(m - 1, 1))
    for _ in range(rounds):
        if deadline is not None and time.perf_counter() >= deadline:
            break
        grown = []
        for tid, model in models.items():
            rows = idx[T[idx] == tid]
            if not len(rows):
                continue
            Q = np.repeat(P[rows], _POLISH_SAMPLES, axis=0)
            Q = np.clip(Q + step * rng.standard_normal(Q.shape), 0.0, None)
            norm = Q.sum(axis=1) if model.on_simplex else np.linalg.norm(Q, axis=1)
            Q = Q[norm > 0] / norm[norm > 0, None]
            if not len(Q):
                continue
            Fq, Xq = _evaluate(model, Q, _CHUNK)
            grown.append((Fq, Xq, np.full(len(Q), tid), Q))
        if not grown:
            break
        F = np.vstack([F, *[g[0] for g in grown]])
        X = None if X is None or any(g[1] is None for g in grown) else \
            np.vstack([X, *[g[1] for g in grown]])
        T = np.concatenate([T, *[g[2] for g in grown]])
        P = np.vstack([P, *[g[3] for g in grown]])
        idx = swap_refine(F, ref, idx, max_evals=refine, wide=False, deadline=deadline)
        step *= _POLISH_DECAY
    return F, X, T, P, idx


def _names(data, m: int) -> list[str]:
    names = list(data.problem_info.get("obj_names") or [])
    return names if len(names) == m else [f"f{j + 1}" for j in range(m)]


def _query(model, r, count: int, chunk: int = _CHUNK
           ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """A rebuilt network's points at ``count`` lattice preferences and its own evaluation
    preferences: ``(F (N, m), X (N, n_var) or None, prefs (N, m))``, ``chunk`` preferences per
    forward pass (a data problem's task sizes its evaluation batches for the trial's
    ``n_eval`` networks at once, so it is queried that many at a time)."""
    from hybridmoo import preferences

    m = model.problem.n_obj
    lattice = preferences.eval_preferences(m, count, kind="simplex" if model.on_simplex
                                           else "sphere").double().numpy()
    P = np.vstack([lattice, np.asarray(r.prefs, dtype=np.float64).reshape(-1, m)])
    F, X = _evaluate(model, P, chunk)
    return F, X, P


def _evaluate(model, P: np.ndarray, chunk: int, **kw) -> tuple[np.ndarray, np.ndarray | None]:
    """A rebuilt network's points at preferences ``P`` `(N, m)`, ``chunk`` per forward pass:
    ``(F (N, m), X (N, n_var) or None)``; ``kw`` goes to ``model.evaluate`` (e.g. ``split``)."""
    evs = [model.evaluate(P[s: s + chunk], **kw) for s in range(0, len(P), chunk)]
    X = None if evs[0]["X"] is None else np.vstack([e["X"] for e in evs])
    return np.vstack([e["F"] for e in evs]), X
