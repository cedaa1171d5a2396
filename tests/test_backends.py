"""Backends run any ``fn(payload, cache)``: the local backend in-process, the Ray backend on
actors; both keep a worker's cache between jobs and report a job that raised as WorkerLost."""

from __future__ import annotations

import pytest

from hybridmoo.backends import LocalBackend, WorkerLost, check_ray_options, get_backend
from hybridmoo.errors import ConfigError


def square(x, cache):
    """A job: the square of x, counting the jobs this worker ran in its cache."""
    cache["n"] = cache.get("n", 0) + 1
    return x * x, cache["n"]


def boom(x, cache):
    raise ValueError(f"bad payload {x}")


def test_local_backend_runs_any_callable_in_order_with_one_cache():
    b = get_backend("local")
    assert isinstance(b, LocalBackend) and b.slots == 1
    for k in range(3):
        b.submit(("job", k), square, k + 2)
    assert b.running() == 3
    got = []
    while b.running():
        got += b.wait()
    assert [(key, res) for key, res, _ in got] == [(("job", 0), (4, 1)), (("job", 1), (9, 2)),
                                                    (("job", 2), (16, 3))]
    assert all(node for *_, node in got)
    assert b.wait() == []  # nothing queued: no block, no result


def test_local_backend_reports_a_raising_job_and_goes_on():
    b = LocalBackend()
    b.submit("a", boom, 7)
    b.submit("b", square, 3)
    (key, res, _), = b.wait()
    assert key == "a" and isinstance(res, WorkerLost)
    assert "ValueError" in str(res) and "bad payload 7" in str(res)
    assert b.wait()[0][1] == (9, 1)


def test_local_backend_lets_ctrl_c_through():
    def interrupt(x, cache):
        raise KeyboardInterrupt

    b = LocalBackend()
    b.submit(0, interrupt, None)
    with pytest.raises(KeyboardInterrupt):
        b.wait()


@pytest.mark.parametrize("backend, address, num_cpus, words", [
    ("local", "auto", None, "joins a Ray cluster"),
    ("local", None, 2, "runs in-process"),
    ("ray", "auto", 2, "cluster's own CPUs"),
    ("ray", None, 0, "expected an integer ≥ 1"),
    ("ray", None, True, "expected an integer ≥ 1"),
])
def test_ray_options_the_backend_would_ignore_are_refused(backend, address, num_cpus, words):
    with pytest.raises(ConfigError, match=words):
        check_ray_options(backend, address, num_cpus)


def test_unknown_backend_names_the_allowed_ones():
    with pytest.raises(ConfigError, match="allowed: ray, local"):
        get_backend("dask")


@pytest.mark.ray
def test_ray_backend_runs_any_callable_on_actors(ray_cluster):
    from hybridmoo.backends.ray import RayBackend

    # defined here, so that cloudpickle ships them by value (tests/ is not on the workers' path)
    def square(x, cache):
        cache["n"] = cache.get("n", 0) + 1
        return x * x, cache["n"]

    def boom(x, cache):
        raise ValueError(f"bad payload {x}")

    b = RayBackend(workers=2, threads=1)
    assert b.slots == 2 and "2 actors" in b.describe()
    for k in range(6):
        b.submit(k, square, k)
    b.submit("bad", boom, 1)
    out = {}
    while b.running():
        for key, res, node in b.wait():
            out[key] = res
            assert isinstance(res, WorkerLost) or node
    b.close()
    assert {k: out[k][0] for k in range(6)} == {k: k * k for k in range(6)}
    # each actor counts its own jobs in its own cache: 6 jobs over 2 actors
    assert sorted(out[k][1] for k in range(6))[-1] <= 6
    assert isinstance(out["bad"], WorkerLost) and "bad payload 1" in str(out["bad"])
