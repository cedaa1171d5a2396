"""Shared fixtures: the reference data (real or generated stand-ins), seeded generators.

Data lookup (the library's rule, :func:`hybridmoo.data.default_data_root`): ``$HYBRIDMOO_DATA``,
else ``../shared/data`` next to the repository, else ``~/.cache/hybridmoo/data``. Where that
root holds the real MNIST test files (published checksums), the tests use them. Where it does
not (a fresh clone without ``../shared``), a session fixture writes generated stand-ins in the
same IDX format to a temporary directory and points ``HYBRIDMOO_DATA`` at it for the session
(Ray workers and CLI subprocesses inherit it); the few tests that need the real images skip
with a reason that says how to provide them. The RE test vectors ship in ``tests/data/``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from hybridmoo import data as _data
from hybridmoo.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
#: test data shipped with the repository (RE reference vectors).
TEST_DATA = ROOT / "tests" / "data"
#: the data root as the library resolves it before the session fixture may redirect it.
DATA_ROOT = _data.default_data_root()

HOW_TO_GET_MNIST = (
    "needs the real MNIST test images: set HYBRIDMOO_DATA to a directory holding "
    "mnist/t10k-images-idx3-ubyte.gz and mnist/t10k-labels-idx1-ubyte.gz (`hybridmoo data "
    "fetch mnist --dir DIR`, with network access), or put the reference data at "
    "../shared/data next to the repository"
)


def _has_real_mnist(root: Path) -> bool:
    """Whether ``root`` holds the MNIST t10k files with their published checksums."""
    d = _data.dataset_dir("mnist", root)
    try:
        for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
            if _data.md5sum(d / name) != _data.CHECKSUMS["mnist"][name]:
                return False
    except (OSError, DataError):
        return False
    return True


REAL_MNIST = _has_real_mnist(DATA_ROOT)


def pytest_report_header(config) -> str:
    if REAL_MNIST:
        return f"hybridmoo data: real MNIST test images under {DATA_ROOT}"
    return (f"hybridmoo data: no real MNIST under {DATA_ROOT}; generated stand-ins "
            "(hybridmoo.data.write_synthetic), tests that need the real images skip")


@pytest.fixture(scope="session", autouse=True)
def mnist_root(tmp_path_factory) -> Path:
    """The data root holding ``mnist/`` for this session: the real files when present, else
    generated stand-ins in a temporary directory, with ``HYBRIDMOO_DATA`` pointing at it."""
    if REAL_MNIST:
        yield DATA_ROOT
        return
    root = tmp_path_factory.mktemp("hybridmoo_data")
    _data.write_synthetic(root, "mnist", seed=0)
    old = os.environ.get("HYBRIDMOO_DATA")
    os.environ["HYBRIDMOO_DATA"] = str(root)
    yield root
    if old is None:
        os.environ.pop("HYBRIDMOO_DATA", None)
    else:
        os.environ["HYBRIDMOO_DATA"] = old


@pytest.fixture
def real_mnist(mnist_root) -> Path:
    """The directory of the real MNIST test files; skips (saying how to get them) without."""
    if not REAL_MNIST:
        pytest.skip(HOW_TO_GET_MNIST)
    return _data.dataset_dir("mnist", mnist_root)


@pytest.fixture
def shared_data() -> Path:
    """The shared reference directory (holding ``re/``) for checks against the shared copy;
    skips with the way to provide it when absent."""
    if not (DATA_ROOT / "re").is_dir():
        pytest.skip(f"no reference data at {DATA_ROOT}: set HYBRIDMOO_DATA to the directory "
                    "holding mnist/ and re/ (../shared/data in the project's CI) to compare "
                    "the bundled copies with it")
    return DATA_ROOT


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded numpy generator (seed 0)."""
    return np.random.default_rng(0)


@pytest.fixture
def gen() -> torch.Generator:
    """A seeded torch generator (seed 0)."""
    return torch.Generator().manual_seed(0)


@pytest.fixture
def one_thread():
    """Run a test with one torch thread (tiny networks only lose from threads on shared cores)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def killed_run(tmp_path):
    """``killed_run(study_file, fault)``: ``hybridmoo run STUDY --backend local --quiet`` in a
    subprocess whose driver dies (``os._exit``, as kill -9) at the journal fault point ``fault``
    (:data:`hybridmoo.journal.FAULT_ENV`, e.g. ``"journal-commit:14"``); asserts it died there
    and returns the finished process."""
    import subprocess
    import sys

    from hybridmoo import journal

    child = tmp_path / "killed_child.py"
    child.write_text("import sys\nfrom hybridmoo.cli import main\nsys.exit(main(sys.argv[1:]))\n")

    def run(study: Path, fault: str) -> subprocess.CompletedProcess:
        env = {**os.environ, journal.FAULT_ENV: fault}
        proc = subprocess.run([sys.executable, str(child), "run", str(study), "--backend",
                               "local", "--quiet"], env=env, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == journal.FAULT_EXIT, proc.stderr[-2000:]
        return proc

    return run


class _OutOfOrderBackend:
    """Three workers whose jobs finish last-submitted-first (as async workers can)."""

    slots = 3

    def __init__(self) -> None:
        self.queue: list = []
        self.cache: dict = {}
        self.max_running = 0

    def submit(self, key, fn, payload) -> None:
        self.queue.append((key, fn, payload))
        self.max_running = max(self.max_running, len(self.queue))

    def wait(self):
        key, fn, payload = self.queue.pop()
        return [(key, fn(payload, self.cache), "fake")]

    def running(self) -> int:
        return len(self.queue)

    def describe(self) -> str:
        return "out-of-order test backend"

    def close(self) -> None:
        pass


@pytest.fixture
def out_of_order_backend():
    """The class of a fake backend: three workers finishing last-submitted-first."""
    return _OutOfOrderBackend


@pytest.fixture(scope="session")
def ray_cluster(mnist_root):
    """One local Ray on 127.0.0.1 with 2 CPUs for the whole test session."""
    from hybridmoo.backends.ray import start_ray

    start_ray(num_cpus=2)  # before the first `import ray`; workers inherit HYBRIDMOO_DATA
    import ray

    yield ray
    ray.shutdown()
