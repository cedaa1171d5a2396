"""Where trials run: Ray actors (default) or in-process (debugging).

A backend accepts trial specifications with :meth:`submit` and hands back finished
``(trial_id, TrialResult, node)`` tuples from :meth:`wait`, as workers free up. Both backends run
the same :func:`run_trial`; only the dispatch differs.
"""

from __future__ import annotations

from typing import Protocol

from hybridmoo.backends.common import run_trial
from hybridmoo.backends.local import LocalBackend
from hybridmoo.errors import ConfigError

__all__ = ["Backend", "LocalBackend", "check_ray_options", "get_backend", "run_trial"]


class Backend(Protocol):
    """The dispatch interface the study drives."""

    slots: int

    def submit(self, trial_id: int, spec: dict) -> None:
        """Start a trial (a dict with problem, problem_options, hypernet, train, seed)."""

    def wait(self) -> list[tuple[int, object, str]]:
        """Block until at least one trial finishes; return ``(trial_id, result, node)``."""

    def running(self) -> int:
        """Number of trials submitted and not yet returned."""

    def close(self) -> None:
        """Release workers."""


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
    """``"ray"`` (:class:`~hybridmoo.backends.ray.RayBackend`) or ``"local"``."""
    if name == "local":
        return LocalBackend()
    if name == "ray":
        from hybridmoo.backends.ray import RayBackend

        return RayBackend(**options)
    raise ConfigError(f"unknown backend {name!r}; allowed: ray, local")
