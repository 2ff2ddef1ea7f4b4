"""Concurrency primitives with exact contracts.

* :class:`BoundedQueue`: a closable bounded FIFO for threads, with statistics;
* :class:`TokenBucket`: a rate limiter that tells you how long to wait (sans-I/O friendly);
* :class:`Backoff` and :func:`retry_after`: retry delays with full jitter, and ``Retry-After``;
* :class:`OrderedLock`, :class:`OrderedRLock` and the lock-order checker, which reports a
  potential deadlock (:class:`LockOrderViolation`) on a run where none happened;
* :class:`Banker`: Dijkstra's Banker's algorithm as a thread-safe allocator.

Spindle's components create their locks with :func:`new_lock`, so switching on
:func:`enable_lock_order_checking` (or ``with lock_order_checking():``) checks them all.
"""

from spindle.sync._clock import Clock
from spindle.sync.backoff import Backoff, retry_after
from spindle.sync.banker import Banker, Decision
from spindle.sync.bounded_queue import (
    BoundedQueue,
    QueueClosed,
    QueueEmpty,
    QueueFull,
    QueueStatistics,
    QueueTimeout,
)
from spindle.sync.lock_order import (
    LockLike,
    LockOrderChecker,
    LockOrderViolation,
    OrderedLock,
    OrderedRLock,
    disable_lock_order_checking,
    enable_lock_order_checking,
    lock_order_checking,
    lock_order_checking_enabled,
    new_condition,
    new_lock,
    new_rlock,
)
from spindle.sync.token_bucket import TokenBucket

__all__ = [
    "Backoff",
    "Banker",
    "BoundedQueue",
    "Clock",
    "Decision",
    "LockLike",
    "LockOrderChecker",
    "LockOrderViolation",
    "OrderedLock",
    "OrderedRLock",
    "QueueClosed",
    "QueueEmpty",
    "QueueFull",
    "QueueStatistics",
    "QueueTimeout",
    "TokenBucket",
    "disable_lock_order_checking",
    "enable_lock_order_checking",
    "lock_order_checking",
    "lock_order_checking_enabled",
    "new_condition",
    "new_lock",
    "new_rlock",
    "retry_after",
]
