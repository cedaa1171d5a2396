"""In-process backend: runs trials one at a time in the driver (debugging, tests)."""

from __future__ import annotations

from collections import deque

from hybridmoo.backends.common import run_trial

__all__ = ["LocalBackend"]


class LocalBackend:
    """Serial, deterministic backend sharing all code with the Ray backend but the dispatch."""

    slots = 1

    def __init__(self) -> None:
        self._queue: deque = deque()
        self._cache: dict = {}

    def submit(self, trial_id: int, spec: dict) -> None:
        """Queue a trial; it runs during the next :meth:`wait`."""
        self._queue.append((trial_id, spec))

    def wait(self) -> list[tuple[int, object, str]]:
        """Run the oldest queued trial and return it."""
        if not self._queue:
            return []
        trial_id, spec = self._queue.popleft()
        result, node = run_trial(spec, self._cache)
        return [(trial_id, result, node)]

    def running(self) -> int:
        """Trials queued."""
        return len(self._queue)

    def describe(self) -> str:
        """One line for the progress display."""
        return "local backend (in-process, 1 worker)"

    def close(self) -> None:
        """Nothing to release."""
