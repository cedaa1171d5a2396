"""In-process backend: runs jobs one at a time in the driver (debugging, tests)."""

from __future__ import annotations

import socket
from collections import deque
from collections.abc import Callable, Hashable
from typing import Any

from hybridmoo.backends.base import WorkerLost

__all__ = ["LocalBackend"]


class LocalBackend:
    """Serial, deterministic backend: the same ``fn(payload, cache)`` as the Ray backend runs,
    in the driver, one job per :meth:`wait`."""

    slots = 1

    def __init__(self) -> None:
        self._queue: deque = deque()
        self._cache: dict = {}

    def submit(self, key: Hashable, fn: Callable[[Any, dict], Any], payload: Any) -> None:
        """Queue ``fn(payload, cache)``; it runs during the next :meth:`wait`."""
        self._queue.append((key, fn, payload))

    def wait(self) -> list[tuple[Hashable, Any, str]]:
        """Run the oldest queued job; ``[(key, result, node)]`` (empty if nothing is queued)."""
        if not self._queue:
            return []
        key, fn, payload = self._queue.popleft()
        try:
            result = fn(payload, self._cache)
        except Exception as exc:  # noqa: BLE001 - as on Ray: the caller records the failure
            result = WorkerLost(f"the job raised: {type(exc).__name__}: {exc}")
        return [(key, result, socket.gethostname())]

    def running(self) -> int:
        """Jobs queued."""
        return len(self._queue)

    def describe(self) -> str:
        """One line for the progress display."""
        return "local backend (in-process, 1 worker)"

    def close(self) -> None:
        """Nothing to release."""
