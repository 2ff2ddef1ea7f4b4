"""``lock-ordering``: two locks taken in one order, then in opposite orders.

Three runs, none of which can hang (every acquire of the second lock has a timeout, and every
thread is joined with a deadline):

1. both threads take ``account-a`` then ``account-b``, many times, under the lock-order
   checker of :mod:`spindle.sync`: they finish and no violation is reported;
2. one thread takes a then b, and later another takes b then a; they never overlap, so this
   run cannot deadlock, yet the checker raises :class:`~spindle.sync.LockOrderViolation` on
   the second thread's attempt: the potential deadlock is found on a lucky run;
3. the same inverted order with plain locks, both threads holding their first lock before
   reaching for the second: a real deadlock, which the acquire timeouts (the watchdog) break.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import click
from rich.console import Console

from spindle.lab.registry import Experiment, Option
from spindle.sync import LockOrderChecker, LockOrderViolation, OrderedLock

__all__ = ["EXPERIMENT", "LockOrderingResult", "run"]

# Added to every thread's join deadline on top of the acquire timeouts it may sit through.
_JOIN_SLACK = 5.0


class _Lock(Protocol):
    def acquire(self, blocking: bool = ..., timeout: float = ...) -> bool: ...

    def release(self) -> None: ...


@dataclass(frozen=True, slots=True)
class LockOrderingResult:
    """What each of the three runs ended with."""

    rounds: int
    timeout_seconds: float
    same_order_finished: bool
    same_order_violations: int
    inverted_cycle: tuple[str, ...] | None
    inverted_message: str | None
    plain_deadlock_timeouts: int
    plain_deadlock_seconds: float
    hung_threads: int

    @property
    def ok(self) -> bool:
        """Same order finished cleanly, inverted order was flagged, and nothing hung."""
        return (
            self.same_order_finished
            and self.same_order_violations == 0
            and self.inverted_cycle is not None
            and self.hung_threads == 0
        )

    @property
    def headline(self) -> str:
        cycle = " -> ".join(self.inverted_cycle) if self.inverted_cycle else "not detected"
        return (
            f"same order finished; inverted order flagged ({cycle}); real deadlock broken "
            f"after {self.plain_deadlock_seconds:.2f} s"
        )


class _Outcomes:
    """What the threads of one run report: finished, violations, timeouts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.finished = 0
        self.timeouts = 0
        self.violations: list[LockOrderViolation] = []

    def add(self, outcome: str | LockOrderViolation) -> None:
        with self._lock:
            if isinstance(outcome, LockOrderViolation):
                self.violations.append(outcome)
            elif outcome == "timeout":
                self.timeouts += 1
            else:
                self.finished += 1


def _take_both(
    first: _Lock,
    second: _Lock,
    timeout: float,
    holding_first: Callable[[], None] = lambda: None,
    gave_up: Callable[[], None] = lambda: None,
) -> str | LockOrderViolation:
    """Take ``first`` then ``second`` and release both; report how it went."""
    if not first.acquire(timeout=timeout):
        return "timeout"
    try:
        holding_first()
        try:
            got_second = second.acquire(timeout=timeout)
        except LockOrderViolation as violation:
            return violation
        if not got_second:
            gave_up()
            return "timeout"
        second.release()
        return "finished"
    finally:
        first.release()


def _run_threads(targets: list[Callable[[], None]], deadline: float) -> int:
    """Start one thread per target and join them all by ``deadline``; return how many hang."""
    threads = [threading.Thread(target=target, daemon=True) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return sum(thread.is_alive() for thread in threads)


def _same_order(rounds: int, timeout: float) -> tuple[_Outcomes, int]:
    checker = LockOrderChecker()
    a = OrderedLock("account-a", checker=checker)
    b = OrderedLock("account-b", checker=checker)
    outcomes = _Outcomes()

    def transfer() -> None:
        for _ in range(rounds):
            outcome = _take_both(a, b, timeout)
            if outcome != "finished":
                outcomes.add(outcome)
                return
        outcomes.add("finished")

    deadline = time.monotonic() + 2 * rounds * timeout + _JOIN_SLACK
    return outcomes, _run_threads([transfer, transfer], deadline)


def _inverted_checked(timeout: float) -> tuple[_Outcomes, int]:
    checker = LockOrderChecker()
    a = OrderedLock("account-a", checker=checker)
    b = OrderedLock("account-b", checker=checker)
    outcomes = _Outcomes()
    # One thread after the other: no overlap, so no deadlock can happen in this run.
    hung = _run_threads(
        [lambda: outcomes.add(_take_both(a, b, timeout))],
        time.monotonic() + 2 * timeout + _JOIN_SLACK,
    )
    hung += _run_threads(
        [lambda: outcomes.add(_take_both(b, a, timeout))],
        time.monotonic() + 2 * timeout + _JOIN_SLACK,
    )
    return outcomes, hung


def _inverted_plain(timeout: float) -> tuple[_Outcomes, int]:
    a, b = threading.Lock(), threading.Lock()
    outcomes = _Outcomes()
    # Both hold their first lock before either reaches for the second: a certain deadlock.
    both_holding = threading.Barrier(2)
    # A thread that gave up keeps its first lock until the other gave up too, so both waits
    # really end in a timeout rather than one of them winning the freed lock.
    both_gave_up = threading.Barrier(2)

    def meet(barrier: threading.Barrier) -> Callable[[], None]:
        def wait() -> None:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout + _JOIN_SLACK)

        return wait

    def worker(first: _Lock, second: _Lock) -> None:
        outcomes.add(_take_both(first, second, timeout, meet(both_holding), meet(both_gave_up)))

    deadline = time.monotonic() + 2 * timeout + 2 * _JOIN_SLACK
    hung = _run_threads([lambda: worker(a, b), lambda: worker(b, a)], deadline)
    return outcomes, hung


def run(rounds: int, timeout_seconds: float) -> LockOrderingResult:
    """Run the three cases; ``timeout_seconds`` bounds every wait for a second lock."""
    same, hung_same = _same_order(rounds, timeout_seconds)
    inverted, hung_inverted = _inverted_checked(timeout_seconds)
    started = time.perf_counter()
    plain, hung_plain = _inverted_plain(timeout_seconds)
    plain_seconds = time.perf_counter() - started
    violation = inverted.violations[0] if inverted.violations else None
    return LockOrderingResult(
        rounds=rounds,
        timeout_seconds=timeout_seconds,
        same_order_finished=same.finished == 2,
        same_order_violations=len(same.violations),
        inverted_cycle=None if violation is None else tuple(violation.cycle),
        inverted_message=None if violation is None else str(violation),
        plain_deadlock_timeouts=plain.timeouts,
        plain_deadlock_seconds=plain_seconds,
        hung_threads=hung_same + hung_inverted + hung_plain,
    )


def report(result: LockOrderingResult, console: Console) -> None:
    """Print what each run ended with and the checker's message."""
    console.print(
        f"1. Two threads, {result.rounds:,} rounds each of account-a then account-b "
        f"(checked): {'both finished' if result.same_order_finished else 'DID NOT FINISH'}, "
        f"{result.same_order_violations} violations"
    )
    console.print(
        "2. One thread takes a then b; afterwards another takes b then a (checked, no overlap):"
    )
    if result.inverted_message is not None:
        console.print(f"   LockOrderViolation: {result.inverted_message}", highlight=False)
    else:
        console.print("   [bold red]not detected[/]")
    console.print(
        f"3. The same with plain locks, both holding their first lock: deadlock; "
        f"{result.plain_deadlock_timeouts} of 2 threads gave up after the "
        f"{result.timeout_seconds:g} s acquire timeout ({result.plain_deadlock_seconds:.3f} s)"
    )
    console.print(f"Threads still running after their deadline: {result.hung_threads}")


EXPERIMENT = Experiment(
    name="lock-ordering",
    summary="Two locks in one order finish; the inverted order is caught as a potential deadlock.",
    lesson="Take locks in one global order; a lock-order checker finds violations on lucky runs.",
    run=run,
    report=report,
    options=(
        Option(
            "rounds",
            1_000,
            "times each thread takes both locks in the same-order run",
            quick=200,
            type=click.IntRange(1, 10_000_000),
        ),
        Option(
            "timeout_seconds",
            0.5,
            "acquire timeout that breaks the real deadlock (the watchdog)",
            quick=0.2,
            type=click.FloatRange(0.01, 60.0),
        ),
    ),
)
