"""The HDF5 study file: one file per study (or per ``hybridmoo train`` run), single writer.

Schema (format ``hybridmoo-study``, version :data:`FORMAT_VERSION`), readable with plain h5py::

    /                       attrs: format, format_version, hybridmoo_version, created (ISO 8601),
                                   kind ("train" or "study"), problem (JSON), study_text (TOML)
    /trials/<id>            one group per finished trial, id = zero-padded trial number
        attrs: trial_id, generation, status ("ok"/"failed"), error, seed, node, device,
               method ("hypernet" or "dymu"; absent in older files: "hypernet"),
               problem (JSON), hypernet (JSON), train (JSON), extra (JSON), hv, igd, n_params,
               n_target_params, wall_time, train_time, steps, complete (written last)
        ref_point           (m,)   reference point behind every HV of this trial
        front/prefs         (n, m) evaluation preferences
        front/F             (n, m) objective values of the learned front
        front/X             (n, n_var) decision vectors (synthetic problems only)
        trace/{step,seconds,samples,hv,igd,loss}   (T,) the HV trace
        weights/<name>      the hypernetwork's (DYMU: the whole controller's) state dict
                            ("." in names replaced by "/")
    /asha/rungs/<id>-<rung> a multi-fidelity trial at each rung (as a trial, + state: continuation)
    /asha/schedule          attrs: state (the scheduler's), events (rungs, promotions, stops)

A trial is first written under ``/trials/.partial-<id>`` and moved to its final name once
complete, then the file is flushed; a trial group without ``complete = True`` (a crash while
writing) is reported by :func:`read_trial` and never used silently.

Crash safety: while a study or comparison runs, every group it records goes first to a
write-ahead journal next to the file (``FILE.h5.journal/``, see :mod:`hybridmoo.journal`), then
into the file; :func:`recover` checks the file against the journal after a crash and repairs or
rebuilds it. Files written before the journal existed (with a ``FILE.h5.bak`` copy taken after
every trial) still open, recover from their backup and resume.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from hybridmoo import journal
from hybridmoo.errors import StoreError
from hybridmoo.record import TrialResult

__all__ = ["FORMAT", "FORMAT_VERSION", "begin_journal", "create", "delete_groups", "end_journal",
           "file_kind", "list_trials", "read_trial", "recover", "write_group", "write_trial"]

FORMAT = "hybridmoo-study"
FORMAT_VERSION = 1
_PARTIAL = ".partial-"
_LOCK_WAIT = 30.0  # seconds to wait for another process's HDF5 file lock


def _h5py():
    import h5py

    return h5py


def trial_key(trial_id: int) -> str:
    """Group name of a trial id (zero-padded so that groups sort numerically)."""
    return f"{int(trial_id):06d}"


def create(path: str | os.PathLike, *, kind: str, problem: dict, study_text: str = "",
           overwrite: bool = False, extra_attrs: dict | None = None) -> Path:
    """Create a new study file with its self-describing root attributes.

    Raises:
        StoreError: if the file exists and ``overwrite`` is false.
    """
    from hybridmoo._version import __version__

    path = Path(path)
    if path.exists() and not overwrite:
        raise StoreError(
            f"{path} already exists; choose another output file, delete it, or pass "
            "--overwrite (its finished trials would be lost)"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    # a journal or backup left by an earlier file of this name would rebuild *its* trials
    if journal.journal_dir(path).exists():
        shutil.rmtree(journal.journal_dir(path))
    backup_path(path).unlink(missing_ok=True)
    h5py = _h5py()
    with h5py.File(path, "w") as f:
        f.attrs["format"] = FORMAT
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["hybridmoo_version"] = __version__
        f.attrs["created"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        f.attrs["kind"] = kind
        f.attrs["problem"] = json.dumps(problem)
        f.attrs["study_text"] = study_text
        for k, v in (extra_attrs or {}).items():
            f.attrs[k] = v
        f.create_group("trials")
    return path


def file_kind(path: str | os.PathLike) -> str:
    """What a hybridmoo HDF5 file holds: ``"study"``, ``"train"`` or ``"compare"``.

    Raises:
        StoreError: as :func:`open_checked`.
    """
    with open_checked(path) as f:
        return str(f.attrs.get("kind", "study"))


def open_checked(path: str | os.PathLike, mode: str = "r"):
    """Open a hybridmoo HDF5 file, checking that it is one and of a supported version.

    Raises:
        StoreError: missing file, not HDF5 (or corrupt), another format, a newer version.
    """
    h5py = _h5py()
    path = Path(path)
    if not path.exists():
        raise StoreError(f"{path}: no such file")
    f = None
    deadline = time.monotonic() + _LOCK_WAIT
    while f is None:
        try:
            f = h5py.File(path, mode)
        except OSError as exc:
            # another process (a reader such as `hybridmoo show`, or the writer) holds the
            # file for a moment: wait for it rather than fail or read a half-written state
            if "unable to lock" in str(exc).lower() and time.monotonic() < deadline:
                time.sleep(0.02)
                continue
            raise StoreError(
                f"{path} is not a readable HDF5 file ({exc}); it may be truncated or corrupt, "
                "or not an HDF5 file at all"
            ) from None
    fmt = f.attrs.get("format")
    if fmt != FORMAT:
        f.close()
        raise StoreError(
            f"{path} was not written by hybridmoo (format attribute {fmt!r}, expected "
            f"{FORMAT!r})"
        )
    ver = int(f.attrs.get("format_version", -1))
    if ver != FORMAT_VERSION:
        f.close()
        raise StoreError(
            f"{path} has format version {ver}; this hybridmoo reads version {FORMAT_VERSION}. "
            + ("Upgrade hybridmoo to read it." if ver > FORMAT_VERSION else
               "Re-run the study with this version, or read it with the version that wrote it.")
        )
    return f


def damaged(path: str | os.PathLike, what: str, kind: str = "study") -> StoreError:
    """The :class:`StoreError` for a readable file whose structure is damaged: names the file,
    what is missing or broken, and what to do (restore the backup, or rerun)."""
    bak = backup_path(path)
    if kind == "train":
        fix = (f"rerun the training with `hybridmoo train ... --out {path} --overwrite`")
    elif kind == "compare":
        fix = ("`hybridmoo compare COMPARE.toml --resume` restores the recorded runs from the "
               "journal if the comparison is unfinished, and reruns the missing ones")
    elif journal.active(path):
        fix = (f"the study is unfinished and its journal holds every recorded trial: "
               f"`hybridmoo resume {path}` restores them")
    elif bak.exists():
        fix = (f"a backup exists: `hybridmoo resume {path}` restores {bak} (the damaged file is "
               f"kept as {path}.corrupt)")
    else:
        fix = ("there is no backup to restore; rerun the study with `hybridmoo run STUDY.toml "
               "--overwrite` (h5py shows the study file it ran in the root attribute study_text)")
    return StoreError(f"{path} is damaged: {what}; {fix}")


def root_json(attrs, key: str, path: str | os.PathLike, default: Any = ..., kind: str = "study"):
    """JSON-decoded root attribute ``key``; :func:`damaged` if it is missing (and no
    ``default``) or not valid JSON."""
    if key not in attrs:
        if default is ...:
            raise damaged(path, f"the root attribute {key!r} is missing", kind)
        return default
    raw = attrs[key]
    raw = raw.item() if hasattr(raw, "item") else raw
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        text = str(raw)
        raise damaged(path, f"the root attribute {key!r} is not valid JSON "
                      f"({text[:40]!r}{'…' if len(text) > 40 else ''})", kind) from None


_TRIAL_PARTS = ("ref_point", "front", "front/prefs", "front/F", "trace")
_TRIAL_JSON = ("problem", "hypernet", "train", "extra")
_TRIAL_ATTRS = ("trial_id", "status", "error", "seed", "hv", "igd", "n_params", "n_target_params",
                "wall_time", "train_time", "steps")


def check_structure(path: str | os.PathLike) -> str:
    """Check a hybridmoo file's structure beyond its format: the root attributes decode, a
    study or train file has ``/trials``, and every complete trial has its ref_point, front and
    trace. Returns the file's kind.

    Raises:
        StoreError: as :func:`open_checked`, or :func:`damaged` naming what is missing.
    """
    with open_checked(path) as f:
        kind = str(f.attrs.get("kind", "study"))
        if kind not in ("study", "train", "compare"):
            raise damaged(path, f"the root attribute 'kind' is {kind!r} (expected study, train "
                          "or compare)")
        root_json(f.attrs, "problem", path, kind=kind)
        for key in ("objectives", "search_space", "ref_point"):
            root_json(f.attrs, key, path, None, kind)
        if kind == "compare":
            return kind
        if "trials" not in f or not hasattr(f["trials"], "items"):
            raise damaged(path, "the /trials group (every recorded trial) is missing", kind)
        for key, g in f["trials"].items():
            if key.startswith(_PARTIAL) or not g.attrs.get("complete", False):
                continue
            for part in _TRIAL_PARTS:
                if part not in g:
                    raise damaged(path, f"trial {key.lstrip('0') or '0'} has no {part!r} "
                                  f"(/trials/{key}/{part} is missing)", kind)
            for k in _TRIAL_ATTRS:
                if k not in g.attrs:
                    raise damaged(path, f"trial {key.lstrip('0') or '0'} has no attribute {k!r}",
                                  kind)
            for k in _TRIAL_JSON:
                if k in g.attrs:
                    try:
                        json.loads(g.attrs[k])
                    except (TypeError, ValueError):
                        raise damaged(path, f"the attribute {k!r} of trial {key.lstrip('0') or '0'}"
                                      " is not valid JSON", kind) from None
    return kind


def write_group(path: str | os.PathLike, dest: str, fill: Callable, *, tmp_name: str) -> None:
    """Record one group at ``dest`` (e.g. ``"trials/000012"``), replacing any group there.

    With an active journal (:func:`begin_journal`) the group goes to the journal first and is
    copied into the file after (write cost independent of the file's size; see
    :mod:`hybridmoo.journal`); without one it is written straight into the file. Either way it
    is written under ``tmp_name`` (in the same parent) and renamed when complete.

    Args:
        fill: ``fill(group, mid)`` writes the content into an empty h5py group and calls
            ``mid()`` halfway through (a fault-injection point).
    """
    parent_name, name = journal.split(dest)
    if journal.active(path):
        with journal.dirty(path):
            entry = journal.put(path, dest, fill, tmp_name, h5py=_h5py())
            with open_checked(path, "a") as f, _h5py().File(entry, "r") as e:
                journal.install(e, f.require_group(parent_name), name)
                journal.fault("main-close")  # a crash with the file neither flushed nor closed
        return
    with open_checked(path, "a") as f:
        parent = f.require_group(parent_name)
        if tmp_name in parent:
            del parent[tmp_name]
        fill(parent.create_group(tmp_name), lambda: journal.fault("main-write"))
        journal.fault("main-move")
        if name in parent:
            del parent[name]
        parent.move(tmp_name, name)
        f.flush()


def write_trial(path: str | os.PathLike, result: TrialResult, *, trial_id: int,
                generation: int = -1, node: str = "", keep_weights: bool = True,
                attrs: dict | None = None, replace: bool = False) -> None:
    """Append one finished trial to the file (crash-safe, see the module docstring).

    ``attrs`` adds JSON-encoded attributes (e.g. the searched values and outer objectives).
    ``replace``: replace the trial's record (a multi-fidelity trial that reached a new rung).

    Raises:
        StoreError: the trial is already recorded (and ``replace`` is false).
    """
    key = trial_key(trial_id)
    with open_checked(path) as f:
        if key in f.get("trials", {}) and not replace:
            raise StoreError(f"{path}: trial {trial_id} is already recorded")

    def fill(g, mid) -> None:
        _fill_trial(g, mid, result, trial_id, generation, node, keep_weights, attrs)

    write_group(path, f"trials/{key}", fill, tmp_name=_PARTIAL + key)


def _fill_trial(g, mid, result: TrialResult, trial_id: int, generation: int, node: str,
                keep_weights: bool, attrs: dict | None) -> None:
    a = g.attrs
    a["trial_id"] = int(trial_id)
    a["generation"] = int(generation)
    a["status"] = result.status
    a["error"] = result.error
    a["seed"] = int(result.seed)
    a["node"] = node
    a["device"] = result.device
    a["method"] = result.method
    for k in ("problem", "hypernet", "train", "extra"):
        a[k] = json.dumps(getattr(result, k), default=_json_default)
    for k in ("hv", "igd", "wall_time", "train_time"):
        a[k] = float(getattr(result, k))
    for k in ("n_params", "n_target_params", "steps"):
        a[k] = int(getattr(result, k))
    for k, v in (attrs or {}).items():
        a[k] = json.dumps(v, default=_json_default)
    g["ref_point"] = np.asarray(result.ref_point, dtype=np.float64)
    fr = g.create_group("front")
    fr["prefs"] = np.asarray(result.prefs, dtype=np.float64)
    fr["F"] = np.asarray(result.F, dtype=np.float64)
    if result.X is not None:
        fr["X"] = np.asarray(result.X, dtype=np.float64)
    tr = g.create_group("trace")
    for k, v in result.trace.items():
        tr[k] = np.asarray(v, dtype=np.float64)
    mid()
    if keep_weights and result.state_dict:
        w = g.create_group("weights")
        for k, v in result.state_dict.items():
            w.create_dataset(k.replace(".", "/"), data=v)
    a["complete"] = True


def write_rung(path: str | os.PathLike, result: TrialResult, *, trial_id: int, rung: int,
               generation: int, state: bytes | None, attrs: dict, keep_weights: bool) -> None:
    """Record a trial's result at a rung of a multi-fidelity schedule, with its continuation
    state (``state``: :meth:`Trainer.save_state` bytes, a ``uint8`` dataset): ``/asha/rungs/
    <trial>-<rung>``, laid out as a trial group."""
    def fill(g, mid) -> None:
        if state is not None:
            g["state"] = np.frombuffer(state, dtype=np.uint8)
        _fill_trial(g, mid, result, trial_id, generation, "", keep_weights,
                    {**attrs, "rung": int(rung)})

    key = f"{trial_key(trial_id)}-{int(rung):02d}"
    write_group(path, f"asha/rungs/{key}", fill, tmp_name=_PARTIAL + key)


def read_rungs(path: str | os.PathLike) -> dict[tuple[int, int], dict]:
    """``{(trial, rung): attrs}`` (JSON-decoded, no arrays) of every complete rung record."""
    out = {}
    with open_checked(path) as f:
        for key, g in f.get("asha/rungs", {}).items():
            if not key.startswith(_PARTIAL) and g.attrs.get("complete", False):
                a = {k: v.item() if hasattr(v, "item") else v for k, v in g.attrs.items()}
                for k in ("values", "outer_objectives", "rung", "budget", "rung_train_time"):
                    a[k] = json.loads(a[k])
                out[int(a["trial_id"]), a["rung"]] = a
    return out


def read_rung(path: str | os.PathLike, trial_id: int, rung: int, *, weights: bool = False
              ) -> tuple[TrialResult, bytes | None]:
    """A trial's result at ``rung`` and its continuation state (``None`` if not kept)."""
    with open_checked(path) as f:
        g = f[f"asha/rungs/{trial_key(trial_id)}-{int(rung):02d}"]
        state = g["state"][()].tobytes() if "state" in g else None
        return _trial_result(g, weights), state


def write_schedule(path: str | os.PathLike, state: dict, events: list[dict]) -> None:
    """The scheduler's state and the log of rung results, promotions and stops:
    ``/asha/schedule`` attributes ``state`` and ``events`` (JSON; replaced each time)."""
    def fill(g, mid) -> None:
        g.attrs["state"] = json.dumps(state, default=_json_default)
        mid()
        g.attrs["events"] = json.dumps(events, default=_json_default)

    write_group(path, "asha/schedule", fill, tmp_name=".partial-schedule")


def read_schedule(path: str | os.PathLike) -> tuple[dict | None, list[dict]]:
    """:func:`write_schedule`'s ``(state, events)``; ``(None, [])`` if none was written."""
    with open_checked(path) as f:
        g = f.get("asha/schedule")
        return (None, []) if g is None else (json.loads(g.attrs["state"]),
                                             json.loads(g.attrs["events"]))


def read_generations(path: str | os.PathLike) -> dict[int, dict]:
    """``{generation: {"trial_ids", "objectives"}}`` of :func:`write_generation`'s records."""
    with open_checked(path) as f:
        return {int(k): {"trial_ids": g["trial_ids"][()].tolist(),
                         "objectives": g["objectives"][()]}
                for k, g in f.get("generations", {}).items() if not k.startswith(_PARTIAL)}


def read_trial_attrs(path: str | os.PathLike) -> dict[int, dict]:
    """JSON-decoded attributes of every complete trial (no arrays): ``{trial_id: attrs}``."""
    out = {}
    with open_checked(path) as f:
        if "trials" not in f:
            raise damaged(path, "the /trials group (every recorded trial) is missing",
                          str(f.attrs.get("kind", "study")))
        for key, g in f["trials"].items():
            if key.startswith(_PARTIAL) or not g.attrs.get("complete", False):
                continue
            a = {}
            for k, v in g.attrs.items():
                v = v.item() if hasattr(v, "item") else v
                if k in ("values", "outer_objectives", "attempts", "problem", "hypernet", "train",
                         "extra", "warm_start_from", "lineage"):
                    try:
                        v = json.loads(v)
                    except (TypeError, ValueError):
                        raise damaged(path, f"the attribute {k!r} of trial {key} is not valid "
                                      "JSON") from None
                a[k] = v
            a["has_weights"] = "weights" in g
            out[int(a["trial_id"])] = a
    return out


@contextlib.contextmanager
def _writing(path: str | os.PathLike):
    """Open the file for a change that is not journaled (attributes, deletions): under the
    journal's dirty mark, so that a crash in the middle is checked for on recovery."""
    with journal.dirty(path), open_checked(path, "a") as f:
        yield f
        f.flush()


def drop_partial(path: str | os.PathLike) -> list[str]:
    """Delete half-written trial groups (left by a crash); returns their names."""
    with _writing(path) as f:
        names = [k for k in f["trials"] if k.startswith(_PARTIAL)
                 or not f["trials"][k].attrs.get("complete", False)]
        for k in names:
            del f["trials"][k]
    return names


def delete_groups(path: str | os.PathLike, dests: list[str]) -> None:
    """Delete groups (e.g. ``"runs/hv_psl/000"``) from the file and from its journal."""
    if not dests:
        return
    with journal.dirty(path):
        journal.drop(path, dests)
        with open_checked(path, "a") as f:
            for dest in dests:
                if dest in f:
                    del f[dest]
            f.flush()


def backup_path(path: str | os.PathLike) -> Path:
    """Where files written before the journal kept a copy taken after every trial (legacy)."""
    return Path(f"{path}.bak")


def begin_journal(path: str | os.PathLike) -> bool:
    """Journal every later write to this (consistent, closed) file; see :mod:`hybridmoo.journal`.

    Called by a study or comparison once its file is created or recovered. A legacy backup
    (``FILE.h5.bak``) is superseded by the journal's base and removed. Returns whether a new
    journal began (False: one is already active)."""
    began = journal.begin(path)
    backup_path(path).unlink(missing_ok=True)
    return began


def end_journal(path: str | os.PathLike) -> None:
    """The study or comparison is finished and written: make the file durable, drop the journal
    (and any legacy backup)."""
    journal.end(path)
    backup_path(path).unlink(missing_ok=True)


def recover(path: str | os.PathLike) -> str | None:
    """Bring a file left by a crash back to a consistent state holding every finished record.

    With a journal (:mod:`hybridmoo.journal`): if the writer may have stopped mid-write, the
    file is read in full and every journaled group compared with its copy; missing or stale
    groups are copied in again, and a file that cannot be read is rebuilt from the journal
    (the damaged one kept as ``FILE.h5.corrupt``). Without a journal (files written before it
    existed): an unreadable file is replaced by its backup ``FILE.h5.bak`` where that is sound.

    Returns a message saying what was done, or None when the file was fine.

    Raises:
        StoreError: the file is unreadable and neither a journal nor a sound backup exists.
    """
    path = Path(path)
    if not journal.active(path):
        msg = _recover_from_backup(path)
        # an inactive journal (stopped while it began or ended) never received a record
        journal.end(path)
        return msg
    found = journal.entries(path)
    was_dirty = journal.is_dirty(path)
    try:
        if not path.exists():
            raise StoreError(f"{path}: no such file")
        with open_checked(path) as f:
            if was_dirty:
                journal.scan(f)
                stale = [d for d, e in found.items() if not _matches(f, d, e)]
            else:
                stale = [d for d in found if d not in f]
            finished = f.attrs.get("status") == "finished"
    except Exception as exc:  # noqa: BLE001 - any damage found reading means: rebuild
        kept = journal.rebuild(path, h5py=_h5py())
        return (f"{path} was damaged ({exc}); rebuilt it from its journal "
                f"({len(found)} recorded group(s), none lost)"
                + (f"; the damaged file is kept as {kept}" if kept else ""))
    if stale:
        with journal.dirty(path), open_checked(path, "a") as f:
            for dest in stale:
                parent_name, name = journal.split(dest)
                with _h5py().File(found[dest], "r") as e:
                    journal.install(e, f.require_group(parent_name), name)
            f.flush()
    journal.clear_dirty(path)
    if finished:  # stopped between writing "finished" and removing the journal
        end_journal(path)
    if not was_dirty and not stale:
        return None
    return (f"{path}: its writer stopped in the middle of a write; checked it against its "
            f"journal ({len(found)} recorded group(s))"
            + (f" and restored {len(stale)}: {', '.join(stale[:5])}"
               + (" …" if len(stale) > 5 else "") if stale else ", nothing lost"))


def _matches(f, dest: str, entry: Path) -> bool:
    with _h5py().File(entry, "r") as e:
        return journal.matches(f, dest, e)


def _recover_from_backup(path: Path) -> str | None:
    """The recovery of files written without a journal: restore ``FILE.h5.bak``."""
    try:
        check_structure(path)  # readable, and nothing missing (a damaged file is restored too)
        return None
    except StoreError as exc:
        bak = backup_path(path)
        if not bak.exists():
            raise
        try:
            check_structure(bak)
        except StoreError:
            raise exc from None
        broken = Path(f"{path}.corrupt")
        os.replace(path, broken)
        os.replace(bak, path)
        return (f"{path} was unreadable ({exc}); restored the backup taken after the last "
                f"recorded trial (the damaged file is kept as {broken})")


def _json_default(o: Any):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    return str(o)


def list_trials(path: str | os.PathLike) -> tuple[list[int], list[str]]:
    """Ids of the complete trials and names of half-written groups found in the file."""
    with open_checked(path) as f:
        keys = list(f.get("trials", {}).keys())
        done = [int(f["trials"][k].attrs["trial_id"]) for k in keys
                if not k.startswith(_PARTIAL) and f["trials"][k].attrs.get("complete", False)]
        partial = [k for k in keys if k.startswith(_PARTIAL)
                   or not f["trials"][k].attrs.get("complete", False)]
    return sorted(done), partial


def read_trial(path: str | os.PathLike, trial_id: int, *, weights: bool = True) -> TrialResult:
    """Read one trial back as a :class:`~hybridmoo.train.TrialResult` (``weights=False`` skips
    the hypernetwork's weights).

    Raises:
        StoreError: unknown trial id (the message lists the recorded ids) or a half-written
            trial.
    """
    key = trial_key(trial_id)
    with open_checked(path) as f:
        trials = f.get("trials")
        if trials is None or key not in trials:
            ids = [int(k) for k in (trials or {}) if not k.startswith(_PARTIAL)]
            if trials is not None and _PARTIAL + key in trials:
                raise StoreError(
                    f"{path}: trial {trial_id} was being written when the writer stopped and is "
                    "incomplete; it is ignored (a resumed study reruns it)"
                )
            raise StoreError(
                f"{path}: no trial {trial_id}; recorded trials: "
                f"{', '.join(map(str, ids)) or 'none'}"
            )
        g = trials[key]
        a = g.attrs
        if not a.get("complete", False):
            raise StoreError(f"{path}: trial {trial_id} is incomplete and cannot be used")
        for part in _TRIAL_PARTS:
            if part not in g:
                raise damaged(path, f"trial {trial_id} has no {part!r} (/trials/{key}/{part} is "
                              "missing)", str(f.attrs.get("kind", "study")))
        try:
            return _trial_result(g, weights)
        except (KeyError, ValueError) as exc:
            raise damaged(path, f"trial {trial_id} cannot be read ({exc})",
                          str(f.attrs.get("kind", "study"))) from None


def _trial_result(g, weights: bool) -> TrialResult:
    """A complete trial group as a :class:`TrialResult` (KeyError/ValueError if damaged)."""
    a = g.attrs
    fr, tr = g["front"], g["trace"]
    state = None
    if weights and "weights" in g:
        state = {}
        g["weights"].visititems(
            lambda name, obj: state.__setitem__(name.replace("/", "."), obj[()])
            if hasattr(obj, "shape") else None
        )
    return TrialResult(
        status=str(a["status"]),
        error=str(a["error"]),
        problem=json.loads(a["problem"]),
        hypernet=json.loads(a["hypernet"]),
        train=json.loads(a["train"]),
        extra=json.loads(a["extra"]),
        seed=int(a["seed"]),
        prefs=fr["prefs"][()],
        F=fr["F"][()],
        X=fr["X"][()] if "X" in fr else None,
        trace={k: tr[k][()] for k in tr},
        ref_point=g["ref_point"][()],
        hv=float(a["hv"]),
        igd=float(a["igd"]),
        n_params=int(a["n_params"]),
        n_target_params=int(a["n_target_params"]),
        wall_time=float(a["wall_time"]),
        train_time=float(a["train_time"]),
        steps=int(a["steps"]),
        device=str(a["device"]),
        state_dict=state,
        method=str(a.get("method", "hypernet")),
    )


def write_generation(path: str | os.PathLike, generation: int, *, trial_ids: list[int],
                     encoded: np.ndarray, objectives: np.ndarray, configs: list[dict],
                     objective_names: list[str]) -> None:
    """Record one generation of the outer population: ``/generations/<g>`` (journaled).

    Datasets: ``trial_ids`` `(n,)`, ``encoded`` `(n, d)` (the pymoo vectors), ``objectives``
    `(n, k)` (natural direction: HV as is, not negated); attribute ``configs`` (JSON list of the
    decoded searched values) and ``objective_names``.
    """
    def fill(g, mid) -> None:
        g["trial_ids"] = np.asarray(trial_ids, dtype=np.int64)
        mid()
        g["encoded"] = np.asarray(encoded, dtype=np.float64)
        g["objectives"] = np.asarray(objectives, dtype=np.float64)
        g.attrs["configs"] = json.dumps(configs, default=_json_default)
        g.attrs["objective_names"] = json.dumps(objective_names)

    key = f"{int(generation):04d}"
    write_group(path, f"generations/{key}", fill, tmp_name=_PARTIAL + key)


def write_outer_front(path: str | os.PathLike, *, trial_ids: list[int],
                      objectives: np.ndarray, objective_names: list[str]) -> None:
    """Record the study-level outer Pareto front: ``/outer_front`` (replaced each time)."""
    def fill(g, mid) -> None:
        g["trial_ids"] = np.asarray(trial_ids, dtype=np.int64)
        mid()
        g["objectives"] = np.asarray(objectives, dtype=np.float64).reshape(
            len(trial_ids), len(objective_names))
        g.attrs["objective_names"] = json.dumps(objective_names)

    write_group(path, "outer_front", fill, tmp_name=".partial-outer_front")


def drop_weights(path: str | os.PathLike, trial_ids: list[int]) -> None:
    """Delete the stored weights of these trials (e.g. no longer on the outer front)."""
    with _writing(path) as f:
        for tid in trial_ids:
            key = trial_key(tid)
            if key in f["trials"] and "weights" in f["trials"][key]:
                del f["trials"][key]["weights"]


def set_attrs(path: str | os.PathLike, **attrs: Any) -> None:
    """Set root attributes (JSON-encoded unless str/int/float)."""
    with _writing(path) as f:
        for k, v in attrs.items():
            f.attrs[k] = v if isinstance(v, str | int | float) else json.dumps(
                v, default=_json_default)
