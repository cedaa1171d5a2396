"""The method protocol of a study's trials, and the registry that names them.

A study's trial *method* is what one trial trains: a preference-conditioned hypernetwork
(``"hypernet"``, the default) or a DYMU controller (``"dymu"``). The study file, the outer loop,
the backends and the analysis know a method only through :class:`TrialMethod`; nothing outside
this package tests a method's name. A method declares:

- ``tables``: the ``[fixed.<table>]`` tables of its configuration, which are also the heads of
  the paths it lets ``[search]`` vary (``"hypernet.width"``, ``"dymu.c"``);
- ``default_objectives`` and ``objectives``: the outer objectives it measures beyond the common
  ones (:data:`hybridmoo.studyfile.OBJECTIVES`);
- :meth:`TrialMethod.build_space`: validates its tables and searched paths and returns the
  :class:`~hybridmoo.space.SearchSpace` of its configurations;
- :meth:`TrialMethod.check_resources`: what it refuses of ``[resources]`` / ``[algorithm]``;
- :meth:`TrialMethod.trial_payload` → the job a backend ships, and :meth:`TrialMethod.run`
  (``payload, cache → TrialResult``) that a worker calls; it never raises;
- :meth:`TrialMethod.front_columns` and :meth:`TrialMethod.predict` for the analysis of a stored
  trial.

Methods are registered by import path and imported on first use. A study file may also name a
method of the user's own by import path (``method = "my_methods:MyMethod"``, the study file's
folder on ``sys.path``): the payload carries that path, so a worker imports it too.

>>> from hybridmoo import methods
>>> methods.names()
('hypernet', 'dymu')
>>> methods.get("dymu").default_objectives
('hv', 'cost')
"""

from __future__ import annotations

import importlib
from typing import Any, ClassVar

from hybridmoo.errors import ConfigError, UnknownNameError, did_you_mean

__all__ = ["TrialMethod", "get", "names", "register"]

#: name → "module:attribute" of the method object (imported on first use)
_REGISTRY: dict[str, str] = {
    "hypernet": "hybridmoo.methods.hypernet:HYPERNET",
    "dymu": "hybridmoo.methods.dymu:DYMU",
}
_LOADED: dict[str, TrialMethod] = {}


class TrialMethod:
    """What a study trial trains. Subclasses set the class attributes and the methods below."""

    #: the registry name (stored with every trial as ``TrialResult.method``)
    name: ClassVar[str] = ""
    #: one line for ``--help`` and error messages
    summary: ClassVar[str] = ""
    #: what its trials are called in messages ("hypernetwork trials")
    noun: ClassVar[str] = "user-defined"
    #: the [fixed.*] tables (and heads of searched paths) of its configuration
    tables: ClassVar[tuple[str, ...]] = ()
    #: the outer objectives used when a study file names none
    default_objectives: ClassVar[tuple[str, ...]] = ("hv",)
    #: whether a trial's stored weights are a :class:`~hybridmoo.hypernet.Hypernetwork`
    #: (``StudyData.hypernetwork`` rebuilds it; ``predict`` uses it)
    hypernetwork: ClassVar[bool] = False
    #: outer objectives only this method measures (others refuse them) → what they measure
    objectives: ClassVar[dict[str, str]] = {}

    def build_space(self, doc: dict, budget: dict, problem, where: str):
        """The :class:`~hybridmoo.space.SearchSpace` of this method's trial configurations from
        the study file ``doc`` (its ``[fixed.*]`` and ``[search]`` tables), every probe
        configuration checked.

        Raises:
            ConfigError: a table, path or value the method does not take, naming it.
        """
        raise NotImplementedError

    def check_tables(self, fixed: dict, where: str) -> None:
        """Every ``[fixed.<table>]`` is one of :attr:`tables`; a table of another method names
        that method, any other the closest of ours.

        Raises:
            ConfigError: naming the table, the method that takes it (if any) and ours.
        """
        ours = ", ".join(f"[fixed.{t}]" for t in self.tables)
        for table in fixed:
            if table in self.tables:
                continue
            owner = next((get(n) for n in names() if table in get(n).tables), None)
            if owner is not None:
                raise ConfigError(
                    f"[fixed.{table}] configures {owner.noun} trials: set study.method = "
                    f"\"{owner.name}\" (and search '{table}.…' paths), or remove it; a "
                    f"{self.noun} study (study.method = \"{self.name}\") takes its settings "
                    f"from {ours}")
            raise ConfigError(f"unknown key fixed.{table} in {where}."
                              f"{did_you_mean(str(table), list(self.tables))} Allowed keys in "
                              f"[fixed]: {', '.join(self.tables)}")

    def check_resources(self, *, gpus_per_trial: float, warm_start: str) -> None:
        """Refuse settings of ``[resources]`` / ``[algorithm]`` this method cannot honour."""

    def default_config(self) -> dict:
        """The method's default configuration (``{table: {...}}``), where ``[algorithm]
        initial = "defaults"`` reads a searched path's default; ``{}``: none known (the
        centre of each variable's range is used)."""
        return {}

    def trial_payload(self, spec, config: dict, seed: int,
                      warm: tuple[int, dict] | None = None) -> dict:
        """The backend's job for one trial of study ``spec`` (a
        :class:`~hybridmoo.studyfile.StudySpec`) with configuration ``config``; ``warm``:
        ``(source trial, its weights)`` for a warm start."""
        raise NotImplementedError

    def cap_seconds(self, payload: dict, seconds: float) -> dict | None:
        """``payload`` with its training set to ``seconds`` of training time (a study's
        ``time_limit`` hands each trial its share: at most its own budget, unless the study
        merges the budgets of trials that will not start, see
        :func:`~hybridmoo.study.timelimit.trial_time_share`); ``None``: this method's trials
        cannot be capped, and a time-limited study only stops starting them."""
        return None

    def run(self, payload: dict, cache: dict) -> Any:
        """Run one trial (on a worker); returns its :class:`~hybridmoo.record.TrialResult`,
        failed (with the reason) rather than raising."""
        raise NotImplementedError

    def architecture_key(self, config: dict) -> str | None:
        """Trials with equal keys have models of the same shapes (warm starts); ``None``: this
        method has no warm starts."""
        return None

    def front_columns(self, record, i: int) -> dict[str, Any]:
        """Method-specific columns of point ``i`` of a stored trial's front (exports)."""
        return {}

    def predict(self, data, trial_id: int, preference, **options) -> dict[str, Any]:
        """The solution of one preference from the stored trial ``trial_id`` of
        :class:`~hybridmoo.analysis.StudyData` ``data``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<trial method {self.name!r}>"


def names() -> tuple[str, ...]:
    """The built-in and registered method names (import paths used so far excluded)."""
    return tuple(k for k, v in _REGISTRY.items() if k != v)


def register(name: str, target: str) -> None:
    """Register a method object by import path ``"module:attribute"`` (loaded on first use)."""
    if ":" not in target:
        raise ValueError(f"register({name!r}, {target!r}): expected 'module:attribute'")
    _REGISTRY[name] = target
    _LOADED.pop(name, None)


def get(name: str) -> TrialMethod:
    """The method registered as ``name``, or the :class:`TrialMethod` a user's import path
    ``"package.module:attribute"`` names (an instance, or a class built without arguments);
    import paths register themselves on first use, in the driver and in every worker.

    Raises:
        UnknownNameError: an unregistered name (with the closest match and the allowed ones),
            or an import path whose module or attribute cannot be imported, or that does not
            name a TrialMethod.
    """
    if isinstance(name, str) and name in _LOADED:
        return _LOADED[name]
    if isinstance(name, str) and ":" in name and name not in _REGISTRY:
        _REGISTRY[name] = name
    if not isinstance(name, str) or name not in _REGISTRY:
        raise UnknownNameError(f"study.method = {name!r} is not allowed."
                               f"{did_you_mean(str(name), list(_REGISTRY))} Allowed: "
                               f"{', '.join(names())}, or a TrialMethod of your own as "
                               "'package.module:attribute'")
    module, _, attr = _REGISTRY[name].partition(":")
    try:
        obj = getattr(importlib.import_module(module), attr)
    except ImportError as exc:
        _forget(name)
        raise UnknownNameError(f"study.method = {name!r}: module {module!r} could not be "
                               f"imported ({type(exc).__name__}: {exc}); check the name and "
                               "that its folder is on sys.path (the study file's folder is)"
                               ) from None
    except AttributeError:
        _forget(name)
        raise UnknownNameError(f"study.method = {name!r}: module {module!r} has no attribute "
                               f"{attr!r}") from None
    method = obj() if isinstance(obj, type) and issubclass(obj, TrialMethod) else obj
    if not isinstance(method, TrialMethod):
        _forget(name)
        raise UnknownNameError(f"study.method = {name!r} names {type(obj).__name__} "
                               f"{obj!r}, not a hybridmoo.methods.TrialMethod (subclass it and "
                               "set name, tables, build_space, trial_payload and run)")
    _LOADED[name] = method
    return method


def _forget(name: str) -> None:
    if ":" in name and _REGISTRY.get(name) == name:
        del _REGISTRY[name]
