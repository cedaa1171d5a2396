"""Reading finished (or running) studies: ``hybridmoo.load(path)``.

:class:`StudyData` exposes a study file's trials, learned fronts, HV traces and outer front as
numpy arrays or tidy pandas frames (one row per point), and rebuilds any stored hypernetwork to
generate solutions for new preferences.

>>> study = hybridmoo.load("results/quickstart.h5")          # doctest: +SKIP
>>> study.trials()                                            # doctest: +SKIP
>>> study.predict(trial_id=8, preference=[0.2, 0.8])          # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hybridmoo import store
from hybridmoo.errors import ConfigError, ShapeError, StoreError
from hybridmoo.record import TrialResult

__all__ = ["StudyData", "load"]


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
        return row

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
                if r.method == "dymu" and r.ok:
                    e = r.extra
                    row.update({"c": float(r.train["c"]), "tree": json.dumps(e["trees"][i]),
                                "cost": float(e["costs"][i]),
                                "flops": float(e["point_flops"][i]) if "point_flops" in e
                                else float("nan")})
                rows.append(row)
        return rows

    def fronts(self, trial_ids: list[int] | None = None):
        """pandas DataFrame of :meth:`front_records`."""
        return _frame(self.front_records(trial_ids))

    def trace_records(self, trial_ids: list[int] | None = None) -> list[dict[str, Any]]:
        """One dict per HV-trace point: trial_id, step, seconds, samples, hv, igd, loss."""
        rows = []
        for tid in trial_ids if trial_ids is not None else self.trial_ids():
            tr = store.read_trial(self.path, tid).trace
            for i in range(len(tr["step"])):
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

    # ----------------------------------------------------------------------------- predict
    def hypernetwork(self, trial_id: int):
        """The trained hypernetwork of a trial (``Trainer`` rebuilt, weights loaded).

        Raises:
            StoreError: if the trial's weights were not stored (``keep_weights``).
        """
        from hybridmoo.train import Trainer

        r = self._trained(trial_id)
        if r.method == "dymu":
            raise StoreError(f"trial {trial_id} trained a DYMU controller, not a hypernetwork: "
                             "use StudyData.dymu(trial_id), or predict(trial_id, preference, c)")
        problem = _problem(self.problem_info)
        train_cfg = dict(r.train)
        train_cfg["device"] = "cpu"
        trainer = Trainer(problem, r.hypernet, train_cfg, seed=r.seed)
        state = {k: torch.as_tensor(v) for k, v in r.state_dict.items()}
        try:
            trainer.net.load_state_dict(state)
        except RuntimeError as exc:  # missing or misshapen tensors: the file was damaged
            raise store.damaged(self.path, f"the stored weights of trial {trial_id} do not fit "
                                f"its hypernetwork ({str(exc).splitlines()[-1].strip()})",
                                self.kind) from None
        trainer.net.eval()
        return trainer

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

        if r.method != "dymu":
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
        if self.trial_method(trial_id) == "dymu":
            return self._predict_dymu(trial_id, preference, c)
        if c is not None:
            raise ConfigError(f"c = {c!r}: the resource preference applies to DYMU trials only; "
                              f"trial {trial_id} trained a hypernetwork")
        trainer = self.hypernetwork(trial_id)
        p = _check_pref(preference, trainer.problem.obj_names)
        if trainer.sampler.on_simplex:
            if abs(p.sum() - 1.0) > 1e-6:
                raise ShapeError(f"the preference must sum to 1 (a point of the simplex), "
                                 f"it sums to {p.sum():.6g}; e.g. divide by its sum")
        else:
            p = p / np.linalg.norm(p)  # sphere-sampled (HV-PSL) nets take unit directions
        prefs = torch.as_tensor(p[None, :], dtype=trainer.dtype)
        with torch.no_grad():
            params = trainer.net(prefs)
            F = trainer.task.eval_losses(params)[0].double().numpy()
        out = {"preference": p, "objectives": F,
               "objective_names": list(trainer.problem.obj_names),
               "params": {k: v[0] for k, v in params.items()}}
        X = trainer.task.decision_vectors(params)
        if X is not None:
            out["x"] = X[0].double().numpy()
        if hasattr(trainer.task, "eval_extra"):
            out["metrics"] = trainer.task.eval_extra(params)
        return out

    def trial_method(self, trial_id: int) -> str:
        """``"hypernet"`` or ``"dymu"``: what the trial trained."""
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
    from hybridmoo import problems

    return problems.get(info.get("import_path") or info["name"], **info.get("options", {}))


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
