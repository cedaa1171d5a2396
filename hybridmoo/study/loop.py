"""The plain outer loop: pymoo asks for a generation, the backend trains it, pymoo is told."""

from __future__ import annotations

import json
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hybridmoo import metrics, store
from hybridmoo.errors import ConfigError
from hybridmoo.methods.trial import run_trial
from hybridmoo.record import TrialResult
from hybridmoo.study.objectives import StudyResult, outer_objectives, pymoo_algorithm, to_minimised
from hybridmoo.study.progress import _ProgressUI, print_summary
from hybridmoo.study.timelimit import trial_time_share
from hybridmoo.studyfile import StudySpec, load_study

__all__ = ["Study", "TrialRecord", "run_study"]


@dataclass
class TrialRecord:
    """What the loop knows of one trial (one record per trial, not one dict per field)."""

    values: dict  # {searched path: value}
    encoded: np.ndarray  # `(d,)` the vector pymoo proposed
    warm_from: int | None = None  # the trial whose weights it starts from
    attempts: int = 0
    result: TrialResult | None = None
    objectives: np.ndarray | None = None  # `(k,)` outer objectives, in their own directions
    has_weights: bool = False  # its weights are in the file
    replayed: bool = False  # finished before an interruption, read back from the file


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
        time_limit: wall-clock seconds for the whole study, replacing the study file's
            ``[study] time_limit`` (see :mod:`hybridmoo.studyfile`).
    """

    def __init__(self, spec: StudySpec | str | Path, *, backend: str = "ray",
                 address: str | None = None, output: str | Path | None = None,
                 overwrite: bool = False, progress: bool = True,
                 num_cpus: int | None = None, resume: bool = False,
                 working_dir: str | Path | None = None,
                 time_limit: float | None = None) -> None:
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
        if time_limit is not None:
            if not time_limit > 0:
                raise ConfigError(f"time_limit = {time_limit!r}: expected wall-clock seconds > 0")
            self.spec.time_limit = float(time_limit)
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

    def _weights_of(self, tid: int) -> dict:
        state = self._trials[tid].result.state_dict
        if state is None:  # a trial replayed from the file on resume
            state = store.read_trial(self.spec.output, tid, weights=True).state_dict
        return state

    def run(self) -> StudyResult:
        """Run every generation; returns the study's result (also written to the file)."""
        if self.spec.schedule != "none":  # multi-fidelity: hybridmoo.study.multifidelity
            from hybridmoo.study.multifidelity import run_asha

            return run_asha(self)
        spec = self.spec
        t_start = time.perf_counter()
        recorded, notes = self._open()
        algorithm = pymoo_algorithm(spec, len(self.names))
        algorithm.setup(self._pymoo_problem(), termination=("n_gen", spec.generations),
                        seed=spec.seed, verbose=False)
        t_backend = time.perf_counter()
        backend = self._backend()
        self._clock = {"startup": time.perf_counter() - t_backend, "wait": 0.0}
        self._live_backend = backend  # for tools and tests that inspect the running pool
        self._trials: dict[int, TrialRecord] = {}
        self._deadline = None if spec.time_limit is None else t_start + spec.time_limit
        self._waiting: deque[int] = deque()  # trials of this generation not yet submitted
        self._stopped = ""  # why the study ended before its last generation
        ui = _ProgressUI(self.progress, spec.n_trials, backend.describe(),
                         workers=backend.slots, pop_size=spec.pop_size, budget=spec.budget)
        try:
            with ui:
                for note in notes:
                    ui.note(note)
                for gen in range(spec.generations):
                    pop = algorithm.ask()
                    X, configs = self._decode(pop)
                    ids = list(range(len(self._trials), len(self._trials) + len(X)))
                    left = self._launch(ids, configs, X, recorded, backend, ui, gen)
                    self._collect(left, gen, backend, ui)
                    if self._stopped:  # an incomplete generation: pymoo is not told
                        ui.note(self._stopped)
                        break
                    self._tell(algorithm, pop, gen, ids, X)
                    ui.generation(gen + 1, spec.generations)
        finally:
            backend.close()
        return self._finish(t_start, backend.slots)

    # ------------------------------------------------------------------ the loop's pieces
    def _open(self) -> tuple[dict[int, dict], list[str]]:
        """Reopen the study file (resume: the recorded trials and notes) or create it; the
        journal is begun either way."""
        spec = self.spec
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
        return recorded, notes

    def _pymoo_problem(self):
        """pymoo's view of the search: the mixed variables themselves (``algorithm = "mixed"``)
        or the encoded vector in ``[0, 1]^d``."""
        from pymoo.core.problem import Problem as PymooProblem

        if self.spec.algorithm == "mixed":
            return PymooProblem(vars=self.spec.space.pymoo_vars(), n_obj=len(self.names))
        return PymooProblem(n_var=self.spec.space.n_var, n_obj=len(self.names), xl=0.0, xu=1.0)

    def _decode(self, pop) -> tuple[np.ndarray, list[dict]]:
        """The population's encoded vectors `(n, d)` and their ``{path: value}`` settings."""
        space = self.spec.space
        if self.spec.algorithm == "mixed":
            values = [space.from_pymoo(x) for x in pop.get("X")]
            return np.stack([space.encode(v) for v in values]), values
        X = np.clip(pop.get("X"), 0.0, 1.0)
        return X, [space.values(u) for u in X]

    def _launch(self, ids: list[int], values: list[dict], X: np.ndarray,
                recorded: dict[int, dict], backend, ui, gen: int = 0) -> set[int]:
        """Record the generation's trials; replay those finished before an interruption and
        submit the rest. Returns the ids still running."""
        spec = self.spec
        sources = {t: (r.encoded, self._arch_key(spec.space.config(r.values)))
                   for t, r in sorted(self._trials.items()) if r.has_weights and r.result.ok} \
            if spec.warm_start == "nearest" else {}
        left = set()
        for tid, vals, x in zip(ids, values, X, strict=True):
            rec = self._trials[tid] = TrialRecord(values=vals, encoded=x)
            if sources:
                rec.warm_from = self._warm_source(x, spec.space.config(vals), sources)
            if tid in recorded:  # finished before the interruption: replayed
                self._replay(tid, recorded[tid], ui)
                continue
            self._waiting.append(tid)
            left.add(tid)
        self._fill(left, gen, backend)
        ui.update(running=backend.running())
        if ui.started is None and left:
            ui.estimate()  # as this run's first trials start
        return left

    def _replay(self, tid: int, stored: dict, ui) -> None:
        rec = self._trials[tid]
        rec.replayed = True
        self._check_replay(tid, stored["values"], rec.values)
        rec.result = store.read_trial(self.spec.output, tid, weights=False)
        rec.objectives = np.array([stored["outer_objectives"][n] for n in self.names],
                                  dtype=np.float64)
        rec.has_weights = bool(stored["has_weights"])
        ui.update(done=1, failed=int(not rec.result.ok), hv=rec.result.hv,
                  seconds=rec.result.wall_time, replayed=True)

    def _submit(self, tid: int, backend, seconds: float | None = None) -> None:
        rec = self._trials[tid]
        warm = None if rec.warm_from is None else (rec.warm_from, self._weights_of(rec.warm_from))
        job = self.trial_spec(tid, self.spec.space.config(rec.values), warm)
        if seconds is not None:  # the trial's share of a time limit
            job = self.spec.trial_method.cap_seconds(job, seconds) or job
        backend.submit(tid, run_trial, job)
        rec.attempts += 1

    def _fill(self, left: set[int], gen: int, backend) -> None:
        """Submit the waiting trials: all at once without a time limit; with one, one per free
        worker, each with its share of the time left, until the next would not fit."""
        while self._waiting:
            cap = None
            if self._deadline is not None:
                if backend.running() >= backend.slots:
                    return
                cap = self._time_share(gen, backend.slots)
                if cap is None:
                    self._out_of_time(left, gen)
                    return
            self._submit(self._waiting.popleft(), backend, cap)

    def _time_share(self, gen: int, slots: int) -> float | None:
        """The next trial's training seconds under the time limit, or None when it does not fit
        (:func:`~hybridmoo.study.timelimit.trial_time_share`)."""
        spec = self.spec
        # a trial waiting for its retry holds its failed attempt's result
        ran = [(r.result.wall_time, r.result.train_time) for r in self._trials.values()
               if r.result is not None and r.result.wall_time > 0 and not r.replayed]
        return trial_time_share(self._deadline - time.perf_counter(),
                                len(self._waiting) + (spec.generations - gen - 1) * spec.pop_size,
                                slots, ran, spec.budget.get("seconds"))

    def _out_of_time(self, left: set[int], gen: int) -> None:
        """No further trial fits the time limit: drop the waiting ones that never started; one
        waiting for its retry is recorded with its failed attempt."""
        for tid in self._waiting:
            left.discard(tid)
            rec = self._trials[tid]
            if rec.result is not None:
                self._record(tid, rec.result, gen, "")
            else:
                del self._trials[tid]
        self._waiting.clear()
        n_run = len(self._trials)
        self._stopped = (f"time limit ({self.spec.time_limit:g} s) reached: {n_run} of "
                         f"{self.spec.n_trials} trials run; the study ends with them")

    def _collect(self, left: set[int], gen: int, backend, ui) -> None:
        """Wait for the running trials; retry failures (``resources.retries``), record the
        rest the moment each returns."""
        while left:
            t_wait = time.perf_counter()
            finished = backend.wait()
            self._clock["wait"] += time.perf_counter() - t_wait
            for tid, outcome, node in finished:
                rec = self._trials[tid]
                if not isinstance(outcome, TrialResult):  # a dead worker
                    outcome = self._failed(tid, str(outcome))
                if not outcome.ok and rec.attempts <= self.spec.retries:
                    ui.note(f"trial {tid} failed ({outcome.error.splitlines()[0]}); "
                            f"retry {rec.attempts}/{self.spec.retries}")
                    rec.result = outcome  # recorded as it is if no time is left for the retry
                    self._waiting.appendleft(tid)  # first in line, with its share of the time
                    self._fill(left, gen, backend)
                    continue
                left.discard(tid)
                self._record(tid, outcome, gen, node)
                ui.update(done=1, failed=int(not outcome.ok), running=backend.running(),
                          hv=outcome.hv, seconds=outcome.wall_time)
            self._fill(left, gen, backend)

    def _record(self, tid: int, outcome: TrialResult, gen: int, node) -> None:
        rec = self._trials[tid]
        rec.result = outcome
        rec.objectives = outer_objectives(outcome, self.names, self.reference_hv)
        rec.has_weights = self._keep_weights(tid, self._objectives(), outcome)
        store.write_trial(
            self.spec.output, outcome, trial_id=tid, generation=gen, node=node,
            keep_weights=rec.has_weights,
            attrs={"values": rec.values,
                   "outer_objectives": dict(zip(self.names, rec.objectives.tolist(),
                                                strict=True)),
                   "attempts": rec.attempts,
                   "warm_start_from": -1 if rec.warm_from is None else rec.warm_from})

    def _tell(self, algorithm, pop, gen: int, ids: list[int], X: np.ndarray) -> None:
        """Tell pymoo the generation's objectives; write the generation and the outer front."""
        Fgen = np.stack([self._trials[t].objectives for t in ids])
        pop.set("F", to_minimised(Fgen, self.names))
        algorithm.tell(infills=pop)
        store.write_generation(self.spec.output, gen, trial_ids=ids, encoded=X,
                               objectives=Fgen, configs=[self._trials[t].values for t in ids],
                               objective_names=self.names)
        self._write_outer_front()

    def _write_outer_front(self) -> None:
        objs = self._objectives()
        front = self._front(objs)
        store.write_outer_front(self.spec.output, trial_ids=front,
                                objectives=np.stack([objs[t] for t in front]) if front
                                else np.zeros((0, len(self.names))),
                                objective_names=self.names)

    def _objectives(self) -> dict[int, np.ndarray]:
        return {t: r.objectives for t, r in self._trials.items() if r.objectives is not None}

    def _finish(self, t_start: float, workers: int) -> StudyResult:
        """Drop the weights off the outer front (``keep_weights = "front"``), mark the file
        finished, end the journal, print the summary."""
        spec = self.spec
        objs = self._objectives()
        front = self._front(objs)
        if self._stopped:  # the last generation was not told: its trials join the outer front
            self._write_outer_front()
        if spec.keep_weights == "front":
            kept = {t for t, r in self._trials.items() if r.has_weights}
            store.drop_weights(spec.output, sorted(kept - set(front)))
        trials = {t: r.result for t, r in self._trials.items()}
        wall = time.perf_counter() - t_start
        trial_time = sum(r.wall_time for r in trials.values())
        failed = sum(not r.ok for r in trials.values())
        startup, wait = self._clock["startup"], self._clock["wait"]
        driver_time = wall - wait - startup
        store.set_attrs(spec.output, status="finished", wall_time=wall, trial_time=trial_time,
                        failed=failed, driver_time=driver_time, startup_time=startup,
                        stopped=self._stopped)
        store.end_journal(spec.output)  # finished and durable: the journal is no longer needed
        result = StudyResult(path=spec.output, trials=trials,
                             values={t: r.values for t, r in self._trials.items()},
                             objectives=objs, front_ids=front, objective_names=self.names,
                             wall_time=wall, trial_time=trial_time, failed=failed,
                             extra={"driver_time": driver_time, "wait_time": wait,
                                    "startup_time": startup, "workers": workers,
                                    "stopped": self._stopped})
        if self.progress:
            print_summary(result, self.reference_hv)
        return result

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


def run_study(path: str | Path, **kwargs) -> StudyResult:
    """Load, validate and run a study file in one call (see :class:`Study`)."""
    return Study(path, **kwargs).run()
