"""Shared fixtures: paths to the reference data, seeded generators."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("HYBRIDMOO_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    """The directory of the shared reference data (MNIST test set, RE suite)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(
            f"reference data not found at {SHARED_DATA}; set HYBRIDMOO_SHARED_DATA to the "
            "directory holding mnist/ and re/"
        )
    return SHARED_DATA


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


@pytest.fixture(scope="session")
def ray_cluster():
    """One local Ray on 127.0.0.1 with 2 CPUs for the whole test session."""
    from hybridmoo.backends.ray import start_ray

    start_ray(num_cpus=2)  # before the first `import ray` (see start_ray)
    import ray

    yield ray
    ray.shutdown()
