"""The asyncio engine: one event loop, one task per in-flight fetch, the same scheduler.

Each turn (``turns.take_turn``, shared with the thread engine) hands changes to the writer and
returns the fetches to start; this engine starts each as a task and waits for the first of (a
fetch finishing, the scheduler's next ready time, a tick). Nothing that blocks runs on the
loop: a batch goes to the writer without waiting, and only when the writer is a whole queue
behind does the loop wait for room, on a helper thread.

Small pages are parsed on the loop, inside the fetch's task; pages over 64 KiB on one helper
thread. A hand-off costs a fixed ~0.2 ms of CPU, more than parsing a small page, while a
large page (the docs' indexes run to megabytes) would stall every other response for
milliseconds. Measured both ways: handing off every page cost 60% more CPU on the
100,000-page site; keeping every page on the loop cut the steady rate on the docs behind
100 ms of latency from 288 to 252 pages/s (W=32).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Callable

from spindle.crawl.core.scheduler import CrawlScheduler
from spindle.crawl.core.values import Changes, Fetch, Observation, Response
from spindle.crawl.engines.failures import crash
from spindle.crawl.engines.http_async import AsyncFetcher
from spindle.crawl.engines.parse_pool import Parsing
from spindle.crawl.engines.request import FetchSettings
from spindle.crawl.engines.tls import client_context
from spindle.crawl.engines.turns import StopSignals, take_turn
from spindle.crawl.store.writer import RecordWriter

__all__ = ["run_async"]

# Bodies larger than this are parsed on the helper thread (see the module docstring).
_PARSE_ON_LOOP_BYTES = 64 * 1024


def run_async(
    scheduler: CrawlScheduler,
    writer: RecordWriter,
    *,
    settings: FetchSettings,
    workers: int,
    signals: StopSignals,
    on_tick: Callable[[], None] = lambda: None,
    on_observe: Callable[[Observation], None] = lambda observation: None,
    parsers: int = 0,
) -> None:
    """Run the crawl on a fresh event loop (same contract as ``run_threads``)."""
    parsing = Parsing(scheduler, parsers)
    try:
        asyncio.run(
            _crawl(scheduler, writer, settings, workers, signals, on_tick, on_observe, parsing)
        )
    finally:
        parsing.close()


async def _crawl(
    scheduler: CrawlScheduler,
    writer: RecordWriter,
    settings: FetchSettings,
    workers: int,
    signals: StopSignals,
    on_tick: Callable[[], None],
    on_observe: Callable[[Observation], None],
    parsing: Parsing,
) -> None:
    # Reading certificate files blocks: on a helper thread, never on the loop.
    tls = await asyncio.to_thread(client_context, ca_file=settings.ca_file, verify=settings.verify)
    fetcher = AsyncFetcher(settings, tls=tls)
    clock = time.monotonic
    tasks: set[asyncio.Task[Observation]] = set()
    loop = asyncio.get_running_loop()
    parser = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="spindle-parse")
    backlog: list[Changes] = []

    def submit(changes: Changes) -> None:
        if backlog or not writer.submit_nowait(changes):
            backlog.append(changes)

    async def perform(fetch: Fetch) -> Observation:
        started = time.perf_counter()
        fetched_at = time.time()
        try:
            outcome = await fetcher.fetch(fetch, lambda at: scheduler.sent(fetch, at))
        except Exception as exc:
            outcome = crash(exc, elapsed=time.perf_counter() - started, fetched_at=fetched_at)
        if parsing.offloads(outcome):
            return await asyncio.wrap_future(parsing.submit(fetch, outcome))
        if isinstance(outcome, Response) and len(outcome.body) > _PARSE_ON_LOOP_BYTES:
            return await loop.run_in_executor(parser, parsing.here, fetch, outcome)
        return parsing.here(fetch, outcome)

    try:
        while True:
            turn = take_turn(scheduler, submit, workers=workers, signals=signals, on_tick=on_tick)
            while backlog:  # the writer is a whole queue behind: wait for room off the loop
                await asyncio.to_thread(writer.submit, backlog.pop(0))
            if turn is None:
                return
            for fetch in turn.fetches:
                tasks.add(asyncio.create_task(perform(fetch)))
            if not tasks:
                await asyncio.sleep(max(0.0, turn.wake - clock()))
                continue
            finished, _ = await asyncio.wait(
                tasks, timeout=max(0.0, turn.wake - clock()), return_when=asyncio.FIRST_COMPLETED
            )
            for task in finished:
                tasks.discard(task)
                observation = task.result()
                scheduler.observe(observation, clock())
                on_observe(observation)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await fetcher.close()
        parser.shutdown(wait=False, cancel_futures=True)
