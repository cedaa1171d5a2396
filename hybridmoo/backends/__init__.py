"""Where jobs run: Ray actors (default) or in-process (debugging).

A backend runs any picklable ``fn(payload, cache) -> result`` (``cache`` is a dict that lives as
long as the worker, e.g. for problems whose data should load once): :meth:`Backend.submit` takes
a key, the function and its payload, :meth:`Backend.wait` hands back finished
``(key, result, node)`` tuples as workers free up. Backends know nothing of methods, studies or
comparisons; this package is the only place that imports ``ray``.
"""

from __future__ import annotations

from hybridmoo.backends.base import Backend, WorkerLost
from hybridmoo.backends.local import LocalBackend
from hybridmoo.errors import ConfigError

__all__ = ["Backend", "LocalBackend", "WorkerLost", "check_ray_options", "get_backend"]


def check_ray_options(backend: str, address: str | None, num_cpus: int | None = None) -> None:
    """Refuse Ray options that the chosen backend would ignore.

    Raises:
        ConfigError: ``address`` with ``backend == "local"``; ``num_cpus`` (the size of a Ray
            started here) with ``address`` or with the local backend; ``num_cpus`` < 1.
    """
    if address and backend == "local":
        raise ConfigError(f"address {address!r} joins a Ray cluster; the local backend runs "
                          "in-process: drop one of them")
    if num_cpus is None:
        return
    if backend == "local" or address:
        where = "the local backend runs in-process" if backend == "local" else \
            f"with address {address!r} the cluster's own CPUs are used"
        raise ConfigError(f"num_cpus (--num-cpus) sizes a Ray started here; {where}: "
                          "drop --num-cpus")
    if isinstance(num_cpus, bool) or not isinstance(num_cpus, int) or num_cpus < 1:
        raise ConfigError(f"num_cpus = {num_cpus!r} is invalid: expected an integer ≥ 1")


def get_backend(name: str, **options) -> Backend:
    """``"ray"`` (:class:`~hybridmoo.backends.ray.RayBackend`, ``options`` its arguments) or
    ``"local"``."""
    if name == "local":
        return LocalBackend()
    if name == "ray":
        from hybridmoo.backends.ray import RayBackend

        return RayBackend(**options)
    raise ConfigError(f"unknown backend {name!r}; allowed: ray, local")
