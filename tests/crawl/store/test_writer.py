"""The writer bounds what waits to be committed by URLs as well as by batches."""

from __future__ import annotations

import threading
from collections.abc import Generator, Mapping

from spindle.crawl.core import Changes, Entry
from spindle.crawl.core.values import Resumed
from spindle.crawl.store.base import Stream, WarcMark
from spindle.crawl.store.writer import RecordWriter


class SlowStore:
    """Holds every save until ``go`` is set; counts what it saved."""

    def __init__(self) -> None:
        self.go = threading.Event()
        self.saved = 0

    def open(self, identity: Mapping[str, object]) -> Resumed | None:
        return None

    def save(
        self, changes: Changes, lines: Mapping[Stream, list[bytes]], warc: WarcMark | None = None
    ) -> None:
        self.go.wait(10)
        self.saved += len(changes.discovered)

    def encoded(self, stream: Stream, start: int) -> Generator[bytes, None, None]:
        yield from ()

    def close(self) -> None:
        """Nothing to release."""


def batch(n: int) -> Changes:
    return Changes(discovered=[Entry(f"http://a.test/{i}", f"k{i}", 1, None) for i in range(n)])


def test_a_submit_waits_while_max_urls_wait_to_be_committed() -> None:
    store = SlowStore()
    writer = RecordWriter(store, {}, capacity=100, max_urls=10)
    assert writer.submit_nowait(batch(6))  # taken by the writer thread, held in save()
    assert writer.submit_nowait(batch(4))
    assert not writer.submit_nowait(batch(1))  # 10 URLs wait: no room, though batches fit
    submitted = threading.Event()
    waiting = threading.Thread(target=lambda: (writer.submit(batch(3)), submitted.set()))
    waiting.start()
    assert not submitted.wait(0.3)  # submit() blocks until URLs are committed
    store.go.set()
    assert submitted.wait(5)
    waiting.join()
    writer.submit(batch(25))  # larger than max_urls: goes once nothing else waits
    writer.close()
    assert store.saved == 6 + 4 + 3 + 25
