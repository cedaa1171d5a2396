"""The problem registry: names → factories, with option checking."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

from hybridmoo.errors import UnknownNameError, did_you_mean

__all__ = ["get", "names", "register", "registered"]


@dataclass(frozen=True)
class _Entry:
    name: str
    factory: Callable
    family: str
    summary: str


_REGISTRY: dict[str, _Entry] = {}


def register(name: str, family: str, summary: str = "") -> Callable[[Callable], Callable]:
    """Decorator that registers a problem factory (a class or function) under ``name``.

    The factory's keyword arguments are the problem's options; :func:`get` checks them.
    """

    def deco(factory: Callable) -> Callable:
        key = name.lower()
        if key in _REGISTRY:
            raise ValueError(f"problem {name!r} is already registered")
        doc = summary or (inspect.getdoc(factory) or "").split("\n", 1)[0]
        _REGISTRY[key] = _Entry(key, factory, family, doc)
        return factory

    return deco


def names(family: str | None = None) -> list[str]:
    """Names of the registered problems (optionally of one family), in registration order."""
    return [e.name for e in _REGISTRY.values() if family is None or e.family == family]


def registered() -> list[_Entry]:
    """The registry entries (name, factory, family, summary), in registration order."""
    return list(_REGISTRY.values())


def options_of(name: str) -> dict[str, object]:
    """The options a problem accepts, with their defaults (``inspect.Parameter.empty`` if none)."""
    entry = _lookup(name)
    sig = inspect.signature(entry.factory)
    return {p.name: p.default for p in sig.parameters.values() if p.kind is p.KEYWORD_ONLY
            or p.kind is p.POSITIONAL_OR_KEYWORD}


def get(name: str, **options):
    """Build the problem registered under ``name`` (case-insensitive) with ``options``.

    Raises:
        UnknownNameError: if the name is not registered or an option is not accepted; the
            message lists the registered names or the accepted options.
    """
    entry = _lookup(name)
    allowed = options_of(entry.name)
    unknown = [k for k in options if k not in allowed]
    if unknown:
        accepted = ", ".join(f"{k}={v!r}" for k, v in allowed.items()) or "none"
        raise UnknownNameError(
            f"problem {entry.name!r} has no option {unknown[0]!r}."
            f"{did_you_mean(unknown[0], list(allowed))} Accepted options: {accepted}."
        )
    return entry.factory(**options)


def _lookup(name: str) -> _Entry:
    if not isinstance(name, str):
        raise UnknownNameError(f"problem name must be a string, got {type(name).__name__}")
    key = name.lower()
    if key not in _REGISTRY:
        raise UnknownNameError(
            f"unknown problem {name!r}.{did_you_mean(key, list(_REGISTRY))} "
            f"Registered problems: {', '.join(_REGISTRY)}. "
            "List them with `hybridmoo problems`."
        )
    return _REGISTRY[key]
