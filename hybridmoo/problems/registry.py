"""The problem registry: names → factories, with option checking.

A name is a registered problem (``"zdt1"``) or an **import path** ``"package.module:factory"``
naming the user's own factory: a callable whose keyword arguments are the problem's options and
which returns a :class:`~hybridmoo.problems.Problem` (e.g. built with
:func:`~hybridmoo.problems.from_function`) or a pymoo ``Problem`` (wrapped with
:func:`~hybridmoo.problems.from_pymoo`). The module must be importable where the problem is
built: on the driver (a study file's folder is put on ``sys.path``) and on every Ray worker
(``[resources] runtime_env`` / ``--working-dir``).
"""

from __future__ import annotations

import importlib
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


def _takes_any_keyword(factory: Callable) -> bool:
    return any(p.kind is p.VAR_KEYWORD for p in inspect.signature(factory).parameters.values())


def get(name: str, **options):
    """Build the problem registered under ``name`` (case-insensitive) with ``options``.

    Raises:
        UnknownNameError: if the name is not registered or an option is not accepted; the
            message lists the registered names or the accepted options.
    """
    entry = _lookup(name)
    allowed = options_of(entry.name)
    unknown = [k for k in options if k not in allowed]
    if unknown and not _takes_any_keyword(entry.factory):
        accepted = ", ".join(f"{k}={v!r}" for k, v in allowed.items()) or "none"
        raise UnknownNameError(
            f"problem {entry.name!r} has no option {unknown[0]!r}."
            f"{did_you_mean(unknown[0], list(allowed))} Accepted options: {accepted}."
        )
    if entry.family != "user":
        return entry.factory(**options)
    return _user_problem(entry, options)


def is_import_path(name: object) -> bool:
    """Whether ``name`` names a user's factory (``"package.module:factory"``)."""
    return isinstance(name, str) and ":" in name


def _import_entry(path: str) -> _Entry:
    module, _, attr = path.partition(":")
    if not module or not attr:
        raise UnknownNameError(
            f"problem {path!r}: an import path is 'package.module:factory' (module and "
            "factory both named), e.g. 'my_problems:make_problem'.")
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise UnknownNameError(
            f"problem {path!r}: module {module!r} cannot be imported ({exc}). Put the folder "
            "that holds it on PYTHONPATH (a study file's own folder is added), install it, or "
            "on a Ray cluster ship it with --working-dir / [resources] runtime_env.") from None
    except Exception as exc:
        raise UnknownNameError(
            f"problem {path!r}: importing module {module!r} failed: "
            f"{type(exc).__name__}: {exc}") from exc
    obj = mod
    for part in attr.split("."):
        if not hasattr(obj, part):
            public = sorted(n for n in dir(mod) if not n.startswith("_"))
            raise UnknownNameError(
                f"problem {path!r}: module {module!r} has no {attr!r}."
                f"{did_you_mean(part, public)} It defines: {', '.join(public[:20])}.")
        obj = getattr(obj, part)
    if not callable(obj):
        raise UnknownNameError(f"problem {path!r}: {attr!r} is a {type(obj).__name__}, not a "
                               "callable returning a problem.")
    doc = (inspect.getdoc(obj) or "").split("\n", 1)[0]
    return _Entry(path, obj, "user", doc)


def import_folder(path: str) -> str | None:
    """The ``sys.path`` folder the module of import path ``path`` was imported from (the
    folder holding its top-level package or module), or ``None`` (not imported, or not from
    a file). Stored with a study so that a later process (``predict``, ``show``, ``plot``)
    imports it again from there."""
    import sys
    from pathlib import Path

    top = sys.modules.get(path.partition(":")[0].split(".")[0])
    file = getattr(top, "__file__", None)
    if not file:
        return None
    f = Path(file).resolve()
    return str(f.parent.parent if f.name == "__init__.py" else f.parent)


def _user_problem(entry: _Entry, options: dict):
    from hybridmoo.problems.base import Problem

    try:
        made = entry.factory(**options)
    except Exception as exc:
        raise UnknownNameError(
            f"problem {entry.name!r}: calling the factory with options {options!r} failed: "
            f"{type(exc).__name__}: {exc}") from exc
    if isinstance(made, Problem):
        made.options = {**dict(getattr(made, "options", {}) or {}), **options}
        made.import_path = entry.name  # stored results rebuild it by this path (predict)
        made.import_folder = import_folder(entry.name)
        return made
    try:
        from pymoo.core.problem import Problem as PymooProblem
    except ImportError:  # pragma: no cover - pymoo is a dependency
        PymooProblem = ()
    if isinstance(made, PymooProblem):
        from hybridmoo.problems.custom import from_pymoo

        wrapped = from_pymoo(made)
        wrapped.options = dict(options)
        wrapped.import_path = entry.name
        wrapped.import_folder = import_folder(entry.name)
        return wrapped
    raise UnknownNameError(
        f"problem {entry.name!r}: the factory returned a {type(made).__name__}; it must return "
        "a hybridmoo Problem (e.g. problems.from_function / from_numpy) or a pymoo Problem.")


def _lookup(name: str) -> _Entry:
    if not isinstance(name, str):
        raise UnknownNameError(f"problem name must be a string, got {type(name).__name__}")
    if is_import_path(name):
        return _import_entry(name)
    key = name.lower()
    if key not in _REGISTRY:
        raise UnknownNameError(
            f"unknown problem {name!r}.{did_you_mean(key, list(_REGISTRY))} "
            f"Registered problems: {', '.join(_REGISTRY)}. "
            "List them with `hybridmoo problems`."
        )
    return _REGISTRY[key]
