"""A bounded FIFO queue for threads, built on one lock and two conditions.

``not_full`` is what producers wait on and ``not_empty`` what consumers wait on; each put
notifies one consumer, each get one producer, and ``close`` wakes everyone. A waiter always
re-checks its condition after waking, so a notification is never lost to a waiter that timed
out at the same moment: that waiter either uses the slot or item it was woken for, or someone
else already has.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from spindle.sync.lock_order import new_condition, new_lock

__all__ = [
    "BoundedQueue",
    "QueueClosed",
    "QueueEmpty",
    "QueueFull",
    "QueueStatistics",
    "QueueTimeout",
]

T = TypeVar("T")


class QueueClosed(Exception):
    """The queue was closed: no more puts, and (for gets) nothing is left to drain.

    >>> queue = BoundedQueue[int](1)
    >>> queue.close()
    >>> queue.put(1)
    Traceback (most recent call last):
    ...
    spindle.sync.bounded_queue.QueueClosed: put on a closed queue
    """


class QueueFull(Exception):
    """``put_nowait`` found the queue at capacity (see the :class:`BoundedQueue` example)."""


class QueueEmpty(Exception):
    """``get_nowait`` found the queue empty, but not closed.

    >>> BoundedQueue[int](1).get_nowait()
    Traceback (most recent call last):
    ...
    spindle.sync.bounded_queue.QueueEmpty: queue is empty
    """


class QueueTimeout(TimeoutError):
    """A blocking ``put`` or ``get`` waited for its whole timeout (a ``TimeoutError``).

    >>> BoundedQueue[int](1).get(timeout=0)
    Traceback (most recent call last):
    ...
    spindle.sync.bounded_queue.QueueTimeout: queue still empty
    """


@dataclass(frozen=True, slots=True)
class QueueStatistics:
    """A consistent snapshot of a :class:`BoundedQueue`, taken under its lock.

    Attributes:
        size: items in the queue.
        capacity: the most items it holds.
        blocked_producers: threads waiting in ``put`` right now.
        blocked_consumers: threads waiting in ``get`` right now.
        total_put: items ever put.
        total_got: items ever taken.
        producer_waits: how many puts ever had to wait because the queue was full.
        consumer_waits: how many gets ever had to wait because the queue was empty.
        closed: whether ``close`` has been called.

    >>> queue = BoundedQueue[str](3)
    >>> queue.put("job")
    >>> queue.statistics()  # doctest: +NORMALIZE_WHITESPACE
    QueueStatistics(size=1, capacity=3, blocked_producers=0, blocked_consumers=0, total_put=1,
                    total_got=0, producer_waits=0, consumer_waits=0, closed=False)
    """

    size: int
    capacity: int
    blocked_producers: int
    blocked_consumers: int
    total_put: int
    total_got: int
    producer_waits: int
    consumer_waits: int
    closed: bool


def _deadline(timeout: float | None) -> float | None:
    if timeout is None:
        return None
    if not timeout >= 0:  # also rejects NaN
        raise ValueError(f"timeout must be None or at least 0, not {timeout!r}")
    return time.monotonic() + timeout


class BoundedQueue(Generic[T]):
    """A thread-safe FIFO queue holding at most ``capacity`` items, which can be closed.

    * ``put`` blocks while the queue is full; ``get`` blocks while it is empty. Both accept a
      ``timeout`` in seconds (None: wait for ever) and raise :class:`QueueTimeout` when it runs
      out; ``timeout=0`` never waits.
    * Items come out in the order they went in. Waiting threads are woken oldest first, but a
      thread arriving just as a slot or item frees up may take it first: no strict fairness.
    * ``close`` is final and idempotent, and wakes every waiter. From then on every put
      raises :class:`QueueClosed` (also a put that was waiting), while gets return the items
      still queued and raise :class:`QueueClosed` once it is drained.
    * Iterating yields items via ``get`` until the queue is closed and drained.

    The lock comes from :func:`~spindle.sync.new_lock`, so it is order-checked when lock-order
    checking is enabled.

    Args:
        capacity: at least 1.

    Raises:
        ValueError: ``capacity`` is not an integer of at least 1.

    >>> queue = BoundedQueue[str](2)
    >>> queue.put("a"); queue.put_nowait("b")
    >>> queue.put_nowait("c")
    Traceback (most recent call last):
    ...
    spindle.sync.bounded_queue.QueueFull: queue is at its capacity of 2
    >>> queue.close()
    >>> list(queue)
    ['a', 'b']
    >>> queue
    <BoundedQueue size=0/2 blocked_producers=0 blocked_consumers=0 closed>
    """

    def __init__(self, capacity: int) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"capacity must be an integer of at least 1, not {capacity!r}")
        self._capacity = capacity
        self._items: deque[T] = deque()
        self._closed = False
        self._lock = new_lock("BoundedQueue")
        self._not_full = new_condition(self._lock)
        self._not_empty = new_condition(self._lock)
        # Notified whenever a thread starts or stops waiting; only wait_for_blocked listens.
        self._blocked_changed = new_condition(self._lock)
        self._blocked_producers = 0
        self._blocked_consumers = 0
        self._total_put = 0
        self._total_got = 0
        self._producer_waits = 0
        self._consumer_waits = 0

    @property
    def capacity(self) -> int:
        """The most items the queue holds."""
        return self._capacity

    @property
    def closed(self) -> bool:
        """Whether ``close`` has been called (items may still be left to drain)."""
        return self._closed

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def put(self, item: T, timeout: float | None = None) -> None:
        """Append ``item``, waiting while the queue is full.

        Raises:
            QueueClosed: the queue is closed, or was closed while this put waited.
            QueueTimeout: still full after ``timeout`` seconds; the item was not added.
            ValueError: ``timeout`` is negative.
        """
        deadline = _deadline(timeout)
        with self._lock:
            if self._closed:
                raise QueueClosed("put on a closed queue")
            if len(self._items) >= self._capacity:
                self._wait_for_room(deadline)
            self._items.append(item)
            self._total_put += 1
            self._not_empty.notify()

    def put_nowait(self, item: T) -> None:
        """Append ``item`` if there is room now.

        Raises:
            QueueFull: the queue is full.
            QueueClosed: the queue is closed.
        """
        with self._lock:
            if self._closed:
                raise QueueClosed("put on a closed queue")
            if len(self._items) >= self._capacity:
                raise QueueFull(f"queue is at its capacity of {self._capacity}")
            self._items.append(item)
            self._total_put += 1
            self._not_empty.notify()

    def get(self, timeout: float | None = None) -> T:
        """Remove and return the oldest item, waiting while the queue is empty and open.

        Raises:
            QueueClosed: the queue is closed and drained (also if closed while this get waited).
            QueueTimeout: still empty after ``timeout`` seconds.
            ValueError: ``timeout`` is negative.
        """
        deadline = _deadline(timeout)
        with self._lock:
            if not self._items and not self._closed:
                self._wait_for_item(deadline)
            if not self._items:
                raise QueueClosed("get on a closed and drained queue")
            return self._take()

    def get_nowait(self) -> T:
        """Remove and return the oldest item if there is one now.

        Raises:
            QueueEmpty: the queue is empty but open.
            QueueClosed: the queue is closed and drained.
        """
        with self._lock:
            if not self._items:
                if self._closed:
                    raise QueueClosed("get on a closed and drained queue")
                raise QueueEmpty("queue is empty")
            return self._take()

    def close(self) -> None:
        """Refuse further puts and wake every waiting thread; calling it again does nothing."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._not_full.notify_all()
            self._not_empty.notify_all()

    def __iter__(self) -> Iterator[T]:
        """Yield items from ``get`` (blocking) until the queue is closed and drained."""
        while True:
            try:
                yield self.get()
            except QueueClosed:
                return

    def statistics(self) -> QueueStatistics:
        """Return a consistent snapshot of the sizes and counters."""
        with self._lock:
            return QueueStatistics(
                size=len(self._items),
                capacity=self._capacity,
                blocked_producers=self._blocked_producers,
                blocked_consumers=self._blocked_consumers,
                total_put=self._total_put,
                total_got=self._total_got,
                producer_waits=self._producer_waits,
                consumer_waits=self._consumer_waits,
                closed=self._closed,
            )

    def wait_for_blocked(
        self, producers: int = 0, consumers: int = 0, timeout: float | None = None
    ) -> bool:
        """Wait until at least ``producers`` puts and ``consumers`` gets are blocked.

        A thread counts as blocked from the moment it is registered as a waiter (under the
        lock), so once this returns True, the next get (or put) is guaranteed to wake it. Meant
        for tests and demonstrations that must know a thread is blocked, without sleeping.

        Returns:
            True once the counts are reached; False if ``timeout`` seconds passed first.

        >>> BoundedQueue[int](1).wait_for_blocked(consumers=1, timeout=0)
        False
        """
        with self._lock:
            return self._blocked_changed.wait_for(
                lambda: (
                    self._blocked_producers >= producers and self._blocked_consumers >= consumers
                ),
                timeout,
            )

    def __repr__(self) -> str:
        # No lock: a repr must work even from a thread (or debugger) that holds it.
        return (
            f"<BoundedQueue size={len(self._items)}/{self._capacity} "
            f"blocked_producers={self._blocked_producers} "
            f"blocked_consumers={self._blocked_consumers}{' closed' if self._closed else ''}>"
        )

    def _take(self) -> T:
        item = self._items.popleft()
        self._total_got += 1
        self._not_full.notify()
        return item

    def _wait_for_room(self, deadline: float | None) -> None:
        """With the lock held and the queue full: wait until there is room or it is closed."""
        if deadline is not None and deadline <= time.monotonic():
            raise QueueTimeout(f"queue still full (capacity {self._capacity})")
        self._producer_waits += 1
        self._blocked_producers += 1
        self._blocked_changed.notify_all()
        try:
            while len(self._items) >= self._capacity and not self._closed:
                if deadline is None:
                    self._not_full.wait()
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise QueueTimeout(
                        f"queue still full after the timeout (capacity {self._capacity})"
                    )
                self._not_full.wait(remaining)
        finally:
            self._blocked_producers -= 1
            self._blocked_changed.notify_all()
        if self._closed:
            raise QueueClosed("queue closed while put waited")

    def _wait_for_item(self, deadline: float | None) -> None:
        """With the lock held and the queue empty and open: wait for an item or the close."""
        if deadline is not None and deadline <= time.monotonic():
            raise QueueTimeout("queue still empty")
        self._consumer_waits += 1
        self._blocked_consumers += 1
        self._blocked_changed.notify_all()
        try:
            while not self._items and not self._closed:
                if deadline is None:
                    self._not_empty.wait()
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise QueueTimeout("queue still empty")
                self._not_empty.wait(remaining)
        finally:
            self._blocked_consumers -= 1
            self._blocked_changed.notify_all()
