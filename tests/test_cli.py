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
    # the default front: the points with the most HV of a dense query, said so
    if r.extra["front"]["kept"] == "hv_subset":
        assert "points with the most HV of 121 queried" in text
        assert r.hv > r.extra["front"]["hv_preferences"]
    else:
        assert "queried" not in text
    code = main(["train", "zdt1", "-o", "n_var=4", "--steps", "30", "--n-eval", "11",
                 "--set", "front=preferences", "--quiet"])
    text = capsys.readouterr().out
    assert code == 0 and "final HV" in text and "queried" not in text


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


def test_run_local_study(tmp_path, capsys):
    """`hybridmoo run --backend local` runs a small study and prints the outer front."""
    study = tmp_path / "s.toml"
    study.write_text("""
[study]
seed = 0
output = "out.h5"
[problem]
name = "zdt1"
options = { n_var = 3 }
[algorithm]
name = "nsga2"
pop_size = 2
generations = 1
[budget]
steps = 10
[fixed.train]
n_eval = 5
threads = 1
[search]
"hypernet.width" = { type = "int", low = 4, high = 8 }
""")
    assert main(["run", str(study), "--backend", "local"]) == 0
    out = capsys.readouterr().out
    assert "outer Pareto front" in out and "study file" in out
    assert store.list_trials(tmp_path / "out.h5") == ([0, 1], [])
    assert main(["run", str(study), "--backend", "local"]) == 2  # refuses to overwrite
    assert "already exists" in capsys.readouterr().err


def test_run_rejects_bad_study(tmp_path, capsys):
    """A study file with a typo is refused with the key named, and nothing is written."""
    study = tmp_path / "s.toml"
    study.write_text("[study]\noutput = 'o.h5'\n[problme]\nname = 'zdt1'\n")
    assert main(["run", str(study), "--backend", "local"]) == 2
    assert "unknown table [problme]" in capsys.readouterr().err
    assert not (tmp_path / "o.h5").exists()
