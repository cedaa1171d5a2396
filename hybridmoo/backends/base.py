"""The backend interface: what studies and comparisons may ask of a place that runs jobs."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Protocol

__all__ = ["Backend", "WorkerLost"]


class WorkerLost(Exception):
    """The worker running a job died or the job raised; the message says how."""


class Backend(Protocol):
    """The dispatch interface that studies and comparisons drive."""

    slots: int

    def submit(self, key: Hashable, fn: Callable[[Any, dict], Any], payload: Any) -> None:
        """Run ``fn(payload, cache)`` on a free worker (queued until one frees up)."""

    def wait(self) -> list[tuple[Hashable, Any, str]]:
        """Block until at least one job finishes; ``(key, result, node)`` each, where result is
        a :class:`WorkerLost` if the worker died or ``fn`` raised."""

    def running(self) -> int:
        """Number of jobs submitted and not yet returned."""

    def describe(self) -> str:
        """One line for progress displays."""

    def close(self) -> None:
        """Release workers."""
