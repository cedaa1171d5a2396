"""Multi-MNIST benchmark: PHN-style training against hybridmoo's K-preference training.

Both runs use the same hypernetwork (the PHN-size one: 3.28M parameters generating the
31,910-parameter Multi-LeNet), the same images per step (256), the same optimiser and learning
rate, the same scalarisation (linear, as PHN-LS) and preference law (Dirichlet(0.2), PHN's), and
the same budget in steps, on the Multi-MNIST built from the shared 10,000 MNIST test images
(8,000 train / 1,000 val / 1,000 test overlays):

- PHN-style: one preference per step on all 256 images (K = 1);
- hybridmoo: K preferences per step (``--k``, default 4 and 8), the 256 images split among
  them (256/K each), one step (the K target networks run in a Python loop on the CPU, the
  faster path there; vmap on GPUs);
- hybridmoo's defaults (``--defaults``): ``hybridmoo.train("multi_mnist", steps=...)`` as a user
  runs it, with the library's hypernetwork, optimiser settings, schedule and sampler, over
  the same number of steps (the library's choice against the paper's, not a like-for-like
  ablation).

The test HV (per-task test cross-entropies, reference point (2, 2)) is traced every
``--eval-every`` steps against training time (evaluation excluded). The table reports the final
HVs, the training time PHN-style needs for its final HV, and the time hybridmoo's K-preference
training needs to first reach that HV, as a share of PHN-style's training time (goal: at most
half) and, stricter, of the time PHN-style first reached it. ``--study`` adds the best trial of
an outer-loop study run at the same per-trial budget. Writes results/mtl.md and
results/mtl_hv_vs_time.png.

    python benchmarks/bench_mtl.py [--steps 300] [--eval-every 25] [--seeds 0 1 2] [--k 4 8]
        [--defaults] [--study results/studies/multimnist.h5]
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

import numpy as np
import torch

import hybridmoo

ROOT = Path(__file__).resolve().parents[1]
PHN = {"embed_dim": 100, "width": 100, "depth": 2, "head": "tensor"}


DEFAULTS = 0  # the key of the library-defaults run


def label(n_prefs: int) -> str:
    """Row and legend label of a run with ``n_prefs`` preferences per step (0: defaults)."""
    if n_prefs == DEFAULTS:
        return "hybridmoo's defaults (its hypernetwork, lr, schedule, sampler)"
    return ("PHN-style (K = 1 × 256 images)" if n_prefs == 1 else
            f"hybridmoo (K = {n_prefs} × {256 // n_prefs} images)")


def run(n_prefs: int, seed: int, args) -> hybridmoo.TrialResult:
    common = dict(problem_options={"source": "t10k", "seed": 0}, seed=seed, keep_weights=False,
                  steps=args.steps, n_eval=args.n_eval, eval_every=args.eval_every,
                  threads=args.threads)
    if n_prefs == DEFAULTS:
        return hybridmoo.train("multi_mnist", **common)
    return hybridmoo.train(
        "multi_mnist", hypernet=PHN, n_prefs=n_prefs, batch_size=256, split_batch=True,
        lr=args.lr, optimizer="adam", scalarization={"name": "linear"},
        sampler={"name": "dirichlet", "alpha": 0.2}, **common)


def first_time_reaching(result, hv: float) -> float:
    """Training seconds at the first trace point with HV ≥ hv (NaN if never)."""
    t, h = result.trace["seconds"], result.trace["hv"]
    idx = np.nonzero(h >= hv)[0]
    return float(t[idx[0]]) if len(idx) else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--eval-every", type=int, default=25)
    ap.add_argument("--n-eval", type=int, default=11)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--k", type=int, nargs="+", default=[4, 8],
                    help="preferences per step of hybridmoo's runs (the 256 images split)")
    ap.add_argument("--defaults", action="store_true",
                    help="add a run of hybridmoo's library defaults over the same steps")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--study", help="an outer-loop study file at the same per-trial budget")
    args = ap.parse_args()
    runs: dict[tuple[int, int], hybridmoo.TrialResult] = {}
    keys = [1, *args.k] + ([DEFAULTS] if args.defaults else [])
    for seed in args.seeds:
        for K in keys:
            r = run(K, seed, args)
            if not r.ok:
                raise SystemExit(f"a run failed (K = {K}, seed {seed}): {r.error}")
            runs[K, seed] = r
    cmd = "python benchmarks/bench_mtl.py " + " ".join(sys.argv[1:])
    lines = [
        "# Multi-MNIST: PHN-style against K-preference training",
        "",
        f"Command: `{cmd.strip()}`  ",
        f"Machine: {platform.machine()} CPU, {args.threads} torch threads, torch "
        f"{torch.__version__}, Python {platform.python_version()}.  ",
        "Data: Multi-MNIST built from the 10,000 MNIST test images (8,000 train / 1,000 val / "
        "1,000 test overlays, `source = \"t10k\"`); test HV of the two test cross-entropies, "
        f"reference point (2, 2), {args.n_eval} evenly spaced evaluation preferences. Every run "
        "but the defaults': the PHN-size hypernetwork (3,275,220 parameters), 256 images per "
        f"step, Adam lr {args.lr}, linear scalarisation (PHN-LS), Dirichlet(0.2) preferences. "
        + ("The defaults' run: `hybridmoo.train(\"multi_mnist\", steps=...)` with the "
           "library's hypernetwork, lr, gradient clipping, cosine schedule, scalarisation and "
           "sampler (results/defaults.md). " if args.defaults else "")
        + f"All runs: {args.steps} steps. Times are training time (evaluation excluded).",
        "",
        "ratio: the training time the run needs to first reach PHN-style's final test HV (same "
        "seed), as a share of PHN-style's whole training time (the goal: at most 0.5); strict: "
        "as a share of the time PHN-style itself first reached that HV (its HV oscillates).",
        "",
        "| training | seed | final test HV | mean task accuracy at λ = (½, ½) | training time (s) "
        "| time to PHN-style's final HV (s) | ratio | strict |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    ratios: dict[int, list[float]] = {K: [] for K in keys if K != 1}
    for seed in args.seeds:
        phn = runs[1, seed]
        t_phn = first_time_reaching(phn, phn.hv)
        for K in keys:
            r = runs[K, seed]
            t = first_time_reaching(r, phn.hv)
            acc = r.extra.get("accuracy") if isinstance(r.extra, dict) else None
            mid = "-"
            if acc is not None:
                a = np.asarray(acc, dtype=float)
                mid = f"{a[len(a) // 2].mean():.3f}"
            ratio = t / phn.train_time if phn.train_time > 0 else float("nan")
            strict = t / t_phn if t_phn > 0 else float("nan")  # 0: PHN-style never left HV 0
            if K != 1:
                ratios[K].append(ratio)
            lines.append(f"| {label(K)} | {seed} | {r.hv:.4f} | {mid} | {r.train_time:.1f} | "
                         f"{t:.1f} | {ratio:.2f} | {strict:.2f} |")
    lines.append("")
    for K, v in ratios.items():
        m = float(np.mean(v))  # NaN (never reached) propagates: not met
        name = label(K) if K == DEFAULTS else f"K = {K}"
        lines.append(f"- {name}: mean ratio **{m:.2f}** over {len(v)} seed(s) (goal ≤ 0.5: "
                     f"{'met' if m <= 0.5 else 'not met'}).")
    if args.study:
        s = hybridmoo.load(args.study)
        best = s.best_trial()
        rec = next(r for r in s.trial_records() if r["trial_id"] == best)
        cfg = ", ".join(f"{k}={v}" for k, v in rec.items() if "." in k and not k.startswith(
            "outer."))
        lines += ["", f"Outer loop ({args.study}, {len(s.trial_ids())} trials, "
                  f"{rec['steps']} steps per trial): best test HV {rec['hv']:.4f} "
                  f"(trial {best}: {cfg})."]
    text = "\n".join(lines) + "\n"
    print(text)
    (ROOT / "results" / "mtl.md").write_text(text)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seed = args.seeds[0]
    phn = runs[1, seed]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for j, K in enumerate(keys):
        r = runs[K, seed]
        ax.plot(r.trace["seconds"], r.trace["hv"], "o-", ms=3, color=f"C{j}", label=label(K))
    ax.axhline(phn.hv, color="C0", ls=":", lw=1, label=f"PHN-style final HV {phn.hv:.3f}")
    ax.set_xlabel("training time (s)")
    ax.set_ylabel("test hypervolume (ref. (2, 2))")
    ax.set_title(f"Multi-MNIST (t10k source): HV against training time (seed {seed})")
    ax.set_ylim(bottom=max(0.0, min(np.nanmin(runs[k].trace["hv"][1:]) for k in runs) - 0.05))
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(ROOT / "results" / "mtl_hv_vs_time.png", dpi=120)


if __name__ == "__main__":
    main()
