"""The single writer: the only thread that touches the store and the outputs.

Engines submit the scheduler's changes; the writer takes everything waiting, saves it as one
transaction, and only then appends the records to the outputs. Batching falls out of the
queue: while one batch is being committed, the next ones accumulate, up to ``capacity``
batches and ``max_urls`` URLs (records, discovered, retried and skipped URLs); past either
bound a submit waits. Bounding the URLs bounds the memory that discovered URLs take before
they are committed, which a frontier on disk must keep in memory until then (a page can
discover thousands). A failure to write (a full disk, a closed pipe) stops the writer; the next
submit raises :class:`WriterFailed`, and the state holds every batch committed before it, so
the crawl can be resumed.

The archives come before the commit, the line outputs after it. For each batch the writer
saves the 2xx bodies in the page store (each record then names its file in a ``file``
field, so the state's line and the output's line are one), appends the exchanges to the WARC
and flushes it, and only then commits the state with the WARC's new end: a committed record's
file always exists, and a resumed crawl cuts the WARC back to what was committed.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import orjson

from spindle.crawl.core.values import Changes, FetchKind, PageRecord, Response
from spindle.crawl.store.base import CrawlStore, Stream
from spindle.crawl.store.jsonl import JsonlSink
from spindle.crawl.store.pages import PageStore
from spindle.crawl.store.warc import WarcArchive
from spindle.sync import (
    BoundedQueue,
    QueueClosed,
    QueueEmpty,
    QueueFull,
    QueueTimeout,
    new_condition,
    new_lock,
)

__all__ = ["RecordWriter", "WriterFailed"]

# How often a blocked submit checks that the writer thread is still alive.
_LIVENESS_CHECK = 0.5
# URLs waiting to be committed before a submit waits: about 10 MB of entries and lines.
MAX_URLS = 20_000


def _encode(value: dict[str, Any]) -> bytes:
    """One JSON line. orjson's result keeps the 4 KiB buffer it was written into (orjson 3.13:
    4,098 bytes a line whatever its length), so a batch of 10,000 skips held 40 MB; a copy of
    the right size holds 1.6 MB, for 0.9 microseconds a line."""
    return bytes(memoryview(orjson.dumps(value)))


def _weight(changes: Changes) -> int:
    return (
        len(changes.records) + len(changes.discovered) + len(changes.retried) + len(changes.skipped)
    )


class WriterFailed(RuntimeError):
    """The store or an output could not be written; the crawl must stop.

    ``__cause__`` is the original error (an ``OSError`` such as ``BrokenPipeError`` or
    ``ENOSPC``, or a ``sqlite3.Error``).
    """


class RecordWriter:
    """Persists batches of :class:`Changes` on a background thread, in submission order.

    ``warc`` and ``pages`` are the archives, written before each commit (both are started by
    the caller and used by this thread only; the caller closes ``warc``).
    """

    def __init__(
        self,
        store: CrawlStore,
        sinks: Mapping[Stream, JsonlSink],
        *,
        capacity: int = 256,
        max_urls: int = MAX_URLS,
        warc: WarcArchive | None = None,
        pages: PageStore | None = None,
    ) -> None:
        self._store = store
        self._sinks = dict(sinks)
        self._warc = warc
        self._pages = pages
        self._max_urls = max_urls
        self._backlog = 0  # URLs in batches submitted and not yet committed
        self._room = new_condition(new_lock("RecordWriter.backlog"))
        # The only place that holds batches, and with them the exchanges' bodies when the
        # crawl archives: at most ``capacity`` batches wait here, and each is dropped once
        # written, so the archives add no buffering of their own.
        self._queue: BoundedQueue[Changes] = BoundedQueue(capacity)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="spindle-writer", daemon=True)
        self._thread.start()

    def submit(self, changes: Changes) -> None:
        """Queue a batch; blocks while the writer is ``capacity`` batches or ``max_urls`` URLs
        behind (a batch larger than ``max_urls`` waits for an empty backlog).

        Raises:
            WriterFailed: an earlier batch could not be written.
        """
        weight = _weight(changes)
        with self._room:
            while self._backlog and self._backlog + weight > self._max_urls:
                if self._error is not None:
                    self._raise()
                if not self._room.wait(_LIVENESS_CHECK) and not self._thread.is_alive():
                    self._error = self._error or RuntimeError("the writer thread died")
                    self._raise()
            self._backlog += weight
        while True:
            try:
                self._queue.put(changes, timeout=_LIVENESS_CHECK)
                return
            except QueueClosed:
                self._raise()
            except QueueTimeout:
                if not self._thread.is_alive():
                    self._error = self._error or RuntimeError("the writer thread died")
                    self._raise()

    def submit_nowait(self, changes: Changes) -> bool:
        """Queue a batch if there is room; False when the writer is ``capacity`` batches or
        ``max_urls`` URLs behind (for an event loop, which must not block).

        Raises:
            WriterFailed: an earlier batch could not be written.
        """
        weight = _weight(changes)
        with self._room:
            if self._backlog and self._backlog + weight > self._max_urls:
                if self._error is not None:
                    self._raise()
                return False
            self._backlog += weight
        try:
            self._queue.put_nowait(changes)
        except QueueFull:
            self._committed(weight)
            return False
        except QueueClosed:
            self._raise()
        return True

    def _committed(self, weight: int) -> None:
        with self._room:
            self._backlog -= weight
            self._room.notify_all()

    def close(self) -> None:
        """Write what is queued, stop the thread, and raise a write failure, if any.

        Raises:
            WriterFailed: a batch could not be written.
        """
        self._queue.close()
        self._thread.join()
        if self._error is not None:
            self._raise()

    def _raise(self) -> None:
        error = self._error
        raise WriterFailed(str(error) or type(error).__name__) from error

    def _run(self) -> None:
        try:
            for first in self._queue:
                batch = self._merged(first)
                del first
                self._persist(batch)
                self._committed(_weight(batch))
                del batch  # while waiting for the next one, hold no bodies
        except BaseException as exc:  # the crawl must learn of any failure, and stop
            self._error = exc
            self._queue.close()
            with self._room:
                self._room.notify_all()

    def _merged(self, first: Changes) -> Changes:
        """``first`` and every batch waiting behind it, as one batch."""
        batch = Changes()
        batch.extend(first)
        while waiting := self._take_waiting():
            for changes in waiting:
                batch.extend(changes)
        return batch

    def _persist(self, batch: Changes) -> None:
        documents = [record.to_json() for record in batch.records]
        if self._pages is not None:
            for document, file in zip(documents, self._save_pages(batch), strict=True):
                document["file"] = file
        lines = {
            Stream.RECORDS: [_encode(document) for document in documents],
            Stream.SKIPS: [_encode(skip.to_json()) for skip in batch.skipped],
        }
        mark = None if self._warc is None else self._warc.write(batch.exchanges)
        self._store.save(batch, lines, mark)
        for stream, sink in self._sinks.items():
            sink.write(lines[stream])

    def _save_pages(self, batch: Changes) -> list[str | None]:
        """Save the body of each 2xx record's response; the file of each record, or None."""
        assert self._pages is not None
        answers = {
            (fetch.key, fetch.attempt): response
            for fetch, response in batch.exchanges
            if fetch.kind is FetchKind.PAGE
        }
        return [self._save_page(record, answers) for record in batch.records]

    def _save_page(
        self, record: PageRecord, answers: Mapping[tuple[str, int], Response]
    ) -> str | None:
        assert self._pages is not None
        if record.status is None or not 200 <= record.status < 300:
            return None
        response = answers.get((record.key, record.attempts))
        if response is None:  # the core puts a page's exchange in its record's batch
            raise RuntimeError(f"no exchange for the record of {record.url} in its batch")
        return self._pages.save(record.url, response.body)

    def _take_waiting(self) -> list[Changes]:
        taken = []
        for _ in range(self._queue.capacity):
            try:
                taken.append(self._queue.get_nowait())
            except (QueueEmpty, QueueClosed):
                break
        return taken
