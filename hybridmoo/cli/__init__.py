"""The ``hybridmoo`` command line: argument parsing only; the work is done by the library.

The parser and :func:`main` live here; the commands in :mod:`hybridmoo.cli.commands` (what runs
something) and :mod:`hybridmoo.cli.inspect` (what reads a file). Nothing heavy is imported
before a command runs, so ``--help`` and ``--version`` are fast.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence

from hybridmoo.cli._common import EXPORT_FORMATS, EXPORT_WHAT
from hybridmoo.cli.commands import (
    cmd_compare,
    cmd_data_fetch,
    cmd_problems,
    cmd_resume,
    cmd_run,
    cmd_train,
)
from hybridmoo.cli.inspect import cmd_export, cmd_plot, cmd_predict, cmd_report, cmd_show
from hybridmoo.errors import HybridMooError

__all__ = ["main", "build_parser", "EXPORT_FORMATS", "EXPORT_WHAT"]


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
    p.add_argument("--time-limit", dest="time_limit", type=float, metavar="SECONDS",
                   help="wall-clock seconds for this run of the study, replacing the study "
                        "file's [study] time_limit: trials get a fair share of the time left "
                        "and none starts that would not fit")


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
    p.add_argument("--n", type=int, help="points of the study front (default: the trials' "
                   "n_eval)")
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
    p.add_argument("--n", type=int, help="study-front: its number of points (default: the "
                   "trials' n_eval)")
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
    p.add_argument("--overwrite", action="store_true", help="replace an existing page")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("predict", help="generate the solution of a preference",
                       description="Load a stored hypernetwork and generate the solution of a "
                       "preference: the decision vector and its objectives, or a neural "
                       "target's metrics on held-out data. With --study-front: the points of "
                       "the study front, each with its trial and preference.")
    p.add_argument("file", help="a study's (or a train run's) HDF5 file")
    p.add_argument("--trial", type=int,
                   help="trial id (default: the best-HV trial of the outer front)")
    p.add_argument("--preference", "-p",
                   help="the preference, comma-separated, e.g. 0.2,0.8 (sums to 1)")
    p.add_argument("--study-front", dest="study_front", action="store_true",
                   help="serve the study front instead of one preference: every point with "
                   "its trial, preference and objectives")
    p.add_argument("--n", type=int, help="--study-front: its number of points (default: the "
                   "trials' n_eval)")
    p.add_argument("--save", help="write the generated target parameters (torch.save; with "
                   "--study-front a list with one entry per point)")
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
        rc = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's final flush
        return rc
    except BrokenPipeError:
        # the reader went away (`hybridmoo ... | head`): stop quietly, as Unix tools do; point
        # stdout at /dev/null so that the interpreter's final flush cannot raise again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE
    except HybridMooError as exc:
        print(f"hybridmoo {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the file system refused (permissions, a full disk): no traceback
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"hybridmoo {args.command}: error: {exc.strerror or exc}{where}; nothing more was "
              "written. Check the path and its permissions, then run the command again",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # runs and trials are flushed as they finish: say where they are and how to go on
        hint = getattr(args, "on_interrupt", None)
        print(f"\nhybridmoo {args.command}: interrupted" + (f"; {hint}" if hint else ""),
              file=sys.stderr)
        return 130
