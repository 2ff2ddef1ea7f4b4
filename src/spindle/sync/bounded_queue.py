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
from collections.abc import Callable, Iterator
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
        weight: the items' total weight (0 for a queue without ``max_weight``).
        max_weight: the weight the items may reach, or None.

    >>> queue = BoundedQueue[str](3)
    >>> queue.put("job")
    >>> queue.statistics()  # doctest: +NORMALIZE_WHITESPACE
    QueueStatistics(size=1, capacity=3, blocked_producers=0, blocked_consumers=0, total_put=1,
                    total_got=0, producer_waits=0, consumer_waits=0, closed=False, weight=0,
                    max_weight=None)
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
    weight: int = 0
    max_weight: int | None = None


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
    * With ``max_weight``, every item also weighs ``weigh(item)`` (say, a body's bytes), and
      a put also waits (or ``put_nowait`` raises :class:`QueueFull`) while the item would take
      the total over ``max_weight``; an item heavier than ``max_weight`` on its own goes in
      when the queue is empty, so it never waits for ever. The bound is then on what the
      items hold, not only on how many they are. Weights are taken once, at the put, and
      must not be negative.

    The lock comes from :func:`~spindle.sync.new_lock`, so it is order-checked when lock-order
    checking is enabled.

    Args:
        capacity: at least 1.
        max_weight: at least 1, or None for no bound on the weight; needs ``weigh``.
        weigh: an item's weight (an int of at least 0); needs ``max_weight``.

    Raises:
        ValueError: ``capacity`` is not an integer of at least 1, ``max_weight`` not one of at
            least 1, or only one of ``max_weight`` and ``weigh`` is given.

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
    >>> bodies = BoundedQueue[bytes](10, max_weight=4, weigh=len)
    >>> bodies.put_nowait(b"abc"); bodies.put_nowait(b"d")
    >>> bodies.put_nowait(b"e")
    Traceback (most recent call last):
    ...
    spindle.sync.bounded_queue.QueueFull: queue is at its weight of 4 (4 of 4, 1 more asked)
    """

    def __init__(
        self,
        capacity: int,
        *,
        max_weight: int | None = None,
        weigh: Callable[[T], int] | None = None,
    ) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"capacity must be an integer of at least 1, not {capacity!r}")
        if max_weight is not None and (
            isinstance(max_weight, bool) or not isinstance(max_weight, int) or max_weight < 1
        ):
            raise ValueError(f"max_weight must be an integer of at least 1, not {max_weight!r}")
        if (max_weight is None) != (weigh is None):
            raise ValueError("max_weight and weigh go together: give both or neither")
        self._capacity = capacity
        self._max_weight = max_weight
        self._weigh = weigh
        self._weight = 0
        self._weights: deque[int] = deque()
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
        weight = self._weight_of(item)
        with self._lock:
            if self._closed:
                raise QueueClosed("put on a closed queue")
            if not self._has_room(weight):
                self._wait_for_room(deadline, weight)
            self._append(item, weight)

    def put_nowait(self, item: T) -> None:
        """Append ``item`` if there is room now.

        Raises:
            QueueFull: the queue is full (of items, or of weight).
            QueueClosed: the queue is closed.
        """
        weight = self._weight_of(item)
        with self._lock:
            if self._closed:
                raise QueueClosed("put on a closed queue")
            if len(self._items) >= self._capacity:
                raise QueueFull(f"queue is at its capacity of {self._capacity}")
            if not self._has_room(weight):
                raise QueueFull(
                    f"queue is at its weight of {self._max_weight} "
                    f"({self._weight} of {self._max_weight}, {weight} more asked)"
                )
            self._append(item, weight)

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
                weight=self._weight,
                max_weight=self._max_weight,
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

    def _weight_of(self, item: T) -> int:
        if self._weigh is None:
            return 0
        weight = self._weigh(item)
        if weight < 0:
            raise ValueError(f"an item must weigh at least 0, not {weight!r}")
        return weight

    def _has_room(self, weight: int) -> bool:
        """With the lock held: whether an item of ``weight`` may go in now."""
        if len(self._items) >= self._capacity:
            return False
        limit = self._max_weight
        return limit is None or not self._items or self._weight + weight <= limit

    def _append(self, item: T, weight: int) -> None:
        self._items.append(item)
        if self._max_weight is not None:
            self._weights.append(weight)
            self._weight += weight
        self._total_put += 1
        self._not_empty.notify()

    def _take(self) -> T:
        item = self._items.popleft()
        self._total_got += 1
        if self._max_weight is None:
            self._not_full.notify()
        else:
            self._weight -= self._weights.popleft()
            # The room freed may fit several light items, or none of the heavy one woken.
            self._not_full.notify_all()
        return item

    def _wait_for_room(self, deadline: float | None, weight: int) -> None:
        """With the lock held and no room for ``weight``: wait until there is or it closes."""
        if deadline is not None and deadline <= time.monotonic():
            raise QueueTimeout(f"queue still full (capacity {self._capacity})")
        self._producer_waits += 1
        self._blocked_producers += 1
        self._blocked_changed.notify_all()
        try:
            while not self._has_room(weight) and not self._closed:
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
