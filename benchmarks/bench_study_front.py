"""Benchmark: does the study front beat the best trial at equal size (issue 19, part 3)?

For each problem, one small study (local backend, NSGA-II over width, learning rate,
scalarisation and Dirichlet α, every trial's weights kept) is run, then
``StudyData.study_front(n)`` with ``n`` the trials' evaluation-front size. The table gives the
best trial's HV, the study front's HV (both with the problem's reference point, same number of
points), the gain, how many trials the study front draws its points from, and how long it took
to build. ZDT3's front is in five disconnected pieces, where several models can cover what
one continuous model cannot; the results/quickstart.h5 study (ZDT2, weights of the outer front
kept) is measured as it is.

    python benchmarks/bench_study_front.py [--seeds 3] [--steps 300] [--out results/study_front.md]

One torch thread; about 20 s per study on one core.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import hybridmoo
from hybridmoo.study import Study

ROOT = Path(__file__).resolve().parents[1]

STUDY = """
[study]
seed = {seed}
output = "out.h5"
[problem]
name = "{problem}"
options = {options}
[algorithm]
name = "nsga2"
pop_size = 4
generations = 2
[budget]
steps = {steps}
[resources]
keep_weights = "all"
retries = 0
[fixed.train]
n_eval = 100
eval_every = 100
threads = 1
[search]
"hypernet.width" = {{ type = "int", low = 16, high = 256, log = true }}
"train.lr" = {{ type = "real", low = 1e-3, high = 1e-2, log = true }}
"train.sampler.alpha" = {{ type = "real", low = 0.2, high = 2.0, log = true }}
"train.scalarization.name" = {{ type = "choice", values = [
    "tchebycheff", "smooth_tchebycheff", "inverse_tchebycheff"] }}
"""

PROBLEMS = [("zdt1", "{ n_var = 10 }"), ("zdt3", "{ n_var = 10 }"), ("dtlz2", "{}")]


def measure(path: Path) -> dict:
    s = hybridmoo.load(path)
    ok = [r for r in s.trial_records() if r["status"] == "ok"]
    best = max(ok, key=lambda r: r["hv"])
    t0 = time.perf_counter()
    sf = s.study_front()
    wall = time.perf_counter() - t0
    ref_hv = float("nan")
    try:
        from hybridmoo import metrics, problems

        info = s.problem_info
        p = problems.get(info["name"], **info.get("options", {}))
        pf = p.pareto_front(5000)
        if pf is not None:
            ref_hv = metrics.hypervolume(pf, sf.ref_point)
    except Exception:  # noqa: BLE001 - no reference front: the column stays empty
        pass
    return {"trials": len(ok), "kept": len(sf.trials), "best": best["hv"], "sf": sf.hv,
            "ref": ref_hv,
            "n": len(sf), "from": len(set(sf.trial_ids.tolist())), "seconds": wall,
            "source": sf.source}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--out", default=str(ROOT / "results" / "study_front.md"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = []
    for problem, options in PROBLEMS:
        for seed in range(args.seeds):
            with tempfile.TemporaryDirectory() as tmp:
                d = Path(tmp)
                (d / "s.toml").write_text(STUDY.format(seed=seed, problem=problem,
                                                       options=options, steps=args.steps))
                Study(d / "s.toml", backend="local", progress=False).run()
                rows.append((f"{problem} {options}", seed, measure(d / "out.h5")))
            print(rows[-1], flush=True)
    qs = ROOT / "results" / "quickstart.h5"
    if qs.exists():
        rows.append(("results/quickstart.h5 (zdt2, outer front kept)", "-", measure(qs)))
    lines = [
        "# Study front against the best trial (equal number of points)",
        "",
        f"Command: `python benchmarks/bench_study_front.py --seeds {args.seeds} --steps "
        f"{args.steps}`  ",
        f"Machine: {platform.machine()} CPU ({platform.processor() or platform.system()}), one "
        f"torch thread, torch {torch.__version__}, Python {platform.python_version()}.  ",
        "Studies: NSGA-II, 4 trials × 2 generations, "
        f"{args.steps} steps per trial, n_eval = 100, every trial's weights kept; study front "
        "with n = the trials' front size, density 20 (exact search for tiny pools, else greedy "
        "HV contribution + exchanges). HV with the problem's reference point; the reference "
        "front's HV from 5,000 points of the known Pareto front.",
        "",
        "| study | seed | trials (kept) | best trial HV | study front HV | gain | reference "
        "front HV | points | from trials | build s | selection |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, seed, m in rows:
        gain = 100 * (m["sf"] / m["best"] - 1) if m["best"] > 0 else float("nan")
        lines.append(f"| {name} | {seed} | {m['trials']} ({m['kept']}) | {m['best']:.4f} | "
                     f"{m['sf']:.4f} | {gain:+.2f} % | {m['ref']:.4f} | {m['n']} | {m['from']} | "
                     f"{m['seconds']:.2f} | {m['source']} |")
    gains = [100 * (m["sf"] / m["best"] - 1) for _, _, m in rows if m["best"] > 0]
    lines += ["", f"Mean gain over the rows: {np.mean(gains):+.2f} %; smallest "
              f"{np.min(gains):+.2f} %."]
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
