"""Validation helpers shared by the configuration files and dataclasses.

Every message names the key (and the file, where there is one), the value as it was written,
what is allowed and how to fix it. The study-file loader (:mod:`hybridmoo.studyfile`), the
compare-file loader (:mod:`hybridmoo.compare`) and the ``TrainConfig``/``HypernetConfig``/
``DymuConfig`` dataclasses all validate through these functions, so the same mistake reads the
same everywhere.
"""

from __future__ import annotations

import math
import numbers
import os
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from hybridmoo.errors import ConfigError, did_you_mean

#: seeds are non-negative and fit numpy's, torch's and HDF5's integers with room for trial ids
MAX_SEED = 2**32 - 1


def show(value: Any) -> str:
    """``value`` as it would be written in TOML (``true``, ``"50"``, ``inf``), for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {show(v)}" for k, v in value.items()) + " }"
    return repr(value)


def _hint(value: Any, expected: str) -> str:
    """A fix for the commonest type slips: a quoted number, a boolean for a number."""
    numeric = "number" in expected or "integer" in expected
    if numeric and isinstance(value, str):
        try:
            float(value)
            return f" (write the number without quotes: {value})"
        except ValueError:
            return ""
    if numeric and isinstance(value, bool):
        return " (true/false is not a number)"
    if "integer" in expected and isinstance(value, float) and math.isfinite(value) \
            and value == int(value) and abs(value) < 1e15:
        return f" (write it without a decimal point or exponent: {int(value)})"
    return ""


def invalid(key: str, value: Any, expected: str, where: str = "") -> ConfigError:
    """The :class:`ConfigError` ``KEY = VALUE [in FILE] is invalid: expected …``."""
    loc = f"{where}: " if where else ""
    return ConfigError(f"{loc}{key} = {show(value)} is invalid: expected {expected}"
                       f"{_hint(value, expected)}")


def is_int(value: Any) -> bool:
    """An integer that is not a boolean (numpy integers count)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and \
        type(value).__name__ != "bool_"


def is_number(value: Any) -> bool:
    """A finite real number that is not a boolean."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return False
    if not isinstance(value, numbers.Real):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def check_int(key: str, value: Any, low: int | None = None, high: int | None = None,
              where: str = "", what: str = "") -> int:
    """``value`` if it is an integer in ``[low, high]``; else a ConfigError naming the key."""
    if low is not None and high is not None:
        expected = f"an integer in [{low}, {high:,}]" if high > 10**6 else \
            f"an integer in [{low}, {high}]"
    elif low is not None:
        expected = f"an integer ≥ {low}"
    else:
        expected = "an integer"
    expected += what
    if not is_int(value) or (low is not None and value < low) or \
            (high is not None and value > high):
        raise invalid(key, value, expected, where)
    return int(value)


def check_number(key: str, value: Any, low: float | None = None, high: float | None = None,
                 *, low_open: bool = False, where: str = "", what: str = "") -> float:
    """``value`` if it is a finite number within the bounds (``low_open``: ``> low``)."""
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '≥'} {low:g}")
    if high is not None:
        parts.append(f"≤ {high:g}")
    expected = "a finite number" + (" " + " and ".join(parts) if parts else "") + what
    if not is_number(value) or (low is not None and (value <= low if low_open else value < low)) \
            or (high is not None and value > high):
        raise invalid(key, value, expected, where)
    return float(value)


def reject_nonfinite(doc: Any, where: str, prefix: str = "") -> None:
    """Refuse ``nan``/``inf`` (and numbers such as ``1e400`` that overflow to inf) anywhere in a
    parsed document; the message names the dotted key."""
    if isinstance(doc, Mapping):
        for k, v in doc.items():
            reject_nonfinite(v, where, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(doc, list | tuple):
        for i, v in enumerate(doc):
            reject_nonfinite(v, where, f"{prefix}[{i}]")
    elif isinstance(doc, float) and not math.isfinite(doc):
        raise ConfigError(
            f"{where}: {prefix} = {show(doc)} is invalid: non-finite numbers (nan, inf, or "
            "a literal such as 1e400 that overflows to inf) are not allowed anywhere; write a "
            "finite number"
        )


def reject_unknown(d: Mapping, allowed: Iterable[str], what: str, where: str = "",
                   table: str = "") -> None:
    """Raise :class:`ConfigError` for the first key of ``d`` not in ``allowed``.

    Args:
        what: the kind of option, e.g. ``"train"``. where: the file, if any. table: the table
            of that file, e.g. ``"[fixed.train]"``.
    """
    allowed = sorted(allowed)
    loc = (f" in {table}" if table else "") + (f" of {where}" if where else "")
    if not isinstance(d, Mapping):
        raise ConfigError(f"the {what} options{loc} must be a table, got {show(d)}")
    for key in d:
        if key not in allowed:
            raise ConfigError(
                f"unknown {what} option {key!r}{loc}.{did_you_mean(str(key), allowed)} "
                f"Allowed: {', '.join(allowed)}"
            )


# ------------------------------------------------------------------------- dataclass types
def _describe(hint: Any) -> str:
    """Words for a type hint (``int | None`` → "an integer")."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        parts = [_describe(a) for a in typing.get_args(hint) if a is not type(None)]
        return " or ".join(dict.fromkeys(parts))
    if hint is int:
        return "an integer"
    if hint is float:
        return "a finite number"
    if hint is bool:
        return "true or false"
    if hint is str:
        return "a string"
    if origin in (tuple, list) or hint in (tuple, list):
        args = [a for a in typing.get_args(hint) if a is not Ellipsis]
        inner = _describe(args[0]) if args else "values"
        return f"a list of {inner.removeprefix('an ').removeprefix('a ')}s"
    if origin is not None and issubclass(origin, Mapping) or hint in (dict, Mapping):
        return "a table"
    return str(hint)


def _matches(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if hint is Any:
        return True
    if hint is type(None):
        return value is None
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, a) for a in typing.get_args(hint))
    if hint is int:
        return is_int(value)
    if hint is float:
        return is_number(value)
    if hint is bool:
        return isinstance(value, bool) or type(value).__name__ == "bool_"
    if hint is str:
        return isinstance(value, str)
    if origin in (tuple, list) or hint in (tuple, list):
        if not isinstance(value, list | tuple):
            return False
        args = [a for a in typing.get_args(hint) if a is not Ellipsis]
        if Ellipsis in typing.get_args(hint) or origin is list:
            return all(_matches(v, args[0]) for v in value) if args else True
        return len(value) == len(args) and all(
            _matches(v, a) for v, a in zip(value, args, strict=True))
    if (origin is not None and isinstance(origin, type) and issubclass(origin, Mapping)) \
            or hint in (dict, Mapping):
        return isinstance(value, Mapping)
    return True  # a type this check does not know: left to the dataclass's own checks


def check_types(prefix: str, obj: Any) -> None:
    """Check every field of dataclass ``obj`` against its annotation (booleans are not numbers,
    numbers are finite, a quoted number is not a number); ConfigError names the first misfit."""
    import dataclasses

    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        hint = hints.get(f.name, Any)
        if not _matches(value, hint):
            raise invalid(f"{prefix}.{f.name}", value, _describe(hint))


def check_field_value(cls: type, name: str, value: Any, key: str, where: str = "") -> None:
    """Check one value against the annotation of field ``name`` of dataclass ``cls``."""
    hint = typing.get_type_hints(cls).get(name, Any)
    if not _matches(value, hint):
        raise invalid(key, value, _describe(hint), where)


def check_ranges(prefix: str, obj: Any, checks: list[tuple[str, bool, str]]) -> None:
    """``checks`` are ``(field, ok, allowed)``; the first failing one raises ConfigError."""
    for key, ok, allowed in checks:
        if not ok:
            raise invalid(f"{prefix}.{key}", getattr(obj, key), allowed)


def check_choices(prefix: str, items: list[tuple[str, Any, tuple]]) -> None:
    """``items`` are ``(field, value, allowed values)``; a value not allowed raises."""
    for key, value, allowed in items:
        if value not in allowed:
            raise ConfigError(
                f"{prefix}.{key} = {value!r} is not allowed."
                f"{did_you_mean(str(value), allowed)} Allowed: {', '.join(allowed)}"
            )


# ------------------------------------------------------------------------- files
def read_text(path: str | os.PathLike, kind: str) -> str:
    """The UTF-8 text of a configuration file; ConfigError for a missing, unreadable, binary or
    non-UTF-8 file (naming the file and the byte offset)."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"{kind} {p} not found; check the path")
    if not p.is_file():
        raise ConfigError(f"{kind} {p} is not a file (a folder?); give the path of a TOML file")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{kind} {p} cannot be read ({exc.strerror or exc}); check its "
                          "permissions") from None
    if b"\x00" in raw[:8192]:
        raise ConfigError(f"{kind} {p} is a binary file, not TOML text; give the .toml file "
                          "(an .h5 study file is read by show/export/plot/predict/resume)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{kind} {p} is not UTF-8 text (byte {exc.start}: {raw[exc.start:exc.start + 1]!r}); "
            "TOML files are UTF-8: re-save it as UTF-8"
        ) from None


def read_toml(path, text: str | None, kind: str) -> tuple[str, dict, str]:
    """``(text, document, where)`` of a TOML file (or of ``text``); errors name the file.

    Non-finite numbers anywhere in the document are refused (see :func:`reject_nonfinite`).

    Args:
        path: the file (may be None when ``text`` is given). text: the content, if already read.
        kind: what the file is, for messages ("study file", "compare file").
    """
    import tomllib

    if text is None:
        if path is None:
            raise ConfigError(f"a {kind} needs a path or its text")
        text = read_text(path, kind)
    if not isinstance(text, str):
        raise ConfigError(f"the text of a {kind} must be a string, got {type(text).__name__}")
    where = str(path) if path else f"<{kind}>"
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}") from None
    reject_nonfinite(doc, where)
    return text, doc, where


def check_output_path(path: str | os.PathLike, key: str) -> Path:
    """Check, before anything runs, that ``path`` can be created: its nearest existing folder
    is a folder (not a regular file) and writable, and ``path`` itself is not a folder.

    Args:
        key: what names the path for the user (``"study.output"``, ``"--save"``).

    Raises:
        ConfigError: naming the path, the offending folder or file, and what to do.
    """
    p = Path(path)
    if p.is_dir():
        raise ConfigError(f"{key} = {show(str(p))} is a folder; give a file name inside it, "
                          f"e.g. {p / 'study.h5'}")
    anc = p.parent
    while not anc.exists() and anc != anc.parent:
        anc = anc.parent
    if not anc.is_dir():
        raise ConfigError(f"{key} = {show(str(p))} cannot be created: {anc} is a regular file, "
                          "not a folder; choose another path (or move that file)")
    if not os.access(anc, os.W_OK | os.X_OK):
        raise ConfigError(f"{key} = {show(str(p))} cannot be created: the folder {anc} is not "
                          "writable (read-only or owned by another user); choose a writable "
                          "folder")
    if p.exists() and not os.access(p, os.W_OK):
        raise ConfigError(f"{key} = {show(str(p))} exists and is read-only; choose another "
                          "path or make it writable")
    return p
