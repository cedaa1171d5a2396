"""``hybridmoo export``: tidy tables of a study, one row per point, readable by pandas.

What (``--what``):

- ``fronts``: the learned fronts, one row per point: ``trial_id``, ``point``, the preference
  components ``pref_1…pref_m``, the objective values under their names, and the decision
  variables ``x_1…x_n`` (synthetic problems);
- ``traces``: the HV traces, one row per evaluation: ``trial_id``, ``step``, ``seconds``,
  ``samples``, ``hv``, ``igd``, ``loss``;
- ``trials``: one row per trial: status, HV, sizes, times, node, the searched values;
- ``outer-front``: the rows of ``trials`` on the outer Pareto front;
- ``study-front``: the study front (:meth:`~hybridmoo.analysis.StudyData.study_front`), one row
  per point in selection order: ``point``, ``trial_id``, ``pref_1…pref_m`` (the preference that
  produced it in that trial's hypernetwork), the objective values under their names and
  ``x_1…x_n`` where there are decision vectors.

A ``hybridmoo compare`` output file exports its runs instead: ``fronts`` (one row per point of
each method's and seed's final front, with ``label``, ``method``, ``seed``), ``traces`` (the HV
traces of the runs) and ``trials`` (one row per run: status, HV, budget used); it has no outer
front.

Formats (``--format``): ``csv``, ``parquet`` (needs pyarrow), ``json`` (records, one object per
row), ``npz`` (one array per column).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from hybridmoo import store
from hybridmoo.analysis import StudyData
from hybridmoo.errors import ConfigError, StoreError

__all__ = ["FORMATS", "WHAT", "export"]

FORMATS = ("csv", "parquet", "json", "npz")
WHAT = ("fronts", "traces", "trials", "outer-front", "study-front", "lineage")


def export(study: StudyData | str | Path, what: str, fmt: str, out: str | Path | None = None,
           trial_ids: list[int] | None = None, overwrite: bool = True,
           n: int | None = None) -> Path:
    """Write one tidy table of ``study`` and return the path written.

    Args:
        study: a study file or :class:`~hybridmoo.analysis.StudyData`.
        what: one of :data:`WHAT`. fmt: one of :data:`FORMATS`.
        out: output path (default: next to the study file, ``<stem>.<what>.<fmt>``).
        trial_ids: restrict ``fronts``/``traces`` to these trials.
        overwrite: replace an existing ``out`` (``False``: a :class:`StoreError` naming it,
            raised after the table is built, so that errors about the request come first).
        n: ``study-front`` only: its number of points (default: the trials' ``n_eval``).
    """
    if what not in WHAT:
        raise ConfigError(f"--what {what!r} is not one of {', '.join(WHAT)}")
    if n is not None and what != "study-front":
        raise ConfigError(f"--n {n} sets the size of the study front; it does not apply to "
                          f"--what {what} (use --what study-front)")
    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    path = study.path if isinstance(study, StudyData) else Path(study)
    if not isinstance(study, StudyData) and store.file_kind(path) == "compare":
        df = _compare_table(path, what, trial_ids)
    else:
        data = study if isinstance(study, StudyData) else StudyData(study)
        if what == "fronts":
            df = data.fronts(trial_ids)
        elif what == "traces":
            df = data.traces(trial_ids)
        elif what == "trials":
            df = data.trials()
        elif what == "study-front":
            if trial_ids is not None:
                raise ConfigError("--trials does not apply to --what study-front: the study "
                                  "front pools every kept hypernetwork; each row names its "
                                  "trial")
            df = data.study_front(n).to_frame()
        elif what == "lineage":
            df = data.lineage()
        else:
            df = data.outer_front()
    out = Path(out) if out else path.with_name(f"{path.stem}.{what}.{fmt}")
    if out.exists() and not overwrite:
        raise StoreError(f"{out} already exists; pass --overwrite to replace it, or choose "
                         "another file with --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        df.to_csv(out, index=False)
    elif fmt == "json":
        # Python's shortest round-trip repr: pandas' JSON writer keeps 15 *decimals*, which
        # loses a loss of 1e-7 to relative error 1e-9 and turns 1e-20 into 0
        out.write_text(json.dumps([{k: _json_value(v) for k, v in row.items()}
                                   for row in df.to_dict(orient="records")], indent=1))
    elif fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ConfigError("Parquet export needs pyarrow: pip install 'hybridmoo[parquet]' "
                              "(or pip install pyarrow), or use --format csv") from None
        df.to_parquet(out, index=False)
    else:
        cols = {}
        for c in df.columns:
            col = df[c].to_numpy()
            cols[c] = col.astype(str) if col.dtype == object else col  # no pickled objects
        np.savez(out, **cols)
    return out


def _json_value(v):
    """A table cell as JSON: NaN and None as null, numpy scalars as Python numbers."""
    if v is None:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def _compare_table(path: Path, what: str, trial_ids: list[int] | None):
    import pandas as pd

    from hybridmoo.compare import compare_records

    if what in ("outer-front", "study-front", "lineage"):
        raise ConfigError(f"{path} is the output of `hybridmoo compare`: it has no "
                          f"{what.replace('-', ' ')} (hybridmoo_search's front is the study "
                          "front of its run); export its fronts, traces or trials (one row per "
                          "run)")
    if trial_ids is not None:
        raise ConfigError(f"{path} is the output of `hybridmoo compare`: its runs have no trial "
                          "ids; drop --trials (every run is exported, with its label and seed)")
    return pd.DataFrame(compare_records(path, "runs" if what == "trials" else what))
