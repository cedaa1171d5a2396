"""Population-based training inside the multi-fidelity schedule (``inherit = "pbt"``) against
ASHA alone and plain trials: best trial HV versus compute.

The studies are bench_asha.py's (NSGA-II over HV and parameter count; width, lr and
scalarisation searched; local backend, one worker), run three ways per seed with the same
population and generations: plain trials (every configuration trains ``--max-budget`` steps),
ASHA (rungs ``--min-budget`` … ``--max-budget``, η), and ASHA with inheritance (a bottom trial's
worker continues a better trial's state with mutated settings). Compute is counted in training
steps (machine-independent) and training seconds; each step is counted once (a promotion or a
child charges only the steps it added). The curve of a study is the best HV over each trial's
latest rung against the compute so far; "HV at equal compute" reads each curve at the smallest
of the three studies' total steps.

    python benchmarks/bench_pbt.py [--problems zdt1 dtlz2] [--seeds 0 1 2] [--pop 9]
        [--generations 3] [--min-budget 60] [--max-budget 540] [--eta 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from bench_asha import PROBLEMS, STUDY, TOL, curve_asha, curve_none, first_reach

from hybridmoo.study import Study

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = ("plain", "asha", "pbt")


def run(problem: str, seed: int, variant: str, args, tmp: Path):
    sched = {"plain": "",
             "asha": f'schedule = "asha"\nmin_budget = {args.min_budget}\neta = {args.eta}',
             "pbt": f'schedule = "asha"\nmin_budget = {args.min_budget}\neta = {args.eta}\n'
                    'inherit = "pbt"'}[variant]
    d = tmp / f"{problem}-{variant}-{seed}"
    d.mkdir()
    (d / "s.toml").write_text(STUDY.format(
        problem=problem, options=PROBLEMS[problem][0], seed=seed, out="out.h5", pop=args.pop,
        gens=args.generations, schedule=sched, max_budget=args.max_budget,
        eval_every=args.min_budget))
    t0 = time.perf_counter()
    res = Study(d / "s.toml", backend="local", progress=False).run()
    return res, time.perf_counter() - t0


def at(steps: np.ndarray, hv: np.ndarray, budget: float) -> float:
    """Best HV of a curve once ``budget`` steps are spent (the last point at or below it)."""
    i = np.searchsorted(steps, budget, side="right") - 1
    return float(hv[i]) if i >= 0 else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--problems", nargs="+", default=["zdt1", "dtlz2"], choices=list(PROBLEMS))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--pop", type=int, default=9)
    ap.add_argument("--generations", type=int, default=3)
    ap.add_argument("--min-budget", type=int, default=60)
    ap.add_argument("--max-budget", type=int, default=540)
    ap.add_argument("--eta", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "results" / "pbt.md"))
    ap.add_argument("--json", default=str(ROOT / "results" / "pbt.json"))
    ap.add_argument("--plot", default=str(ROOT / "results" / "pbt.png"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    seeds = " ".join(map(str, args.seeds))
    lines = [
        "# Population-based training in the schedule (inherit = \"pbt\") against ASHA and "
        "plain trials", "",
        f"Command: `python benchmarks/bench_pbt.py --problems {' '.join(args.problems)} --seeds "
        f"{seeds} --pop {args.pop} --generations {args.generations} --min-budget "
        f"{args.min_budget} --max-budget {args.max_budget} --eta {args.eta}"
        + ("" if Path(args.out).resolve() == (ROOT / "results" / "pbt.md").resolve() else
           f" --out {args.out} --json {args.json} --plot {args.plot}") + "`  ",
        f"Machine: 2-core {platform.machine()} CPU, no GPU, torch {torch.__version__}, Python "
        f"{platform.python_version()}, 1 torch thread, local backend (one worker).  ",
        f"Studies: bench_asha.py's (NSGA-II over HV and n_params, {args.pop} × "
        f"{args.generations} proposed configurations of width, lr and scalarisation). Compute in "
        "training steps, each counted once. Best HV = over each trial's latest rung. Reaches "
        f"plain: steps from which the best HV stays within {TOL:.1%} of the plain study's final "
        "best, as a share of the plain study's steps (—: it does not end there).",
        "", f"![best HV versus training steps]({Path(args.plot).name})", ""]
    panels = []
    raw: dict = {}
    for problem in args.problems:
        lines += [f"## {PROBLEMS[problem][1]}", "",
                  "| seed | variant | trials | steps | train s | best HV (end) | "
                  "best HV at equal steps | best HV at the plain study's steps | reaches plain |",
                  "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        panel = []
        summary = {v: [] for v in VARIANTS}
        with tempfile.TemporaryDirectory() as tmp:
            for seed in args.seeds:
                curves, info = {}, {}
                for v in VARIANTS:
                    res, wall = run(problem, seed, v, args, Path(tmp))
                    sec, steps, hv = curve_none(res) if v == "plain" else curve_asha(res)
                    curves[v] = (sec, steps, hv)
                    info[v] = {"trials": len(res.trials), "wall": wall}
                equal = min(c[1][-1] for c in curves.values())
                plain_steps, target = curves["plain"][1][-1], curves["plain"][2][-1]
                panel.append(curves)
                for v in VARIANTS:
                    sec, steps, hv = curves[v]
                    row = {"seed": seed, "variant": v, "trials": info[v]["trials"],
                           "steps": int(steps[-1]), "seconds": float(sec[-1]),
                           "hv": float(hv[-1]), "hv_equal": at(steps, hv, equal),
                           "equal_steps": int(equal),
                           "hv_plain_steps": at(steps, hv, plain_steps),
                           "reach": first_reach(steps, hv, target) / plain_steps}
                    summary[v].append(row)
                    raw.setdefault(problem, []).append(
                        {**row, "curve": [c.tolist() for c in curves[v]]})
                    lines.append(f"| {seed} | {v} | {row['trials']} | {row['steps']} | "
                                 f"{row['seconds']:.1f} | {row['hv']:.4f} | "
                                 f"{row['hv_equal']:.4f} (at {equal}) | "
                                 f"{row['hv_plain_steps']:.4f} | "
                                 + ("—" if not np.isfinite(row["reach"]) else
                                    f"{row['reach']:.0%}") + " |")
                    print(lines[-1], flush=True)
        lines += [""]
        for v in VARIANTS:
            r = summary[v]
            reach = [x["reach"] for x in r]
            lines.append(f"- {v}: mean best HV {np.mean([x['hv'] for x in r]):.4f} with "
                         f"{np.mean([x['steps'] for x in r]):.0f} steps; at equal steps "
                         f"{np.mean([x['hv_equal'] for x in r]):.4f}; at the plain study's steps "
                         f"{np.mean([x['hv_plain_steps'] for x in r]):.4f}; reaches the plain "
                         f"study's final best on {int(np.isfinite(reach).sum())} of {len(r)} "
                         f"seeds, with at most half its steps on "
                         f"{int(np.sum(np.asarray(reach) <= 0.5))}")
        wins = sum(p["hv_equal"] > a["hv_equal"] for p, a in zip(summary["pbt"], summary["asha"],
                                                                 strict=True))
        lines += [f"- pbt above asha at equal steps on {wins} of {len(args.seeds)} seeds", ""]
        panels.append((PROBLEMS[problem][1], panel))
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).write_text(text)
    Path(args.json).write_text(json.dumps(raw) + "\n")
    plot(panels, args.plot)


def plot(panels, path: str) -> None:
    """One panel per problem: best HV so far versus training steps, every seed and variant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4.5), squeeze=False)
    for ax, (title, seeds) in zip(axes[0], panels, strict=True):
        finals = []
        for i, curves in enumerate(seeds):
            for j, v in enumerate(VARIANTS):
                _, steps, hv = curves[v]
                ax.step(steps, hv, where="post", color=f"C{j}", alpha=0.8,
                        label=v if i == 0 else None)
                finals.append(hv[-1])
        top = max(finals)
        ax.set_ylim(top - 0.06 * abs(top), top + 0.005 * abs(top))
        ax.set_xscale("log")
        ax.set_xlabel("compute: training steps of all trials so far (log)")
        ax.set_ylabel("best trial HV so far")
        ax.set_title(f"{title}: one line per seed")
        ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
