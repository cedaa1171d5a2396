"""The README cannot drift: every shell command of its ``bash`` blocks parses with the real
``hybridmoo`` parser and names files that exist, and every ``python`` block runs.

How the examples are made small (documented here, applied by :func:`small`): budgets are cut
(``{"seconds": 60}`` → 2 s, ``steps=2000`` → 20, ``n_prefs=5`` → 2), and the Python blocks run
in a subprocess from the repository root (they read the committed ``results/`` files and write
nothing). Shell commands are parsed, not run: running a study, a comparison or a download from
the README would take minutes or the network; each of those commands is exercised by its own
tests (test_cli, test_workflow, test_cli_frictions, test_compare).
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from hybridmoo.cli import _negative_values, build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README, flags=re.S)

#: (pattern, replacement): the documented budget substitutions
SMALL = [(r'\{"seconds": \d+\}', '{"seconds": 2}'), (r"steps=2000", "steps=20"),
         (r"n_prefs=5", "n_prefs=2")]


def small(code: str) -> str:
    """A README block with its budgets cut (see the module docstring)."""
    for pattern, repl in SMALL:
        code = re.sub(pattern, repl, code)
    return code


def _commands() -> list[str]:
    out = []
    for lang, body in BLOCKS:
        if lang != "bash":
            continue
        body = body.replace("\\\n", " ")
        for line in body.splitlines():
            line = line.split("  #")[0].split(" # ")[0].strip()
            if line.startswith("hybridmoo "):
                out.append(line)
    return out


COMMANDS = _commands()
PYTHON = [b for lang, b in BLOCKS if lang == "python"]
# commands that name a placeholder or a file the user writes first
PLACEHOLDERS = ("STUDY.toml", "FILE.h5", "COMPARE.toml", "PROBLEM", "my_compare.toml")


def test_the_readme_has_examples():
    assert len(COMMANDS) >= 25 and len(PYTHON) >= 3


@pytest.mark.parametrize("command", COMMANDS)
def test_shell_command_parses_and_names_existing_files(command):
    """Every `hybridmoo ...` line is a valid command line; the study and compare files it
    names exist in the repository (and load)."""
    if any(p in command for p in PLACEHOLDERS) or "|" in command or "[" in command:
        pytest.skip("a synopsis line with placeholders (checked by --help tests)")
    argv = shlex.split(command)[1:]
    parser = build_parser()
    if argv[:1] == ["--version"]:
        return
    args = parser.parse_args(_negative_values(argv, parser))
    for value in vars(args).values():
        if isinstance(value, str) and value.startswith("studies/"):
            assert (ROOT / value).is_file(), value
            if value.endswith(".toml") and "compare" not in value:
                from hybridmoo.studyfile import load_study

                load_study(ROOT / value)


@pytest.mark.parametrize("index", range(len(PYTHON)))
def test_python_block_runs(index, tmp_path):
    """Each Python block runs (budgets cut) without error."""
    code = small(PYTHON[index])
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_study_commands_run_on_a_small_study(tmp_path, monkeypatch, capsys):
    """The block "Work with a study" runs as written, in a temporary folder, on a small study
    written where the README's commands look for it (runs/quickstart.h5); lines that need the
    repository's study files or the slow DYMU study are left out."""
    from hybridmoo.cli import main
    from hybridmoo.study import Study

    block = next(b for lang, b in BLOCKS if lang == "bash" and "hybridmoo show runs/" in b)
    (tmp_path / "s.toml").write_text(
        '[study]\nname = "q"\noutput = "runs/quickstart.h5"\n[problem]\nname = "zdt2"\n'
        'options = { n_var = 3 }\n[objectives]\nnames = ["hv", "n_params"]\n[algorithm]\n'
        'name = "nsga2"\npop_size = 2\ngenerations = 2\n[budget]\nsteps = 10\n'
        '[fixed.train]\nn_prefs = 2\nn_eval = 5\neval_every = 5\n[search]\n'
        '"hypernet.width" = { type = "int", low = 4, high = 16 }\n')
    Study(tmp_path / "s.toml", backend="local", progress=False).run()
    monkeypatch.chdir(tmp_path)
    ran = 0
    for line in block.splitlines():
        line = line.split("  #")[0].strip()
        if not line.startswith("hybridmoo ") or "studies/" in line or "dymu" in line:
            continue
        argv = shlex.split(line)[1:]
        if argv[0] == "export" and "parquet" in argv:
            pytest.importorskip("pyarrow")
        assert main(argv) == 0, (line, capsys.readouterr().err)
        ran += 1
    assert ran >= 7 and (tmp_path / "w.pt").is_file()
