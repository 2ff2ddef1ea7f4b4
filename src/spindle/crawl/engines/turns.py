"""What both engines share: one turn of the loop, the stop signals, and crash containment.

A turn hands what changed to the writer, passes a stop request on to the scheduler, refreshes
the progress display, then takes fetches from the scheduler while fewer than ``workers`` are in
flight. The engine starts those fetches and waits until one finishes or ``wake`` comes; no wait
is longer than :data:`TICK`, so a stop request is seen within it.

Failure semantics, the same in both engines: any exception while fetching or parsing one URL
becomes a ``crash`` failure for that URL (the fetchers' own guard, and :func:`prepare_safely`
for parsing), and the crawl goes on. An exception from the scheduler itself is a broken
invariant: it propagates, the engine stops at once, and the runner saves what was committed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from spindle.crawl.core.scheduler import CrawlScheduler
from spindle.crawl.core.values import DONE, Changes, Fetch, Observation, Outcome, Wait
from spindle.crawl.engines.failures import crash

__all__ = ["TICK", "StopSignals", "Turn", "prepare_safely", "take_turn"]

# Longest an engine waits without looking at the stop signals and the progress display.
TICK = 0.1


@dataclass(frozen=True, slots=True)
class StopSignals:
    """How a run is asked to end: ``stop`` lets in-flight fetches finish and flushes
    everything; ``abandon`` also gives up on in-flight fetches (their URLs stay queued in the
    state and are fetched on resume)."""

    stop: threading.Event = field(default_factory=threading.Event)
    abandon: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True, slots=True)
class Turn:
    """Fetches to start now, and the monotonic time by which to take the next turn."""

    fetches: list[Fetch]
    wake: float


def take_turn(
    scheduler: CrawlScheduler,
    submit: Callable[[Changes], None],
    *,
    workers: int,
    signals: StopSignals,
    on_tick: Callable[[], None],
) -> Turn | None:
    """Take one turn; ``None`` means the run is over (crawl done, or abandoned)."""
    if changes := scheduler.drain():
        submit(changes)
    if signals.abandon.is_set():
        return None
    if signals.stop.is_set():
        scheduler.stop()
    on_tick()
    now = time.monotonic()
    wake = now + TICK
    fetches: list[Fetch] = []
    while scheduler.in_flight < workers:
        action = scheduler.next_action(now)
        if isinstance(action, Fetch):
            fetches.append(action)
            continue
        if action is DONE:
            return None
        if isinstance(action, Wait):
            wake = min(wake, action.until)
        break
    return Turn(fetches, wake)


def prepare_safely(scheduler: CrawlScheduler, fetch: Fetch, outcome: Outcome) -> Observation:
    """``scheduler.prepare``, with any exception turned into a crash failure for this URL."""
    try:
        return scheduler.prepare(fetch, outcome)
    except Exception as exc:
        failure = crash(exc, elapsed=outcome.elapsed, fetched_at=outcome.fetched_at)
        return Observation(fetch, failure)
