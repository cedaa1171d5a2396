"""Ray backend: a pool of actors, local Ray started on demand or an existing cluster.

``import ray`` happens only here. Each actor runs the jobs it is given, ``fn(payload, cache)``,
and keeps its ``cache`` (e.g. problems it has built, with their data) between jobs. An actor
that dies during a job (killed, out of memory, node lost) is reported as a :class:`WorkerLost`
outcome of that job and replaced; the caller records the failure and may retry.
"""

from __future__ import annotations

import math
import os
from collections import deque
from pathlib import Path

from hybridmoo.backends.base import WorkerLost
from hybridmoo.errors import ConfigError

__all__ = ["RayBackend", "WorkerLost", "start_ray"]


_ACTOR = None


def _actor_class():
    global _ACTOR
    if _ACTOR is None:
        import ray

        @ray.remote(max_restarts=0, max_task_retries=0)
        class Worker:
            """Runs ``fn(payload, cache)`` jobs; keeps its cache between jobs."""

            def __init__(self, threads: int) -> None:
                import torch

                torch.set_num_threads(threads)
                self.cache: dict = {}

            def run(self, fn, payload):
                import socket

                return fn(payload, self.cache), socket.gethostname()

            def pid(self) -> int:
                return os.getpid()

        _ACTOR = Worker
    return _ACTOR


def _loopback_only() -> None:
    """Make a Ray started from this process bind 127.0.0.1 only, whatever was imported before.

    Ray reads ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER`` once, into
    ``ray._private.ray_constants.ENABLE_RAY_CLUSTER``, when it is first imported; the processes
    it spawns (GCS, raylet, workers, the runtime-env agent) read the environment variable
    themselves. Both are set here: the variable for the children, the constant for a ``ray``
    that someone imported before this call.
    """
    import sys

    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    constants = sys.modules.get("ray._private.ray_constants")
    if constants is not None:
        constants.ENABLE_RAY_CLUSTER = False


def start_ray(address: str | None = None, num_cpus: int | None = None,
              num_gpus: int | None = None, runtime_env: dict | None = None) -> bool:
    """Connect to ``address`` (``"auto"`` or ``host:port``) or start a local Ray on 127.0.0.1.

    A local Ray listens and talks on the loopback interface only: Ray resolves 127.0.0.1 to the
    machine's network address unless ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` is set before
    ``ray`` is first imported, which this function does (keep it so if you import ray earlier).
    ``runtime_env`` is the job's (Ray ships local folders only at this level). Returns whether
    Ray was started or joined here (``False``: it was already initialised in this process).
    """
    if not address:
        _loopback_only()
    import ray

    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    kwargs = dict(include_dashboard=False, log_to_driver=False, logging_level="WARNING",
                  configure_logging=True)
    if runtime_env:
        kwargs["runtime_env"] = dict(runtime_env)
    if address:
        ray.init(address=address, **kwargs)
    else:
        ray.init(num_cpus=num_cpus, num_gpus=num_gpus, _node_ip_address="127.0.0.1", **kwargs)
    return True


def _actor_env(runtime_env: dict | None) -> dict | None:
    """A per-actor runtime_env for a Ray initialised before hybridmoo's (e.g. by the user).

    Ray uploads local folders only with the job's runtime_env (``ray.init``); here the folders
    are put on the workers' ``PYTHONPATH`` instead, which reaches workers on this machine.
    """
    if not runtime_env:
        return None
    env = {k: v for k, v in runtime_env.items() if k not in ("working_dir", "py_modules",
                                                              "excludes")}
    paths = [runtime_env["working_dir"]] if "working_dir" in runtime_env else []
    paths += [str(Path(m).parent) for m in runtime_env.get("py_modules", [])]
    if paths:
        env_vars = dict(env.get("env_vars", {}))
        old = env_vars.get("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
        env_vars["PYTHONPATH"] = os.pathsep.join(paths + ([old] if old else []))
        env["env_vars"] = env_vars
    return env or None


class RayBackend:
    """Jobs on a pool of Ray actors.

    Args:
        address: existing cluster (``"auto"`` or ``host:port``); ``None`` starts a local Ray.
        cpus_per_trial, gpus_per_trial: resources each actor reserves (fractions allowed); one
            job runs on an actor at a time.
        workers: number of actors, or ``"auto"`` (as many as the cluster's free resources fit).
        max_workers: upper bound for ``"auto"`` (e.g. the population size).
        threads: torch threads per actor (default ``max(1, floor(cpus_per_trial))``).
        num_cpus: CPUs of a locally started Ray (default: all).
        runtime_env: Ray ``runtime_env`` of every actor (e.g. ``{"working_dir": DIR}`` so that
            workers import the user's problem module); ``None``: the cluster's default.
    """

    def __init__(self, address: str | None = None, cpus_per_trial: float = 1.0,
                 gpus_per_trial: float = 0.0, workers: int | str = "auto",
                 max_workers: int | None = None, threads: int | None = None,
                 num_cpus: int | None = None, runtime_env: dict | None = None) -> None:
        # before `import ray`: see start_ray
        started = start_ray(address, num_cpus=num_cpus, runtime_env=runtime_env)
        import ray

        self._ray = ray
        res = ray.cluster_resources()
        if workers == "auto":
            n = int(res.get("CPU", 1) // cpus_per_trial)
            if gpus_per_trial > 0:
                n = min(n, int(res.get("GPU", 0) // gpus_per_trial))
            n = max(1, n)
            if max_workers is not None:
                n = min(n, max_workers)
        else:
            n = int(workers)
        if gpus_per_trial > 0 and res.get("GPU", 0) < gpus_per_trial:
            raise ConfigError(
                f"resources.gpus_per_trial = {gpus_per_trial} but the Ray cluster has "
                f"{res.get('GPU', 0)} GPUs; set gpus_per_trial = 0 to train on CPUs"
            )
        self.cpus = cpus_per_trial
        self.gpus = gpus_per_trial
        self.threads = threads or max(1, math.floor(cpus_per_trial))
        self.runtime_env = None if started else _actor_env(runtime_env)
        self.slots = n
        self._pid_refs: dict = {}
        self._idle: deque = deque(self._new_actor() for _ in range(n))
        self._queue: deque = deque()
        self._pending: dict = {}  # ref -> (key, actor)

    def _new_actor(self):
        opts = {"num_cpus": self.cpus, "num_gpus": self.gpus}
        if self.runtime_env:
            opts["runtime_env"] = self.runtime_env
        actor = _actor_class().options(**opts).remote(self.threads)
        # asked now, answered before any job: a busy actor could not answer later
        self._pid_refs[actor] = actor.pid.remote()
        return actor

    def describe(self) -> str:
        """One line for the progress display."""
        nodes = sum(1 for n in self._ray.nodes() if n.get("Alive"))
        cpus = int(self._ray.cluster_resources().get("CPU", 0))
        return (f"Ray backend: {self.slots} actors × ({self.cpus:g} CPU, {self.gpus:g} GPU), "
                f"{self.threads} torch thread{'s' if self.threads != 1 else ''} each; cluster: "
                f"{cpus} CPUs, {nodes} node{'s' if nodes != 1 else ''}")

    def actor_pids(self) -> list[int]:
        """Process ids of the actors busy with a job (for tests that kill one)."""
        actors = [a for _, a in self._pending.values()]
        return self._ray.get([self._pid_refs[a] for a in actors])

    def submit(self, key, fn, payload) -> None:
        """Run ``fn(payload, cache)`` on an idle actor, or queue it until one frees up."""
        self._queue.append((key, fn, payload))
        self._dispatch()

    def _dispatch(self) -> None:
        while self._queue and self._idle:
            key, fn, payload = self._queue.popleft()
            actor = self._idle.popleft()
            self._pending[actor.run.remote(fn, payload)] = (key, actor)

    def running(self) -> int:
        """Jobs started or queued and not yet returned."""
        return len(self._pending) + len(self._queue)

    def wait(self) -> list[tuple[object, object, str]]:
        """Block until at least one job finishes; a dead actor yields :class:`WorkerLost`."""
        ray = self._ray
        if not self._pending:
            return []
        ready, _ = ray.wait(list(self._pending), num_returns=1)
        out = []
        for ref in ready:
            key, actor = self._pending.pop(ref)
            try:
                result, node = ray.get(ref)
                self._idle.append(actor)
            except ray.exceptions.RayActorError as exc:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "actor died"
                out.append((key, WorkerLost(f"the worker running this job died: "
                                                 f"{reason}"), ""))
                self._pid_refs.pop(actor, None)
                self._idle.append(self._new_actor())  # replace it
                continue
            except ray.exceptions.RayTaskError as exc:
                out.append((key, WorkerLost(f"the job raised: {exc}"), ""))
                self._idle.append(actor)
                continue
            out.append((key, result, node))
        self._dispatch()
        return out

    def close(self) -> None:
        """Kill the actors (the Ray instance itself is left running for reuse)."""
        for actor in list(self._idle) + [a for _, a in self._pending.values()]:
            try:
                self._ray.kill(actor)
            except Exception:  # noqa: BLE001 - already dead
                pass
        self._idle.clear()
        self._pending.clear()
