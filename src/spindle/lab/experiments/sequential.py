"""``sequential-vs-concurrent``: the same sleeping tasks one after another, then in threads."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import click
from rich.console import Console

from spindle.lab.registry import Experiment, Option

__all__ = ["EXPERIMENT", "SequentialResult", "run"]


@dataclass(frozen=True, slots=True)
class SequentialResult:
    """Wall times of ``tasks`` tasks that each sleep ``seconds``, run both ways."""

    tasks: int
    seconds: float
    sequential_seconds: float
    concurrent_seconds: float

    @property
    def speedup(self) -> float:
        """Sequential time divided by concurrent time."""
        return self.sequential_seconds / self.concurrent_seconds

    @property
    def ok(self) -> bool:
        """Running the waits in threads took clearly less time than running them in turn."""
        return self.concurrent_seconds < 0.75 * self.sequential_seconds

    @property
    def headline(self) -> str:
        return (
            f"×{self.speedup:.1f}: {self.sequential_seconds:.2f} s in turn, "
            f"{self.concurrent_seconds:.2f} s in threads"
        )


def run(tasks: int, seconds: float) -> SequentialResult:
    """Sleep ``seconds`` in each of ``tasks`` tasks: in turn, then each in its own thread."""
    started = time.perf_counter()
    for _ in range(tasks):
        time.sleep(seconds)
    sequential = time.perf_counter() - started

    threads = [threading.Thread(target=time.sleep, args=(seconds,)) for _ in range(tasks)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    concurrent = time.perf_counter() - started
    return SequentialResult(tasks, seconds, sequential, concurrent)


def report(result: SequentialResult, console: Console) -> None:
    """Print both totals and the speedup."""
    console.print(f"{result.tasks} tasks, each sleeping {result.seconds:g} s")
    console.print(
        f"  one after another: {result.sequential_seconds:.3f} s "
        f"(sum of the sleeps: {result.tasks * result.seconds:.3f} s)"
    )
    console.print(
        f"  in {result.tasks} threads:     {result.concurrent_seconds:.3f} s "
        f"(longest sleep: {result.seconds:.3f} s)"
    )
    console.print(f"  speedup: ×{result.speedup:.2f}")


EXPERIMENT = Experiment(
    name="sequential-vs-concurrent",
    summary="Two sleeping tasks in turn, then in two threads: totals and speedup.",
    lesson="Waiting overlaps: threads turn the sum of the waits into the longest wait.",
    run=run,
    report=report,
    options=(
        Option("tasks", 2, "number of sleeping tasks", type=click.IntRange(2, 1000)),
        Option("seconds", 0.3, "seconds each task sleeps", quick=0.1, type=click.FloatRange(0.001)),
    ),
)
