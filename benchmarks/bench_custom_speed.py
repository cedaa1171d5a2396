"""Benchmark: a user's torch function (from_function) trains as fast per step as a built-in.

ZDT1 (30 variables) written by hand in torch and wrapped by ``hybridmoo.problems.from_function``
against hybridmoo's built-in ``zdt1``, at equal settings (K preferences per step, hypernetwork
width, float32, CPU, 1 torch thread), and a third trainer on the same from_function without
the ideal and nadir points (the default normalisation then takes the reference point as nadir
and estimates the ideal online). The trainers
run interleaved, in rounds of ``--steps`` steps each (so a load change on a shared machine hits
all alike); the table gives the median ms per step over all timed steps and the ratios to the
built-in. The built-in and from_function trainers start from the same seed and must end on the
same front (same function), which the script checks.

    python benchmarks/bench_custom_speed.py [--rounds 5] [--steps 100]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from hybridmoo import problems
from hybridmoo.train import TrainConfig, Trainer

ROOT = Path(__file__).resolve().parents[1]
CASES = [(8, 64), (8, 256), (64, 256)]  # (K, hypernetwork width)


def zdt1(x: torch.Tensor) -> torch.Tensor:
    """ZDT1 in plain torch: `(..., n)` → `(..., 2)`."""
    f1 = x[..., 0]
    g = 1.0 + 9.0 / (x.shape[-1] - 1) * x[..., 1:].sum(dim=-1)
    f2 = g * (1.0 - torch.sqrt(f1 / g))
    return torch.stack([f1, f2], dim=-1)


def user_zdt1(n_var: int = 30, known: bool = True):
    """from_function(ZDT1); ``known``: pass the ideal and nadir points as the built-in has."""
    points = {"ideal": [0.0, 0.0], "nadir": [1.0, 1.0]} if known else {}
    return problems.from_function(zdt1, n_var=n_var, n_obj=2, lower=0.0, upper=1.0,
                                  ref_point=[1.1, 1.1], name="user_zdt1", **points)


def _timed(trainer: Trainer, steps: int) -> list[float]:
    out = []
    for _ in range(steps):
        t = time.perf_counter()
        trainer.step()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--out", default=str(ROOT / "results" / "custom_speed.md"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = []
    for K, width in CASES:
        cfg = TrainConfig(steps=10**6, n_prefs=K, n_eval=50, threads=1)
        hyper = {"width": width}
        trainers = {"built-in zdt1": Trainer(problems.get("zdt1", n_var=30), hyper, cfg, seed=0),
                    "from_function": Trainer(user_zdt1(), hyper, cfg, seed=0),
                    "no ideal/nadir": Trainer(user_zdt1(known=False), hyper, cfg, seed=0)}
        times: dict[str, list[float]] = {k: [] for k in trainers}
        for t in trainers.values():
            _timed(t, 10)  # warm-up
        for _ in range(args.rounds):
            for name, t in trainers.items():
                times[name] += _timed(t, args.steps)
        F = [trainers[k].evaluate()["F"] for k in ("built-in zdt1", "from_function")]
        same = bool(np.allclose(F[0], F[1], rtol=1e-4, atol=1e-5))
        ms = {k: 1000 * statistics.median(v) for k, v in times.items()}
        ratio = ms["from_function"] / ms["built-in zdt1"]
        free = ms["no ideal/nadir"] / ms["built-in zdt1"]
        rows.append((K, width, ms["built-in zdt1"], ms["from_function"], ratio, same,
                     ms["no ideal/nadir"], free))
        print(f"K={K:3d} width={width:4d}  built-in {ms['built-in zdt1']:.3f} ms  "
              f"from_function {ms['from_function']:.3f} ms  ratio {ratio:.3f}  same front {same}",
              flush=True)
    lines = [
        "# from_function vs a built-in problem: time per training step",
        "",
        f"Command: `python benchmarks/bench_custom_speed.py --rounds {args.rounds} --steps "
        f"{args.steps}`  ",
        f"Machine: {platform.machine()} CPU ({os.cpu_count()} cores, shared), 1 torch thread, "
        f"torch {torch.__version__}, Python {platform.python_version()}  ",
        "Problem: ZDT1, 30 variables; the built-in `zdt1` against the same function written in "
        "torch and wrapped by `from_function` with the same reference, ideal and nadir "
        "points. Default hypernetwork and training settings "
        "(Tchebycheff, Adam, float32) but K and width as listed; the three trainers run "
        f"interleaved, {args.rounds} rounds × {args.steps} steps each after 10 warm-up steps; "
        "median ms per step. \"same front\": both, from the same seed, end on the same front. "
        "The last two columns: from_function without `ideal`/`nadir`, so that the default "
        "normalisation (`normalize = \"auto\"`) takes the reference point as nadir and "
        "estimates the ideal online from the losses.",
        "",
        "| K | width | built-in ms / step | from_function ms / step | ratio | same front "
        "| no ideal/nadir ms / step | ratio |",
        "| ---: | ---: | ---: | ---: | ---: | :---: | ---: | ---: |",
    ]
    for K, w, a, b, r, same, c, r2 in rows:
        lines.append(f"| {K} | {w} | {a:.3f} | {b:.3f} | {r:.3f} | {'yes' if same else 'no'} "
                     f"| {c:.3f} | {r2:.3f} |")
    text = "\n".join(lines) + "\n"
    print()
    print(text)
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
