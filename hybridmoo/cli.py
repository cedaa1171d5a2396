"""The ``hybridmoo`` command line: argument parsing only; the work is done by the library."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from hybridmoo.errors import HybridMooError

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


def cmd_run(args: argparse.Namespace) -> int:
    """Run a study file (the outer loop)."""
    print("hybridmoo run: the study runner is not built yet (see the outer-loop issue).",
          file=sys.stderr)
    return 2


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

    p = sub.add_parser("run", help="run a study file (outer loop)")
    p.add_argument("study", help="study file (TOML)")
    p.set_defaults(func=cmd_run)
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
