"""Benchmark: reproduce HV-PSL's comparison on ZDT1 / ZDT2 (Zhang et al., NeurIPS 2023).

The paper's claim (ALGORITHMS.md §5): linear scalarisation (LS) collapses on ZDT2's concave
front (angular range 0), while the hypervolume losses ``hv1`` (HV-PSL) and ``hv2`` spread the
learned front and reach a larger HV; on the convex ZDT1 all four losses are close. The paper's
draft tables (mean of 3 seeds; HV with reference point 3.5 per objective, pymoo) read

    ZDT1: LS 11.89, Tche 11.49, HV1 11.79, HV2 11.77
    ZDT2: LS  8.75, Tche 11.19, HV1 11.30, HV2 11.51

(the exact HV of the true fronts at 3.5: ZDT1 12.25 − 1/3 = 11.917, ZDT2 12.25 − 2/3 = 11.583).

Settings, from the official code (``xzhang2523/hvpsl``: ``psl_main.py``, ``moo_data.py``,
``model/psl_model.py``): the Pareto set model is raw λ → 3 × 128 ReLU → sigmoid to the bounds
(``HypernetConfig(embed_dim=0, width=128, depth=3)``); 256 directions per step drawn uniformly
in angle on the positive unit circle, clamped to [0.01, 0.99] (sampler ``sphere``); 1,000 plain
SGD steps (momentum 0) with the code's learning rates (LS and Tche 0.1, hv1 0.01, hv2 0.01) and
gradient-norm clipping (4.0 for hv1, LS and Tche; 2.0 for hv2); hv1's reference point is
nadir + 0.4 = (1.4, 1.4) with the ideal point 0; n_var = 5 (``psl_main.py``'s ``--n-var``
default; ALGORITHMS.md §5(b)). Also run, our addition: n_var = 30 (the ZDT standard), where hv1
behaves differently on ZDT1 (see the report). Not recovered, our choice: LS's learning rate (set
equal to Tche's). Evaluation: 60 evenly spread directions;
HV at (3.5, 3.5) (the paper's) and, for scale, the share of the true front's HV at the problem's
own reference point (1.1, 1.1); Range = spread of the polar angles of the objective vectors
(radians, as the paper's "Range"); Sparsity = the largest squared distance between solutions of
consecutive directions (smaller is more even).

Usage::

    python benchmarks/bench_hvpsl.py                    # ZDT1, ZDT2, n = 5 and 30, 3 seeds
                                                        # → results/hvpsl.md
    python benchmarks/bench_hvpsl.py --steps 200 --seeds 0 --out /tmp/hvpsl.md   # smoke
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import torch

from hybridmoo import metrics
from hybridmoo import problems as registry
from hybridmoo.train import TrainConfig, Trainer, train

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "results" / "hvpsl.md"

# loss → (scalarisation, SGD learning rate, gradient clip)  [moo_data.py, psl_main.py]
LOSSES = {
    "LS": ({"name": "linear"}, 0.1, 4.0),
    "Tche": ({"name": "tchebycheff"}, 0.1, 4.0),
    "HV1": ({"name": "hv1"}, 0.01, 4.0),
    "HV2": ({"name": "hv2"}, 0.01, 2.0),
}
PAPER = {"zdt1": {"LS": 11.89, "Tche": 11.49, "HV1": 11.79, "HV2": 11.77},
         "zdt2": {"LS": 8.75, "Tche": 11.19, "HV1": 11.30, "HV2": 11.51}}
TRUE_HV35 = {"zdt1": 12.25 - 1 / 3, "zdt2": 12.25 - 2 / 3}


def angular_range(F: np.ndarray) -> float:
    """Spread (radians) of the polar angles of 2-objective vectors `(n, 2)`."""
    ang = np.arctan2(F[:, 1], F[:, 0])
    return float(ang.max() - ang.min())


def sparsity(F: np.ndarray) -> float:
    """Largest squared distance between consecutive rows of `(n, 2)` (ordered by direction)."""
    return float((np.diff(F, axis=0) ** 2).sum(axis=1).max())


def _config(loss: str, steps: int) -> TrainConfig:
    scal, lr, clip = LOSSES[loss]
    return TrainConfig(steps=steps, n_prefs=256, optimizer="sgd", momentum=0.0, lr=lr,
                       grad_clip=clip, sampler={"name": "sphere", "clamp": [0.01, 0.99]},
                       scalarization=scal, hv_ref=(1.4, 1.4), eval_every=steps, n_eval=60,
                       threads=1)


MODEL = {"embed_dim": 0, "width": 128, "depth": 3}
TRACE_STEPS = (0, 25, 50, 100, 200, 1000)


def trace_hv1_zdt1(n_var: int, seed: int = 0) -> list[dict]:
    """HV1 on ZDT1: where the learned solutions are early in training (64 spread directions).

    Per checkpoint: the share of directions whose objective vector lies inside the box below
    the reference point (1.4, 1.4), the mean and minimum of x_1 (= f_1) and the mean of ZDT1's
    g = 1 + 9·mean(x_2..x_n).
    """
    p = registry.get("zdt1", n_var=n_var)
    t = Trainer(p, hypernet=MODEL, config=_config("HV1", max(TRACE_STEPS)), seed=seed)
    th = torch.linspace(0.01, np.pi / 2 - 0.01, 64, dtype=torch.float64)
    lam = torch.stack([torch.sin(th), torch.cos(th)], 1)
    rows = []
    for step in range(max(TRACE_STEPS) + 1):
        if step in TRACE_STEPS:
            with torch.no_grad():
                x = t.generate(lam)["x"].to(torch.float64)
                F = p.evaluate(x)
            rows.append({"step": step, "inside": float((F < 1.4).all(1).double().mean()),
                         "x1": float(x[:, 0].mean()), "x1_min": float(x[:, 0].min()),
                         "g": float((1 + 9 * x[:, 1:].mean(1)).mean())})
        if step < max(TRACE_STEPS):
            t.step()
    return rows


def run_one(problem: str, loss: str, seed: int, steps: int, n_var: int) -> dict:
    p = registry.get(problem, n_var=n_var)
    t0 = time.perf_counter()
    r = train(p, hypernet=MODEL, config=_config(loss, steps), seed=seed)
    if not r.ok:
        raise RuntimeError(f"{problem}/{loss}/seed {seed} failed: {r.error}")
    F = np.asarray(r.F, dtype=np.float64)
    order = np.argsort(np.asarray(r.prefs)[:, 0])
    F = F[order]
    return {"hv35": metrics.hypervolume(F, [3.5, 3.5]),
            "hv_ratio": r.hv / metrics.hypervolume(p.pareto_front(1000), p.ref_point),
            "range": angular_range(F), "sparsity": sparsity(F),
            "seconds": time.perf_counter() - t0}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--problems", nargs="+", default=["zdt1", "zdt2"], choices=list(PAPER))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--n-var", nargs="+", type=int, default=[5, 30])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for n in args.n_var:
        for prob in args.problems:
            for loss in LOSSES:
                runs = [run_one(prob, loss, s, args.steps, n) for s in args.seeds]
                agg = {k: (float(np.mean([r[k] for r in runs])),
                           float(np.std([r[k] for r in runs]))) for k in runs[0]}
                rows.append((n, prob, loss, agg))
                print(n, prob, loss, {k: round(v[0], 4) for k, v in agg.items()}, flush=True)
    cmd = "python benchmarks/bench_hvpsl.py" + ("" if argv is None else " " + " ".join(argv))
    lines = [
        "# HV-PSL reproduction: LS collapses on ZDT2, HV losses spread (Zhang et al. 2023)",
        "",
        f"Machine: {platform.machine()} CPU ({torch.get_num_threads()} torch thread), no GPU, "
        f"torch {torch.__version__}, Python {platform.python_version()}. Command: `{cmd}`.",
        f"Settings: n_var = {', '.join(map(str, args.n_var))}, {args.steps} SGD steps × 256 "
        f"directions, seeds {args.seeds}; see the script's docstring for every setting and its "
        "source. The official code's default is n_var = 5.",
        "",
        "| n_var | problem | loss | HV@3.5 (mean ± std) | paper HV@3.5 | true front HV@3.5 | "
        "% true HV @ (1.1, 1.1) | Range (rad) | Sparsity | s/run |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n, prob, loss, a in rows:
        lines.append(
            f"| {n} | {prob.upper()} | {loss} | {a['hv35'][0]:.3f} ± {a['hv35'][1]:.3f} | "
            f"{PAPER[prob][loss]:.2f} | {TRUE_HV35[prob]:.3f} | {100 * a['hv_ratio'][0]:.2f} | "
            f"{a['range'][0]:.2f} | {a['sparsity'][0]:.2e} | {a['seconds'][0]:.1f} |"
        )
    res = {(n, p, l): a for n, p, l, a in rows}
    lines += ["", "## What was reproduced (generated from the table above)", ""]
    for n in args.n_var:
        for prob in args.problems:
            r = {loss: res[(n, prob, loss)] for loss in LOSSES}
            best = max(LOSSES, key=lambda l: r[l]["hv35"][0])
            gap = {loss: r[loss]["hv35"][0] - PAPER[prob][loss] for loss in LOSSES}
            within = [loss for loss in LOSSES if abs(gap[loss]) <= 0.1]
            collapsed = [loss for loss in LOSSES if r[loss]["range"][0] < 0.1]
            lines.append(
                f"- n_var = {n}, {prob.upper()}: highest HV@3.5 {best} "
                f"({r[best]['hv35'][0]:.3f}); LS {r['LS']['hv35'][0]:.3f} vs HV1 "
                f"{r['HV1']['hv35'][0]:.3f} (paper: LS {PAPER[prob]['LS']:.2f}, HV1 "
                f"{PAPER[prob]['HV1']:.2f}); within 0.1 of the paper: "
                f"{', '.join(within) or 'none'}; collapsed to one end (range < 0.1 rad): "
                f"{', '.join(collapsed) or 'none'}."
            )
    if "zdt1" in args.problems:
        lines += [
            "",
            "## Why HV1 depends on n_var on ZDT1 (seed 0, traced every few steps)",
            "",
            "| n_var | step | directions inside the (1.4, 1.4) box | mean x_1 (min) | mean g |",
            "|---|---|---|---|---|",
        ]
        for n in args.n_var:
            for row in trace_hv1_zdt1(n):
                lines.append(f"| {n} | {row['step']} | {row['inside']:.2f} | {row['x1']:.3f} "
                             f"({row['x1_min']:.3f}) | {row['g']:.2f} |")
        lines += [
            "",
            "All solutions start outside the box (g ≈ 5.5), where hv1 is "
            "−ρ = max_i (f_i − r_i)/λ_i and only f_2 = g·(1 − √(f_1/g)) carries a gradient. "
            "f_2 falls both by raising x_1 and by lowering g, whose slope per variable is "
            "9/(n_var − 1). When that slope is "
            "small (n_var = 30) x_1 wins the race and reaches the sigmoid's saturation before "
            "the solutions enter the box; saturated, it gets too little gradient to come back, "
            "and every direction ends at the end point (1, 0). With the official n_var = 5 the "
            "solutions enter the box with x_1 unsaturated and spread along the front.",
        ]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
