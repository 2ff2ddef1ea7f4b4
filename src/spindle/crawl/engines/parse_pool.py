"""Parsing in worker processes, so a crawl uses every core: the engine's process fetches and
schedules while other processes parse.

Each worker process builds its own :class:`~spindle.crawl.core.parse.PageParser` from the
crawl's settings once, then turns (fetch, body) into what the page says. Only the body goes
to a worker, and only a compact answer comes back: each list of links travels as one string
(fields split by tabs, entries by newlines, which a URL in request form or a collapsed anchor
text never holds), so nothing is pickled per link. The engine's process rebuilds the
:class:`~spindle.crawl.core.values.Observation` around the outcome it kept.

A worker that dies (it should not: lexbor and lxml are C) breaks the pool; the fetches it had
become ``crash`` failures and the pool is started again for the next ones.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import itertools
import threading

from spindle.crawl.core.config import CrawlConfig
from spindle.crawl.core.parse import PageParser
from spindle.crawl.core.scheduler import CrawlScheduler
from spindle.crawl.core.values import (
    Fetch,
    Link,
    Listing,
    Observation,
    Outcome,
    Outlink,
    ParsedPage,
    Response,
)
from spindle.crawl.engines.failures import crash
from spindle.crawl.engines.turns import prepare_safely

__all__ = [
    "LOCAL_FIRST",
    "OFFLOAD_BYTES",
    "PARSE_DEADLINE",
    "ParsePool",
    "Parsing",
    "decode",
    "encode",
]

OFFLOAD_BYTES = 8 * 1024
# A crawl parses this many big pages itself before it sends any to the worker processes:
# starting them (each a spawned interpreter that imports the parser) costs a short crawl more
# than it gains. Measured side by side (farm-bench, W=16, --no-state): the Python docs (526
# pages) took 0.89x the wall time without workers, the Rust docs' first 3,000 pages 1.12x.
LOCAL_FIRST = 1000
PARSE_DEADLINE = 300.0

_Encoded = tuple[object, ...]
_parser: PageParser | None = None


def _start_worker(config: CrawlConfig) -> None:
    global _parser
    _parser = PageParser(config)


def _parse_in_worker(fetch: Fetch, outcome: Response) -> _Encoded:
    assert _parser is not None, "the worker was not started"
    return encode(_parser.observe(fetch, outcome))


def _links(links: tuple[Link, ...]) -> str:
    return "\n".join(f"{link.url}\t{link.key}" for link in links)


def _unlinks(blob: str) -> tuple[Link, ...]:
    return tuple(Link(*line.split("\t", 1)) for line in blob.split("\n")) if blob else ()


def encode(observation: Observation) -> _Encoded:
    """What a worker sends back: the observation without the fetch and the outcome.

    >>> from spindle.crawl.core.values import FetchKind, Failure, ErrorKind
    >>> page = ParsedPage((Link("http://a.test/x", "http://a.test/x"),), 1, False, False, "T")
    >>> fetch = Fetch(1, "http://a.test/", "http://a.test/", FetchKind.PAGE, 0, None, 1, 1024)
    >>> failure = Failure(ErrorKind.CRASH, "x", 0.0, 0.0)
    >>> decode(fetch, failure, encode(Observation(fetch, failure, page, "ab"))).page == page
    True
    """
    page, listing = observation.page, observation.listing
    page_part = None
    if page is not None:
        outlinks = "\n".join(f"{o.url}\t{o.text}\t{int(o.nofollow)}" for o in page.outlinks)
        page_part = (
            _links(page.links),
            page.link_count,
            page.nofollow,
            page.noindex,
            page.title,
            outlinks,
            _links(page.outside),
        )
    listing_part = None
    if listing is not None:
        listing_part = (_links(listing.pages), _links(listing.sitemaps))
    return (page_part, observation.sha1, listing_part)


def decode(fetch: Fetch, outcome: Outcome, encoded: _Encoded) -> Observation:
    """The observation a worker's answer stands for."""
    page_part, sha1, listing_part = encoded
    page = None
    if isinstance(page_part, tuple):
        links, count, nofollow, noindex, title, outlinks, outside = page_part
        page = ParsedPage(
            _unlinks(links),
            count,
            nofollow,
            noindex,
            title,
            tuple(
                Outlink(url, text, flag == "1")
                for url, text, flag in (line.split("\t") for line in outlinks.split("\n"))
            )
            if outlinks
            else (),
            _unlinks(outside),
        )
    listing = None
    if isinstance(listing_part, tuple):
        listing = Listing(_unlinks(listing_part[0]), _unlinks(listing_part[1]))
    return Observation(fetch, outcome, page, sha1 if isinstance(sha1, str) else None, listing)


class ParsePool:
    """``processes`` worker processes parsing for one crawl. Thread-safe.

    The processes start with the first page to parse: a crawl that never meets a big page
    (a one-page check, a crawl of small pages) never pays for them, nor for the semaphores
    and the resource-tracker process that creating the pool costs (about 70 ms).
    """

    def __init__(self, config: CrawlConfig, processes: int) -> None:
        self._config = config
        self._processes = processes
        self._lock = threading.Lock()
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._closed = False

    def _start(self) -> concurrent.futures.ProcessPoolExecutor:
        import multiprocessing  # here, with the first big page: it costs start-up time

        # spawn: the engine's process has threads, which a plain fork would copy mid-lock; and
        # unlike forkserver's, spawned workers are this process's own children, reaped by it,
        # so their CPU time and memory count in the crawl's own accounting (wait4, time -v).
        context = multiprocessing.get_context("spawn")
        return concurrent.futures.ProcessPoolExecutor(
            self._processes,
            mp_context=context,
            initializer=_start_worker,
            initargs=(self._config,),
        )

    def submit(self, fetch: Fetch, outcome: Response) -> concurrent.futures.Future[Observation]:
        """Parse in a worker; the future holds the observation, or a crash failure of this URL
        when the worker died."""
        result: concurrent.futures.Future[Observation] = concurrent.futures.Future()
        bare = dataclasses.replace(outcome, wire=None)  # the worker needs the body, once
        with self._lock:
            if self._closed:
                raise RuntimeError("the parse pool is closed")
            if self._pool is None:
                self._pool = self._start()
            try:
                job = self._pool.submit(_parse_in_worker, fetch, bare)
            except concurrent.futures.BrokenExecutor:  # the pool's BrokenProcessPool
                self._pool = self._start()
                job = self._pool.submit(_parse_in_worker, fetch, bare)

        def done(job: concurrent.futures.Future[_Encoded]) -> None:
            try:
                result.set_result(decode(fetch, outcome, job.result()))
            except BaseException as exc:  # the worker died, or the answer was unreadable
                failure = crash(exc, elapsed=outcome.elapsed, fetched_at=outcome.fetched_at)
                result.set_result(Observation(fetch, failure))

        job.add_done_callback(done)
        return result

    def close(self) -> None:
        """Stop the workers; parses not started yet are dropped."""
        with self._lock:
            self._closed = True
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)


class Parsing:
    """Where an engine parses what it fetched: bodies of at least :data:`OFFLOAD_BYTES` go to
    the worker processes when there are any, the others are parsed in the calling thread
    (a hand-off costs the crawl's process about 0.7 ms of CPU, more than parsing a small page
    takes; a 14 KiB page costs 2.4 ms to parse here).
    """

    def __init__(self, scheduler: CrawlScheduler, processes: int) -> None:
        self._scheduler = scheduler
        self._pool = ParsePool(scheduler.config, processes) if processes > 0 else None
        self._big = itertools.count()  # big pages met; next() is atomic, from any thread

    def offloads(self, outcome: Outcome) -> bool:
        """Whether :meth:`submit` should parse ``outcome`` (else :meth:`here`): a big page,
        once :data:`LOCAL_FIRST` big pages were parsed here."""
        if self._pool is None or not isinstance(outcome, Response):
            return False
        return len(outcome.body) >= OFFLOAD_BYTES and next(self._big) >= LOCAL_FIRST

    def here(self, fetch: Fetch, outcome: Outcome) -> Observation:
        """Parse in the calling thread."""
        return prepare_safely(self._scheduler, fetch, outcome)

    def submit(self, fetch: Fetch, outcome: Outcome) -> concurrent.futures.Future[Observation]:
        """Parse in a worker process (only when :meth:`offloads` said so)."""
        assert self._pool is not None
        assert isinstance(outcome, Response)
        return self._pool.submit(fetch, outcome)

    def prepare(self, fetch: Fetch, outcome: Outcome) -> Observation:
        """Parse where it pays, waiting for a worker at most :data:`PARSE_DEADLINE` seconds."""
        if not self.offloads(outcome):
            return self.here(fetch, outcome)
        try:
            return self.submit(fetch, outcome).result(timeout=PARSE_DEADLINE)
        except concurrent.futures.TimeoutError as exc:
            failure = crash(exc, elapsed=outcome.elapsed, fetched_at=outcome.fetched_at)
            return Observation(fetch, failure)

    def close(self) -> None:
        """Stop the worker processes, if any."""
        if self._pool is not None:
            self._pool.close()
