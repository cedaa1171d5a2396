"""Benchmark: choose the inner loop's default configuration by worst-case rank across problems.

Sweeps the settings the inner loop is most sensitive to — hypernetwork width and depth, learning
rate and schedule, preferences per step K, the Dirichlet sampler's α, the scalarisation, gradient
clipping (and, as a check, normalisation) — over a suite of problems, and ranks every
configuration on every problem by two criteria:

- *final*: HV after ``--steps`` steps (mean over seeds);
- *anytime*: HV at ``--time-point`` seconds of training (the last trace point before it; mean
  over seeds), so that a slower configuration pays for its step time.

A configuration's rank in a column is 1 + the number of configurations whose HV is higher by
more than ``--tol`` (relative to the column's best HV), so that differences within the noise
tie. The chosen default is the configuration with the lowest *worst* rank over all columns
(ties: lowest mean rank), not the one that is best somewhere.

The sweep is coarse, to fit a shared 2-core machine: one setting at a time around the
hand-tuned setting of results/quality.md (width 256, lr 3e-3 cosine, grad clip 0.1, α 0.5,
K 8, Tchebycheff), a small lr × width grid, and the old library defaults for reference; one
torch thread, one process, and a wall-clock cap (``--max-minutes``) after which no new run
starts (the results file says whether the cap was hit).

    python benchmarks/bench_defaults.py [--steps 1000] [--seeds 2] [--max-minutes 25]

Writes results/defaults.md and the raw runs to results/defaults_runs.json.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from pathlib import Path

import numpy as np
import torch

import hybridmoo
from hybridmoo import metrics, problems
from hybridmoo.train import train

ROOT = Path(__file__).resolve().parents[1]

SUITE = ["zdt1", "zdt2", "zdt3", "dtlz2", "re21", "re37", "vlmop2", "psl_f1", "psl_f2",
         "psl_f3", "psl_f4", "psl_f5", "psl_f6", "mtl_regression"]

BASE_NET = {"width": 256, "depth": 2}
BASE_TRAIN = {"lr": 3e-3, "lr_schedule": "cosine", "grad_clip": 0.1, "n_prefs": 8,
              "sampler": {"name": "dirichlet", "alpha": 0.5},
              "scalarization": {"name": "tchebycheff"}, "normalize": "auto"}


def _cfg(label: str, net: dict | None = None, **train_kw) -> dict:
    t = {**BASE_TRAIN, **train_kw}
    return {"label": label, "hypernet": {**BASE_NET, **(net or {})}, "train": t}


CONFIGS = [
    _cfg("base (quality.md)"),
    _cfg("width 100", {"width": 100}),
    _cfg("width 512", {"width": 512}),
    _cfg("depth 3", {"depth": 3}),
    _cfg("lr 1e-3", lr=1e-3),
    _cfg("lr 1e-2", lr=1e-2),
    _cfg("constant lr", lr_schedule="constant"),
    _cfg("K 4", n_prefs=4),
    _cfg("K 16", n_prefs=16),
    _cfg("alpha 1", sampler={"name": "dirichlet", "alpha": 1.0}),
    _cfg("alpha 0.2", sampler={"name": "dirichlet", "alpha": 0.2}),
    _cfg("smooth tchebycheff", scalarization={"name": "smooth_tchebycheff"}),
    _cfg("no grad clip", grad_clip=None),
    _cfg("grad clip 1", grad_clip=1.0),
    _cfg("normalize none", normalize="none"),
    _cfg("width 100, lr 1e-2", {"width": 100}, lr=1e-2),
    _cfg("width 512, lr 1e-3", {"width": 512}, lr=1e-3),
    {"label": "old defaults", "hypernet": {"width": 100, "depth": 2},
     "train": {"lr": 1e-3, "lr_schedule": "constant", "grad_clip": None, "n_prefs": 8,
               "sampler": {"name": "dirichlet", "alpha": 1.0},
               "scalarization": {"name": "tchebycheff"}, "normalize": "none"}},
]


def reference_hv(p) -> float:
    """HV of the problem's reference front at its reference point (NaN if it has none)."""
    if not hasattr(p, "pareto_front"):
        return math.nan
    try:
        front = p.pareto_front(5000 if p.n_obj == 2 else 5050)
    except (TypeError, ValueError, NotImplementedError):
        return math.nan
    if front is None or len(front) == 0:
        return math.nan
    ref = p.ref_point.numpy()
    front = np.asarray(front, dtype=np.float64)
    front = front[np.all(front < ref, axis=1)]
    return metrics.hypervolume(front, ref) if len(front) else math.nan


def hv_at(trace: dict, t: float) -> float:
    """HV of the last trace point with training seconds ≤ t (the first one if none)."""
    sec, hv = np.asarray(trace["seconds"]), np.asarray(trace["hv"])
    idx = np.flatnonzero(sec <= t)
    return float(hv[idx[-1]] if len(idx) else hv[0])


def run_one(name: str, cfg: dict, seed: int, steps: int) -> dict:
    p = problems.get(name)
    n_eval = 100 if p.n_obj == 2 else 300
    t0 = time.perf_counter()
    r = train(p, hypernet=cfg["hypernet"], config={**cfg["train"], "steps": steps,
                                                   "eval_every": max(1, steps // 20),
                                                   "n_eval": n_eval, "threads": 1},
              seed=seed, keep_weights=False)
    return {"problem": name, "config": cfg["label"], "seed": seed, "ok": r.ok,
            "error": r.error, "hv": r.hv if r.ok else math.nan,
            "trace": {"seconds": r.trace["seconds"].tolist(), "hv": r.trace["hv"].tolist()},
            "train_time": r.train_time, "ms_per_step": 1000 * r.train_time / max(r.steps, 1),
            "collapsed": bool(r.warnings), "wall": time.perf_counter() - t0}


def rank_column(values: dict[str, float], tol: float) -> dict[str, float]:
    """1 + number of configurations better by more than tol × best (NaN: last)."""
    finite = [v for v in values.values() if math.isfinite(v)]
    best = max(finite) if finite else 0.0
    n = len(values)
    out = {}
    for k, v in values.items():
        if not math.isfinite(v):
            out[k] = float(n)
            continue
        out[k] = 1.0 + sum(1 for w in finite if w > v + tol * abs(best))
    return out


def summarise(runs: list[dict], time_point: float, tol: float):
    labels = [c["label"] for c in CONFIGS]
    probs = [p for p in SUITE if any(r["problem"] == p for r in runs)]
    mean = {}
    for p in probs:
        for lab in labels:
            rs = [r for r in runs if r["problem"] == p and r["config"] == lab]
            if not rs:
                continue
            mean[(p, lab)] = {
                "final": float(np.mean([r["hv"] for r in rs])),
                "anytime": float(np.mean([hv_at(r["trace"], time_point) for r in rs])),
                "ms": float(np.median([r["ms_per_step"] for r in rs])),
                "collapsed": sum(r["collapsed"] for r in rs), "n": len(rs),
            }
    ranks: dict[tuple[str, str], dict[str, float]] = {}
    for p in probs:
        for crit in ("final", "anytime"):
            vals = {lab: mean[(p, lab)][crit] for lab in labels if (p, lab) in mean}
            if len(vals) == len(labels):
                ranks[(p, crit)] = rank_column(vals, tol)
    worst = {lab: max(col[lab] for col in ranks.values()) for lab in labels} if ranks else {}
    avg = {lab: float(np.mean([col[lab] for col in ranks.values()])) for lab in labels} \
        if ranks else {}
    order = sorted(labels, key=lambda lab: (worst.get(lab, 99), avg.get(lab, 99)))
    return probs, mean, ranks, worst, avg, order


def write_report(runs, args, elapsed, capped, out: Path) -> str:
    probs, mean, ranks, worst, avg, order = summarise(runs, args.time_point, args.tol)
    refs = {p: reference_hv(problems.get(p)) for p in probs}
    lines = [
        "# Inner-loop defaults: sweep and worst-case-rank choice",
        "",
        f"Command: `python benchmarks/bench_defaults.py --steps {args.steps} --seeds "
        f"{args.seeds} --max-minutes {args.max_minutes} --time-point {args.time_point} --tol "
        f"{args.tol}`  ",
        f"Machine: {platform.platform()}, {platform.machine()}, 2 CPUs shared with other "
        f"jobs; Python {platform.python_version()}; torch {torch.__version__}, 1 thread, one "
        f"process; hybridmoo {hybridmoo.__version__}  ",
        f"Seeds: {', '.join(str(s) for s in range(args.seeds))}; budget {args.steps} steps per "
        f"run (cosine schedules anneal over them); evaluation on 100 rays (2 objectives) or the "
        f"300-point lattice (3 objectives), every {max(1, args.steps // 20)} steps; total wall "
        f"time {elapsed / 60:.1f} min"
        + (f" — **the {args.max_minutes}-minute cap was hit; the problems without a full row "
           "are left out of the ranking**" if capped else
           f" (cap {args.max_minutes} min, not reached)") + ".",
        "",
        "A coarse sweep by design (the machine is shared): one setting at a time around the "
        "hand-tuned setting of results/quality.md, a small lr × width grid and the old library "
        "defaults. Timings (ms/step, the anytime criterion) carry the noise of a shared machine.",
        "",
        "Criteria per problem: *final* = mean HV after the step budget; *anytime* = mean HV at "
        f"{args.time_point} s of training. Rank in a column = 1 + number of configurations with "
        f"an HV higher by more than {args.tol:g} × the column's best. Chosen: lowest worst-case "
        "rank over all columns, ties by mean rank. RE21 and RE37 run on their **raw** "
        "objectives (normalize option of the problem off); their HV is in raw units, the "
        "ratios below are unit-free.",
        "",
        "## Ranking (best first)",
        "",
        "| config | worst rank | mean rank | worst column | collapsed runs |",
        "|---|---:|---:|---|---:|",
    ]
    for lab in order:
        if lab not in worst:
            continue
        wc = max(ranks, key=lambda k: ranks[k][lab])
        col = sum(mean[(p, lab)]["collapsed"] for p in probs if (p, lab) in mean)
        lines.append(f"| {lab} | {worst[lab]:.0f} | {avg[lab]:.2f} | {wc[0]} ({wc[1]}) | "
                     f"{col} |")
    chosen = order[0] if order else None
    if chosen:
        cfg = next(c for c in CONFIGS if c["label"] == chosen)
        lines += ["", f"**Chosen default: {chosen}** — hypernet `{json.dumps(cfg['hypernet'])}`, "
                  f"train `{json.dumps(cfg['train'])}`.", ""]
    lines += ["## Final HV, % of the reference front's HV (mean over seeds)", "",
              "mtl_regression has no reference front: % of the best configuration's HV.", "",
              "| config | " + " | ".join(probs) + " |",
              "|---|" + "---:|" * len(probs)]
    for lab in order:
        row = []
        for p in probs:
            if (p, lab) not in mean:
                row.append("—")
                continue
            ref = refs[p]
            if not math.isfinite(ref):
                ref = max(mean[(p, q)]["final"] for q in order if (p, q) in mean)
            v = 100 * mean[(p, lab)]["final"] / ref
            rk = ranks.get((p, "final"), {}).get(lab)
            row.append(f"{v:.2f}" + (f" ({rk:.0f})" if rk is not None else ""))
        lines.append(f"| {lab} | " + " | ".join(row) + " |")
    lines += ["", f"## Anytime HV at {args.time_point} s, % of the reference (rank)", "",
              "| config | " + " | ".join(probs) + " |", "|---|" + "---:|" * len(probs)]
    for lab in order:
        row = []
        for p in probs:
            if (p, lab) not in mean:
                row.append("—")
                continue
            ref = refs[p]
            if not math.isfinite(ref):
                ref = max(mean[(p, q)]["final"] for q in order if (p, q) in mean)
            rk = ranks.get((p, "anytime"), {}).get(lab)
            row.append(f"{100 * mean[(p, lab)]['anytime'] / ref:.2f}"
                       + (f" ({rk:.0f})" if rk is not None else ""))
        lines.append(f"| {lab} | " + " | ".join(row) + " |")
    lines += ["", "## ms per step (median over seeds)", "",
              "| config | " + " | ".join(probs) + " |", "|---|" + "---:|" * len(probs)]
    for lab in order:
        lines.append(f"| {lab} | " + " | ".join(
            f"{mean[(p, lab)]['ms']:.2f}" if (p, lab) in mean else "—" for p in probs) + " |")
    failed = [r for r in runs if not r["ok"]]
    if failed:
        lines += ["", "Failed runs: " + "; ".join(
            f"{r['problem']}/{r['config']}/seed {r['seed']}: {r['error'][:80]}" for r in failed)]
    text = "\n".join(lines) + "\n"
    out.write_text(text)
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--max-minutes", type=float, default=25.0)
    ap.add_argument("--time-point", type=float, default=0.5)
    ap.add_argument("--tol", type=float, default=2e-3)
    ap.add_argument("--problems", nargs="*", default=SUITE)
    ap.add_argument("--out", default=str(ROOT / "results" / "defaults.md"))
    ap.add_argument("--report-only", action="store_true",
                    help="rebuild the table from results/defaults_runs.json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    raw = Path(args.out).with_name(Path(args.out).stem + "_runs.json")
    raw.parent.mkdir(parents=True, exist_ok=True)
    if args.report_only:
        saved = json.loads(raw.read_text())
        print(write_report(saved["runs"], args, saved["elapsed"], saved["capped"],
                           Path(args.out)))
        return
    runs: list[dict] = []
    t0 = time.perf_counter()
    capped = False
    for seed in range(args.seeds):
        for name in args.problems:
            for cfg in CONFIGS:
                if time.perf_counter() - t0 > 60 * args.max_minutes:
                    capped = True
                    break
                r = run_one(name, cfg, seed, args.steps)
                runs.append(r)
                print(f"{time.perf_counter() - t0:7.1f}s seed {seed} {name:15s} "
                      f"{cfg['label']:22s} hv {r['hv']:.5g} {r['ms_per_step']:.2f} ms/step"
                      + (" COLLAPSED" if r["collapsed"] else ""), flush=True)
            raw.write_text(json.dumps({"runs": runs, "elapsed": time.perf_counter() - t0,
                                       "capped": capped}))
    # keep a (problem, seed) only if every configuration ran on it (the cap may cut one short)
    n_cfg = len(CONFIGS)
    count: dict[tuple[str, int], int] = {}
    for r in runs:
        count[(r["problem"], r["seed"])] = count.get((r["problem"], r["seed"]), 0) + 1
    kept = [r for r in runs if count[(r["problem"], r["seed"])] == n_cfg]
    elapsed = time.perf_counter() - t0
    raw.write_text(json.dumps({"runs": kept, "elapsed": elapsed, "capped": capped}))
    print(write_report(kept, args, elapsed, capped, Path(args.out)))


if __name__ == "__main__":
    main()
