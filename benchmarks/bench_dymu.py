"""DYMU on Multi-MNIST: HV, uniformity and cost at c ∈ {0, 0.5, 1}, beside PHN-LS and PHN-BN.

DYMU (Raychaudhuri et al., CVPR 2022; :mod:`hybridmoo.dymu`) is trained on Multi-MNIST built from
the shared 10,000 MNIST test images (8,000 train / 1,000 val / 1,000 test overlays): two
single-task CNN streams (stage 0), the edge hypernet (stage 1), the weight hypernet (stage 2).
Its fronts are measured on 20 evenly spread task preferences at every resource preference c:
HV of the two test cross-entropies (reference point (2, 2)), mean uniformity
``1 − KL(L̂ ‖ 1/2)``, mean cost (active-parameter ratio of the chosen trees) and mean FLOPs
per example (convolutions and linear layers, counted by torch's FLOP counter). Beside it: the
stage-1 networks without batch-norm adaptation, the anchor net's own tree (two single-task
networks, cost 1), PHN-LS (hybridmoo's ``phn_ls``: a Pareto HyperNetwork generating a
MultiLeNet) and PHN-BN (``phn_bn``: one hard-sharing network of the same blocks whose batch
norms alone are generated), each given the same number of optimiser steps and images per step
as DYMU in all. Every seed trains all of them; the table gives mean ± standard deviation.

    python benchmarks/bench_dymu.py [--anchor-steps 400] [--edge-steps 800]
        [--weight-steps 400] [--batch-size 64] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import torch

import hybridmoo.baselines.dymu  # noqa: F401  (registers "dymu")
import hybridmoo.baselines.phn_bn  # noqa: F401  (registers "phn_bn")
from hybridmoo import baselines, metrics, problems
from hybridmoo.dymu import DymuConfig, train_dymu

ROOT = Path(__file__).resolve().parents[1]


def one_seed(problem, cfg: DymuConfig, args, seed: int) -> dict:
    """Train DYMU, PHN-LS and PHN-BN with one seed; the rows of the table and the run."""
    t0 = time.perf_counter()
    res = train_dymu(problem, cfg, seed=seed)
    t_dymu = time.perf_counter() - t0
    total = res.steps["anchor"] + res.steps["edge"] + res.steps["weight"]
    t1 = time.perf_counter()
    phn = baselines.run("phn_ls", problem, baselines.Budget("steps", total), seed=seed,
                        n_eval=args.n_eval, threads=args.threads,
                        train={"batch_size": args.batch_size, "lr": args.phn_lr})
    t_phn = time.perf_counter() - t1
    t2 = time.perf_counter()
    w = res.steps["weight"]
    bn = baselines.run("phn_bn", problem, baselines.Budget("steps", total), seed=seed,
                       n_eval=args.n_eval, threads=args.threads,
                       stage_fractions=(total - w, 0, w),
                       config={"batch_size": args.batch_size, "widths": list(cfg.widths)})
    t_bn = time.perf_counter() - t2
    for name, r in (("PHN-LS", phn), ("PHN-BN", bn)):
        if not r.ok:
            raise SystemExit(f"{name} failed (seed {seed}): {r.error}")
    rows: dict[str, tuple] = {}
    for c, ev in res.evals.items():
        s = ev.summary()
        rows[f"DYMU, c = {c:g}"] = (ev.hv, s["uniformity"], s["cost"], s["flops"],
                                    float(np.mean(ev.accuracy)))
    for c in (0.0, 1.0):
        ev = res.evaluate(None, c, adapted=False)
        s = ev.summary()
        rows[f"DYMU stage 1 only (no BN adaptation), c = {c:g}"] = (
            ev.hv, s["uniformity"], s["cost"], s["flops"], float(np.mean(ev.accuracy)))
    anchor_F, prefs = res.anchor_losses[None, :], res.prefs
    full = res.evals[0.0].anchor_flops
    rows["anchor net's own tree (two single-task CNNs)"] = (
        metrics.hypervolume(anchor_F, res.data.ref_point),
        float(np.mean(metrics.uniformity(np.repeat(anchor_F, len(prefs), 0), prefs))), 1.0,
        full, float("nan"))
    bn_acc = float(bn.extra["by_c"][0].get("accuracy", np.nan))
    rows["PHN-BN (shared trunk, generated batch norms)"] = (
        bn.hv, bn.extra["uniformity"], bn.extra["cost"], bn.extra["by_c"][0]["flops"], bn_acc)
    rows[f"PHN-LS ({total} steps, MultiLeNet)"] = (
        phn.hv, float(np.mean(metrics.uniformity(phn.F, phn.prefs))), float("nan"),
        float("nan"), float("nan"))
    return {"rows": rows, "res": res, "phn": phn, "bn": bn,
            "times": {"dymu": t_dymu, "phn_ls": t_phn, "phn_bn": t_bn}, "total": total}


def fmt(values, digits: int) -> str:
    v = np.asarray(values, dtype=np.float64)
    if np.isnan(v).all():
        return "n/a"
    if len(v) == 1:
        return f"{v[0]:.{digits}f}"
    return f"{np.mean(v):.{digits}f} ± {np.std(v, ddof=1):.{digits}f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--anchor-steps", type=int, default=400, help="stage 0 steps per stream")
    ap.add_argument("--edge-steps", type=int, default=800, help="stage 1 steps")
    ap.add_argument("--weight-steps", type=int, default=400, help="stage 2 steps")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lambda-active", type=float, default=1.0)
    ap.add_argument("--n-eval", type=int, default=20)
    ap.add_argument("--phn-lr", type=float, default=1e-3)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "results" / "dymu.md"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    popt = {"source": "t10k", "seed": 0}
    problem = problems.get("multi_mnist", **popt)
    cfg = DymuConfig(anchor_steps=args.anchor_steps, edge_steps=args.edge_steps,
                     weight_steps=args.weight_steps, batch_size=args.batch_size,
                     lambda_active=args.lambda_active, n_eval=args.n_eval,
                     eval_c=(0.0, 0.5, 1.0), threads=args.threads)
    runs = []
    for seed in args.seeds:
        runs.append(one_seed(problem, cfg, args, seed))
        print(f"seed {seed}: " + ", ".join(f"{k} {v:.0f} s" for k, v in runs[-1]["times"].items()),
              flush=True)
    first = runs[0]
    res, total = first["res"], first["total"]
    ref, prefs = res.data.ref_point, res.prefs
    N, L = res.data.n_tasks, len(cfg.widths)
    n = len(runs)
    times = {k: float(np.mean([r["times"][k] for r in runs])) for k in first["times"]}
    seeds = " ".join(map(str, args.seeds))
    lines = [
        "# DYMU on Multi-MNIST (CPU scale)",
        "",
        "Command: `python benchmarks/bench_dymu.py --anchor-steps "
        f"{args.anchor_steps} --edge-steps {args.edge_steps} --weight-steps "
        f"{args.weight_steps} --batch-size {args.batch_size} --lambda-active "
        f"{args.lambda_active} --n-eval {args.n_eval} --phn-lr {args.phn_lr} --seeds "
        f"{seeds} --threads {args.threads}`  ",
        f"Machine: 2-core {platform.machine()} CPU, no GPU, torch "
        f"{torch.__version__}, Python {platform.python_version()}, {args.threads} torch "
        "thread(s).  ",
        "Data: Multi-MNIST from the 10,000 MNIST test images (8,000 train / 1,000 val / 1,000 "
        "test overlays, `source = \"t10k\"`); objectives the two test cross-entropies; HV "
        f"reference point ({ref[0]:g}, {ref[1]:g}); {len(prefs)} evenly spread task "
        "preferences.  ",
        f"DYMU: {N} streams of {L} blocks (widths {list(cfg.widths)}, images average-pooled "
        f"to 18×18), {res.steps['anchor']} anchor steps in all, {res.steps['edge']} edge "
        f"steps, {res.steps['weight']} weight steps, batch {cfg.batch_size}, "
        f"{cfg.n_prefs} preferences per step, λ_A = {cfg.lambda_active:g}, λ_I = "
        f"{cfg.lambda_inactive:g}, τ = 0.6/N, ζ = 5 × 0.97 every {cfg.zeta_interval()} steps, "
        f"loss scale `{cfg.loss_scale}` (seed {args.seeds[0]}: w = "
        f"{np.round(res.loss_weights, 2).tolist()}, RSA affinity A(1, 2) = "
        f"{res.affinity[0, 1]:.3f}). Mean training time per seed {times['dymu']:.0f} s.  ",
        "PHN-BN: the same blocks as one shared trunk with both heads, "
        f"{total - res.steps['weight']} steps on the mean task loss, then "
        f"{res.steps['weight']} steps of the batch-norm hypernetwork; {times['phn_bn']:.0f} s.  ",
        f"PHN-LS: hybridmoo's `phn_ls` with batch {args.batch_size} and lr {args.phn_lr:g}, "
        f"{total} steps (DYMU's total), {times['phn_ls']:.0f} s.  ",
        f"Seeds: {seeds} (mean ± standard deviation over {n} seed{'s' if n > 1 else ''}). "
        "FLOPs: per example, convolutions and linear layers (torch.utils.flop_counter), in "
        "thousands.",
        "",
        "| model | test HV | uniformity | cost (active params) | kFLOPs per example | "
        "mean test accuracy |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in first["rows"]:
        cols = list(zip(*[r["rows"][name] for r in runs], strict=True))
        lines.append(f"| {name} | {fmt(cols[0], 4)} | {fmt(cols[1], 4)} | {fmt(cols[2], 3)} | "
                     f"{fmt(np.asarray(cols[3]) / 1e3, 0)} | {fmt(cols[4], 3)} |")
    lines += ["", f"Trees chosen with seed {args.seeds[0]} (parents per choice layer, rows: "
              "layer 0 … L−1 (heads); entry j: the stream node j reads) and test losses:", "",
              "| r | c = 0: tree | cost | losses | c = 1: tree | cost | losses |",
              "| --- | --- | ---: | --- | --- | ---: | --- |"]
    e0, e1 = res.evals[0.0], res.evals[1.0]
    for k in range(0, len(prefs), max(1, len(prefs) // 7)):
        lines.append(
            f"| ({prefs[k, 0]:.2f}, {prefs[k, 1]:.2f}) | {e0.parents[k].tolist()} | "
            f"{e0.cost[k]:.2f} | {np.round(e0.F[k], 2).tolist()} | "
            f"{e1.parents[k].tolist()} | {e1.cost[k]:.2f} | {np.round(e1.F[k], 2).tolist()} |")
    # the paper's qualitative claims, checked seed by seed
    from hybridmoo.dymu import used_nodes

    def count(pred) -> str:
        k = sum(bool(pred(r)) for r in runs)
        verdict = "reproduced" if k == n else ("not reproduced" if k == 0 else "mixed")
        return f"{k} of {n} seeds: {verdict}"

    def costs(r) -> list[float]:
        return [float(np.mean(r["res"].evals[c].cost)) for c in (0.0, 0.5, 1.0)]

    def single(r, c) -> float:
        ev = r["res"].evals[c]
        skewed = prefs.max(1) >= 0.8
        used = used_nodes(torch.as_tensor(ev.parents[skewed]))[:, :L]
        return float((used.sum(-1) == 1).all(-1).float().mean())

    def best(r, key):
        return max(e.hv if key == "hv" else float(np.mean(e.uniformity))
                   for e in r["res"].evals.values())

    def unif(res_) -> float:
        return float(np.mean(metrics.uniformity(res_.F, res_.prefs)))

    cs = np.array([costs(r) for r in runs])
    lines += [
        "", "Claims of the paper, checked on every seed:", "",
        f"- cost falls as c rises: mean cost {cs[:, 0].mean():.3f} (c = 0), "
        f"{cs[:, 1].mean():.3f} (c = 0.5), {cs[:, 2].mean():.3f} (c = 1); lower at c = 1 than "
        f"at c = 0 in {count(lambda r: costs(r)[2] < costs(r)[0])}.",
        "- skewed preferences (max r ≥ 0.8) give single-stream trees: "
        f"{np.mean([single(r, 0.0) for r in runs]):.0%} of them at c = 0, "
        f"{np.mean([single(r, 1.0) for r in runs]):.0%} at c = 1; at least 80 % at both in "
        f"{count(lambda r: min(single(r, 0.0), single(r, 1.0)) >= 0.8)}.",
        "- higher HV than PHN (best DYMU c vs PHN-LS): "
        f"{count(lambda r: best(r, 'hv') > r['phn'].hv)}.",
        f"- higher HV than PHN-BN: {count(lambda r: best(r, 'hv') > r['bn'].hv)}.",
        "- higher uniformity than PHN-LS: "
        f"{count(lambda r: best(r, 'u') > unif(r['phn']))}; than PHN-BN: "
        f"{count(lambda r: best(r, 'u') > unif(r['bn']))}.",
        "- stage 2 (BN modulation) improves on stage 1 at c = 0: "
        f"{count(lambda r: r['res'].evals[0.0].hv > r['res'].evaluate(None, 0.0, False).hv)}.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
