"""``threads-vs-tasks``: what one waiting OS thread costs next to one waiting asyncio task.

Units are started in batches until the count is reached or the process's resident memory has
grown by the bound; start-up time and resident-memory growth are divided by the units started.
A thread's stack is mostly untouched virtual memory, so its resident cost is far below its
reserved stack size; it is still many times a task's (glibc caches the stacks of finished
threads, so a repeated run in one process can show less growth). Tasks are counted in larger
numbers by default because a few hundred of them fit in memory the allocator already holds,
which would make them look free.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import click
from rich.console import Console
from rich.table import Table

from spindle.lab.measure import os_stack_limit, resident_memory_bytes
from spindle.lab.registry import Experiment, Option

__all__ = ["EXPERIMENT", "ThreadsVsTasksResult", "UnitCost", "run"]

_BATCHES = 10
_MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class UnitCost:
    """How many units of one kind started, how long that took and the memory they added."""

    kind: str
    asked: int
    reached: int
    stopped_by_memory: bool
    startup_seconds: float
    memory_delta_bytes: int
    all_ended: bool

    @property
    def startup_microseconds_each(self) -> float:
        """Start-up time per unit."""
        return self.startup_seconds / self.reached * 1e6

    @property
    def bytes_each(self) -> float:
        """Resident-memory growth per unit (can be noisy for small counts)."""
        return self.memory_delta_bytes / self.reached


@dataclass(frozen=True, slots=True)
class ThreadsVsTasksResult:
    """Both costs, the memory bound, and the thread stack size in use."""

    memory_bound_bytes: int
    threading_stack_size: int
    os_stack_limit: int | None
    threads: UnitCost
    tasks: UnitCost

    @property
    def ok(self) -> bool:
        """Both kinds started at least one unit and every unit ended cleanly."""
        return all(cost.reached > 0 and cost.all_ended for cost in (self.threads, self.tasks))

    @property
    def headline(self) -> str:
        return (
            f"thread {self.threads.bytes_each / 1024:.1f} KiB "
            f"{self.threads.startup_microseconds_each:.0f} µs, "
            f"task {self.tasks.bytes_each / 1024:.1f} KiB "
            f"{self.tasks.startup_microseconds_each:.0f} µs"
        )


def _batches(total: int) -> list[int]:
    size = max(1, -(-total // _BATCHES))
    return [min(size, total - start) for start in range(0, total, size)]


def _measure_threads(
    count: int, bound: int, read_memory: Callable[[], int] = resident_memory_bytes
) -> UnitCost:
    release = threading.Event()
    threads: list[threading.Thread] = []
    gc.collect()
    before = read_memory()
    started = time.perf_counter()
    grown = 0
    for batch in _batches(count):
        for _ in range(batch):
            thread = threading.Thread(target=release.wait, daemon=True)
            thread.start()
            threads.append(thread)
        grown = read_memory() - before
        if grown >= bound:
            break
    elapsed = time.perf_counter() - started
    release.set()
    for thread in threads:
        thread.join(5.0)
    return UnitCost(
        kind="OS thread",
        asked=count,
        reached=len(threads),
        stopped_by_memory=grown >= bound and len(threads) < count,
        startup_seconds=elapsed,
        memory_delta_bytes=grown,
        all_ended=not any(thread.is_alive() for thread in threads),
    )


async def _measure_tasks(
    count: int, bound: int, read_memory: Callable[[], int] = resident_memory_bytes
) -> UnitCost:
    release = asyncio.Event()
    tasks: list[asyncio.Task[bool]] = []
    gc.collect()
    before = read_memory()
    started = time.perf_counter()
    grown = 0
    for batch in _batches(count):
        tasks.extend(asyncio.create_task(release.wait()) for _ in range(batch))
        # One pass of the loop runs every new task up to its wait, as start() does for threads.
        await asyncio.sleep(0)
        grown = read_memory() - before
        if grown >= bound:
            break
    elapsed = time.perf_counter() - started
    release.set()
    await asyncio.gather(*tasks)
    return UnitCost(
        kind="asyncio task",
        asked=count,
        reached=len(tasks),
        stopped_by_memory=grown >= bound and len(tasks) < count,
        startup_seconds=elapsed,
        memory_delta_bytes=grown,
        all_ended=all(task.done() for task in tasks),
    )


def run(threads: int, tasks: int, memory_mib: int) -> ThreadsVsTasksResult:
    """Start up to ``threads`` threads, then up to ``tasks`` tasks, each within ``memory_mib``."""
    bound = memory_mib * _MIB
    return ThreadsVsTasksResult(
        memory_bound_bytes=bound,
        threading_stack_size=threading.stack_size(),
        os_stack_limit=os_stack_limit(),
        threads=_measure_threads(threads, bound),
        tasks=asyncio.run(_measure_tasks(tasks, bound)),
    )


def report(result: ThreadsVsTasksResult, console: Console) -> None:
    """Print the stack size in use and a table of both costs."""
    if result.threading_stack_size:
        stack = f"threading.stack_size() = {result.threading_stack_size / 1024:.0f} KiB"
    else:
        limit = result.os_stack_limit
        os_default = f"{limit / _MIB:g} MiB" if limit is not None else "unlimited"
        stack = f"threading.stack_size() = 0 (the OS default: RLIMIT_STACK = {os_default})"
    console.print(f"Thread stack size: {stack}, reserved virtual memory, mostly never touched")
    console.print(f"Memory bound: {result.memory_bound_bytes / _MIB:g} MiB of resident growth")
    table = Table("unit", "started", "start-up µs each", "resident KiB each", "stopped by")
    for cost in (result.threads, result.tasks):
        table.add_row(
            cost.kind,
            f"{cost.reached:,} of {cost.asked:,}",
            f"{cost.startup_microseconds_each:.1f}",
            f"{cost.bytes_each / 1024:.2f}",
            "memory bound" if cost.stopped_by_memory else "count",
        )
    console.print(table)
    if result.tasks.bytes_each > 0:
        ratio = result.threads.bytes_each / result.tasks.bytes_each
        console.print(f"One waiting thread costs about {ratio:.0f}× the memory of a waiting task.")


EXPERIMENT = Experiment(
    name="threads-vs-tasks",
    summary="Start N OS threads and N asyncio tasks that wait: start-up time, memory each.",
    lesson="Tasks are cheap objects on one thread; threads cost a stack and a kernel thread each.",
    run=run,
    report=report,
    options=(
        Option(
            "threads", 300, "threads to start at most", quick=100, type=click.IntRange(1, 10_000)
        ),
        Option(
            "tasks",
            30_000,
            "asyncio tasks to start at most",
            quick=5_000,
            type=click.IntRange(1, 10_000_000),
        ),
        Option(
            "memory_mib",
            64,
            "stop starting units once resident memory grew by this many MiB",
            type=click.IntRange(1, 65_536),
        ),
    ),
)
