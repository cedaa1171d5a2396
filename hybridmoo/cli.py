"""The ``hybridmoo`` command line: argument parsing only; the work is done by the library."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from hybridmoo.errors import ConfigError, HybridMooError, StoreError

__all__ = ["main"]


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
    if args.out:
        print(f"wrote {args.out}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run a study file (the outer loop)."""
    from hybridmoo.study import Study

    study = Study(args.study, backend=args.backend, address=args.address, output=args.output,
                  overwrite=args.overwrite, progress=not args.quiet, num_cpus=args.num_cpus,
                  resume=args.resume)
    result = study.run()
    if args.quiet:
        print(f"{result.path}: {len(result.trials)} trials, {result.failed} failed, "
              f"{len(result.front_ids)} on the outer front, {result.wall_time:.1f} s")
    return 0


def cmd_resume(args: argparse.Namespace) -> int:
    """Resume a study from the study file stored in its HDF5 file."""
    from hybridmoo import store
    from hybridmoo.study import Study
    from hybridmoo.studyfile import load_study

    msg = store.recover(args.file)
    if msg:
        print(msg, file=sys.stderr)
    with store.open_checked(args.file) as f:
        text = str(f.attrs.get("study_text", ""))
    spec = load_study(text=text)
    spec.output = Path(args.file).resolve()
    study = Study(spec, backend=args.backend, address=args.address, progress=not args.quiet,
                  num_cpus=args.num_cpus, resume=True)
    result = study.run()
    if args.quiet:
        print(f"{result.path}: {len(result.trials)} trials, {result.failed} failed")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``hybridmoo`` command."""
    from hybridmoo import __version__

    parser = argparse.ArgumentParser(
        prog="hybridmoo",
        description="Evolutionary + gradient hybrid multi-objective optimisation: pymoo searches "
        "preference-conditioned hypernetworks trained on Ray actors; studies are kept in HDF5.",
    )
    parser.add_argument("--version", action="version", version=f"hybridmoo {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("problems", help="list the registered problems")
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
    p.add_argument("--seed", type=int, default=0)
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
    p.add_argument("--backend", choices=("ray", "local"), default="ray",
                   help="ray (default: a local Ray started on demand, or --address) or local "
                   "(in-process, for debugging)")
    p.add_argument("--address", help="join an existing Ray cluster: 'auto' or HOST:PORT")
    p.add_argument("--output", help="override the study file's output path")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted study from its output file")
    p.add_argument("--num-cpus", dest="num_cpus", type=int,
                   help="CPUs of the local Ray (default: all)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or table")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("resume", help="continue an interrupted study from its HDF5 file",
                       description="Continue an interrupted study with the study file stored "
                       "in FILE.h5: finished trials are kept, the outer algorithm's state is "
                       "replayed, the remaining trials run.")
    p.add_argument("file", help="the study's HDF5 file")
    p.add_argument("--backend", choices=("ray", "local"), default="ray")
    p.add_argument("--address", help="join an existing Ray cluster: 'auto' or HOST:PORT")
    p.add_argument("--num-cpus", dest="num_cpus", type=int)
    p.add_argument("--quiet", "-q", action="store_true")
    p.set_defaults(func=cmd_resume)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hybridmoo`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except HybridMooError as exc:
        print(f"hybridmoo {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
