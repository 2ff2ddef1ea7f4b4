"""The single writer: the only thread that touches the store and the output file.

Engines submit the scheduler's changes; the writer takes everything waiting, saves it as one
transaction, and only then appends the records to the JSON Lines output. Batching falls out of
the queue: while one batch is being committed, the next ones accumulate.
"""

from __future__ import annotations

import threading

import orjson

from spindle.crawl.core.scheduler import Changes
from spindle.crawl.output import JsonlSink
from spindle.crawl.store.base import CrawlStore
from spindle.sync import BoundedQueue, QueueClosed, QueueEmpty

__all__ = ["RecordWriter", "WriterFailed"]


class WriterFailed(RuntimeError):
    """The store or the output could not be written; the crawl must stop."""


class RecordWriter:
    """Persists batches of :class:`Changes` on a background thread, in submission order."""

    def __init__(self, store: CrawlStore, sink: JsonlSink | None, *, capacity: int = 256) -> None:
        self._store = store
        self._sink = sink
        self._queue: BoundedQueue[Changes] = BoundedQueue(capacity)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="spindle-writer", daemon=True)
        self._thread.start()

    def submit(self, changes: Changes) -> None:
        """Queue a batch; blocks while the writer is ``capacity`` batches behind.

        Raises:
            WriterFailed: an earlier batch could not be written.
        """
        try:
            self._queue.put(changes)
        except QueueClosed:
            raise WriterFailed(str(self._error)) from self._error

    def close(self) -> None:
        """Write what is queued, stop the thread, and re-raise a write failure, if any."""
        self._queue.close()
        self._thread.join()
        if self._error is not None:
            raise WriterFailed(str(self._error)) from self._error

    def _run(self) -> None:
        try:
            for first in self._queue:
                batch = Changes()
                pending = [first]
                while True:
                    for changes in pending:
                        batch.records.extend(changes.records)
                        batch.discovered.extend(changes.discovered)
                        batch.skipped.extend(changes.skipped)
                    pending = self._take_waiting()
                    if not pending:
                        break
                lines = [orjson.dumps(record.to_json()) for record in batch.records]
                self._store.save(batch, lines)
                if self._sink is not None:
                    self._sink.write(lines)
        except BaseException as exc:  # the crawl must learn of any failure, and stop
            self._error = exc
            self._queue.close()

    def _take_waiting(self) -> list[Changes]:
        taken = []
        for _ in range(self._queue.capacity):
            try:
                taken.append(self._queue.get_nowait())
            except (QueueEmpty, QueueClosed):
                break
        return taken
