"""Validation helpers shared by the configuration dataclasses (messages name key and value)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hybridmoo.errors import ConfigError, did_you_mean


def reject_unknown(d: Mapping, allowed: Iterable[str], what: str) -> None:
    """Raise :class:`ConfigError` for the first key of ``d`` not in ``allowed``."""
    allowed = sorted(allowed)
    for key in d:
        if key not in allowed:
            raise ConfigError(
                f"unknown {what} option {key!r}.{did_you_mean(str(key), allowed)} "
                f"Allowed: {', '.join(allowed)}"
            )


def check_ranges(prefix: str, obj: Any, checks: list[tuple[str, bool, str]]) -> None:
    """``checks`` are ``(field, ok, allowed)``; the first failing one raises ConfigError."""
    for key, ok, allowed in checks:
        if not ok:
            raise ConfigError(
                f"{prefix}.{key} = {getattr(obj, key)!r} is invalid: expected {allowed}"
            )


def check_choices(prefix: str, items: list[tuple[str, Any, tuple]]) -> None:
    """``items`` are ``(field, value, allowed values)``; a value not allowed raises."""
    for key, value, allowed in items:
        if value not in allowed:
            raise ConfigError(
                f"{prefix}.{key} = {value!r} is not allowed.{did_you_mean(str(value), allowed)}"
                f" Allowed: {', '.join(allowed)}"
            )
