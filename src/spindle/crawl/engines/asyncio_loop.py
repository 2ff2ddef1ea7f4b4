"""The asyncio engine: one event loop, one task per in-flight fetch, the same scheduler.

The loop is the thread engine's loop with tasks for workers: observe finished fetches, hand
changes to the writer, start fetches while fewer than ``workers`` are in flight, and wait for
the first of (a fetch finishing, the scheduler's next ready time, a tick).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

from spindle.crawl.core.events import DONE, Fetch, Wait
from spindle.crawl.core.scheduler import CrawlScheduler, Observation
from spindle.crawl.engines.http_async import AsyncFetcher
from spindle.crawl.writer import RecordWriter

__all__ = ["run_async"]

_TICK = 0.1


def run_async(
    scheduler: CrawlScheduler,
    writer: RecordWriter,
    *,
    workers: int,
    stop: threading.Event,
    on_tick: Callable[[], None] = lambda: None,
) -> None:
    """Run the crawl on a fresh event loop (same contract as ``run_threads``)."""
    asyncio.run(_crawl(scheduler, writer, workers, stop, on_tick))


async def _crawl(
    scheduler: CrawlScheduler,
    writer: RecordWriter,
    workers: int,
    stop: threading.Event,
    on_tick: Callable[[], None],
) -> None:
    config = scheduler.config
    fetcher = AsyncFetcher(user_agent=config.user_agent, timeout=config.timeout, pool_size=workers)
    clock = time.monotonic
    tasks: set[asyncio.Task[Observation]] = set()

    async def perform(fetch: Fetch) -> Observation:
        return scheduler.prepare(fetch, await fetcher.fetch(fetch))

    try:
        while True:
            if changes := scheduler.drain():
                writer.submit(changes)
            if stop.is_set():
                scheduler.stop()
            on_tick()
            wake = clock() + _TICK
            while len(tasks) < workers:
                action = scheduler.next_action(clock())
                if isinstance(action, Fetch):
                    tasks.add(asyncio.create_task(perform(action)))
                    continue
                if action is DONE:
                    return
                if isinstance(action, Wait):
                    wake = min(wake, action.until)
                break
            if not tasks:
                await asyncio.sleep(max(0.0, wake - clock()))
                continue
            finished, _ = await asyncio.wait(
                tasks, timeout=max(0.0, wake - clock()), return_when=asyncio.FIRST_COMPLETED
            )
            for task in finished:
                tasks.discard(task)
                scheduler.observe(task.result(), clock())
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await fetcher.close()
