"""Reading finished (or running) studies: ``hybridmoo.load(path)``.

:class:`StudyData` exposes a study file's trials, learned fronts, HV traces and outer front as
numpy arrays or tidy pandas frames (one row per point), rebuilds any stored hypernetwork from
its configuration and weights (no trainer) to generate solutions for new preferences, and draws
the study front, the best ``n`` points of every kept hypernetwork (:mod:`hybridmoo.studyfront`).

>>> study = hybridmoo.load("results/quickstart.h5")          # doctest: +SKIP
>>> study.trials()                                            # doctest: +SKIP
>>> study.predict(trial_id=8, preference=[0.2, 0.8])          # doctest: +SKIP
>>> study.study_front(20).hv                                  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hybridmoo import methods, store
from hybridmoo.errors import ConfigError, ShapeError, StoreError, UnknownNameError
from hybridmoo.record import TrialResult

__all__ = ["LoadedHypernet", "StudyData", "load"]


class StudyData:
    """A study file (or a ``hybridmoo train`` result file), read-only.

    Args:
        path: the HDF5 file. Reading is safe while the study is still running: the file is
            opened only for each read, and a read that meets the writer's lock waits for it
            (the writer likewise waits for readers), so neither sees a half-written state.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        with store.open_checked(self.path) as f:
            self.attrs = {k: (v.item() if hasattr(v, "item") else v) for k, v in f.attrs.items()}
        self.kind = str(self.attrs.get("kind", "study"))
        if self.kind == "compare":
            raise StoreError(
                f"{self.path} is the output of `hybridmoo compare` (runs of methods, not trials "
                "of a study): `hybridmoo show` and `hybridmoo export` read it; its report and "
                "plots are redrawn by `hybridmoo compare COMPARE.toml --report-only`, and an "
                "interrupted comparison continues with `hybridmoo compare COMPARE.toml --resume`")
        store.check_structure(self.path)  # /trials, the fronts, the root JSON: StoreError
        self.problem_info = store.root_json(self.attrs, "problem", self.path, kind=self.kind)
        self.objective_names = store.root_json(self.attrs, "objectives", self.path, ["hv"],
                                               self.kind)

    # ----------------------------------------------------------------------------- listings
    def trial_ids(self) -> list[int]:
        """Ids of the complete trials."""
        return store.list_trials(self.path)[0]

    def partial_trials(self) -> list[str]:
        """Groups of trials left half-written by a crash (never used)."""
        return store.list_trials(self.path)[1]

    def trial(self, trial_id: int) -> TrialResult:
        """One trial as a :class:`~hybridmoo.train.TrialResult` (weights included if stored)."""
        ids = self.trial_ids()
        if trial_id not in ids:
            raise StoreError(
                f"{self.path}: no trial {trial_id}; recorded trials: "
                f"{_ranges(ids) or 'none'}"
            )
        return store.read_trial(self.path, trial_id)

    def trial_records(self) -> list[dict[str, Any]]:
        """One flat dict per trial: id, generation, status, error, HV, sizes, times, values."""
        rows = []
        with store.open_checked(self.path) as f:
            if "trials" not in f:
                raise store.damaged(self.path, "the /trials group (every recorded trial) is "
                                    "missing", self.kind)
            for key, g in f["trials"].items():
                if key.startswith(".") or not g.attrs.get("complete", False):
                    continue
                try:
                    rows.append(self._record(g))
                except (KeyError, ValueError) as exc:
                    raise store.damaged(self.path, f"trial {key} cannot be read ({exc})",
                                        self.kind) from None
        return sorted(rows, key=lambda r: r["trial_id"])

    @staticmethod
    def _record(g) -> dict[str, Any]:
        """The flat record of one complete trial group (KeyError/ValueError if damaged)."""
        a = g.attrs
        row = {"trial_id": int(a["trial_id"]), "generation": int(a["generation"]),
               "status": str(a["status"]), "error": str(a["error"]).split("\n")[0],
               "hv": float(a["hv"]), "igd": float(a["igd"]),
               "n_params": int(a["n_params"]),
               "n_target_params": int(a["n_target_params"]),
               "steps": int(a["steps"]), "train_time": float(a["train_time"]),
               "wall_time": float(a["wall_time"]), "node": str(a["node"]),
               "seed": int(a["seed"]), "has_weights": "weights" in g}
        if "values" in a:
            row.update(json.loads(a["values"]))
        if "outer_objectives" in a:
            for k, v in json.loads(a["outer_objectives"]).items():
                row[f"outer.{k}"] = v
        if "rung" in a:  # a multi-fidelity study: the highest rung the trial reached
            row["rung"] = int(json.loads(a["rung"]))
        lineage = json.loads(a["lineage"]) if "lineage" in a else None
        if lineage:  # a child of population-based training (inherit = "pbt")
            row.update({"parent": int(lineage["parent"]), "inherited_at_step":
                        int(lineage["step"]), "changed": json.dumps(lineage["changed"])})
        return row

    def lineage_records(self) -> list[dict[str, Any]]:
        """One dict per value a child of population-based training changed (``inherit =
        "pbt"``): ``trial_id``, ``parent``, ``replaces`` (the bottom trial whose place it took),
        ``rung`` (the first it trained to), ``step`` (the parent's step it took over),
        ``generation``, ``path`` and the ``parent_value`` / ``value``; a child whose mutation
        changed nothing has one row with ``path`` empty. Empty without inheritance."""
        rows = []
        for tid, a in sorted(store.read_trial_attrs(self.path).items()):
            lin = a.get("lineage")
            if not lin:
                continue
            base = {"trial_id": tid, **{k: lin[k] for k in ("parent", "replaces", "rung",
                                                            "step", "generation")}}
            changed = lin["changed"] or {"": [None, None]}
            for path, (old, new) in changed.items():
                rows.append({**base, "path": path, "parent_value": old, "value": new})
        return rows

    def lineage(self):
        """pandas DataFrame of :meth:`lineage_records`."""
        import pandas as pd

        return pd.DataFrame(self.lineage_records(), columns=[
            "trial_id", "parent", "replaces", "rung", "step", "generation", "path",
            "parent_value", "value"])

    def outer_front_ids(self) -> list[int]:
        """Trial ids on the outer Pareto front (empty for a ``train`` file)."""
        with store.open_checked(self.path) as f:
            if "outer_front" not in f:
                return []
            if "trial_ids" not in f["outer_front"]:
                raise store.damaged(self.path, "/outer_front has no trial_ids", self.kind)
            return [int(t) for t in f["outer_front/trial_ids"][()]]

    def best_trial(self, objective: str = "hv") -> int:
        """Id of the finished trial with the highest HV (or the given record key)."""
        ok = [r for r in self.trial_records() if r["status"] == "ok"]
        if not ok:
            raise StoreError(f"{self.path}: no finished trial yet")
        return max(ok, key=lambda r: r[objective])["trial_id"]

    # ----------------------------------------------------------------------------- tidy tables
    def trials(self):
        """pandas DataFrame of :meth:`trial_records` (one row per trial)."""
        return _frame(self.trial_records())

    def front_records(self, trial_ids: list[int] | None = None) -> list[dict[str, Any]]:
        """One dict per point of the learned fronts: trial_id, preference components
        (``pref_1``…), objectives under their names, decision variables (``x_1``…); for DYMU
        trials also the resource preference ``c``, the tree (``tree``, JSON parents per layer),
        its ``cost`` (active-parameter ratio) and ``flops`` (per example)."""
        names = self.problem_info.get("obj_names") or []
        rows = []
        for tid in trial_ids if trial_ids is not None else self.trial_ids():
            r = store.read_trial(self.path, tid, weights=False)
            m = r.F.shape[1]
            onames = names if len(names) == m else [f"f{i + 1}" for i in range(m)]
            for i in range(r.F.shape[0]):
                row = {"trial_id": tid, "point": i}
                row.update({f"pref_{j + 1}": float(r.prefs[i, j]) for j in range(m)})
                row.update({onames[j]: float(r.F[i, j]) for j in range(m)})
                if r.X is not None:
                    row.update({f"x_{j + 1}": float(r.X[i, j]) for j in range(r.X.shape[1])})
                if r.ok:
                    row.update(methods.get(r.method).front_columns(r, i))
                rows.append(row)
        return rows

    def fronts(self, trial_ids: list[int] | None = None):
        """pandas DataFrame of :meth:`front_records`."""
        return _frame(self.front_records(trial_ids))

    def trace_records(self, trial_ids: list[int] | None = None) -> list[dict[str, Any]]:
        """One dict per HV-trace point: trial_id and the trace columns (steps, seconds,
        samples, evaluations, hv, igd, loss)."""
        rows = []
        for tid in trial_ids if trial_ids is not None else self.trial_ids():
            tr = store.read_trial(self.path, tid).trace
            for i in range(len(tr["steps"])):
                rows.append({"trial_id": tid, **{k: float(v[i]) for k, v in tr.items()}})
        return rows

    def traces(self, trial_ids: list[int] | None = None):
        """pandas DataFrame of :meth:`trace_records`."""
        return _frame(self.trace_records(trial_ids))

    def outer_front_records(self) -> list[dict[str, Any]]:
        """The trial records of the outer Pareto front."""
        front = set(self.outer_front_ids())
        return [r for r in self.trial_records() if r["trial_id"] in front]

    def outer_front(self):
        """pandas DataFrame of :meth:`outer_front_records`."""
        return _frame(self.outer_front_records())

    # ----------------------------------------------------------------------------- study front
    def study_front(self, n: int | None = None, density: int | None = None, *,
                    refine: int = 20000, exact: int = 5000, polish: int | None = None,
                    time_limit: float | None = None):
        """The study front: ``n`` points chosen by greedy hypervolume contribution from the
        dense fronts of every kept hypernetwork (:mod:`hybridmoo.studyfront`).

        Args:
            n: number of points (default: the trials' evaluation-front size, ``n_eval``).
            density: preferences queried per point and network (default 20; data-driven
                problems: 1, their stored evaluation fronts — see :mod:`hybridmoo.studyfront`).
            refine, exact: the selection's exchange budget and exhaustive-search limit (see
                :func:`~hybridmoo.studyfront.build_study_front`).
            polish: rounds of local search in preference space around the chosen points
                (default :data:`~hybridmoo.studyfront.POLISH`; 0: the pool's points only).
            time_limit: seconds the build may take; the exchanges and the polish stop once
                they are spent (the query and the greedy selection always run; None: no limit).

        Returns:
            A :class:`~hybridmoo.studyfront.StudyFront`: ``F`` `(k, m)`, ``X`` or ``None``,
            ``trial_ids`` `(k,)`, ``prefs`` `(k, m)`, ``hv``, ``seconds`` (build time), …

        Raises:
            StoreError: no finished hypernetwork trial has stored weights.
        """
        from hybridmoo.studyfront import build_study_front

        return build_study_front(self, n, density, refine=refine, exact=exact, polish=polish,
                                 time_limit=time_limit)

    # ----------------------------------------------------------------------------- predict
    def hypernetwork(self, trial_id: int) -> LoadedHypernet:
        """The trained hypernetwork of a trial, rebuilt from its stored configuration and
        weights (no trainer: the target template, the hypernetwork and the task that evaluates
        generated parameters; on the CPU).

        Raises:
            StoreError: if the trial's weights were not stored (``keep_weights``), the trial
                trained a DYMU controller, or the stored weights do not fit the network.
        """
        r = self._trained(trial_id)
        if not methods.get(r.method).hypernetwork:
            raise StoreError(f"trial {trial_id} trained {methods.get(r.method).summary}, not a "
                             "hypernetwork: use StudyData.dymu(trial_id), or "
                             "predict(trial_id, preference, c)")
        return self._rebuild(trial_id, r)

    def _rebuild(self, trial_id: int, r: TrialResult) -> LoadedHypernet:
        """:meth:`hypernetwork` for an already read trial ``r`` (weights included)."""
        from types import SimpleNamespace

        from hybridmoo import preferences
        from hybridmoo.hypernet import HypernetConfig, Hypernetwork
        from hybridmoo.tasks import VectorTask

        problem = _problem(self.problem_info)
        train_cfg = dict(r.train)
        dtype = torch.float64 if train_cfg.get("dtype") == "float64" else torch.float32
        # the seeded template, as the trainer built it (a template's buffers are used as-is)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(r.seed))
            if hasattr(problem, "make_task"):  # a data problem: the target module, the splits
                task = problem.make_task(SimpleNamespace(**train_cfg), dtype=dtype,
                                         device="cpu")
            else:
                task = VectorTask(problem, dtype=dtype, device="cpu")
            hcfg = HypernetConfig.from_stored(r.hypernet, (r.extra or {}).get("hypernet_built"))
            net = Hypernetwork(problem.n_obj, task.target, hcfg).to("cpu", dtype)
        state = {k: torch.as_tensor(np.asarray(v)) for k, v in r.state_dict.items()}
        try:
            net.load_state_dict(state)
        except RuntimeError as exc:  # missing or misshapen tensors: the file was damaged
            raise store.damaged(self.path, f"the stored weights of trial {trial_id} do not fit "
                                f"its hypernetwork ({str(exc).splitlines()[-1].strip()})",
                                self.kind) from None
        net.eval()
        sampler = dict(train_cfg.get("sampler") or {"name": "dirichlet"})
        on_simplex = preferences.from_dict({**sampler, "n_obj": problem.n_obj}).on_simplex
        return LoadedHypernet(trial_id=trial_id, net=net, task=task, problem=problem,
                              dtype=dtype, on_simplex=bool(on_simplex),
                              ref_point=np.asarray(r.ref_point, dtype=np.float64))

    def _trained(self, trial_id: int) -> TrialResult:
        """The trial with its weights; StoreError if it failed or its weights were dropped."""
        r = self.trial(trial_id)
        if not r.ok:
            raise StoreError(f"trial {trial_id} failed ({r.error.splitlines()[0]}); it has no "
                             "trained model")
        if not r.state_dict:
            front = self.outer_front_ids()
            raise StoreError(
                f"trial {trial_id} has no stored weights (the study keeps the weights of the "
                f"outer front by default: trials {_ranges(front) or 'none'}; set "
                "resources.keep_weights = \"all\" to keep every trial's)"
            )
        return r

    def dymu(self, trial_id: int):
        """The trained DYMU controller (:class:`hybridmoo.dymu.Dymu`) of a DYMU trial and the
        problem's tensors: ``(model, data)``.

        Raises:
            StoreError: not a DYMU trial, a failed trial, or weights not stored.
        """
        return self._dymu_of(trial_id, self._trained(trial_id))

    def _dymu_of(self, trial_id: int, r: TrialResult):
        from hybridmoo.dymu import build_dymu, dymu_data

        if methods.get(r.method).hypernetwork:
            raise StoreError(f"trial {trial_id} trained a hypernetwork, not a DYMU controller: "
                             "use StudyData.hypernetwork(trial_id)")
        data = dymu_data(_problem(self.problem_info))
        data.ref_point = np.asarray(r.ref_point, dtype=np.float64)
        try:
            return build_dymu(data, r.hypernet, r.seed, state=r.state_dict), data
        except RuntimeError as exc:  # missing or misshapen tensors: the file was damaged
            raise store.damaged(self.path, f"the stored weights of trial {trial_id} do not fit "
                                f"its DYMU controller ({str(exc).splitlines()[-1].strip()})",
                                self.kind) from None

    def predict(self, trial_id: int, preference, c: float | None = None) -> dict[str, Any]:
        """Generate the solution of one preference with a stored hypernetwork or DYMU trial.

        Args:
            trial_id: the trial. preference: `(m,)` non-negative, summing to 1.
            c: DYMU trials only: the resource preference in [0, 1] (default: the trial's own).

        Returns:
            ``{"preference", "objectives", "objective_names", "x" (synthetic) or "metrics",
            "params" (the generated parameters as tensors)}``; for a DYMU trial
            ``{"preference", "c", "objectives", "objective_names", "tree" ((L, N) parents),
            "cost", "flops", "metrics"}``.
        """
        method = methods.get(self.trial_method(trial_id))
        if not method.hypernetwork:
            return method.predict(self, trial_id, preference, c=c)
        if c is not None:
            raise ConfigError(f"c = {c!r}: the resource preference applies to DYMU trials only; "
                              f"trial {trial_id} trained a hypernetwork")
        model = self.hypernetwork(trial_id)
        p = _check_pref(preference, model.problem.obj_names)
        if model.on_simplex:
            if abs(p.sum() - 1.0) > 1e-6:
                raise ShapeError(f"the preference must sum to 1 (a point of the simplex), "
                                 f"it sums to {p.sum():.6g}; e.g. divide by its sum")
        else:
            p = p / np.linalg.norm(p)  # sphere-sampled (HV-PSL) nets take unit directions
        ev = model.evaluate(p[None, :], extra=True)
        out = {"preference": p, "objectives": ev["F"][0],
               "objective_names": list(model.problem.obj_names),
               "params": {k: v[0] for k, v in ev["params"].items()}}
        if ev["X"] is not None:
            out["x"] = ev["X"][0]
        if "metrics" in ev:
            out["metrics"] = ev["metrics"]
        return out

    def trial_method(self, trial_id: int) -> str:
        """The name of the trial's method (:func:`hybridmoo.methods.get`): what it trained."""
        if trial_id not in self.trial_ids():
            self.trial(trial_id)  # raises the StoreError that lists the recorded trials
        return store.read_trial(self.path, trial_id, weights=False).method

    def _predict_dymu(self, trial_id: int, preference, c: float | None) -> dict[str, Any]:
        r = self._trained(trial_id)
        model, data = self._dymu_of(trial_id, r)
        names = list(self.problem_info.get("obj_names") or [f"f{i + 1}" for i in
                                                              range(data.n_tasks)])
        p = _check_pref(preference, names)
        if abs(p.sum() - 1.0) > 1e-6:
            raise ShapeError(f"the preference must sum to 1 (a point of the simplex), it sums "
                             f"to {p.sum():.6g}; e.g. divide by its sum")
        c = float(r.train["c"] if c is None else c)
        if not 0.0 <= c <= 1.0:
            raise ConfigError(f"c = {c!r} is invalid: expected the resource preference in "
                              "[0, 1] (1: the most frugal model)")
        ev = model.evaluate(data, p[None, :], c)
        metrics_ = {} if ev.accuracy is None else {
            f"accuracy_{n}": float(a) for n, a in zip(names, ev.accuracy[0], strict=True)}
        return {"preference": p, "c": c, "objectives": ev.F[0], "objective_names": names,
                "tree": ev.parents[0], "cost": float(ev.cost[0]), "flops": float(ev.flops[0]),
                "metrics": metrics_}


class LoadedHypernet:
    """A stored hypernetwork rebuilt for prediction (:meth:`StudyData.hypernetwork`).

    Attributes:
        trial_id: its trial. net: the :class:`~hybridmoo.hypernet.Hypernetwork` (eval mode,
            CPU). task: what evaluates generated parameters (the problem itself for synthetic
            problems; the target module and the evaluation split for data problems).
        problem: the problem. dtype: the network's dtype. on_simplex: whether it takes
            preferences on the simplex (else unit directions, HV-PSL).
        ref_point: `(m,)` the trial's reference point.
    """

    def __init__(self, *, trial_id: int, net, task, problem, dtype: torch.dtype,
                 on_simplex: bool, ref_point: np.ndarray) -> None:
        self.trial_id, self.net, self.task, self.problem = trial_id, net, task, problem
        self.dtype, self.on_simplex, self.ref_point = dtype, on_simplex, ref_point

    @torch.no_grad()
    def evaluate(self, prefs, extra: bool = False, split: str = "evaluation") -> dict[str, Any]:
        """One forward pass for preferences `(K, m)` (used as given) and their objectives
        (``split = "validation"``: a data problem's validation losses instead).

        Returns:
            ``{"F": (K, m) float64, "X": (K, n_var) float64 or None, "params": {name: (K,
            ...)} tensors}``; with ``extra`` also ``"metrics"`` where the task reports more
            (per-task accuracies of a classifier).
        """
        P = torch.as_tensor(np.asarray(prefs, dtype=np.float64), dtype=self.dtype)
        params = self.net(P)
        losses = self.task.select_losses if split == "validation" else self.task.eval_losses
        F = losses(params).detach().to(torch.float64).cpu().numpy()
        X = self.task.decision_vectors(params)
        out = {"F": F, "params": params,
               "X": None if X is None else X.detach().to(torch.float64).cpu().numpy()}
        if extra and hasattr(self.task, "eval_extra"):
            out["metrics"] = self.task.eval_extra(params)
        return out


def _check_pref(preference, names) -> np.ndarray:
    """The preference as a float array; ShapeError for a wrong length or negative values."""
    m = len(names)
    p = np.asarray(preference, dtype=np.float64).reshape(-1)
    if p.size != m:
        raise ShapeError(f"the preference has {p.size} components; this problem has {m} "
                         f"objectives ({', '.join(names)})")
    if (p < 0).any() or not np.isfinite(p).all():
        raise ShapeError(f"preference components must be finite and ≥ 0, got {p.tolist()}")
    return p


def _problem(info: dict):
    """The problem a stored file describes; a user's problem (an import path) is imported from
    the folder recorded when the study ran, when that folder still exists."""
    from hybridmoo import problems

    name = info.get("import_path") or info["name"]
    folder = info.get("import_folder")
    if folder and Path(folder).is_dir():
        from hybridmoo.usercode import add_import_folder

        add_import_folder(folder)
    try:
        return problems.get(name, **info.get("options", {}))
    except UnknownNameError as exc:
        if not folder:
            raise
        where = "" if Path(folder).is_dir() else " (which no longer exists)"
        raise UnknownNameError(f"{exc} The study imported it from {folder}{where}.") from None


def _frame(rows: list[dict]):
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        raise ImportError("pandas is needed for data frames: pip install pandas") from None
    return pd.DataFrame(rows)


def _ranges(ids: list[int]) -> str:
    """'0-7, 9, 12-13' for a sorted id list."""
    out, start, prev = [], None, None
    for i in sorted(ids):
        if start is None:
            start = prev = i
        elif i == prev + 1:
            prev = i
        else:
            out.append(f"{start}-{prev}" if prev > start else str(start))
            start = prev = i
    if start is not None:
        out.append(f"{start}-{prev}" if prev > start else str(start))
    return ", ".join(out)


def load(path: str | os.PathLike) -> StudyData:
    """Open a study file written by hybridmoo (see :class:`StudyData`)."""
    return StudyData(path)
