"""The FIFO and blocking contract, run against BoundedQueue and against queue.Queue.

``queue.Queue`` is the reference: wrapped in a thin adapter that maps its exceptions onto ours,
it must pass every test here, and so must BoundedQueue.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

import pytest

from spindle.sync import BoundedQueue, QueueEmpty, QueueFull, QueueTimeout

T = TypeVar("T")
JOIN_TIMEOUT = 30.0


class FifoQueue(Protocol[T]):
    def put(self, item: T, timeout: float | None = None) -> None: ...

    def put_nowait(self, item: T) -> None: ...

    def get(self, timeout: float | None = None) -> T: ...

    def get_nowait(self) -> T: ...

    def __len__(self) -> int: ...


class StdlibQueue(Generic[T]):
    """``queue.Queue`` behind BoundedQueue's method names and exceptions."""

    def __init__(self, capacity: int) -> None:
        self._queue: queue.Queue[T] = queue.Queue(maxsize=capacity)

    def put(self, item: T, timeout: float | None = None) -> None:
        try:
            self._queue.put(item, timeout=timeout)
        except queue.Full:
            raise QueueTimeout from None

    def put_nowait(self, item: T) -> None:
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            raise QueueFull from None

    def get(self, timeout: float | None = None) -> T:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            raise QueueTimeout from None

    def get_nowait(self) -> T:
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            raise QueueEmpty from None

    def __len__(self) -> int:
        return self._queue.qsize()


@pytest.fixture(params=["BoundedQueue", "queue.Queue"])
def make(request: pytest.FixtureRequest) -> Callable[[int], FifoQueue[int]]:
    return BoundedQueue if request.param == "BoundedQueue" else StdlibQueue


def test_items_come_out_in_the_order_they_went_in(make: Callable[[int], FifoQueue[int]]) -> None:
    fifo = make(5)
    for number in range(5):
        fifo.put_nowait(number)
    assert len(fifo) == 5
    assert [fifo.get_nowait() for _ in range(5)] == [0, 1, 2, 3, 4]
    assert len(fifo) == 0


def test_nowait_operations_refuse_when_full_or_empty(make: Callable[[int], FifoQueue[int]]) -> None:
    fifo = make(1)
    with pytest.raises(QueueEmpty):
        fifo.get_nowait()
    fifo.put_nowait(1)
    with pytest.raises(QueueFull):
        fifo.put_nowait(2)
    assert len(fifo) == 1
    assert fifo.get_nowait() == 1


def test_timed_out_operations_raise_and_leave_the_queue_as_it_was(
    make: Callable[[int], FifoQueue[int]],
) -> None:
    fifo = make(1)
    with pytest.raises(QueueTimeout):
        fifo.get(timeout=0.01)
    fifo.put(1)
    with pytest.raises(QueueTimeout):
        fifo.put(2, timeout=0.01)
    assert len(fifo) == 1
    assert fifo.get(timeout=0.01) == 1


def test_a_put_on_a_full_queue_completes_after_a_get(make: Callable[[int], FifoQueue[int]]) -> None:
    fifo = make(1)
    fifo.put(1)
    thread = threading.Thread(target=fifo.put, args=(2,))
    thread.start()
    # Whether or not the put is waiting yet, the get makes room for it.
    assert fifo.get() == 1
    thread.join(JOIN_TIMEOUT)
    assert not thread.is_alive()
    assert fifo.get_nowait() == 2


def test_a_get_on_an_empty_queue_receives_a_later_put(
    make: Callable[[int], FifoQueue[int]],
) -> None:
    fifo = make(1)
    received: list[int] = []
    thread = threading.Thread(target=lambda: received.append(fifo.get()))
    thread.start()
    fifo.put(7)
    thread.join(JOIN_TIMEOUT)
    assert not thread.is_alive()
    assert received == [7]
    assert len(fifo) == 0


def test_many_threads_move_every_item_exactly_once(make: Callable[[int], FifoQueue[int]]) -> None:
    fifo = make(2)
    producers, consumers, items = 3, 3, 500
    received: list[list[int]] = [[] for _ in range(consumers)]

    def produce(offset: int) -> None:
        for number in range(items):
            fifo.put(offset + number)

    def consume(into: list[int]) -> None:
        for _ in range(items):
            into.append(fifo.get())

    threads = [threading.Thread(target=produce, args=(p * items,)) for p in range(producers)] + [
        threading.Thread(target=consume, args=(r,)) for r in received
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads)
    assert sorted(n for batch in received for n in batch) == list(range(producers * items))
    for batch in received:  # each producer's numbers increase, and FIFO keeps that per consumer
        for p in range(producers):
            mine = [n for n in batch if p * items <= n < (p + 1) * items]
            assert mine == sorted(mine)
