"""Crash safety: the driver killed (``os._exit``, as ``kill -9``) inside every step of a record
and of the journal, then ``hybridmoo resume``: every finished trial present and identical.

The fault hook is ``HYBRIDMOO_FAULT=<step>[:<n>]`` (:mod:`hybridmoo.journal`). The child process
runs the real CLI with ``store.write_trial`` wrapped to log a digest of every trial *after* it
returned (finished); the tests compare those digests with the resumed file, so a finished trial
lost, changed or rerun (its wall time would differ) fails them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

from hybridmoo import journal, store
from hybridmoo.cli import main
from hybridmoo.errors import ConfigError

STUDY = """
[study]
seed = 5
output = "out.h5"
[problem]
name = "zdt1"
options = { n_var = 4 }
[algorithm]
name = "nsga2"
pop_size = 4
generations = 2
[budget]
steps = 30
[resources]
retries = 0
keep_weights = "all"
[fixed.train]
n_eval = 5
eval_every = 10
threads = 1
[search]
"hypernet.width" = { type = "int", low = 4, high = 32, log = true }
"train.lr" = { type = "real", low = 1e-3, high = 1e-2, log = true }
"""
N_TRIALS = 8

# shared by the child (logging finished trials) and the tests (checking the resumed file)
DIGEST = '''
import hashlib
import numpy as np

def trial_digest(r):
    h = hashlib.sha256()
    h.update(repr((r.status, r.hv, r.wall_time, r.train_time, r.seed)).encode())
    for a in (r.F, r.prefs, r.ref_point):
        h.update(np.asarray(a, dtype=np.float64).tobytes())
    for k in sorted(r.trace):
        h.update(k.encode() + np.asarray(r.trace[k], dtype=np.float64).tobytes())
    for k in sorted(r.state_dict or {}):
        h.update(k.encode() + np.asarray(r.state_dict[k]).tobytes())
    return h.hexdigest()
'''
_ns: dict = {}
exec(DIGEST, _ns)  # noqa: S102 - the same function text the child runs
trial_digest = _ns["trial_digest"]

CHILD = DIGEST + '''
import json, sys
from hybridmoo import store
from hybridmoo.cli import main

log_path, argv = sys.argv[1], sys.argv[2:]
real = store.write_trial

def logged(path, result, *, trial_id, **kw):
    real(path, result, trial_id=trial_id, **kw)
    with open(log_path, "a") as fh:  # the trial is finished: write_trial returned
        fh.write(json.dumps({"tid": trial_id, "digest": trial_digest(result)}) + "\\n")

store.write_trial = logged
sys.exit(main(argv))
'''


def run_child(tmp_path, args: list[str], fault: str | None) -> tuple[int, dict[int, str]]:
    """Run the CLI in a child with the fault set; returns its exit code and the finished
    trials' digests."""
    (tmp_path / "child.py").write_text(CHILD)
    log = tmp_path / "finished.jsonl"
    log.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop(journal.FAULT_ENV, None)
    if fault:
        env[journal.FAULT_ENV] = fault
    proc = subprocess.run([sys.executable, str(tmp_path / "child.py"), str(log), *args],
                          env=env, capture_output=True, text=True, timeout=300)
    done = {}
    if log.exists():
        for line in log.read_text().splitlines():
            d = json.loads(line)
            done[d["tid"]] = d["digest"]
    assert proc.returncode in (0, journal.FAULT_EXIT), proc.stderr[-3000:]
    return proc.returncode, done


def start_study(tmp_path, fault: str | None):
    """Write the study file and run it in a child with the fault; returns (rc, finished, out)."""
    (tmp_path / "s.toml").write_text(STUDY)
    rc, done = run_child(tmp_path, ["run", str(tmp_path / "s.toml"), "--backend", "local",
                                    "--quiet"], fault)
    return rc, done, tmp_path / "out.h5"


def journaled_trials(out) -> dict[int, str]:
    """Digests of the trials committed to the journal (finished even if the main file lacks
    them): read straight from the entry files."""
    got = {}
    for dest, entry in journal.entries(out).items():
        if dest.startswith("trials/"):
            with h5py.File(entry) as e:
                got[int(e["entry"].attrs["trial_id"])] = float(e["entry"].attrs["wall_time"])
    return got


def check_resumed(out, finished: dict[int, str], journaled: dict[int, float]) -> None:
    """Every trial there, the finished ones identical (not rerun), the study closed cleanly."""
    assert store.list_trials(out) == (list(range(N_TRIALS)), [])
    for tid, dig in finished.items():
        assert trial_digest(store.read_trial(out, tid)) == dig, f"trial {tid} changed"
    for tid, wall in journaled.items():  # committed to the journal: restored, not rerun
        assert store.read_trial(out, tid, weights=False).wall_time == wall
    with h5py.File(out) as f:
        assert f.attrs["status"] == "finished"
        assert sorted(f["generations"]) == ["0000", "0001"]
        assert all("weights" in f["trials"][k] for k in f["trials"])  # keep_weights = "all"
    assert not journal.journal_dir(out).exists()
    assert not store.backup_path(out).exists()


# (step, n): the n-th time the step is reached. With 4 trials a generation, the groups are
# recorded in the order trial 0-3, generation 0, outer front, trial 4-7, …: n = 3 stops inside
# the third trial's record, after two finished ones.
SLOW = pytest.mark.slow  # the same kind of stop as a fast case nearby: run in the slow tier
CASES = [
    pytest.param("journal-begin", 1),  # the study's journal being set up: nothing finished yet
    pytest.param("marker", 3, marks=SLOW),
    pytest.param("journal-write", 3),
    pytest.param("journal-close", 3, marks=SLOW),
    pytest.param("journal-commit", 3),
    pytest.param("main-write", 3),
    pytest.param("main-move", 3, marks=SLOW),
    pytest.param("main-close", 3),
    pytest.param("main-sync", 3, marks=SLOW),
    pytest.param("journal-write", 6, marks=SLOW),  # inside the outer front's record
    pytest.param("main-write", 7),  # inside trial 4, in generation 1
    pytest.param("finish", 1),
    pytest.param("journal-end", 1, marks=SLOW),
]


def in_flight(nth: int) -> int:
    """The trial whose record is the nth (generation 0's record and outer front come after
    trial 3)."""
    assert nth not in (5, 6)
    return nth - 1 if nth <= 4 else nth - 3


@pytest.mark.parametrize(("step", "nth"), CASES, ids=[f"{p.values[0]}:{p.values[1]}"
                                                     for p in CASES])
def test_killed_inside_each_step_then_resume_loses_nothing(tmp_path, step, nth):
    """Killed inside any step of a trial's record or of the journal, then `hybridmoo resume`:
    the file holds every trial, the finished ones bit-identical, none rerun."""
    rc, finished, out = start_study(tmp_path, f"{step}:{nth}")
    assert rc == journal.FAULT_EXIT, f"the fault {step}:{nth} never fired"
    committed = journaled_trials(out)
    if step in ("journal-commit", "main-write", "main-move", "main-close", "main-sync"):
        # the record in flight is finished (committed) although write_trial never returned
        assert in_flight(nth) in committed and in_flight(nth) not in finished
    if step.startswith("main-") or step in ("marker", "journal-write", "journal-close"):
        assert journal.is_dirty(out)  # stopped while the main file might be mid-write
    if step in ("finish", "journal-end"):
        assert len(finished) == N_TRIALS
    elif step != "journal-begin" and nth != 6:
        assert sorted(finished) == list(range(in_flight(nth)))
    assert main(["resume", str(out), "--backend", "local", "--quiet"]) == 0
    check_resumed(out, finished, committed)


def test_damaged_file_is_rebuilt_from_the_journal(tmp_path, capsys):
    """A main file left unreadable by the crash (its middle overwritten) is rebuilt from the
    journal on resume: nothing finished lost; the damaged file kept as FILE.h5.corrupt."""
    rc, finished, out = start_study(tmp_path, "main-write:7")
    assert rc == journal.FAULT_EXIT and len(finished) == 4
    committed = journaled_trials(out)
    data = bytearray(out.read_bytes())
    data[: len(data) // 2] = bytes(len(data) // 2)  # superblock and early metadata gone
    out.write_bytes(bytes(data))
    assert main(["resume", str(out), "--backend", "local", "--quiet"]) == 0
    assert "rebuilt it from its journal" in capsys.readouterr().err
    assert (tmp_path / "out.h5.corrupt").exists()
    check_resumed(out, finished, committed)


def test_stale_or_flipped_group_is_repaired_when_dirty(tmp_path):
    """After a crash mid-write, recover compares every group with its journal copy: a weight
    byte changed in the file is found and the group restored (SHA-256, not just presence)."""
    rc, finished, out = start_study(tmp_path, "main-sync:4")
    assert rc == journal.FAULT_EXIT and len(finished) == 3
    with h5py.File(out, "a") as f:
        ds = next(v for v in f["trials/000001/weights"].values()
                  if isinstance(v, h5py.Dataset))
        ds[(0,) * ds.ndim] += 1.0
    msg = store.recover(out)
    assert "restored 1: trials/000001" in msg, msg
    assert trial_digest(store.read_trial(out, 1)) == finished[1]
    assert not journal.is_dirty(out)
    assert store.recover(out) is None  # clean now: nothing more to do


def test_legacy_file_with_backup_restores_and_resumes(tmp_path, capsys):
    """A study file written before the journal (no FILE.h5.journal, a FILE.h5.bak taken after
    every trial): a truncated file is restored from its backup and the study resumes, now
    journaled; a half-written `.partial-` trial is discarded and rerun."""
    rc, finished, out = start_study(tmp_path, "marker:8")  # in trial 5: trials 0-4 recorded
    assert rc == journal.FAULT_EXIT and len(finished) == 5
    store.end_journal(out)  # make it the layout the old code left: no journal …
    with h5py.File(out, "a") as f:  # … the last trial half-written …
        f["trials"].move("000004", ".partial-000004")
        del f["trials/.partial-000004/weights"]
    store.backup_path(out).write_bytes(out.read_bytes())  # … its backup, then a torn file
    out.write_bytes(out.read_bytes()[:2000])
    assert main(["resume", str(out), "--backend", "local", "--quiet"]) == 0
    assert "restored the backup" in capsys.readouterr().err
    del finished[4]  # half-written in the legacy file: rerun
    check_resumed(out, finished, {})


def test_compare_killed_mid_write_resumes_with_every_run(tmp_path):
    """`hybridmoo compare` killed inside a run's HDF5 write: --resume keeps every run finished
    before (identical) and the one committed to the journal, and runs only the rest."""
    (tmp_path / "c.toml").write_text("""
[compare]
name = "tiny"
seeds = 4
output = "out.h5"
report = "report.md"
[problem]
name = "zdt1"
options = { n_var = 4 }
[budget]
kind = "evaluations"
amount = 200
[[methods]]
name = "nsga2"
params = { pop_size = 10 }
""")
    args = ["compare", str(tmp_path / "c.toml"), "--backend", "local", "--quiet"]
    rc, _ = run_child(tmp_path, args, "main-move:3")
    out = tmp_path / "out.h5"
    assert rc == journal.FAULT_EXIT and journal.is_dirty(out)
    entries = journal.entries(out)
    assert sorted(entries) == ["runs/nsga2/000", "runs/nsga2/001", "runs/nsga2/002"]
    before = {}
    for dest, e in entries.items():
        with h5py.File(e) as f:
            before[dest] = (str(f["entry"].attrs["finished"]), f["entry/F"][()])
    assert main([*args, "--resume"]) == 0
    with h5py.File(out) as f:
        assert sorted(f["runs/nsga2"]) == ["000", "001", "002", "003"]
        for dest, (when, F) in before.items():
            assert str(f[dest].attrs["finished"]) == when
            np.testing.assert_array_equal(f[dest]["F"][()], F)
    assert not journal.journal_dir(out).exists()
    assert (tmp_path / "report.md").exists()


def test_unknown_fault_step_is_refused(monkeypatch):
    """A misspelled HYBRIDMOO_FAULT names the steps instead of never firing."""
    monkeypatch.setenv(journal.FAULT_ENV, "main-wrte")
    with pytest.raises(ConfigError, match="unknown step 'main-wrte'.*main-write"):
        journal.fault("main-write")


def test_record_cost_does_not_grow_with_the_file(tmp_path):
    """A journaled record writes its group twice (entry + main file) and nothing else: the
    bytes a trial adds do not depend on how many trials the file holds (no whole-file copy)."""
    from hybridmoo.train import TrialResult

    rng = np.random.default_rng(0)
    r = TrialResult(status="ok", error="", problem={"name": "zdt1"}, hypernet={}, train={},
                    extra={}, seed=0, prefs=rng.random((5, 2)), F=rng.random((5, 2)), X=None,
                    trace={"hv": rng.random(4)}, ref_point=np.ones(2), hv=0.5, igd=0.1,
                    n_params=20000, n_target_params=4, wall_time=1.0, train_time=1.0, steps=1,
                    device="cpu", state_dict={"w": rng.random(20000).astype(np.float32)})
    path = store.create(tmp_path / "s.h5", kind="study", problem={"name": "zdt1"})
    store.begin_journal(path)
    sizes = []
    for tid in range(30):
        before = path.stat().st_size + sum(p.stat().st_size
                                           for p in journal.entries(path).values())
        store.write_trial(path, r, trial_id=tid)
        after = path.stat().st_size + sum(p.stat().st_size
                                          for p in journal.entries(path).values())
        sizes.append(after - before)
    assert not store.backup_path(path).exists()
    assert max(sizes[20:]) <= 1.05 * max(sizes[:10])  # flat, where a backup would grow 30×
    assert 2 * 80_000 <= sizes[-1] <= 2 * 80_000 * 1.2  # about twice the weights' 80 kB
