"""Study files (TOML): parsing and whole-file validation before anything runs.

A study file has these tables (unknown tables and keys are errors — a typo is never ignored):

.. code-block:: toml

    [study]
    name = "quickstart"           # free text
    seed = 0                       # seeds the outer algorithm and every trial
    output = "quickstart.h5"       # the HDF5 study file (relative to the study file)
    method = "hypernet"            # what a trial trains: "hypernet" or "dymu" (see below)

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

**Multi-fidelity studies** (``[algorithm] schedule = "asha"``, :mod:`hybridmoo.multifidelity`):
every new configuration trains ``min_budget`` train steps (the first rung); the best 1/``eta`` of
a rung (non-dominated rank, then crowding, of the outer objectives) continue from their own
saved state to the next rung (``min_budget·eta^k`` steps, then ``max_budget``); the others stop.
The budget is in **train steps**: ``[budget]`` holds ``steps`` only, and ``max_budget`` (default
``budget.steps``) must equal it. ``min_budget`` is required, ``eta`` defaults to 3. The
trials' cosine schedule spans ``max_budget`` steps (``train.lr_horizon``), so a stopped trial has
taken the first steps of the full run::

    [algorithm]
    schedule = "asha"
    min_budget = 100               # train steps of the first rung
    max_budget = 900               # train steps of the last rung (= budget.steps)
    eta = 3                        # the best 1/eta of a rung are promoted
    [budget]
    steps = 900

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

from hybridmoo._config import (
    MAX_SEED,
    check_int,
    check_number,
    invalid,
    read_toml,
    reject_unknown,
    show,
)
from hybridmoo.errors import ConfigError, did_you_mean
from hybridmoo.space import SearchSpace, Variable
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
    "nsga2": {"eliminate_duplicates": "bool", "n_offsprings": "int"},
    "nsga3": {"eliminate_duplicates": "bool", "n_offsprings": "int", "n_partitions": "int"},
    "smsemoa": {"eliminate_duplicates": "bool", "n_offsprings": "int", "normalize": "bool"},
    "mixed": {"n_offsprings": "int"},
    "moead": {"n_partitions": "int", "n_neighbors": "int", "prob_neighbor_mating": "prob"},
}
#: upper bounds that catch a slip of the keyboard (a study of 10^30 trials never ends)
MAX_POP, MAX_GENERATIONS = 100_000, 100_000
MAX_BUDGET = {"steps": 10**9, "seconds": 10**7, "epochs": 10**6, "evaluations": 10**12}
WARM_STARTS = ("none", "nearest")
METHODS = ("hypernet", "dymu")
#: objectives only a DYMU trial has
DYMU_OBJECTIVES = ("cost", "flops")
#: keys of [fixed.dymu] and of "dymu.…" paths that are the trial's, not DymuConfig's
DYMU_TRIAL_KEYS = {"c": 0.0, "stage_fractions": [0.4, 0.4, 0.2]}
_DYMU_BUDGET_KEYS = ("anchor_steps", "edge_steps", "weight_steps", "stage_seconds")

_SCHEMA: dict[str, set[str]] = {
    "study": {"name", "seed", "output", "description", "method"},
    "problem": {"name", "options"},
    "objectives": {"names"},
    "algorithm": {"name", "pop_size", "generations", "options", "warm_start", "schedule",
                  "min_budget", "max_budget", "eta"},
    "budget": {"steps", "seconds", "epochs", "evaluations"},
    "resources": {"cpus_per_trial", "gpus_per_trial", "workers", "retries", "keep_weights",
                  "runtime_env",
                  "threads_per_trial"},
    "fixed": {"hypernet", "train", "dymu"},
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
    asha: dict | None = None  # {"min_budget", "max_budget", "eta"} with schedule = "asha"

    @property
    def n_trials(self) -> int:
        """Trials the study runs (population × generations)."""
        return self.pop_size * self.generations


def _check_type(key: str, value: Any, types: tuple, allowed: str, where: str = "") -> None:
    if isinstance(value, bool) and bool not in types:
        raise invalid(key, value, allowed, where)
    if not isinstance(value, types):
        raise invalid(key, value, allowed, where)


def _flatten_search(table: dict, prefix: str = "") -> dict[str, dict]:
    out: dict[str, dict] = {}
    for k, v in table.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict) and "type" not in v:
            out.update(_flatten_search(v, path + "."))
        else:
            out[path] = v
    return out


def load_study(path: str | Path | None = None, *, text: str | None = None) -> StudySpec:
    """Read and validate a study file; every error names the key, the value and what is allowed.

    Args:
        path: the TOML file. text: its content (instead of, or besides, ``path``).

    Raises:
        ConfigError: on any invalid or unknown key, or a missing required table.
    """
    from hybridmoo import problems

    text, doc, where = read_toml(path, text, "study file")
    for table in doc:
        if table not in _SCHEMA:
            raise ConfigError(
                f"unknown table [{table}] in {where}.{did_you_mean(table, list(_SCHEMA))} "
                f"Allowed tables: {', '.join(_SCHEMA)}"
            )
        if not isinstance(doc[table], dict):
            raise ConfigError(f"{table} must be a table, got {doc[table]!r}")
        if _SCHEMA[table]:
            for key in doc[table]:
                if key not in _SCHEMA[table]:
                    raise ConfigError(
                        f"unknown key {table}.{key} in {where}."
                        f"{did_you_mean(key, sorted(_SCHEMA[table]))} Allowed keys in "
                        f"[{table}]: {', '.join(sorted(_SCHEMA[table]))}"
                    )
    for table in _REQUIRED:
        if table not in doc:
            raise ConfigError(f"{where} has no [{table}] table; it is required")

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

    pr = doc["problem"]
    pname = pr.get("name")
    _check_type("problem.name", pname, (str,), "a problem name (see `hybridmoo problems`)")
    popts = pr.get("options", {})
    _check_type("problem.options", popts, (dict,), "a table of problem options")
    if problems.registry.is_import_path(pname):
        add_import_folder(base_dir)
    try:
        problem = problems.get(pname, **popts)
    except Exception as exc:  # unknown name or option, bad option value
        raise ConfigError(f"problem: {exc}") from None

    method = st.get("method", "hypernet")
    if method not in METHODS:
        raise ConfigError(f"study.method = {method!r} is not allowed."
                          f"{did_you_mean(str(method), METHODS)} Allowed: {', '.join(METHODS)}")
    obj = doc.get("objectives", {}).get(
        "names", ["hv", "cost"] if method == "dymu" else ["hv", "n_params"])
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
        if o in DYMU_OBJECTIVES and method != "dymu":
            raise ConfigError(
                f"objectives.names: {o!r} measures the trees of a DYMU controller; set "
                'study.method = "dymu" (a hypernetwork trial has n_params and latency instead)'
            )

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

    budget = _check_budget(doc["budget"], where)

    res = doc.get("resources", {})
    cpus = check_number("resources.cpus_per_trial", res.get("cpus_per_trial", 1), 0, 1024,
                        low_open=True, where=where, what=" (fractions ok, e.g. 0.5)")
    gpus = check_number("resources.gpus_per_trial", res.get("gpus_per_trial", 0), 0, 64,
                        where=where, what=" (fractions ok, e.g. 0.25)")
    workers = res.get("workers", "auto")
    if workers != "auto":
        check_int("resources.workers", workers, 1, 100_000, where, ' or "auto"')
    retries = check_int("resources.retries", res.get("retries", 1), 0, 100, where)
    runtime_env = user_runtime_env(res.get("runtime_env"), pname, base_dir)
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

    if method == "dymu":
        if gpus > 0:
            raise ConfigError(f"resources.gpus_per_trial = {gpus}: DYMU trials train on the CPU "
                              "(study.method = \"dymu\"); set gpus_per_trial = 0")
        if warm != "none":
            raise ConfigError('algorithm.warm_start = "nearest" applies to hypernetwork trials; '
                              'a DYMU study (study.method = "dymu") starts every trial afresh: '
                              'remove warm_start')
        space = _dymu_space(doc, problem, where)
    else:
        space = _hypernet_space(doc, budget, problem, where)
    schedule, asha = _check_schedule(al, budget, method, warm, doc, where)
    return StudySpec(
        path=Path(path) if path else None, text=text, name=str(st.get("name", "study")),
        seed=seed, output=out_path, problem=pname, problem_options=dict(popts), objectives=obj,
        algorithm=aname, pop_size=pop, generations=gens, algorithm_options=dict(aopts),
        budget=dict(budget), cpus_per_trial=float(cpus), gpus_per_trial=float(gpus),
        workers=workers, retries=retries, keep_weights=keep, threads_per_trial=threads,
        warm_start=warm, space=space, method=method, runtime_env=runtime_env,
        schedule=schedule, asha=asha,
    )


SCHEDULES = ("none", "asha")


def _check_schedule(al: dict, budget: dict, method: str, warm: str, doc: dict, where: str
                    ) -> tuple[str, dict | None]:
    """``[algorithm] schedule``, ``min_budget``, ``max_budget``, ``eta`` (train steps)."""
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
    if method != "hypernet":
        raise ConfigError(f'algorithm.schedule = "asha" continues hypernetwork trials; a '
                          f'{method} study (study.method = "{method}") cannot: remove schedule')
    if set(budget) != {"steps"}:
        other = sorted(set(budget) - {"steps"})
        raise ConfigError(
            f'algorithm.schedule = "asha" measures budgets in train steps: [budget] in {where} '
            f"must hold steps only (the maximum budget), not {', '.join(other) or 'nothing'}")
    if warm != "none":
        raise ConfigError('algorithm.warm_start = "nearest" and schedule = "asha" do not combine '
                          "yet (a promoted trial continues from its own state): remove one")
    if "min_budget" not in al:
        raise ConfigError(f'algorithm.schedule = "asha" in {where} needs min_budget: the train '
                          "steps of the first rung, e.g. min_budget = 100")
    lo = check_int("algorithm.min_budget", al["min_budget"], 1, MAX_BUDGET["steps"], where,
                   " (train steps of the first rung)")
    hi = check_int("algorithm.max_budget", al.get("max_budget", budget["steps"]), 1,
                   MAX_BUDGET["steps"], where, " (train steps of the last rung)")
    if hi != budget["steps"]:
        raise ConfigError(f"algorithm.max_budget = {hi} differs from budget.steps = "
                          f"{budget['steps']}: they are the same thing (a finished trial's train "
                          "steps); remove max_budget or make them equal")
    eta = check_number("algorithm.eta", al.get("eta", 3), 1, 1000, low_open=True, where=where,
                       what=" (the reduction factor, typically 3)")
    if lo > hi:
        raise ConfigError(f"algorithm.min_budget = {lo} exceeds max_budget = {hi} train steps: "
                          "the first rung cannot be longer than the last")
    fixed_train = doc.get("fixed", {}).get("train", {})
    for k, why in (("lr_horizon", "the schedule sets it to max_budget"),
                   ("checkpoint", "a promoted trial continues from its last weights")):
        if k in fixed_train and not (k == "checkpoint" and fixed_train[k] == "last"):
            raise ConfigError(f"fixed.train.{k} in {where} does not combine with "
                              f'algorithm.schedule = "asha" ({why}): remove it')
    eta = int(eta) if float(eta).is_integer() else float(eta)
    rung_budgets(lo, hi, eta)
    return schedule, {"min_budget": lo, "max_budget": hi, "eta": eta}


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


def _check_budget(budget: Any, where: str) -> dict:
    """``[budget]``: steps (integer), seconds and epochs (numbers), each > 0 and bounded."""
    if not budget:
        raise ConfigError(f"[budget] in {where} is empty: set steps, seconds or epochs per "
                          "trial, e.g. steps = 600")
    for key, value in budget.items():
        top = MAX_BUDGET[key]
        if key in ("steps", "evaluations"):
            check_int(f"budget.{key}", value, 1, top, where,
                      " (gradient steps per trial)" if key == "steps" else
                      " (true function evaluations per trial)")
        else:
            check_number(f"budget.{key}", value, 0, top, low_open=True, where=where,
                         what=f" ({key} per trial)")
    return dict(budget)


def _check_fixed(table: str, d: Any, cls: type, where: str, extra: dict | None = None) -> dict:
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


def _check_path(vpath: str, cls: type, head: str, where: str, extra: tuple = ()) -> None:
    """The field a searched path writes exists (``train.n_pref`` is caught here)."""
    import dataclasses

    names = [f.name for f in dataclasses.fields(cls)] + list(extra)
    field_ = vpath.split(".")[1]
    if field_ not in names:
        raise ConfigError(
            f"unknown {head} option {field_!r} in search.\"{vpath}\" of {where}."
            f"{did_you_mean(field_, names)} Allowed after '{head}.': {', '.join(sorted(names))}"
        )


def _probe(space: SearchSpace, where: str, check) -> None:
    """Run ``check(cfg)`` on every probe configuration of ``space`` (every choice value, both
    ends of every range, the corners); the first failure names the searched value behind it."""
    for desc, cfg in space.probes():
        try:
            check(cfg)
        except (ConfigError, TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: {desc} gives an invalid trial configuration: {exc}"
                              ) from None


def dymu_trial_config(cfg: dict) -> tuple[dict, float, list]:
    """Split a DYMU trial's ``dymu`` table into (DymuConfig fields, c, stage_fractions)."""
    d = dict(cfg)
    c = d.pop("c", DYMU_TRIAL_KEYS["c"])
    fr = d.pop("stage_fractions", DYMU_TRIAL_KEYS["stage_fractions"])
    return d, c, fr


def _dymu_space(doc: dict, problem, where: str = "<study file>") -> SearchSpace:
    from hybridmoo.dymu import DymuConfig, dymu_data

    fixed = doc.get("fixed", {})
    for t in ("hypernet", "train"):
        if t in fixed:
            raise ConfigError(f"[fixed.{t}] configures hypernetwork trials; a DYMU study "
                              '(study.method = "dymu") takes its settings from [fixed.dymu]')
    try:
        dymu_data(problem)
    except ConfigError as exc:
        raise ConfigError(f'problem: study.method = "dymu": {exc}') from None
    table = _check_fixed("dymu", fixed.get("dymu", {}), DymuConfig, where, DYMU_TRIAL_KEYS)
    for k in _DYMU_BUDGET_KEYS:
        if k in table:
            raise ConfigError(f"fixed.dymu.{k}: a DYMU trial's stage lengths come from [budget] "
                              "(steps and/or seconds) split by dymu.stage_fractions; remove "
                              f"{k}")
    variables = []
    for vpath, vspec in _flatten_search(doc["search"]).items():
        if not vpath.startswith("dymu.") or vpath.split(".", 1)[1] in _DYMU_BUDGET_KEYS:
            raise ConfigError(
                f"search.{vpath}: a DYMU study searches paths 'dymu.<field>' (a DymuConfig "
                "field other than the stage lengths, or c), e.g. \"dymu.c\", "
                "\"dymu.lambda_active\""
            )
        _check_path(vpath, DymuConfig, "dymu", where, tuple(DYMU_TRIAL_KEYS))
        variables.append(Variable.from_spec(vpath, vspec))
    space = SearchSpace(variables, {"dymu": table})

    def check(cfg: dict) -> None:
        fields, c, fr = dymu_trial_config(cfg["dymu"])
        if isinstance(c, bool) or not isinstance(c, int | float) or not 0.0 <= c <= 1.0:
            raise ConfigError(f"dymu.c = {show(c)} is invalid: expected a number in [0, 1] "
                              "(the resource preference; 1: the most frugal model)")
        if (not isinstance(fr, list | tuple) or len(fr) != 3
                or not all(isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
                           for v in fr) or sum(fr) <= 0):
            raise ConfigError(f"dymu.stage_fractions = {show(fr)} is invalid: expected three "
                              "numbers ≥ 0 with a positive sum (anchor, edge, weight)")
        DymuConfig.from_dict(fields)

    _probe(space, where, check)
    return space


def _hypernet_space(doc: dict, budget: dict, problem, where: str = "<study file>"
                    ) -> SearchSpace:
    from hybridmoo import preferences
    from hybridmoo.hypernet import HypernetConfig
    from hybridmoo.train import TrainConfig

    fixed = doc.get("fixed", {})
    if "dymu" in fixed:
        raise ConfigError('[fixed.dymu] configures DYMU trials: set study.method = "dymu" '
                          "(and search 'dymu.…' paths), or remove it")
    fixed = {"hypernet": _check_fixed("hypernet", fixed.get("hypernet", {}), HypernetConfig,
                                      where),
             "train": _check_fixed("train", fixed.get("train", {}), TrainConfig, where)}
    for k in ("steps", "seconds", "epochs"):
        if k in fixed["train"]:
            raise ConfigError(f"fixed.train.{k} in {where}: a trial's budget is set by "
                              f"[budget]; move {k} there")
        fixed["train"][k] = None
    defaults = TrainConfig()  # searched paths such as train.sampler.alpha apply over these
    fixed["train"].setdefault("sampler", dict(defaults.sampler))
    fixed["train"].setdefault("scalarization", dict(defaults.scalarization))
    for k, v in budget.items():
        fixed["train"][k] = v
    variables = []
    classes = {"hypernet": HypernetConfig, "train": TrainConfig}
    for vpath, spec in _flatten_search(doc["search"]).items():
        head = vpath.split(".", 1)[0]
        if head not in ("hypernet", "train") or "." not in vpath:
            raise ConfigError(
                f"search.{vpath}: a searched path starts with 'hypernet.' or 'train.' "
                "(e.g. \"hypernet.width\", \"train.lr\", \"train.sampler.alpha\")"
            )
        _check_path(vpath, classes[head], head, where)
        if vpath.split(".")[1] in ("steps", "seconds", "epochs"):
            raise ConfigError(f"search.{vpath} in {where}: a trial's budget is set by [budget] "
                              "and is the same for every trial; it cannot be searched")
        variables.append(Variable.from_spec(vpath, spec))
    space = SearchSpace(variables, fixed)

    def check(cfg: dict) -> None:
        HypernetConfig.from_dict(cfg["hypernet"])
        train = TrainConfig.from_dict(cfg["train"])
        sampler = dict(train.sampler)
        sampler.setdefault("n_obj", problem.n_obj)  # checks the sampler's own parameters
        preferences.from_dict(sampler)
        if train.checkpoint == "best" and not getattr(problem, "has_validation_split", False):
            raise ConfigError(
                f"train.checkpoint = 'best' chooses each trial's evaluation by its validation "
                f"HV but problem {problem.name!r} has no validation split; use 'last' (or the "
                "Multi-MNIST family, tabular_sparsity)")

    _probe(space, where, check)
    return space
