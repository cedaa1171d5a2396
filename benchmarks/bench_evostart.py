"""The evolutionary start (``train.evo_start``) and its rescue (``train.evo_rescue``), at
equal seconds.

One trial of hybridmoo's defaults (``TrainConfig()``, ``HypernetConfig()``) per problem and
seed, ``--seconds`` of training each, twice:

- ``--what start`` (default): as the defaults are (``evo_start = 0``) and with
  ``evo_start = 0.1`` (NSGA-II for a tenth of the seconds, the hypernetwork fitted to its
  non-dominated points, then gradients at ``evo_lr`` = 0.3 of the learning rate;
  :mod:`hybridmoo.evostart`). The start's time is charged to the trial's seconds. Problems: the
  shipped comparisons' synthetic ones and others no shipped study uses (ZDT3's front in five
  pieces, ZDT4's many local fronts, DTLZ7's four pieces, psl_f3, RE33, DTLZ5).
- ``--what rescue``: without the rescue (``evo_rescue = false``) and as the defaults are (a
  front collapsed at a quarter of the budget gets an evolutionary start then), on problems
  where gradients alone collapse the front (DTLZ4, ZDT6 on some seeds) or leave it outside the
  reference box (ZDT4), and on problems where they do not, which the rescue must leave as they
  are.

Two runs at a time (one per core), each with one torch thread.

    python benchmarks/bench_evostart.py [--what start|rescue] [--seconds 7] [--seeds 0 1 2]
        [--problems zdt3 ...]
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
PROBLEMS = {"start": ["zdt1", "zdt2", "dtlz2", "re37", "zdt3", "zdt4", "dtlz7", "psl_f3",
                      "re33", "dtlz5"],
            "rescue": ["dtlz4", "zdt6", "zdt4", "zdt1", "zdt2", "zdt3", "dtlz2", "dtlz7", "re37",
                       "re34", "psl_f3"]}
OPTIONS = {"dtlz2": {"n_obj": 3}, "dtlz7": {"n_obj": 3}, "dtlz5": {"n_obj": 3},
           "dtlz4": {"n_obj": 3}}
#: the two settings each mode compares: (column name, train overrides)
ARMS = {"start": [("evo_start = 0", {}), ("evo_start = 0.1", {"evo_start": 0.1})],
        "rescue": [("no rescue", {"evo_rescue": False}), ("rescue (default)", {})]}
#: evaluations: at the end only for the start; every 100 steps (the default) for the rescue,
#: which checks the evaluation past a quarter of the budget
EVAL_EVERY = {"start": 10**9, "rescue": 100}
_ONE = """
import json, sys, warnings, torch
from hybridmoo import problems
from hybridmoo.train import Trainer
torch.set_num_threads(1)
warnings.simplefilter("ignore")
name, opts, seconds, seed, train = json.loads(sys.argv[1])
t = Trainer(problems.get(name, **opts), None, {"seconds": seconds, "steps": None, "threads": 1,
            **train}, seed=seed)
r = t.run()
print(json.dumps({"hv": r.hv if r.ok else float("nan"), "steps": r.steps, "error": r.error,
                  "rescued": "trigger" in r.extra.get("evo_start", {})}))
"""


def run(name: str, seconds: float, seed: int, train: dict) -> dict:
    """One trial in a fresh process (so that two run at once without sharing a thread pool)."""
    arg = json.dumps([name, OPTIONS.get(name, {}), seconds, seed, train])
    out = subprocess.run([sys.executable, "-c", _ONE, arg], capture_output=True, text=True,
                         check=True, cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--what", choices=sorted(ARMS), default="start")
    ap.add_argument("--seconds", type=float, default=7.0)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--problems", nargs="+")
    ap.add_argument("--out")
    args = ap.parse_args()
    what = args.what
    problems = args.problems or PROBLEMS[what]
    out = Path(args.out or ROOT / "results" / ("evostart.md" if what == "start" else
                                               "evo_rescue.md"))
    (name_a, arm_a), (name_b, arm_b) = ARMS[what]
    t0 = time.perf_counter()
    jobs = [(p, s, i) for p in problems for s in args.seeds for i in (0, 1)]
    arms = [{"eval_every": EVAL_EVERY[what], **a} for a in (arm_a, arm_b)]
    with ThreadPoolExecutor(2) as pool:
        res = dict(zip(jobs, pool.map(lambda j: run(j[0], args.seconds, j[1], arms[j[2]]),
                                      jobs), strict=True))
    rows, wins = [], 0
    for p in problems:
        hv = {i: [res[(p, s, i)]["hv"] for s in args.seeds] for i in (0, 1)}
        mean = {i: statistics.mean(v) for i, v in hv.items()}
        wins += mean[1] > mean[0]
        rel = (mean[1] - mean[0]) / abs(mean[0]) * 100 if mean[0] else float("inf")
        row = (f"| {p} | {mean[0]:.4f} (worst {min(hv[0]):.4f}) | {mean[1]:.4f} (worst "
               f"{min(hv[1]):.4f}) | {rel:+.2f} % |")
        if what == "rescue":
            row += f" {sum(res[(p, s, 1)]['rescued'] for s in args.seeds)} of {len(args.seeds)} |"
        rows.append(row)
        print(row, flush=True)
    total = time.perf_counter() - t0
    cmd = "python benchmarks/bench_evostart.py" + (" --what rescue" if what == "rescue" else "")
    if args.seconds != 7.0 or args.seeds != [0, 1, 2] or problems != PROBLEMS[what]:
        cmd += (f" --seconds {args.seconds:g} --seeds {' '.join(map(str, args.seeds))}"
                f" --problems {' '.join(problems)}")
    head = f"| problem | {name_a} | {name_b} | {name_b} vs {name_a} |"
    rule = "| --- | ---: | ---: | ---: |"
    if what == "rescue":
        head, rule = head + " rescued |", rule + " ---: |"
    if what == "start":
        title = "The evolutionary start against gradients alone, at equal seconds"
        arms_text = ("only `train.evo_start` differs (0.1: NSGA-II for a tenth of the seconds, "
                     "the fit, then gradients at 0.3 × the learning rate; all charged to the "
                     "seconds)")
        tail = (f"The start has the higher mean on {wins} of {len(problems)} problems. It is "
                "not the trainer's default; `hybridmoo_search` tries it as a searched choice "
                "(its second trial is the defaults with the start), so that the study front "
                "pools both.\n")
    else:
        title = "The evolutionary rescue of a collapsed front, at equal seconds"
        arms_text = ("only `train.evo_rescue` differs (the default: a front collapsed at the "
                     "first evaluation past a quarter of the budget is started over: a fresh "
                     "initialisation, NSGA-II for a tenth of the seconds, the fit, then "
                     "gradients at 0.3 × the learning rate; all charged to the seconds); "
                     "evaluations every 100 steps (the default)")
        tail = ("rescued: the seeds whose front was collapsed at the check and got the start. "
                "Where no seed was rescued the two runs differ only by the machine's load "
                "(a seconds budget): the check draws no random numbers.\n")
    text = (
        f"# {title}\n\n"
        f"Command: `{cmd}`  \n"
        f"Machine: {platform.machine()} CPU (2 cores, two runs at a time), 1 torch thread each, "
        f"Python {platform.python_version()}; total {total / 60:.1f} min.  \n"
        f"Settings: hybridmoo's defaults, {args.seconds:g} s of training per run, seeds "
        f"{', '.join(map(str, args.seeds))}; {arms_text}. HV of the returned front (moocore, "
        "the problem's reference point): mean over seeds, and the worst seed.\n\n"
        f"{head}\n{rule}\n" + "\n".join(rows) + "\n\n" + tail)
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
