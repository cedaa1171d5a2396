"""Search spaces of the outer loop: named variables ↔ trial configurations.

A variable is addressed by a dotted path into the trial configuration, e.g. ``hypernet.width``,
``train.lr``, ``train.sampler.alpha`` or ``train.scalarization.name``, and has one of three
types:

- ``{type = "real", low, high, log = false}``
- ``{type = "int", low, high, log = false}``
- ``{type = "choice", values = [...]}``

**Encoding.** Every pymoo algorithm hybridmoo drives (NSGA-II, NSGA-III, MOEA/D, SMS-EMOA) sees
a real vector ``u ∈ [0, 1]^d``, one coordinate per variable, decoded explicitly:

- real: ``low + u·(high − low)`` (on a log scale when ``log``);
- int: ``⌊low + u·(high − low + 1)⌋`` clipped to ``[low, high]``, so every integer has an equal
  share of ``[0, 1]``; with ``log``, ``⌊exp(log low + u·(log(high + 1) − log low))⌋``, so integer
  ``k`` has a share proportional to ``log((k + 1)/k)``;
- choice: ``values[min(⌊u·n⌋, n − 1)]``, an equal share per value.

:meth:`SearchSpace.encode` maps a configuration back to the centre of its cell, so a decoded
configuration re-encodes to the same configuration.

**pymoo's variable types.** :meth:`SearchSpace.pymoo_vars` declares the same variables as
pymoo ``Real``/``Integer``/``Choice`` objects for algorithms that search mixed spaces natively
(``algorithm.name = "mixed"``: pymoo's ``MixedVariableGA`` with NSGA-II's rank-and-crowding
survival): a real variable is a ``Real`` (on log scale when ``log``), an integer an ``Integer``
(a log-scaled integer a ``Real`` over ``[log low, log(high + 1))``, floored), a choice a
``Choice`` over the value indices; :meth:`SearchSpace.from_pymoo` maps pymoo's values back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from hybridmoo._config import invalid, is_number, reject_unknown, show
from hybridmoo.errors import ConfigError, did_you_mean

__all__ = ["SearchSpace", "Variable", "set_path"]

_TYPES = ("real", "int", "choice")


@dataclass(frozen=True)
class Variable:
    """One searched variable (see the module docstring)."""

    path: str
    type: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    values: tuple | None = None

    @classmethod
    def from_spec(cls, path: str, spec: Mapping, where: str = "search") -> Variable:
        """Build from a study-file table, with errors naming the key."""
        key = f"{where}.{path}"
        if not isinstance(spec, Mapping):
            raise ConfigError(
                f"{key} = {spec!r}: a searched variable is a table such as "
                '{type = "real", low = 1e-4, high = 1e-2, log = true}'
            )
        t = spec.get("type")
        if t not in _TYPES:
            raise ConfigError(f"{key}.type = {t!r} is not allowed; allowed: {', '.join(_TYPES)}")
        allowed = {"real": {"type", "low", "high", "log"}, "int": {"type", "low", "high", "log"},
                   "choice": {"type", "values"}}[t]
        for k in spec:
            if k not in allowed:
                raise ConfigError(
                    f"{key}: unknown key {k!r} for a {t} variable; allowed: "
                    f"{', '.join(sorted(allowed))}"
                )
        if t == "choice":
            values = spec.get("values")
            if not isinstance(values, list | tuple) or len(values) < 1:
                raise ConfigError(f"{key}.values = {show(values)} is invalid: expected a "
                                  'non-empty list, e.g. values = ["tchebycheff", "linear"]')
            for i, v in enumerate(values):
                if any(v == w and type(v) is type(w) for w in values[:i]):
                    raise ConfigError(f"{key}.values = {show(values)} lists {show(v)} twice; "
                                      "each value once (a repeat would be drawn twice as often)")
            return cls(path, t, values=tuple(values))
        lo, hi = spec.get("low"), spec.get("high")
        for name, v in (("low", lo), ("high", hi)):
            if not is_number(v):
                raise ConfigError(f"{key}.{name} = {show(v)} is invalid: expected a finite number"
                                  + (f" (write it without quotes: {v})" if isinstance(v, str)
                                     else ""))
        if t == "int" and (int(lo) != lo or int(hi) != hi):
            raise ConfigError(f"{key}: low = {show(lo)} and high = {show(hi)} of an int variable "
                              "must be integers")
        if not lo < hi:
            raise ConfigError(f"{key}: low = {show(lo)} must be below high = {show(hi)} (for a "
                              "single value, set it under [fixed] instead)")
        log = spec.get("log", False)
        if not isinstance(log, bool):
            raise ConfigError(f"{key}.log = {show(log)} is invalid: expected true or false")
        if log and lo <= 0:
            raise ConfigError(f"{key}: log = true needs low > 0, got low = {show(lo)}")
        return cls(path, t, float(lo), float(hi), log)

    def probe_values(self) -> list:
        """The values validation tries: every value of a choice, the two ends of a range."""
        if self.type == "choice":
            return list(self.values)
        return [self.decode(0.0), self.decode(1.0)]

    def decode(self, u: float) -> Any:
        """Value of encoded coordinate ``u ∈ [0, 1]``."""
        u = min(max(float(u), 0.0), 1.0)
        if self.type == "choice":
            n = len(self.values)
            return self.values[min(int(u * n), n - 1)]
        if self.type == "real":  # 12 significant digits: encode/decode round trips exactly
            if self.log:
                x = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
            else:
                x = self.low + u * (self.high - self.low)
            return min(max(float(f"{x:.12g}"), self.low), self.high)
        if self.log:  # integer k owns [log k, log(k + 1)) of [log low, log(high + 1))
            lo, hi = math.log(self.low), math.log(self.high + 1)
            v = math.floor(math.exp(lo + u * (hi - lo)) + 1e-9)
        else:  # integer k owns [k − low, k − low + 1) / (high − low + 1)
            v = math.floor(self.low + u * (self.high - self.low + 1))
        return int(min(max(v, self.low), self.high))

    def encode(self, value: Any) -> float:
        """Encoded coordinate (the centre of the value's cell)."""
        if self.type == "choice":
            n = len(self.values)
            return (self.values.index(value) + 0.5) / n
        if self.type == "real":
            if self.log:
                return (math.log(value) - math.log(self.low)) / (math.log(self.high)
                                                                  - math.log(self.low))
            return (value - self.low) / (self.high - self.low)
        if self.log:
            lo, hi = math.log(self.low), math.log(self.high + 1)
            return ((math.log(value) + math.log(value + 1)) / 2 - lo) / (hi - lo)
        return (value - self.low + 0.5) / (self.high - self.low + 1)


def set_path(cfg: dict, path: str, value: Any) -> None:
    """Set ``cfg[a][b][c] = value`` for ``path = "a.b.c"``, creating tables on the way."""
    parts = path.split(".")
    node = cfg
    for p in parts[:-1]:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            raise ConfigError(f"cannot set {path}: {p} is not a table")
    node[parts[-1]] = value


def get_path(cfg: Mapping, path: str) -> Any:
    """``cfg[a][b][c]`` for ``path = "a.b.c"``, or ``None`` where a key is missing."""
    node: Any = cfg
    for p in path.split("."):
        if not isinstance(node, Mapping) or p not in node:
            return None
        node = node[p]
    return node


class SearchSpace:
    """An ordered set of :class:`Variable` s over a base (fixed) configuration.

    Args:
        variables: the searched variables.
        fixed: the configuration shared by every trial (``{"hypernet": {...}, "train": {...}}``);
            decoded values are written over it.
    """

    def __init__(self, variables: list[Variable], fixed: Mapping | None = None) -> None:
        if not variables:
            raise ConfigError("the search space is empty: add at least one table under [search]")
        self.variables = variables
        self.fixed = {k: dict(v) for k, v in (fixed or {}).items()}

    @property
    def n_var(self) -> int:
        """Number of searched variables (length of the encoded vector)."""
        return len(self.variables)

    def decode(self, u: np.ndarray) -> dict:
        """Configuration ``{"hypernet": {...}, "train": {...}}`` of encoded vector `(d,)`."""
        return self.config(self.values(np.asarray(u, dtype=float)))

    def values(self, u: np.ndarray) -> dict[str, Any]:
        """``{path: value}`` of the searched variables only."""
        return {v.path: v.decode(ui) for v, ui in zip(self.variables, u, strict=True)}

    def config(self, values: Mapping[str, Any]) -> dict:
        """Configuration of ``{path: value}``: the fixed settings with the values written in."""
        import copy

        cfg = copy.deepcopy(self.fixed)
        for var in self.variables:
            set_path(cfg, var.path, values[var.path])
        return cfg

    def probes(self, max_combinations: int = 256):
        """``(description, configuration)`` pairs that validation checks before a study runs.

        Every value of every variable (each choice value, both ends of each range) with the
        others at the centre of the space; the all-low and all-high corners; and, when there are
        at most ``max_combinations`` of them, every combination of the choice values. So a
        misspelled value anywhere in a choice list is found before any trial draws it.
        """
        import itertools

        def named(values: Mapping[str, Any]) -> str:
            return ", ".join(f"search.{k} = {show(v)}" for k, v in values.items())

        centre = self.values(np.full(self.n_var, 0.5))
        yield f"the centre of the search space ({named(centre)})", self.config(centre)
        for var in self.variables:
            for value in var.probe_values():
                yield f"search.{var.path} = {show(value)}", self.config({**centre,
                                                                           var.path: value})
        for end, u in (("low", 0.0), ("high", 1.0)):
            values = self.values(np.full(self.n_var, u))
            yield f"every searched value at its {end} end ({named(values)})", self.config(values)
        choices = [v for v in self.variables if v.type == "choice"]
        if len(choices) >= 2 and math.prod(len(v.values) for v in choices) <= max_combinations:
            for combo in itertools.product(*(v.values for v in choices)):
                values = dict(zip((v.path for v in choices), combo, strict=True))
                yield named(values), self.config({**centre, **values})

    def pymoo_vars(self) -> dict[str, Any]:
        """The variables as pymoo variable objects (see the module docstring)."""
        from pymoo.core.variable import Choice, Integer, Real

        out: dict[str, Any] = {}
        for v in self.variables:
            if v.type == "choice":
                out[v.path] = Choice(options=list(range(len(v.values))))
            elif v.type == "real":
                b = (math.log(v.low), math.log(v.high)) if v.log else (v.low, v.high)
                out[v.path] = Real(bounds=b)
            elif v.log:
                out[v.path] = Real(bounds=(math.log(v.low), math.log(v.high + 1)))
            else:
                out[v.path] = Integer(bounds=(int(v.low), int(v.high)))
        return out

    def from_pymoo(self, x: Mapping[str, Any]) -> dict[str, Any]:
        """``{path: value}`` of a pymoo mixed-variable solution (a dict)."""
        out: dict[str, Any] = {}
        for v in self.variables:
            raw = x[v.path]
            if v.type == "choice":
                out[v.path] = v.values[int(raw)]
            elif v.type == "real":
                real = float(f"{math.exp(raw) if v.log else float(raw):.12g}")
                out[v.path] = min(max(real, v.low), v.high)
            elif v.log:
                out[v.path] = int(min(max(math.floor(math.exp(raw) + 1e-9), v.low), v.high))
            else:
                out[v.path] = int(raw)
        return out

    def encode(self, values: Mapping[str, Any]) -> np.ndarray:
        """Encoded vector `(d,)` of ``{path: value}``."""
        return np.array([v.encode(values[v.path]) for v in self.variables])

    def to_pymoo(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The pymoo mixed-variable solution (a dict) of ``{path: value}``
        (the inverse of :meth:`from_pymoo`)."""
        out: dict[str, Any] = {}
        for v in self.variables:
            x = values[v.path]
            if v.type == "choice":
                out[v.path] = v.values.index(x)
            elif v.log:  # a log integer k owns [log k, log(k + 1))
                out[v.path] = math.log(x) if v.type == "real" else \
                    (math.log(x) + math.log(x + 1)) / 2
            else:
                out[v.path] = float(x) if v.type == "real" else int(x)
        return out

    def initial(self, entry: Any, defaults: Mapping, where: str, index: int) -> dict[str, Any]:
        """A full ``{path: value}`` from ``[algorithm] initial``'s entry ``entry``: ``"defaults"``
        or a table of searched paths → values; a path it does not set takes its value in
        ``defaults`` (the method's default configuration) clipped to the variable's range (a
        choice whose list lacks it: the first value), else the centre of the range.

        Raises:
            ConfigError: an entry that is not "defaults" or a table, a path not searched, a
                value outside its variable's range or list.
        """
        what = f"algorithm.initial[{index}] in {where}"
        if entry == "defaults":
            entry = {}
        if not isinstance(entry, Mapping):
            raise ConfigError(f"algorithm.initial[{index}] = {show(entry)} in {where} is "
                              'invalid: expected "defaults" or a table of searched values, '
                              'e.g. { "train.lr" = 0.003 }')
        by_path = {v.path: v for v in self.variables}
        for path, value in entry.items():
            if path not in by_path:
                raise ConfigError(f"{what} sets {path!r}, which is not searched; searched: "
                                  f"{', '.join(by_path)}")
            var = by_path[path]
            ok = value in var.values if var.type == "choice" else (
                isinstance(value, (int, float)) and not isinstance(value, bool)
                and var.low <= value <= var.high
                and (var.type == "real" or float(value).is_integer()))
            if not ok:
                allowed = (", ".join(map(show, var.values)) if var.type == "choice" else
                           f"{'an integer' if var.type == 'int' else 'a number'} in "
                           f"[{show(var.low)}, {show(var.high)}]")
                raise ConfigError(f"{what}: {path} = {show(value)} is outside the search "
                                  f"space; allowed: {allowed}")
        out: dict[str, Any] = {}
        for var in self.variables:
            if var.path in entry:
                out[var.path] = int(entry[var.path]) if var.type == "int" else entry[var.path]
                continue
            d = get_path(defaults, var.path)
            if var.type == "choice":
                out[var.path] = d if d in var.values else var.values[0]
            elif isinstance(d, (int, float)) and not isinstance(d, bool) and \
                    math.isfinite(float(d)):
                x = min(max(float(d), var.low), var.high)
                out[var.path] = x if var.type == "real" else int(round(x))
            else:
                out[var.path] = var.decode(0.5)
        return out


# ------------------------------------------------------------------ study-file helpers
# What a method's ``build_space`` uses to validate its ``[fixed.*]`` tables and ``[search]`` paths
# (hybridmoo.methods): every error names the key, the value, what is allowed and the file.
def flatten_search(table: dict, prefix: str = "") -> dict[str, dict]:
    """``[search]`` as ``{dotted path: variable spec}`` (nested tables joined by dots)."""
    out: dict[str, dict] = {}
    for k, v in table.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict) and "type" not in v:
            out.update(flatten_search(v, path + "."))
        else:
            out[path] = v
    return out


def check_fixed_table(table: str, d: Any, cls: type, where: str, extra: dict | None = None) -> dict:
    """``[fixed.<table>]``: every key a field of ``cls`` (or of ``extra``), every value of the
    field's type; errors name the table and the file."""
    import dataclasses

    from hybridmoo._config import check_field_value

    if not isinstance(d, dict):
        raise invalid(f"fixed.{table}", d, "a table", where)
    names = [f.name for f in dataclasses.fields(cls)] + list(extra or {})
    reject_unknown(d, names, table, where, f"[fixed.{table}]")
    for key, value in d.items():
        if key not in (extra or {}):
            check_field_value(cls, key, value, f"fixed.{table}.{key}", where)
    return dict(d)


def check_search_path(vpath: str, cls: type, head: str, where: str, extra: tuple = ()) -> None:
    """The field a searched path writes exists (``train.n_pref`` is caught here)."""
    import dataclasses

    names = [f.name for f in dataclasses.fields(cls)] + list(extra)
    field_ = vpath.split(".")[1]
    if field_ not in names:
        raise ConfigError(
            f"unknown {head} option {field_!r} in search.\"{vpath}\" of {where}."
            f"{did_you_mean(field_, names)} Allowed after '{head}.': {', '.join(sorted(names))}"
        )


def probe_space(space: SearchSpace, where: str, check) -> None:
    """Run ``check(cfg)`` on every probe configuration of ``space`` (every choice value, both
    ends of every range, the corners); the first failure names the searched value behind it."""
    for desc, cfg in space.probes():
        try:
            check(cfg)
        except (ConfigError, TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: {desc} gives an invalid trial configuration: {exc}"
                              ) from None
