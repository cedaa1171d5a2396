"""Benchmark: K preferences per step at about the cost of one.

Times one training step of the PHN-size Multi-LeNet hypernetwork (≈3.27M parameters generating
the 31,910-parameter LeNet of Pareto HyperNetworks) on 256 random images of 36×36, for

  (a) PHN's way: K = 1 preference on all 256 images;
  (b) K = 8 preferences on 32 images each, Python loop over the 8 target networks;
  (c) the same, one batched pass (torch.func.vmap over functional_call);
  (d) K = 8 preferences on all 256 images each, loop and batched.

It prints ms per step (median of the timed steps) and preference-samples per second (K × images
per preference / step time), with torch's thread count, and writes the table to
results/bench_kprefs.md.

    python benchmarks/bench_kprefs.py [--steps 30] [--warmup 5] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import torch

from hybridmoo.hypernet import HypernetConfig
from hybridmoo.targets import MultiLeNet
from hybridmoo.tasks import DataTask, multitask_cross_entropy
from hybridmoo.train import TrainConfig, Trainer

ROOT = Path(__file__).resolve().parents[1]
PHN_HYPERNET = HypernetConfig(embed_dim=100, width=100, depth=2, head="tensor")


class RandomImages:
    """A stand-in Multi-MNIST problem with random images (timing only)."""

    name = "random-images"
    n_obj = 2
    n_var = 0
    ideal = None
    ref_point = torch.tensor([2.0, 2.0], dtype=torch.float64)

    def __init__(self, n: int = 2048, seed: int = 0) -> None:
        g = torch.Generator().manual_seed(seed)
        self.X = torch.rand(n, 1, 36, 36, generator=g)
        self.Y = torch.randint(0, 10, (n, 2), generator=g)

    def make_task(self, config: TrainConfig, dtype, device) -> DataTask:
        task = DataTask(MultiLeNet(), (self.X, self.Y), (self.X[:256], self.Y[:256]),
                        multitask_cross_entropy, 2, batch_size=config.batch_size,
                        n_prefs=config.n_prefs, split_batch=config.split_batch,
                        batched=config.batched)
        return task.to(device, dtype)

    def pareto_front(self, n: int):
        return None

    def describe(self) -> dict:
        return {"name": self.name}


def time_steps(trainer: Trainer, steps: int, warmup: int) -> float:
    """Median wall time of one step in ms."""
    sync = torch.cuda.synchronize if trainer.device.type == "cuda" else (lambda: None)
    for _ in range(warmup):
        trainer.step()
    times = []
    for _ in range(steps):
        sync()
        t0 = time.perf_counter()
        trainer.step()
        sync()
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", default=str(ROOT / "results" / "bench_kprefs.md"))
    args = ap.parse_args()
    problem = RandomImages()
    cases = [
        ("(a) PHN: K=1, 256 images", dict(n_prefs=1, split_batch=True, batched=True)),
        ("(b) K=8 x 32 images, loop", dict(n_prefs=8, split_batch=True, batched=False)),
        ("(c) K=8 x 32 images, batched", dict(n_prefs=8, split_batch=True, batched=True)),
        ("(d) K=8 x 256 images, loop", dict(n_prefs=8, split_batch=False, batched=False)),
        ("(d) K=8 x 256 images, batched", dict(n_prefs=8, split_batch=False, batched=True)),
    ]
    rows = []
    for label, kw in cases:
        cfg = TrainConfig(steps=10**6, batch_size=256, lr=1e-4, device=args.device,
                          scalarization={"name": "linear"}, **kw)
        trainer = Trainer(problem, PHN_HYPERNET, cfg, seed=0)
        ms = time_steps(trainer, args.steps, args.warmup)
        per_pref = 256 // kw["n_prefs"] if kw["split_batch"] else 256
        samples = kw["n_prefs"] * per_pref
        rows.append((label, kw["n_prefs"], per_pref, ms, samples / (ms / 1000)))
        print(f"{label:34s} {ms:9.1f} ms/step", flush=True)
    base = rows[0][3]
    dev = torch.cuda.get_device_name() if args.device.startswith("cuda") else \
        f"{platform.processor() or platform.machine()} CPU"
    lines = [
        "# K preferences per step: step time of the PHN-size LeNet hypernetwork",
        "",
        f"Command: `python benchmarks/bench_kprefs.py --steps {args.steps} --warmup "
        f"{args.warmup} --device {args.device}`  ",
        f"Machine: {dev}, {torch.get_num_threads()} torch threads, torch {torch.__version__}, "
        f"{platform.python_version()}  ",
        f"Hypernetwork: {trainer.net.n_params:,} parameters generating "
        f"{trainer.net.n_target_params:,} target parameters (Multi-LeNet); 256 random 36×36 "
        "images per step; Adam; median of the timed steps.",
        "",
        "| case | K | images / preference | ms / step | × (a) | preference-samples / s |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, k, per, ms, sps in rows:
        lines.append(f"| {label} | {k} | {per} | {ms:.1f} | {ms / base:.2f} | {sps:,.0f} |")
    text = "\n".join(lines) + "\n"
    print()
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
