"""Tests of `hybridmoo compare` and of hybridmoo's own search as a compared method."""

from __future__ import annotations

import h5py
import pytest

from hybridmoo import baselines
from hybridmoo.cli import main
from hybridmoo.compare import load_compare
from hybridmoo.errors import ConfigError, StoreError, UnknownNameError

COMPARE = """
[compare]
name = "tiny"
seeds = 2
output = "out.h5"
report = "report.md"
[problem]
name = "zdt1"
options = { n_var = 4 }
[budget]
kind = "evaluations"
amount = 400
[[methods]]
name = "nsga2"
params = { pop_size = 20 }
[[methods]]
name = "ls"
[[methods]]
name = "hybridmoo"
"""


def test_compare_runs_and_reports(tmp_path, capsys):
    """A compare file runs every method for every seed and writes the runs and the report."""
    (tmp_path / "c.toml").write_text(COMPARE)
    assert main(["compare", str(tmp_path / "c.toml"), "--backend", "local", "--quiet"]) == 0
    with h5py.File(tmp_path / "out.h5") as f:
        assert f.attrs["kind"] == "compare"
        assert sorted(f["runs"]) == ["hybridmoo", "ls", "nsga2"]
        for m in f["runs"]:
            assert sorted(f["runs"][m]) == ["000", "001"]
            g = f["runs"][m]["000"]
            assert g.attrs["status"] == "ok" and g["trace/hv"].shape[0] >= 1
    report = (tmp_path / "report.md").read_text()
    assert "| nsga2" in report and "| hybridmoo" in report and "best baseline" in report
    assert "wins against" in report or "loses to" in report
    assert (tmp_path / "report_hv.png").stat().st_size > 5000
    assert (tmp_path / "report_fronts.png").stat().st_size > 5000
    # --report-only redraws the same table from the HDF5 file without running anything
    (tmp_path / "report.md").unlink()
    assert main(["compare", str(tmp_path / "c.toml"), "--report-only"]) == 0
    assert (tmp_path / "report.md").read_text() == report
    assert "rank-sum p = " in report


def test_report_only_errors_name_the_file(tmp_path, capsys):
    """--report-only on a missing or non-compare output says which file and what to do."""
    from hybridmoo import store
    from hybridmoo.compare import load_runs

    (tmp_path / "c.toml").write_text(COMPARE)
    assert main(["compare", str(tmp_path / "c.toml"), "--report-only"]) != 0
    assert "out.h5 does not exist: run `hybridmoo compare" in capsys.readouterr().err
    store.create(tmp_path / "out.h5", kind="study", problem={"name": "zdt1"})
    with pytest.raises(StoreError, match="is a 'study' file, not the output of"):
        load_runs(tmp_path / "c.toml")


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (('name = "ls"', 'name = "lss"'), UnknownNameError, "unknown"),
        (('name = "ls"', 'name = "ls"\nparams = { lrr = 1 }'), ConfigError,
         "no parameter 'lrr'"),
        (('kind = "evaluations"', 'kind = "evals"'), ConfigError, "evals"),
        (("seeds = 2", "seeds = 0"), ConfigError, "compare.seeds = 0"),
        (("[budget]", "[budjet]"), ConfigError, r"unknown table \[budjet\]"),
    ],
)
def test_compare_file_errors(change, error, match):
    """Bad compare files are refused before anything runs, naming what is wrong."""
    with pytest.raises(error, match=match):
        load_compare(text=COMPARE.replace(*change))


def test_hybridmoo_search_respects_budget_and_charges_its_cost():
    """The outer + inner search returns its best trial's front within about its budget."""
    r = baselines.run("hybridmoo_search", "zdt1", {"kind": "steps", "amount": 400}, seed=0,
                      problem_options={"n_var": 4}, pop_size=2, generations=2)
    assert r.ok and r.F.shape[1] == 2
    assert r.budget_used["steps"] <= 400
    assert list(r.trace["steps"]) == sorted(r.trace["steps"])  # cumulative cost
    assert r.hv == pytest.approx(r.trace["hv"][-1])  # the best trial's front


def test_shipped_compare_files_validate():
    """Every studies/compare_*.toml is a valid compare file."""
    from pathlib import Path

    files = sorted((Path(__file__).parents[1] / "studies").glob("compare_*.toml"))
    assert len(files) >= 4
    for f in files:
        spec = load_compare(f)
        assert spec.seeds >= 3 and len(spec.methods) >= 5
