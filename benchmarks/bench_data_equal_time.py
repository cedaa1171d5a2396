"""Equal training time on a data-driven problem: hybridmoo's defaults and single changes to them
against COSMOS and PSL-family baselines.

Each method trains for ``--seconds`` of training time (evaluation excluded) on one CPU thread,
``--seeds`` seeds, 100 evaluation preferences; the table gives the final HV (mean and per
seed) and the steps taken. The variants change one default each: K = 1 or 2 preferences per
step, each preference seeing the whole minibatch instead of an even split of it
(``split_batch = false``), linear scalarisation, lr 1e-3 or 1e-2, a width-64 hypernetwork, one
linear head per target tensor (the default before ``head = "auto"`` chose the chunked head
for mtl_regression's 8,692-parameter network).

    python benchmarks/bench_data_equal_time.py [--problem mtl_regression] [--seconds 2]
        [--seeds 2]
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

import numpy as np
import torch

from hybridmoo import baselines, problems

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {  # label: (method, train overrides, hypernet overrides)
    "cosmos": ("cosmos", {}, {}),
    "hv_psl": ("hv_psl", {}, {}),
    "hybridmoo (defaults)": ("hybridmoo", {}, {}),
    "defaults, K = 1": ("hybridmoo", {"n_prefs": 1}, {}),
    "defaults, K = 2": ("hybridmoo", {"n_prefs": 2}, {}),
    "defaults, split_batch = false": ("hybridmoo", {"split_batch": False}, {}),
    "defaults, linear": ("hybridmoo", {"scalarization": {"name": "linear"}}, {}),
    "defaults, lr 1e-3": ("hybridmoo", {"lr": 1e-3}, {}),
    "defaults, lr 1e-2": ("hybridmoo", {"lr": 1e-2}, {}),
    "defaults, width 64": ("hybridmoo", {}, {"width": 64}),
    "defaults, tensor head": ("hybridmoo", {}, {"head": "tensor"}),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--problem", default="mtl_regression")
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--out", default=str(ROOT / "results" / "data_equal_time.md"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    p = problems.get(args.problem)
    rows = []
    for label, (method, train, hypernet) in VARIANTS.items():
        hv, steps = [], []
        for s in range(args.seeds):
            r = baselines.run(method, p, ("seconds", args.seconds), seed=s, n_eval=100,
                              threads=1, **({"train": train} if train else {}),
                              **({"hypernet": hypernet} if hypernet else {}))
            hv.append(r.hv if r.ok else float("nan"))
            steps.append(int(r.budget_used.get("steps", 0)))
        rows.append(f"| {label} | {np.mean(hv):.5f} | {', '.join(f'{h:.5f}' for h in hv)} | "
                    f"{', '.join(map(str, steps))} |")
        print(rows[-1], flush=True)
    cmd = (f"python benchmarks/bench_data_equal_time.py --problem {args.problem} --seconds "
           f"{args.seconds:g} --seeds {args.seeds}")
    text = "\n".join([
        f"# Equal training time on {args.problem}: defaults, single changes, COSMOS", "",
        f"Command: `{cmd}`  ",
        f"Machine: {platform.machine()} CPU, 1 torch thread, torch {torch.__version__}, Python "
        f"{platform.python_version()}. {args.seconds:g} s of training per run, 100 evaluation "
        "preferences, HV with the problem's reference point.", "",
        "| method | HV (mean) | HV per seed | steps per seed |", "| --- | ---: | --- | --- |",
        *rows, ""])
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
