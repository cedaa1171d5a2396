"""Benchmark: does warm-starting outer-loop candidates from earlier trials speed a study up?

With ``algorithm.warm_start = "nearest"`` a candidate of generation g ≥ 1 starts from the
weights of the nearest earlier trial (distance of the encoded configurations) with the same
architecture, the outer-loop form of MT2O's parameter transfer (ALGORITHMS.md §3). The
benchmark runs one study file with ``warm_start = "none"`` and ``"nearest"`` for several seeds
(local backend, trials one after another, so that trial times are comparable) and reports,
per generation: the best and the mean HV of the trials (as % of the true front's HV where the
problem has one), the share of warm-started trials, and the cumulative trial time. Every trial
has the same step budget either way, so a warm-started trial has trained longer in total
(its source's steps plus its own): the question is whether the *study* reaches a given HV with
fewer trials and less time.

Usage::

    python benchmarks/bench_warmstart.py                       # → results/warmstart.md
    python benchmarks/bench_warmstart.py --study FILE --seeds 0 1 --out FILE
"""

from __future__ import annotations

import argparse
import platform
import tempfile
from pathlib import Path

import numpy as np
import torch

from hybridmoo import store
from hybridmoo.study import Study
from hybridmoo.studyfile import load_study

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_STUDY = ROOT / "benchmarks" / "studies" / "warmstart_dtlz2.toml"


def run(study: Path, mode: str, seed: int, workdir: Path) -> dict:
    text = study.read_text()
    spec = load_study(text=text)
    text = text.replace(f'warm_start = "{spec.warm_start}"', f'warm_start = "{mode}"')
    text = text.replace(f"seed = {spec.seed}", f"seed = {seed}", 1)
    path = workdir / f"{mode}_{seed}.toml"
    path.write_text(text)
    study_obj = Study(path, backend="local", progress=False, overwrite=True)
    res = study_obj.run()
    attrs = store.read_trial_attrs(res.path)
    pop = spec.pop_size
    ref = study_obj.reference_hv
    rows = []
    cum = 0.0
    for g in range(spec.generations):
        ids = [t for t in range(g * pop, (g + 1) * pop) if t in res.trials]
        hv = np.array([res.trials[t].hv for t in ids], dtype=np.float64)
        hv = 100 * hv / ref if ref else hv
        cum += sum(res.trials[t].wall_time for t in ids)
        upto = [t for t in res.trials if t < (g + 1) * pop]
        best = max(res.trials[t].hv for t in upto)
        rows.append({"best": 100 * best / ref if ref else best,
                     "mean": float(np.nanmean(hv)), "time": cum,
                     "warm": float(np.mean([attrs[t]["warm_start_from"] >= 0 for t in ids]))})
    return {"rows": rows, "pct": ref is not None}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--study", type=Path, default=DEFAULT_STUDY)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "warmstart.md")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    out: dict[str, list] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("none", "nearest"):
            out[mode] = [run(args.study, mode, s, Path(tmp)) for s in args.seeds]
            print(mode, [r["rows"][-1] for r in out[mode]], flush=True)
    spec = load_study(args.study)
    unit = "% of true-front HV" if out["none"][0]["pct"] else "HV"
    cmd = "python benchmarks/bench_warmstart.py" + ("" if argv is None else " " + " ".join(argv))
    lines = [
        "# Outer-loop warm start (MT2O-style parameter transfer) against cold starts",
        "",
        f"Machine: {platform.machine()} CPU, 1 torch thread per trial, local backend (trials "
        f"in sequence), no GPU, torch {torch.__version__}, Python {platform.python_version()}.",
        f"Command: `{cmd}`. Study: `{args.study.relative_to(ROOT)}` ({spec.problem}, "
        f"{spec.algorithm} {spec.pop_size} × {spec.generations}, {spec.budget} per trial), "
        f"seeds {args.seeds}; means over seeds ± std.",
        "",
        f"| generation | mode | best so far ({unit}) | generation mean ({unit}) | "
        "warm-started trials | cumulative trial time (s) |",
        "|---|---|---|---|---|---|",
    ]
    for g in range(spec.generations):
        for mode in ("none", "nearest"):
            rs = [r["rows"][g] for r in out[mode]]
            b = np.array([r["best"] for r in rs])
            m = np.array([r["mean"] for r in rs])
            lines.append(f"| {g} | {mode} | {b.mean():.2f} ± {b.std():.2f} | "
                         f"{m.mean():.2f} ± {m.std():.2f} | "
                         f"{100 * np.mean([r['warm'] for r in rs]):.0f} % | "
                         f"{np.mean([r['time'] for r in rs]):.1f} |")
    last = spec.generations - 1
    bn = np.mean([r["rows"][last]["best"] for r in out["none"]])
    bw = np.mean([r["rows"][last]["best"] for r in out["nearest"]])
    tn = np.mean([r["rows"][last]["time"] for r in out["none"]])
    tw = np.mean([r["rows"][last]["time"] for r in out["nearest"]])
    # the first generation where warm starts match the cold study's final best
    reach = next((g for g in range(spec.generations)
                  if np.mean([r["rows"][g]["best"] for r in out["nearest"]]) >= bn), None)
    lines += ["", f"Final best: cold {bn:.2f}, warm {bw:.2f} ({unit}); total trial time cold "
              f"{tn:.1f} s, warm {tw:.1f} s. Warm starts reach the cold study's final best "
              + (f"after generation {reach} of {last}." if reach is not None else
                 "in no generation.")]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
