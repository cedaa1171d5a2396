"""Tests of hybridmoo.data: IDX reading, checksums, the Multi-MNIST construction, fetch's CLI."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest

from hybridmoo import data
from hybridmoo.cli import build_parser, main
from hybridmoo.errors import ConfigError, DataError

T10K = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


@pytest.fixture
def mnist_dir(mnist_root):
    """The directory of the MNIST test files: the real ones, else generated stand-ins."""
    return mnist_root / "mnist"


@pytest.fixture(scope="module")
def multi():
    """Multi-MNIST from the t10k files (real or stand-ins), seed 0 (built once for the module)."""
    return data.make_multi("mnist", data_dir=data.default_data_root(),
                           rng=np.random.default_rng(0))


def _copy_t10k(src, dst):
    dst.mkdir(parents=True, exist_ok=True)
    for name in (*T10K, data.SYNTHETIC_MANIFEST):  # the manifest of stand-ins, if any
        if (src / name).is_file():
            shutil.copy(src / name, dst / name)
    return dst


def test_read_idx_mnist_test_set(real_mnist):
    """The real t10k files read as 10,000 uint8 28×28 images and labels in 0..9."""
    X, y = data.load_images_labels("mnist", "t10k", real_mnist)
    assert X.shape == (10000, 28, 28) and X.dtype == np.uint8
    assert y.shape == (10000,) and y.dtype == np.int64
    assert set(np.unique(y)) == set(range(10))
    assert np.bincount(y)[1] == 1135  # published: 1,135 ones in the MNIST test set


def test_published_checksums_match_shared_md5sums(real_mnist):
    """The built-in MD5s agree with the MD5SUMS file shipped beside the shared data."""
    mnist_dir = real_mnist
    if not (mnist_dir / "MD5SUMS").is_file():
        pytest.skip(f"no MD5SUMS file beside the MNIST files in {mnist_dir}")
    listed = dict(reversed(line.split()) for line in (mnist_dir / "MD5SUMS").read_text()
                  .splitlines() if line.strip())
    for name in T10K:
        assert data.CHECKSUMS["mnist"][name] == listed[name] == data.md5sum(mnist_dir / name)


def test_read_idx_rejects_truncated_file(mnist_dir, tmp_path):
    """A truncated IDX payload is a DataError that says the file is truncated."""
    raw = gzip.decompress((mnist_dir / T10K[1]).read_bytes())
    bad = tmp_path / "t.gz"
    bad.write_bytes(gzip.compress(raw[:-5]))
    with pytest.raises(DataError, match="truncated or corrupt"):
        data.read_idx(bad, ndim=1)
    with pytest.raises(DataError, match="expected an IDX file with 3 dimensions"):
        data.read_idx(mnist_dir / T10K[1], ndim=3)


def test_checksum_mismatch_is_a_clear_error(mnist_dir, tmp_path):
    """A corrupted copy fails with the file, both checksums and the fetch command."""
    d = _copy_t10k(mnist_dir, tmp_path / "mnist")
    raw = bytearray((d / T10K[0]).read_bytes())
    raw[-1] ^= 0xFF
    (d / T10K[0]).write_bytes(bytes(raw))
    with pytest.raises(DataError) as info:
        data.make_multi("mnist", data_dir=tmp_path, rng=np.random.default_rng(0))
    msg = str(info.value)
    assert "checksum mismatch" in msg and T10K[0] in msg
    assert data.CHECKSUMS["mnist"][T10K[0]] in msg and data.md5sum(d / T10K[0]) in msg
    assert f"hybridmoo data fetch mnist --dir {tmp_path}" in msg


def test_missing_file_is_a_clear_error(mnist_dir, tmp_path):
    """A missing labels file is a DataError naming the file and the fetch command."""
    d = _copy_t10k(mnist_dir, tmp_path / "mnist")
    (d / T10K[1]).unlink()
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz not found") as info:
        data.load_images_labels("mnist", "t10k", tmp_path)
    assert f"hybridmoo data fetch mnist --dir {tmp_path}" in str(info.value)
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz not found"):
        data.make_multi("mnist", data_dir=mnist_dir, source="full")


def test_mnist_files_in_place_of_fashion_are_named(real_mnist):
    """Fashion-MNIST looked up in an MNIST folder says which data set the files belong to."""
    with pytest.raises(DataError, match="It is the MNIST file of that name"):
        data.load_images_labels("fashion", "t10k", real_mnist)


def test_data_location_rules(tmp_path, monkeypatch):
    """data_dir/<dataset> is preferred, else data_dir itself; HYBRIDMOO_DATA sets the root."""
    assert data.dataset_dir("mnist", tmp_path) == tmp_path
    (tmp_path / "mnist").mkdir()
    assert data.dataset_dir("mnist", tmp_path) == tmp_path / "mnist"
    assert data.dataset_dir("fashion", tmp_path) == tmp_path
    monkeypatch.setenv("HYBRIDMOO_DATA", str(tmp_path))
    assert data.default_data_root() == tmp_path
    assert data.dataset_dir("mnist") == tmp_path / "mnist"
    with pytest.raises(ConfigError, match="unknown data set 'cifar'"):
        data.dataset_dir("cifar")


def test_synthetic_stand_ins_load_like_the_real_files(tmp_path):
    """write_synthetic gives t10k files that load and build Multi-MNIST, flagged synthetic;
    the manifest vouches only for its own files, unchanged, of its own data set."""
    d = data.write_synthetic(tmp_path, "mnist", n=10000, seed=1)
    assert d == tmp_path / "mnist" and data.is_synthetic("mnist", tmp_path)
    X, y = data.load_images_labels("mnist", "t10k", tmp_path)
    assert X.shape == (10000, 28, 28) and X.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(y), [1000] * 10)
    assert len({x.tobytes() for x in X}) == 10000  # every image differs
    ds = data.make_multi("mnist", data_dir=tmp_path, rng=np.random.default_rng(0))
    assert ds.info["synthetic"] is True and ds.sizes() == {"train": 8000, "val": 1000,
                                                            "test": 1000}
    # the same seed gives the same bytes
    again = data.write_synthetic(tmp_path / "again", "mnist", n=10000, seed=1)
    assert data.md5sum(again / T10K[0]) == data.md5sum(d / T10K[0])
    # a manifest for MNIST does not vouch for Fashion-MNIST
    with pytest.raises(DataError, match="It is not|corrupt|checksum mismatch"):
        data.load_images_labels("fashion", "t10k", d)
    assert not data.is_synthetic("fashion", tmp_path)
    # a changed file fails its checksum even with the manifest beside it
    raw = bytearray((d / T10K[1]).read_bytes())
    raw[-9] ^= 0xFF
    (d / T10K[1]).write_bytes(bytes(raw))
    with pytest.raises(DataError, match="checksum mismatch"):
        data.load_images_labels("mnist", "t10k", tmp_path)


def test_real_files_are_not_flagged_synthetic(real_mnist):
    """Data built from the real files say so (info["synthetic"] is False)."""
    assert not data.is_synthetic("mnist", real_mnist)


def test_write_idx_round_trip(tmp_path):
    """write_idx is the inverse of read_idx; non-uint8 arrays are refused."""
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(data.read_idx(data.write_idx(tmp_path / "a.gz", a), 3), a)
    with pytest.raises(ConfigError, match="uint8"):
        data.write_idx(tmp_path / "b.gz", a.astype(np.int32))


def test_overlay_placement_rule():
    """Left items start at 0..s from the top-left, right items 8-s..8, combined by maximum."""
    rng = np.random.default_rng(1)
    n = 200
    full = np.full((n, 28, 28), 200, dtype=np.uint8)
    empty = np.zeros_like(full)
    for s in (0, 2):
        for left, expect in ((True, range(0, s + 1)), (False, range(8 - s, 9))):
            X = data.overlay(full if left else empty, empty if left else full, rng, max_shift=s)
            assert X.shape == (n, 36, 36)
            rows = np.argmax(X.any(axis=2), axis=1)
            cols = np.argmax(X.any(axis=1), axis=1)
            assert set(rows) <= set(expect) and set(cols) <= set(expect)
            assert (X.reshape(n, -1) > 0).sum(1).tolist() == [28 * 28] * n
    a = np.zeros((1, 28, 28), np.uint8)
    b = np.zeros((1, 28, 28), np.uint8)
    a[0, 20, 20], b[0, 12, 12] = 100, 250  # both land on canvas pixel (20, 20) at zero shift
    X = data.overlay(a, b, rng, max_shift=0)
    assert X[0, 20, 20] == 250 and X.sum() == 250
    with pytest.raises(ConfigError, match="max_shift = 5"):
        data.overlay(a, b, rng, max_shift=5)


def test_multi_mnist_shapes_and_labels(multi):
    """Splits are 8000/1000/1000 of 36×36 uint8 images with (left, right) labels in 0..9."""
    assert multi.sizes() == {"train": 8000, "val": 1000, "test": 1000}
    for X, Y in multi.splits.values():
        assert X.dtype == np.uint8 and X.shape[1:] == (36, 36)
        assert Y.dtype == np.int64 and Y.shape == (X.shape[0], 2)
        assert Y.min() >= 0 and Y.max() <= 9
        # every pool image is used once as the left and once as the right item
        np.testing.assert_array_equal(np.bincount(Y[:, 0], minlength=10),
                                      np.bincount(Y[:, 1], minlength=10))
        assert X.reshape(X.shape[0], -1).max(1).min() > 0  # no blank image


def test_multi_mnist_labels_match_the_placed_digits(mnist_dir):
    """With zero shifts each image is max(left at (0, 0), right at (8, 8)) of its labels' digits."""
    ds = data.make_multi("mnist", data_dir=mnist_dir, rng=np.random.default_rng(3), max_shift=0)
    Xp, yp = data.split_pools("mnist", "t10k", mnist_dir, np.random.default_rng(3))["test"]
    X, Y = ds.splits["test"]
    for x, y in zip(X[:40], Y[:40], strict=True):
        # the left digit alone fills rows 0..7 and columns 0..7; the right one rows/cols 28..35
        left = np.flatnonzero(((x[:28, :28] >= Xp).all((1, 2))) & (x[:8, :28] == Xp[:, :8]).all(
            (1, 2)) & (x[:28, :8] == Xp[:, :, :8]).all((1, 2)))
        right = np.flatnonzero(((x[8:, 8:] >= Xp).all((1, 2))) & (x[28:, 8:] == Xp[:, 20:]).all(
            (1, 2)) & (x[8:, 28:] == Xp[:, :, 20:]).all((1, 2)))
        found = False
        for i in left:
            for j in right:
                canvas = np.zeros((36, 36), np.uint8)
                canvas[:28, :28] = Xp[i]
                canvas[8:, 8:] = np.maximum(canvas[8:, 8:], Xp[j])
                if np.array_equal(canvas, x):
                    assert (yp[i], yp[j]) == tuple(y)
                    found = True
        assert found


def test_multi_mnist_is_deterministic(mnist_dir, multi):
    """The same seed gives identical data; another seed gives different data."""
    again = data.make_multi("mnist", data_dir=mnist_dir, rng=np.random.default_rng(0))
    other = data.make_multi("mnist", data_dir=mnist_dir, rng=np.random.default_rng(1))
    for k in ("train", "val", "test"):
        np.testing.assert_array_equal(multi.splits[k][0], again.splits[k][0])
        np.testing.assert_array_equal(multi.splits[k][1], again.splits[k][1])
    assert not np.array_equal(multi.splits["test"][0], other.splits["test"][0])


def test_splits_are_disjoint_and_deterministic(mnist_dir):
    """The base-image pools of train, val and test share no image and repeat with the seed."""
    pools = data.split_pools("mnist", "t10k", mnist_dir, np.random.default_rng(0))
    again = data.split_pools("mnist", "t10k", mnist_dir, np.random.default_rng(0))
    keys = {k: {x.tobytes() for x in v[0]} for k, v in pools.items()}
    assert [len(keys[k]) for k in ("train", "val", "test")] == [8000, 1000, 1000]
    assert not keys["train"] & keys["val"] and not keys["train"] & keys["test"]
    assert not keys["val"] & keys["test"]
    for k in pools:
        np.testing.assert_array_equal(pools[k][1], again[k][1])


def test_fetch_parser_and_unknown_dataset(tmp_path, monkeypatch):
    """`data fetch` parses its arguments; unknown data sets and a missing --dir are errors."""
    args = build_parser().parse_args(["data", "fetch", "fashion", "--dir", str(tmp_path)])
    assert args.dataset == "fashion" and args.dir == str(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["data", "fetch", "cifar"])
    assert exc.value.code == 2
    with pytest.raises(ConfigError, match="unknown data set 'cifar'"):
        data.fetch("cifar", tmp_path)
    monkeypatch.delenv("HYBRIDMOO_DATA", raising=False)
    with pytest.raises(ConfigError, match="--dir DIR"):
        data.fetch("mnist", None)
