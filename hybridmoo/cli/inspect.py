"""Commands that read a finished file: show, export, plot, report, predict."""

from __future__ import annotations

import argparse
from pathlib import Path

from hybridmoo._config import check_output_path
from hybridmoo.cli._common import _fmt_vec
from hybridmoo.errors import ConfigError, HybridMooError, StoreError


def _show_compare(path: str) -> int:
    """``show`` for a comparison's file: per method, runs and HV over seeds."""

    import numpy as np
    from rich.console import Console
    from rich.table import Table

    from hybridmoo import store
    from hybridmoo.compare import compare_records

    with store.open_checked(path) as f:
        a = {k: (v.item() if hasattr(v, "item") else v) for k, v in f.attrs.items()}
    info = store.root_json(a, "problem", path, kind="compare")
    rows = compare_records(path, "runs")
    console = Console()
    console.print(f"[bold]{path}[/]  (compare, hybridmoo {a.get('hybridmoo_version', '?')}, "
                  f"created {a.get('created', '?')})")
    console.print(f"problem: {info['name']}  runs: {len(rows)}  reference point: "
                  f"{info.get('ref_point')}")
    table = Table("method", "family", "runs ok / failed", "HV mean ± std", "seconds used (mean)")
    labels = list(dict.fromkeys(r["label"] for r in rows))
    for label in labels:
        mine = [r for r in rows if r["label"] == label]
        hv = np.array([r["hv"] for r in mine if r["status"] == "ok"])
        table.add_row(label, mine[0]["family"], f"{len(hv)} / {len(mine) - len(hv)}",
                      f"{hv.mean():.4f} ± {hv.std():.4f}" if hv.size else "—",
                      f"{np.mean([r.get('used_seconds', np.nan) for r in mine]):.1f}")
    console.print(table)
    console.print("report and plots: `hybridmoo compare COMPARE.toml --report-only`; tables: "
                  f"`hybridmoo export {path} --what fronts|traces|trials`")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Print a study's problem, status, trials, best HV and outer front."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from hybridmoo import store
    from hybridmoo.analysis import StudyData
    from hybridmoo.study import format_value

    if store.file_kind(args.file) == "compare":
        return _show_compare(args.file)
    data = StudyData(args.file)
    a = data.attrs
    recs = data.trial_records()
    ok = [r for r in recs if r["status"] == "ok"]
    failed = [r for r in recs if r["status"] != "ok"]
    console = Console(width=max(Console().width, 120))
    prob = data.problem_info
    opts = ", ".join(f"{k}={v}" for k, v in prob.get("options", {}).items())
    console.print(f"[bold]{data.path}[/bold]  ({a.get('kind')}, hybridmoo "
                  f"{a.get('hybridmoo_version')}, created {a.get('created')})")
    console.print(f"problem: {prob['name']}({opts})  objectives: "
                  f"{', '.join(prob.get('obj_names', []))}  reference point: "
                  f"{_fmt_vec(prob.get('ref_point'))}")
    if data.kind == "study":
        total = None
        try:
            from hybridmoo.studyfile import load_study

            total = load_study(text=str(a.get("study_text", ""))).n_trials
        except HybridMooError:
            pass
        elapsed = a.get("wall_time")
        children = sum("parent" in r for r in recs)  # population-based training's
        of = "" if not total else f" of {total}" if not children else \
            f" ({total} proposed by the algorithm, {children} children)"
        console.print(
            f"status: {a.get('status')}  trials: {len(ok)} done, {len(failed)} failed{of}"
            + (f"  elapsed: {float(elapsed):.1f} s" if elapsed is not None else "")
            + (f"  half-written: {len(data.partial_trials())}" if data.partial_trials() else "")
        )
    if ok:
        best = max(ok, key=lambda r: r["hv"])
        console.print(f"best HV: {best['hv']:.6g} (trial {best['trial_id']}), "
                      f"{_front_size(data, best['trial_id'])} points")
        if data.kind == "study":
            console.print(_study_front_line(data, getattr(args, "n", None)), highlight=False)
        line = _lineage_line(data.path, recs, best["trial_id"])
        if line:
            console.print(line, highlight=False)
    front = set(data.outer_front_ids())
    rows = [r for r in ok if r["trial_id"] in front] if front else ok[:1]
    if rows:
        keys = [k for k in rows[0] if "." in k and not k.startswith("outer.")]
        # outer objectives besides the columns shown anyway (e.g. a DYMU study's cost, flops)
        outer = [k for k in rows[0] if k.startswith("outer.")
                 and k[6:] not in ("hv", "n_params", "train_time")]
        table = Table(title="outer Pareto front" if front else "trial")
        for col in ("trial", "HV", "params", "train s", *[k[6:] for k in outer], *keys):
            table.add_column(col, justify="left" if col in keys else "right")
        for r in sorted(rows, key=lambda r: -r["hv"]):
            table.add_row(str(r["trial_id"]), f"{r['hv']:.6g}", f"{r['n_params']:,}",
                          f"{r['train_time']:.1f}", *[format_value(r.get(k)) for k in outer],
                          *[format_value(r.get(k)) for k in keys])
        console.print(table)
    for r in failed[: args.errors]:
        console.print(f"[red]trial {r['trial_id']} failed:[/red] {r['error']}")
    collapsed = [(tid, a["extra"]["collapse"]) for tid, a in
                 sorted(store.read_trial_attrs(args.file).items())
                 if isinstance(a.get("extra"), dict) and a["extra"].get("collapse")]
    for tid, c in collapsed[: args.errors]:
        console.print(f"[yellow]trial {tid} warning:[/yellow] {escape(str(c['warning']))}",
                      highlight=False)
    if len(collapsed) > args.errors:
        console.print(f"... and {len(collapsed) - args.errors} more collapsed trial(s)")
    return 0


def _lineage_line(path, recs: list[dict], best: int) -> str:
    """``inherited weights: …`` for a study with population-based training, else empty."""
    parent = {r["trial_id"]: r["parent"] for r in recs if "parent" in r}
    if not parent:
        return ""
    chain = [best]
    while chain[-1] in parent and len(chain) <= len(parent):
        chain.append(parent[chain[-1]])
    line = f"inherited weights: {len(parent)} children of population-based training"
    if len(chain) > 1:
        line += f"; the best trial's lineage: {' <- '.join(map(str, chain))}"
    return line + f" (hybridmoo export {path} --what lineage)"


def _front_size(data, tid: int) -> int:
    from hybridmoo import store

    return len(store.read_trial(data.path, tid, weights=False).F)


def _study_front_line(data, n: int | None) -> str:
    """``study front: HV … (k points from t trials, built in s)`` or why there is none."""
    try:
        sf = data.study_front(n)
    except StoreError as exc:  # no kept weights: say so, show the rest
        return f"study front: none ({str(exc).split(': ', 1)[-1]})"
    used = len(set(sf.trial_ids.tolist()))
    return (f"study front: HV {sf.hv:.6g} ({len(sf)} points from {used} of "
            f"{len(sf.trials)} kept trials, density {sf.density}, "
            f"{'chosen on the validation split, ' if sf.split == 'validation' else ''}"
            f"built in {sf.seconds:.2f} s; "
            f"hybridmoo export {data.path} --what study-front)")


def cmd_export(args: argparse.Namespace) -> int:
    """Write tidy tables (fronts, traces, trials, outer front)."""
    from hybridmoo.export import export

    try:
        ids = [int(t) for t in args.trials.split(",")] if args.trials else None
    except ValueError:
        raise ConfigError(f"--trials {args.trials!r} must be comma-separated trial ids, e.g. "
                          "3,8,12") from None
    path = Path(args.file)
    # the default name is export()'s: <stem>.<what>.<format> beside the study file
    target = Path(args.out) if args.out else path.with_name(f"{path.stem}.{args.what}."
                                                            f"{args.format}")
    check_output_path(target, "--out")
    out = export(args.file, args.what, args.format, args.out, trial_ids=ids,
                 overwrite=args.overwrite, n=getattr(args, "n", None))
    print(f"wrote {out}")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    """Write the study's figures as PNG files."""
    from hybridmoo.plots import plot_all

    path = Path(args.file)
    out_dir = Path(args.out_dir) if args.out_dir else path.parent
    check_output_path(out_dir / "plot.png", "--out-dir")
    names = [f"{path.stem}_{k}.png" for k in ("fronts", "traces", "outer")]
    existing = [str(out_dir / n) for n in names if (out_dir / n).exists()]
    if existing and not args.overwrite:
        raise StoreError(f"{', '.join(existing)} already exist(s); pass --overwrite to replace "
                         "them, or write elsewhere with --out-dir DIR")
    for p in plot_all(args.file, args.out_dir):
        print(f"wrote {p}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write one self-contained HTML page of a study, train or comparison file."""
    from hybridmoo.report import write_report

    out = Path(args.out) if args.out else Path(args.file).with_suffix(".html")
    if out.exists() and not args.overwrite:
        raise StoreError(f"{out} already exists; pass --overwrite to replace it, or write "
                         "elsewhere with --out FILE.html")
    print(f"wrote {write_report(args.file, out)}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """Generate the solution of a preference with a stored hypernetwork."""
    import numpy as np
    import torch

    from hybridmoo.analysis import StudyData

    if args.save:  # checked before anything is computed; missing folders are created
        check_output_path(args.save, "--save")
    if args.c is not None and not 0.0 <= args.c <= 1.0:  # also refuses nan
        raise ConfigError(f"--c {args.c} is invalid: expected the resource preference, a number "
                          "in [0, 1] (1: the most frugal model)")
    if args.study_front:
        return _predict_study_front(args)
    if args.preference is None:
        raise ConfigError("predict needs --preference P1,P2,... (e.g. -p 0.2,0.8), or "
                          "--study-front to serve the study front's points")
    if args.n is not None:
        raise ConfigError("--n sets the size of the study front: use it with --study-front")
    data = StudyData(args.file)
    tid = args.trial
    if tid is None:  # the best HV among the trials whose weights are kept (the outer front)
        front = set(data.outer_front_ids())
        ok = [r for r in data.trial_records() if r["status"] == "ok" and r["trial_id"] in front]
        tid = max(ok, key=lambda r: r["hv"])["trial_id"] if ok else data.best_trial()
    try:
        pref = [float(v) for v in args.preference.split(",")]
    except ValueError:
        raise ConfigError(f"--preference {args.preference!r} must be comma-separated numbers, "
                          "e.g. 0.2,0.8") from None
    out = data.predict(tid, pref, c=args.c)
    print(f"trial {tid}, preference {np.array2string(out['preference'], precision=4)}"
          + (f", resource preference c = {out['c']:g}" if "c" in out else ""))
    for name, v in zip(out["objective_names"], out["objectives"], strict=True):
        print(f"  {name} = {v:.6g}")
    if "tree" in out:
        print(f"  tree (parent stream of every node, one row per layer) = {out['tree'].tolist()}")
        print(f"  cost = {out['cost']:.4g} (active-parameter ratio), "
              f"FLOPs per example = {out['flops']:,.0f}")
    if "x" in out:
        print(f"  x = {np.array2string(out['x'], precision=6, max_line_width=100)}")
    for k, v in out.get("metrics", {}).items():
        print(f"  {k} = {v}")
    if args.save:
        if "params" not in out:
            raise ConfigError(f"--save writes generated target parameters; trial {tid} is a "
                              "DYMU controller (read it with hybridmoo.load(FILE).dymu(trial))")
        Path(args.save).parent.mkdir(parents=True, exist_ok=True)
        torch.save({k: v.detach().clone() for k, v in out["params"].items()}, args.save)
        print(f"wrote {args.save} (a state dict: torch.load, then load_state_dict or "
              "functional_call on the target)")
    return 0


def _predict_study_front(args: argparse.Namespace) -> int:
    """``predict --study-front``: print (and with --save write) the study front's points."""
    import numpy as np
    import torch

    from hybridmoo.analysis import StudyData

    for flag, value in (("--preference", args.preference), ("--trial", args.trial),
                        ("--c", args.c)):
        if value is not None:
            raise ConfigError(f"{flag} does not apply to --study-front: it serves every point "
                              "of the study front, each with its own trial and preference; "
                              "drop one of them")
    data = StudyData(args.file)
    sf = data.study_front(args.n)
    names = sf.objective_names
    print(f"study front of {data.path}: {len(sf)} points, HV {sf.hv:.6g} (reference point "
          f"{_fmt_vec(sf.ref_point)}), from trials {sorted(set(sf.trial_ids.tolist()))}")
    for i in range(len(sf)):
        objs = ", ".join(f"{nm} = {v:.6g}" for nm, v in zip(names, sf.F[i], strict=True))
        line = (f"  {i:3d}  trial {int(sf.trial_ids[i])}  preference "
                f"{np.array2string(sf.prefs[i], precision=4)}  {objs}")
        if sf.X is not None and sf.X.shape[1] <= 6:
            line += f"  x = {np.array2string(sf.X[i], precision=4)}"
        print(line)
    if args.save:
        points = []
        models: dict = {}
        for i in range(len(sf)):
            tid = int(sf.trial_ids[i])
            if tid not in models:
                models[tid] = data.hypernetwork(tid)
            ev = models[tid].evaluate(sf.prefs[i: i + 1])
            points.append({"trial_id": tid,
                           "preference": torch.as_tensor(sf.prefs[i]),
                           "objectives": torch.as_tensor(sf.F[i]),
                           "params": {k: v[0].detach().clone() for k, v in
                                      ev["params"].items()}})
        Path(args.save).parent.mkdir(parents=True, exist_ok=True)
        torch.save(points, args.save)
        print(f"wrote {args.save} (a list, one dict per point: trial_id, preference, "
              "objectives, params — the generated target parameters)")
    return 0
