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


def read_toml(path, text: str | None, kind: str) -> tuple[str, dict, str]:
    """``(text, document, where)`` of a TOML file (or of ``text``); errors name the file.

    Args:
        path: the file (may be None when ``text`` is given). text: the content, if already read.
        kind: what the file is, for messages ("study file", "compare file").
    """
    import tomllib
    from pathlib import Path

    if text is None:
        if path is None:
            raise ConfigError(f"a {kind} needs a path or its text")
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"{kind} {p} not found")
        text = p.read_text()
    where = str(path) if path else f"<{kind}>"
    try:
        return text, tomllib.loads(text), where
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}") from None
