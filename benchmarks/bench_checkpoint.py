"""Best-validation checkpoints on Multi-MNIST: the last step's front against the chosen one.

hybridmoo's default training (``TrainConfig()``: 8 preferences per step, batch 256,
Tchebycheff, Adam 1e-3) on Multi-MNIST built from the shared 10,000 MNIST test images (8,000
train / 1,000 validation / 1,000 test overlays) for ``--steps`` steps with
``checkpoint = "best"``: every ``--eval-every`` steps the HV of the 11 evaluation networks is
measured on the validation split and on the test split. The table gives, per seed, the test HV
after the last step (``checkpoint = "last"``), the test HV of the checkpoint with the best
validation HV (``checkpoint = "best"``, what the trainer returns), and the best test HV of the
trace (an oracle that peeks at the test split, for reference only).

    python benchmarks/bench_checkpoint.py [--steps 1500] [--eval-every 50] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import torch

from hybridmoo import train

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--eval-every", type=int, default=50)
    ap.add_argument("--n-eval", type=int, default=11)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=str(ROOT / "results" / "checkpoint.md"))
    args = ap.parse_args()
    rows = []
    for seed in args.seeds:
        t0 = time.perf_counter()
        r = train("multi_mnist", problem_options={"source": "t10k", "seed": 0},
                  steps=args.steps, eval_every=args.eval_every, n_eval=args.n_eval,
                  checkpoint="best", threads=args.threads, seed=seed, keep_weights=False)
        if not r.ok:
            raise SystemExit(f"seed {seed} failed: {r.error}")
        tr = r.trace
        rows.append({"seed": seed, "last": tr["hv"][-1], "best": r.hv,
                     "step": r.extra["checkpoint_step"], "oracle": float(np.max(tr["hv"])),
                     "oracle_step": tr["steps"][int(np.argmax(tr["hv"]))],
                     "val": r.extra["val_hv"], "seconds": time.perf_counter() - t0,
                     "train_s": r.train_time})
        print(f"seed {seed}: last {rows[-1]['last']:.4f}, best-val checkpoint "
              f"{rows[-1]['best']:.4f} (step {rows[-1]['step']:.0f}), {rows[-1]['seconds']:.0f} s",
              flush=True)
    seeds = " ".join(map(str, args.seeds))
    lines = [
        "# Best-validation checkpoints on Multi-MNIST",
        "",
        f"Command: `python benchmarks/bench_checkpoint.py --steps {args.steps} --eval-every "
        f"{args.eval_every} --n-eval {args.n_eval} --seeds {seeds} --threads {args.threads}`  ",
        f"Machine: 2-core {platform.machine()} CPU, no GPU, torch {torch.__version__}, Python "
        f"{platform.python_version()}, {args.threads} torch threads.  ",
        "Data: Multi-MNIST from the 10,000 MNIST test images (8,000 train / 1,000 validation / "
        "1,000 test overlays); HV of the two cross-entropies at reference point (2, 2) over "
        f"{args.n_eval} evenly spread preferences. Training: hybridmoo's defaults "
        "(`TrainConfig()`), `checkpoint = \"best\"`.",
        "",
        "| seed | test HV, last step | test HV, best-validation checkpoint (step) | "
        "validation HV there | best test HV of the trace (oracle, step) | wall s |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(f"| {r['seed']} | {r['last']:.4f} | {r['best']:.4f} ({r['step']:.0f}) | "
                     f"{r['val']:.4f} | {r['oracle']:.4f} ({r['oracle_step']:.0f}) | "
                     f"{r['seconds']:.0f} |")
    last = np.array([r["last"] for r in rows])
    best = np.array([r["best"] for r in rows])
    oracle = np.array([r["oracle"] for r in rows])
    lines.append(f"| mean | {last.mean():.4f} | {best.mean():.4f} | | {oracle.mean():.4f} | |")
    k = int((best > last).sum())
    lines += ["", f"The best-validation checkpoint beat the last step on {k} of {len(rows)} "
              f"seeds: mean test HV {best.mean() - last.mean():+.4f} against the last step; the "
              f"test oracle would give {oracle.mean() - last.mean():+.4f}."]
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
