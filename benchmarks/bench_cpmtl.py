"""Controllable Pareto MTL on Multi-MNIST: linear scalarisation (A) against Pareto MTL's update (B).

Lin, Yang, Zhang & Kwong, "Controllable Pareto Multi-Task Learning", arXiv 2010.06313, 2020
(ALGORITHMS.md §1). Both variants train the same chunked hypernetwork, which generates every
parameter of the Multi-LeNet (``hybridmoo.baselines.cpmtl.CPMTL_HYPERNET``), with the same
settings (``CPMTL_TRAIN``) and the same step budget; only the scalarisation differs:
``{"name": "linear"}`` (A, method ``cpmtl_ls``) or ``{"name": "pmtl"}`` (B, ``cpmtl_pmtl``).

Data: Multi-MNIST built from the shared 10,000 MNIST test images (``source = "t10k"``: 8,000
train / 1,000 val / 1,000 test overlays by default). Reported per method and seed: the test HV
of the two test cross-entropies (reference point (2, 2)) over ``--n-eval`` evenly spread
preferences, Spearman's ρ between p_1 and each test loss (the paper's claim is control: L_1
should fall and L_2 rise as p_1 grows, so ρ(p_1, L_1) ≈ −1 and ρ(p_1, L_2) ≈ +1), the largest
step against that order between neighbouring preferences, the spread L_1(p_1 = 0) − L_1(p_1 = 1),
parameter counts and times; then the mean test losses and accuracies at five preferences.

    python benchmarks/bench_cpmtl.py [--steps 300] [--seeds 0 1] [--n-train 8000]
"""

from __future__ import annotations

import argparse
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

from hybridmoo.baselines.cpmtl import CPMTL_HYPERNET, CPMTL_TRAIN
from hybridmoo.problems import get as get_problem
from hybridmoo.train import train

ROOT = Path(__file__).resolve().parents[1]
METHODS = {"cpmtl_ls (A: linear)": {"name": "linear"},
           "cpmtl_pmtl (B: Pareto MTL update)": {"name": "pmtl"}}
SHOW_P1 = (0.0, 0.2, 0.5, 0.8, 1.0)


def _rho(x: np.ndarray, y: np.ndarray) -> float:
    if np.ptp(y) == 0:
        return float("nan")
    return float(spearmanr(x, y)[0])


def run_one(problem, scal: dict, seed: int, args) -> dict:
    cfg = {**CPMTL_TRAIN, "scalarization": scal, "steps": args.steps, "n_eval": args.n_eval,
           "eval_every": args.steps, "threads": args.threads}
    if args.lr is not None:
        cfg["lr"] = args.lr
    t0 = time.perf_counter()
    r = train(problem, hypernet=CPMTL_HYPERNET, config=cfg, seed=seed, keep_weights=False)
    wall = time.perf_counter() - t0
    if not r.ok:
        raise RuntimeError(f"{scal['name']} seed {seed} failed: {r.error}")
    order = np.argsort(r.prefs[:, 0])
    p1, F = r.prefs[order, 0], r.F[order]
    acc = np.asarray(r.extra["accuracy"], dtype=np.float64)[order]
    return {
        "p1": p1, "F": F, "acc": acc, "hv": r.hv,
        "rho1": _rho(p1, F[:, 0]), "rho2": _rho(p1, F[:, 1]),
        # largest rise of L_1 / fall of L_2 between neighbouring preferences as p_1 grows
        "viol": float(max(np.diff(F[:, 0]).max(), (-np.diff(F[:, 1])).max())),
        "spread1": float(F[0, 0] - F[-1, 0]), "spread2": float(F[-1, 1] - F[0, 1]),
        "n_params": r.n_params, "n_target": r.n_target_params,
        "train_s": r.train_time, "wall_s": wall,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--n-train", type=int, default=8000)
    ap.add_argument("--n-test", type=int, default=1000)
    ap.add_argument("--n-eval", type=int, default=11)
    ap.add_argument("--lr", type=float, default=None, help="default: CPMTL_TRAIN's")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "cpmtl.md")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    problem = get_problem("multi_mnist", n_train=args.n_train, n_val=500, n_test=args.n_test)
    runs: dict[str, list[dict]] = {}
    for label, scal in METHODS.items():
        runs[label] = []
        for seed in args.seeds:
            res = run_one(problem, scal, seed, args)
            runs[label].append(res)
            print(f"{label} seed {seed}: HV {res['hv']:.4f}, rho {res['rho1']:+.3f} "
                  f"{res['rho2']:+.3f}, {res['train_s']:.0f} s", file=sys.stderr, flush=True)

    cmd = "python benchmarks/bench_cpmtl.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    first = next(iter(runs.values()))[0]
    lines = [
        "# Controllable Pareto MTL on Multi-MNIST: (A) linear vs (B) Pareto MTL update",
        "",
        f"Command: `{cmd.strip()}`  ",
        f"Machine: 2-core {platform.machine()} CPU, no GPU, "
        f"{args.threads} torch thread(s), torch {torch.__version__}, Python "
        f"{platform.python_version()}.  ",
        f"Data: Multi-MNIST from the shared 10,000 MNIST test images (`source = \"t10k\"`), "
        f"{args.n_train} train / {args.n_test} test overlays; objectives the two test "
        f"cross-entropies; HV reference point (2, 2); {args.n_eval} evenly spread evaluation "
        "preferences.  ",
        f"Settings (both methods): hypernetwork `{CPMTL_HYPERNET}` "
        f"({first['n_params']:,} parameters, {first['n_params'] - first['n_target']:,} without "
        f"the learned offset, generating all {first['n_target']:,} parameters of the LeNet); "
        f"training `{ {**CPMTL_TRAIN, **({'lr': args.lr} if args.lr else {})} }`, "
        f"{args.steps} steps; seeds {args.seeds}. (B) uses `PMTL()` defaults (n_refs = 3, "
        "warmup_steps = None, direction = \"inverse\"). Times: training only (evaluation "
        "excluded); wall time includes evaluation.",
        "",
        "ρ: Spearman's rank correlation between p_1 and the test loss of task 1 / task 2 (control "
        "means −1 / +1). Worst step: the largest rise of L_1 or fall of L_2 between neighbouring "
        "preferences as p_1 grows (0 or negative: monotone). Spread: L_1(p_1=0) − L_1(p_1=1) and "
        "L_2(p_1=1) − L_2(p_1=0).",
        "",
        "| method | seed | test HV | ρ(p_1, L_1) | ρ(p_1, L_2) | worst step | spread L_1 / L_2 "
        "| training s | wall s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, rs in runs.items():
        for seed, r in zip(args.seeds, rs, strict=True):
            lines.append(
                f"| {label} | {seed} | {r['hv']:.4f} | {r['rho1']:+.3f} | {r['rho2']:+.3f} | "
                f"{r['viol']:+.4f} | {r['spread1']:.3f} / {r['spread2']:.3f} | "
                f"{r['train_s']:.1f} | {r['wall_s']:.1f} |")
        hv = np.array([r["hv"] for r in rs])
        lines.append(f"| {label} | mean | {hv.mean():.4f} | "
                     f"{np.nanmean([r['rho1'] for r in rs]):+.3f} | "
                     f"{np.nanmean([r['rho2'] for r in rs]):+.3f} | | | "
                     f"{np.mean([r['train_s'] for r in rs]):.1f} | |")
    lines += ["", "Mean over seeds at five preferences (test losses L, test accuracies A):", "",
              "| method | p = (p_1, p_2) | L_1 | L_2 | A_1 | A_2 |",
              "| --- | --- | ---: | ---: | ---: | ---: |"]
    for label, rs in runs.items():
        p1 = rs[0]["p1"]
        for target in SHOW_P1:
            i = int(np.argmin(np.abs(p1 - target)))
            F = np.mean([r["F"][i] for r in rs], axis=0)
            A = np.mean([r["acc"][i] for r in rs], axis=0)
            lines.append(f"| {label} | ({p1[i]:.1f}, {1 - p1[i]:.1f}) | {F[0]:.4f} | "
                         f"{F[1]:.4f} | {A[0]:.3f} | {A[1]:.3f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
