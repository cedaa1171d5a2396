"""Crash safety of the HDF5 study and compare files: a write-ahead journal (part of the store).

HDF5 cannot promise that a process killed in the middle of a write (``kill -9``, a node lost,
power cut) leaves a readable file: half-flushed metadata can damage groups written long before.
So every group a driver records (a trial, a compare run, a generation, the outer front) is
first written, durably, to a small file of its own, and only then copied into the main file:

    FILE.h5.journal/base.h5                the main file as it was when the journal began
                                           (just created, or the file a resume started from)
    FILE.h5.journal/entries/<dest>.h5      one file per recorded group; ``/entry`` holds it,
                                           root attribute ``dest`` says where it goes
                                           (e.g. ``trials/000012``); the file name is ``dest``
                                           percent-encoded
    FILE.h5.journal/dirty                  present while the main file may be mid-write

One record costs the same whatever the study's size (the group is written twice: entry, then
main file; a few ``fsync`` calls), where the old scheme copied the whole file to ``FILE.h5.bak``
after every trial. The steps of one record, in order:

1. ``dirty`` is created and made durable (``fsync``) before anything changes;
2. the entry is written under a temporary name, closed, ``fsync``-ed and renamed into place (an
   entry is all there or absent) — from here the record survives any crash;
3. the main file is opened, the group copied in under a temporary name (``.partial-<id>``
   for trials, ``<seed>.partial`` for compare runs), renamed, the file closed and ``fsync``-ed;
4. ``dirty`` is removed.

Recovery (:func:`hybridmoo.store.recover`, run by every resume): without ``dirty`` the main file
holds every entry; with it, the main file is read in full (every object and attribute) and each
entry compared with its copy (a SHA-256 over attributes and data); missing or stale groups are
copied in again; if the main file cannot be read, or the check fails, it is rebuilt from
``base.h5`` plus every entry and the damaged file is kept as ``FILE.h5.corrupt``. When the study
or comparison finishes, the main file is ``fsync``-ed and the journal removed.

Fault injection (tests only): with the environment variable ``HYBRIDMOO_FAULT=<step>`` (or
``<step>:<n>``, the n-th time the step is reached; default the first) the process calls
``os._exit(FAULT_EXIT)`` at that step, as ``kill -9`` would; the steps are :data:`FAULT_STEPS`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote, unquote

from hybridmoo.errors import ConfigError

__all__ = ["FAULT_ENV", "FAULT_EXIT", "FAULT_STEPS", "active", "begin", "clear_dirty", "digest",
           "dirty", "drop", "end", "entries", "fault", "install", "is_dirty", "journal_dir",
           "matches", "put", "rebuild", "scan", "split"]

FAULT_ENV = "HYBRIDMOO_FAULT"
FAULT_EXIT = 97
#: Where :func:`fault` can stop the process, in the order one record passes them.
FAULT_STEPS = {
    "journal-begin": "the base copy written, not yet renamed into place (journal not active)",
    "marker": "the dirty marker made durable, nothing else written",
    "journal-write": "the journal entry half-written (attributes, front and trace; no weights)",
    "journal-close": "the entry closed, not yet fsync-ed and renamed (not committed)",
    "journal-commit": "the entry committed, the main file not yet opened",
    "main-write": "the main file open, the group half-copied under its temporary name",
    "main-move": "the group complete under its temporary name, not yet renamed",
    "main-close": "the group renamed, the main file neither flushed nor closed",
    "main-sync": "the main file closed and fsync-ed, the dirty marker still there",
    "finish": "the study finished and written, the journal not yet removed",
    "journal-end": "the journal's base removed, its folder not yet",
}
_BASE, _ENTRIES, _DIRTY = "base.h5", "entries", "dirty"
_fault_seen: dict[str, int] = {}


def fault(step: str) -> None:
    """Test hook: ``os._exit(FAULT_EXIT)`` when ``HYBRIDMOO_FAULT`` names this step.

    Raises:
        ConfigError: the variable names no known step (a typo would otherwise never fire).
    """
    want = os.environ.get(FAULT_ENV)
    if not want:
        return
    name, _, nth = want.partition(":")
    if name not in FAULT_STEPS:
        raise ConfigError(f"{FAULT_ENV}={want!r}: unknown step {name!r}; steps: "
                         f"{', '.join(FAULT_STEPS)} (optionally :N, the N-th time)")
    if step != name:
        return
    _fault_seen[step] = _fault_seen.get(step, 0) + 1
    if _fault_seen[step] == int(nth or 1):
        os._exit(FAULT_EXIT)


def _h5py():
    import h5py

    return h5py


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    if os.name == "nt":  # directories cannot be opened there; renames are durable enough
        return
    _fsync(path)


def journal_dir(path: str | os.PathLike) -> Path:
    """The journal folder of a main file: ``<path>.journal``."""
    return Path(f"{path}.journal")


def active(path: str | os.PathLike) -> bool:
    """Whether writes to ``path`` go through its journal (its base is in place)."""
    return (journal_dir(path) / _BASE).exists()


def is_dirty(path: str | os.PathLike) -> bool:
    """Whether a writer may have stopped while the main file was being changed."""
    return (journal_dir(path) / _DIRTY).exists()


def begin(path: str | os.PathLike) -> bool:
    """Start journaling ``path`` (a consistent, closed file): copy it as the journal's base.

    A no-op (returns False) when a journal is already active; an incomplete journal left by a
    crash during an earlier ``begin`` is removed first. Copies the whole file once: cheap for a
    new study, once per resume of a file written without a journal (or finished)."""
    path = Path(path)
    j = journal_dir(path)
    if active(path):
        return False
    if j.exists():
        shutil.rmtree(j)
    (j / _ENTRIES).mkdir(parents=True)
    tmp = j / (_BASE + ".tmp")
    shutil.copyfile(path, tmp)
    _fsync(tmp)
    fault("journal-begin")
    os.replace(tmp, j / _BASE)
    _fsync_dir(j)
    _fsync_dir(j.parent)
    return True


def end(path: str | os.PathLike) -> None:
    """Make the finished main file durable and remove its journal."""
    path = Path(path)
    j = journal_dir(path)
    if not active(path):
        if j.exists():
            shutil.rmtree(j)
        return
    _fsync(path)
    fault("finish")
    (j / _BASE).unlink()  # from here the journal is inactive, whatever is left of it
    _fsync_dir(j)
    fault("journal-end")
    shutil.rmtree(j)


@contextlib.contextmanager
def dirty(path: str | os.PathLike) -> Iterator[None]:
    """Mark the main file as possibly mid-write for the duration of the block.

    No-op without an active journal. On a clean exit the main file is ``fsync``-ed, then the
    mark removed; an exception leaves the mark (the next recovery then checks the file)."""
    if not active(path):
        yield
        return
    mark = journal_dir(path) / _DIRTY
    with open(mark, "w") as fh:
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        os.fsync(fh.fileno())
    _fsync_dir(mark.parent)
    fault("marker")
    yield
    _fsync(Path(path))
    fault("main-sync")
    mark.unlink(missing_ok=True)


def clear_dirty(path: str | os.PathLike) -> None:
    """Remove the dirty mark once recovery has checked or repaired the main file."""
    (journal_dir(path) / _DIRTY).unlink(missing_ok=True)


def _entry_name(dest: str) -> str:
    return quote(dest, safe="") + ".h5"


def put(path: str | os.PathLike, dest: str, fill: Callable, tmp_name: str) -> Path:
    """Write one group durably to the journal; returns the entry's file.

    Args:
        dest: where the group goes in the main file, e.g. ``"trials/000012"``.
        tmp_name: the name it is written under in the main file before being renamed.
        fill: ``fill(group, mid)`` writes the group's content into ``group`` and calls ``mid()``
            halfway (the ``journal-write`` fault point).
    """
    h5py = _h5py()
    d = journal_dir(path) / _ENTRIES
    final = d / _entry_name(dest)
    tmp = d / (".tmp-" + final.name)
    with h5py.File(tmp, "w") as e:
        e.attrs["dest"] = dest
        e.attrs["tmp_name"] = tmp_name
        fill(e.create_group("entry"), lambda: fault("journal-write"))
    fault("journal-close")
    _fsync(tmp)
    os.replace(tmp, final)
    _fsync_dir(d)
    fault("journal-commit")
    return final


def entries(path: str | os.PathLike) -> dict[str, Path]:
    """The committed entries: ``{dest: entry file}`` (temporary, uncommitted files left out)."""
    d = journal_dir(path) / _ENTRIES
    if not d.is_dir():
        return {}
    return {unquote(p.name[:-3]): p for p in sorted(d.glob("*.h5"))
            if not p.name.startswith(".tmp-")}


def drop(path: str | os.PathLike, dests: list[str]) -> None:
    """Forget these groups (deleted from the main file): a rebuild will not bring them back."""
    d = journal_dir(path) / _ENTRIES
    for dest in dests:
        (d / _entry_name(dest)).unlink(missing_ok=True)
    if d.is_dir():
        _fsync_dir(d)


def split(dest: str) -> tuple[str, str]:
    """``"runs/a/003"`` → ``("runs/a", "003")``; a top-level name's parent is ``"/"``."""
    parent, _, name = dest.rpartition("/")
    return parent or "/", name


def install(entry, parent, name: str) -> None:
    """Copy an entry (an open entry file) into ``parent`` as ``name`` (replacing it), written
    under the entry's temporary name first.

    Children are copied one by one (``main-write`` fires after the first), the group's own
    attributes after them with ``complete`` last, then the group is renamed (``main-move``
    fires just before)."""
    src, tmp_name = entry["entry"], str(entry.attrs["tmp_name"])
    if tmp_name in parent:
        del parent[tmp_name]
    g = parent.create_group(tmp_name)
    for i, k in enumerate(src):
        parent.copy(src[k], g, name=k)
        if i == 0:
            fault("main-write")
    keys = sorted(src.attrs, key=lambda k: k == "complete")
    for k in keys:
        g.attrs.create(k, src.attrs[k], dtype=src.attrs.get_id(k).dtype)
    fault("main-move")
    if name in parent:
        del parent[name]
    parent.move(tmp_name, name)


def digest(group) -> str:
    """SHA-256 of a group's content: every attribute and every dataset's dtype, shape, bytes."""
    h = hashlib.sha256()

    def attrs(name: str, obj) -> None:
        h.update(name.encode())
        for k in sorted(obj.attrs):
            h.update(f"{k}={obj.attrs[k]!r};".encode())

    def visit(name: str, obj) -> None:
        attrs(name, obj)
        if hasattr(obj, "shape"):
            data = obj[()]
            h.update(f"{data.dtype.str}{data.shape}".encode() if hasattr(data, "dtype")
                     else repr(data).encode())
            if hasattr(data, "tobytes"):
                h.update(data.tobytes())

    attrs("", group)
    group.visititems(visit)
    return h.hexdigest()


def matches(f, dest: str, entry) -> bool:
    """Whether the open main file ``f`` holds the open entry file's group at ``dest``, complete
    and identical, with no temporary copy of it left over."""
    parent_name, name = split(dest)
    if dest not in f or str(entry.attrs["tmp_name"]) in f[parent_name]:
        return False
    return digest(f[dest]) == digest(entry["entry"])


def scan(f) -> int:
    """Read every object, attribute and dataset of an open file; returns how many objects.

    Raises whatever h5py raises on damaged metadata or data (checked by the caller)."""
    n = [0]

    def visit(_name: str, obj) -> None:
        n[0] += 1
        for k in obj.attrs:
            obj.attrs[k]
        if hasattr(obj, "shape"):
            obj[()]

    for k in f.attrs:
        f.attrs[k]
    f.visititems(visit)
    return n[0]


def rebuild(path: str | os.PathLike) -> Path | None:
    """Rebuild the main file from the journal's base and every entry; keep the old one.

    Returns where the damaged file was kept (``<path>.corrupt``), or None when there was none.
    The new file replaces the old atomically (``os.replace``), so ``path`` is never missing."""
    h5py = _h5py()
    path = Path(path)
    j = journal_dir(path)
    tmp = Path(f"{path}.rebuild")
    shutil.copyfile(j / _BASE, tmp)
    with h5py.File(tmp, "a") as f:
        for dest, entry in entries(path).items():
            parent_name, name = split(dest)
            parent = f.require_group(parent_name)
            if name in parent:
                del parent[name]
            with h5py.File(entry, "r") as e:
                parent.copy(e["entry"], parent, name=name)
    _fsync(tmp)
    kept = None
    if path.exists():
        kept = Path(f"{path}.corrupt")
        kept.unlink(missing_ok=True)
        try:
            os.link(path, kept)
        except OSError:
            shutil.copyfile(path, kept)
    os.replace(tmp, path)
    _fsync_dir(path.parent)
    clear_dirty(path)
    return kept
