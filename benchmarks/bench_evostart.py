"""The evolutionary start (``train.evo_start``) against gradients alone, at equal seconds.

One trial of hybridmoo's defaults (``TrainConfig()``, ``HypernetConfig()``) per problem and
seed, ``--seconds`` of training each, once as the defaults are (``evo_start = 0``) and once
with ``evo_start = 0.1`` (NSGA-II for a tenth of the seconds, the hypernetwork fitted to its
non-dominated points, then gradients at ``evo_lr`` = 0.3 of the learning rate;
:mod:`hybridmoo.evostart`). The start's time is charged to the trial's seconds. Problems: the
shipped comparisons' synthetic ones and others no shipped study uses (ZDT3's front in five
pieces, ZDT4's many local fronts, DTLZ7's four pieces, psl_f3, RE33, DTLZ5). Two runs at a time
(one per core), each with one torch thread.

    python benchmarks/bench_evostart.py [--seconds 7] [--seeds 0 1 2] [--problems zdt3 ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBLEMS = ["zdt1", "zdt2", "dtlz2", "re37", "zdt3", "zdt4", "dtlz7", "psl_f3", "re33",
            "dtlz5"]
OPTIONS = {"dtlz2": {"n_obj": 3}, "dtlz7": {"n_obj": 3}, "dtlz5": {"n_obj": 3}}
_ONE = """
import json, sys, warnings, torch
from hybridmoo import problems
from hybridmoo.train import Trainer
torch.set_num_threads(1)
warnings.simplefilter("ignore")
name, opts, seconds, seed, evo = json.loads(sys.argv[1])
t = Trainer(problems.get(name, **opts), None, {"seconds": seconds, "steps": None, "threads": 1,
            "eval_every": 10**9, "evo_start": evo}, seed=seed)
r = t.run()
print(json.dumps({"hv": r.hv if r.ok else float("nan"), "steps": r.steps, "error": r.error}))
"""


def run(name: str, seconds: float, seed: int, evo: float) -> dict:
    """One trial in a fresh process (so that two run at once without sharing a thread pool)."""
    arg = json.dumps([name, OPTIONS.get(name, {}), seconds, seed, evo])
    out = subprocess.run([sys.executable, "-c", _ONE, arg], capture_output=True, text=True,
                         check=True, cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=7.0)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--problems", nargs="+", default=PROBLEMS)
    ap.add_argument("--out", default=str(ROOT / "results" / "evostart.md"))
    args = ap.parse_args()
    t0 = time.perf_counter()
    jobs = [(p, s, e) for p in args.problems for s in args.seeds for e in (0.0, 0.1)]
    with ThreadPoolExecutor(2) as pool:
        res = dict(zip(jobs, pool.map(lambda j: run(j[0], args.seconds, j[1], j[2]), jobs),
                       strict=True))
    rows, wins = [], 0
    for p in args.problems:
        hv = {e: [res[(p, s, e)]["hv"] for s in args.seeds] for e in (0.0, 0.1)}
        mean = {e: statistics.mean(v) for e, v in hv.items()}
        wins += mean[0.1] > mean[0.0]
        rel = (mean[0.1] - mean[0.0]) / abs(mean[0.0]) * 100 if mean[0.0] else float("inf")
        row = (f"| {p} | {mean[0.0]:.4f} (worst {min(hv[0.0]):.4f}) | {mean[0.1]:.4f} (worst "
               f"{min(hv[0.1]):.4f}) | {rel:+.2f} % |")
        rows.append(row)
        print(row, flush=True)
    total = time.perf_counter() - t0
    cmd = "python benchmarks/bench_evostart.py"
    if args.seconds != 7.0 or args.seeds != [0, 1, 2] or args.problems != PROBLEMS:
        cmd += (f" --seconds {args.seconds:g} --seeds {' '.join(map(str, args.seeds))}"
                f" --problems {' '.join(args.problems)}")
    text = (
        "# The evolutionary start against gradients alone, at equal seconds\n\n"
        f"Command: `{cmd}`  \n"
        f"Machine: {platform.machine()} CPU (2 cores, two runs at a time), 1 torch thread each, "
        f"Python {platform.python_version()}; total {total / 60:.1f} min.  \n"
        f"Settings: hybridmoo's defaults, {args.seconds:g} s of training per run, seeds "
        f"{', '.join(map(str, args.seeds))}; only `train.evo_start` differs (0.1: NSGA-II for "
        "a tenth of the seconds, the fit, then gradients at 0.3 × the learning rate; all "
        "charged to the seconds). HV of the returned front (moocore, the problem's reference "
        "point): mean over seeds, and the worst seed.\n\n"
        "| problem | evo_start = 0 | evo_start = 0.1 | start vs none |\n"
        "| --- | ---: | ---: | ---: |\n" + "\n".join(rows) + "\n\n"
        f"The start has the higher mean on {wins} of {len(args.problems)} problems. It is not "
        "the trainer's default; `hybridmoo_search` tries it as a searched choice (its second "
        "trial is the defaults with the start), so that the study front pools both.\n")
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
