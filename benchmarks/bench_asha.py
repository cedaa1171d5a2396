"""Multi-fidelity trials (``schedule = "asha"``) against plain trials: best HV versus compute.

For each problem (ZDT1, DTLZ2), the same small study runs twice per seed: every trial trained
to ``--max-budget`` steps (``schedule = "none"``), and with asynchronous successive halving
(``schedule = "asha"``, ``min_budget`` to ``max_budget`` steps, reduction factor η; promoted
trials continue from their own saved state). Both search the same space with NSGA-II over the
outer objectives (HV, parameter count), the same population and generations, on the local
backend (one worker).

Compute is the sum of the trials' *training* seconds (evaluations excluded; for ASHA each rung
counts only the steps it added) and, deterministically, the sum of training steps. The curve of
a study is the best trial HV so far (a rung result counts when it is recorded; for ASHA the best
over each trial's latest rung) against the compute spent so far. "Reaches the same HV" means:
the best HV comes within 0.1 % (relative) of the plain study's final best HV and stays there;
the table gives the compute from which each study does. The curves also go to a JSON file.

    python benchmarks/bench_asha.py [--problems zdt1 dtlz2] [--seeds 0 1 2] [--pop 9]
        [--generations 3] [--min-budget 60] [--max-budget 540] [--eta 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from hybridmoo import store
from hybridmoo.scheduler import rung_budgets
from hybridmoo.study import Study

ROOT = Path(__file__).resolve().parents[1]
TOL = 1e-3  # "the same HV": within 0.1 % of the plain study's final best HV

STUDY = """
[study]
seed = {seed}
output = "{out}"
[problem]
name = "{problem}"
options = {options}
[objectives]
names = ["hv", "n_params"]
[algorithm]
name = "nsga2"
pop_size = {pop}
generations = {gens}
{schedule}
[budget]
steps = {max_budget}
[resources]
retries = 0
keep_weights = "none"
[fixed.hypernet]
depth = 2
[fixed.train]
n_eval = 50
eval_every = {eval_every}
threads = 1
[search]
"hypernet.width" = {{ type = "int", low = 8, high = 128, log = true }}
"train.lr" = {{ type = "real", low = 3e-4, high = 3e-2, log = true }}
"train.scalarization.name" = {{ type = "choice", values = ["tchebycheff", "linear"] }}
"""
#: problem -> (TOML options, description)
PROBLEMS = {"zdt1": ("{ n_var = 10 }", "ZDT1 (n_var = 10)"),
            "dtlz2": ("{ n_obj = 3, n_var = 12 }", "DTLZ2 (3 objectives, n_var = 12)"),
            "re37": ("{ normalize = true }", "RE37 (3 objectives, normalised by the suite's "
                     "ideal and nadir)")}


def curve_none(res) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(compute seconds, compute steps, best HV so far) after each trial, in trial order."""
    ids = sorted(res.trials)
    sec = np.cumsum([res.trials[t].train_time for t in ids])
    steps = np.cumsum([res.trials[t].steps for t in ids])
    hv = np.maximum.accumulate([res.trials[t].hv if res.trials[t].ok else 0.0 for t in ids])
    return sec, steps, hv


def curve_asha(res) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same after each rung result, in the order they were recorded. The best HV is over
    each trial's *latest* rung (what the study holds for it then), so a promoted trial whose HV
    drops with more steps lowers it: a lower rung's model is not kept."""
    rungs = store.read_rungs(res.path)
    budgets = res.extra["rung_budgets"]
    sec, steps, hv = [], [], []
    latest: dict[int, float] = {}
    for e in res.extra["events"]:
        if e["event"] not in ("rung", "finished"):
            continue
        a = rungs[e["trial"], e["rung"]]
        k = e["rung"]
        sec.append(a["rung_train_time"])
        steps.append(budgets[k] - (budgets[k - 1] if k else 0))
        latest[e["trial"]] = float(np.nan_to_num(a["outer_objectives"]["hv"]))
        hv.append(max(latest.values()))
    return np.cumsum(sec), np.cumsum(steps), np.asarray(hv)


def first_reach(compute: np.ndarray, hv: np.ndarray, target: float) -> float:
    """Compute from which the best HV stays within TOL of ``target`` to the end (NaN: it
    does not end there). ASHA's curve can drop (a promoted trial's HV can fall), so reaching
    the target once and losing it again does not count."""
    miss = np.nonzero(hv < target * (1 - TOL))[0]
    if not len(miss):
        return float(compute[0])
    return float(compute[miss[-1] + 1]) if miss[-1] + 1 < len(hv) else float("nan")


def run(problem: str, seed: int, schedule: str, args, tmp: Path, gens: int | None = None):
    sched = "" if schedule == "none" else (
        f'schedule = "asha"\nmin_budget = {args.min_budget}\neta = {args.eta}')
    gens = gens or args.generations
    d = tmp / f"{problem}-{schedule}-{gens}-{seed}"
    d.mkdir()
    (d / "s.toml").write_text(STUDY.format(problem=problem, options=PROBLEMS[problem][0],
                                           seed=seed, out="out.h5", pop=args.pop,
                                           gens=gens, schedule=sched,
                                           max_budget=args.max_budget,
                                           eval_every=args.min_budget))
    t0 = time.perf_counter()
    res = Study(d / "s.toml", backend="local", progress=False).run()
    return res, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--problems", nargs="+", default=["zdt1", "dtlz2"], choices=list(PROBLEMS))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--pop", type=int, default=9)
    ap.add_argument("--generations", type=int, default=3)
    ap.add_argument("--min-budget", type=int, default=60)
    ap.add_argument("--max-budget", type=int, default=540)
    ap.add_argument("--eta", type=int, default=3)
    ap.add_argument("--asha-generations", type=int, default=0,
                    help="also run ASHA with this many generations (about the plain study's "
                    "compute: an equal-compute comparison); 0: skip")
    ap.add_argument("--out", default=str(ROOT / "results" / "asha.md"))
    ap.add_argument("--plot", default=str(ROOT / "results" / "asha.png"))
    ap.add_argument("--json", default=str(ROOT / "results" / "asha.json"))
    ap.add_argument("--from-json", action="store_true",
                    help="re-render the table and plot from --json without running anything")
    args = ap.parse_args()
    torch.set_num_threads(1)
    raw: dict = {}
    seeds = " ".join(map(str, args.seeds))
    lines = [
        "# Multi-fidelity trials (ASHA) against plain trials",
        "",
        f"Command: `python benchmarks/bench_asha.py --problems {' '.join(args.problems)} "
        f"--seeds {seeds} --pop {args.pop} --generations {args.generations} --min-budget "
        f"{args.min_budget} --max-budget {args.max_budget} --eta {args.eta}"
        + (f" --asha-generations {args.asha_generations}" if args.asha_generations else "")
        + "`  ",
        f"Machine: 2-core {platform.machine()} CPU shared with other jobs, no GPU, torch "
        f"{torch.__version__}, Python {platform.python_version()}, 1 torch thread, local "
        "backend (one worker).  ",
        f"Studies: NSGA-II over (HV, n_params), {args.pop} × {args.generations} = "
        f"{args.pop * args.generations} configurations of width (8–128), lr (3e-4–3e-2) and "
        "scalarisation (Tchebycheff / linear); depth 2, 50 evaluation preferences. Plain: "
        f"every trial trains {args.max_budget} steps. ASHA: rungs from {args.min_budget} to "
        f"{args.max_budget} train steps, η = {args.eta}, promoted trials continue from their "
        f"saved state; the cosine schedule spans {args.max_budget} steps in both.  ",
        "Compute = sum of the trials' training seconds (ASHA: each rung's added steps only), "
        "and of their training steps. \"Reach\" = the compute from which the best trial HV "
        f"is within {TOL:.1%} of the plain study's final best HV and stays there to the end "
        "(ASHA's best is over each trial's latest rung, so it can drop when a promoted trial "
        "gets worse); \"—\": it does not end there.",
    ]
    panels = []
    saved = json.loads(Path(args.json).read_text()) if args.from_json else {}
    for problem in args.problems:
        rows, curves = [], []
        budgets = rung_budgets(args.min_budget, args.max_budget, args.eta)
        if args.from_json:
            rows = saved[problem]
            curves = [(tuple(np.asarray(c) for c in r["plain"]),
                       tuple(np.asarray(c) for c in r["asha"])) for r in rows]
            raw[problem] = rows
        with tempfile.TemporaryDirectory() as tmp:
            for seed in [] if args.from_json else args.seeds:
                plain, w_plain = run(problem, seed, "none", args, Path(tmp))
                asha, w_asha = run(problem, seed, "asha", args, Path(tmp))
                cn, ca = curve_none(plain), curve_asha(asha)
                target = cn[2][-1]
                row = {"seed": seed, "hv_none": target, "hv_asha": ca[2][-1],
                       "sec_none": cn[0][-1], "sec_asha": ca[0][-1],
                       "steps_none": int(cn[1][-1]), "steps_asha": int(ca[1][-1]),
                       "reach_none": first_reach(cn[0], cn[2], target),
                       "reach_asha": first_reach(ca[0], ca[2], target),
                       "reach_steps_asha": first_reach(ca[1], ca[2], target),
                       "reach_steps_none": first_reach(cn[1], cn[2], target),
                       "rungs": asha.extra["rung_counts"], "wall_none": w_plain,
                       "wall_asha": w_asha}
                extra = {}
                if args.asha_generations:
                    eq, _ = run(problem, seed, "asha", args, Path(tmp), args.asha_generations)
                    ce = curve_asha(eq)
                    row.update(hv_eq=ce[2][-1], sec_eq=ce[0][-1], steps_eq=int(ce[1][-1]))
                    extra = {"eq": [c.tolist() for c in ce]}
                rows.append(row)
                curves.append((cn, ca))
                raw.setdefault(problem, []).append(
                    {**row, "plain": [c.tolist() for c in cn], "asha": [c.tolist() for c in ca],
                     **extra})
                print(f"{problem} seed {seed}: none HV {row['hv_none']:.4f} in "
                      f"{row['sec_none']:.1f} train s; asha HV {row['hv_asha']:.4f} in "
                      f"{row['sec_asha']:.1f} train s (rungs {row['rungs']}); asha reaches "
                      f"the plain HV after {row['reach_asha']:.1f} s", flush=True)
        lines += table(PROBLEMS[problem][1], budgets, rows)
        panels.append((PROBLEMS[problem][1], curves))
    lines += ["", f"![best HV versus compute]({Path(args.plot).name})"]
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).write_text(text)
    Path(args.json).write_text(json.dumps(raw, indent=1) + "\n")
    plot(panels, args.plot)


def _num(x: float, digits: int) -> str:
    return f"{x:.{digits}f}" if np.isfinite(x) else "—"


def _pct(xs) -> str:
    return ", ".join("—" if not np.isfinite(x) else f"{x:.0%}" for x in xs)


def table(title: str, budgets: list, rows: list[dict]) -> list[str]:
    """The markdown table and summary of one problem."""
    lines = [
        "", f"## {title}: rungs {budgets} train steps", "",
        "| seed | best HV plain | best HV asha | train s plain | train s asha | steps plain | "
        "steps asha | plain reaches it at: s, steps | asha reaches it at: s, steps | "
        "asha rung sizes |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['seed']} | {r['hv_none']:.4f} | {r['hv_asha']:.4f} | {r['sec_none']:.1f} | "
            f"{r['sec_asha']:.1f} | {r['steps_none']} | {r['steps_asha']} | "
            f"{_num(r['reach_none'], 1)}, {_num(r['reach_steps_none'], 0)} | "
            f"{_num(r['reach_asha'], 1)}, {_num(r['reach_steps_asha'], 0)} | {r['rungs']} |")
    ratio_s = np.array([r["sec_asha"] / r["sec_none"] for r in rows])
    reach = np.array([r["reach_asha"] / r["sec_none"] for r in rows])
    vs_reach = np.array([r["reach_asha"] / r["reach_none"] for r in rows])
    reach_st = np.array([r["reach_steps_asha"] / r["steps_none"] for r in rows])
    vs_reach_st = np.array([r["reach_steps_asha"] / r["reach_steps_none"] for r in rows])
    gap = np.array([r["hv_asha"] / r["hv_none"] - 1 for r in rows])
    n = len(rows)
    lines += [
        "",
        f"ASHA spent {ratio_s.mean():.0%} of the plain studies' training seconds on average "
        f"(steps: {np.mean([r['steps_asha'] / r['steps_none'] for r in rows]):.0%}). Its best "
        f"trial HV differs from the plain study's by {100 * gap.mean():+.2f} % on average "
        f"(per seed: {', '.join(f'{100 * g:+.2f} %' for g in gap)}). It reached the plain "
        f"study's final best HV (within {TOL:.1%}) on {int(np.isfinite(reach).sum())} of {n} "
        f"seeds, with at most half of the plain study's total compute on "
        f"{int(np.sum(reach <= 0.5))} of {n} (at {_pct(reach)} of it). Against the compute "
        "the plain study itself needed to *first* reach its final best (its best trial can "
        f"come early, by luck of the initial population), ASHA needed {_pct(vs_reach)} of it "
        f"(≤ 50 % on {int(np.sum(vs_reach <= 0.5))} of {n} seeds). Counted in training steps "
        "(the same on any machine; the seconds above vary with the load of the shared "
        f"machine): {_pct(reach_st)} of the plain study's total, {_pct(vs_reach_st)} of what it "
        f"needed to first reach its final best (≤ 50 % on {int(np.sum(vs_reach_st <= 0.5))} "
        f"of {n}).",
        "",
        f"Wall seconds per study (driver and evaluations included): plain "
        f"{np.mean([r['wall_none'] for r in rows]):.0f}, asha "
        f"{np.mean([r['wall_asha'] for r in rows]):.0f}.",
    ]
    if rows and "hv_eq" in rows[0]:
        lines += ["", "Equal compute: ASHA run for more generations, about the plain study's "
                  "training steps.", "",
                  "| seed | best HV plain | steps plain | best HV asha, more generations | "
                  "steps | HV difference |", "| ---: | ---: | ---: | ---: | ---: | ---: |"]
        for r in rows:
            lines.append(f"| {r['seed']} | {r['hv_none']:.4f} | {r['steps_none']} | "
                         f"{r['hv_eq']:.4f} | {r['steps_eq']} | "
                         f"{100 * (r['hv_eq'] / r['hv_none'] - 1):+.2f} % |")
        better = sum(r["hv_eq"] > r["hv_none"] * (1 + TOL) for r in rows)
        worse = sum(r["hv_eq"] < r["hv_none"] * (1 - TOL) for r in rows)
        lines += ["", f"At about equal compute ASHA's best trial HV was higher (by more than "
                  f"{TOL:.1%}) on {better}, lower on {worse}, and the same on "
                  f"{len(rows) - better - worse} of {len(rows)} seeds."]
    return lines


def plot(panels, path: str) -> None:
    """One panel per problem: best HV so far versus compute, zoomed on the top of the range."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4.5), squeeze=False)
    for ax, (title, curves) in zip(axes[0], panels, strict=True):
        finals = []
        for i, (cn, ca) in enumerate(curves):
            ax.step(cn[0], cn[2], where="post", color="C0", alpha=0.8,
                    label="plain trials" if i == 0 else None)
            ax.step(ca[0], ca[2], where="post", color="C1", alpha=0.8,
                    label="ASHA (continuation)" if i == 0 else None)
            finals += [cn[2][-1], ca[2][-1]]
        top = max(finals)
        ax.set_ylim(top - 0.05 * abs(top), top + 0.005 * abs(top))
        ax.set_xscale("log")
        ax.set_xlabel("compute: training seconds of all trials so far (log)")
        ax.set_ylabel("best trial HV so far")
        ax.set_title(f"{title}: one line per seed")
        ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
