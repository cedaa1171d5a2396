"""Tests of the `hybridmoo` command line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hybridmoo import __version__, problems, store
from hybridmoo.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """Run the console entry point in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "hybridmoo.cli", *args],
                          capture_output=True, text=True, timeout=300)


def test_version_and_help():
    """--version prints the package version; --help lists the commands."""
    out = run_cli("--version")
    assert out.returncode == 0 and __version__ in out.stdout
    out = run_cli("--help")
    assert out.returncode == 0
    for cmd in ("problems", "train", "run"):
        assert cmd in out.stdout


def test_problems_lists_every_problem(capsys):
    """`hybridmoo problems` has a row for every registered problem."""
    assert main(["problems"]) == 0
    text = capsys.readouterr().out
    for name in problems.names():
        assert name in text


def test_train_writes_a_trial(tmp_path, capsys):
    """`hybridmoo train` prints the final HV and writes a readable one-trial HDF5 file."""
    out = tmp_path / "r.h5"
    code = main(["train", "zdt1", "-o", "n_var=4", "--steps", "30", "--eval-every", "10",
                 "--n-eval", "11", "--lr", "3e-3", "--out", str(out), "--quiet"])
    assert code == 0
    text = capsys.readouterr().out
    assert "final HV" in text and "ratio" in text
    r = store.read_trial(out, 0)
    assert r.ok and r.steps == 30 and r.F.shape == (11, 2) and r.X.shape == (11, 4)


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["train", "zdt9"], "unknown problem 'zdt9'"),
        (["train", "zdt1", "-o", "nvar=3"], "no option 'nvar'"),
        (["train", "zdt1", "--scalarization", "tcheby"], "unknown scalarization"),
        (["train", "zdt1", "--hypernet", "widht=3"], "unknown hypernet option 'widht'"),
        (["train", "zdt1", "--lr", "-1"], "train.lr = -1"),
    ],
)
def test_bad_input_is_a_clear_error(argv, match, capsys):
    """Unknown names and bad values end with exit code 2 and a message naming them."""
    assert main(argv) == 2
    assert match in capsys.readouterr().err
