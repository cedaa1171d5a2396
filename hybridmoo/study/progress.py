"""What a running study shows: the progress display, time estimates and the final summary."""

from __future__ import annotations

import math
import time

from hybridmoo.study.objectives import StudyResult

__all__ = ["format_value", "print_summary", "remaining_time"]


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
