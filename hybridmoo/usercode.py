"""Making the user's own code (problems named by import path) reachable where it runs.

A study or comparison file may name ``[problem] name = "my_module:make_problem"``. The driver
imports it with the file's own folder on ``sys.path``; Ray workers get it through Ray's
``runtime_env`` (``working_dir`` uploads a folder to every worker and puts it on their path;
``py_modules`` ships packages). ``[resources] runtime_env`` is passed to Ray as written;
when a problem is named by import path and no ``runtime_env`` is given, it defaults to
``{"working_dir": <the file's folder>}`` (``--working-dir DIR`` on the command line overrides
the folder). Ray limits a working_dir to 100 MiB by default: keep data out of it, or list it in
``runtime_env.excludes``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hybridmoo.errors import ConfigError

__all__ = ["RUNTIME_ENV_KEYS", "add_import_folder", "user_runtime_env"]

#: runtime_env fields hybridmoo passes on (Ray's own names)
RUNTIME_ENV_KEYS = ("working_dir", "py_modules", "pip", "env_vars", "excludes", "conda")


def add_import_folder(folder: str | Path) -> None:
    """Put ``folder`` first on ``sys.path`` (once), so that the driver imports user modules."""
    folder = str(Path(folder).resolve())
    if folder not in sys.path:
        sys.path.insert(0, folder)


def user_runtime_env(value: Any, problem_name: Any, base_dir: str | Path,
                     working_dir: str | Path | None = None) -> dict | None:
    """The Ray ``runtime_env`` of a study or comparison (``None``: nothing to ship).

    Args:
        value: ``[resources] runtime_env`` as read from the file (a table or ``None``).
        problem_name: ``[problem] name``; an import path turns on the default working_dir.
        base_dir: the file's folder (relative paths in ``value`` are resolved against it).
        working_dir: ``--working-dir`` from the command line (overrides ``working_dir``).

    Raises:
        ConfigError: ``value`` is not a table, has an unknown key, or names a missing folder.
    """
    base = Path(base_dir).resolve()
    if value is None:
        env: dict = {}
    elif not isinstance(value, dict):
        raise ConfigError(f"resources.runtime_env = {value!r} is invalid: expected a table of "
                          f"Ray runtime_env fields ({', '.join(RUNTIME_ENV_KEYS)}), e.g. "
                          'runtime_env = { working_dir = "." }')
    else:
        env = dict(value)
        for key in env:
            if key not in RUNTIME_ENV_KEYS:
                from hybridmoo.errors import did_you_mean

                raise ConfigError(f"resources.runtime_env.{key} is not a runtime_env field "
                                  f"hybridmoo passes to Ray.{did_you_mean(key, RUNTIME_ENV_KEYS)}"
                                  f" Allowed: {', '.join(RUNTIME_ENV_KEYS)}")
    if working_dir is not None:
        env["working_dir"] = str(working_dir)
    elif "working_dir" not in env and isinstance(problem_name, str) and ":" in problem_name:
        env["working_dir"] = str(base)
    if "working_dir" in env:
        wd = Path(env["working_dir"])
        wd = wd if wd.is_absolute() else base / wd
        if not wd.is_dir():
            raise ConfigError(f"resources.runtime_env.working_dir = {env['working_dir']!r}: "
                              f"{wd} is not a folder; point it at the folder that holds your "
                              "problem's module (relative paths start at the study file).")
        env["working_dir"] = str(wd.resolve())
    if "py_modules" in env:
        mods = env["py_modules"]
        if not isinstance(mods, list) or not all(isinstance(m, str) for m in mods):
            raise ConfigError(f"resources.runtime_env.py_modules = {mods!r} is invalid: "
                              "expected a list of paths to packages or modules.")
        env["py_modules"] = [str((base / m).resolve()) if not Path(m).is_absolute() and
                             (base / m).exists() else m for m in mods]
    return env or None
