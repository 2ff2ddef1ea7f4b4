"""``atomic-counter``: a locked counter, a GIL-atomic one, and an unsynchronised one.

Lock-free data structures are built on compare-and-swap (CAS): read a word, compute the new
value, and store it only if the word still holds what was read, retrying otherwise; the CPU
does that check-and-store as one instruction. Python code gets no CAS. What it offers instead:
locks; operations that run as a single C call under the GIL, such as ``next()`` on an
``itertools.count`` (atomic by implementation, not by any language promise, and a
free-threaded build needs its own guarantees); and ready-made thread-safe containers such as
``queue.Queue``. A plain ``value += 1`` is a read, an add and a write.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass
from typing import Protocol

import click
from rich.console import Console
from rich.table import Table

from spindle.lab.measure import gil_enabled
from spindle.lab.registry import Experiment, Option

__all__ = ["EXPERIMENT", "AtomicCounterResult", "CounterRun", "run"]


class _Counter(Protocol):
    def increment(self) -> None: ...

    def total(self) -> int: ...


class _LockedCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value = 0

    def increment(self) -> None:
        with self._lock:
            self._value += 1

    def total(self) -> int:
        return self._value


class _TicketCounter:
    """Counts by handing out tickets from ``itertools.count``: one C call per increment."""

    def __init__(self) -> None:
        self._tickets = itertools.count()

    def increment(self) -> None:
        next(self._tickets)

    def total(self) -> int:
        # The next ticket is the number handed out so far; read once, after the threads ended.
        return next(self._tickets)


class _UnsynchronisedCounter:
    def __init__(self) -> None:
        self._value = 0

    def increment(self) -> None:
        self._value += 1

    def total(self) -> int:
        return self._value


@dataclass(frozen=True, slots=True)
class CounterRun:
    """One counter's final value and its cost per increment with all threads running."""

    counter: str
    total: int
    expected: int
    nanoseconds_per_increment: float

    @property
    def exact(self) -> bool:
        """No increment was lost."""
        return self.total == self.expected


@dataclass(frozen=True, slots=True)
class AtomicCounterResult:
    """The three counters, each incremented by the same threads the same number of times."""

    threads: int
    increments: int
    gil_enabled: bool
    runs: tuple[CounterRun, ...]

    @property
    def ok(self) -> bool:
        """The locked counter is exact, and with the GIL the itertools.count one too."""
        locked, tickets = self.runs[0], self.runs[1]
        return locked.exact and (tickets.exact or not self.gil_enabled)

    @property
    def headline(self) -> str:
        locked, tickets, bare = self.runs
        return (
            f"ns each: Lock {locked.nanoseconds_per_increment:.0f}, count "
            f"{tickets.nanoseconds_per_increment:.0f}, bare {bare.nanoseconds_per_increment:.0f}"
            f" (lost {bare.expected - bare.total:,})"
        )


def _count(name: str, counter: _Counter, threads: int, increments: int) -> CounterRun:
    start_line = threading.Barrier(threads + 1)

    def worker() -> None:
        start_line.wait()
        for _ in range(increments):
            counter.increment()

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    start_line.wait()
    started = time.perf_counter()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - started
    total_increments = threads * increments
    return CounterRun(name, counter.total(), total_increments, elapsed / total_increments * 1e9)


def run(threads: int, increments: int) -> AtomicCounterResult:
    """Increment each counter ``increments`` times from each of ``threads`` threads."""
    return AtomicCounterResult(
        threads=threads,
        increments=increments,
        gil_enabled=gil_enabled(),
        runs=(
            _count("Lock", _LockedCounter(), threads, increments),
            _count("itertools.count + next()", _TicketCounter(), threads, increments),
            _count("unsynchronised += 1", _UnsynchronisedCounter(), threads, increments),
        ),
    )


def report(result: AtomicCounterResult, console: Console) -> None:
    """Print correctness and cost per increment of each counter, then what CAS would be."""
    expected = result.threads * result.increments
    console.print(
        f"{result.threads} threads × {result.increments:,} increments (expected {expected:,})"
    )
    table = Table("counter", "final", "lost", "ns per increment")
    for counter in result.runs:
        table.add_row(
            counter.counter,
            f"{counter.total:,}",
            f"{counter.expected - counter.total:,}",
            f"{counter.nanoseconds_per_increment:.0f}",
        )
    console.print(table)
    unsynchronised = result.runs[2]
    if unsynchronised.exact:
        console.print(
            "The unsynchronised counter lost nothing on this run: luck of how this interpreter "
            "switches threads, not a guarantee (see `spindle lab race`)."
        )
    console.print(
        "Lock-free structures use compare-and-swap (CAS), a single CPU instruction that stores "
        "a new value only if the old one is unchanged. Python has no CAS: it offers locks, "
        "C calls that are atomic under the GIL (next() on itertools.count, list.append), and "
        "queue.Queue."
    )


EXPERIMENT = Experiment(
    name="atomic-counter",
    summary="A counter with a Lock, with itertools.count, and unsynchronised: exact? ns each?",
    lesson="Python offers no CAS; use a Lock, or a single C call the GIL makes atomic.",
    run=run,
    report=report,
    options=(
        Option("threads", 2, "threads incrementing each counter", type=click.IntRange(1, 64)),
        Option(
            "increments",
            200_000,
            "increments per thread",
            quick=100_000,
            type=click.IntRange(1, 100_000_000),
        ),
    ),
)
