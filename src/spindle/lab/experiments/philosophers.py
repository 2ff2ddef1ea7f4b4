"""``philosophers``: the dining philosophers, naive (deadlocks) and with ordered forks.

Philosopher ``i`` sits between fork ``i`` (left) and fork ``i + 1`` (right). The naive diners
all take the left fork, meet at a barrier, then reach for the right one: a deadlock every time,
not just on an unlucky day. A watchdog in the calling thread declares a deadlock when every
diner still at the table is waiting and nothing has moved for ``stall_seconds``; it then sets a
stop event, and since every wait is an ``acquire`` with a short timeout, every thread leaves.
The ordered diners differ in one rule (odd seats take the right fork first), which breaks the
circular wait, so everyone eats every meal.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Protocol

import click
from rich.console import Console
from rich.table import Table

from spindle.lab.registry import Experiment, Option

__all__ = ["EXPERIMENT", "Diner", "Dinner", "PhilosophersResult", "run"]

_POLL = 0.01
_JOIN_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class Diner:
    """One philosopher's meals and the total time spent waiting for forks."""

    seat: int
    meals: int
    waiting_seconds: float


@dataclass(frozen=True, slots=True)
class Dinner:
    """One dinner: how every diner did and whether the watchdog had to stop it."""

    strategy: str
    diners: tuple[Diner, ...]
    deadlocked: bool
    detected_after_seconds: float | None
    seconds: float
    all_threads_exited: bool

    @property
    def meals(self) -> int:
        """Meals eaten at the whole table."""
        return sum(diner.meals for diner in self.diners)


@dataclass(frozen=True, slots=True)
class PhilosophersResult:
    """The naive dinner and the ordered dinner."""

    philosophers: int
    meals_each: int
    stall_seconds: float
    naive: Dinner
    ordered: Dinner

    @property
    def ok(self) -> bool:
        """The naive table deadlocked and was stopped; the ordered table ate every meal."""
        return (
            self.naive.deadlocked
            and self.naive.all_threads_exited
            and not self.ordered.deadlocked
            and self.ordered.all_threads_exited
            and all(diner.meals == self.meals_each for diner in self.ordered.diners)
        )

    @property
    def headline(self) -> str:
        detected = self.naive.detected_after_seconds
        naive = f"naive deadlock caught at {detected:.2f} s" if detected else "naive: no deadlock"
        return f"{naive}; ordered {self.ordered.meals}/{self.philosophers * self.meals_each} meals"


class _Attempt(Protocol):
    """Something to wait for with a timeout: a fork's acquire, the barrier."""

    def __call__(self, *, timeout: float) -> bool: ...


class _Table:
    """Forks, a stop event, and what the watchdog watches: who waits, and a progress count."""

    def __init__(self, seats: int, meals: int, eat: float, think: float, naive: bool) -> None:
        self.seats = seats
        self.meals_each = meals
        self.eat = eat
        self.think = think
        self.naive = naive
        self.forks = [threading.Lock() for _ in range(seats)]
        self.stop = threading.Event()
        self.barrier = threading.Barrier(seats)
        self.state = threading.Lock()
        self.waiting = [False] * seats
        self.finished = [False] * seats
        self.meals = [0] * seats
        self.waited = [0.0] * seats
        self.progress = 0

    def forks_of(self, seat: int) -> tuple[threading.Lock, threading.Lock]:
        left, right = self.forks[seat], self.forks[(seat + 1) % self.seats]
        if not self.naive and seat % 2 == 1:
            return right, left
        return left, right

    def dine(self, seat: int) -> None:
        first, second = self.forks_of(seat)
        try:
            for _ in range(self.meals_each):
                if not self._wait_for(seat, first.acquire):
                    return
                try:
                    if self.naive and not self._wait_for(seat, self._meet):
                        return
                    if not self._wait_for(seat, second.acquire):
                        return
                    try:
                        if self.stop.is_set():
                            # The fork came free because the watchdog stopped the table.
                            return
                        time.sleep(self.eat)
                        with self.state:
                            self.meals[seat] += 1
                            self.progress += 1
                    finally:
                        second.release()
                finally:
                    first.release()
                time.sleep(self.think)
        finally:
            with self.state:
                self.finished[seat] = True

    def _meet(self, *, timeout: float) -> bool:
        # Everyone must arrive, however late the OS starts a thread, so this wait ignores the
        # polling timeout; the watchdog aborts the barrier whenever it stops the table.
        del timeout
        try:
            self.barrier.wait()
        except threading.BrokenBarrierError:
            return False
        return True

    def _wait_for(self, seat: int, attempt: _Attempt) -> bool:
        """Retry ``attempt`` with short timeouts until it succeeds or the table is stopped."""
        asked = time.perf_counter()
        with self.state:
            self.waiting[seat] = True
        try:
            while not self.stop.is_set():
                if attempt(timeout=_POLL):
                    with self.state:
                        self.progress += 1
                    return True
            return False
        finally:
            with self.state:
                self.waiting[seat] = False
                self.waited[seat] += time.perf_counter() - asked

    def stalled(self) -> tuple[int, bool]:
        """The progress count, and whether every diner still at the table is waiting."""
        with self.state:
            present = [seat for seat in range(self.seats) if not self.finished[seat]]
            return self.progress, bool(present) and all(self.waiting[s] for s in present)


def _dinner(
    *, naive: bool, seats: int, meals: int, eat: float, think: float, stall: float, limit: float
) -> Dinner:
    table = _Table(seats, meals, eat, think, naive)
    threads = [
        threading.Thread(target=table.dine, args=(seat,), name=f"philosopher-{seat}", daemon=True)
        for seat in range(seats)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    deadlocked_at: float | None = None
    last_progress, last_change = -1, started
    while any(thread.is_alive() for thread in threads):
        now = time.perf_counter()
        progress, everyone_waiting = table.stalled()
        if progress != last_progress:
            last_progress, last_change = progress, now
        elif everyone_waiting and now - last_change >= stall:
            deadlocked_at = now - started
            break
        if now - started >= limit:
            break
        time.sleep(_POLL)
    table.stop.set()
    table.barrier.abort()
    for thread in threads:
        thread.join(_JOIN_TIMEOUT)
    return Dinner(
        strategy="naive" if naive else "ordered",
        diners=tuple(Diner(seat, table.meals[seat], table.waited[seat]) for seat in range(seats)),
        deadlocked=deadlocked_at is not None,
        detected_after_seconds=deadlocked_at,
        seconds=time.perf_counter() - started,
        all_threads_exited=not any(thread.is_alive() for thread in threads),
    )


def run(
    philosophers: int,
    meals: int,
    eat_seconds: float,
    think_seconds: float,
    stall_seconds: float,
    limit_seconds: float,
) -> PhilosophersResult:
    """Seat the naive table, then the ordered table; each dinner ends by ``limit_seconds``."""
    dinners = {
        naive: _dinner(
            naive=naive,
            seats=philosophers,
            meals=meals,
            eat=eat_seconds,
            think=think_seconds,
            stall=stall_seconds,
            limit=limit_seconds,
        )
        for naive in (True, False)
    }
    return PhilosophersResult(philosophers, meals, stall_seconds, dinners[True], dinners[False])


def report(result: PhilosophersResult, console: Console) -> None:
    """Print each dinner's outcome and a table of meals and waiting time per philosopher."""
    console.print(f"{result.philosophers} philosophers, {result.meals_each} meals each")
    for dinner, rule in (
        (result.naive, "left fork, barrier, then right fork"),
        (result.ordered, "odd seats take the right fork first"),
    ):
        if dinner.deadlocked:
            outcome = (
                f"[bold red]deadlocked[/]: everyone waiting, no progress for "
                f"{result.stall_seconds:g} s; caught at {dinner.detected_after_seconds:.3f} s"
            )
        else:
            outcome = f"finished in {dinner.seconds:.3f} s"
        exited = "all threads exited" if dinner.all_threads_exited else "THREADS STILL RUNNING"
        console.print(f"  {dinner.strategy} ({rule}): {outcome}; {exited}")
    table = Table(
        "philosopher", "naive meals", "naive waiting s", "ordered meals", "ordered waiting s"
    )
    for naive, ordered in zip(result.naive.diners, result.ordered.diners, strict=True):
        table.add_row(
            f"P{naive.seat}",
            str(naive.meals),
            f"{naive.waiting_seconds:.3f}",
            str(ordered.meals),
            f"{ordered.waiting_seconds:.3f}",
        )
    console.print(table)


EXPERIMENT = Experiment(
    name="philosophers",
    summary="Dining philosophers: naive forks deadlock (caught), ordered forks finish.",
    lesson="A deadlock needs a cycle of waits; one consistent ordering rule breaks the cycle.",
    run=run,
    report=report,
    options=(
        Option("philosophers", 5, "philosophers at the table", type=click.IntRange(2, 64)),
        Option("meals", 5, "meals each philosopher eats", quick=3, type=click.IntRange(1)),
        Option("eat_seconds", 0.005, "seconds per meal", type=click.FloatRange(0.0, 10.0)),
        Option("think_seconds", 0.001, "seconds between meals", type=click.FloatRange(0.0, 10.0)),
        Option(
            "stall_seconds",
            0.3,
            "declare a deadlock after everyone waited this long with no progress",
            quick=0.2,
            type=click.FloatRange(0.05, 60.0),
        ),
        Option(
            "limit_seconds",
            60.0,
            "stop a dinner that is still going after this many seconds",
            quick=10.0,
            type=click.FloatRange(1.0),
        ),
    ),
)
