"""Any pymoo multi-objective algorithm by name: ``"pymoo:<name>"`` (e.g. ``pymoo:spea2``).

Settings and parameters: :mod:`hybridmoo.baselines.evolutionary`.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from hybridmoo.baselines._pymoo import run_algorithm
from hybridmoo.baselines.common import BaselineResult, Budget, _Entry, _register_prefix
from hybridmoo.errors import ConfigError, UnknownNameError, did_you_mean

__all__ = ["resolve_pymoo"]


def _moo_classes() -> tuple[dict[str, type], dict[str, type], dict[str, str]]:
    """Algorithm classes of ``pymoo.algorithms.moo.*``: by lower-case class name, by module,
    and the modules that could not be imported (name → reason, e.g. numba missing for AGE)."""
    import pymoo.algorithms.moo as moo
    from pymoo.core.algorithm import Algorithm

    by_class: dict[str, type] = {}
    by_module: dict[str, type] = {}
    failed: dict[str, str] = {}
    for info in pkgutil.iter_modules(moo.__path__):
        try:
            mod = importlib.import_module(f"{moo.__name__}.{info.name}")
        except Exception as exc:  # noqa: BLE001 - an optional dependency of a module is missing
            failed[info.name] = f"{type(exc).__name__}: {exc}"
            continue
        own = [obj for obj in vars(mod).values() if inspect.isclass(obj)
               and issubclass(obj, Algorithm) and obj.__module__ == mod.__name__]
        for obj in own:
            by_class.setdefault(obj.__name__.lower(), obj)
        named = [obj for obj in own if obj.__name__.lower().startswith(info.name)]
        if named or len(own) == 1:
            by_module[info.name] = (named or own)[0]
    return by_class, by_module, failed


def resolve_pymoo(spec: str) -> type:
    """The pymoo algorithm class named by ``spec`` (the part after ``pymoo:``).

    Looked up, in order: a dotted path ``package.module.Class`` (or ``package.module:Class``);
    a class name under ``pymoo.algorithms.moo`` (case-insensitive, e.g. ``AGEMOEA``); a module
    name there (``age`` → ``AGEMOEA``, its first class whose name starts with the module's).

    Raises:
        UnknownNameError: if nothing matches; the message lists the known class names.
    """
    from pymoo.core.algorithm import Algorithm

    if "." in spec or ":" in spec:
        mod_name, _, cls_name = spec.replace(":", ".").rpartition(".")
        try:
            obj = getattr(importlib.import_module(mod_name), cls_name)
        except (ImportError, AttributeError) as exc:
            raise UnknownNameError(f"pymoo algorithm {spec!r} not found: {exc}") from None
        if not (inspect.isclass(obj) and issubclass(obj, Algorithm)):
            raise UnknownNameError(f"{spec!r} is not a pymoo Algorithm class")
        return obj
    by_class, by_module, failed = _moo_classes()
    key = spec.lower()
    if key in by_class:
        return by_class[key]
    if key in by_module:
        return by_module[key]
    broken = sorted((m for m in failed if key.startswith(m)), key=len)
    if broken:
        mod = broken[-1]
        raise UnknownNameError(
            f"pymoo algorithm {spec!r}: module pymoo.algorithms.moo.{mod} could not be imported "
            f"({failed[mod]})"
        )
    known = sorted(by_class)
    raise UnknownNameError(
        f"unknown pymoo algorithm {spec!r}.{did_you_mean(key, known)} Known under "
        f"pymoo.algorithms.moo: {', '.join(known)}; or give a dotted path "
        "'pymoo:package.module.Class'."
    )


def _pymoo_entry(name: str) -> _Entry:
    spec = name.split(":", 1)[1]
    cls = resolve_pymoo(spec)
    sig = inspect.signature(cls.__init__)
    takes_pop = "pop_size" in sig.parameters
    needs_dirs = "ref_dirs" in sig.parameters

    def fn(problem, budget: Budget, seed: int, *, pop_size: int = 100, front: str = "archive",
           trace_every: int | None = None, ref_point=None, threads: int | None = None,
           **options) -> BaselineResult:
        required = [p.name for p in sig.parameters.values()
                    if p.name not in ("self", "ref_dirs") and p.default is p.empty
                    and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                    and p.name not in options]
        if required:
            raise ConfigError(
                f"pymoo algorithm {cls.__name__} needs the option(s) {', '.join(required)}; "
                f"pass them as parameters, e.g. baselines.run({name!r}, ..., "
                f"{required[0]}=...)"
            )
        return run_algorithm(cls, problem, budget, seed, method=name, pop_size=pop_size,
                             front=front, trace_every=trace_every, ref_point=ref_point,
                             threads=threads, options=options, ref_dirs=needs_dirs,
                             pass_pop=takes_pop)

    fn.__doc__ = f"pymoo's {cls.__name__} with its default settings (``pymoo:{spec}``)."
    return _Entry(name.lower(), fn, "evolutionary", f"pymoo {cls.__module__}.{cls.__name__}",
                  fn.__doc__)


_register_prefix("pymoo:", _pymoo_entry)
