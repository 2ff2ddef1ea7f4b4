"""A store that keeps nothing: for crawls run without state, which cannot be resumed."""

from __future__ import annotations

from collections.abc import Generator, Mapping

from spindle.crawl.core.values import Changes, Resumed
from spindle.crawl.store.base import Stream, WarcMark

__all__ = ["NullStore"]


class NullStore:
    """Implements :class:`~spindle.crawl.store.base.CrawlStore` by forgetting everything."""

    def open(self, identity: Mapping[str, object]) -> Resumed | None:
        """Always a fresh crawl."""
        return None

    def save(
        self, changes: Changes, lines: Mapping[Stream, list[bytes]], warc: WarcMark | None = None
    ) -> None:
        """Nothing to keep."""

    def warc_mark(self) -> WarcMark | None:
        """Nothing was kept."""
        return None

    def encoded(self, stream: Stream, start: int) -> Generator[bytes, None, None]:
        """No lines are kept."""
        yield from ()

    def close(self) -> None:
        """Nothing to release."""
