"""Resume: a study killed at any moment continues from its HDF5 file to the same result."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

from hybridmoo import store
from hybridmoo.cli import main
from hybridmoo.errors import ConfigError, StoreError
from hybridmoo.study import Study

STUDY = """
[study]
seed = 3
output = "out.h5"
[problem]
name = "zdt1"
options = { n_var = 4 }
[algorithm]
name = "nsga2"
pop_size = 4
generations = 3
[budget]
steps = 150
[resources]
retries = 0
[fixed.train]
n_eval = 11
eval_every = 50
threads = 1
[search]
"hypernet.width" = { type = "int", low = 4, high = 64, log = true }
"train.lr" = { type = "real", low = 1e-3, high = 1e-2, log = true }
"train.scalarization.name" = { type = "choice", values = ["tchebycheff", "linear"] }
"""


def write_study(d, text: str = STUDY):
    """Write the study file into directory d."""
    d.mkdir(exist_ok=True)
    (d / "s.toml").write_text(text)
    return d / "s.toml"


def n_done(path) -> int:
    """Finished trials in a file being written (0 while it is locked or not there)."""
    try:
        return len(store.list_trials(path)[0])
    except (StoreError, OSError):
        return 0


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """The study run straight through (local backend)."""
    d = tmp_path_factory.mktemp("straight")
    return Study(write_study(d), backend="local", progress=False).run()


def test_kill_9_then_resume_reaches_the_same_front(tmp_path, straight):
    """kill -9 of the driver mid-study, then --resume: no finished trial lost or rerun, and
    the same outer front as the uninterrupted study."""
    path = write_study(tmp_path)
    out = tmp_path / "out.h5"
    proc = subprocess.Popen([sys.executable, "-m", "hybridmoo.cli", "run", str(path),
                             "--backend", "local", "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 240
    while n_done(out) < 5 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert proc.poll() is None, "the study finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {t: store.read_trial(out, t, weights=False).hv
              for t in store.list_trials(out)[0]} if n_done(out) else {}
    res = Study(path, backend="local", progress=False, resume=True).run()
    assert sorted(res.trials) == sorted(straight.trials)
    for t, hv in before.items():  # finished trials were kept, not rerun
        assert res.trials[t].hv == hv
    for t in straight.objectives:
        np.testing.assert_allclose(res.objectives[t], straight.objectives[t], rtol=1e-6)
    assert res.front_ids == straight.front_ids
    with h5py.File(out) as f:
        assert f.attrs["status"] == "finished"
        assert sorted(f["generations"]) == ["0000", "0001", "0002"]
    assert not store.backup_path(out).exists()
    assert not store.journal.journal_dir(out).exists()  # finished: the journal is removed


def test_resume_after_half_written_trial(tmp_path, straight):
    """A trial group left half-written is discarded and rerun on resume, never used."""
    path = write_study(tmp_path)
    out = tmp_path / "out.h5"
    Study(path, backend="local", progress=False).run()
    with h5py.File(out, "a") as f:  # simulate a crash: the last trial half-written
        f["trials"].move("000011", ".partial-000011")
        f.attrs["status"] = "running"
    assert store.list_trials(out) == (list(range(11)), [".partial-000011"])
    with pytest.raises(StoreError, match="incomplete"):
        store.read_trial(out, 11)
    res = Study(path, backend="local", progress=False, resume=True).run()
    assert store.list_trials(out) == (list(range(12)), [])
    np.testing.assert_allclose(res.objectives[11], straight.objectives[11], rtol=1e-6)


def test_truncated_file_is_recovered_from_backup(tmp_path):
    """A study file truncated by a crash mid-write is reported and its backup restored."""
    path = write_study(tmp_path, STUDY.replace("generations = 3", "generations = 1"))
    out = tmp_path / "out.h5"
    Study(path, backend="local", progress=False).run()
    # a file written before the journal existed, with the backup it kept after every trial
    shutil.copyfile(out, store.backup_path(out))
    data = out.read_bytes()
    out.write_bytes(data[: len(data) // 2])
    with pytest.raises(StoreError, match="not a readable HDF5 file"):
        store.list_trials(out)
    msg = store.recover(out)
    assert "restored the backup" in msg and (tmp_path / "out.h5.corrupt").exists()
    assert store.list_trials(out)[0] == [0, 1, 2, 3]


def test_truncated_file_without_backup_is_an_error(tmp_path):
    """Without a backup, a truncated file is a clear error, not silently replaced."""
    path = write_study(tmp_path, STUDY.replace("generations = 3", "generations = 1"))
    out = tmp_path / "out.h5"
    Study(path, backend="local", progress=False).run()
    out.write_bytes(out.read_bytes()[:1000])
    with pytest.raises(StoreError, match="truncated or corrupt"):
        Study(path, backend="local", progress=False, resume=True).run()


def test_resume_refuses_a_changed_study(tmp_path):
    """Resuming with a study file whose search differs from the stored one is refused."""
    path = write_study(tmp_path, STUDY.replace("generations = 3", "generations = 1"))
    Study(path, backend="local", progress=False).run()
    path.write_text(STUDY.replace("seed = 3", "seed = 4"))
    with pytest.raises(ConfigError, match="seed is 4 but the interrupted study used 3"):
        Study(path, backend="local", progress=False, resume=True).run()


def test_resume_extends_generations_and_cli(tmp_path, capsys):
    """`hybridmoo resume FILE` uses the stored study; more generations extend a study."""
    path = write_study(tmp_path, STUDY.replace("generations = 3", "generations = 1"))
    out = tmp_path / "out.h5"
    Study(path, backend="local", progress=False).run()
    assert main(["resume", str(out), "--backend", "local", "--quiet"]) == 0
    assert store.list_trials(out)[0] == [0, 1, 2, 3]  # finished: nothing rerun
    path.write_text(STUDY.replace("generations = 3", "generations = 2"))
    assert main(["run", str(path), "--backend", "local", "--resume", "--quiet"]) == 0
    assert store.list_trials(out)[0] == list(range(8))


def test_ctrl_c_says_where_the_trials_are_and_resume_finishes(tmp_path, capsys, monkeypatch):
    """Ctrl-C during `hybridmoo run`: exit 130, finished trials kept, the resume command named."""
    from hybridmoo.study import loop as study  # where the loop looks run_trial up

    real, calls = study.run_trial, []

    def interrupted_after_5(spec, cache):
        calls.append(1)
        if len(calls) > 5:
            raise KeyboardInterrupt
        return real(spec, cache)

    path = write_study(tmp_path / "a")
    monkeypatch.setattr(study, "run_trial", interrupted_after_5)
    assert main(["run", str(path), "--backend", "local", "--quiet"]) == 130
    err = capsys.readouterr().err
    out = tmp_path / "a" / "out.h5"
    assert "interrupted; the finished trials are saved in" in err
    assert f"hybridmoo resume {out}" in err
    assert n_done(out) == 5
    rerun = []
    monkeypatch.setattr(study, "run_trial",
                        lambda spec, cache: rerun.append(1) or real(spec, cache))
    assert main(["resume", str(out), "--backend", "local", "--quiet"]) == 0
    assert n_done(out) == 12  # 4 × 3 generations
    assert len(rerun) == 7  # only the missing trials ran
