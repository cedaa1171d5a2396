"""Exceptions raised by hybridmoo.

Every error hybridmoo raises on bad input derives from :class:`HybridMooError` and from the
built-in exception a user would expect (``ValueError`` for bad values and shapes, ``KeyError``-like
lookups are reported as ``ValueError`` so that the message prints cleanly). Messages name what was
wrong, what was expected and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataError",
    "HybridMooError",
    "ShapeError",
    "StoreError",
    "TrialFailedError",
    "UnknownNameError",
]


class HybridMooError(Exception):
    """Base class of all errors raised by hybridmoo."""


class ShapeError(HybridMooError, ValueError):
    """A tensor or array has the wrong shape, dtype or content (NaN, inf)."""


class UnknownNameError(HybridMooError, ValueError):
    """A name (problem, method, option) is not registered; the message lists what exists."""


class ConfigError(HybridMooError, ValueError):
    """A configuration (study file, trainer options) is invalid; the message names the key."""


class DataError(HybridMooError, OSError):
    """A data file is missing, corrupt, or fails its checksum."""


class StoreError(HybridMooError, OSError):
    """An HDF5 study file is missing, corrupt, of another format or of an unsupported version."""


class TrialFailedError(HybridMooError, RuntimeError):
    """A trial could not produce a result (NaN loss, exception in the trainer, dead worker)."""


def did_you_mean(name: str, choices: list[str] | tuple[str, ...]) -> str:
    """Return a ``" Did you mean 'x'?"`` hint for the closest choice, or an empty string."""
    import difflib

    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""
