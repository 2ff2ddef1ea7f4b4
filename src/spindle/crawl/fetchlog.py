"""A log of every fetch, one line each, as wget's and Scrapy's logs have them.

A line reads ``TIME STATUS KIND MS BYTES attempt=N URL`` for an answer, or
``TIME ERROR:KIND KIND MS - attempt=N URL (message)`` for a failure, e.g.::

    2026-11-25T16:07:46.688Z 200 page 32.5ms 6128B attempt=1 http://127.0.0.1:8000/docs/0.html

Every fetch is logged, retries and robots.txt and sitemap fetches included, in the order the
crawl learnt of them. URLs carry no credentials (they are taken out before the crawl starts)
and failure messages are masked by the fetchers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from spindle.crawl.core.values import Failure, Observation

__all__ = ["FetchLog", "format_line"]


class _Sink(Protocol):
    def __call__(self, line: str, /) -> object: ...


def format_line(observation: Observation) -> str:
    """The log line of one observed fetch."""
    fetch, outcome = observation.fetch, observation.outcome
    stamp = datetime.fromtimestamp(outcome.fetched_at, UTC).isoformat(timespec="milliseconds")
    when = stamp.replace("+00:00", "Z")
    ms = f"{outcome.elapsed * 1000:.1f}ms"
    tail = f"attempt={fetch.attempt} {fetch.url}"
    if isinstance(outcome, Failure):
        error = f"ERROR:{outcome.kind.value}"
        return f"{when} {error} {fetch.kind.value} {ms} - {tail} ({outcome.message})"
    return f"{when} {outcome.status} {fetch.kind.value} {ms} {len(outcome.body)}B {tail}"


class FetchLog:
    """Writes one line per observed fetch to every sink it was given."""

    def __init__(self, *sinks: _Sink) -> None:
        self._sinks = sinks

    def __bool__(self) -> bool:
        return bool(self._sinks)

    def log(self, observation: Observation) -> None:
        """Log one observed fetch."""
        line = format_line(observation)
        for sink in self._sinks:
            sink(line)
