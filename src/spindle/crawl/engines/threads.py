"""The thread engine: a pipeline of BoundedQueues, one thread owning the scheduler.

The calling thread runs the scheduler loop: it observes finished fetches, hands the changes to
the writer, and puts new fetches on the work queue only while a worker is free, so a fetch
starts when the scheduler said it could (politeness timing holds). ``workers`` fetch threads
only do I/O; a few parser threads (one per core, at most four) turn responses into
observations (``prepare``) for the done queue. Parsing holds the GIL, so more parsers would buy
no speed, and keeping the large, short-lived parse trees on few threads keeps them in few malloc
arenas: on the Python docs site, peak RSS fell from about 240 MB to about 110 MB with 32 workers.

No wait is unbounded: the loop waits on the done queue for at most one tick, every fetch has a
total deadline enforced by the fetcher's watchdog, and a worker thread that dies for any reason
puts its error on the done queue, which stops the run instead of leaving a fetch in flight for
ever.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

from spindle.crawl.core.scheduler import CrawlScheduler
from spindle.crawl.core.values import Fetch, Observation, Outcome, Response
from spindle.crawl.engines.failures import crash
from spindle.crawl.engines.http_threads import ThreadFetcher
from spindle.crawl.engines.parse_pool import Parsing
from spindle.crawl.engines.request import FetchSettings
from spindle.crawl.engines.turns import StopSignals, take_turn
from spindle.crawl.store.writer import RecordWriter
from spindle.sync import BoundedQueue, QueueClosed, QueueEmpty, QueueTimeout

__all__ = ["PARSE_QUEUE_BYTES", "EngineFailed", "run_threads"]

_PARSERS = max(1, min(4, os.cpu_count() or 1))
# Bodies waiting for a parser hold at most this many bytes (one bigger body goes in alone):
# fetch threads wait rather than pile up pages of megabytes (16 of the Rust docs' biggest
# would hold 100 MB).
PARSE_QUEUE_BYTES = 16 * 1024 * 1024


def _body_bytes(item: tuple[Fetch, Outcome]) -> int:
    outcome = item[1]
    return len(outcome.body) if isinstance(outcome, Response) else 0


class EngineFailed(RuntimeError):
    """A worker thread died; ``__cause__`` is what killed it."""


class Sent(NamedTuple):
    """A fetch thread's word that the request of ``fetch`` is on the wire: the loop thread
    tells the scheduler, which owns the politeness clock (:meth:`CrawlScheduler.sent`)."""

    fetch: Fetch


def _announcer(done: BoundedQueue[Observation | Sent], report: Sent) -> Callable[[float], None]:
    """One fetch's ``on_sent``: its report, queued for the loop thread (the time is stamped
    there, since the scheduler's clock may not run backwards)."""
    return lambda _at: done.put(report)


def run_threads(
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
    """Run the crawl to completion, or until ``signals`` end it. ``on_tick`` runs every turn;
    ``on_observe`` sees every observation, after the scheduler did; ``parsers`` worker
    processes parse big pages (:mod:`.parse_pool`)."""
    fetcher = ThreadFetcher(settings)
    parsing = Parsing(scheduler, parsers)
    work: BoundedQueue[Fetch] = BoundedQueue(workers)
    parse: BoundedQueue[tuple[Fetch, Outcome]] = BoundedQueue(
        workers, max_weight=PARSE_QUEUE_BYTES, weigh=_body_bytes
    )
    # Room by construction: per fetch at most one report that it was sent, then its observation.
    done: BoundedQueue[Observation | Sent] = BoundedQueue(2 * workers)
    failures: list[BaseException] = []

    def guarded(body: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                body()
            except QueueClosed:
                return
            except BaseException as exc:  # a dead worker must stop the run, not hang it
                failures.append(exc)
                done.close()

        return run

    def fetch_worker() -> None:
        for fetch in work:
            started = time.perf_counter()
            fetched_at = time.time()
            try:
                outcome = fetcher.fetch(fetch, _announcer(done, Sent(fetch)))
            except Exception as exc:
                elapsed = time.perf_counter() - started
                outcome = crash(exc, elapsed=elapsed, fetched_at=fetched_at)
            parse.put((fetch, outcome))

    def parse_worker() -> None:
        for fetch, outcome in parse:
            done.put(parsing.prepare(fetch, outcome))

    threads = [
        threading.Thread(target=guarded(fetch_worker), name=f"spindle-fetch-{i}", daemon=True)
        for i in range(workers)
    ] + [
        threading.Thread(target=guarded(parse_worker), name=f"spindle-parse-{i}", daemon=True)
        for i in range(_PARSERS)
    ]
    for thread in threads:
        thread.start()
    finished = False
    try:
        _loop(scheduler, writer, work, done, workers, signals, on_tick, on_observe, failures)
        finished = scheduler.in_flight == 0
    finally:
        for queue in (work, parse, done):
            queue.close()
        if finished:
            for thread in threads:
                thread.join()
        fetcher.close()
        parsing.close()


def _loop(
    scheduler: CrawlScheduler,
    writer: RecordWriter,
    work: BoundedQueue[Fetch],
    done: BoundedQueue[Observation | Sent],
    workers: int,
    signals: StopSignals,
    on_tick: Callable[[], None],
    on_observe: Callable[[Observation], None],
    failures: list[BaseException],
) -> None:
    clock = time.monotonic

    def observe(item: Observation | Sent) -> None:
        if isinstance(item, Sent):  # stamped when the loop reads it: later, never earlier
            scheduler.sent(item.fetch, clock())
            return
        scheduler.observe(item, clock())
        on_observe(item)

    while True:
        while True:
            try:
                observe(done.get_nowait())
            except QueueEmpty:
                break
            except QueueClosed:
                raise _dead(failures) from failures[0]
        turn = take_turn(
            scheduler, writer.submit, workers=workers, signals=signals, on_tick=on_tick
        )
        if turn is None:
            return
        for fetch in turn.fetches:
            work.put_nowait(fetch)  # room by construction: at most `workers` are outstanding
        try:
            observe(done.get(timeout=max(0.0, turn.wake - clock())))
        except QueueTimeout:
            continue
        except QueueClosed:
            raise _dead(failures) from failures[0]


def _dead(failures: list[BaseException]) -> EngineFailed:
    return EngineFailed(f"a worker thread died: {failures[0]!r}")
