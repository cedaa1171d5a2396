"""Tests of `hybridmoo compare` and of hybridmoo's own search as a compared method."""

from __future__ import annotations

import re

import h5py
import numpy as np
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
    assert re.search(r"Runs finished: 6 on \d{4}-\d\d-\d\d; hybridmoo \S+\.", report), report


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


def _two_methods(tmp_path):
    """The tiny compare file without hybridmoo (nsga2, ls; 2 seeds), written to c.toml."""
    text = COMPARE.replace('[[methods]]\nname = "hybridmoo"\n', "")
    (tmp_path / "c.toml").write_text(text)
    return text


def test_compare_resume_runs_only_what_is_missing(tmp_path, capsys):
    """--resume keeps finished runs; it runs missing, failed, half-written and new ones only."""
    text = _two_methods(tmp_path)
    c = str(tmp_path / "c.toml")
    assert main(["compare", c, "--backend", "local", "--quiet"]) == 0
    with h5py.File(tmp_path / "out.h5", "a") as f:
        runs = f["runs"]
        for key in ("nsga2/000", "ls/000"):
            runs[key].attrs["kept"] = 1  # a run rewritten by the resume would lose this mark
        runs["nsga2/000"].attrs["finished"] = "2026-01-01T09:00:00+00:00"  # an earlier session
        runs["nsga2/001"].attrs["status"] = "failed"
        del runs["ls/001"]
        runs["ls"].create_group("001.partial")  # a write cut off by the interruption
    # without a flag an existing output is refused, and the message names both ways on
    assert main(["compare", c, "--backend", "local", "--quiet"]) != 0
    err = capsys.readouterr().err
    assert "--resume" in err and "--overwrite" in err
    (tmp_path / "c.toml").write_text(text + '[[methods]]\nname = "hybridmoo"\n')
    assert main(["compare", c, "--backend", "local", "--resume"]) == 0
    assert "2 finished runs kept, 4 to run" in capsys.readouterr().out
    with h5py.File(tmp_path / "out.h5") as f:
        runs = f["runs"]
        assert sorted(runs) == ["hybridmoo", "ls", "nsga2"]
        assert sorted(runs["ls"]) == ["000", "001"]  # the .partial leftover is gone
        assert runs["nsga2/000"].attrs.get("kept") == 1 and runs["ls/000"].attrs.get("kept") == 1
        assert all(runs[m][s].attrs["status"] == "ok" for m in runs for s in runs[m])
        assert "hybridmoo" in f.attrs["study_text"]  # the stored compare file is the new one
    report = (tmp_path / "report.md").read_text()
    assert "| hybridmoo" in report
    # the report says the runs come from two sessions
    assert re.search(r"Runs finished: 1 on 2026-01-01; 5 on \d{4}-\d\d-\d\d \(the file was "
                     r"resumed\); hybridmoo ", report), report
    # --rerun runs one method's seeds again and keeps the others'
    assert main(["compare", c, "--backend", "local", "--resume", "--rerun", "ls"]) == 0
    assert "4 finished runs kept, 2 to run" in capsys.readouterr().out
    with h5py.File(tmp_path / "out.h5") as f:
        assert "kept" not in f["runs/ls/000"].attrs
        assert f["runs/nsga2/000"].attrs.get("kept") == 1


def test_compare_resume_refuses_runs_that_would_not_compare(tmp_path, capsys):
    """Resuming under another budget, problem or method setting is refused, naming the fix."""
    from hybridmoo.compare import run_compare

    text = _two_methods(tmp_path)
    c = tmp_path / "c.toml"
    assert main(["compare", str(c), "--backend", "local", "--resume"]) != 0
    assert "nothing to resume" in capsys.readouterr().err
    run_compare(c, backend="local", progress=False)
    c.write_text(text.replace("amount = 400", "amount = 800"))
    with pytest.raises(StoreError, match="runs had the budget .*not comparable"):
        run_compare(c, backend="local", resume=True, progress=False)
    c.write_text(text.replace("n_var = 4", "n_var = 5"))
    with pytest.raises(StoreError, match="its runs are on problem"):
        run_compare(c, backend="local", resume=True, progress=False)
    c.write_text(text.replace("pop_size = 20", "pop_size = 10"))
    with h5py.File(tmp_path / "out.h5", "a") as f:
        f["runs/ls/000"].attrs["status"] = "failed"  # would be rerun, but only if resuming goes on
    with pytest.raises(ConfigError, match="pass --rerun 'nsga2'"):
        run_compare(c, backend="local", resume=True, progress=False)
    with h5py.File(tmp_path / "out.h5") as f:  # a refused resume deletes nothing
        assert sorted(f["runs/ls"]) == ["000", "001"] and sorted(f["runs/nsga2"]) == ["000", "001"]
    with pytest.raises(ConfigError, match="no method has that label.*nsga2"):
        run_compare(c, backend="local", resume=True, rerun=("nsga", ), progress=False)
    with pytest.raises(ConfigError, match="needs resume"):
        run_compare(c, backend="local", rerun=("ls",), progress=False)
    with pytest.raises(ConfigError, match="exclude each other"):
        run_compare(c, backend="local", resume=True, overwrite=True, progress=False)
    # on the command line: one of --overwrite / --resume / --report-only; --rerun with --resume
    for flags in (["--resume", "--overwrite"], ["--report-only", "--resume"],
                  ["--report-only", "--overwrite"]):
        with pytest.raises(SystemExit):
            main(["compare", str(c), *flags])
        assert "not allowed with argument" in capsys.readouterr().err
    assert main(["compare", str(c), "--report-only", "--rerun", "ls"]) == 2
    assert "--rerun LABEL needs --resume" in capsys.readouterr().err
    # with --rerun the changed method runs again under its new setting
    results = run_compare(c, backend="local", resume=True, rerun=("nsga2",), progress=False)
    assert all(r.ok and r.params["pop_size"] == 10 for r in results["nsga2"])


def test_ctrl_c_during_compare_keeps_finished_runs(tmp_path, capsys, monkeypatch):
    """Ctrl-C during `hybridmoo compare`: exit 130, the runs so far kept, --resume named."""
    from hybridmoo import compare

    _two_methods(tmp_path)
    real, calls = compare._job, []

    def interrupted_after_3(*a):
        calls.append(1)
        if len(calls) > 3:
            raise KeyboardInterrupt
        return real(*a)

    monkeypatch.setattr(compare, "_job", interrupted_after_3)
    c = str(tmp_path / "c.toml")
    assert main(["compare", c, "--backend", "local", "--quiet"]) == 130
    assert f"continue with `hybridmoo compare {c} --resume`" in capsys.readouterr().err
    with h5py.File(tmp_path / "out.h5") as f:
        assert sum(len(f["runs"][m]) for m in f["runs"]) == 3
    monkeypatch.setattr(compare, "_job", real)
    assert main(["compare", c, "--backend", "local", "--resume"]) == 0
    assert "3 finished runs kept, 1 to run" in capsys.readouterr().out


def test_ray_options_the_backend_would_ignore_are_refused(tmp_path, capsys):
    """--address with --backend local, --num-cpus with either: errors, not silently ignored."""
    _two_methods(tmp_path)
    assert main(["compare", str(tmp_path / "c.toml"), "--backend", "local", "--address",
                 "auto"]) == 2
    assert "address 'auto' joins a Ray cluster; the local backend" in capsys.readouterr().err
    assert not (tmp_path / "out.h5").exists()
    (tmp_path / "s.toml").write_text(
        '[study]\noutput = "s.h5"\n[problem]\nname = "zdt1"\n[algorithm]\npop_size = 4\n'
        '[budget]\nsteps = 10\n[search]\n"hypernet.width" = { type = "int", low = 4, high = 8 }\n')
    assert main(["run", str(tmp_path / "s.toml"), "--backend", "local", "--address",
                 "auto"]) == 2
    assert "drop one of them" in capsys.readouterr().err
    assert not (tmp_path / "s.h5").exists()
    # --num-cpus sizes a Ray started here: ignored with a cluster or in-process, so refused
    for extra, why in ((["--backend", "local"], "the local backend runs in-process"),
                       (["--address", "auto"], "the cluster's own CPUs are used")):
        for cmd in (["compare", str(tmp_path / "c.toml")], ["run", str(tmp_path / "s.toml")]):
            assert main([*cmd, *extra, "--num-cpus", "2"]) == 2
            assert why in capsys.readouterr().err
    assert main(["compare", str(tmp_path / "c.toml"), "--num-cpus", "0"]) == 2
    assert "num_cpus = 0 is invalid" in capsys.readouterr().err
    assert not (tmp_path / "out.h5").exists() and not (tmp_path / "s.h5").exists()


def test_show_export_plot_resume_on_a_comparison_file(tmp_path, capsys):
    """show and export read a comparison's file; plot, resume and predict name the right command."""
    import pandas as pd

    from hybridmoo.compare import load_runs

    _two_methods(tmp_path)
    c = tmp_path / "c.toml"
    assert main(["compare", str(c), "--backend", "local", "--quiet"]) == 0
    capsys.readouterr()
    out = str(tmp_path / "out.h5")
    runs = load_runs(c)
    assert main(["show", out]) == 0
    shown = capsys.readouterr().out
    assert "nsga2" in shown and "ls" in shown and "2 / 0" in shown
    assert f"{np.mean([r.hv for r in runs['nsga2']]):.4f}" in shown
    for what in ("fronts", "traces", "trials"):
        assert main(["export", out, "--what", what, "--format", "csv"]) == 0
    fronts = pd.read_csv(tmp_path / "out.fronts.csv")
    assert len(fronts) == sum(r.F.shape[0] for rs in runs.values() for r in rs)
    nsga_0 = fronts[(fronts.label == "nsga2") & (fronts.seed == 0)]
    np.testing.assert_allclose(nsga_0[["f1", "f2"]].to_numpy(), runs["nsga2"][0].F)
    assert {"pref_1", "pref_2", "x_4"} <= set(fronts.columns)  # ls has preferences; X stored
    traces = pd.read_csv(tmp_path / "out.traces.csv")
    assert len(traces) == sum(len(r.trace["hv"]) for rs in runs.values() for r in rs)
    trials = pd.read_csv(tmp_path / "out.trials.csv")
    assert sorted(zip(trials.label, trials.seed, strict=True)) == [("ls", 0), ("ls", 1),
                                                                   ("nsga2", 0), ("nsga2", 1)]
    np.testing.assert_allclose(trials[trials.label == "ls"].sort_values("seed").hv,
                               [r.hv for r in runs["ls"]])
    capsys.readouterr()
    for args, match in ((["export", out, "--what", "outer-front", "--format", "csv"],
                         "has no outer front"),
                        (["export", out, "--what", "fronts", "--format", "csv", "--trials", "1",
                          "--overwrite"], "drop --trials"),
                        (["plot", out], "report and plots are redrawn by `hybridmoo compare"),
                        (["resume", out], "continue it with `hybridmoo compare COMPARE.toml "
                                          "--resume`"),
                        (["predict", out, "-p", "0.5,0.5"], "is the output of `hybridmoo "
                                                            "compare`")):
        assert main(args) == 2, args
        assert match in capsys.readouterr().err, args


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
    assert r.hv == pytest.approx(r.trace["hv"][-1])  # the study front, its last point


def test_shipped_compare_files_validate():
    """Every studies/compare_*.toml is a valid compare file.

    The main comparisons (``compare_<problem>.toml``) pit at least five methods against each
    other; the longer-budget ones (``compare_<problem>_<budget>.toml``) rerun the search
    against the strongest of them, so they need the search and at least one rival.
    """
    from pathlib import Path

    files = sorted((Path(__file__).parents[1] / "studies").glob("compare_*.toml"))
    assert len(files) >= 4
    for f in files:
        spec = load_compare(f)
        names = [m["name"] for m in spec.methods]
        assert spec.seeds >= 3, f.name
        if "_" in f.stem.removeprefix("compare_"):
            assert "hybridmoo_search" in names and len(names) >= 2, f.name
        else:
            assert len(names) >= 5, f.name


def test_report_weighs_the_search_against_the_defaults_it_starts_from(tmp_path):
    """Beside the best baseline, the report says whether the search beat the library defaults
    (its first trial's configuration), with the rank-sum p."""
    from hybridmoo import problems
    from hybridmoo.baselines.common import BaselineResult
    from hybridmoo.compare import _report

    text = (COMPARE.replace('output = "out.h5"', f'output = "{tmp_path / "o.h5"}"')
            .replace('report = "report.md"', f'report = "{tmp_path / "r.md"}"')
            + '[[methods]]\nname = "hybridmoo_search"\n')
    spec = load_compare(text=text)
    problem = problems.get("zdt1", n_var=4)
    F = np.array([[0.0, 1.0], [0.5, 0.3], [1.0, 0.0]])

    def run(label: str, seed: int, hv: float) -> BaselineResult:
        trace = {k: np.array([0.0, 1.0]) for k in ("seconds", "evaluations", "steps")}
        trace.update(hv=np.array([0.0, hv]), igd=np.full(2, np.nan))
        return BaselineResult(method=label, params={}, problem=problem.describe(), seed=seed,
                              status="ok", error="", F=F, X=None, prefs=None, trace=trace,
                              budget_used={"seconds": 1.0, "evaluations": 1.0, "steps": 1.0},
                              hv=hv, ref_point=np.array([1.1, 1.1]))

    level = {"nsga2": 0.80, "ls": 0.70, "hybridmoo": 0.85, "hybridmoo_search": 0.86}
    results = {m: [run(m, s, v + 0.001 * s) for s in range(2)] for m, v in level.items()}
    lines, _ = _report(spec, results, problem)
    report = "\n".join(lines)
    assert "**hybridmoo_search wins against nsga2**" in report
    assert re.search(r"\*\*hybridmoo_search wins against hybridmoo\*\* on final HV by 0\.01 "
                     r"\(\+1\.18%; rank-sum p = [0-9.]+: not significant", report), report
    results["hybridmoo_search"] = [run("hybridmoo_search", s, 0.84 + 0.001 * s)
                                   for s in range(2)]
    report = "\n".join(_report(spec, results, problem)[0])
    assert "**hybridmoo_search loses to hybridmoo**" in report
    assert "hybridmoo wins against hybridmoo_search" not in report


def test_search_returns_as_many_points_as_asked_on_three_objectives():
    """On three objectives a trial's evaluation lattice has more points than n_eval asks for
    (12 → 15); the search's study front keeps n_eval, as many as the methods it is compared
    with return (HV grows with the number of points)."""
    r = baselines.run("hybridmoo_search", "dtlz2", {"kind": "steps", "amount": 120}, seed=0,
                      problem_options={"n_var": 5}, pop_size=2, generations=1, n_eval=12)
    assert r.ok, r.error
    assert r.F.shape == (12, 3)
    assert r.extra["study_front"]["points"] == 12
