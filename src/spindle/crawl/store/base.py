"""The storage interface: where a crawl's frontier, seen set and results survive a crash.

A store receives the scheduler's :class:`~spindle.crawl.core.scheduler.Changes` in batches and
must apply each batch atomically: a page's record and the URLs it discovered land together or
not at all, so a crash never loses the children of a finished page.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

from spindle.crawl.core.hosts import Entry
from spindle.crawl.core.scheduler import Changes

__all__ = ["CrawlStore", "Resumed", "StateMismatch"]


class StateMismatch(ValueError):
    """The state file belongs to a different crawl (other seeds, scope, depth or robots rule)."""


@dataclass(frozen=True, slots=True)
class Resumed:
    """What a store hands back when a crawl continues."""

    queued: list[Entry]
    seen: list[str]
    pages_done: int
    skipped: int


class CrawlStore(Protocol):
    """Persistence for one crawl. Called from a single writer thread only."""

    def open(self, identity: Mapping[str, object]) -> Resumed | None:
        """Start or continue the crawl named by ``identity``; None for a fresh crawl.

        Raises:
            StateMismatch: the store holds a crawl with a different identity.
        """
        ...

    def save(self, changes: Changes, encoded: list[bytes]) -> None:
        """Apply one batch atomically; ``encoded`` are the records' JSON lines, in order."""
        ...

    def encoded_records(self, start: int) -> Iterator[bytes]:
        """Yield the JSON lines of the records from position ``start`` (0-based) on, in order."""
        ...

    def close(self) -> None:
        """Flush and release the store."""
        ...
