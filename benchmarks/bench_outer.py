"""Benchmarks of the outer loop.

``compare``: run shipped studies (Ray backend) and compare the best HV the search found with the
library's default configuration (HypernetConfig() and TrainConfig() defaults) trained at the
same per-trial budget and evaluation settings, over 3 seeds. Numbers are read from the study
files. Writes results/outer_vs_default.md.

    python benchmarks/bench_outer.py compare studies/zdt2.toml studies/dtlz2.toml studies/re37.toml

``overhead``: driver overhead (time outside trials: dispatch, HV, writing) with trials of about
5 s, and the trial throughput of 2 actors against 1 (1 torch thread per actor). Writes
results/outer_overhead.md.

    python benchmarks/bench_outer.py overhead [--steps 2500] [--trials 8]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import textwrap
from pathlib import Path

import h5py
import numpy as np
import torch

from hybridmoo import train
from hybridmoo.study import Study
from hybridmoo.studyfile import load_study

ROOT = Path(__file__).resolve().parents[1]


def machine() -> str:
    return (f"{platform.machine()}, {torch.get_num_threads()} torch threads in the driver, "
            f"torch {torch.__version__}, Python {platform.python_version()}")


def best_from_file(path: Path) -> tuple[int, float, dict]:
    """Best-HV finished trial of a study file: (id, hv, searched values)."""
    best = (-1, -np.inf, {})
    with h5py.File(path) as f:
        for g in f["trials"].values():
            if g.attrs["status"] != "ok":
                continue
            hv = float(g.attrs["hv"])
            if hv > best[1]:
                best = (int(g.attrs["trial_id"]), hv, json.loads(g.attrs["values"]))
    return best


def compare(files: list[str], seeds: int, reuse: bool) -> None:
    rows = []
    for fname in files:
        spec = load_study(fname)
        if not (reuse and spec.output.exists()):
            Study(spec, overwrite=True, progress=True).run()
        tid, hv, values = best_from_file(spec.output)
        fixed = spec.space.fixed["train"]
        same = {k: fixed[k] for k in ("steps", "seconds", "epochs", "n_eval", "eval_every",
                                      "n_prefs") if fixed.get(k) is not None}
        defaults = [train(spec.problem, problem_options=spec.problem_options, seed=s,
                          keep_weights=False, threads=1, **same).hv for s in range(seeds)]
        rows.append((Path(fname).name, spec.problem, spec.n_trials, same.get("steps"), hv, tid,
                     values, float(np.mean(defaults)), float(np.std(defaults))))
    lines = [
        "# Outer loop against the library's default configuration",
        "",
        f"Command: `python benchmarks/bench_outer.py compare {' '.join(files)}`  ",
        f"Machine: {machine()}; Ray backend, local Ray, 1 CPU per trial.  ",
        "Default: `HypernetConfig()` and `TrainConfig()` defaults (width 100, depth 2, Adam lr "
        "1e-3, Tchebycheff, Dirichlet(1), K = 8) at the study's per-trial budget and evaluation "
        f"settings, mean ± std over {seeds} seeds. Best: the best-HV trial read from the study "
        "file.",
        "",
        "| study | problem | trials | steps / trial | best HV (trial) | default HV | gain | "
        "best configuration |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for f, p, n, steps, hv, tid, values, dm, ds in rows:
        cfg = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                        for k, v in values.items())
        lines.append(f"| {f} | {p} | {n} | {steps} | {hv:.5f} ({tid}) | {dm:.5f} ± {ds:.5f} | "
                     f"{100 * (hv / dm - 1):+.2f}% | {cfg} |")
    write(lines, ROOT / "results" / "outer_vs_default.md")


OVERHEAD_STUDY = """
[study]
name = "overhead"
seed = 0
output = "overhead.h5"
[problem]
name = "zdt1"
[objectives]
names = ["hv", "n_params"]
[algorithm]
name = "nsga2"
pop_size = {trials}
generations = 1
[budget]
steps = {steps}
[resources]
cpus_per_trial = 1
workers = {workers}
threads_per_trial = 1
retries = 0
[fixed.train]
n_eval = 100
eval_every = 500
[search]
"hypernet.width" = {{ type = "int", low = 64, high = 128 }}
"train.lr" = {{ type = "real", low = 1e-3, high = 3e-3 }}
"""


def _plain_trial(steps: int) -> float:
    """One trial's work in a plain process (no Ray): the hardware baseline."""
    import time

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    train("zdt1", steps=steps, n_eval=100, eval_every=500, keep_weights=False, seed=0)
    return time.perf_counter() - t0


def plain_processes(steps: int, trials: int) -> list[tuple[int, float]]:
    """Trials per minute of ``trials`` trials in 1 and 2 plain processes (spawned)."""
    import multiprocessing as mp
    import time

    out = []
    for procs in (1, 2):
        with mp.get_context("spawn").Pool(procs) as pool:
            pool.map(_plain_trial, [50] * procs)  # warm up the imports
            t0 = time.perf_counter()
            pool.map(_plain_trial, [steps] * trials)
            out.append((procs, trials / (time.perf_counter() - t0) * 60))
    return out


def overhead(steps: int, trials: int) -> None:
    rows = []
    plain = plain_processes(steps, trials)
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, 2):
            path = Path(tmp) / f"w{workers}.toml"
            path.write_text(textwrap.dedent(OVERHEAD_STUDY.format(trials=trials, steps=steps,
                                                                  workers=workers)))
            res = Study(path, overwrite=True, progress=False).run()
            mean_trial = res.trial_time / len(res.trials)
            loop = res.wall_time - res.extra["startup_time"]
            rows.append((workers, len(res.trials), mean_trial, loop, res.extra["startup_time"],
                         res.extra["driver_time"], len(res.trials) / loop * 60))
    base = rows[0][6]
    lines = [
        "# Outer-loop overhead and actor scaling",
        "",
        f"Command: `python benchmarks/bench_outer.py overhead --steps {steps} --trials {trials}`"
        "  ",
        f"Machine: {machine()}; local Ray on 2 CPUs, 1 CPU and 1 torch thread per actor; "
        f"ZDT1 (30 variables), {steps} steps per trial.  ",
        "Study time: wall time after the backend is up (Ray's start-up and the actors' creation "
        "are reported apart). Driver time: study time minus the time the driver waited for "
        "trials (dispatch, HV, HDF5 writing, pymoo). Baseline: the same trials in plain "
        "spawned processes without Ray, the machine's own scaling.",
        "",
        "| actors | trials | mean trial (s) | study time (s) | start-up (s) | driver time (s) | "
        "driver share | trials / min | × 1 actor |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for w, n, mt, wall, start, drv, tpm in rows:
        lines.append(f"| {w} | {n} | {mt:.2f} | {wall:.1f} | {start:.1f} | {drv:.2f} | "
                     f"{100 * drv / wall:.1f}% | {tpm:.1f} | {tpm / base:.2f} |")
    lines += ["", "| plain processes (no Ray) | trials / min | × 1 process |",
              "| ---: | ---: | ---: |"]
    for procs, tpm in plain:
        lines.append(f"| {procs} | {tpm:.1f} | {tpm / plain[0][1]:.2f} |")
    write(lines, ROOT / "results" / "outer_overhead.md")


def write(lines: list[str], out: Path) -> None:
    text = "\n".join(lines) + "\n"
    print(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("compare")
    c.add_argument("studies", nargs="+")
    c.add_argument("--seeds", type=int, default=3)
    c.add_argument("--reuse", action="store_true", help="reuse existing study files")
    o = sub.add_parser("overhead")
    o.add_argument("--steps", type=int, default=2500)
    o.add_argument("--trials", type=int, default=8)
    args = ap.parse_args()
    if args.cmd == "compare":
        compare(args.studies, args.seeds, args.reuse)
    else:
        overhead(args.steps, args.trials)


if __name__ == "__main__":
    main()
