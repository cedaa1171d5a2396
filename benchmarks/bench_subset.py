"""Hypervolume subset selection: greedy, and greedy improved by exchanges, on true fronts.

Picks n points from a dense sample of a problem's true Pareto front with
:func:`hybridmoo.subset.select_front` (greedy, then ``swap_refine`` under a cap of HV
evaluations; ``refine = 0`` is greedy only) and reports the chosen set's HV and the time taken.
The pools are analytic fronts, so the model's accuracy plays no part: what is left is the
selection's own gap to the best n-point set. Writes results/subset.md.

    python benchmarks/bench_subset.py [--n 100] [--pools 2000 8000] [--refine 0 2000 20000]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBLEMS = ("zdt1", "zdt2", "dtlz2")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100, help="points to choose")
    ap.add_argument("--pools", type=int, nargs="+", default=[2000, 8000],
                    help="true-front sample sizes")
    ap.add_argument("--refine", type=int, nargs="+", default=[0, 2000, 20000],
                    help="caps on the exchanges' HV evaluations (0: greedy only)")
    args = ap.parse_args()
    from hybridmoo import problems
    from hybridmoo.subset import select_front, subset_hypervolume

    cmd = "python benchmarks/bench_subset.py " + " ".join(sys.argv[1:])
    lines = ["# Hypervolume subset selection on true fronts", "",
             f"Command: `{cmd.strip()}`  ",
             f"Machine: {platform.machine()} CPU, Python {platform.python_version()}; one "
             f"process. n = {args.n} points from each pool (a sample of the problem's analytic "
             "Pareto front, `problem.pareto_front(size)`), reference point the problem's.", "",
             "| problem | pool | refine (HV evaluations) | HV of the n points | seconds |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for name in PROBLEMS:
        p = problems.get(name)
        ref = p.ref_point.numpy()
        for size in args.pools:
            pf = p.pareto_front(size)
            for refine in args.refine:
                t0 = time.perf_counter()
                idx, _ = select_front(pf, ref, args.n, refine=refine)
                dt = time.perf_counter() - t0
                hv = subset_hypervolume(pf, ref, idx)
                lines.append(f"| {name} | {len(pf)} | {refine} | {hv:.5f} | {dt:.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    (ROOT / "results" / "subset.md").write_text(text)


if __name__ == "__main__":
    main()
