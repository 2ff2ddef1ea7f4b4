"""``race``: threads incrementing a shared counter, without and with a lock, measured honestly.

On CPython with the GIL a thread only gives up the interpreter at a few points in the bytecode
(function entries, backward jumps, blocking calls). ``counter += 1`` on a global has none of
them between its read and its write, so on 3.10+ that loop usually loses nothing. Put a call
between the read and the write and a switch lands there regularly, and updates are lost. On a
free-threaded build (``sys._is_gil_enabled()`` is False) both unlocked loops race for real.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import click
from rich.console import Console
from rich.table import Table

from spindle.lab.measure import gil_enabled, interpreter_facts
from spindle.lab.registry import Experiment, Option

__all__ = ["EXPERIMENT", "RaceResult", "run"]

# The experiment is about a module global on purpose: that is the textbook case. Runs of this
# experiment therefore must not overlap (the lab runs experiments one at a time).
_counter = 0
_counter_lock = threading.Lock()
_WORK_STEPS = 5


def _plain_increments(times: int) -> None:
    global _counter
    for _ in range(times):
        _counter += 1


def _checked(value: int) -> int:
    # Stands for any work between reading a value and writing it back (validation, logging,
    # a lookup). Its loop gives the interpreter places to switch threads.
    for _ in range(_WORK_STEPS):
        pass
    return value


def _read_call_write_increments(times: int) -> None:
    global _counter
    for _ in range(times):
        value = _counter
        value = _checked(value)
        _counter = value + 1


def _locked_increments(times: int) -> None:
    global _counter
    for _ in range(times):
        with _counter_lock:
            value = _counter
            value = _checked(value)
            _counter = value + 1


def _final_count(increments: Callable[[int], None], threads: int, times: int) -> int:
    global _counter
    _counter = 0
    # Every thread starts counting at the same moment, so the loops really overlap.
    start_line = threading.Barrier(threads)

    def worker() -> None:
        start_line.wait()
        increments(times)

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return _counter


@dataclass(frozen=True, slots=True)
class RaceResult:
    """Final counter values, one per run, of each way of incrementing."""

    threads: int
    increments: int
    interpreter: str
    gil_enabled: bool
    plain: tuple[int, ...]
    read_call_write: tuple[int, ...]
    locked: tuple[int, ...]

    @property
    def expected(self) -> int:
        """What every run should reach: threads × increments."""
        return self.threads * self.increments

    def lost(self, counts: tuple[int, ...]) -> tuple[int, ...]:
        """Updates lost in each run of ``counts``."""
        return tuple(self.expected - count for count in counts)

    @property
    def ok(self) -> bool:
        """Every locked run reached exactly the expected count."""
        return all(count == self.expected for count in self.locked)

    @property
    def headline(self) -> str:
        return (
            f"most lost: += 1 {max(self.lost(self.plain)):,}, read-call-write "
            f"{max(self.lost(self.read_call_write)):,}, locked {max(self.lost(self.locked)):,}"
        )


def run(threads: int, increments: int, runs: int) -> RaceResult:
    """Run each of the three increment loops ``runs`` times in ``threads`` threads."""
    return RaceResult(
        threads=threads,
        increments=increments,
        interpreter=interpreter_facts().describe(),
        gil_enabled=gil_enabled(),
        plain=tuple(_final_count(_plain_increments, threads, increments) for _ in range(runs)),
        read_call_write=tuple(
            _final_count(_read_call_write_increments, threads, increments) for _ in range(runs)
        ),
        locked=tuple(_final_count(_locked_increments, threads, increments) for _ in range(runs)),
    )


def report(result: RaceResult, console: Console) -> None:
    """Print the final count and the lost updates of every run."""
    console.print(f"Interpreter: {result.interpreter}")
    console.print(
        f"{result.threads} threads × {result.increments:,} increments of one global counter "
        f"(expected {result.expected:,}), {len(result.locked)} runs each"
    )
    table = Table("increment", "final counts", "lost per run")
    for label, counts in (
        ("counter += 1", result.plain),
        ("read, call, write back", result.read_call_write),
        ("same, under a Lock", result.locked),
    ):
        table.add_row(
            label,
            ", ".join(f"{count:,}" for count in counts),
            ", ".join(f"{lost:,}" for lost in result.lost(counts)),
        )
    console.print(table)
    if not result.gil_enabled:
        console.print("Free-threaded interpreter (GIL off): threads really run in parallel.")
    elif max(result.lost(result.plain)) == 0:
        console.print(
            "`counter += 1` lost nothing here: with the GIL, this interpreter switches threads "
            "only at calls and backward jumps, never between that read and write. That is luck "
            "of the implementation, not a guarantee; the read-call-write loop shows the race."
        )


EXPERIMENT = Experiment(
    name="race",
    summary="Two threads increment a shared counter, without and with a lock.",
    lesson="Read-modify-write is not atomic; only the lock makes the count exact everywhere.",
    run=run,
    report=report,
    options=(
        Option("threads", 2, "threads incrementing the counter", type=click.IntRange(2, 64)),
        Option("increments", 100_000, "increments per thread", type=click.IntRange(1, 100_000_000)),
        Option("runs", 5, "runs of each loop", quick=3, type=click.IntRange(1, 100)),
    ),
)
