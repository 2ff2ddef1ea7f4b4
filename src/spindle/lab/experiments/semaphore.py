"""``semaphore``: many threads share a small pool guarded by a counting semaphore."""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass

import click
from rich.console import Console

from spindle.lab.registry import Experiment, Option

__all__ = ["EXPERIMENT", "SemaphoreResult", "run"]

# A first-wave worker waits this long at most for the rest of the first wave; only a broken
# semaphore (or a machine stalled for seconds) makes it give up, and the peak then shows it.
_FIRST_WAVE_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class SemaphoreResult:
    """How many workers were ever inside at once, and how long the whole run took."""

    workers: int
    slots: int
    hold_seconds: float
    peak_inside: int
    total_seconds: float
    longest_wait_seconds: float

    @property
    def expected_peak(self) -> int:
        """The semaphore's limit, or the number of workers if there are fewer."""
        return min(self.slots, self.workers)

    @property
    def ideal_seconds(self) -> float:
        """Waves of ``slots`` workers, one after another: ceil(workers / slots) × hold."""
        return -(-self.workers // self.slots) * self.hold_seconds

    @property
    def ok(self) -> bool:
        """The peak is exactly the limit: never more, and the pool was really used fully."""
        return self.peak_inside == self.expected_peak

    @property
    def headline(self) -> str:
        return (
            f"peak {self.peak_inside} of {self.slots}; "
            f"{self.total_seconds:.2f} s (ideal {self.ideal_seconds:.2f} s)"
        )


def run(workers: int, slots: int, hold_seconds: float) -> SemaphoreResult:
    """Start ``workers`` threads that each hold one of ``slots`` for ``hold_seconds``."""
    pool = threading.Semaphore(slots)
    bookkeeping = threading.Lock()
    inside = 0
    peak = 0
    entered = 0
    longest_wait = 0.0
    start_line = threading.Barrier(workers)
    # The first workers in wait for each other before working, so the pool is seen full at
    # least once however late the operating system starts some threads.
    first_wave = threading.Barrier(min(slots, workers))

    def worker() -> None:
        nonlocal inside, peak, entered, longest_wait
        start_line.wait()
        asked = time.perf_counter()
        with pool:
            waited = time.perf_counter() - asked
            with bookkeeping:
                inside += 1
                peak = max(peak, inside)
                entered += 1
                in_first_wave = entered <= first_wave.parties
                longest_wait = max(longest_wait, waited)
            if in_first_wave:
                with contextlib.suppress(threading.BrokenBarrierError):
                    first_wave.wait(_FIRST_WAVE_TIMEOUT)
            time.sleep(hold_seconds)
            with bookkeeping:
                inside -= 1

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return SemaphoreResult(
        workers=workers,
        slots=slots,
        hold_seconds=hold_seconds,
        peak_inside=peak,
        total_seconds=time.perf_counter() - started,
        longest_wait_seconds=longest_wait,
    )


def report(result: SemaphoreResult, console: Console) -> None:
    """Print the peak occupancy and the timings."""
    console.print(
        f"{result.workers} threads share a pool of {result.slots} "
        f"(threading.Semaphore({result.slots})), each holding a slot {result.hold_seconds:g} s"
    )
    console.print(f"  most inside at once: {result.peak_inside} (limit {result.slots})")
    console.print(
        f"  total: {result.total_seconds:.3f} s; ideal for waves of {result.slots}: "
        f"{result.ideal_seconds:.3f} s; longest wait for a slot: "
        f"{result.longest_wait_seconds:.3f} s"
    )


EXPERIMENT = Experiment(
    name="semaphore",
    summary="Ten threads share a pool of three through a counting semaphore.",
    lesson="A counting semaphore caps concurrency at its count; the rest queue up in waves.",
    run=run,
    report=report,
    options=(
        Option("workers", 10, "threads wanting a slot", type=click.IntRange(1, 1000)),
        Option("slots", 3, "size of the pool (the semaphore's count)", type=click.IntRange(1)),
        Option(
            "hold_seconds",
            0.05,
            "seconds each thread holds its slot",
            quick=0.03,
            type=click.FloatRange(0.0, 60.0),
        ),
    ),
)
