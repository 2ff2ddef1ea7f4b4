"""Drive either fetcher the same way from a test: ``with open_fetcher(engine, settings) as f``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from spindle.crawl.core.values import Failure, Fetch, FetchKind, Outcome, Response
from spindle.crawl.engines.http_async import AsyncFetcher
from spindle.crawl.engines.http_threads import ThreadFetcher
from spindle.crawl.engines.request import FetchSettings

ENGINES = ("threads", "async")

FetchFn = Callable[..., Outcome]  # (fetch, on_sent=None) -> outcome


@contextmanager
def open_fetcher(engine: str, settings: FetchSettings) -> Iterator[FetchFn]:
    """A blocking ``fetch`` function backed by the named engine's fetcher, closed on exit."""
    if engine == "threads":
        fetcher = ThreadFetcher(settings)
        try:
            yield fetcher.fetch
        finally:
            fetcher.close()
        return
    with asyncio.Runner() as runner:

        async def create() -> AsyncFetcher:
            return AsyncFetcher(settings)

        async_fetcher = runner.run(create())
        try:
            yield lambda fetch, on_sent=None: runner.run(async_fetcher.fetch(fetch, on_sent))
        finally:
            runner.run(async_fetcher.close())


def fetch_once(engine: str, settings: FetchSettings, fetch: Fetch) -> Outcome:
    """One fetch with a fresh fetcher (so no connection is reused from an earlier test)."""
    with open_fetcher(engine, settings) as fetch_fn:
        return fetch_fn(fetch)


def make_fetch(url: str, *, kind: FetchKind = FetchKind.PAGE, max_bytes: int = 1_000_000) -> Fetch:
    """A first-attempt fetch of ``url``."""
    return Fetch(1, url, url, kind, 0, None, 1, max_bytes)


def summary(outcome: Outcome) -> tuple[object, ...]:
    """What the contract compares: status, body and truncation of an answer; kind of a failure."""
    if isinstance(outcome, Response):
        return ("response", outcome.status, outcome.body, outcome.truncated)
    assert isinstance(outcome, Failure)
    return ("failure", outcome.kind)
