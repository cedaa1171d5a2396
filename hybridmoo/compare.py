"""``hybridmoo compare``: methods against each other on one problem, equal budget, N seeds.

A compare file (TOML; unknown keys are errors):

.. code-block:: toml

    [compare]
    name = "zdt1"
    seeds = 3
    output = "../results/compare/zdt1.h5"       # the runs (relative to this file)
    report = "../results/compare/zdt1.md"       # the Markdown report (+ PNGs beside it)

    [problem]
    name = "zdt1"
    options = { n_var = 30 }

    [budget]                                    # the same for every method
    kind = "seconds"                            # seconds, steps or evaluations
    amount = 20

    [[methods]]
    name = "nsga2"
    params = { pop_size = 100 }

    [[methods]]
    name = "hybridmoo"
    label = "hybridmoo (defaults)"              # optional, for the report

Every (method, seed) run is a job: on Ray tasks by default (a local Ray started on demand),
or in-process with ``--backend local``. The HDF5 file holds every run (front, trace, the budget
each method actually used); the report gives, per method, the final HV (mean ± std over seeds),
IGD and IGD+ where the problem has a reference front, the time to reach 95% and 99% of the
reference front's HV, the budget used, and a Wilcoxon rank-sum test of each method's final HVs
against the best baseline's, and says plainly where hybridmoo wins and where it loses.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hybridmoo import __version__, baselines, metrics, store
from hybridmoo._config import (
    check_int,
    invalid,
    read_toml,
    reject_unknown,
)
from hybridmoo.errors import ConfigError, HybridMooError, StoreError, did_you_mean
from hybridmoo.filetables import check_schema, load_budget, load_problem
from hybridmoo.usercode import user_runtime_env

__all__ = ["CompareSpec", "compare_records", "load_compare", "load_runs", "run_compare",
           "write_report"]

_SCHEMA = {"compare": {"name", "seeds", "output", "report", "description"},
           "problem": {"name", "options"},
           "budget": {"kind", "amount", "seconds", "steps", "evaluations"},
           "methods": {"name", "params", "label"}, "resources": {"runtime_env"}}


@dataclass
class CompareSpec:
    """A validated compare file."""

    path: Path | None
    text: str
    name: str
    seeds: int
    output: Path
    report: Path
    problem: str
    problem_options: dict
    budget: baselines.Budget
    methods: list[dict] = field(default_factory=list)
    #: Ray runtime_env shipping the user's code (a problem named by import path)
    runtime_env: dict | None = None


def load_compare(path: str | Path | None = None, *, text: str | None = None) -> CompareSpec:
    """Read and validate a compare file (errors name the key, the value and what is allowed)."""

    text, doc, where = read_toml(path, text, "compare file")
    if "study" in doc and "compare" not in doc:
        raise ConfigError(f"{where} is a study file ([study] table), not a compare file: run it "
                          f"with `hybridmoo run {where}`")
    check_schema(doc, _SCHEMA, ("compare", "problem", "budget", "methods"), where,
                 arrays=("methods",))
    c = doc["compare"]
    seeds = check_int("compare.seeds", c.get("seeds", 3), 1, 1000, where)
    for key in ("name", "description"):
        if key in c and not isinstance(c[key], str):
            raise invalid(f"compare.{key}", c[key], "a string", where)
    base = Path(path).parent if path else Path.cwd()

    def resolve(key: str, default: str) -> Path:
        v = c.get(key, default)
        if not isinstance(v, str) or not v.strip():
            raise invalid(f"compare.{key}", v, 'a file name such as "compare.h5"', where)
        q = Path(v)
        return q if q.is_absolute() else (base / q).resolve()

    name = str(c.get("name", str(doc["problem"].get("name", "compare")).rpartition(":")[2]))
    pname, popts, _ = load_problem(doc["problem"], base, where)
    budget = load_budget(doc["budget"], where, single=True, kinds=baselines.BUDGET_KINDS)
    methods = []
    labels = set()
    for m in doc["methods"]:
        if "name" not in m:
            raise ConfigError(f"{where}: every [[methods]] entry needs a name")
        if not isinstance(m["name"], str):
            raise invalid("methods.name", m["name"], "a method name (see the README's "
                          "comparison section)", where)
        entry = baselines.get(m["name"])  # unknown names raise, listing what exists
        params = m.get("params", {})
        if not isinstance(params, dict):
            raise invalid(f"methods.{m['name']}.params", params, "a table of the method's "
                          "parameters", where)
        params = dict(params)
        defaults = entry.defaults()
        for k, v in params.items():
            if k not in defaults:
                if entry.accepts_any():
                    continue
                raise ConfigError(
                    f"{where}: methods.{m['name']}.params: {m['name']} has no parameter {k!r}."
                    f"{did_you_mean(k, list(defaults))} Accepted: {', '.join(defaults) or 'none'}")
            _check_param(f"methods.{m['name']}.params.{k}", v, defaults[k], where)
        label = m.get("label", m["name"])
        if not isinstance(label, str):
            raise invalid("methods.label", label, "a string", where)
        if label in labels:
            raise ConfigError(f"two methods share the label {label!r}; give one a `label`")
        labels.add(label)
        methods.append({"name": m["name"], "params": params, "label": label,
                        "family": entry.family})
    return CompareSpec(path=Path(path) if path else None, text=text, name=name, seeds=seeds,
                       output=resolve("output", f"{name}.h5"),
                       report=resolve("report", f"{name}.md"), problem=pname,
                       problem_options=popts, budget=budget,
                       runtime_env=user_runtime_env(doc.get("resources", {}).get("runtime_env"),
                                                    pname, base),
                       methods=methods)


def _check_param(key: str, value, default, where: str) -> None:
    """A method parameter has the type of its default (booleans are not numbers); the
    hypernetwork and training tables are checked field by field."""
    import dataclasses

    from hybridmoo._config import check_field_value, check_like
    from hybridmoo.hypernet import HypernetConfig
    from hybridmoo.train import TrainConfig

    check_like(key, value, default, where)
    leaf = key.rsplit(".", 1)[1]
    if leaf in ("hypernet", "train") and value is not None:
        cls = HypernetConfig if leaf == "hypernet" else TrainConfig
        if not isinstance(value, dict):
            raise invalid(key, value, f"a table of {cls.__name__} fields", where)
        reject_unknown(value, [f.name for f in dataclasses.fields(cls)], leaf, where, key)
        for k, v in value.items():
            check_field_value(cls, k, v, f"{key}.{k}", where)


def _job(args: tuple, cache: dict | None = None):
    """One (method, seed) run, as a backend job: ``args`` = (method, params, problem, problem
    options, budget, seed); one torch thread (runs share the CPUs)."""
    import torch

    method, params, problem, options, budget, seed = args
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return baselines.run(method, problem, budget, seed=seed, problem_options=options,
                             on_failure="return", **params)  # failed runs are recorded
    finally:
        torch.set_num_threads(threads)


def run_compare(spec: CompareSpec | str | Path, *, backend: str = "ray",
                overwrite: bool = False, resume: bool = False, rerun: tuple[str, ...] = (),
                address: str | None = None, num_cpus: int | None = None,
                progress: bool = True) -> dict[str, list]:
    """Run every (method, seed), write the HDF5 file and the report; returns the results.

    Each run is written to the HDF5 file as soon as it finishes. With ``resume`` the existing
    file is kept and only the (method, seed) runs it lacks, or that failed, are run: after an
    interruption, after adding methods or seeds to the compare file, or, with ``rerun`` (method
    labels), after a method's code or settings changed. Resuming refuses a file whose problem
    or budget differs from the compare file's (its runs would not be comparable).

    Runs are jobs of a backend: Ray actors (one CPU each) on a local Ray started on demand, or
    on the cluster at ``address`` (``"auto"`` or ``host:port``); ``backend="local"`` runs them
    in-process.

    Raises:
        ConfigError: ``address`` with ``backend="local"``; ``resume`` with ``overwrite``,
            ``rerun`` without ``resume``, an unknown
            label in ``rerun``, or a method whose name or params changed under the same label.
        StoreError: the output exists (neither ``resume`` nor ``overwrite``), or ``resume``
            finds no output, another kind of file, or another problem or budget.
    """
    from hybridmoo import problems
    from hybridmoo.backends import check_ray_options

    spec = spec if isinstance(spec, CompareSpec) else load_compare(spec)
    check_ray_options(backend, address, num_cpus)
    if resume and overwrite:
        raise ConfigError("resume and overwrite exclude each other: resume keeps the finished "
                          "runs, overwrite deletes them")
    if rerun and not resume:
        raise ConfigError("rerun (--rerun LABEL) needs resume (--resume): without it every "
                          "method runs anyway")
    problem = problems.get(spec.problem, **spec.problem_options)
    if resume:
        results = _prepare_resume(spec, problem, tuple(rerun))
    else:
        store.create(spec.output, kind="compare", problem=problem.describe(),
                     study_text=spec.text, overwrite=overwrite)
        store.begin_journal(spec.output)  # crash safety: every run journaled first
        results = {m["label"]: [None] * spec.seeds for m in spec.methods}
    jobs = [(m, s) for m in spec.methods for s in range(spec.seeds)
            if results[m["label"]][s] is None]
    if progress and resume:
        kept = len(spec.methods) * spec.seeds - len(jobs)
        print(f"resuming {spec.output}: {kept} finished runs kept, {len(jobs)} to run",
              flush=True)
    args = [(m["name"], m["params"], spec.problem, spec.problem_options, spec.budget.to_dict(),
             s) for m, s in jobs]
    done = 0

    def record(i, r) -> None:
        nonlocal done
        m, s = jobs[i]
        results[m["label"]][s] = r
        _write_run(spec.output, m, s, r)
        done += 1
        if progress:
            print(f"[{done}/{len(jobs)}] {m['label']} seed {s}: "
                  + (f"HV {r.hv:.6g}" if r.ok else f"failed: {r.error.splitlines()[0]}"),
                  flush=True)

    from hybridmoo.backends import get_backend

    pool = get_backend("local") if backend == "local" else get_backend(
        "ray", address=address, num_cpus=num_cpus, cpus_per_trial=1, threads=1,
        max_workers=max(1, len(args)), runtime_env=spec.runtime_env)
    try:
        if progress and backend != "local":
            where = f"the Ray cluster at {address}" if address else "a local Ray"
            print(f"{len(jobs)} runs on {where}: {pool.describe()}", flush=True)
        for i, a in enumerate(args):
            pool.submit(i, _job, a)
        while pool.running():
            for i, r, _node in pool.wait():
                if not isinstance(r, baselines.BaselineResult):  # a dead worker: record, go on
                    m, s = jobs[i]
                    r = baselines.BaselineResult.failed(
                        str(r), method=m["name"],
                        problem=problem.describe(), seed=s, n_obj=problem.n_obj)
                record(i, r)
    finally:
        pool.close()
    store.end_journal(spec.output)  # every run recorded and durable
    write_report(spec, results, problem)
    return results


def _prepare_resume(spec: CompareSpec, problem, rerun: tuple[str, ...]) -> dict[str, list]:
    """Check that the output can be resumed under ``spec``; drop failed and ``rerun`` runs."""
    import tomllib

    labels = {m["label"]: m for m in spec.methods}
    for label in rerun:
        if label not in labels:
            raise ConfigError(f"--rerun {label!r}: no method has that label in "
                              f"{spec.path or spec.name}.{did_you_mean(label, list(labels))} "
                              f"Labels: {', '.join(labels)}")
    if not spec.output.exists():
        raise StoreError(f"nothing to resume: {spec.output} does not exist; run `hybridmoo "
                         f"compare {spec.path or spec.name}` without --resume")
    msg = store.recover(spec.output)  # a crash mid-write: repaired from the journal
    if msg:
        print(msg, file=sys.stderr)
    with _open_compare(spec.output, "r") as f:
        stored = json.loads(f.attrs.get("problem", "null"))
        now = json.loads(json.dumps(problem.describe()))
        if stored != now:
            raise StoreError(
                f"cannot resume {spec.output}: its runs are on problem {stored}, the compare "
                f"file asks for {now}; write to another [compare].output or pass --overwrite")
        try:
            old_budget = baselines.Budget.of(tomllib.loads(f.attrs["study_text"])["budget"])
        except Exception as exc:  # noqa: BLE001 - a damaged or foreign file
            raise StoreError(f"cannot resume {spec.output}: its stored compare file is "
                             f"unreadable ({exc}); pass --overwrite to start again") from None
        if old_budget.to_dict() != spec.budget.to_dict():
            raise StoreError(
                f"cannot resume {spec.output}: its runs had the budget {old_budget.to_dict()}, "
                f"the compare file gives {spec.budget.to_dict()}; runs under different budgets "
                "are not comparable: write to another [compare].output or pass --overwrite")
        runs = f.get("runs", {})
        drop = []  # checked in full before anything is deleted
        for label, group in runs.items():
            if label not in labels:
                continue  # a method since removed from the compare file: kept, not reported
            m = labels[label]
            for key, g in group.items():
                if key.endswith(".partial"):  # cut off while being written
                    drop.append(f"{label}/{key}")
                    continue
                same = (g.attrs["method"] == m["name"]
                        and json.loads(g.attrs["params"]) == json.loads(json.dumps(m["params"])))
                if not same and label not in rerun:
                    raise ConfigError(
                        f"cannot resume: {label!r} ran as {g.attrs['method']} with params "
                        f"{g.attrs['params']}, the compare file now gives {m['name']} with "
                        f"{json.dumps(m['params'])}; pass --rerun {label!r} to run it again")
                if label in rerun or g.attrs["status"] != "ok":
                    drop.append(f"{label}/{key}")
    store.delete_groups(spec.output, [f"runs/{p}" for p in drop])
    store.set_attrs(spec.output, study_text=spec.text)
    store.begin_journal(spec.output)  # no-op when the interrupted run's journal is active
    return load_runs(spec)


@contextlib.contextmanager
def _open_compare(path: str | Path, mode: str):
    """:func:`store.open_checked`, refusing a file that ``hybridmoo compare`` did not write."""
    with store.open_checked(path, mode) as f:
        if f.attrs.get("kind") != "compare":
            raise StoreError(f"{path} is a {f.attrs.get('kind', 'unknown')!r} file, not the "
                             "output of `hybridmoo compare`; check [compare].output")
        try:
            yield f
        except HybridMooError:
            raise
        except (KeyError, ValueError) as exc:  # a missing group/attribute, broken JSON
            raise store.damaged(path, f"a run or attribute cannot be read ({exc})",
                                "compare") from None


def _write_run(path: Path, method: dict, seed: int, r) -> None:
    # written under a temporary name and renamed when complete: a run cut off mid-write is
    # never read back as finished (resume deletes the ``.partial`` leftovers); journaled first
    # (store.write_group), so that a crash inside the HDF5 write cannot cost a finished run
    key = f"{seed:03d}"

    def fill(g, mid) -> None:
        g.attrs["method"] = method["name"]
        g.attrs["family"] = method["family"]
        g.attrs["params"] = json.dumps(method["params"])
        g.attrs["seed"] = seed
        g.attrs["status"] = r.status
        g.attrs["error"] = r.error
        g.attrs["hv"] = float(r.hv)
        g.attrs["budget_used"] = json.dumps(r.budget_used)
        g.attrs["finished"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        g.attrs["hybridmoo_version"] = __version__
        g.create_dataset("F", data=np.asarray(r.F, dtype=np.float64), compression="gzip")
        mid()
        if r.X is not None:
            g.create_dataset("X", data=np.asarray(r.X, dtype=np.float64), compression="gzip")
        if r.prefs is not None:
            g["prefs"] = np.asarray(r.prefs, dtype=np.float64)
        t = g.create_group("trace")
        for k, v in r.trace.items():
            t[k] = np.asarray(v, dtype=np.float64)
        g["ref_point"] = np.asarray(r.ref_point, dtype=np.float64)

    store.write_group(path, f"runs/{method['label']}/{key}", fill, tmp_name=key + ".partial")


def load_runs(spec: CompareSpec | str | Path) -> dict[str, list]:
    """The runs of a compare file's HDF5 output, as :func:`run_compare` returns them.

    Lets :func:`write_report` redraw the report without rerunning anything (``hybridmoo
    compare FILE --report-only``). A method or seed missing from the file is ``None``.

    Raises:
        StoreError: the output file is missing, is not a compare file, or is corrupt.
    """
    spec = spec if isinstance(spec, CompareSpec) else load_compare(spec)
    if not spec.output.exists():
        raise StoreError(f"{spec.output} does not exist: run `hybridmoo compare "
                         f"{spec.path or spec.name}` first")
    results: dict[str, list] = {m["label"]: [None] * spec.seeds for m in spec.methods}
    with _open_compare(spec.output, "r") as f:
        runs = f.get("runs", {})
        for m in spec.methods:
            if m["label"] not in runs:
                continue
            for s in range(spec.seeds):
                key = f"{s:03d}"
                if key not in runs[m["label"]]:
                    continue
                g = runs[m["label"]][key]
                results[m["label"]][s] = baselines.BaselineResult(
                    method=str(g.attrs["method"]), params=json.loads(g.attrs["params"]),
                    problem={"name": spec.problem, "options": spec.problem_options},
                    seed=int(g.attrs["seed"]), status=str(g.attrs["status"]),
                    error=str(g.attrs["error"]), F=g["F"][()],
                    X=g["X"][()] if "X" in g else None,
                    prefs=g["prefs"][()] if "prefs" in g else None,
                    trace={k: v[()] for k, v in g["trace"].items()},
                    budget_used=json.loads(g.attrs["budget_used"]), hv=float(g.attrs["hv"]),
                    ref_point=g["ref_point"][()])
    return results


def compare_records(path: str | Path, what: str) -> list[dict]:
    """Tidy rows of a ``hybridmoo compare`` output file, for ``show`` and ``export``.

    Args:
        path: the comparison's HDF5 file.
        what: ``"runs"`` (one row per method and seed: label, method, family, seed, status,
            error, hv, budget used), ``"fronts"`` (one row per point of each run's final front:
            label, method, seed, point, the preference components ``pref_1…pref_m`` where the
            method has them, the objective values under their names, ``x_1…x_n`` where stored)
            or ``"traces"`` (one row per traced point: label, method, seed, and the trace's
            ``seconds``, ``evaluations``, ``steps``, ``hv``…).

    Raises:
        StoreError: the file is not the output of ``hybridmoo compare``.
        ConfigError: ``what`` is none of the three.
    """
    if what not in ("runs", "fronts", "traces"):
        raise ConfigError(f"what = {what!r}: a comparison file has runs, fronts and traces")
    rows: list[dict] = []
    with _open_compare(path, "r") as f:
        info = json.loads(f.attrs["problem"])
        names = info.get("obj_names") or [f"f{i + 1}" for i in range(int(info["n_obj"]))]
        for label, group in f.get("runs", {}).items():
            for key, g in sorted(group.items()):
                if key.endswith(".partial"):
                    continue
                a = g.attrs
                base = {"label": label, "method": str(a["method"]), "seed": int(a["seed"])}
                if what == "runs":
                    used = json.loads(a["budget_used"])
                    rows.append({**base, "family": str(a["family"]), "status": str(a["status"]),
                                 "error": str(a["error"]), "hv": float(a["hv"]),
                                 **{f"used_{k}": float(v) for k, v in used.items()},
                                 "finished": str(a.get("finished", "")),
                                 "hybridmoo_version": str(a.get("hybridmoo_version", ""))})
                elif what == "fronts":
                    F = g["F"][()]
                    P = g["prefs"][()] if "prefs" in g else None
                    X = g["X"][()] if "X" in g else None
                    for i in range(F.shape[0]):
                        row = {**base, "point": i}
                        if P is not None:
                            row.update({f"pref_{j + 1}": float(v) for j, v in enumerate(P[i])})
                        row.update({n: float(v) for n, v in zip(names, F[i], strict=True)})
                        if X is not None:
                            row.update({f"x_{j + 1}": float(v) for j, v in enumerate(X[i])})
                        rows.append(row)
                else:
                    tr = {k: v[()] for k, v in g["trace"].items()}
                    n = len(next(iter(tr.values()))) if tr else 0
                    for i in range(n):
                        rows.append({**base, **{k: float(v[i]) for k, v in tr.items()}})
    return rows


def _time_to(trace: dict, level: float) -> float:
    hv, sec = np.asarray(trace.get("hv", [])), np.asarray(trace.get("seconds", []))
    idx = np.nonzero(hv >= level)[0]
    return float(sec[idx[0]]) if len(idx) else math.nan


def _fmt(mean: float, std: float, digits: int = 4) -> str:
    return "—" if math.isnan(mean) else f"{mean:.{digits}f} ± {std:.{digits}f}"


def write_report(spec: CompareSpec, results: dict[str, list], problem) -> Path:
    """Markdown report, its figures (PNG) and one self-contained HTML page beside it.

    Beside ``spec.report`` (``NAME.md``): ``NAME_hv.png`` (HV over time), ``NAME_final.png``
    (final HV per method and seed), ``NAME_fronts.png`` (fronts, one panel per method) and
    ``NAME.html`` (the report, its figures embedded, the compare file and the commands)."""
    out = spec.report
    out.parent.mkdir(parents=True, exist_ok=True)
    lines, figures = _report(spec, results, problem)
    from hybridmoo.report.html import compare_page
    from hybridmoo.report.palette import png_bytes

    images = {}
    for key, fig in figures.items():
        images[f"{out.stem}_{key}.png"] = png_bytes(fig)
        out.with_name(f"{out.stem}_{key}.png").write_bytes(images[f"{out.stem}_{key}.png"])
    out.write_text("\n".join(lines))
    out.with_suffix(".html").write_text(compare_page(spec, lines, images, _machine()))
    return out


def _report(spec: CompareSpec, results: dict[str, list], problem):
    import warnings

    with warnings.catch_warnings():  # NaN columns (no reference front) are expected: "—"
        warnings.simplefilter("ignore", RuntimeWarning)
        return _write_report(spec, results, problem)


def _write_report(spec: CompareSpec, results: dict[str, list], problem):
    from scipy.stats import ranksums

    pf = problem.pareto_front(2000)
    ref = problem.ref_point.numpy()
    ref_hv = metrics.hypervolume(pf, ref) if pf is not None else None
    rows = []
    for m in spec.methods:
        runs = [r for r in results[m["label"]] if r is not None]
        ok = [r for r in runs if r.ok]
        hv = np.array([r.hv for r in ok]) if ok else np.array([np.nan])
        # normalised, against the reference-front points inside the reference box: raw IGD
        # reads in the tens of millions where a published front reaches far outside the box
        igd = np.array([metrics.igd_in_box(r.F, pf, ref) for r in ok]) \
            if pf is not None and ok else np.array([np.nan])
        igdp = np.array([metrics.igd_in_box(r.F, pf, ref, plus=True) for r in ok]) \
            if pf is not None and ok else np.array([np.nan])
        t95 = [_time_to(r.trace, 0.95 * ref_hv) for r in ok] if ref_hv else []
        t99 = [_time_to(r.trace, 0.99 * ref_hv) for r in ok] if ref_hv else []
        used = {k: float(np.mean([r.budget_used.get(k, np.nan) for r in ok])) if ok
                else math.nan for k in ("seconds", "steps", "evaluations")}
        rows.append({"label": m["label"], "family": m["family"], "hv": hv, "igd": igd,
                     "igdp": igdp, "t95": t95, "t99": t99, "used": used,
                     "failed": len(runs) - len(ok), "runs": ok})
    baseline_rows = [r for r in rows if not r["label"].startswith("hybridmoo")]
    best = max(baseline_rows, key=lambda r: np.nanmean(r["hv"])) if baseline_rows else None
    lines = [f"# {spec.name}: hybridmoo against baselines", "",
             f"Command: `hybridmoo compare {spec.path or spec.name}`  ",
             f"Machine: {_machine()}  ",
             f"Problem: {spec.problem} {spec.problem_options or ''}; budget per run: "
             f"{spec.budget.amount:g} {spec.budget.kind}; {spec.seeds} seeds; reference point "
             f"{ref.tolist()}" + (f"; reference front HV {ref_hv:.6g}" if ref_hv else "") + ".  ",
             "IGD and IGD+ on normalised objectives ((f − ideal) / (reference point − ideal), "
             "ideal the reference front's minimum) against the reference-front points inside "
             "the reference box.  ",
             _provenance(spec),
             "",
             "| method | family | points | HV (mean ± std) | HV / ref | IGD | IGD+ | time to 95% "
             "ref HV (s) | time to 99% (s) | budget used (s / steps / evals) "
             "| p vs best baseline |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        p = "—"
        if best is not None and r is not best and len(r["hv"]) > 1 and len(best["hv"]) > 1:
            p = f"{ranksums(r['hv'], best['hv']).pvalue:.3g}"
        rel = f"{100 * np.nanmean(r['hv']) / ref_hv:.2f}%" if ref_hv else "—"
        tt = [("—" if not v or all(math.isnan(x) for x in v) else
               f"{np.nanmedian(v):.2f} ({sum(not math.isnan(x) for x in v)}/{len(v)})")
              for v in (r["t95"], r["t99"])]
        u = r["used"]
        pts = f"{np.mean([len(x.F) for x in r['runs']]):.0f}" if r["runs"] else "—"
        lines.append(
            f"| {r['label']}{' (best baseline)' if r is best else ''} | {r['family']} | {pts} | "
            f"{_fmt(np.nanmean(r['hv']), np.nanstd(r['hv']))} | {rel} | "
            f"{_fmt(np.nanmean(r['igd']), np.nanstd(r['igd']))} | "
            f"{_fmt(np.nanmean(r['igdp']), np.nanstd(r['igdp']))} | {tt[0]} | {tt[1]} | "
            f"{u['seconds']:.1f} / {u['steps']:.0f} / {u['evaluations']:.0f} | {p} |"
            + (f" ({r['failed']} failed)" if r["failed"] else ""))
    lines += ["", "points: size of the final approximation set (mean over seeds); HV grows with "
              "it, so compare methods of similar size. Time to x% of the reference HV: median "
              "over the seeds that reached it (reached / seeds). p: two-sided Wilcoxon "
              "rank-sum test of the final HVs against the best baseline's (small samples: read "
              "with care).", ""]
    ours = [r for r in rows if r["label"].startswith("hybridmoo")]

    def verdict(r: dict, other: dict) -> str:
        d = np.nanmean(r["hv"]) - np.nanmean(other["hv"])
        word = "wins against" if d > 0 else "ties with" if d == 0 else "loses to"
        sig = ""
        if len(r["hv"]) > 1 and len(other["hv"]) > 1:
            pv = ranksums(r["hv"], other["hv"]).pvalue
            sig = (f"; rank-sum p = {pv:.3g}: "
                   + ("significant at 0.05" if pv < 0.05 else
                      f"not significant at 0.05 with {spec.seeds} seeds"))
        return (f"- **{r['label']} {word} {other['label']}** on final HV by "
                f"{abs(d):.4g} ({100 * d / np.nanmean(other['hv']):+.2f}%{sig}).")

    if best is not None:
        lines += [verdict(r, best) for r in ours]
    # a search against the library configuration it starts from: does searching pay?
    lines += [verdict(r, o) for i, r in enumerate(ours) for o in ours[:i]]
    out = spec.report
    figures = _figures(spec, rows, pf, problem, ref_hv)
    from hybridmoo.report.compare_figures import TEST_NAME

    lines += ["", f"![HV over time]({out.stem}_hv.png)", "",
              f"![final HV per method]({out.stem}_final.png)", "",
              f"Final HV per method: one dot per seed, a box over the seeds; p: {TEST_NAME} "
              "against the best method's final HVs (with "
              f"{spec.seeds} seeds against {spec.seeds} the smallest possible p is "
              f"{2 / math.comb(2 * spec.seeds, spec.seeds):.2g}).", "",
              f"![final fronts]({out.stem}_fronts.png)", ""]
    return lines, figures


def _figures(spec: CompareSpec, rows: list[dict], pf, problem, ref_hv) -> dict:
    """The report's figures (matplotlib Figures): ``hv``, ``final`` and ``fronts``."""
    from hybridmoo.report import compare_figures as cf

    names = list(problem.obj_names)
    ref = problem.ref_point.numpy()
    return {"hv": cf.hv_over_time(rows, name=spec.name, seeds=spec.seeds, ref_hv=ref_hv),
            "final": cf.final_hv(rows, name=spec.name, ref_hv=ref_hv),
            "fronts": cf.compare_fronts(rows, names, name=spec.name, reference=pf,
                                        ref_point=ref)}


def _provenance(spec: CompareSpec) -> str:
    """When the reported runs finished, by day: more than one day means a resumed file."""
    labels = {m["label"] for m in spec.methods}
    rows = [r for r in (compare_records(spec.output, "runs") if spec.output.exists() else [])
            if r["label"] in labels and r["seed"] < spec.seeds]
    days: dict[str, int] = {}
    for r in rows:
        day = r["finished"][:10] or "undated"
        days[day] = days.get(day, 0) + 1
    versions = {r["hybridmoo_version"] or "unrecorded" for r in rows}
    if not days:
        return "Runs: none finished."
    undated = days.pop("undated", 0)
    parts = [f"{n} on {d}" for d, n in sorted(days.items())]
    if undated:
        parts.append(f"{undated} undated (written before runs were dated)")
    when = parts[0] if len(parts) == 1 else "; ".join(parts) + " (the file was resumed)"
    return f"Runs finished: {when}; hybridmoo {', '.join(sorted(versions))}."


def _machine() -> str:
    import platform

    import torch

    return (f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
            f"Python {platform.python_version()}")
