"""The storage interface: where a crawl's frontier, seen set and results survive a crash.

A store receives the scheduler's :class:`~spindle.crawl.core.values.Changes` in batches and
must apply each batch atomically: a page's record and the URLs it discovered land together or
not at all, so a crash never loses the children of a finished page. Stores depend on the
core's values and on the pure functions that key URLs by host and by trap rule; the
frontier on disk (``frontier.py``) plugs into the core's ``LocalFrontier``.
"""

from __future__ import annotations

import enum
from collections.abc import Generator, Mapping
from typing import NamedTuple, Protocol

from spindle.crawl.core.values import Changes, Resumed

__all__ = ["CrawlStore", "StateError", "StateInUse", "StateMismatch", "Stream", "WarcMark"]


class Stream(enum.Enum):
    """The line outputs a crawl writes, each kept in the state line by line so that a resumed
    crawl can check and complete its file."""

    RECORDS = "records"
    SKIPS = "skips"


class WarcMark(NamedTuple):
    """Where the WARC output ends once a batch is committed: the file's number (0 without
    rotation) and the byte offset just past the batch's last record."""

    file: int
    offset: int


class StateError(Exception):
    """The state cannot be used for this crawl; the message says why and what to do."""


class StateMismatch(StateError):
    """The state file belongs to a different crawl (other seeds, scope, depth or robots rule),
    or was written in a format this version does not read."""


class StateInUse(StateError):
    """Another running crawl holds the state file."""


class CrawlStore(Protocol):
    """Persistence for one crawl. Called from a single writer thread only."""

    def open(self, identity: Mapping[str, object]) -> Resumed | None:
        """Start or continue the crawl named by ``identity``; None for a fresh crawl.

        Raises:
            StateMismatch: the store holds a crawl with a different identity.
        """
        ...

    def save(
        self, changes: Changes, lines: Mapping[Stream, list[bytes]], warc: WarcMark | None = None
    ) -> None:
        """Apply one batch atomically; ``lines`` are the encoded records and skips, in order
        (one line per record of ``changes.records``, per skip of ``changes.skipped``);
        ``warc`` is where the WARC output ends with this batch's records, kept in the same
        transaction."""
        ...

    def warc_mark(self) -> WarcMark | None:
        """Where the WARC output ended at the last committed batch; None when no batch with a
        WARC mark was committed."""
        ...

    def encoded(self, stream: Stream, start: int) -> Generator[bytes, None, None]:
        """Yield the lines of ``stream`` from position ``start`` (0-based) on, in order.

        Close the generator when stopping early: it may hold the store's read open."""
        ...

    def close(self) -> None:
        """Flush and release the store."""
        ...
