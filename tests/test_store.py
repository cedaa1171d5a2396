"""Tests of the HDF5 study file: round trip, self-description, bad files."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from hybridmoo import store, train
from hybridmoo.errors import StoreError


@pytest.fixture(scope="module")
def result():
    """A short real training run on a small ZDT1."""
    return train("zdt1", problem_options={"n_var": 4}, steps=20, eval_every=10, n_eval=11, seed=3)


def test_round_trip(tmp_path, result):
    """A trial written and read back equals the original result, weights included."""
    path = store.create(tmp_path / "s.h5", kind="train", problem=result.problem)
    store.write_trial(path, result, trial_id=7, generation=2, node="n1")
    back = store.read_trial(path, 7)
    assert back.status == result.status and back.hv == result.hv and back.seed == 3
    np.testing.assert_array_equal(back.F, result.F)
    np.testing.assert_array_equal(back.X, result.X)
    np.testing.assert_array_equal(back.trace["hv"], result.trace["hv"])
    assert back.hypernet == result.hypernet and back.train["steps"] == 20
    assert set(back.state_dict) == set(result.state_dict)
    for k, v in result.state_dict.items():
        np.testing.assert_array_equal(back.state_dict[k], v)
    assert store.list_trials(path) == ([7], [])


def test_self_describing_attributes(tmp_path, result):
    """The root carries format, version, hybridmoo version, creation time and the problem."""
    path = store.create(tmp_path / "s.h5", kind="train", problem=result.problem,
                        study_text="x = 1")
    with h5py.File(path) as f:
        assert f.attrs["format"] == store.FORMAT
        assert int(f.attrs["format_version"]) == store.FORMAT_VERSION
        assert f.attrs["hybridmoo_version"]
        assert "T" in f.attrs["created"] and f.attrs["study_text"] == "x = 1"
        assert '"zdt1"' in f.attrs["problem"]


def test_existing_file_is_not_overwritten(tmp_path, result):
    """Creating over an existing file is refused unless asked, so finished work is kept."""
    path = store.create(tmp_path / "s.h5", kind="train", problem=result.problem)
    store.write_trial(path, result, trial_id=0)
    with pytest.raises(StoreError, match="already exists"):
        store.create(path, kind="train", problem=result.problem)
    assert store.list_trials(path)[0] == [0]
    with pytest.raises(StoreError, match="already recorded"):
        store.write_trial(path, result, trial_id=0)


def test_unknown_trial_lists_recorded(tmp_path, result):
    """Asking for a trial that is not there names the ids that are."""
    path = store.create(tmp_path / "s.h5", kind="train", problem=result.problem)
    store.write_trial(path, result, trial_id=1)
    with pytest.raises(StoreError, match="no trial 5; recorded trials: 1"):
        store.read_trial(path, 5)


def test_half_written_trial_is_detected(tmp_path, result):
    """A partial group left by a crash is reported, never read as a result."""
    path = store.create(tmp_path / "s.h5", kind="train", problem=result.problem)
    with h5py.File(path, "a") as f:
        f["trials"].create_group(".partial-000004").attrs["trial_id"] = 4
    assert store.list_trials(path) == ([], [".partial-000004"])
    with pytest.raises(StoreError, match="incomplete"):
        store.read_trial(path, 4)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"not an hdf5 file at all", "not a readable HDF5 file"),
        (None, "was not written by hybridmoo"),
        ("v99", "format version 99"),
    ],
)
def test_bad_files_give_clear_errors(tmp_path, result, content, match):
    """Garbage, foreign HDF5 and future versions each raise StoreError saying what is wrong."""
    path = tmp_path / "bad.h5"
    if content is None:
        with h5py.File(path, "w") as f:
            f["x"] = 1
    elif content == "v99":
        store.create(path, kind="train", problem=result.problem)
        with h5py.File(path, "a") as f:
            f.attrs["format_version"] = 99
    else:
        path.write_bytes(content)
    with pytest.raises(StoreError, match=match):
        store.read_trial(path, 0)


def test_truncated_file(tmp_path, result):
    """A truncated study file is reported as unreadable."""
    path = store.create(tmp_path / "s.h5", kind="train", problem=result.problem)
    store.write_trial(path, result, trial_id=0)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(StoreError, match="truncated or corrupt|not a readable"):
        store.read_trial(path, 0)


def test_empty_outer_front_is_recorded(tmp_path, result):
    """A generation whose trials all failed leaves an empty outer front `(0, k)`, not a crash."""
    path = store.create(tmp_path / "s.h5", kind="study", problem=result.problem)
    store.write_outer_front(path, trial_ids=[], objectives=np.zeros((0, 2)),
                            objective_names=["hv", "n_params"])
    with h5py.File(path) as f:
        assert f["outer_front/objectives"].shape == (0, 2)
        assert f["outer_front/trial_ids"].shape == (0,)


def test_journal_round_trip_and_stale_journal_cleared(tmp_path, result):
    """A journaled trial reads back equal to the one written straight; a new file of the same
    name starts without the old file's journal (which would rebuild the old trials into it)."""
    from hybridmoo import journal

    path = store.create(tmp_path / "s.h5", kind="study", problem=result.problem)
    assert store.begin_journal(path) and not store.begin_journal(path)  # the second: no-op
    store.write_trial(path, result, trial_id=3)
    assert list(journal.entries(path)) == ["trials/000003"]
    assert not journal.is_dirty(path)
    back = store.read_trial(path, 3)
    for k, v in result.state_dict.items():
        np.testing.assert_array_equal(back.state_dict[k], v)
    assert back.hv == result.hv and store.list_trials(path) == ([3], [])
    store.create(path, kind="study", problem=result.problem, overwrite=True)
    assert not journal.journal_dir(path).exists()
    assert store.recover(path) is None and store.list_trials(path) == ([], [])


def test_missing_file_is_rebuilt_from_journal(tmp_path, result):
    """With an active journal, even a deleted main file comes back with every trial."""
    path = store.create(tmp_path / "s.h5", kind="study", problem=result.problem)
    store.begin_journal(path)
    for tid in range(3):
        store.write_trial(path, result, trial_id=tid, keep_weights=tid == 1)
    path.unlink()
    assert "rebuilt it from its journal (3 recorded group(s)" in store.recover(path)
    assert store.list_trials(path) == ([0, 1, 2], [])
    assert store.read_trial(path, 1).state_dict is not None
    assert store.read_trial(path, 2).state_dict is None
    store.end_journal(path)
    assert not store.journal.journal_dir(path).exists()
    assert store.recover(path) is None  # no journal, a sound file: nothing to do
