"""The tables study files and compare files share: one loader for each.

Both kinds of file (:mod:`hybridmoo.studyfile`, :mod:`hybridmoo.compare`) are TOML with a schema
of tables and keys, a ``[problem]`` table (a registered name or a user's import path, with
``options``) and a ``[budget]`` table. The same validation reads them, so an error reads the same
in both: it names the key, the value, what is allowed and the file.

**Budgets.** A study's ``[budget]`` limits every trial, with any of ``steps``, ``seconds``,
``epochs`` and ``evaluations`` (a trial stops at the first limit reached). A comparison's
``[budget]`` limits every run with exactly one limit, written either way: ``seconds = 60`` or
``kind = "seconds"`` and ``amount = 60`` (the older form). Both become a
:class:`~hybridmoo.record.Budget`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hybridmoo._config import check_int, check_number, invalid, show
from hybridmoo.errors import ConfigError, did_you_mean
from hybridmoo.record import BUDGET_KINDS, Budget

__all__ = ["MAX_BUDGET", "check_schema", "load_budget", "load_problem"]

#: upper bounds that catch a slip of the keyboard (a budget of 10^30 steps never ends)
MAX_BUDGET = {"steps": 10**9, "seconds": 10**7, "epochs": 10**6, "evaluations": 10**12}
_WHAT = {"steps": "gradient steps", "seconds": "seconds", "epochs": "epochs",
         "evaluations": "true function evaluations"}


def check_schema(doc: dict, schema: dict[str, set[str]], required: tuple[str, ...], where: str,
                 *, arrays: tuple[str, ...] = ()) -> None:
    """Every table of ``doc`` is in ``schema`` and holds only its keys (an empty key set: free
    form); ``arrays`` are arrays of tables (``[[methods]]``); every ``required`` table exists.

    Raises:
        ConfigError: an unknown table or key (with the closest match), a table that is not a
            table, or a missing required table.
    """
    for table, value in doc.items():
        if table not in schema:
            raise ConfigError(f"unknown table [{table}] in {where}."
                              f"{did_you_mean(table, list(schema))} Allowed tables: "
                              f"{', '.join(schema)}")
        if table in arrays and not isinstance(value, list):
            raise ConfigError(f"{where}: {table} must be an array of tables: [[{table}]] "
                              "name = ...")
        for row in value if table in arrays else [value]:
            if not isinstance(row, dict):
                bracket = f"[[{table}]]" if table in arrays else f"[{table}]"
                raise invalid(table, row, f"a table ({bracket} with its keys below it)", where)
            if not schema[table]:
                continue
            for key in row:
                if key not in schema[table]:
                    raise ConfigError(
                        f"unknown key {table}.{key} in {where}."
                        f"{did_you_mean(key, sorted(schema[table]))} Allowed keys in "
                        f"[{table}]: {', '.join(sorted(schema[table]))}")
    for table in required:
        if table not in doc:
            raise ConfigError(f"{where} has no [{table}] table; it is required")


def load_problem(table: dict, base_dir: str | Path, where: str) -> tuple[str, dict, Any]:
    """``[problem]``: ``name`` (registered, or ``"package.module:factory"`` importable from the
    file's folder, which goes on ``sys.path``) and ``options`` (keyword arguments).

    Returns:
        ``(name, options, problem)`` with the problem built once to check it.

    Raises:
        ConfigError: a name or options of the wrong type, an unknown problem or option, an
            import path that does not import, or a factory that fails.
    """
    from hybridmoo import problems
    from hybridmoo.usercode import add_import_folder

    name = table.get("name")
    if isinstance(name, bool) or not isinstance(name, str):
        raise invalid("problem.name", name, "a problem name (see `hybridmoo problems`)", where)
    options = table.get("options", {})
    if not isinstance(options, dict):
        raise invalid("problem.options", options, "a table of problem options", where)
    if problems.registry.is_import_path(name):
        add_import_folder(base_dir)
    try:
        problem = problems.get(name, **options)
    except Exception as exc:  # unknown name or option, bad option value, a failing factory
        raise ConfigError(f"problem: {exc}") from None
    return name, dict(options), problem


def _limit(key: str, value: Any, where: str, per: str) -> None:
    top = MAX_BUDGET[key]
    if key in ("steps", "evaluations"):
        check_int(f"budget.{key}", value, 1, top, where, f" ({_WHAT[key]} per {per})")
    else:
        check_number(f"budget.{key}", value, 0, top, low_open=True, where=where,
                     what=f" ({key} per {per})")


def load_budget(table: dict, where: str, *, single: bool = False,
                kinds: tuple[str, ...] = BUDGET_KINDS) -> Budget:
    """``[budget]`` as a :class:`~hybridmoo.record.Budget`.

    Args:
        table: the table as read. where: the file, for messages.
        single: a comparison's budget (one limit per run, also as ``kind``/``amount``);
            otherwise a study's (any limits per trial).
        kinds: the kinds allowed (a comparison's runs count seconds, steps and evaluations).

    Raises:
        ConfigError: an empty table, an unknown kind, a limit that is not a finite number > 0
            (an integer for steps and evaluations) or above :data:`MAX_BUDGET`, or several
            limits where one is expected.
    """
    per = "run" if single else "trial"
    if not table:
        raise ConfigError(f"[budget] in {where} is empty: set steps, seconds or epochs per "
                          f"{per}, e.g. steps = 600")
    if "kind" in table or "amount" in table:
        kind = table.get("kind")
        if kind not in kinds:
            raise ConfigError(f"{where}: budget.kind = {show(kind)} is not allowed."
                              f"{did_you_mean(str(kind), kinds)} Allowed: {', '.join(kinds)}")
        extra = [k for k in table if k not in ("kind", "amount")]
        if extra:
            raise ConfigError(f"{where}: [budget] gives kind/amount and {extra[0]}; write one "
                              f"limit, e.g. {kind} = {show(table.get('amount'))}")
        amount = table.get("amount")
        if kind == "seconds":
            check_number("budget.amount", amount, 0, MAX_BUDGET[kind], low_open=True,
                         where=where, what=f" (seconds per {per})")
        else:
            check_int("budget.amount", amount, 1, MAX_BUDGET[kind], where,
                      f" ({kind} per {per})")
        return Budget(kind, amount)
    for key, value in table.items():
        if key not in kinds:
            raise ConfigError(f"unknown key budget.{key} in {where}."
                              f"{did_you_mean(str(key), kinds)} Allowed: {', '.join(kinds)}")
        _limit(key, value, where, per)
    if single and len(table) != 1:
        raise ConfigError(f"{where}: [budget] sets {', '.join(table)}; a comparison gives every "
                          "run one limit, e.g. seconds = 60")
    return Budget(**table)
