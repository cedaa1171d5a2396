"""hybridmoo.export: one tidy table per call, the same rows in every format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hybridmoo.analysis import StudyData
from hybridmoo.errors import ConfigError, StoreError
from hybridmoo.export import FORMATS, WHAT, export

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "results" / "quickstart.h5"
COMPARE = ROOT / "results" / "compare" / "zdt1.h5"


def _read(path: Path, fmt: str) -> pd.DataFrame:
    if fmt == "csv":
        return pd.read_csv(path)
    if fmt == "json":
        return pd.DataFrame(json.loads(path.read_text()))
    if fmt == "parquet":
        return pd.read_parquet(path)
    with np.load(path) as z:
        return pd.DataFrame({k: z[k] for k in z.files})


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("what", ["fronts", "traces", "trials", "outer-front"])
def test_every_format_holds_the_same_table(what, fmt, tmp_path):
    """The committed quickstart study (an older file) exports the frame the API gives."""
    data = StudyData(STUDY)
    want = {"fronts": data.fronts, "traces": data.traces, "trials": data.trials,
            "outer-front": data.outer_front}[what]()
    out = export(STUDY, what, fmt, tmp_path / f"t.{fmt}")
    got = _read(out, fmt)
    assert list(got.columns) == list(want.columns) and len(got) == len(want) > 0
    num = [c for c in want.columns if pd.api.types.is_numeric_dtype(want[c])]
    np.testing.assert_allclose(got[num].to_numpy(float), want[num].to_numpy(float),
                               rtol=1e-15, equal_nan=True)  # exact, json included


def test_fronts_and_traces_are_one_row_per_point():
    data = StudyData(STUDY)
    ids = data.trial_ids()[:2]
    fronts, traces = data.fronts(ids), data.traces(ids)
    assert len(fronts) == sum(data.trial(t).F.shape[0] for t in ids)
    assert len(traces) == sum(len(data.trial(t).trace["steps"]) for t in ids)
    assert {"trial_id", "steps", "seconds", "hv"} <= set(traces.columns)
    assert set(fronts["trial_id"]) == set(ids)


def test_default_path_and_no_silent_overwrite(tmp_path):
    import shutil

    study = shutil.copy(STUDY, tmp_path / "q.h5")
    out = export(study, "trials", "csv")
    assert out == tmp_path / "q.trials.csv" and out.exists()
    with pytest.raises(StoreError, match="already exists; pass --overwrite"):
        export(study, "trials", "csv", overwrite=False)


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"what": "front", "fmt": "csv"}, "--what 'front' is not one of"),
    ({"what": "fronts", "fmt": "xlsx"}, "--format 'xlsx' is not one of"),
    ({"what": "fronts", "fmt": "csv", "n": 5}, "--n 5 sets the size of the study front"),
])
def test_bad_requests_name_what_is_allowed(kwargs, words, tmp_path):
    with pytest.raises(ConfigError, match=words):
        export(STUDY, out=tmp_path / "x", **kwargs)


@pytest.mark.skipif(not COMPARE.exists(), reason="results/compare/zdt1.h5 not in this checkout")
def test_comparison_files_export_runs_not_trials(tmp_path):
    out = export(COMPARE, "trials", "csv", tmp_path / "runs.csv")
    runs = pd.read_csv(out)
    assert {"label", "seed", "hv"} <= set(runs.columns) and len(runs) >= 2
    with pytest.raises(ConfigError, match="has no outer front"):
        export(COMPARE, "outer-front", "csv", tmp_path / "o.csv")
    with pytest.raises(ConfigError, match="drop --trials"):
        export(COMPARE, "fronts", "csv", tmp_path / "f.csv", trial_ids=[0])


def test_what_lists_agree_with_the_cli():
    from hybridmoo.cli import EXPORT_FORMATS, EXPORT_WHAT

    assert tuple(WHAT) == tuple(EXPORT_WHAT) and tuple(FORMATS) == tuple(EXPORT_FORMATS)
