"""Study files (TOML): parsing and whole-file validation before anything runs.

A study file has these tables (unknown tables and keys are errors — a typo is never ignored):

.. code-block:: toml

    [study]
    name = "quickstart"           # free text
    seed = 0                       # seeds the outer algorithm and every trial
    output = "quickstart.h5"       # the HDF5 study file (relative to the study file)
    method = "hypernet"            # what a trial trains: "hypernet" or "dymu" (see below)
    time_limit = 3600              # optional: wall-clock seconds for the whole study (see below)

    [problem]
    name = "zdt2"
    options = { n_var = 30 }

    [objectives]
    names = ["hv", "n_params"]     # see OBJECTIVES

    [algorithm]
    name = "nsga2"                 # nsga2, nsga3, moead, smsemoa, mixed
    pop_size = 8
    generations = 4
    options = {}                   # passed to the pymoo algorithm's constructor
    warm_start = "none"            # "nearest": a trial starts from the weights of the nearest
                                   # earlier trial (search space distance) with the same
                                   # architecture whose weights are kept (see keep_weights)
    schedule = "none"              # "asha": multi-fidelity trials (see below)
    initial = []                   # "defaults" and/or tables of searched values: generation 0
                                   # starts with these configurations (the rest at random)
    inherit = "none"               # "pbt" (with schedule = "asha"): a trial stopped at a rung
                                   # hands its worker to a mutated copy of a better trial that
                                   # continues that trial's weights (population-based training)


    [budget]                       # per trial; the first reached ends the trial
    steps = 600                    # and/or seconds = ..., epochs = ...

    [resources]
    cpus_per_trial = 1             # fractions allowed
    gpus_per_trial = 0             # fractions allowed
    workers = "auto"               # number of trainer actors, or "auto"
    retries = 1                    # reruns of a failed trial
    keep_weights = "front"         # "front" (outer Pareto front), "all" or "none"

    [fixed.hypernet]               # fixed choices, as in HypernetConfig
    depth = 2
    [fixed.train]                  # fixed choices, as in TrainConfig
    n_prefs = 8

    [search]                       # searched choices, by dotted path
    "hypernet.width" = { type = "int", low = 16, high = 256, log = true }
    "train.lr" = { type = "real", low = 1e-4, high = 1e-2, log = true }
    "train.scalarization.name" = { type = "choice", values = ["tchebycheff", "linear"] }

**Multi-fidelity studies** (``[algorithm] schedule = "asha"``,
:mod:`hybridmoo.study.multifidelity`):
every new configuration trains ``min_budget`` train steps (the first rung); the best 1/``eta`` of
a rung (non-dominated rank, then crowding, of the outer objectives) continue from their own
saved state to the next rung (``min_budget·eta^k`` steps, then ``max_budget``); the others stop.
The budget is in **train steps**: ``[budget]`` holds ``steps`` only, and ``max_budget`` (default
``budget.steps``) must equal it. ``min_budget`` is required, ``eta`` defaults to 3. The
trials' cosine schedule spans ``max_budget`` steps (``train.lr_horizon``), so a stopped trial has
taken the first steps of the full run. Or in **training seconds**: ``[budget]`` holds
``seconds`` only and the rungs are training seconds (``min_budget = 2.5``); each rung's run
then anneals its learning rate to the rung's end and a promoted trial continues from there
with the cosine restarted at the point the longer budget puts it (``½(1 + cos(π·b_k/b_{k+1}))``
of the peak: warm restarts), so that a stopped trial's front is that of an annealed network::

    [algorithm]
    schedule = "asha"
    min_budget = 100               # train steps of the first rung
    max_budget = 900               # train steps of the last rung (= budget.steps)
    eta = 3                        # the best 1/eta of a rung are promoted
    [budget]
    steps = 900

**A time limit** (``[study] time_limit``, wall-clock seconds; with ``schedule = "asha"`` see
:mod:`hybridmoo.study.multifidelity`): a study
hands out its trials one per free worker, each capped at its fair share of the time left
(the time left, times the workers, over the trials not yet started, less the set-up and
evaluation time finished trials took), but never below half of ``budget.seconds``. When the
next trial would not get that half (or, with a budget in steps or epochs, would not finish on
the time earlier trials took), no further trial starts: the running ones finish, the study
ends with what it has (its file's ``stopped`` attribute says why) and pymoo is not told the
incomplete generation. On resume the limit counts again from the resumed run's start.

**DYMU studies** (``method = "dymu"``): every trial trains a DYMU controller
(:func:`hybridmoo.dymu.train_dymu`: anchor streams, edge and weight hypernetworks) on a
multi-task problem and is judged at its resource preference ``dymu.c``. ``[fixed.dymu]`` and
the ``"dymu.…"`` search paths take the :class:`~hybridmoo.dymu.DymuConfig` fields and two trial
keys: ``c`` (the resource preference in [0, 1] the objectives are measured at; default 0) and
``stage_fractions`` (the shares of ``[budget]`` of the three stages; default [0.4, 0.4, 0.2]).
``[budget]`` sets the stage lengths, so the stage step counts and ``stage_seconds`` are not
allowed in ``[fixed.dymu]``. The objectives ``cost`` (active-parameter ratio) and ``flops``
(FLOPs per example) make the resource an outer objective users can trade against ``hv``::

    [study]
    method = "dymu"
    [objectives]
    names = ["hv", "cost"]
    [search]
    "dymu.c" = { type = "real", low = 0.0, high = 1.0 }
    "dymu.lambda_active" = { type = "real", low = 0.05, high = 2.0, log = true }
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hybridmoo import methods
from hybridmoo._config import (
    MAX_SEED,
    check_int,
    check_number,
    invalid,
    read_toml,
    show,
)
from hybridmoo.errors import ConfigError, UnknownNameError, did_you_mean
from hybridmoo.filetables import MAX_BUDGET, check_schema, load_budget, load_problem
from hybridmoo.space import SearchSpace
from hybridmoo.usercode import add_import_folder, user_runtime_env

__all__ = ["ALGORITHMS", "METHODS", "OBJECTIVES", "StudySpec", "load_study"]

#: outer objective → (direction, description). All are turned into minimisation for pymoo.
OBJECTIVES: dict[str, tuple[str, str]] = {
    "hv": ("max", "hypervolume of the learned front on held-out evaluation"),
    "n_params": ("min", "number of hypernetwork parameters"),
    "train_time": ("min", "training wall time (s)"),
    "latency": ("min", "generation latency per preference (ms)"),
    "igd": ("min", "IGD to the reference front (needs one)"),
    "hv_auc": ("max", "area under the normalised HV trace (anytime performance)"),
    "uniformity": ("max", "mean 1 − KL(L̂ ‖ 1/m) of the front, L̂_i ∝ λ_i·f_i (PHN, DYMU; "
                   "for positive losses: values ≤ 0 are clipped to 1e-12)"),
    "cost": ("min", "DYMU: mean active-parameter ratio of the trees at the trial's c"),
    "flops": ("min", "DYMU: mean FLOPs per example of the trees at the trial's c"),
}
ALGORITHMS = ("nsga2", "nsga3", "moead", "smsemoa", "mixed")
#: the [algorithm] options each algorithm takes (what TOML can express), and what each allows
ALGORITHM_OPTIONS: dict[str, dict[str, str]] = {
    "nsga2": {"eliminate_duplicates": "bool", "n_offsprings": "int", "variation": "variation"},
    "nsga3": {"eliminate_duplicates": "bool", "n_offsprings": "int", "n_partitions": "int",
              "variation": "variation"},
    "smsemoa": {"eliminate_duplicates": "bool", "n_offsprings": "int", "normalize": "bool",
                "variation": "variation"},
    "mixed": {"n_offsprings": "int"},
    "moead": {"n_partitions": "int", "n_neighbors": "int", "prob_neighbor_mating": "prob"},
}
#: the variation operators of nsga2/nsga3/smsemoa (``[algorithm] options.variation``)
VARIATIONS = ("pymoo", "explore")
#: upper bounds that catch a slip of the keyboard (a study of 10^30 trials never ends)
MAX_POP, MAX_GENERATIONS = 100_000, 100_000
WARM_STARTS = ("none", "nearest")
#: the trial methods (hybridmoo.methods): what one trial trains
METHODS = methods.names()

_SCHEMA: dict[str, set[str]] = {
    "study": {"name", "seed", "output", "description", "method", "time_limit"},
    "problem": {"name", "options"},
    "objectives": {"names"},
    "algorithm": {"name", "pop_size", "generations", "options", "warm_start", "schedule",
                  "min_budget", "max_budget", "eta", "inherit", "initial"},
    "budget": {"steps", "seconds", "epochs", "evaluations"},
    "resources": {"cpus_per_trial", "gpus_per_trial", "workers", "retries", "keep_weights",
                  "runtime_env",
                  "threads_per_trial"},
    "fixed": set(),  # the trial method's tables (TrialMethod.check_tables)
    "search": set(),  # free-form dotted paths
}
_REQUIRED = ("study", "problem", "algorithm", "budget", "search")


@dataclass
class StudySpec:
    """A validated study file."""

    path: Path | None
    text: str
    name: str
    seed: int
    output: Path
    problem: str
    problem_options: dict
    objectives: list[str]
    algorithm: str
    pop_size: int
    generations: int
    algorithm_options: dict
    budget: dict
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    workers: int | str = "auto"
    retries: int = 1
    keep_weights: str = "front"
    threads_per_trial: int | None = None
    warm_start: str = "none"
    space: SearchSpace = field(default=None)  # type: ignore[assignment]
    method: str = "hypernet"
    runtime_env: dict | None = None
    schedule: str = "none"
    asha: dict | None = None  # {"min_budget", "max_budget", "eta"[, "unit"]}: schedule = "asha"
    inherit: str = "none"  # "pbt": exploit and explore at the rungs (schedule = "asha")
    initial: list = field(default_factory=list)  # [{path: value}]: generation 0's first trials
    time_limit: float | None = None  # wall-clock seconds of the whole study

    @property
    def trial_method(self) -> methods.TrialMethod:
        """The :class:`~hybridmoo.methods.TrialMethod` behind :attr:`method`."""
        return methods.get(self.method)

    @property
    def n_trials(self) -> int:
        """Trials the study runs (population × generations)."""
        return self.pop_size * self.generations


def _owned(objective: str) -> bool:
    """Whether only some trial methods measure ``objective``."""
    return any(objective in methods.get(n).objectives for n in METHODS)


def _check_type(key: str, value: Any, types: tuple, allowed: str, where: str = "") -> None:
    if isinstance(value, bool) and bool not in types:
        raise invalid(key, value, allowed, where)
    if not isinstance(value, types):
        raise invalid(key, value, allowed, where)


def load_study(path: str | Path | None = None, *, text: str | None = None) -> StudySpec:
    """Read and validate a study file; every error names the key, the value and what is allowed.

    Args:
        path: the TOML file. text: its content (instead of, or besides, ``path``).

    Raises:
        ConfigError: on any invalid or unknown key, or a missing required table.
    """
    from hybridmoo import problems

    text, doc, where = read_toml(path, text, "study file")
    check_schema(doc, _SCHEMA, _REQUIRED, where)
    st = doc["study"]
    seed = check_int("study.seed", st.get("seed", 0), 0, MAX_SEED, where)
    for k in ("name", "description"):
        if k in st:
            _check_type(f"study.{k}", st[k], (str,), "a string", where)
    output = st.get("output")
    if output is None:
        raise ConfigError(f"{where} has no study.output: set the HDF5 file the study writes, "
                          'e.g. output = "study.h5" (relative to the study file)')
    _check_type("study.output", output, (str,), "a file name such as \"study.h5\"", where)
    if not output.strip():
        raise invalid("study.output", output, 'a file name such as "study.h5"', where)
    base_dir = Path(path).parent if path else Path.cwd()
    out_path = Path(output)
    if not out_path.is_absolute():
        out_path = (base_dir / out_path).resolve()

    pname, popts, problem = load_problem(doc["problem"], base_dir, where)

    method = st.get("method", "hypernet")
    if problems.registry.is_import_path(method):  # a TrialMethod of the user's own
        add_import_folder(base_dir)
    try:
        trial_method = methods.get(method)
    except UnknownNameError as exc:
        raise ConfigError(str(exc)) from None
    obj = doc.get("objectives", {}).get("names", list(trial_method.default_objectives))
    _check_type("objectives.names", obj, (list,), f"a list of: {', '.join(OBJECTIVES)}")
    if len(obj) < 1:
        raise ConfigError("objectives.names is empty; e.g. names = [\"hv\", \"n_params\"]")
    for o in obj:
        if o not in OBJECTIVES:
            raise ConfigError(
                f"objectives.names: unknown objective {o!r}."
                f"{did_you_mean(str(o), list(OBJECTIVES))} Allowed: {', '.join(OBJECTIVES)}"
            )
    if "igd" in obj and not problem.has_pareto_front:
        raise ConfigError(f"objectives.names: 'igd' needs a reference front; {pname} has none")
    if len(set(obj)) != len(obj):
        raise ConfigError(f"objectives.names = {obj} repeats an objective")
    for o in obj:
        owners = [n for n in METHODS if o in methods.get(n).objectives]
        if owners and method not in owners:
            raise ConfigError(
                f"objectives.names: {o!r} measures {methods.get(owners[0]).objectives[o]}; set "
                f"study.method = \"{owners[0]}\" (a {method} trial has "
                f"{', '.join(k for k in OBJECTIVES if not _owned(k))} instead)")

    al = doc["algorithm"]
    aname = str(al.get("name", "nsga2")).lower()
    if aname not in ALGORITHMS:
        raise ConfigError(
            f"algorithm.name = {al.get('name')!r} is not allowed.{did_you_mean(aname, ALGORITHMS)}"
            f" Allowed: {', '.join(ALGORITHMS)}"
        )
    pop = check_int("algorithm.pop_size", al.get("pop_size", 8), 2, MAX_POP, where)
    gens = check_int("algorithm.generations", al.get("generations", 4), 1, MAX_GENERATIONS,
                     where)
    aopts = al.get("options", {})
    _check_type("algorithm.options", aopts, (dict,), "a table of pymoo options", where)
    _check_algorithm_options(aname, aopts, where)
    if aname in ("nsga3", "moead") and len(obj) < 2:
        raise ConfigError(f"algorithm {aname} needs at least two objectives")

    budget = load_budget(doc["budget"], where).to_dict()

    res = doc.get("resources", {})
    cpus = check_number("resources.cpus_per_trial", res.get("cpus_per_trial", 1), 0, 1024,
                        low_open=True, where=where, what=" (fractions ok, e.g. 0.5)")
    gpus = check_number("resources.gpus_per_trial", res.get("gpus_per_trial", 0), 0, 64,
                        where=where, what=" (fractions ok, e.g. 0.25)")
    workers = res.get("workers", "auto")
    if workers != "auto":
        check_int("resources.workers", workers, 1, 100_000, where, ' or "auto"')
    retries = check_int("resources.retries", res.get("retries", 1), 0, 100, where)
    user_code = next((n for n in (pname, method) if problems.registry.is_import_path(n)), pname)
    runtime_env = user_runtime_env(res.get("runtime_env"), user_code, base_dir)
    keep = res.get("keep_weights", "front")
    if keep not in ("front", "all", "none"):
        raise ConfigError(f"{where}: resources.keep_weights = {keep!r} is not allowed."
                          f"{did_you_mean(str(keep), ['front', 'all', 'none'])} Allowed: "
                          "front, all, none")
    warm = al.get("warm_start", "none")
    if warm not in WARM_STARTS:
        raise ConfigError(
            f"algorithm.warm_start = {warm!r} is not allowed."
            f"{did_you_mean(str(warm), WARM_STARTS)} Allowed: {', '.join(WARM_STARTS)}"
        )
    if warm != "none" and keep == "none":
        raise ConfigError('algorithm.warm_start = "nearest" needs kept weights: set '
                          'resources.keep_weights = "front" or "all"')
    threads = res.get("threads_per_trial")
    if threads is not None:
        check_int("resources.threads_per_trial", threads, 1, 1024, where)

    trial_method.check_resources(gpus_per_trial=gpus, warm_start=warm)
    trial_method.check_tables(doc.get("fixed", {}), where)
    space = trial_method.build_space(doc, budget, problem, where)
    schedule, asha = _check_schedule(al, budget, trial_method, warm, doc, where)
    time_limit = _check_time_limit(st, where)
    inherit = _check_inherit(al, schedule, where)
    initial = _check_initial(al.get("initial", []), space, trial_method, pop, where)
    return StudySpec(
        path=Path(path) if path else None, text=text, name=str(st.get("name", "study")),
        seed=seed, output=out_path, problem=pname, problem_options=dict(popts), objectives=obj,
        algorithm=aname, pop_size=pop, generations=gens, algorithm_options=dict(aopts),
        budget=dict(budget), cpus_per_trial=float(cpus), gpus_per_trial=float(gpus),
        workers=workers, retries=retries, keep_weights=keep, threads_per_trial=threads,
        warm_start=warm, space=space, method=method, runtime_env=runtime_env,
        schedule=schedule, asha=asha, inherit=inherit, initial=initial, time_limit=time_limit,
    )


def _check_time_limit(st: dict, where: str) -> float | None:
    """``[study] time_limit``: wall-clock seconds for the whole study."""
    if "time_limit" not in st:
        return None
    limit = check_number("study.time_limit", st["time_limit"], 0, 10**9, low_open=True,
                         where=where, what=" (wall-clock seconds, e.g. 3600)")
    return float(limit)


SCHEDULES = ("none", "asha")
INHERITS = ("none", "pbt")


def _check_initial(value, space, trial_method, pop: int, where: str) -> list[dict]:
    """``[algorithm] initial``: configurations generation 0 starts with (``"defaults"``, or a
    list of ``"defaults"`` / tables of searched values), as full ``{path: value}``."""
    entries = [value] if isinstance(value, (str, dict)) else value
    if not isinstance(entries, list):
        raise ConfigError(f"algorithm.initial = {value!r} in {where} is invalid: expected "
                          '"defaults" or a list of tables of searched values, e.g. initial = '
                          '["defaults", { "train.lr" = 0.003 }]')
    if len(entries) > pop:
        raise ConfigError(f"algorithm.initial in {where} lists {len(entries)} configurations, "
                          f"more than algorithm.pop_size = {pop}: remove some or raise pop_size")
    defaults = trial_method.default_config()
    return [space.initial(e, defaults, where, i) for i, e in enumerate(entries)]


def _check_inherit(al: dict, schedule: str, where: str) -> str:
    """``[algorithm] inherit``: ``"pbt"`` needs the multi-fidelity schedule's rungs."""
    inherit = al.get("inherit", "none")
    if inherit not in INHERITS:
        raise ConfigError(f"algorithm.inherit = {inherit!r} in {where} is not allowed."
                          f"{did_you_mean(str(inherit), INHERITS)} Allowed: "
                          f"{', '.join(INHERITS)}")
    if inherit == "pbt" and schedule != "asha":
        raise ConfigError(f'algorithm.inherit = "pbt" in {where} hands a stopped trial\'s worker '
                          "to a better trial at a rung, and rungs come from the multi-fidelity "
                          'schedule: set algorithm.schedule = "asha" (with min_budget), or '
                          "remove inherit")
    return inherit


def _check_schedule(al: dict, budget: dict, trial_method, warm: str, doc: dict, where: str
                    ) -> tuple[str, dict | None]:
    """``[algorithm] schedule``, ``min_budget``, ``max_budget``, ``eta`` (train steps)."""
    from hybridmoo.methods.hypernet import HypernetMethod
    from hybridmoo.scheduler import rung_budgets

    schedule = al.get("schedule", "none")
    keys = [k for k in ("min_budget", "max_budget", "eta") if k in al]
    if schedule not in SCHEDULES:
        raise ConfigError(f"algorithm.schedule = {schedule!r} is not allowed."
                          f"{did_you_mean(str(schedule), SCHEDULES)} Allowed: "
                          f"{', '.join(SCHEDULES)}")
    if schedule == "none":
        if keys:
            raise ConfigError(f"algorithm.{keys[0]} in {where} configures a multi-fidelity "
                              'schedule: set algorithm.schedule = "asha", or remove it')
        return schedule, None
    if not isinstance(trial_method, HypernetMethod):  # continuation needs the Trainer's state
        raise ConfigError(f'algorithm.schedule = "asha" continues hypernetwork trials; a '
                          f'{trial_method.name} study (study.method = "{trial_method.name}") '
                          "cannot: remove schedule")
    unit = "seconds" if "seconds" in budget else "steps"
    if set(budget) != {unit}:
        other = sorted(set(budget) - {unit})
        raise ConfigError(
            f'algorithm.schedule = "asha" measures budgets in train steps or training seconds: '
            f"[budget] in {where} must hold steps only or seconds only (the maximum budget), "
            f"not {', '.join(other) or 'nothing'}")
    if warm != "none":
        raise ConfigError('algorithm.warm_start = "nearest" and schedule = "asha" do not combine '
                          "yet (a promoted trial continues from its own state): remove one")
    if "min_budget" not in al:
        raise ConfigError(f'algorithm.schedule = "asha" in {where} needs min_budget: the train '
                          f"{unit} of the first rung, e.g. min_budget = "
                          f"{100 if unit == 'steps' else 5.0}")
    if unit == "steps":
        lo = check_int("algorithm.min_budget", al["min_budget"], 1, MAX_BUDGET["steps"], where,
                       " (train steps of the first rung)")
        hi = check_int("algorithm.max_budget", al.get("max_budget", budget["steps"]), 1,
                       MAX_BUDGET["steps"], where, " (train steps of the last rung)")
    else:
        lo, hi = (float(check_number(f"algorithm.{k}", v, 0, MAX_BUDGET["seconds"],
                                     low_open=True, where=where,
                                     what=f" (training seconds of the {which} rung)"))
                  for k, v, which in (("min_budget", al["min_budget"], "first"),
                                      ("max_budget", al.get("max_budget", budget["seconds"]),
                                       "last")))
    if hi != budget[unit]:
        raise ConfigError(f"algorithm.max_budget = {hi} differs from budget.{unit} = "
                          f"{budget[unit]}: they are the same thing (a finished trial's train "
                          f"{unit}); remove max_budget or make them equal")
    eta = check_number("algorithm.eta", al.get("eta", 3), 1, 1000, low_open=True, where=where,
                       what=" (the reduction factor, typically 3)")
    if lo > hi:
        raise ConfigError(f"algorithm.min_budget = {lo} exceeds max_budget = {hi} train "
                          f"{unit}: the first rung cannot be longer than the last")
    fixed_train = doc.get("fixed", {}).get("train", {})
    for k, why in (("lr_horizon", "the schedule sets it to max_budget"),
                   ("checkpoint", "a promoted trial continues from its last weights")):
        if k == "lr_horizon" and unit == "seconds":  # (rungs in seconds anneal each rung)
            continue
        if k in fixed_train and not (k == "checkpoint" and fixed_train[k] == "last"):
            raise ConfigError(f"fixed.train.{k} in {where} does not combine with "
                              f'algorithm.schedule = "asha" ({why}): remove it')
    eta = int(eta) if float(eta).is_integer() else float(eta)
    rung_budgets(lo, hi, eta)
    asha = {"min_budget": lo, "max_budget": hi, "eta": eta}
    return schedule, asha if unit == "steps" else {**asha, "unit": "seconds"}


def load_stored_study(path: str | Path) -> StudySpec:
    """The study file stored in a study's HDF5 file (root attribute ``study_text``), validated,
    with its output set to that file.

    Raises:
        StoreError: the attribute is missing or empty, or the stored study file is invalid.
    """
    from hybridmoo import store

    with store.open_checked(path) as f:
        text = f.attrs.get("study_text", "")
        text = text.item() if hasattr(text, "item") else text
    if not isinstance(text, str) or not text.strip():
        raise store.damaged(path, "the root attribute 'study_text' (the study file it ran, "
                            "which resume reruns) is missing or empty")
    try:
        spec = load_study(text=text)
    except ConfigError as exc:
        raise store.damaged(path, f"the study file stored in it (root attribute 'study_text') "
                            f"is invalid: {exc}") from None
    spec.output = Path(path).resolve()
    return spec


def _check_algorithm_options(name: str, opts: dict, where: str) -> None:
    """Every key of ``[algorithm] options`` is one the algorithm takes, with a valid value."""
    allowed = ALGORITHM_OPTIONS[name]
    for key, value in opts.items():
        if key not in allowed:
            raise ConfigError(
                f"unknown key algorithm.options.{key} in {where}: {name} takes "
                f"{', '.join(sorted(allowed)) or 'no options'}."
                f"{did_you_mean(str(key), sorted(allowed))} (sampling, crossover and the "
                "other operators are hybridmoo's choice; remove the key)")
        kind = allowed[key]
        if kind == "bool" and not isinstance(value, bool):
            raise invalid(f"algorithm.options.{key}", value, "true or false", where)
        if kind == "int":
            check_int(f"algorithm.options.{key}", value, 1, MAX_POP, where)
        if kind == "prob":
            check_number(f"algorithm.options.{key}", value, 0, 1, where=where)
        if kind == "variation" and value not in VARIATIONS:
            raise ConfigError(
                f"{where}: algorithm.options.variation = {show(value)} is not allowed."
                f"{did_you_mean(str(value), VARIATIONS)} Allowed: {', '.join(VARIATIONS)} "
                "(pymoo: SBX crossover and polynomial mutation η 20, pymoo's defaults; explore: "
                "uniform crossover and polynomial mutation η 1, for small populations)")
