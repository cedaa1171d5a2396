"""Benchmark: quality of the learned Pareto front (hypervolume against the true/reference front).

Trains one preference-conditioned hypernetwork per (problem, scalarisation, seed) with one shared
configuration and compares the hypervolume (HV) of its front with that of the true front
(synthetic problems) or of the published reference front (RE problems):

  * ZDT1, ZDT2 (n_var = 30), Tchebycheff, K = 8: target HV ≥ 99 % of the true front's within
    2,000 steps (reference point (1.1, 1.1));
  * ZDT2 with linear scalarisation, to show its collapse to the ends of the (concave) front;
  * DTLZ2 (3 objectives): target ≥ 98 % of the true front's HV (reference 1.1 per objective);
  * RE21, RE33, RE37 (``normalize=True``): target within 2 % of the HV of the published
    reference front (``p.pareto_front()``, reference point ``p.ref_point`` = 1.1 per objective),
    i.e. ratio ≥ 98 % (exceeding the reference front is allowed: it is itself an approximation).

The learned front is the hypernetwork's output on the trainer's evaluation preferences
(``n_eval``: evenly spaced rays for 2 objectives, a Das–Dennis lattice for 3). Its HV grows
with the number of points, so the table also gives

  * the *n-point ceiling*: the HV of the same number of points of the true front
    (``p.pareto_front(n)``), i.e. what the discretisation alone allows;
  * the ratio measured with a *coarse* evaluation (100 rays / the 300-point Das–Dennis
    lattice of ``n_eval = 300``) on the same trained models.

True-front HVs are exact: ZDT1 0.1 + 2/3 + 0.11, ZDT2 0.1 + 1/3 + 0.11, DTLZ2 1.1³ − π/6.

RE21 is normalised with the nadir of its published front (see ``hybridmoo.problems.re.RE21``:
the suite's nadir file predates the fix of RE21's second objective).

Usage::

    python benchmarks/bench_quality.py                 # 3 seeds, all rows → results/quality.md
    python benchmarks/bench_quality.py --quick         # seed 0 only (smoke), printed only
    python benchmarks/bench_quality.py --problems zdt2 re33 [--seeds 0 1] [--out FILE]

A full run (all problems, the default seeds) writes ``results/quality.md``; a partial run
(``--quick``, ``--problems`` or other ``--seeds``) only prints unless ``--out`` is given.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

import hybridmoo
from hybridmoo import metrics, preferences
from hybridmoo import problems as registry
from hybridmoo.train import Trainer

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "results" / "quality.md"
DEFAULT_SEEDS = (0, 1, 2)

#: The one configuration shared by every row (only the scalarisation and n_eval differ).
HYPERNET = {"width": 256}  # embed_dim 32, depth 2, relu, no norm: the library defaults
TRAIN = {
    "steps": 2000,
    "n_prefs": 8,
    "lr": 3e-3,
    "optimizer": "adam",
    "lr_schedule": "cosine",
    "grad_clip": 0.1,
    "sampler": {"name": "dirichlet", "alpha": 0.5},
    "scalarization": {"name": "tchebycheff"},
    "eval_every": 250,
    "threads": 1,
}
N_EVAL_2 = 500   # evenly spaced rays for 2 objectives
N_EVAL_3 = 5000  # Das–Dennis lattice, 5,050 points, for 3 objectives
COARSE = {2: 100, 3: 300}  # coarse re-evaluation (100 rays; 300-point lattice)

@dataclass
class Row:
    """One benchmark row: a problem, a scalarisation and a target."""

    key: str  # row label
    family: str  # selector for --problems
    make: object  # () -> problem
    options: dict
    scalarization: str = "tchebycheff"
    target: float | None = None  # minimal HV ratio in %, None: no target
    target_text: str = ""
    exact_hv: float | None = None  # exact HV of the true front, else HV of p.pareto_front()
    note: str = ""
    results: list = field(default_factory=list)


def rows() -> list[Row]:
    zdt = {"n_var": 30}
    return [
        Row("zdt1", "zdt1", lambda: registry.get("zdt1", **zdt), zdt, target=99.0,
            target_text="≥ 99 % of true", exact_hv=0.1 + 2 / 3 + 0.11),
        Row("zdt2", "zdt2", lambda: registry.get("zdt2", **zdt), zdt, target=99.0,
            target_text="≥ 99 % of true", exact_hv=0.1 + 1 / 3 + 0.11),
        Row("zdt2", "zdt2", lambda: registry.get("zdt2", **zdt), zdt, scalarization="linear",
            target_text="contrast (collapse)", exact_hv=0.1 + 1 / 3 + 0.11),
        Row("dtlz2 (m=3)", "dtlz2", lambda: registry.get("dtlz2", n_obj=3), {"n_obj": 3},
            target=98.0, target_text="≥ 98 % of true", exact_hv=1.1**3 - math.pi / 6),
        Row("re21", "re21", lambda: registry.get("re21", normalize=True), {"normalize": True},
            target=98.0, target_text="≥ 98 % of ref."),
        Row("re33", "re33", lambda: registry.get("re33", normalize=True), {"normalize": True},
            target=98.0, target_text="≥ 98 % of ref."),
        Row("re37", "re37", lambda: registry.get("re37", normalize=True), {"normalize": True},
            target=98.0, target_text="≥ 98 % of ref."),
    ]


def reference_hv(row: Row, p) -> float:
    if row.exact_hv is not None:
        return float(row.exact_hv)
    return float(metrics.hypervolume(p.pareto_front(), p.ref_point.numpy()))


def ceiling_hv(row: Row, p, n: int) -> float:
    """HV of an n-point sample of the true front (synthetic problems only)."""
    if row.exact_hv is None:
        return float("nan")
    return float(metrics.hypervolume(p.pareto_front(n), p.ref_point.numpy()))


def run_one(row: Row, seed: int) -> dict:
    p = row.make()
    n_eval = N_EVAL_2 if p.n_obj == 2 else N_EVAL_3
    cfg = {**TRAIN, "n_eval": n_eval, "scalarization": {"name": row.scalarization}}
    t0 = time.perf_counter()
    trainer = Trainer(p, HYPERNET, cfg, seed=seed)
    r = trainer.run(keep_weights=False)
    ref_hv = reference_hv(row, p)
    ref_point = p.ref_point.numpy()
    out = {"seed": seed, "status": r.status, "error": r.error, "hv": r.hv, "ref_hv": ref_hv,
           "n_points": int(r.F.shape[0]), "train_s": r.train_time,
           "wall_s": time.perf_counter() - t0, "n_params": r.n_params}
    ok = r.ok and ref_hv > 0
    out["ratio"] = 100 * r.hv / ref_hv if ok else float("nan")
    # steps until the HV trace first reaches the target (trace every eval_every steps)
    out["steps_to_target"] = float("nan")
    if ok and row.target is not None:
        hit = np.nonzero(100 * r.trace["hv"] / ref_hv >= row.target)[0]
        if hit.size:
            out["steps_to_target"] = float(r.trace["steps"][hit[0]])
    # same trained model, coarse evaluation set
    out["coarse_ratio"] = float("nan")
    out["coarse_n"] = 0
    if r.ok:
        prefs = preferences.eval_preferences(p.n_obj, COARSE[p.n_obj], dtype=trainer.dtype)
        with torch.no_grad():
            Fc = trainer.task.eval_losses(trainer.generate(prefs)).double().cpu().numpy()
        out["coarse_n"] = int(Fc.shape[0])
        if ref_hv > 0:
            out["coarse_ratio"] = 100 * metrics.hypervolume(Fc, ref_point) / ref_hv
    ceil = ceiling_hv(row, p, out["n_points"])
    out["ceiling"] = 100 * ceil / ref_hv if ref_hv > 0 else float("nan")
    # spread of the front along f1 (for the linear-vs-Tchebycheff contrast)
    if r.ok:
        F = r.F
        out["distinct"] = int(np.unique(np.round(F, 3), axis=0).shape[0])
        out["f1_min"], out["f1_max"] = float(F[:, 0].min()), float(F[:, 0].max())
        out["interior"] = float(np.mean((F[:, 0] > 0.01) & (F[:, 0] < 0.99)))
        out["f1_distinct"] = int(np.unique(np.round(F[:, 0], 3)).shape[0])
    return out


def fmt(x: float, spec: str = ".2f") -> str:
    return "—" if x is None or not math.isfinite(x) else format(x, spec)


def mean_std(vals: list[float], spec: str) -> str:
    v = np.array([x for x in vals if math.isfinite(x)])
    if v.size == 0:
        return "—"
    if v.size == 1:
        return format(v[0], spec)
    return f"{format(v.mean(), spec)} ± {format(v.std(ddof=1), spec)}"


def met(row: Row) -> str:
    if row.target is None:
        return "—"
    ratios = [o["ratio"] for o in row.results]
    if not ratios or any(not math.isfinite(x) for x in ratios):
        return "n/a"
    return "yes" if min(ratios) >= row.target else "no"


def main_table(rs: list[Row]) -> list[str]:
    lines = [
        "| problem | scalarization | steps | K | eval points | learned HV (mean ± std) | "
        "reference HV | ratio % (mean, worst) | n-point ceiling % | ratio % at coarse eval "
        "| steps to target (mean) | target | met? | train s (mean) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rs:
        res = row.results
        ratios = [o["ratio"] for o in res]
        finite = [x for x in ratios if math.isfinite(x)]
        ratio = (f"{np.mean(finite):.2f} ({min(finite):.2f})" if finite else "—")
        coarse = [o["coarse_ratio"] for o in res]
        coarse_txt = (f"{mean_std(coarse, '.2f')} ({res[0]['coarse_n']} pts)"
                      if res and res[0]["coarse_n"] else "—")
        stt = [o["steps_to_target"] for o in res]
        no_ref = bool(res) and not res[0]["ref_hv"] > 0
        if no_ref:
            coarse_txt = "—"
        stt_txt = "—" if row.target is None or no_ref else (
            fmt(float(np.mean(stt)), ".0f") if all(math.isfinite(x) for x in stt) else
            f"not reached in {sum(not math.isfinite(x) for x in stt)}/{len(stt)}")
        failed = [o for o in res if o["status"] != "ok"]
        name = row.key + (f" ({row.note})" if row.note else "")
        if failed:
            name += f" [{len(failed)} failed]"
        lines.append(
            f"| {name} | {row.scalarization} | {TRAIN['steps']} | {TRAIN['n_prefs']} | "
            f"{res[0]['n_points'] if res else '—'} | {mean_std([o['hv'] for o in res], '.5f')} "
            f"| {fmt(res[0]['ref_hv'], '.5f') if res else '—'} | {ratio} | "
            f"{fmt(res[0]['ceiling'], '.2f') if res else '—'} | {coarse_txt} | {stt_txt} | "
            f"{row.target_text} | {met(row)} | {mean_std([o['train_s'] for o in res], '.1f')} |"
        )
    return lines


def spread_table(rs: list[Row]) -> list[str]:
    zdt2 = [r for r in rs if r.key == "zdt2"]
    if not zdt2:
        return []
    lines = [
        "| scalarization | distinct points (rounded 1e-3) | distinct f1 values | f1 range | "
        "share of points with 0.01 < f1 < 0.99 | HV ratio % |",
        "|---|---|---|---|---|---|",
    ]
    for row in zdt2:
        res = [o for o in row.results if o["status"] == "ok"]
        if not res:
            continue
        n = res[0]["n_points"]
        lines.append(
            f"| {row.scalarization} | {mean_std([o['distinct'] for o in res], '.1f')} of {n} | "
            f"{mean_std([o['f1_distinct'] for o in res], '.1f')} | "
            f"[{min(o['f1_min'] for o in res):.3f}, {max(o['f1_max'] for o in res):.3f}] | "
            f"{100 * np.mean([o['interior'] for o in res]):.1f} % | "
            f"{mean_std([o['ratio'] for o in res], '.2f')} |"
        )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS))
    ap.add_argument("--quick", action="store_true", help="one seed (the first of --seeds)")
    ap.add_argument("--problems", nargs="+", default=None,
                    help="subset of: zdt1 zdt2 dtlz2 re21 re33 re37")
    ap.add_argument("--out", type=Path, default=None,
                    help="Markdown output (default results/quality.md for a full run)")
    args = ap.parse_args()

    seeds = args.seeds[:1] if args.quick else args.seeds
    all_rows = rows()
    families = sorted({r.family for r in all_rows})
    if args.problems:
        unknown = [p for p in args.problems if p not in families]
        if unknown:
            ap.error(f"unknown problem(s) {unknown}; choose from {families}")
    selected = [r for r in all_rows if not args.problems or r.family in args.problems]
    full = not args.quick and not args.problems and list(seeds) == list(DEFAULT_SEEDS)
    out = args.out if args.out is not None else (DEFAULT_OUT if full else None)

    torch.set_num_threads(TRAIN["threads"])
    t_start = time.perf_counter()
    for row in selected:
        for seed in seeds:
            o = run_one(row, seed)
            row.results.append(o)
            print(f"{row.key:12s} {row.scalarization:12s} seed {seed}: {o['status']} "
                  f"HV {o['hv']:.5f} / ref {o['ref_hv']:.5f} = {fmt(o['ratio'])} % "
                  f"({o['n_points']} pts; coarse {fmt(o['coarse_ratio'])} %), "
                  f"train {o['train_s']:.1f} s, wall {o['wall_s']:.1f} s"
                  + (f"  ERROR {o['error']}" if o["error"] else ""), flush=True)
    total = time.perf_counter() - t_start

    cmd = " ".join(["python",
                    *[a if " " not in a else repr(a) for a in sys.argv]])
    header = [
        "# Front quality: learned HV vs the true / reference front",
        "",
        f"Command: `{cmd}`  ",
        f"Machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs; Python {platform.python_version()}; torch {torch.__version__} "
        f"with {torch.get_num_threads()} intra-op thread(s); hybridmoo {hybridmoo.__version__}  ",
        f"Date: {time.strftime('%Y-%m-%d %H:%M')}; seeds {', '.join(map(str, seeds))}; "
        f"total wall time {total / 60:.1f} min  ",
        "",
        "Shared configuration (every row; only the scalarization and n_eval differ):",
        "",
        f"- hypernet: `{json.dumps(HYPERNET)}` (other fields: library defaults — embed_dim 32, "
        "depth 2, relu, no norm, tensor head)",
        f"- train: `{json.dumps(TRAIN)}`",
        f"- n_eval: {N_EVAL_2} evenly spaced rays (2 objectives); {N_EVAL_3} → a Das–Dennis "
        "lattice of 5,050 points (3 objectives)",
        "- device cpu, float32; problems ZDT1/ZDT2 with n_var = 30, DTLZ2 with n_obj = 3 "
        "(n_var = 12), RE with normalize = True",
        "",
        "Columns. *learned HV*: HV of the final front on the evaluation preferences, reference "
        "point `p.ref_point` (1.1 per objective). *reference HV*: exact HV of the true front "
        "(ZDT1 0.1 + 2/3 + 0.11, ZDT2 0.1 + 1/3 + 0.11, DTLZ2 1.1³ − π/6) or HV of the published "
        "reference front `p.pareto_front()` (RE). *ratio*: learned / reference, mean over seeds "
        "and worst seed; *met?* = every seed reaches the target. *n-point ceiling*: HV of "
        "`p.pareto_front(n)` with n = the number of evaluation points, i.e. what n points of the "
        "true front reach (discretisation limit; a learned front can slightly exceed it, its "
        "points are spread differently). *ratio at coarse eval*: the same trained models "
        "evaluated on 100 rays (2 objectives) / the 300-point lattice of n_eval = 300 "
        "(3 objectives). *steps to "
        "target*: first traced step (every 250) whose HV ratio reaches the target. *train s*: "
        "training time only (evaluation excluded).",
        "",
    ]
    body = ["## Results", "", *main_table(selected), ""]
    spread = spread_table(selected)
    if spread:
        body += [
            "## ZDT2: linear vs Tchebycheff scalarisation",
            "",
            "ZDT2's front is concave: a weighted sum has its minima only at the two ends "
            "(0, 1) and (1, 0), and from an interior start gradient descent on "
            "λ1·f1 + λ2·f2 slides to f1 = 0 (∂/∂f1 = λ1 > 0 there) for every preference "
            "with λ1 > 0. Linear scalarisation therefore collapses the learned front to an end "
            "point, Tchebycheff spreads it over the whole front. Spread of the learned fronts "
            "(distinct counts: mean ± std over seeds; f1 range: pooled):",
            "",
            *spread,
            "",
        ]
    notes = [
        "## Notes",
        "",
        "- RE21 is normalised with the nadir of its published front (2886.37, 0.04): the "
        "suite's nadir file (2086.37, 0.0034142) predates the fix of RE21's second objective "
        "and would leave the whole front outside the reference box.",
        "- RE33's third objective is the sum of constraint violations; its published front "
        "contains points far outside the box (violation up to 1.7e8 after normalisation), only "
        "the 523 points inside count. Gradient clipping (grad_clip = 0.1) is what makes RE33 "
        "reliable: in seed-0 trials without it (cosine lr 3e-3 or 1e-3, float64, smooth "
        "Tchebycheff) the HV oscillated and ended at 89–97.5 % of the reference; "
        "grad_clip = 1.0 gave 98.6 %.",
        "- 3-objective HV depends strongly on the number of evaluation points: the learned "
        "DTLZ2 front lies on the unit sphere (| ‖f‖ − 1 | < 3e-4) yet its 300-point evaluation "
        "reaches only ~93 % of the true HV; the 98 % target needs ~5,000 points.",
        "",
    ]
    text = "\n".join(header + body + notes)
    print()
    print("\n".join(body))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        print(f"written to {out}")
    else:
        print("(partial run: not written; pass --out FILE to write it)")


if __name__ == "__main__":
    main()
