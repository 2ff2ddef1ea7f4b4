"""``threads-vs-processes``: one CPU-bound function over the same inputs, three ways.

One worker (a plain loop), a thread pool and a process pool each compute the same results.
With the GIL, threads take turns on one core, so their speedup stays near ×1; processes each
have an interpreter of their own and scale with the cores. Process start-up is measured apart
(the pool is warmed before the timed run), because it is a fixed cost a long job amortises.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass

import click
from rich.console import Console
from rich.table import Table

from spindle.lab.measure import gil_enabled, usable_cpus
from spindle.lab.registry import Experiment, Option

__all__ = ["EXPERIMENT", "ThreadsVsProcessesResult", "count_primes", "run"]


def count_primes(limit: int) -> int:
    """Count the primes below ``limit`` by trial division: pure-Python CPU work.

    >>> count_primes(30)
    10
    """
    found = 0
    for candidate in range(2, limit):
        divisor = 2
        while divisor * divisor <= candidate:
            if candidate % divisor == 0:
                break
            divisor += 1
        else:
            found += 1
    return found


@dataclass(frozen=True, slots=True)
class ThreadsVsProcessesResult:
    """Wall times of the same jobs with one worker, a thread pool and a process pool."""

    cpu_count: int | None
    usable_cpus: int
    gil_enabled: bool
    workers: int
    jobs: int
    job_size: int
    start_method: str
    one_worker_seconds: float
    thread_pool_seconds: float
    process_pool_seconds: float
    process_startup_seconds: float
    results_agree: bool

    @property
    def thread_speedup(self) -> float:
        """One-worker time divided by thread-pool time."""
        return self.one_worker_seconds / self.thread_pool_seconds

    @property
    def process_speedup(self) -> float:
        """One-worker time divided by process-pool time (start-up excluded)."""
        return self.one_worker_seconds / self.process_pool_seconds

    @property
    def ok(self) -> bool:
        """All three ways computed the same results."""
        return self.results_agree

    @property
    def headline(self) -> str:
        return (
            f"threads ×{self.thread_speedup:.2f}, processes ×{self.process_speedup:.2f} "
            f"on {self.usable_cpus} CPUs"
        )


def _timed(compute: Callable[[], list[int]]) -> tuple[float, list[int]]:
    started = time.perf_counter()
    results = compute()
    return time.perf_counter() - started, results


def _pool_map(pool: Executor, inputs: Iterable[int]) -> list[int]:
    return list(pool.map(count_primes, inputs))


def run(jobs: int, job_size: int, workers: int | None) -> ThreadsVsProcessesResult:
    """Count primes below ``job_size`` ``jobs`` times: in a loop, in threads, in processes."""
    pool_size = workers or usable_cpus()
    inputs = [job_size] * jobs
    one_worker, expected = _timed(lambda: [count_primes(n) for n in inputs])
    with ThreadPoolExecutor(pool_size) as threads:
        thread_time, by_threads = _timed(lambda: _pool_map(threads, inputs))
    context = multiprocessing.get_context()
    started = time.perf_counter()
    with ProcessPoolExecutor(pool_size, mp_context=context) as processes:
        # Tiny jobs, one per worker, so every process exists before the timed run.
        _pool_map(processes, [2] * pool_size)
        startup = time.perf_counter() - started
        process_time, by_processes = _timed(lambda: _pool_map(processes, inputs))
    return ThreadsVsProcessesResult(
        cpu_count=os.cpu_count(),
        usable_cpus=usable_cpus(),
        gil_enabled=gil_enabled(),
        workers=pool_size,
        jobs=jobs,
        job_size=job_size,
        start_method=context.get_start_method(),
        one_worker_seconds=one_worker,
        thread_pool_seconds=thread_time,
        process_pool_seconds=process_time,
        process_startup_seconds=startup,
        results_agree=expected == by_threads == by_processes,
    )


def report(result: ThreadsVsProcessesResult, console: Console) -> None:
    """Print the three timings and the speedups."""
    console.print(
        f"count_primes({result.job_size:,}) × {result.jobs} jobs; os.cpu_count() = "
        f"{result.cpu_count}, usable here: {result.usable_cpus}; "
        f"GIL {'on' if result.gil_enabled else 'off'}"
    )
    table = Table("how", "seconds", "speedup")
    table.add_row("one worker", f"{result.one_worker_seconds:.3f}", "×1.00")
    table.add_row(
        f"thread pool ({result.workers})",
        f"{result.thread_pool_seconds:.3f}",
        f"×{result.thread_speedup:.2f}",
    )
    table.add_row(
        f"process pool ({result.workers}, {result.start_method})",
        f"{result.process_pool_seconds:.3f}",
        f"×{result.process_speedup:.2f}",
    )
    console.print(table)
    console.print(
        f"Starting the process pool took {result.process_startup_seconds:.3f} s (not in the "
        f"timing above); results identical: {result.results_agree}"
    )


EXPERIMENT = Experiment(
    name="threads-vs-processes",
    summary="A CPU-bound function in a thread pool and in a process pool, against one worker.",
    lesson="With the GIL, threads do not speed up Python CPU work; processes do, per core.",
    run=run,
    report=report,
    options=(
        Option("jobs", 8, "number of inputs", type=click.IntRange(1, 10_000)),
        Option(
            "job_size",
            100_000,
            "count primes below this number in each job",
            quick=40_000,
            type=click.IntRange(2, 100_000_000),
        ),
        Option(
            "workers",
            None,
            "pool size (default: the usable CPUs)",
            type=click.IntRange(1, 256),
        ),
    ),
)
