"""Image data for the multi-task problems: IDX files, checksums, Multi-MNIST construction.

Reads the original gzip-compressed IDX files of MNIST (LeCun, Cortes and Burges) and
Fashion-MNIST (Xiao, Rasul and Vollgraf 2017, github.com/zalandoresearch/fashion-mnist), checks
every file against its published MD5 checksum, and builds the two-task overlay data sets of the
multi-task learning literature from them (:func:`make_multi`).

Where the files are
-------------------
A *data root* holds one directory per data set, ``<root>/mnist/`` and ``<root>/fashion/`` (the two
use the same file names, so they cannot share a directory); a directory that holds the files
directly is accepted as well. The root is, in order:

1. the directory the caller names (the problems' ``data_dir`` option);
2. the environment variable ``HYBRIDMOO_DATA``;
3. ``../shared/data`` next to the repository, when it exists (it holds ``mnist/`` with the
   10,000 MNIST test images that the tests use);
4. ``~/.cache/hybridmoo/data``.

``HYBRIDMOO_DATA`` is the one variable behind every lookup of reference data (these loaders, the
tests and the benchmarks). ``hybridmoo data fetch mnist --dir DIR`` (see :func:`fetch`)
downloads the originals into ``DIR/mnist/`` (``DIR/fashion/`` for Fashion-MNIST) and verifies
them.

Synthetic stand-ins (:func:`write_synthetic`)
---------------------------------------------
Without network access or the shared copy, :func:`write_synthetic` writes IDX files of the same
names, format and sizes (10,000 t10k images) holding generated class patterns, not digits, and a
``SYNTHETIC.md5`` manifest beside them. A file whose checksum is not the published one is
accepted only when that manifest lists it; data sets built from such files say so
(``MultiDataset.info["synthetic"]``). The test suite uses them when the real files are absent.

Multi-MNIST construction (:func:`overlay`)
------------------------------------------
Each example overlays two 28×28 images on a 36×36 canvas: the *left* image with its top-left
corner at ``(a, b)``, the *right* image with its top-left corner at ``(8 − c, 8 − d)``, where
``a, b, c, d`` are drawn independently and uniformly from ``{0, …, max_shift}`` (default
``max_shift = 2``). Overlapping pixels take the maximum of the two images. Labels are
``(left, right)``. With zero offsets the left digit sits at ``[0:28, 0:28]`` and the right one at
``[8:36, 8:36]``; the loader of Sener and Koltun ("Multi-Task Learning as Multi-Objective
Optimization", NeurIPS 2018, ``multi_mnist_loader.py``), which Pareto MTL (Lin et al., NeurIPS
2019, github.com/Xi-L/ParetoMTL) and Pareto HyperNetworks (Navon et al., ICLR 2021) build on,
puts them at ``[0:28, 0:28]`` and ``[6:34, 6:34]`` and combines them with ``np.maximum`` — an
arrangement inside the range drawn here. The small random shifts follow the MultiMNIST of Sabour
et al. ("Dynamic Routing Between Capsules", NeurIPS 2017: digits shifted by up to 4 pixels) and
Lin et al.'s description ("one digit in the top-left, the other in the bottom-right, each moved
by a few pixels"); ``max_shift = 2`` keeps the two digits at least 4 pixels apart on each axis,
so "left" and "right" stay unambiguous. Unlike Sener and Koltun we keep the 36×36 canvas (no
resize to 28×28), the input size of the LeNet of PHN (:class:`~hybridmoo.targets.MultiLeNet`).

Pairing and splits: the base images are first split into disjoint pools (a seeded permutation),
then paired *inside* each pool, so no image of the test split appears in training. Within a pool
of ``n`` images shuffled into ``o_0, …, o_{n−1}`` (seeded), example ``i`` is the left image
``o_i`` with the right image ``o_{(i+1) mod n}``: every image is used exactly once as the left and
once as the right item, and never with itself; the examples are then shuffled (seeded), so the
first ``n`` of a split are a random sample. Multi-(Fashion+MNIST) takes the left item from
MNIST and the right one from Fashion-MNIST (each data set split and shuffled on its own).

Sources: ``"t10k"`` uses the 10,000 test images only, split 8,000 / 1,000 / 1,000 into
train / validation / test; ``"full"`` uses the 60,000 training images, split 54,000 / 6,000 into
train / validation (10% validation, as in PHN), and the 10,000 test images as the test split.
Everything is deterministic given the numpy ``Generator`` passed in.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hybridmoo.errors import ConfigError, DataError

__all__ = [
    "CHECKSUMS",
    "DATASETS",
    "MIRRORS",
    "MultiDataset",
    "dataset_dir",
    "default_data_root",
    "fetch",
    "load_images_labels",
    "make_multi",
    "md5sum",
    "overlay",
    "is_synthetic",
    "read_idx",
    "split_pools",
    "verify_file",
    "write_idx",
    "write_synthetic",
]

#: data sets that :func:`fetch` and :func:`load_images_labels` know.
DATASETS = ("mnist", "fashion")

#: published MD5 checksums of the gzip files (MNIST: yann.lecun.com/exdb/mnist as mirrored by
#: torchvision; Fashion-MNIST: the table in github.com/zalandoresearch/fashion-mnist README).
CHECKSUMS: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}

#: download locations, tried in order (the original site first, then well-known mirrors).
MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": (
        "https://yann.lecun.com/exdb/mnist/",
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    "fashion": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
}

_NAMES = {"mnist": "MNIST", "fashion": "Fashion-MNIST"}
_IDX_TYPES = {0x08: np.uint8}
#: the manifest that :func:`write_synthetic` leaves beside generated stand-in files.
SYNTHETIC_MANIFEST = "SYNTHETIC.md5"
_SIDE = 28
CANVAS = 36  # side of the Multi-MNIST canvas


# ---------------------------------------------------------------------------- locations
def default_data_root() -> Path:
    """The data root used when the caller names none (see the module docstring)."""
    env = os.environ.get("HYBRIDMOO_DATA")
    if env:
        return Path(env).expanduser()
    shared = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    if shared.is_dir():
        return shared
    return Path.home() / ".cache" / "hybridmoo" / "data"


def dataset_dir(dataset: str, data_dir: str | os.PathLike | None = None) -> Path:
    """The directory that holds (or should hold) the files of ``dataset``.

    ``<root>/<dataset>`` when that directory exists, else ``<root>`` itself, where ``root`` is
    ``data_dir`` or :func:`default_data_root`.
    """
    _check_dataset(dataset)
    root = Path(data_dir).expanduser() if data_dir is not None else default_data_root()
    sub = root / dataset
    return sub if sub.is_dir() else root


def _check_dataset(dataset: str) -> None:
    if dataset not in DATASETS:
        raise ConfigError(
            f"unknown data set {dataset!r}; known data sets: {', '.join(DATASETS)}"
        )


def _fetch_hint(dataset: str, directory: Path) -> str:
    root = directory.parent if directory.name == dataset else directory
    return (
        f"Download the files with `hybridmoo data fetch {dataset} --dir {root}` (needs network "
        f"access), or point the problem's data_dir option (or the HYBRIDMOO_DATA environment "
        f"variable) at a directory that holds them (directly or in a '{dataset}/' "
        "subdirectory)."
    )


# ---------------------------------------------------------------------------- checksums
def md5sum(path: str | os.PathLike) -> str:
    """Hex MD5 digest of a file."""
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_file(path: str | os.PathLike, dataset: str) -> None:
    """Check that ``path`` exists and has the published MD5 checksum of its name in ``dataset``.

    Raises:
        DataError: if the file is missing or its checksum differs; the message names the file,
            the expected and the actual checksum and how to get the right file.
    """
    _check_dataset(dataset)
    path = Path(path)
    expected = CHECKSUMS[dataset].get(path.name)
    if expected is None:
        raise DataError(
            f"{path.name} is not a file of {_NAMES[dataset]}; expected one of "
            f"{', '.join(CHECKSUMS[dataset])}"
        )
    if not path.is_file():
        raise DataError(
            f"{_NAMES[dataset]} file {path.name} not found in {path.parent}. "
            + _fetch_hint(dataset, path.parent)
        )
    actual = md5sum(path)
    if actual != expected and _synthetic_md5s(path.parent, dataset).get(path.name) == actual:
        return  # a generated stand-in listed in its manifest (see write_synthetic)
    if actual != expected:
        other = [d for d in DATASETS if d != dataset and CHECKSUMS[d].get(path.name) == actual]
        why = (f" It is the {_NAMES[other[0]]} file of that name: keep the two data sets in "
               f"separate directories ('mnist/' and 'fashion/' under the data root).") \
            if other else " The file is corrupt, truncated or another version."
        raise DataError(
            f"checksum mismatch for {path}: expected MD5 {expected} (published for "
            f"{_NAMES[dataset]}), got {actual}.{why} Delete it and download it again: "
            + _fetch_hint(dataset, path.parent)
        )


def _synthetic_md5s(directory: Path, dataset: str) -> dict[str, str]:
    """``{file name: md5}`` of the synthetic manifest of ``dataset`` in ``directory`` (empty
    when there is none, or when it was written for another data set)."""
    manifest = Path(directory) / SYNTHETIC_MANIFEST
    if not manifest.is_file():
        return {}
    lines = manifest.read_text(encoding="utf-8").splitlines()
    if not lines or not lines[0].startswith(f"# dataset = {dataset};"):
        return {}
    out = {}
    for line in lines[1:]:
        parts = line.split()
        if len(parts) == 2:
            out[parts[1]] = parts[0]
    return out


def is_synthetic(dataset: str, data_dir: str | os.PathLike | None = None) -> bool:
    """Whether the files of ``dataset`` under ``data_dir`` are generated stand-ins."""
    return bool(_synthetic_md5s(dataset_dir(dataset, data_dir), dataset))


# ---------------------------------------------------------------------------- IDX files
def write_idx(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Write a uint8 array as a gzip-compressed IDX file (the inverse of :func:`read_idx`).

    Args:
        path: the file (``.gz``). array: any shape, dtype ``uint8``.

    Returns:
        The path written.
    """
    array = np.ascontiguousarray(array)
    if array.dtype != np.uint8:
        raise ConfigError(f"write_idx writes uint8 arrays, got {array.dtype}")
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape)
    path = Path(path)
    # mtime=0: the same array always gives the same bytes (and checksum)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1,
                                                mtime=0) as f:
        f.write(header + array.tobytes())
    return path


def synthetic_images(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` generated 28×28 images of 10 classes, learnable but not digits.

    Each class has a fixed random pattern of bright strokes (drawn once from ``rng``); an image
    is its class's pattern shifted by up to 2 pixels in each direction, with a random intensity
    per image and per stroke pixel on a black background.

    Returns:
        ``(images (n, 28, 28) uint8, labels (n,) uint8)``; labels cycle through 0..9 before
        shuffling, so every class has n/10 images (± 1).
    """
    templates = np.zeros((10, _SIDE + 4, _SIDE + 4), np.float32)
    for k in range(10):
        for _ in range(3):  # three strokes per class: horizontal or vertical bars
            r0, c0 = rng.integers(4, 24, size=2)
            length, width = int(rng.integers(8, 16)), int(rng.integers(2, 4))
            if rng.random() < 0.5:
                templates[k, r0: r0 + width, c0 - 4: c0 - 4 + length] = 1.0
            else:
                templates[k, r0 - 4: r0 - 4 + length, c0: c0 + width] = 1.0
    labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)
    shifts = rng.integers(0, 5, size=(n, 2))
    images = np.empty((n, _SIDE, _SIDE), np.float32)
    for i in range(n):
        r, c = shifts[i]
        images[i] = templates[labels[i], r: r + _SIDE, c: c + _SIDE]
    # intensity per image and per stroke pixel; the background stays 0 as in MNIST
    images *= rng.uniform(0.5, 1.0, size=(n, 1, 1)).astype(np.float32)
    images *= rng.uniform(0.7, 1.0, size=images.shape).astype(np.float32)
    return np.clip(images * 255.0, 0, 255).astype(np.uint8), labels


def write_synthetic(root: str | os.PathLike, dataset: str = "mnist", *, n: int = 10000,
                    seed: int = 0) -> Path:
    """Write generated stand-ins for the t10k files of ``dataset`` under ``<root>/<dataset>/``.

    The files have the published names and the IDX format (``n`` images, default the 10,000
    of the real test set, so ``source = "t10k"`` works), and a ``SYNTHETIC.md5`` manifest that
    makes :func:`verify_file` accept them. They hold class patterns, not digits (see
    :func:`synthetic_images`): for tests and offline demos only, never for results.

    Returns:
        The directory written.
    """
    _check_dataset(dataset)
    dest = Path(root).expanduser() / dataset
    dest.mkdir(parents=True, exist_ok=True)
    images, labels = synthetic_images(n, np.random.default_rng(seed))
    names = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
    for name, arr in zip(names, (images, labels), strict=True):
        write_idx(dest / name, arr)
    lines = [f"# dataset = {dataset}; generated by hybridmoo.data.write_synthetic(n={n}, "
             f"seed={seed}): class patterns, not {_NAMES[dataset]}"]
    lines += [f"{md5sum(dest / name)}  {name}" for name in names]
    (dest / SYNTHETIC_MANIFEST).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dest


def read_idx(path: str | os.PathLike, ndim: int | None = None) -> np.ndarray:
    """Read an IDX file (gzip-compressed when its name ends in ``.gz``) into a numpy array.

    The IDX format (LeCun et al.): two zero bytes, a type byte (``0x08``: unsigned byte), the
    number of dimensions, the dimensions as big-endian 32-bit integers, then the data.

    Args:
        path: the file. ndim: expected number of dimensions (3 for images, 1 for labels).

    Returns:
        The array, of the file's shape and dtype (``uint8`` for MNIST).

    Raises:
        DataError: if the file is missing, not gzip, or its header or length is inconsistent.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"IDX file {path} not found")
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path} is not a readable gzip file ({exc}); download it again") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{path} is not an IDX file (bad magic number {raw[:4].hex()})")
    code, nd = raw[2], raw[3]
    if code not in _IDX_TYPES:
        raise DataError(f"{path}: IDX data type 0x{code:02x} is not supported (only 0x08, ubyte)")
    if ndim is not None and nd != ndim:
        raise DataError(f"{path}: expected an IDX file with {ndim} dimensions, got {nd}")
    header = 4 + 4 * nd
    if len(raw) < header:
        raise DataError(f"{path}: truncated IDX header")
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(nd))
    n = int(np.prod(dims, dtype=np.int64))
    if len(raw) - header != n:
        raise DataError(
            f"{path}: the header announces shape {dims} ({n} values) but the file holds "
            f"{len(raw) - header}; the file is truncated or corrupt"
        )
    return np.frombuffer(raw, dtype=_IDX_TYPES[code], offset=header).reshape(dims).copy()


def load_images_labels(dataset: str, split: str, data_dir: str | os.PathLike | None = None,
                       *, verify: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of one split of MNIST or Fashion-MNIST, checksums verified.

    Args:
        dataset: ``"mnist"`` or ``"fashion"``.
        split: ``"train"`` (60,000 images) or ``"t10k"`` (10,000 test images).
        data_dir: data root or the directory of the files (see :func:`dataset_dir`).
        verify: check the MD5 checksums (default).

    Returns:
        ``(images, labels)``: `(N, 28, 28)` uint8 and `(N,)` int64 in ``0..9``.

    Raises:
        DataError: a file is missing, fails its checksum or is malformed.
    """
    if split not in ("train", "t10k"):
        raise ConfigError(f"split = {split!r}; allowed: 'train', 't10k'")
    d = dataset_dir(dataset, data_dir)
    img_path = d / f"{split}-images-idx3-ubyte.gz"
    lab_path = d / f"{split}-labels-idx1-ubyte.gz"
    for p in (img_path, lab_path):
        if verify:
            verify_file(p, dataset)
        elif not p.is_file():
            raise DataError(f"{_NAMES[dataset]} file {p.name} not found in {d}. "
                            + _fetch_hint(dataset, d))
    images = read_idx(img_path, ndim=3)
    labels = read_idx(lab_path, ndim=1).astype(np.int64)
    if images.shape[1:] != (_SIDE, _SIDE):
        raise DataError(f"{img_path}: images are {images.shape[1:]}, expected (28, 28)")
    if images.shape[0] != labels.shape[0]:
        raise DataError(
            f"{d}: {images.shape[0]} images but {labels.shape[0]} labels in split {split!r}"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataError(f"{lab_path}: labels outside 0..9")
    return images, labels


# ---------------------------------------------------------------------------- Multi-MNIST
def overlay(left: np.ndarray, right: np.ndarray, rng: np.random.Generator,
            max_shift: int = 2) -> np.ndarray:
    """Overlay pairs of 28×28 images on 36×36 canvases (see the module docstring for the rule).

    Args:
        left: `(N, 28, 28)` uint8 images placed near the top-left corner.
        right: `(N, 28, 28)` uint8 images placed near the bottom-right corner.
        rng: draws the offsets (four integers per example, in ``0..max_shift``).
        max_shift: largest offset in pixels, ``0 ≤ max_shift ≤ 4``.

    Returns:
        `(N, 36, 36)` uint8 canvases, pixel-wise maximum of the two placed images.
    """
    if left.shape != right.shape or left.ndim != 3 or left.shape[1:] != (_SIDE, _SIDE):
        raise ConfigError(
            f"overlay needs two (N, 28, 28) arrays of equal shape, got {left.shape} and "
            f"{right.shape}"
        )
    if not 0 <= max_shift <= 4:
        raise ConfigError(f"max_shift = {max_shift} must be in 0..4 (digits would collide)")
    n = left.shape[0]
    room = CANVAS - _SIDE  # 8
    shifts = rng.integers(0, max_shift + 1, size=(n, 4))
    pos = np.stack([shifts[:, 0], shifts[:, 1], room - shifts[:, 2], room - shifts[:, 3]], 1)
    canvas_l = np.zeros((n, CANVAS, CANVAS), dtype=np.uint8)
    canvas_r = np.zeros((n, CANVAS, CANVAS), dtype=np.uint8)
    for canvas, imgs, (ci, cj) in ((canvas_l, left, (0, 1)), (canvas_r, right, (2, 3))):
        for r in np.unique(pos[:, ci]):
            for c in np.unique(pos[:, cj]):
                sel = np.flatnonzero((pos[:, ci] == r) & (pos[:, cj] == c))
                if sel.size:
                    canvas[sel, r: r + _SIDE, c: c + _SIDE] = imgs[sel]
    return np.maximum(canvas_l, canvas_r)


@dataclass
class MultiDataset:
    """A two-task overlay data set split into train, validation and test.

    Attributes:
        splits: ``{"train" | "val" | "test": (X, Y)}`` with ``X`` `(N, 36, 36)` uint8 and ``Y``
            `(N, 2)` int64 labels ``(left, right)``.
        info: how it was built (kind, source, sizes, max_shift, files), JSON-serialisable.
    """

    splits: dict[str, tuple[np.ndarray, np.ndarray]]
    info: dict = field(default_factory=dict)

    def sizes(self) -> dict[str, int]:
        """Number of examples per split."""
        return {k: int(v[0].shape[0]) for k, v in self.splits.items()}


#: kind → (dataset of the left item, dataset of the right item)
KINDS: dict[str, tuple[str, str]] = {
    "mnist": ("mnist", "mnist"),
    "fashion": ("fashion", "fashion"),
    "fashion_mnist": ("mnist", "fashion"),
}
#: t10k source: 8,000 / 1,000 / 1,000 images for train / val / test.
T10K_SPLIT = (8000, 1000, 1000)
#: full source: validation images taken from the 60,000 training images (10%).
FULL_VAL = 6000


def split_pools(dataset: str, source: str, data_dir, rng: np.random.Generator,
                verify: bool = True) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Disjoint pools of base images per split (train, val, test), each in a seeded order.

    Returns:
        ``{"train" | "val" | "test": (images (n, 28, 28) uint8, labels (n,) int64)}``; sizes
        8000 / 1000 / 1000 for ``source = "t10k"``, 54000 / 6000 / 10000 for ``"full"``.
    """
    if source == "t10k":
        X, y = load_images_labels(dataset, "t10k", data_dir, verify=verify)
        n_tr, n_va, n_te = T10K_SPLIT
        if X.shape[0] != n_tr + n_va + n_te:
            raise DataError(f"{dataset} t10k has {X.shape[0]} images, expected 10000")
        perm = rng.permutation(X.shape[0])
        idx = {"train": perm[:n_tr], "val": perm[n_tr:n_tr + n_va], "test": perm[n_tr + n_va:]}
        return {k: (X[v], y[v]) for k, v in idx.items()}
    X, y = load_images_labels(dataset, "train", data_dir, verify=verify)
    Xt, yt = load_images_labels(dataset, "t10k", data_dir, verify=verify)
    perm = rng.permutation(X.shape[0])
    val, tr = perm[:FULL_VAL], perm[FULL_VAL:]
    test = rng.permutation(Xt.shape[0])
    return {"train": (X[tr], y[tr]), "val": (X[val], y[val]), "test": (Xt[test], yt[test])}


def make_multi(kind: str = "mnist", *, data_dir: str | os.PathLike | None = None,
               source: str = "t10k", rng: np.random.Generator | None = None,
               max_shift: int = 2, verify: bool = True) -> MultiDataset:
    """Build Multi-MNIST, Multi-Fashion or Multi-(Fashion+MNIST) from the IDX files.

    Args:
        kind: ``"mnist"``, ``"fashion"`` or ``"fashion_mnist"`` (left MNIST, right Fashion).
        data_dir: data root (see :func:`dataset_dir`); default :func:`default_data_root`.
        source: ``"t10k"`` (the 10,000 test images: 8,000 / 1,000 / 1,000) or ``"full"``
            (train + test files: 54,000 / 6,000 / 10,000).
        rng: numpy Generator that fixes the split, the pairing and the offsets (default seed 0).
        max_shift: largest random offset in pixels (see :func:`overlay`).
        verify: check MD5 checksums (default).

    Returns:
        A :class:`MultiDataset` (the same for the same generator state and files).

    >>> ds = make_multi("mnist", rng=np.random.default_rng(0))  # doctest: +SKIP
    >>> ds.sizes(), ds.splits["train"][0].shape[1:]  # doctest: +SKIP
    ({'train': 8000, 'val': 1000, 'test': 1000}, (36, 36))
    """
    if kind not in KINDS:
        raise ConfigError(f"unknown multi data set {kind!r}; allowed: {', '.join(KINDS)}")
    if source not in ("t10k", "full"):
        raise ConfigError(
            f"source = {source!r} is not allowed: 't10k' (the 10,000 MNIST test images, split "
            "8000/1000/1000) or 'full' (training and test files)"
        )
    rng = np.random.default_rng(0) if rng is None else rng
    left_ds, right_ds = KINDS[kind]
    left_pools = split_pools(left_ds, source, data_dir, rng, verify)
    right_pools = left_pools if right_ds == left_ds else \
        split_pools(right_ds, source, data_dir, rng, verify)
    splits = {}
    for name in ("train", "val", "test"):
        Xl, yl = left_pools[name]
        Xr, yr = right_pools[name]
        n = min(Xl.shape[0], Xr.shape[0])
        if left_ds == right_ds:
            order = rng.permutation(n)
            li, ri = order, np.roll(order, -1)  # o_i with o_{i+1}: never an image with itself
        else:
            li, ri = rng.permutation(Xl.shape[0])[:n], rng.permutation(Xr.shape[0])[:n]
        shuffle = rng.permutation(n)  # so that neighbouring examples share no image
        li, ri = li[shuffle], ri[shuffle]
        X = overlay(Xl[li], Xr[ri], rng, max_shift=max_shift)
        Y = np.stack([yl[li], yr[ri]], axis=1).astype(np.int64)
        splits[name] = (X, Y)
    info = {"kind": kind, "source": source, "max_shift": int(max_shift),
            "sizes": {k: int(v[0].shape[0]) for k, v in splits.items()},
            "left": left_ds, "right": right_ds,
            "synthetic": any(is_synthetic(d, data_dir) for d in {left_ds, right_ds})}
    return MultiDataset(splits=splits, info=info)


# ---------------------------------------------------------------------------- download
def fetch(dataset: str, directory: str | os.PathLike | None, *,
          splits: tuple[str, ...] = ("train", "t10k"), timeout: float = 60.0,
          log: Callable[[str], None] = print) -> list[Path]:
    """Download the original gzip IDX files of ``dataset`` and verify their MD5 checksums.

    Files go to ``<directory>/<dataset>/`` (``directory = None``: ``$HYBRIDMOO_DATA``, which
    must then be set; the shared reference directory is never written to by default); files
    already there with the right checksum are kept. Each
    download is written to a temporary file, verified, then renamed into place. Never called by
    the tests (it needs network access).

    Args:
        dataset: ``"mnist"`` or ``"fashion"``.
        directory: the data root.
        splits: which splits to fetch (``"train"``, ``"t10k"``).
        timeout: seconds per HTTP request.
        log: progress messages go here.

    Returns:
        Paths of the verified files.

    Raises:
        DataError: if a file cannot be downloaded from any mirror or fails its checksum.
    """
    _check_dataset(dataset)
    if directory is None:
        directory = os.environ.get("HYBRIDMOO_DATA")
        if not directory:
            raise ConfigError(
                "name the directory to download into (hybridmoo data fetch "
                f"{dataset} --dir DIR), or set HYBRIDMOO_DATA"
            )
    root = Path(directory).expanduser()
    dest = root / dataset
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for split in splits:
        for what in ("images-idx3", "labels-idx1"):
            name = f"{split}-{what}-ubyte.gz"
            path = dest / name
            if path.is_file() and md5sum(path) == CHECKSUMS[dataset][name]:
                log(f"{path}: present, checksum ok")
                out.append(path)
                continue
            errors = []
            for base in MIRRORS[dataset]:
                tmp = path.with_suffix(".gz.part")
                try:
                    log(f"downloading {base}{name}")
                    req = urllib.request.Request(base + name,
                                                 headers={"User-Agent": "hybridmoo"})
                    with urllib.request.urlopen(req, timeout=timeout) as r, open(tmp, "wb") as f:
                        while chunk := r.read(1 << 20):
                            f.write(chunk)
                    got = md5sum(tmp)
                    if got != CHECKSUMS[dataset][name]:
                        raise DataError(f"MD5 {got}, expected {CHECKSUMS[dataset][name]}")
                    os.replace(tmp, path)
                    break
                except (OSError, DataError) as exc:
                    errors.append(f"{base}: {exc}")
                    tmp.unlink(missing_ok=True)
            else:
                raise DataError(
                    f"could not download {name} of {_NAMES[dataset]}: " + "; ".join(errors)
                    + f". Download it by hand into {dest} from one of: "
                    + ", ".join(MIRRORS[dataset])
                )
            log(f"{path}: checksum ok")
            out.append(path)
    return out
