"""Working with studies: show, export, plot, predict and the Python API on a real study."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

import hybridmoo
from hybridmoo import problems, store
from hybridmoo.cli import main
from hybridmoo.errors import ShapeError, StoreError
from hybridmoo.study import Study

STUDY = """
[study]
seed = 1
output = "out.h5"
[problem]
name = "zdt1"
options = { n_var = 4 }
[algorithm]
name = "nsga2"
pop_size = 4
generations = 1
[budget]
steps = 60
[fixed.train]
n_eval = 11
eval_every = 20
threads = 1
[search]
"hypernet.width" = { type = "int", low = 4, high = 64, log = true }
"train.lr" = { type = "real", low = 1e-3, high = 1e-2, log = true }
"""


@pytest.fixture(scope="module")
def study_file(tmp_path_factory):
    """A small finished study (local backend)."""
    d = tmp_path_factory.mktemp("wf")
    (d / "s.toml").write_text(STUDY)
    Study(d / "s.toml", backend="local", progress=False).run()
    return d / "out.h5"


def test_load_exposes_trials_fronts_traces(study_file):
    """hybridmoo.load gives tidy frames: one row per trial, per front point, per trace point."""
    s = hybridmoo.load(study_file)
    trials = s.trials()
    assert list(trials["trial_id"]) == [0, 1, 2, 3]
    assert {"hv", "n_params", "hypernet.width", "train.lr", "status"} <= set(trials.columns)
    fronts = s.fronts()
    assert len(fronts) == 4 * 11
    assert {"pref_1", "pref_2", "f1", "f2", "x_1", "x_4"} <= set(fronts.columns)
    np.testing.assert_allclose(fronts[["pref_1", "pref_2"]].sum(axis=1), 1.0)
    traces = s.traces([0])
    assert list(traces["steps"]) == [0, 20, 40, 60]
    assert set(s.outer_front()["trial_id"]) == set(s.outer_front_ids())


def test_front_rows_match_the_stored_objectives(study_file):
    """Exported objective values are those of the stored decision vectors."""
    s = hybridmoo.load(study_file)
    df = s.fronts([2])
    X = torch.tensor(df[[f"x_{i}" for i in range(1, 5)]].to_numpy())
    F = problems.get("zdt1", n_var=4).evaluate(X).numpy()
    np.testing.assert_allclose(df[["f1", "f2"]].to_numpy(), F, rtol=1e-5)


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet", "npz"])
@pytest.mark.parametrize("what", ["fronts", "traces", "trials", "outer-front"])
def test_export_every_format_reads_back(study_file, tmp_path, fmt, what):
    """Every table exports in every format and reads back with pandas/numpy unchanged."""
    out = tmp_path / f"t.{fmt}"
    assert main(["export", str(study_file), "--what", what, "--format", fmt,
                 "--out", str(out)]) == 0
    expected = {"fronts": hybridmoo.load(study_file).fronts,
                "traces": hybridmoo.load(study_file).traces,
                "trials": hybridmoo.load(study_file).trials,
                "outer-front": hybridmoo.load(study_file).outer_front}[what]()
    if fmt == "csv":
        got = pd.read_csv(out)
    elif fmt == "json":
        got = pd.read_json(out, orient="records")
    elif fmt == "parquet":
        got = pd.read_parquet(out)
    else:
        with np.load(out) as z:
            got = pd.DataFrame({k: z[k] for k in z.files})
    assert list(got.columns) == list(expected.columns) and len(got) == len(expected)
    num = [c for c in expected.columns if expected[c].dtype.kind == "f"]
    np.testing.assert_allclose(got[num].to_numpy(float), expected[num].to_numpy(float),
                               rtol=1e-9)


def test_show_summarises(study_file, capsys):
    """`hybridmoo show` prints the problem, status, counts, best HV and the outer front."""
    assert main(["show", str(study_file)]) == 0
    out = capsys.readouterr().out
    best = hybridmoo.load(study_file).best_trial()
    assert "zdt1" in out and "status: finished" in out and "4 done, 0 failed of 4" in out
    assert f"(trial {best})" in out and "outer Pareto front" in out


def test_plot_writes_pngs(study_file, tmp_path):
    """`hybridmoo plot` writes the three figures as valid PNG files."""
    assert main(["plot", str(study_file), "--out-dir", str(tmp_path)]) == 0
    for name in ("out_fronts.png", "out_traces.png", "out_outer.png"):
        data = (tmp_path / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_plot_three_and_more_objectives(tmp_path):
    """Fronts of 3 objectives plot in 3-D, of 4 as parallel coordinates."""
    for m in (3, 4):
        r = hybridmoo.train("dtlz2", problem_options={"n_obj": m}, steps=5, n_eval=10, seed=0)
        path = store.create(tmp_path / f"d{m}.h5", kind="train", problem=r.problem)
        store.write_trial(path, r, trial_id=0)
        written = hybridmoo.plots.plot_all(path, tmp_path) if hasattr(hybridmoo, "plots") \
            else __import__("hybridmoo.plots").plots.plot_all(path, tmp_path)
        assert all(p.stat().st_size > 5000 for p in written)


def test_predict_reproduces_the_stored_front(study_file, tmp_path, capsys):
    """predict with a stored preference returns that front point; --save writes the weights."""
    s = hybridmoo.load(study_file)
    tid = s.outer_front_ids()[0]
    r = s.trial(tid)
    out = s.predict(tid, r.prefs[3])
    np.testing.assert_allclose(out["objectives"], r.F[3], rtol=1e-5)
    np.testing.assert_allclose(out["x"], r.X[3], rtol=1e-5)
    save = tmp_path / "x.pt"
    assert main(["predict", str(study_file), "--trial", str(tid), "-p", "0.3,0.7",
                 "--save", str(save)]) == 0
    assert "f1 =" in capsys.readouterr().out
    assert torch.load(save)["x"].shape == (4,)


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["-p", "0.2,0.7"], "must sum to 1"),
        (["-p", "0.2,0.3,0.5"], "has 3 components; this problem has 2"),
        (["--preference=-0.2,1.2"], "finite and ≥ 0"),
        (["-p", "a,b"], "comma-separated numbers"),
        (["--trial", "99", "-p", "0.5,0.5"], "no trial 99; recorded trials: 0-3"),
    ],
)
def test_predict_bad_input(study_file, capsys, argv, match):
    """Wrong preferences and unknown trials are clear errors."""
    assert main(["predict", str(study_file), *argv]) == 2
    assert match in capsys.readouterr().err


def test_predict_without_weights(study_file):
    """A trial whose weights were not kept says which trials have them."""
    s = hybridmoo.load(study_file)
    without = [t for t in s.trial_ids() if t not in s.outer_front_ids()]
    if not without:
        pytest.skip("every trial is on the outer front in this tiny study")
    with pytest.raises(StoreError, match="has no stored weights"):
        s.predict(without[0], [0.5, 0.5])


def test_foreign_and_old_files(tmp_path, study_file):
    """Files hybridmoo did not write, or of another version, are refused by every command."""
    import h5py

    foreign = tmp_path / "f.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = 1
    with pytest.raises(StoreError, match="not written by hybridmoo"):
        hybridmoo.load(foreign)
    old = tmp_path / "old.h5"
    old.write_bytes(study_file.read_bytes())
    with h5py.File(old, "a") as f:
        f.attrs["format_version"] = 0
    assert main(["show", str(old)]) == 2
    with pytest.raises(StoreError, match="format version 0"):
        hybridmoo.load(old)


def test_show_while_running(tmp_path):
    """`show` reads a study that is being written without disturbing the writer."""
    import subprocess
    import sys
    import time

    (tmp_path / "s.toml").write_text(STUDY.replace("generations = 1", "generations = 2"))
    proc = subprocess.Popen([sys.executable, "-m", "hybridmoo.cli", "run",
                             str(tmp_path / "s.toml"), "--backend", "local", "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    out = tmp_path / "out.h5"
    shown = 0
    while proc.poll() is None:
        if out.exists():
            try:
                rows = hybridmoo.load(out).trial_records()
                shown += 1
                assert all(r["status"] in ("ok", "failed") for r in rows)
            except StoreError as exc:  # only "not created yet" is acceptable
                assert "not written by hybridmoo" in str(exc) or "no such file" in str(exc)
        time.sleep(0.01)
    assert proc.returncode == 0, proc.stderr.read().decode()
    assert shown > 0
    assert len(hybridmoo.load(out).trial_ids()) == 8
    assert json.loads(hybridmoo.load(out).attrs["objectives"]) == ["hv", "n_params"]


def test_shapes_of_preference_error_class(study_file):
    """predict raises ShapeError (a ValueError) for a bad preference, from Python too."""
    s = hybridmoo.load(study_file)
    with pytest.raises(ShapeError):
        s.predict(s.outer_front_ids()[0], [1.0])
