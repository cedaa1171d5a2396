"""Optuna's samplers over hybridmoo_search's space, under the same budget accounting.

Akiba, Sano, Yanase, Ohta & Koyama, "Optuna: A Next-generation Hyperparameter Optimization
Framework", KDD 2019. What a user who does not know hybridmoo's outer loop would reach for:

- ``optuna_tpe``: :class:`optuna.samplers.TPESampler` (Bergstra et al., NeurIPS 2011; with
  several outer objectives Optuna's TPE is multi-objective, MOTPE, Ozaki et al., 2020), its
  first ``pop_size`` trials random (``n_startup_trials``), as the first generation of
  hybridmoo_search's NSGA-II is;
- ``optuna_nsga2``: :class:`optuna.samplers.NSGAIISampler` with ``population_size = pop_size``.

Both search the space of :mod:`~hybridmoo.baselines.search` (Optuna's float, int and
categorical distributions with the same bounds and log scales) with its trial seeds, trial
function and budget split: each trial gets the per-trial budget of hybridmoo_search, and trials
start while a full share still fits in what is left, so without pruning they run exactly
``pop_size × generations`` trials. Like hybridmoo_search they report the study front of their
trials, its building time charged (:func:`hybridmoo.baselines.search.search_result`).

**Pruning.** ``pruner = "hyperband"`` (default; Li et al., JMLR 2018, Optuna's
:class:`~optuna.pruners.HyperbandPruner`, reduction factor 3) or ``"successive_halving"``
(asynchronous successive halving, Li et al., MLSys 2020) stops unpromising trials early: the
trainer evaluates ``reports`` times per trial (every ``per-trial steps / reports`` steps; with a
seconds budget every 50 steps) and reports the HV to Optuna, which may stop the trial there. A
stopped trial keeps its front at that step, is charged only the steps (or seconds) it used, and
what it saved pays for further trials. Optuna's pruners work on single-objective studies only,
so pruning applies when the outer objective is HV alone (as in the shared space); otherwise it
is off and ``extra["pruner"]`` says so. ``pruner = "none"`` turns it off.

Optuna is an optional dependency: ``pip install 'hybridmoo[optuna]'``.
"""

from __future__ import annotations

from typing import Any

from hybridmoo.baselines.common import BaselineResult, Budget, register
from hybridmoo.baselines.search import run_search, search_setup
from hybridmoo.errors import ConfigError, did_you_mean

__all__ = ["optuna_nsga2", "optuna_tpe"]

PRUNERS = ("hyperband", "successive_halving", "none")
_PRIMITIVE = (bool, int, float, str, type(None))


def import_optuna():
    """The ``optuna`` module, or a ConfigError saying how to install it."""
    try:
        import optuna
    except ImportError:
        raise ConfigError(
            "the optuna_tpe and optuna_nsga2 baselines need Optuna, which is not installed: "
            "pip install 'hybridmoo[optuna]' (or pip install optuna), or leave these methods "
            "out of the compare file") from None
    return optuna


def _distributions(space, optuna) -> tuple[dict[str, Any], dict[str, Any]]:
    """Optuna distributions of the space's variables, and how to decode a categorical's index
    back to its value (choice values that Optuna cannot store are searched by index)."""
    dists, choices = {}, {}
    for v in space.variables:
        if v.type == "real":
            dists[v.path] = optuna.distributions.FloatDistribution(v.low, v.high, log=v.log)
        elif v.type == "int":
            dists[v.path] = optuna.distributions.IntDistribution(int(v.low), int(v.high),
                                                                 log=v.log)
        elif all(isinstance(x, _PRIMITIVE) for x in v.values):
            dists[v.path] = optuna.distributions.CategoricalDistribution(list(v.values))
        else:
            dists[v.path] = optuna.distributions.CategoricalDistribution(
                list(range(len(v.values))))
            choices[v.path] = v.values
    return dists, choices


def _pruner(name: str, setup, every: int, optuna):
    if name == "hyperband":
        top = int(setup.per_trial) if setup.unit == "steps" else "auto"
        return optuna.pruners.HyperbandPruner(min_resource=every, max_resource=top,
                                              reduction_factor=3)
    return optuna.pruners.SuccessiveHalvingPruner(min_resource=every, reduction_factor=3)


def _optuna_search(method: str, make_sampler, problem, budget: Budget, seed: int, *,
                   pop_size: int, generations: int, n_prefs: int, pruner: str,
                   reports: int) -> BaselineResult:
    from hybridmoo.study import outer_objectives, to_minimised

    if pruner not in PRUNERS:
        raise ConfigError(f"{method}: pruner = {pruner!r} is not allowed."
                          f"{did_you_mean(str(pruner), list(PRUNERS))} Allowed: "
                          f"{', '.join(PRUNERS)}")
    if isinstance(reports, bool) or not isinstance(reports, int) or reports < 2:
        raise ConfigError(f"{method}: reports = {reports!r} must be an integer >= 2 (the HV "
                          "reports per trial that the pruner decides on)")
    optuna = import_optuna()
    setup = search_setup(problem, budget, seed, pop_size=pop_size, generations=generations,
                         n_prefs=n_prefs)
    names = list(setup.spec.objectives)
    use_pruner = pruner
    if pruner != "none" and names != ["hv"]:
        use_pruner = f"none (Optuna prunes single-objective studies only; objectives {names})"
    every = 0
    if use_pruner in PRUNERS[:2]:
        every = max(1, int(setup.per_trial) // reports) if setup.unit == "steps" else 50
        if setup.unit == "steps" and every >= setup.per_trial:
            every, use_pruner = 0, f"none (trials of {setup.per_trial:.0f} steps are too short)"
    if every:
        setup = search_setup(problem, budget, seed, pop_size=pop_size,
                             generations=generations, n_prefs=n_prefs, eval_every=every)
    setup.params.update({"pruner": pruner, "reports": reports})
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        directions=["minimize"] * len(names), sampler=make_sampler(optuna, pop_size, seed),
        pruner=_pruner(use_pruner, setup, every, optuna) if every
        else optuna.pruners.NopPruner())
    dists, choices = _distributions(setup.spec.space, optuna)
    live: dict[int, Any] = {}

    def ask(tid: int) -> dict:
        live[tid] = trial = study.ask(dists)
        return {p: choices[p][x] if p in choices else x for p, x in trial.params.items()}

    def prune(tid: int, ev: dict) -> bool:
        hv = ev["hv"]
        if hv != hv:  # NaN: nothing to report
            return False
        live[tid].report(-float(hv), step=int(ev["step"]))
        return live[tid].should_prune()

    n_pruned = 0

    def tell(tid: int, values: dict, result, pruned: bool) -> None:
        nonlocal n_pruned
        trial = live.pop(tid)
        if pruned:
            n_pruned += 1
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        elif not result.ok:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            vals = to_minimised(outer_objectives(result, names)[None], names)[0]
            study.tell(trial, values=[float(v) for v in vals])

    return run_search(method, setup, problem, seed, ask, tell, prune=prune if every else None,
                      extra=lambda: {"pruner": use_pruner, "pruned": n_pruned,
                                     "eval_every": every or None})


@register("optuna_tpe", "search",
          "Akiba et al., Optuna, KDD 2019; TPE: Bergstra et al., NeurIPS 2011")
def optuna_tpe(problem, budget: Budget, seed: int, *, pop_size: int = 4, generations: int = 2,
               n_prefs: int = 8, pruner: str = "hyperband", reports: int = 8) -> BaselineResult:
    """Optuna's TPE sampler over hybridmoo_search's space (pruning: see the module)."""
    return _optuna_search(
        "optuna_tpe",
        lambda optuna, pop, s: optuna.samplers.TPESampler(seed=s, n_startup_trials=pop),
        problem, budget, seed, pop_size=pop_size, generations=generations, n_prefs=n_prefs,
        pruner=pruner, reports=reports)


@register("optuna_nsga2", "search",
          "Akiba et al., Optuna, KDD 2019; NSGA-II: Deb et al., IEEE TEVC 2002")
def optuna_nsga2(problem, budget: Budget, seed: int, *, pop_size: int = 4,
                 generations: int = 2, n_prefs: int = 8, pruner: str = "hyperband",
                 reports: int = 8) -> BaselineResult:
    """Optuna's NSGA-II sampler over hybridmoo_search's space (pruning: see the module)."""
    return _optuna_search(
        "optuna_nsga2",
        lambda optuna, pop, s: optuna.samplers.NSGAIISampler(population_size=pop, seed=s),
        problem, budget, seed, pop_size=pop_size, generations=generations, n_prefs=n_prefs,
        pruner=pruner, reports=reports)
