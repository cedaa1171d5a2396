"""The ``hybridmoo`` command line: argument parsing only; the work is done by the library."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from hybridmoo.errors import ConfigError, HybridMooError, StoreError

__all__ = ["main"]

#: choices of `export` (the same as hybridmoo.export.FORMATS / WHAT, which import pandas; a test
#: checks that they agree) — kept here so that `--help` imports nothing heavy.
EXPORT_FORMATS = ("csv", "parquet", "json", "npz")
EXPORT_WHAT = ("fronts", "traces", "trials", "outer-front")


def _next_steps(path) -> str:
    """The hint printed when a study or a training run has finished."""
    return (f"next steps: hybridmoo show {path}  |  hybridmoo plot {path}  |  "
            f"hybridmoo export {path} --what fronts --format csv  |  "
            f"hybridmoo predict {path} -p P1,P2,...")


def _finished_study(path, n_trials: int | None = None) -> int | None:
    """The number of finished trials when ``path`` is a study whose status is "finished" and
    that holds at least ``n_trials`` trials (default: as many as its stored study file asks
    for); ``None`` when there is something left to run or the file cannot tell."""
    from hybridmoo import store
    from hybridmoo.studyfile import load_study

    try:
        if store.file_kind(path) != "study":
            return None
        with store.open_checked(path) as f:
            if str(f.attrs.get("status", "")) != "finished" or "trials" not in f:
                return None
            done = sum(1 for k in f["trials"] if not k.startswith("."))
            text = str(f.attrs.get("study_text", ""))
        if n_trials is None:
            n_trials = load_study(text=text).n_trials
    except (HybridMooError, OSError, KeyError, ValueError):
        return None  # let the command itself report what is wrong
    return done if done >= n_trials else None


def _fmt_vec(v) -> str:
    if v is None:
        return "-"
    vals = v.tolist() if hasattr(v, "tolist") else list(v)
    if len(set(vals)) == 1 and len(vals) > 1:
        return f"{vals[0]:g} × {len(vals)}"
    return "(" + ", ".join(f"{x:.4g}" for x in vals) + ")"


def cmd_problems(args: argparse.Namespace) -> int:
    """Print a table of every registered problem."""
    from rich.console import Console
    from rich.table import Table

    from hybridmoo import problems

    table = Table(title="hybridmoo problems", show_lines=False)
    for col in ("name", "family", "n_var", "n_obj", "reference point", "reference front"):
        table.add_column(col, justify="right" if col.startswith("n_") else "left")
    for entry in problems.registered():
        if args.family and entry.family.lower() != args.family.lower():
            continue
        p = problems.get(entry.name)
        front = "yes" if p.has_pareto_front else "no"
        table.add_row(entry.name, entry.family, str(p.n_var), str(p.n_obj),
                      _fmt_vec(p.ref_point), front)
    Console(width=max(100, Console().width)).print(table)
    return 0


def _kv(items: list[str] | None, what: str) -> dict:
    """Parse ``key=value`` pairs; values are read as TOML (numbers, booleans, strings, lists)."""
    import tomllib

    out: dict = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"{what} {item!r} is not of the form key=value (e.g. n_var=10)")
        key, raw = item.split("=", 1)
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw  # a bare word such as relu
        out[key.strip()] = value
    return out


def cmd_train(args: argparse.Namespace) -> int:
    """Train one hypernetwork on a problem and write the result as an HDF5 trial."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from hybridmoo import metrics, problems, store
    from hybridmoo.train import TrainConfig, Trainer

    console = Console(stderr=True)
    problem = problems.get(args.problem, **_kv(args.option, "--option"))
    hyper = _kv(args.hypernet, "--hypernet")
    cfg = _kv(args.set, "--set")
    for key, value in (("steps", args.steps), ("seconds", args.seconds), ("lr", args.lr),
                       ("n_prefs", args.n_prefs), ("n_eval", args.n_eval),
                       ("eval_every", args.eval_every), ("device", args.device)):
        if value is not None:
            cfg[key] = value
    if args.scalarization:
        cfg["scalarization"] = {"name": args.scalarization}
    if args.sampler:
        cfg["sampler"] = {"name": args.sampler}
    if args.out and Path(args.out).exists() and not args.overwrite:
        raise StoreError(f"{args.out} already exists; choose another --out or pass --overwrite")
    trainer = Trainer(problem, hyper, TrainConfig.from_dict(cfg), seed=args.seed)
    total = trainer.cfg.steps
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                  TextColumn("step {task.completed}/{task.total}"),
                  TextColumn("HV {task.fields[hv]:.5g}"), TimeElapsedColumn(),
                  console=console, transient=False, disable=args.quiet) as progress:
        task = progress.add_task(f"train {problem.name}", total=total, hv=float("nan"))

        def cb(ev: dict) -> None:
            progress.update(task, completed=ev["step"], hv=ev["hv"])

        result = trainer.run(callback=cb, keep_weights=not args.no_weights)
    if args.out:
        store.create(args.out, kind="train", problem=problem.describe(), overwrite=True)
        store.write_trial(args.out, result, trial_id=0, keep_weights=not args.no_weights)
    if not result.ok:
        print(f"training failed: {result.error}", file=sys.stderr)
        return 1
    line = f"{problem.name}: final HV {result.hv:.6g} (reference point {_fmt_vec(result.ref_point)}"
    pf = trainer.reference_front
    if pf is not None:
        ref_hv = metrics.hypervolume(pf, result.ref_point)
        line += f"; reference front HV {ref_hv:.6g}, ratio {100 * result.hv / ref_hv:.2f}%"
    line += f") after {result.steps} steps, {result.train_time:.1f} s"
    print(line)
    for text in result.warnings:
        print(f"warning: {text}", file=sys.stderr)
    if args.out:
        print(f"wrote {args.out}")
        print(_next_steps(args.out))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run a study file (the outer loop)."""
    from hybridmoo.study import Study

    study = Study(args.study, backend=args.backend, address=args.address, output=args.output,
                  overwrite=args.overwrite, progress=not args.quiet, num_cpus=args.num_cpus,
                  resume=args.resume, working_dir=args.working_dir)
    if args.resume and study.spec.output.exists():
        done = _finished_study(study.spec.output, study.spec.n_trials)
        if done is not None:
            print(f"{study.spec.output}: nothing to do — the study has finished all {done} "
                  "trials (raise [algorithm] generations in the study file to extend it)")
            print(_next_steps(study.spec.output))
            return 0
    args.on_interrupt = (f"the finished trials are saved in {study.spec.output}; continue "
                         f"with `hybridmoo resume {study.spec.output}`")
    result = study.run()
    if args.quiet:
        print(f"{result.path}: {len(result.trials)} trials, {result.failed} failed, "
              f"{len(result.front_ids)} on the outer front, {result.wall_time:.1f} s")
    print(_next_steps(result.path))
    return 0


def cmd_resume(args: argparse.Namespace) -> int:
    """Resume a study from the study file stored in its HDF5 file."""
    from hybridmoo import store
    from hybridmoo.study import Study
    from hybridmoo.studyfile import load_study

    msg = store.recover(args.file)  # first: a truncated study is restored from its backup
    if msg:
        print(msg, file=sys.stderr)
    if store.file_kind(args.file) == "compare":
        raise StoreError(f"{args.file} is the output of `hybridmoo compare`, not a study: "
                         "continue it with `hybridmoo compare COMPARE.toml --resume`")
    done = _finished_study(args.file)
    if done is not None:  # nothing to run: no backend (no Ray) is started
        print(f"{args.file}: nothing to do — the study has finished all {done} trials (to "
              "extend it, raise [algorithm] generations in its study file and run "
              "`hybridmoo run STUDY.toml --resume`)")
        print(_next_steps(args.file))
        return 0
    with store.open_checked(args.file) as f:
        text = str(f.attrs.get("study_text", ""))
    if args.working_dir:  # a problem named by import path: where its module lives
        from hybridmoo.usercode import add_import_folder

        add_import_folder(args.working_dir)
    spec = load_study(text=text)
    spec.output = Path(args.file).resolve()
    study = Study(spec, backend=args.backend, address=args.address, progress=not args.quiet,
                  num_cpus=args.num_cpus, resume=True, working_dir=args.working_dir)
    args.on_interrupt = (f"the finished trials are saved in {spec.output}; continue with "
                         f"`hybridmoo resume {args.file}`")
    result = study.run()
    if args.quiet:
        print(f"{result.path}: {len(result.trials)} trials, {result.failed} failed")
    print(_next_steps(args.file))
    return 0


def _show_compare(path: str) -> int:
    """``show`` for a comparison's file: per method, runs and HV over seeds."""
    import json

    import numpy as np
    from rich.console import Console
    from rich.table import Table

    from hybridmoo import store
    from hybridmoo.compare import compare_records

    with store.open_checked(path) as f:
        a = {k: (v.item() if hasattr(v, "item") else v) for k, v in f.attrs.items()}
    info = json.loads(a["problem"])
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
        console.print(
            f"status: {a.get('status')}  trials: {len(ok)} done, {len(failed)} failed"
            + (f" of {total}" if total else "")
            + (f"  elapsed: {float(elapsed):.1f} s" if elapsed is not None else "")
            + (f"  half-written: {len(data.partial_trials())}" if data.partial_trials() else "")
        )
    if ok:
        best = max(ok, key=lambda r: r["hv"])
        console.print(f"best HV: {best['hv']:.6g} (trial {best['trial_id']})")
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


def cmd_export(args: argparse.Namespace) -> int:
    """Write tidy tables (fronts, traces, trials, outer front)."""
    from hybridmoo.export import export

    ids = [int(t) for t in args.trials.split(",")] if args.trials else None
    path = Path(args.file)
    # the default name is export()'s: <stem>.<what>.<format> beside the study file
    target = Path(args.out) if args.out else path.with_name(f"{path.stem}.{args.what}."
                                                            f"{args.format}")
    if target.exists() and not args.overwrite:
        raise StoreError(f"{target} already exists; pass --overwrite to replace it, or choose "
                         "another file with --out")
    out = export(args.file, args.what, args.format, args.out, trial_ids=ids)
    print(f"wrote {out}")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    """Write the study's figures as PNG files."""
    from hybridmoo.plots import plot_all

    path = Path(args.file)
    out_dir = Path(args.out_dir) if args.out_dir else path.parent
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

    print(f"wrote {write_report(args.file, args.out)}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """Generate the solution of a preference with a stored hypernetwork."""
    import numpy as np
    import torch

    from hybridmoo.analysis import StudyData

    data = StudyData(args.file)
    tid = args.trial if args.trial is not None else data.best_trial()
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
        torch.save({k: v.detach().clone() for k, v in out["params"].items()}, args.save)
        print(f"wrote {args.save} (a state dict: torch.load, then load_state_dict or "
              "functional_call on the target)")
    return 0


def cmd_data_fetch(args: argparse.Namespace) -> int:
    """Download MNIST or Fashion-MNIST (gzip IDX files) and verify their MD5 checksums."""
    from hybridmoo import data

    splits = ("t10k",) if args.test_only else ("train", "t10k")
    paths = data.fetch(args.dataset, args.dir, splits=splits)
    print(f"{args.dataset}: {len(paths)} files verified in {paths[0].parent}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Run the methods of a compare file for N seeds and write the report."""
    from hybridmoo import problems
    from hybridmoo.compare import load_compare, load_runs, run_compare, write_report

    spec = load_compare(args.file)
    if args.rerun and not args.resume:
        raise ConfigError("--rerun LABEL needs --resume: it reruns methods of an existing file")
    if args.report_only:
        write_report(spec, load_runs(spec), problems.get(spec.problem, **spec.problem_options))
        print(f"wrote {spec.report} and {spec.report.with_suffix('.html')} from {spec.output}")
        return 0
    if spec.output.exists() and not (args.overwrite or args.resume):
        raise StoreError(f"{spec.output} already exists; pass --resume to keep its finished "
                         "runs and run the rest, or --overwrite to replace it")
    args.on_interrupt = (f"the finished runs are saved in {spec.output}; continue with "
                         f"`hybridmoo compare {args.file} --resume`")
    run_compare(spec, backend=args.backend, overwrite=args.overwrite, resume=args.resume,
                rerun=tuple(args.rerun), address=args.address, num_cpus=args.num_cpus,
                progress=not args.quiet)
    print(f"wrote {spec.output}, {spec.report} and {spec.report.with_suffix('.html')}")
    return 0


def _add_backend_options(p: argparse.ArgumentParser) -> None:
    """Options shared by `run` and `resume`: where trials run, and the display."""
    p.add_argument("--backend", choices=("ray", "local"), default="ray",
                   help="ray (default: a local Ray started on demand, or --address) or local "
                   "(in-process, for debugging)")
    p.add_argument("--address", help="join an existing Ray cluster: 'auto' or HOST:PORT")
    p.add_argument("--working-dir", dest="working_dir", default=None,
                   help="folder shipped to every Ray worker (Ray's runtime_env working_dir) so "
                        "that a problem named by import path imports there (default: the "
                        "study file's folder when the problem is an import path)")
    p.add_argument("--num-cpus", dest="num_cpus", type=int,
                   help="CPUs of the local Ray (default: all)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or table")


class _HelpFormatter(argparse.HelpFormatter):
    """Shows each option's default, unless it has none (None, False) or its help names it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if ("default" not in text and action.default not in (None, False, argparse.SUPPRESS)
                and action.option_strings and action.default != []):
            text += " (default: %(default)s)"
        return text


def _negative_values(argv: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """Join an option that takes a value with a following negative number (``-p -0.2,1.2``
    becomes ``-p=-0.2,1.2``): argparse would take the number for an option."""
    takes_value = set()
    stack = [parser]
    while stack:
        p = stack.pop()
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                stack.extend(action.choices.values())
            elif action.option_strings and action.nargs is None:
                takes_value.update(action.option_strings)
    out: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] in takes_value and i + 1 < len(argv) and \
                re.match(r"^-(\d|\.\d)", argv[i + 1]):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
            continue
        out.append(argv[i])
        i += 1
    return out


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``hybridmoo`` command (imports nothing heavy)."""
    from hybridmoo._version import __version__

    parser = argparse.ArgumentParser(
        prog="hybridmoo", formatter_class=_HelpFormatter,
        description="Evolutionary + gradient hybrid multi-objective optimisation: pymoo searches "
        "preference-conditioned hypernetworks trained on Ray actors; studies are kept in HDF5.",
    )
    parser.add_argument("--version", action="version", version=f"hybridmoo {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add = sub.add_parser

    def add_parser(name: str, **kw) -> argparse.ArgumentParser:
        kw.setdefault("formatter_class", _HelpFormatter)
        return _add(name, **kw)

    sub.add_parser = add_parser

    p = sub.add_parser("problems", help="list the registered problems",
                       description="List every registered problem: its family, numbers of "
                       "variables and objectives, reference point and whether a reference "
                       "front is known.")
    p.add_argument("--family", help="only this family (ZDT, DTLZ, VLMOP, RE, ...)")
    p.set_defaults(func=cmd_problems)

    p = sub.add_parser(
        "train", help="train one hypernetwork on a problem (inner loop)",
        description="Train one preference-conditioned hypernetwork on PROBLEM, print the final "
        "hypervolume and write the result (HDF5, one trial in the study-file format).",
    )
    p.add_argument("problem", help="problem name (see `hybridmoo problems`)")
    p.add_argument("--option", "-o", action="append", metavar="KEY=VALUE",
                   help="problem option, e.g. -o n_var=10 -o normalize=true (repeatable)")
    p.add_argument("--steps", type=int, help="gradient steps (default 2000)")
    p.add_argument("--seconds", type=float, help="wall-clock budget in seconds")
    p.add_argument("--lr", type=float, help="learning rate")
    p.add_argument("-K", "--n-prefs", dest="n_prefs", type=int, help="preferences per step")
    p.add_argument("--scalarization", help="e.g. tchebycheff, linear, hv1, epo")
    p.add_argument("--sampler", help="preference sampler, e.g. dirichlet, uniform, sphere")
    p.add_argument("--n-eval", dest="n_eval", type=int, help="evaluation preferences")
    p.add_argument("--eval-every", dest="eval_every", type=int, help="steps between HV points")
    p.add_argument("--device", help="cpu, cuda, cuda:N or auto")
    p.add_argument("--hypernet", action="append", metavar="KEY=VALUE",
                   help="hypernetwork option, e.g. --hypernet width=256 (repeatable)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="any other training option, e.g. --set grad_clip=4.0 (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the run")
    p.add_argument("--out", help="write the result to this HDF5 file")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("--no-weights", action="store_true", help="do not store the weights")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "run", help="run a study file (outer loop)",
        description="Run a study: pymoo searches hypernetwork configurations, Ray actors train "
        "them, the HDF5 study file records everything.",
    )
    p.add_argument("study", help="study file (TOML), e.g. studies/quickstart.toml")
    _add_backend_options(p)
    p.add_argument("--output", help="override the study file's output path")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted study from its output file")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("show", help="summarise a study file (works while it runs)",
                       description="Print a study's problem, status, trials done and failed, "
                       "best HV and its outer Pareto front (a comparison's file: runs and HV "
                       "per method). Works while the study runs.")
    p.add_argument("file", help="a study's (or a train run's, or a comparison's) HDF5 file")
    p.add_argument("--errors", type=int, default=5,
                   help="failed and collapsed trials to list (default 5)")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("export", help="write tidy tables: fronts, traces, trials, outer front",
                       description="Write one tidy table of a study (one row per front point, "
                       "trace point or trial) as CSV, Parquet, JSON or NPZ. An existing file is "
                       "never replaced without --overwrite.")
    p.add_argument("file", help="a study's (or a comparison's) HDF5 file")
    p.add_argument("--format", choices=EXPORT_FORMATS, default="csv", help="file format")
    p.add_argument("--what", choices=EXPORT_WHAT, default="fronts", help="which table")
    p.add_argument("--out", help="output file (default: FILE's stem + .WHAT.FORMAT, beside it)")
    p.add_argument("--trials", help="only these trial ids, e.g. 3,8,12 (fronts, traces)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("plot", help="write PNG figures of a study",
                       description="Write a study's figures as PNG files: the learned fronts, "
                       "the HV traces and the outer Pareto front (STEM_fronts.png, "
                       "STEM_traces.png, STEM_outer.png). Existing figures are never replaced "
                       "without --overwrite.")
    p.add_argument("file", help="a study's (or a train run's) HDF5 file")
    p.add_argument("--out-dir", dest="out_dir",
                   help="folder for the PNGs (default: the study file's folder)")
    p.add_argument("--overwrite", action="store_true", help="replace existing figures")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("report", help="write one self-contained HTML page of a file",
                       description="Write one HTML page for a study, train or comparison file: "
                       "figures embedded, tables, settings, machine and version, and the "
                       "commands that reproduce it; no external requests.")
    p.add_argument("file", help="HDF5 file of `hybridmoo run`, `train` or `compare`")
    p.add_argument("--out", help="the page (default: FILE with .html)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("predict", help="generate the solution of a preference",
                       description="Load a stored hypernetwork and generate the solution of a "
                       "preference: the decision vector and its objectives, or a neural "
                       "target's metrics on held-out data.")
    p.add_argument("file", help="a study's (or a train run's) HDF5 file")
    p.add_argument("--trial", type=int, help="trial id (default: the best-HV trial)")
    p.add_argument("--preference", "-p", required=True,
                   help="the preference, comma-separated, e.g. 0.2,0.8 (sums to 1)")
    p.add_argument("--save", help="write the generated target parameters (torch.save)")
    p.add_argument("--c", type=float, help="DYMU trials: the resource preference in [0, 1] "
                   "(default: the trial's own; 1: the most frugal model)")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("resume", help="continue an interrupted study from its HDF5 file",
                       description="Continue an interrupted study with the study file stored "
                       "in FILE.h5: finished trials are kept, the outer algorithm's state is "
                       "replayed, the remaining trials run.")
    p.add_argument("file", help="the study's HDF5 file")
    _add_backend_options(p)
    p.set_defaults(func=cmd_resume)

    p = sub.add_parser("compare", help="run methods against each other (N seeds, equal budget)",
                       description="Run the methods of a compare file on its problem for N "
                       "seeds under an equal budget; write an HDF5 file, a Markdown report "
                       "and its HTML page.")
    p.add_argument("file", help="compare file (TOML), e.g. studies/compare_zdt1.toml")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    mode.add_argument("--resume", action="store_true",
                      help="keep the finished runs of the existing HDF5 file; run the missing "
                      "and failed ones (after an interruption, or new methods or seeds)")
    mode.add_argument("--report-only", action="store_true",
                      help="run nothing: redraw the report and plots from the existing HDF5 "
                      "file")
    p.add_argument("--rerun", action="append", default=[], metavar="LABEL",
                   help="with --resume: run this method's seeds again (repeatable), e.g. "
                   "after its code or settings changed")
    _add_backend_options(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("data", help="manage data sets (download MNIST, Fashion-MNIST)",
                       description="Manage the data sets of the multi-task problems. The data "
                       "root is $HYBRIDMOO_DATA, else ../shared/data next to the repository, "
                       "else ~/.cache/hybridmoo/data.")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    q = dsub.add_parser(
        "fetch", help="download a data set and verify its checksums",
        formatter_class=_HelpFormatter,
        description="Download the original gzip IDX files of DATASET into DIR/DATASET/ and "
        "verify their published MD5 checksums (needs network access). The multi-task problems "
        "read them with data_dir = DIR (or HYBRIDMOO_DATA = DIR).",
    )
    q.add_argument("dataset", choices=("mnist", "fashion"))
    q.add_argument("--dir", help="data root; files go to DIR/DATASET/ (default: "
                   "$HYBRIDMOO_DATA, which must then be set)")
    q.add_argument("--test-only", action="store_true",
                   help="only the 10,000 test images (enough for source = 't10k')")
    q.set_defaults(func=cmd_data_fetch)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hybridmoo`` console script."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(_negative_values(argv, parser))
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        # the reader went away (`hybridmoo ... | head`): stop quietly, as Unix tools do; point
        # stdout at /dev/null so that the interpreter's final flush cannot raise again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE
    except HybridMooError as exc:
        print(f"hybridmoo {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # runs and trials are flushed as they finish: say where they are and how to go on
        hint = getattr(args, "on_interrupt", None)
        print(f"\nhybridmoo {args.command}: interrupted" + (f"; {hint}" if hint else ""),
              file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
