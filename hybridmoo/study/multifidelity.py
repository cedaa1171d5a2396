"""Multi-fidelity studies: asynchronous successive halving (MO-ASHA) inside the outer loop.

With ``[algorithm] schedule = "asha"`` (:mod:`hybridmoo.studyfile`), :class:`AshaStudy` runs a
study as follows. Budgets are **train steps**: rung k trains to ``min_budget·η^k`` steps, the
last rung to ``max_budget`` (= ``[budget] steps``); see :func:`~hybridmoo.scheduler.rung_budgets`.
Or training seconds (``[budget] seconds``): then each rung's run anneals to its own end and a
promoted trial continues with the cosine the longer budget gives it (``lr_restart``, a warm
restart). With ``[study] time_limit`` each rung job's training is capped to end by the deadline
(less the median set-up and evaluation of the jobs so far) and, once no job fits, nothing more
starts: the interrupted generation is not told to pymoo and the file's ``stopped`` says why.

- pymoo proposes a generation of configurations (ask/tell, as in :class:`~hybridmoo.study.Study`).
- A free worker first continues a promotable trial (:meth:`AshaScheduler.next_promotion`: the
  best ⌊n/η⌋ of a rung by non-dominated rank, then crowding, of the study's outer objectives),
  else starts one of the generation's new configurations at rung 0. A promoted trial continues
  from its own saved state (weights, optimiser, counters, RNG, trace:
  :mod:`hybridmoo.continuation`): its payload carries the state and the backend runs it as any
  trial. Every trial's cosine schedule spans ``max_budget`` steps (``train.lr_horizon``), so the
  steps of a stopped trial are the first steps of the full run.
- The generation ends when its new configurations have all reported rung 0 and no promotion is
  possible any more (nothing running). Its trials are then told to pymoo **with the objectives
  at the highest rung each reached by then** (the best information there is at that time;
  pymoo's survival then compares trials of different budgets, as MO-ASHA's searcher does). A
  trial of an earlier generation promoted later updates the study's outer front and its record
  in the file, not the values pymoo was told (pymoo's tell is final).

**Inherited weights** (``[algorithm] inherit = "pbt"``: population-based training driven by
pymoo's operators). A free worker with no promotion to run takes a trial from the bottom of a
rung (below the best ⌊n/η⌋, not promoted, not replaced yet: :meth:`AshaScheduler.next_exploit`)
and hands its place to a **child**: a new trial that continues the saved state (weights,
optimiser, counters) of one of that rung's best ⌊n/η⌋ (drawn at random) to the next rung, with
the donor's configuration mutated by the pymoo algorithm's own mutation operator (kept within
the search space; drawn again until a value changes). Where the mutation changes the
architecture only the parameters whose names and shapes match transfer, and the optimiser starts
afresh (:func:`hybridmoo.continuation.inherit_state`). A child's record continues its parent's
trace; its lineage (parent, the trial it replaced, the rung and step it took over, the changed
values) is stored with the trial (attribute ``lineage``) and in an ``inherit`` event, and
exported (``export --what lineage``). Children are told to pymoo with their generation (real-coded
genetic algorithms: NSGA-II, NSGA-III, SMS-EMOA; pymoo's survival then ranks them with the
others), so a good child's configuration breeds on. Only a worker that would otherwise start a new
configuration or wait takes a child: promotions come first.

Records (:mod:`hybridmoo.store`): every rung result goes to ``/asha/rungs/<trial>-<rung>`` (the
result at that rung, its continuation state below the last rung, its weights with
``keep_weights = "all"``) the moment it returns; ``/trials/<id>``
holds each trial at its highest rung (replaced on promotion); ``/asha/schedule`` holds the
scheduler's state and the event log (``rung``, ``promote``, ``stop``, ``finished``, ``failed``).
On ``--resume`` the scheduler is rebuilt from the rung records, completed generations are
replayed from ``/generations`` and the interrupted one continues: nothing finished is rerun; a
trial that was training when the driver died restarts from its last recorded rung.
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

import numpy as np

from hybridmoo import store
from hybridmoo.errors import ConfigError
from hybridmoo.methods.trial import STATE_KEY, run_trial
from hybridmoo.record import TrialResult
from hybridmoo.scheduler import AshaScheduler
from hybridmoo.study.objectives import StudyResult, outer_objectives, pymoo_algorithm, to_minimised
from hybridmoo.study.progress import _ProgressUI, print_summary
from hybridmoo.studyfile import load_study

__all__ = ["AshaStudy", "run_asha"]


def run_asha(study) -> Any:
    """Run ``study`` (a :class:`~hybridmoo.study.Study` whose spec has ``schedule = "asha"``)
    with the multi-fidelity schedule; returns its :class:`~hybridmoo.study.StudyResult`."""
    return AshaStudy(study).run()


def _lineage(event: dict) -> dict:
    """A child's lineage from its ``inherit`` event."""
    return {k: event[k] for k in ("parent", "replaces", "rung", "step", "generation",
                                  "train_time_before", "changed")}


class AshaStudy:
    """One multi-fidelity run of a :class:`~hybridmoo.study.Study` (see the module docstring)."""

    def __init__(self, study) -> None:
        self.study = study
        self.spec = spec = study.spec
        a = spec.asha
        self.sched = AshaScheduler(a["min_budget"], a["max_budget"], a["eta"])
        self.unit = a.get("unit", "steps")  # what a rung budget counts: train steps or seconds
        self._deadline: float | None = None  # with [study] time_limit
        self.overheads: list[float] = []  # set-up and evaluation seconds of each rung job
        self.names = list(spec.objectives)
        self.path = spec.output
        self.trials: dict[int, TrialResult] = {}  # each trial at its highest rung
        self.values: dict[int, dict] = {}
        self.objs: dict[int, np.ndarray] = {}
        self.gen_of: dict[int, int] = {}
        self.events: list[dict] = []
        self.states: dict[int, bytes] = {}  # trial -> continuation state at its highest rung
        self.attempts: dict[tuple[int, int], int] = {}
        self.weight_ids: set[int] = set()
        self.stopped: dict[int, int] = {}  # trial -> rung its last stop was recorded at
        self.failed = 0
        self.trial_time = 0.0  # wall seconds of every rung job
        self.train_seconds = 0.0  # training seconds of every rung job (the compute)
        self.wait_time = 0.0
        self.lineage: dict[int, dict] = {}  # child -> its lineage (inherit = "pbt")
        self.mutation = None  # set in run() when inherit = "pbt"

    # ------------------------------------------------------------------ file
    def _create(self) -> None:
        spec, study = self.spec, self.study
        store.create(self.path, kind="study", problem=study.problem.describe(),
                     study_text=spec.text, overwrite=study.overwrite, extra_attrs={
                         "study_name": spec.name, "seed": spec.seed,
                         "objectives": json.dumps(self.names), "algorithm": spec.algorithm,
                         "search_space": json.dumps(
                             [v.__dict__ for v in spec.space.variables], default=list),
                         "ref_point": json.dumps(study.problem.ref_point.tolist()),
                         "schedule": json.dumps({"name": spec.schedule, **spec.asha}),
                         "status": "running"})

    def _restore(self) -> tuple[dict[int, dict], dict[int, dict], list[str]]:
        """Reopen the file: rebuild the scheduler from the rung records; returns the recorded
        trials' attributes, the told generations and notes."""
        recorded, notes = self.study._reopen()
        with store.open_checked(self.path) as f:
            stored = load_study(text=str(f.attrs.get("study_text", "")))
        if (stored.schedule, stored.asha, stored.inherit) != \
                (self.spec.schedule, self.spec.asha, self.spec.inherit):
            raise ConfigError(
                f"cannot resume {self.path}: the study file's schedule is {self.spec.schedule!r} "
                f"{self.spec.asha} (inherit = {self.spec.inherit!r}) but the interrupted study "
                f"used {stored.schedule!r} {stored.asha} (inherit = {stored.inherit!r}); resume "
                f"with `hybridmoo resume {self.path}` to use the stored study file")
        rungs = store.read_rungs(self.path)
        _, events = store.read_schedule(self.path)
        born = {e["trial"]: e for e in events if e["event"] == "inherit"}
        reported = {tid for tid, _ in rungs}
        # a child whose first rung never came back is undone: its loser may be replaced again
        self.events = [e for e in events if e["event"] != "inherit" or e["trial"] in reported]
        results: list[dict] = [{} for _ in self.sched.budgets]
        for (tid, k), a in sorted(rungs.items()):
            obj = np.array([a["outer_objectives"][n] for n in self.names], dtype=np.float64)
            results[k][str(tid)] = to_minimised(obj, self.names).tolist()
            self.values[tid] = a["values"]
            self.gen_of[tid] = int(a["generation"])
            self.objs[tid] = obj
            self.trial_time += float(a["wall_time"])
            self.train_seconds += float(a["rung_train_time"])
        self.sched = AshaScheduler.from_state({
            **self.sched.state(), "results": results,
            "promoted": [sorted(results[k + 1]) for k in range(len(results) - 1)],
            "parents": {str(c): [e["parent"], e["rung"] - 1, e["replaces"]]
                        for c, e in born.items()}})
        for c in self.sched.parents:
            self.lineage[c] = _lineage(born[c])
        for e in self.events:
            if e["event"] == "stop":
                self.stopped[e["trial"]] = e["rung"]
        for tid in sorted(self.values):
            k = self.sched.rung_of(tid)
            rec = recorded.get(tid)
            if rec is None or int(json.loads(rec.get("rung", "-1"))) < k:
                # crashed between the rung record and the trial record: write the latter now
                result, _ = store.read_rung(self.path, tid, k, weights=True)
                self._write_trial(tid, k, result, "", replace=rec is not None)
            self.trials[tid] = store.read_trial(self.path, tid, weights=False)
        for tid, rec in recorded.items():
            if tid not in self.values:  # failed at rung 0: no rung record
                self.values[tid] = rec["values"]
                self.gen_of[tid] = int(rec["generation"])
                self.trials[tid] = store.read_trial(self.path, tid, weights=False)
                self.objs[tid] = np.array([rec["outer_objectives"][n] for n in self.names],
                                          dtype=np.float64)
                self.failed += 1
                self.trial_time += self.trials[tid].wall_time
            elif rec.get("has_weights"):
                self.weight_ids.add(tid)
        notes.append(f"schedule: {sum(len(r) for r in self.sched.results)} rung result(s) "
                     "kept")
        return recorded, store.read_generations(self.path), notes

    def _objectives(self, result: TrialResult) -> np.ndarray:
        return outer_objectives(result, self.names, self.study.reference_hv)

    def _save_schedule(self) -> None:
        store.write_schedule(self.path, self.sched.state(), self.events)

    def _write_trial(self, tid: int, rung: int, result: TrialResult, node: str,
                     replace: bool) -> None:
        keep = self.study._keep_weights(tid, self.objs, result)
        if keep:
            self.weight_ids.add(tid)
        store.write_trial(
            self.path, result, trial_id=tid, generation=self.gen_of[tid], node=node,
            keep_weights=keep, replace=replace,
            attrs={"values": self.values[tid],
                   "outer_objectives": dict(zip(self.names, self.objs[tid].tolist(),
                                                strict=True)),
                   "attempts": self.attempts.get((tid, rung), 1),
                   "warm_start_from": self.lineage.get(tid, {}).get("parent", -1),
                   "lineage": self.lineage.get(tid),
                   "rung": rung, "budget": self.sched.budgets[rung]})

    # ------------------------------------------------------------------ jobs
    def _job(self, tid: int, rung: int, inherit: bytes | None = None) -> dict:
        """The backend's job training ``tid`` to ``rung`` (``inherit``: a child's parent state,
        read from the file when not given)."""
        job = self.study.trial_spec(tid, self.spec.space.config(self.values[tid]))
        job["train"][self.unit] = self.sched.budgets[rung]
        if self.unit == "steps":  # (seconds: each rung anneals to its own end)
            job["train"]["lr_horizon"] = self.sched.max_budget
        job["train"]["checkpoint"] = "last"  # a promoted trial continues from its last weights
        job["save_state"] = rung < self.sched.top
        if tid in self.lineage and rung == self.sched.entry_rung(tid):  # a child's first rung
            job["inherit_state"] = inherit if inherit is not None else \
                self._at_rung(self.lineage[tid]["parent"], rung - 1)[1]
        elif rung > 0:
            state = self.states.get(tid)
            if state is None:  # resumed: read it from the file
                state = store.read_rung(self.path, tid, rung - 1)[1]
            job["resume_state"] = state
            job["lr_restart"] = self.unit == "seconds"
        return self._capped(job, tid, rung)

    def _capped(self, job: dict, tid: int, rung: int) -> dict:
        """With a time limit: the job's training seconds end by the deadline (less the median
        set-up and evaluation time of the rung jobs so far); the rung keeps its budget."""
        if self._deadline is None:
            return job
        left, overhead = self._deadline - time.perf_counter(), self._overhead()
        before = 0.0
        if rung > self.sched.entry_rung(tid):
            before = self.trials[tid].train_time
        elif tid in self.lineage:
            before = self.lineage[tid]["train_time_before"]
        cap = before + max(left - overhead, 0.1 * max(left, 0.01))  # (a retry may come late)
        seconds = job["train"].get("seconds")
        if seconds is None or cap < seconds:
            job = self.spec.trial_method.cap_seconds(job, cap) or job
        return job

    def _at_rung(self, tid: int, rung: int) -> tuple[float, bytes]:
        """``tid``'s training seconds and continuation state at ``rung`` (from memory when that
        is its latest rung, else from the rung record)."""
        if self.sched.rung_of(tid) == rung and tid in self.states:
            return self.trials[tid].train_time, self.states[tid]
        result, state = store.read_rung(self.path, tid, rung)
        return result.train_time, state

    def _mutated(self, values: dict, rng: np.random.Generator) -> dict:
        """``values`` mutated by the algorithm's mutation in the encoded space (the search
        space's bounds), drawn again (up to 20 times) until some value changes."""
        from pymoo.core.population import Population

        x = self.spec.space.encode(values)
        new = values
        for _ in range(20):
            pop = self.mutation.do(self._real_problem, Population.new(X=x[None].copy()),
                                   random_state=rng)
            new = self.spec.space.values(np.clip(pop.get("X")[0], 0.0, 1.0))
            if new != values:
                break
        return new

    def _exploit(self, backend, gen: int) -> bool:
        """Start a child in a bottom trial's place (see the module docstring); whether one
        started."""
        found = self.sched.next_exploit()
        if found is None:
            return False
        loser, k, donors = found
        rng = np.random.default_rng([self.spec.seed, loser, k, 0x5EED])
        parent = donors[int(rng.integers(len(donors)))]
        values = self._mutated(self.values[parent], rng)
        child = max([*self.values, *self.sched.running, -1]) + 1
        before, state = self._at_rung(parent, k)
        self.sched.start_child(child, parent, k + 1, replaces=loser)
        self.values[child] = values
        self.gen_of[child] = gen
        old = self.values[parent]
        event = {"event": "inherit", "trial": child, "parent": parent, "replaces": loser,
                 "rung": k + 1, "step": self.sched.budgets[k], "generation": gen,
                 "train_time_before": before,
                 "changed": {p: [old[p], values[p]] for p in values if values[p] != old[p]}}
        self.lineage[child] = _lineage(event)
        self.events.append(event)
        self._save_schedule()
        self.attempts[(child, k + 1)] = 1
        backend.submit(child, run_trial, self._job(child, k + 1, inherit=state))
        return True

    def _submit(self, backend, tid: int, rung: int) -> None:
        if (tid, rung) not in self.attempts:
            self.sched.start(tid, rung)
            if rung > 0:
                self.events.append({"event": "promote", "trial": tid, "rung": rung,
                                    "budget": self.sched.budgets[rung]})
                self._save_schedule()
        self.attempts[(tid, rung)] = self.attempts.get((tid, rung), 0) + 1
        backend.submit(tid, run_trial, self._job(tid, rung))

    def _finished(self, backend, tid: int, outcome, node: str, ui) -> None:
        rung = self.sched.running[tid]
        if not isinstance(outcome, TrialResult):
            outcome = self.study._failed(tid, str(outcome))
        state = outcome.extra.pop(STATE_KEY, None)
        self.trial_time += outcome.wall_time
        if not outcome.ok and self.attempts[(tid, rung)] <= self.spec.retries:
            ui.note(f"trial {tid} failed at rung {rung} ({outcome.error.splitlines()[0]}); "
                    f"retry {self.attempts[(tid, rung)]}/{self.spec.retries}")
            self._submit(backend, tid, rung)
            return
        entry = self.sched.entry_rung(tid)
        if not outcome.ok:
            self.sched.abandon(tid)
            self.events.append({"event": "failed", "trial": tid, "rung": rung,
                                "error": outcome.error.splitlines()[0] if outcome.error else ""})
            if rung == entry:  # no result at all: recorded as a failed trial
                self.failed += 1
                self.trials[tid] = outcome
                self.objs[tid] = self._objectives(outcome)
                self._write_trial(tid, rung, outcome, node, replace=False)
            self._save_schedule()
            ui.update(done=int(rung == 0), failed=int(rung == 0), running=backend.running())
            return
        obj = self._objectives(outcome)
        before = self.trials[tid].train_time if rung > entry else \
            self.lineage[tid]["train_time_before"] if tid in self.lineage else 0.0
        rung_train = outcome.train_time - before
        self.train_seconds += rung_train
        self.overheads.append(max(0.0, outcome.wall_time - rung_train))
        self.sched.report(tid, rung, to_minimised(obj, self.names))
        store.write_rung(self.path, outcome, trial_id=tid, rung=rung,
                         generation=self.gen_of[tid], state=state,
                         keep_weights=self.spec.keep_weights == "all",
                         attrs={"values": self.values[tid],
                                "outer_objectives": dict(zip(self.names, obj.tolist(),
                                                             strict=True)),
                                "budget": self.sched.budgets[rung],
                                "rung_train_time": rung_train,
                                "attempts": self.attempts[(tid, rung)]})
        self.objs[tid] = obj
        self._write_trial(tid, rung, outcome, node, replace=rung > entry)
        outcome.state_dict = None  # recorded; the continuation state is all a promotion needs
        self.trials[tid] = outcome
        if state is not None:
            self.states[tid] = state
        else:
            self.states.pop(tid, None)
        self.events.append({"event": "finished" if rung == self.sched.top else "rung",
                            "trial": tid, "rung": rung, "budget": self.sched.budgets[rung],
                            "objectives": obj.tolist(), "train_time": outcome.train_time,
                            "steps": int(outcome.steps), "hv": float(outcome.hv)})
        self._save_schedule()
        ui.update(done=int(rung == 0), running=backend.running(), hv=outcome.hv,
                  seconds=outcome.wall_time)

    def _run_generation(self, backend, ids: list[int], ui, gen: int) -> None:
        """Train the generation's new configurations, every promotion and (``inherit =
        "pbt"``) every child until none is left."""
        queue = [t for t in ids if t not in self.trials]
        while True:
            while backend.running() < backend.slots:
                if self._out_of_time():
                    queue.clear()  # (never started: the generation is not told to pymoo)
                    break
                promo = self.sched.next_promotion()
                if promo is not None:
                    self._submit(backend, *promo)
                elif self.mutation is not None and self._exploit(backend, gen):
                    continue
                elif queue:
                    self._submit(backend, queue.pop(0), 0)
                else:
                    break
            if backend.running() == 0:
                return
            t0 = time.perf_counter()
            finished = backend.wait()
            self.wait_time += time.perf_counter() - t0
            for tid, outcome, node in finished:
                self._finished(backend, tid, outcome, node, ui)

    def _overhead(self) -> float:
        """Median set-up and evaluation seconds of the rung jobs so far (0 before any)."""
        return statistics.median(self.overheads) if self.overheads else 0.0

    def _out_of_time(self) -> bool:
        """With a time limit: whether no further rung job fits — less time is left than the
        median set-up and evaluation of the jobs so far plus half the first rung (seconds), or
        than the median first-rung job's wall time (steps)."""
        if self._deadline is None:
            return False
        left = self._deadline - time.perf_counter()
        if self.unit == "seconds":
            return left <= self._overhead() + 0.5 * self.sched.budgets[0]
        walls = [self.trials[t].wall_time for t in self.trials
                 if self.sched.entry_rung(t) == 0 and self.trials[t].wall_time > 0]
        return left <= (statistics.median(walls) if walls else 0.0)

    def _setup_inherit(self, algorithm, mixed: bool, n_obj: int) -> bool:
        """With ``inherit = "pbt"``: the mutation children are drawn with (the algorithm's own;
        polynomial mutation for the mixed-variable GA and MOEA/D, whose operators work on
        other encodings); returns whether children can be told to the algorithm."""
        if self.spec.inherit != "pbt":
            return False
        from pymoo.algorithms.base.genetic import GeneticAlgorithm
        from pymoo.algorithms.moo.moead import MOEAD
        from pymoo.core.problem import Problem as PymooProblem
        from pymoo.operators.mutation.pm import PM

        self._real_problem = PymooProblem(n_var=self.spec.space.n_var, n_obj=n_obj, xl=0.0,
                                          xu=1.0)
        real_ga = isinstance(algorithm, GeneticAlgorithm) and not isinstance(algorithm, MOEAD) \
            and not mixed
        own = getattr(getattr(algorithm, "mating", None), "mutation", None)
        self.mutation = own if real_ga and own is not None else PM(eta=20)
        return real_ga

    def _record_stops(self, gen: int) -> None:
        for tid in self.sched.stopped():
            k = self.sched.rung_of(tid)
            if self.stopped.get(tid) != k:
                self.stopped[tid] = k
                self.events.append({"event": "stop", "trial": tid, "rung": k,
                                    "budget": self.sched.budgets[k], "generation": gen})

    # ------------------------------------------------------------------ the loop
    def run(self) -> Any:
        """Run every generation with the schedule; returns the study's result."""
        spec, study = self.spec, self.study
        t_start = time.perf_counter()
        if spec.time_limit is not None:
            self._deadline = t_start + spec.time_limit
        notes: list[str] = []
        told: dict[int, dict] = {}
        recorded: dict[int, dict] = {}
        if study.resume and self.path.exists():
            recorded, told, notes = self._restore()
        else:
            self._create()
        store.begin_journal(self.path)
        k = len(self.names)
        mixed = spec.algorithm == "mixed"
        algorithm = pymoo_algorithm(spec, k)
        algorithm.setup(study._pymoo_problem(), termination=("n_gen", spec.generations),
                        seed=spec.seed, verbose=False)
        tell_children = self._setup_inherit(algorithm, mixed, k)
        t_backend = time.perf_counter()
        backend = study._backend()
        startup_time = time.perf_counter() - t_backend
        study._live_backend = backend
        ui = _ProgressUI(study.progress, spec.n_trials, backend.describe(),
                         workers=backend.slots, pop_size=spec.pop_size, budget=spec.budget)
        next_id = 0
        try:
            with ui:
                for note in notes:
                    ui.note(note)
                for gen in range(spec.generations):
                    pop = algorithm.ask()
                    X, gen_values = study._decode(pop)
                    ids = list(range(next_id, next_id + len(X)))
                    for tid, vals in zip(ids, gen_values, strict=True):
                        if tid in self.values:  # recorded before the interruption
                            study._check_replay(tid, self.values[tid], vals)
                        self.values[tid] = vals
                        self.gen_of[tid] = gen
                    if gen in told:  # replayed: pymoo is told what it was told then
                        all_ids = told[gen]["trial_ids"]
                        if all_ids[:len(ids)] != ids:
                            raise ConfigError(f"cannot resume {self.path}: generation {gen} "
                                              f"records trials {told[gen]['trial_ids']}, the "
                                              f"replay proposes {ids}")
                        Fgen = np.asarray(told[gen]["objectives"], dtype=np.float64)
                    else:
                        if ui.started is None:
                            ui.estimate()
                        self._run_generation(backend, ids, ui, gen)
                        if self._deadline is not None and \
                                any(t not in self.objs for t in ids):  # the time limit
                            stopped = (f"time limit ({spec.time_limit:g} s) reached in "
                                       f"generation {gen}")
                            store.set_attrs(self.path, stopped=stopped)
                            ui.note(stopped)
                            self._record_stops(gen)
                            self._save_schedule()
                            for t in ids:  # never started
                                if t not in self.objs:
                                    self.values.pop(t, None)
                            break
                        kids = sorted(c for c in self.lineage
                                      if self.gen_of[c] == gen and c in self.objs)
                        all_ids = ids + kids
                        Fgen = np.stack([self.objs[t] for t in all_ids])
                        self._record_stops(gen)
                        self._save_schedule()
                    next_id = max(next_id + len(ids), max(all_ids) + 1)
                    kids = all_ids[len(ids):]
                    pop.set("F", to_minimised(Fgen[:len(ids)], self.names))
                    Xkids = np.stack([spec.space.encode(self.values[c]) for c in kids]) \
                        if kids else np.zeros((0, X.shape[1]))
                    if kids and tell_children:  # pymoo's survival ranks them with the rest
                        from pymoo.core.population import Population

                        more = Population.new(X=Xkids)
                        more.set("F", to_minimised(Fgen[len(ids):], self.names))
                        pop = Population.merge(pop, more)
                    algorithm.tell(infills=pop)
                    ui.generation(gen + 1, spec.generations)
                    if gen not in told:
                        Xall = np.concatenate([X, Xkids])
                        store.write_generation(self.path, gen, trial_ids=all_ids, encoded=Xall,
                                               objectives=Fgen,
                                               configs=[self.values[t] for t in all_ids],
                                               objective_names=self.names)
                    front = study._front(self.objs)
                    store.write_outer_front(
                        self.path, trial_ids=front, objective_names=self.names,
                        objectives=np.stack([self.objs[t] for t in front]) if front
                        else np.zeros((0, k)))
        finally:
            backend.close()
        front = study._front(self.objs)
        if spec.keep_weights == "front":
            store.drop_weights(self.path, sorted(self.weight_ids - set(front)))
        wall = time.perf_counter() - t_start
        driver_time = wall - self.wait_time - startup_time
        counts = [len(r) for r in self.sched.results]
        store.set_attrs(self.path, status="finished", wall_time=wall,
                        trial_time=self.trial_time, failed=self.failed,
                        driver_time=driver_time, startup_time=startup_time,
                        train_seconds=self.train_seconds, rung_counts=counts)
        store.end_journal(self.path)
        result = StudyResult(
            path=self.path, trials=self.trials, values=self.values, objectives=self.objs,
            front_ids=front, objective_names=self.names, wall_time=wall,
            trial_time=self.trial_time, failed=self.failed,
            extra={"driver_time": driver_time, "wait_time": self.wait_time,
                   "startup_time": startup_time, "workers": backend.slots,
                   "train_seconds": self.train_seconds, "rung_counts": counts,
                   "rung_budgets": list(self.sched.budgets), "schedule": self.sched.state(),
                   "events": list(self.events)})
        if study.progress:
            print_summary(result, study.reference_hv)
        return result

