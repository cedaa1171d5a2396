"""Commands that run something: problems, train, run, resume, compare, data fetch."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hybridmoo._config import MAX_SEED, check_int, check_output_path, reject_nonfinite
from hybridmoo.cli._common import _finished_study, _fmt_vec, _next_steps
from hybridmoo.errors import ConfigError, StoreError


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
    reject_nonfinite(out, what)
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
    check_int("--seed", args.seed, 0, MAX_SEED)
    if args.out:
        check_output_path(args.out, "--out")  # before training, not after
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
    front = result.extra.get("front", {})
    if front.get("kept") == "hv_subset":
        print(f"front: the {len(result.F)} points with the most HV of {front['pooled']} queried "
              f"(HV {front['hv_preferences']:.6g} at the evaluation preferences; "
              "--set front=preferences keeps those)")
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
                  resume=args.resume, working_dir=args.working_dir,
                  time_limit=args.time_limit)
    if args.resume and study.spec.output.exists():
        from hybridmoo import store

        msg = store.recover(study.spec.output)  # a crash after the last trial: made whole
        if msg:
            print(msg, file=sys.stderr)
        done = _finished_study(study.spec.output, study.spec.n_trials)
        if done is not None:
            store.end_journal(study.spec.output)  # killed after finishing, before closing
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
    if result.extra.get("stopped"):
        print(f"{result.extra['stopped']}. `hybridmoo resume {result.path}` runs the trials "
              "left out")
    print(_next_steps(result.path))
    return 0


def cmd_resume(args: argparse.Namespace) -> int:
    """Resume a study from the study file stored in its HDF5 file."""
    from hybridmoo import store
    from hybridmoo.study import Study
    from hybridmoo.studyfile import load_stored_study

    if Path(args.file).suffix.lower() == ".toml":
        raise ConfigError(f"{args.file} is a TOML file; `hybridmoo resume` takes a study's HDF5 "
                          f"output. Continue a study from its study file with `hybridmoo run "
                          f"{args.file} --resume`, a comparison with `hybridmoo compare "
                          f"{args.file} --resume`")
    msg = store.recover(args.file)  # a truncated or damaged study is restored from its backup
    if msg:
        print(msg, file=sys.stderr)
    kind = store.check_structure(args.file)  # what recovery could not restore: StoreError
    if kind == "compare":
        raise StoreError(f"{args.file} is the output of `hybridmoo compare`, not a study: "
                         "continue it with `hybridmoo compare COMPARE.toml --resume`")
    if kind == "train":
        raise StoreError(f"{args.file} holds one training run (`hybridmoo train --out`), not a "
                         "study: there is nothing to resume. Rerun it with `hybridmoo train "
                         f"PROBLEM ... --out {args.file} --overwrite`, or run a study with "
                         "`hybridmoo run STUDY.toml`")
    done = _finished_study(args.file)
    if done is not None:  # nothing to run: no backend (no Ray) is started
        store.end_journal(args.file)  # killed after finishing, before closing the journal
        print(f"{args.file}: nothing to do — the study has finished all {done} trials (to "
              "extend it, raise [algorithm] generations in its study file and run "
              "`hybridmoo run STUDY.toml --resume`)")
        print(_next_steps(args.file))
        return 0
    if args.working_dir:  # a problem named by import path: where its module lives
        from hybridmoo.usercode import add_import_folder

        add_import_folder(args.working_dir)
    spec = load_stored_study(args.file)
    spec.output = Path(args.file).resolve()
    study = Study(spec, backend=args.backend, address=args.address, progress=not args.quiet,
                  num_cpus=args.num_cpus, resume=True, working_dir=args.working_dir,
                  time_limit=args.time_limit)
    args.on_interrupt = (f"the finished trials are saved in {spec.output}; continue with "
                         f"`hybridmoo resume {args.file}`")
    result = study.run()
    if args.quiet:
        print(f"{result.path}: {len(result.trials)} trials, {result.failed} failed")
    print(_next_steps(args.file))
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

    if getattr(args, "working_dir", None):  # the user's code lives there: import it from there
        from hybridmoo.usercode import add_import_folder

        add_import_folder(args.working_dir)
    spec = load_compare(args.file)
    if getattr(args, "working_dir", None):  # and ship that folder to the Ray workers
        from hybridmoo.usercode import user_runtime_env

        spec.runtime_env = user_runtime_env(spec.runtime_env, spec.problem,
                                            Path(args.file).parent, working_dir=args.working_dir)
    if not args.report_only:
        check_output_path(spec.output, "compare.output")
    check_output_path(spec.report, "compare.report")
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
