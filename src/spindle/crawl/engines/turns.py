"""One turn of an engine's loop, shared by both engines so that they differ only in how they
perform fetches and how they wait.

A turn hands what changed to the writer, passes a stop request on to the scheduler, refreshes
the progress display, then takes fetches from the scheduler while fewer than ``workers`` are in
flight. The engine starts those fetches and waits until one finishes or ``wake`` comes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from spindle.crawl.core.events import DONE, Fetch, Wait
from spindle.crawl.core.scheduler import CrawlScheduler
from spindle.crawl.writer import RecordWriter

__all__ = ["TICK", "Turn", "take_turn"]

# Longest an engine waits without looking at the stop flag and the progress display.
TICK = 0.1


@dataclass(frozen=True, slots=True)
class Turn:
    """Fetches to start now, and the monotonic time by which to take the next turn."""

    fetches: list[Fetch]
    wake: float


def take_turn(
    scheduler: CrawlScheduler,
    writer: RecordWriter,
    *,
    workers: int,
    stop: threading.Event,
    on_tick: Callable[[], None],
) -> Turn | None:
    """Take one turn; ``None`` means the crawl is over (nothing queued, nothing in flight)."""
    if changes := scheduler.drain():
        writer.submit(changes)
    if stop.is_set():
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
