"""Helpers shared by the command modules: the next-steps hint, finished-study test, vectors."""

from __future__ import annotations

from hybridmoo.errors import HybridMooError

#: choices of `export` (the same as hybridmoo.export.FORMATS / WHAT, which import pandas; a test
#: checks that they agree) — kept here so that `--help` imports nothing heavy.
EXPORT_FORMATS = ("csv", "parquet", "json", "npz")
EXPORT_WHAT = ("fronts", "traces", "trials", "outer-front", "study-front", "lineage")


def _next_steps(path) -> str:
    """The hint printed when a study or a training run has finished."""
    return (f"next steps: hybridmoo show {path}  |  hybridmoo plot {path}  |  "
            f"hybridmoo export {path} --what fronts --format csv  |  "
            f"hybridmoo predict {path} -p P1,P2,...")


def _finished_study(path, n_trials: int | None = None) -> int | None:
    """The number of finished trials when ``path`` is a study whose status is "finished" and
    that holds at least ``n_trials`` trials (default: as many as its stored study file asks
    for); ``None`` when there is something left to run or the file cannot tell."""
    from hybridmoo import store
    from hybridmoo.studyfile import load_study

    try:
        if store.file_kind(path) != "study":
            return None
        with store.open_checked(path) as f:
            if str(f.attrs.get("status", "")) != "finished" or "trials" not in f:
                return None
            done = sum(1 for k in f["trials"] if not k.startswith("."))
            text = str(f.attrs.get("study_text", ""))
        if n_trials is None:
            n_trials = load_study(text=text).n_trials
    except (HybridMooError, OSError, KeyError, ValueError):
        return None  # let the command itself report what is wrong
    return done if done >= n_trials else None


def _fmt_vec(v) -> str:
    if v is None:
        return "-"
    vals = v.tolist() if hasattr(v, "tolist") else list(v)
    if len(set(vals)) == 1 and len(vals) > 1:
        return f"{vals[0]:g} × {len(vals)}"
    return "(" + ", ".join(f"{x:.4g}" for x in vals) + ")"
