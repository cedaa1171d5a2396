"""The outer loop: pymoo searches hypernetwork configurations; a backend trains them.

:class:`Study` owns the loop (pymoo's ask/tell, not its runner): each generation it asks the
algorithm for a population of encoded configurations (see :mod:`hybridmoo.space`), submits them
to the backend as trials, records every trial in the HDF5 study file the moment it returns (the
driver is the only writer, and each trial is flushed before the next is recorded), and tells
the algorithm the outer objectives. A failed trial (exception, NaN loss, dead worker) is
recorded with its reason and may be retried; the outer algorithm sees it with the worst possible
objective values, so the search goes on.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hybridmoo import metrics, store
from hybridmoo.errors import ConfigError
from hybridmoo.methods.trial import run_trial
from hybridmoo.record import TrialResult
from hybridmoo.studyfile import OBJECTIVES, StudySpec, load_study

__all__ = ["Study", "StudyResult", "outer_objectives", "run_study"]

_PENALTY = 1e12  # objective value of a failed trial for minimised objectives


def _pymoo_algorithm(spec: StudySpec, n_obj: int):
    opts = dict(spec.algorithm_options)
    pop = spec.pop_size
    if spec.algorithm == "nsga2":
        from pymoo.algorithms.moo.nsga2 import NSGA2

        return NSGA2(pop_size=pop, **opts)
    if spec.algorithm == "mixed":
        from pymoo.core.mixed import MixedVariableGA
        from pymoo.operators.survival.rank_and_crowding import RankAndCrowding

        return MixedVariableGA(pop_size=pop, survival=RankAndCrowding(), **opts)
    if spec.algorithm == "smsemoa":
        from pymoo.algorithms.moo.sms import SMSEMOA

        return SMSEMOA(pop_size=pop, **opts)
    from pymoo.util.ref_dirs import get_reference_directions

    n_part = opts.pop("n_partitions", None)
    if n_part is not None:  # a Das–Dennis lattice, as the user asked
        ref_dirs = get_reference_directions("das-dennis", n_obj, n_partitions=n_part)
    elif n_obj == 2:  # evenly spaced, exactly pop_size directions
        ref_dirs = get_reference_directions("das-dennis", 2, n_partitions=pop - 1)
    else:  # Riesz s-energy: exactly pop_size well-spread directions
        ref_dirs = get_reference_directions("energy", n_obj, pop, seed=spec.seed)
    if spec.algorithm == "nsga3":
        from pymoo.algorithms.moo.nsga3 import NSGA3

        return NSGA3(ref_dirs=ref_dirs, pop_size=pop, **opts)
    # pymoo's MOEAD is loop-wise (one offspring per ask, which would run trials one by one);
    # ParallelMOEAD proposes one offspring per subproblem per ask: a generation of trials
    from pymoo.algorithms.moo.moead import ParallelMOEAD

    opts.setdefault("n_neighbors", min(20, len(ref_dirs)))
    return ParallelMOEAD(ref_dirs=ref_dirs, n_offsprings=len(ref_dirs), **opts)


def outer_objectives(result: TrialResult, names: list[str],
                     reference_hv: float | None = None) -> np.ndarray:
    """Outer objective values of a trial in their natural direction (HV as is).

    ``hv_auc`` is the mean of the HV trace over the run's steps (trapezoid rule), divided by
    ``reference_hv`` when given: 1 would mean the reference HV from the first step on.
    """
    out = []
    for n in names:
        if not result.ok:
            out.append(math.nan)
        elif n == "hv":
            out.append(result.hv)
        elif n == "n_params":
            out.append(float(result.n_params))
        elif n == "train_time":
            out.append(result.train_time)
        elif n == "latency":
            out.append(float(result.extra.get("latency_ms", math.nan)))
        elif n == "igd":
            out.append(result.igd)
        elif n == "hv_auc":
            s, h = result.trace["step"], result.trace["hv"]
            auc = float(np.trapezoid(h, s) / max(s[-1] - s[0], 1)) if len(s) > 1 else h[-1]
            out.append(auc / reference_hv if reference_hv else auc)
        elif n == "uniformity":
            out.append(_uniformity(result))
        elif n in ("cost", "flops"):  # DYMU trials record them at their c
            out.append(float(result.extra.get(n, math.nan)))
    return np.asarray(out, dtype=np.float64)


def _uniformity(result: TrialResult) -> float:
    """Mean uniformity of a trial's front (preferences normalised to the simplex)."""
    if "uniformity" in result.extra:
        return float(result.extra["uniformity"])
    P = np.asarray(result.prefs, dtype=np.float64)
    P = P / np.maximum(P.sum(axis=1, keepdims=True), 1e-12)
    F = np.maximum(np.asarray(result.F, dtype=np.float64), 1e-12)
    return float(np.mean(metrics.uniformity(F, P)))


def to_minimised(values: np.ndarray, names: list[str]) -> np.ndarray:
    """pymoo's view: maximised objectives negated; NaN (failed) → the worst value."""
    out = np.empty_like(values)
    for j, n in enumerate(names):
        v = values[..., j]
        if OBJECTIVES[n][0] == "max":
            out[..., j] = np.where(np.isnan(v), 0.0, -v)  # HV ≥ 0: 0 is the worst
        else:
            out[..., j] = np.where(np.isnan(v), _PENALTY, v)
    return out


@dataclass
class StudyResult:
    """What a finished study returns (everything is also in the HDF5 file)."""

    path: Path
    trials: dict[int, TrialResult]
    values: dict[int, dict]
    objectives: dict[int, np.ndarray]
    front_ids: list[int]
    objective_names: list[str]
    wall_time: float
    trial_time: float
    failed: int
    extra: dict = field(default_factory=dict)


class Study:
    """Run a study file.

    Args:
        spec: a :class:`StudySpec` or the path of a study file.
        backend: ``"ray"`` (default) or ``"local"``.
        address: an existing Ray cluster (``"auto"`` or ``host:port``); default a local Ray.
        output: override the study file's output path.
        overwrite: replace an existing output file.
        progress: show a live progress bar and the final summary table.
        num_cpus: CPUs of a locally started Ray (default all).
    """

    def __init__(self, spec: StudySpec | str | Path, *, backend: str = "ray",
                 address: str | None = None, output: str | Path | None = None,
                 overwrite: bool = False, progress: bool = True,
                 num_cpus: int | None = None, resume: bool = False,
                 working_dir: str | Path | None = None) -> None:
        from hybridmoo import problems
        from hybridmoo._config import check_output_path
        from hybridmoo.backends import check_ray_options
        from hybridmoo.usercode import user_runtime_env

        self.spec = spec if isinstance(spec, StudySpec) else load_study(spec)
        if working_dir is not None:
            self.spec.runtime_env = user_runtime_env(self.spec.runtime_env, self.spec.problem,
                                                     Path.cwd(), working_dir=working_dir)
        if output is not None:
            self.spec.output = Path(output)
        check_ray_options(backend, address, num_cpus)
        self.backend_name = backend
        self.address = address
        self.overwrite = overwrite
        self.resume = resume
        self.progress = progress
        self.num_cpus = num_cpus
        self.problem = problems.get(self.spec.problem, **self.spec.problem_options)
        self.names = list(self.spec.objectives)
        pf = self.problem.pareto_front(1000)
        self.reference_hv = None
        if pf is not None and self.problem.ref_point is not None:
            self.reference_hv = metrics.hypervolume(pf, self.problem.ref_point)
        if resume and overwrite:
            raise ConfigError("--resume and --overwrite exclude each other")
        if not (resume and self.spec.output.exists()):  # before Ray starts or anything runs
            check_output_path(self.spec.output, "--output" if output is not None
                              else "study.output")
        if self.spec.output.exists() and not (overwrite or resume):
            raise ConfigError(
                f"{self.spec.output} already exists; pass --resume to continue that study, "
                "--overwrite to replace it (its trials would be lost), or choose another "
                "study.output"
            )

    def _backend(self):
        from hybridmoo.backends import get_backend

        if self.backend_name == "local":
            return get_backend("local")
        return get_backend("ray", address=self.address, cpus_per_trial=self.spec.cpus_per_trial,
                           gpus_per_trial=self.spec.gpus_per_trial, workers=self.spec.workers,
                           max_workers=self.spec.pop_size, threads=self.spec.threads_per_trial,
                           num_cpus=self.num_cpus, runtime_env=self.spec.runtime_env)

    def trial_spec(self, trial_id: int, config: dict, warm: tuple[int, dict] | None = None
                   ) -> dict:
        """The backend's job for one trial (``warm``: ``(source trial, its weights)``)."""
        seed = self.spec.seed * 100_003 + trial_id
        job = self.spec.trial_method.trial_payload(self.spec, config, seed, warm)
        job["method"] = self.spec.method  # the name (or import path) a worker looks up
        return job

    def _arch_key(self, config: dict) -> str | None:
        """Trials whose keys are equal have models of the same shapes."""
        return self.spec.trial_method.architecture_key(config)

    def _warm_source(self, x: np.ndarray, config: dict, candidates: dict[int, tuple]
                     ) -> int | None:
        """The nearest candidate (Euclidean distance of the encoded configurations) with the
        same architecture; ``candidates`` maps trial → (encoded vector, architecture key)."""
        key = self._arch_key(config)
        best, best_d = None, np.inf
        for tid, (xe, k) in sorted(candidates.items()):
            if k != key:
                continue
            d = float(np.linalg.norm(np.asarray(xe) - x))
            if d < best_d:
                best, best_d = tid, d
        return best

    def _weights_of(self, tid: int, trials: dict[int, TrialResult]) -> dict:
        state = trials[tid].state_dict
        if state is None:  # a trial replayed from the file on resume
            state = store.read_trial(self.spec.output, tid, weights=True).state_dict
        return state

    def run(self) -> StudyResult:
        """Run every generation; returns the study's result (also written to the file)."""
        if self.spec.schedule != "none":  # multi-fidelity: hybridmoo.multifidelity
            import sys

            from hybridmoo.multifidelity import run_asha

            return run_asha(self, sys.modules[__name__])
        from pymoo.core.problem import Problem as PymooProblem

        spec = self.spec
        t_start = time.perf_counter()
        recorded: dict[int, dict] = {}
        notes: list[str] = []
        if self.resume and spec.output.exists():
            recorded, notes = self._reopen()
        else:
            store.create(spec.output, kind="study", problem=self.problem.describe(),
                         study_text=spec.text, overwrite=self.overwrite, extra_attrs={
                             "study_name": spec.name, "seed": spec.seed,
                             "objectives": json.dumps(self.names),
                             "algorithm": spec.algorithm,
                             "search_space": json.dumps(
                                 [v.__dict__ for v in spec.space.variables], default=list),
                             "ref_point": json.dumps(self.problem.ref_point.tolist()),
                             "status": "running"})
        store.begin_journal(spec.output)  # crash safety: every record journaled first
        k = len(self.names)
        mixed = spec.algorithm == "mixed"
        if mixed:  # pymoo's own mixed-variable types
            pproblem = PymooProblem(vars=spec.space.pymoo_vars(), n_obj=k)
        else:  # every other algorithm searches the encoded vector in [0, 1]^d
            pproblem = PymooProblem(n_var=spec.space.n_var, n_obj=k, xl=0.0, xu=1.0)
        algorithm = _pymoo_algorithm(spec, k)
        algorithm.setup(pproblem, termination=("n_gen", spec.generations), seed=spec.seed,
                        verbose=False)
        t_backend = time.perf_counter()
        backend = self._backend()
        startup_time = time.perf_counter() - t_backend  # e.g. starting a local Ray
        self._live_backend = backend  # for tools and tests that inspect the running pool
        trials: dict[int, TrialResult] = {}
        values: dict[int, dict] = {}
        objs: dict[int, np.ndarray] = {}
        weight_ids: set[int] = set()
        encoded: dict[int, np.ndarray] = {}
        warm_from: dict[int, int | None] = {}
        next_id = 0
        failed = 0
        trial_time = 0.0
        wait_time = 0.0  # the driver blocked on the backend; the rest is driver overhead
        ui = _ProgressUI(self.progress, spec.n_trials, backend.describe(),
                         workers=backend.slots, pop_size=spec.pop_size, budget=spec.budget)
        try:
            with ui:
                for note in notes:
                    ui.note(note)
                for gen in range(spec.generations):
                    pop = algorithm.ask()
                    if mixed:
                        gen_values = [spec.space.from_pymoo(x) for x in pop.get("X")]
                        X = np.stack([spec.space.encode(v) for v in gen_values])
                    else:
                        X = np.clip(pop.get("X"), 0.0, 1.0)
                        gen_values = [spec.space.values(u) for u in X]
                    ids = list(range(next_id, next_id + len(X)))
                    next_id += len(X)
                    attempts = dict.fromkeys(ids, 0)
                    left = set(ids)
                    # warm-start sources: earlier trials whose weights are kept
                    sources = {t: (encoded[t], self._arch_key(spec.space.config(values[t])))
                               for t in sorted(weight_ids) if trials[t].ok} \
                        if spec.warm_start == "nearest" else {}
                    for tid, vals, x in zip(ids, gen_values, X, strict=True):
                        values[tid] = vals
                        encoded[tid] = x
                        warm_from[tid] = self._warm_source(x, spec.space.config(vals), sources) \
                            if sources else None
                        if tid in recorded:  # finished before the interruption: replayed
                            rec = recorded[tid]
                            self._check_replay(tid, rec["values"], values[tid])
                            trials[tid] = store.read_trial(spec.output, tid, weights=False)
                            objs[tid] = np.array([rec["outer_objectives"][n] for n in self.names],
                                                 dtype=np.float64)
                            failed += not trials[tid].ok
                            trial_time += trials[tid].wall_time
                            if rec["has_weights"]:
                                weight_ids.add(tid)
                            left.discard(tid)
                            ui.update(done=1, failed=int(not trials[tid].ok), hv=trials[tid].hv,
                                      seconds=trials[tid].wall_time, replayed=True)
                            continue
                        backend.submit(tid, run_trial, self._job(tid, trials, values, warm_from))
                        attempts[tid] += 1
                    ui.update(running=backend.running())
                    if ui.started is None and left:
                        ui.estimate()  # as this run's first trials start
                    while left:
                        t_wait = time.perf_counter()
                        finished = backend.wait()
                        wait_time += time.perf_counter() - t_wait
                        for tid, outcome, node in finished:
                            if not isinstance(outcome, TrialResult):
                                outcome = self._failed(tid, str(outcome))
                            if not outcome.ok and attempts[tid] <= spec.retries:
                                attempts[tid] += 1
                                ui.note(f"trial {tid} failed ({outcome.error.splitlines()[0]}); "
                                        f"retry {attempts[tid] - 1}/{spec.retries}")
                                backend.submit(tid, run_trial,
                                               self._job(tid, trials, values, warm_from))
                                continue
                            left.discard(tid)
                            trials[tid] = outcome
                            objs[tid] = outer_objectives(outcome, self.names, self.reference_hv)
                            trial_time += outcome.wall_time
                            failed += not outcome.ok
                            keep = self._keep_weights(tid, objs, outcome)
                            if keep:
                                weight_ids.add(tid)
                            store.write_trial(
                                spec.output, outcome, trial_id=tid, generation=gen, node=node,
                                keep_weights=keep,
                                attrs={"values": values[tid],
                                       "outer_objectives": dict(zip(self.names,
                                                                    objs[tid].tolist(),
                                                                    strict=True)),
                                       "attempts": attempts[tid],
                                       "warm_start_from": -1 if warm_from[tid] is None
                                       else warm_from[tid]})
                            ui.update(done=1, failed=int(not outcome.ok),
                                      running=backend.running(), hv=outcome.hv,
                                      seconds=outcome.wall_time)
                    Fgen = np.stack([objs[t] for t in ids])
                    pop.set("F", to_minimised(Fgen, self.names))
                    algorithm.tell(infills=pop)
                    ui.generation(gen + 1, spec.generations)
                    store.write_generation(spec.output, gen, trial_ids=ids, encoded=X,
                                           objectives=Fgen,
                                           configs=[values[t] for t in ids],
                                           objective_names=self.names)
                    front = self._front(objs)
                    store.write_outer_front(spec.output, trial_ids=front,
                                            objectives=np.stack([objs[t] for t in front])
                                            if front else np.zeros((0, k)),
                                            objective_names=self.names)
        finally:
            backend.close()
        front = self._front(objs)
        if spec.keep_weights == "front":
            store.drop_weights(spec.output, sorted(weight_ids - set(front)))
        wall = time.perf_counter() - t_start
        driver_time = wall - wait_time - startup_time
        store.set_attrs(spec.output, status="finished", wall_time=wall, trial_time=trial_time,
                        failed=failed, driver_time=driver_time, startup_time=startup_time)
        store.end_journal(spec.output)  # finished and durable: the journal is no longer needed
        result = StudyResult(path=spec.output, trials=trials, values=values, objectives=objs,
                             front_ids=front, objective_names=self.names, wall_time=wall,
                             trial_time=trial_time, failed=failed,
                             extra={"driver_time": driver_time, "wait_time": wait_time,
                                    "startup_time": startup_time, "workers": backend.slots})
        if self.progress:
            print_summary(result, self.reference_hv)
        return result

    def _job(self, tid: int, trials: dict, values: dict, warm_from: dict) -> dict:
        src = warm_from.get(tid)
        warm = None if src is None else (src, self._weights_of(src, trials))
        return self.trial_spec(tid, self.spec.space.config(values[tid]), warm)

    def _reopen(self) -> tuple[dict[int, dict], list[str]]:
        """Open an interrupted study for resuming: recover, check, drop half-written trials."""
        notes = []
        msg = store.recover(self.spec.output)
        if msg:
            notes.append(msg)
        with store.open_checked(self.spec.output) as f:
            stored_text = str(f.attrs.get("study_text", ""))
            kind = str(f.attrs.get("kind", ""))
        if kind != "study":
            raise ConfigError(f"{self.spec.output} holds a single training run, not a study; "
                              "it cannot be resumed")
        stored = load_study(text=stored_text)
        mine = self.spec
        for attr in ("problem", "problem_options", "objectives", "algorithm", "pop_size",
                     "algorithm_options", "budget", "seed"):
            if getattr(stored, attr) != getattr(mine, attr):
                raise ConfigError(
                    f"cannot resume {mine.output}: the study file's {attr} is "
                    f"{getattr(mine, attr)!r} but the interrupted study used "
                    f"{getattr(stored, attr)!r}; resume with `hybridmoo resume "
                    f"{mine.output}` to use the stored study file (only generations and "
                    "resources may change on resume)"
                )
        if [v.__dict__ for v in stored.space.variables] != [
                v.__dict__ for v in mine.space.variables] or stored.space.fixed != mine.space.fixed:
            raise ConfigError(
                f"cannot resume {mine.output}: the search space or the fixed settings differ "
                f"from those of the interrupted study; resume with `hybridmoo resume "
                f"{mine.output}` to use the stored study file"
            )
        dropped = store.drop_partial(mine.output)
        if dropped:
            notes.append(f"{len(dropped)} half-written trial(s) discarded; they will rerun")
        recorded = store.read_trial_attrs(mine.output)
        store.begin_journal(mine.output)  # no-op when the interrupted run's journal is active
        store.set_attrs(mine.output, status="running")
        notes.append(f"resuming {mine.output}: {len(recorded)} finished trial(s) kept")
        return recorded, notes

    def _check_replay(self, tid: int, stored: dict, now: dict) -> None:
        same = stored.keys() == now.keys() and all(
            np.isclose(stored[k], now[k], rtol=1e-9, atol=0)
            if isinstance(now[k], float) else stored[k] == now[k] for k in now)
        if not same:
            raise ConfigError(
                f"cannot resume: the outer algorithm now proposes {now} for trial {tid}, but the "
                f"file records {stored}. The algorithm's state cannot be replayed (a different "
                "pymoo version?); start a new study or rerun with the pymoo that wrote this one"
            )

    def _failed(self, tid: int, error: str) -> TrialResult:
        return TrialResult.failed(error, problem=self.problem.describe(), hypernet={}, train={},
                                  seed=self.spec.seed * 100_003 + tid, n_obj=self.problem.n_obj,
                                  ref_point=self.problem.ref_point.numpy())

    def _front(self, objs: dict[int, np.ndarray]) -> list[int]:
        ok = [t for t, v in objs.items() if not np.isnan(v).any()]
        if not ok:
            return []
        F = to_minimised(np.stack([objs[t] for t in ok]), self.names)
        mask = metrics.is_nondominated(F)
        return [t for t, m in zip(ok, mask, strict=True) if m]

    def _keep_weights(self, tid: int, objs: dict, result: TrialResult) -> bool:
        if self.spec.keep_weights == "none" or not result.ok:
            return False
        if self.spec.keep_weights == "all":
            return True
        return tid in self._front(objs)


def _fmt_seconds(t: float) -> str:
    """``42 s``, ``3.5 min``, ``1.2 h``."""
    if not math.isfinite(t):
        return "?"
    if t < 90:
        return f"{t:.0f} s"
    return f"{t / 60:.1f} min" if t < 5400 else f"{t / 3600:.1f} h"


def remaining_time(mean_trial: float, done: int, total: int, pop_size: int,
                   workers: int) -> float:
    """Estimated seconds until ``total`` trials are done, ``done`` of them finished.

    Generations run one after another (pymoo's ask/tell waits for a whole population), so a
    generation of ``pop_size`` trials on ``workers`` actors takes ``ceil(pop_size / workers)``
    rounds of ``mean_trial`` seconds; the current generation's remaining trials take
    ``ceil(left / workers)`` rounds.
    """
    if done >= total:
        return 0.0
    workers = max(1, int(workers))
    in_gen = done % pop_size
    rounds = math.ceil((pop_size - in_gen) / workers) if in_gen else 0
    full_gens = (total - done - (pop_size - in_gen if in_gen else 0)) // pop_size
    rounds += full_gens * math.ceil(pop_size / workers)
    return rounds * mean_trial


class _ProgressUI:
    """Progress display: trials done, running, failed, best HV, elapsed, ETA; one line per
    generation (generation, evaluations, best HV so far, elapsed time) that also stands alone
    in non-interactive output (a log file, CI); a time estimate before the trials start.

    The ETA is :func:`remaining_time` with the mean duration of the trials finished so far
    (replayed ones included on resume) and the number of workers.
    """

    def __init__(self, enabled: bool, total: int, backend: str, *, workers: int = 1,
                 pop_size: int | None = None, budget: dict | None = None) -> None:
        self.enabled = enabled
        self.total = total
        self.workers = max(1, int(workers))
        self.pop_size = pop_size or total
        self.budget = dict(budget or {})
        self.best = float("nan")
        self.failed = 0
        self.done = 0
        self.durations: list[float] = []
        self.t0 = time.perf_counter()
        self.started: float | None = None  # when this run's first trial was submitted
        self.lines: list[str] = []  # every line printed (for tests and logs)
        if enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.console = Console(stderr=True)
            self.console.print(f"[dim]{backend}[/dim]")
            self.bar = Progress(
                TextColumn("[bold]trials"), BarColumn(), MofNCompleteColumn(),
                TextColumn("running {task.fields[running]}"),
                TextColumn("failed {task.fields[failed]}"),
                TextColumn("best HV {task.fields[best]}"), TimeElapsedColumn(),
                TextColumn("ETA {task.fields[eta]}"), console=self.console)
            self.task = self.bar.add_task("trials", total=total, running=0, failed=0, best="-",
                                          eta="-")

    def __enter__(self):
        if self.enabled:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        if self.enabled:
            self.bar.__exit__(*exc)

    def _print(self, text: str, style: str = "") -> None:
        self.lines.append(text)
        if self.enabled:
            self.console.print(f"[{style}]{text}[/{style}]" if style else text,
                               highlight=False)

    def eta(self) -> float:
        """Seconds left by :func:`remaining_time` (NaN before any trial has finished)."""
        if not self.durations:
            return float("nan")
        mean = sum(self.durations) / len(self.durations)
        return remaining_time(mean, self.done, self.total, self.pop_size, self.workers)

    def estimate(self) -> None:
        """Print the time estimate before this run's first trial starts."""
        self.started = time.perf_counter()
        left = self.total - self.done
        rounds = math.ceil(left / self.pop_size) * math.ceil(self.pop_size / self.workers) \
            if left else 0
        head = (f"{left} trials to run ({self.total // self.pop_size} generations of "
                f"{self.pop_size}) on {self.workers} worker{'s' * (self.workers != 1)}")
        if self.durations:
            text = f"{head}: about {_fmt_seconds(self.eta())} (mean of the finished trials)"
        elif "seconds" in self.budget:
            text = (f"{head}: at most about {_fmt_seconds(rounds * self.budget['seconds'])} "
                    f"({rounds} rounds of at most {self.budget['seconds']:g} s per trial)")
        else:
            per = ", ".join(f"{k} = {v:g}" for k, v in self.budget.items())
            text = (f"{head}, {rounds} rounds of one trial per worker ({per}); the time "
                    "estimate follows as soon as the first trial has finished")
        self._print(text, "dim")

    def update(self, done: int = 0, failed: int = 0, running: int | None = None,
               hv: float | None = None, seconds: float | None = None,
               replayed: bool = False) -> None:
        first = done and not self.durations and not replayed
        self.done += done
        self.failed += failed
        if seconds is not None and math.isfinite(seconds) and done:
            self.durations.append(float(seconds))
        if hv is not None and math.isfinite(hv) and not (self.best >= hv):
            self.best = hv
        if first and self.done < self.total:
            self._print(f"first trial done after {_fmt_seconds(seconds or 0.0)}: about "
                        f"{_fmt_seconds(self.eta())} left for {self.total - self.done} trials",
                        "dim")
        if self.enabled:
            eta = self.eta()
            fields = {"failed": self.failed,
                      "best": "-" if math.isnan(self.best) else f"{self.best:.5g}",
                      "eta": "-" if math.isnan(eta) else _fmt_seconds(eta)}
            if running is not None:
                fields["running"] = running
            self.bar.update(self.task, advance=done, **fields)

    def generation(self, gen: int, generations: int) -> None:
        """One line when a generation is complete (its trials told to the algorithm)."""
        best = "-" if math.isnan(self.best) else f"{self.best:.6g}"
        eta = self.eta()
        self._print(f"generation {gen}/{generations}  evaluations {self.done}/{self.total}  "
                    f"best HV {best}  elapsed {time.perf_counter() - self.t0:.1f} s"
                    + (f"  ETA {_fmt_seconds(eta)}" if self.done < self.total else ""))

    def note(self, text: str) -> None:
        self._print(text, "yellow")


def print_summary(result: StudyResult, reference_hv: float | None = None) -> None:
    """Print the outer Pareto front as a table (HV, parameter count, configuration)."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 120))
    table = Table(title=f"outer Pareto front — {len(result.front_ids)} of {len(result.trials)} "
                  f"trials ({result.failed} failed), {result.wall_time:.0f} s")
    table.add_column("trial", justify="right")
    for n in result.objective_names:
        table.add_column(n, justify="right")
    if reference_hv and "hv" in result.objective_names:
        table.add_column("HV / ref", justify="right")
    table.add_column("configuration")
    j_hv = result.objective_names.index("hv") if "hv" in result.objective_names else None
    order = sorted(result.front_ids, key=lambda t: -result.objectives[t][j_hv]
                   if j_hv is not None else t)
    for tid in order:
        v = result.objectives[tid]
        row = [str(tid)] + [f"{x:.5g}" if abs(x) < 1e5 else f"{x:,.0f}" for x in v]
        if reference_hv and j_hv is not None:
            row.append(f"{100 * v[j_hv] / reference_hv:.2f}%")
        row.append(", ".join(f"{k.split('.', 1)[1]}={format_value(x)}"
                             for k, x in result.values[tid].items()))
        table.add_row(*row)
    console.print(table)
    console.print(f"study file: {result.path}")


def format_value(x) -> str:
    """A searched value for a table: floats to 3 significant digits, the rest as they are."""
    return f"{x:.3g}" if isinstance(x, float) else str(x)


def run_study(path: str | Path, **kwargs) -> StudyResult:
    """Load, validate and run a study file in one call (see :class:`Study`)."""
    return Study(path, **kwargs).run()
