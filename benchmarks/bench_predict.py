"""Benchmark: per-preference generation latency (the real-time trade-off control).

Times, on the CPU, how long a trained hypernetwork takes to generate the solution of one
preference (and of a batch of 100), for

- the best trial of a study file (default results/quickstart.h5, ZDT2 decision vectors), as
  ``hybridmoo predict`` / ``StudyData.predict`` does it (hypernetwork forward only, and the whole
  predict call including the objective evaluation), and
- the PHN-size Multi-LeNet hypernetwork (3.28M parameters generating 31,910), freshly
  initialised (latency does not depend on the weights' values).

    python benchmarks/bench_predict.py [--study results/quickstart.h5] [--repeats 200]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import torch

import hybridmoo
from hybridmoo.hypernet import HypernetConfig, Hypernetwork, ModuleTarget
from hybridmoo.targets import MultiLeNet

ROOT = Path(__file__).resolve().parents[1]


def median_ms(fn, repeats: int) -> float:
    for _ in range(10):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--study", default=str(ROOT / "results" / "quickstart.h5"))
    ap.add_argument("--repeats", type=int, default=200)
    ap.add_argument("--out", default=str(ROOT / "results" / "bench_predict.md"))
    args = ap.parse_args()
    rows = []
    study = hybridmoo.load(args.study)
    tid = study.best_trial()
    trainer = study.hypernetwork(tid)
    net = trainer.net
    one = torch.tensor([[0.3, 0.7]], dtype=trainer.dtype)
    batch = hybridmoo.preferences.eval_preferences(2, 100, dtype=trainer.dtype)
    with torch.no_grad():
        rows.append((f"{study.problem_info['name']} trial {tid}: hypernetwork, 1 preference",
                     net.n_params, median_ms(lambda: net(one), args.repeats), 1))
        rows.append((f"{study.problem_info['name']} trial {tid}: hypernetwork, 100 preferences",
                     net.n_params, median_ms(lambda: net(batch), args.repeats), 100))
    rows.append((f"{study.problem_info['name']} trial {tid}: StudyData.predict (read trial, "
                 "rebuild, generate, evaluate)",
                 net.n_params, median_ms(lambda: study.predict(tid, [0.3, 0.7]), 20), 1))
    with torch.random.fork_rng():
        torch.manual_seed(0)
        phn = Hypernetwork(2, ModuleTarget(MultiLeNet()),
                           HypernetConfig(embed_dim=100, width=100, depth=2, head="tensor")
                           ).eval()
    with torch.no_grad():
        rows.append(("PHN-size Multi-LeNet hypernetwork, 1 preference", phn.n_params,
                     median_ms(lambda: phn(one.float()), args.repeats), 1))
        rows.append(("PHN-size Multi-LeNet hypernetwork, 100 preferences", phn.n_params,
                     median_ms(lambda: phn(batch.float()), args.repeats // 4), 100))
    shown = Path(args.study).resolve()
    shown = shown.relative_to(ROOT) if shown.is_relative_to(ROOT) else shown
    lines = [
        "# Generation latency per preference",
        "",
        f"Command: `python benchmarks/bench_predict.py --study {shown} --repeats "
        f"{args.repeats}`  ",
        f"Machine: {platform.machine()} CPU, {torch.get_num_threads()} torch threads, torch "
        f"{torch.__version__}, Python {platform.python_version()}; median wall time.",
        "",
        "| what | hypernetwork parameters | ms per call | ms per preference |",
        "| --- | ---: | ---: | ---: |",
    ]
    for what, n, ms, k in rows:
        lines.append(f"| {what} | {n:,} | {ms:.3f} | {ms / k:.4f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
