"""Lock-order checking: find potential deadlocks on runs where none happened.

The rules:

* Every checked lock has a name, and the graph has one node per name: locks sharing a name
  (every lock ``new_lock("BoundedQueue")`` makes, say) are one kind of lock, and the order
  between two kinds is checked across all their instances.
* When a thread holding A starts a blocking acquire of B, the edge A -> B joins the checker's
  graph together with the source line (``file:line``) where it was first seen.
* An acquisition whose edge would close a cycle raises :class:`LockOrderViolation` *before* it
  blocks. Two threads walking the edges of a cycle at the same moment would deadlock, so the
  inverted order is reported even on a run where the threads never overlapped.
* A non-blocking acquire adds no edge, since it cannot wait; once it succeeds, the lock counts
  as held, so locks taken after it do get edges.
* Holding one lock of a name while acquiring another of the same name is reported as the cycle
  ``X -> X``: the checker cannot tell which instance comes first. Give such locks distinct names.

Checking is opt-in: components create their locks with :func:`new_lock` / :func:`new_rlock`,
which return plain ``threading`` locks unless :func:`enable_lock_order_checking` is in effect.
A test suite switches it on for every test with an autouse fixture whose body is
``with lock_order_checking(): yield``.
"""

from __future__ import annotations

import itertools
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Protocol, cast

from spindle.sync._lock_graph import LockOrderChecker, LockOrderViolation, NamedLock

# Defined apart to keep modules short; shown in tracebacks (and pickled) under this module.
LockOrderChecker.__module__ = LockOrderViolation.__module__ = __name__

__all__ = [
    "LockLike",
    "LockOrderChecker",
    "LockOrderViolation",
    "OrderedLock",
    "OrderedRLock",
    "disable_lock_order_checking",
    "enable_lock_order_checking",
    "lock_order_checking",
    "lock_order_checking_enabled",
    "new_condition",
    "new_lock",
    "new_rlock",
]

_serial = itertools.count(1)


class LockLike(Protocol):
    """What Spindle needs of a lock; ``threading.Lock``, ``threading.RLock`` and the ordered
    locks below all fit."""

    def acquire(self, blocking: bool = ..., timeout: float = ...) -> bool: ...

    def release(self) -> None: ...

    def __enter__(self) -> bool: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
        /,
    ) -> None: ...


class _OrderedBase(ABC):
    """What both ordered locks share: a name, a checker, and whose held list they are in."""

    def __init__(self, name: str | None, checker: LockOrderChecker | None) -> None:
        self.name = name if name is not None else f"{type(self).__name__}-{next(_serial)}"
        self.checker = checker if checker is not None else _checker_for_new_locks()
        self._owner: int | None = None
        # The held list of the acquiring thread, so a release from another thread (allowed for
        # a plain lock) still removes the lock from the right list.
        self._held_in: list[NamedLock] | None = None

    def _is_owned(self) -> bool:
        """Whether the calling thread holds the lock (``threading.Condition`` asks this)."""
        return self._owner == threading.get_ident()

    def _record_acquired(self, held: list[NamedLock]) -> None:
        self._owner = threading.get_ident()
        self._held_in = held
        held.append(self)

    def _record_released(self) -> None:
        held_in = self._held_in
        self._owner = None
        self._held_in = None
        if held_in is not None:
            held_in.remove(self)

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()

    @abstractmethod
    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool: ...

    @abstractmethod
    def release(self) -> None: ...

    @abstractmethod
    def locked(self) -> bool: ...

    def __repr__(self) -> str:
        state = "locked" if self.locked() else "unlocked"
        return f"<{type(self).__name__} {self.name!r} {state}>"


class OrderedLock(_OrderedBase):
    """A ``threading.Lock`` whose acquisitions are checked against a global lock order.

    Same contract as ``threading.Lock`` (not re-entrant; any thread may release it; no fairness
    between waiters), plus: a blocking ``acquire`` (with or without a timeout) first records an
    edge from every lock the thread holds to this one and raises :class:`LockOrderViolation`,
    without blocking and without acquiring, if an edge would close a cycle. Re-acquiring it in the
    thread that holds it is the cycle ``name -> name``. ``acquire(blocking=False)`` records no
    edge, and nothing at all when it fails. Usable as the lock of ``threading.Condition``.

    Args:
        name: the node in the graph; default: a unique ``OrderedLock-<n>``.
        checker: the graph to report to; default: the enabled one (see
            :func:`enable_lock_order_checking`), else one process-wide checker.

    >>> checker = LockOrderChecker()
    >>> a, b = OrderedLock("a", checker=checker), OrderedLock("b", checker=checker)
    >>> with a, b:  # a -> b
    ...     pass
    >>> with b:
    ...     a.acquire()  # b -> a closes the cycle: raised before blocking
    Traceback (most recent call last):
    ...
    spindle.sync.lock_order.LockOrderViolation: lock order cycle a -> b -> a (a potential ...
    >>> a.locked(), checker.held()
    (False, ())
    """

    def __init__(self, name: str | None = None, *, checker: LockOrderChecker | None = None) -> None:
        super().__init__(name, checker)
        self._lock = threading.Lock()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Acquire as ``threading.Lock.acquire`` does, after the order check described above.

        Raises:
            LockOrderViolation: a blocking acquire would close a cycle; the lock is not taken.
        """
        held = self.checker._held_list()
        if blocking and held:
            self.checker._before_blocking(self, held)
        if not self._lock.acquire(blocking, timeout):
            return False
        self._record_acquired(held)
        return True

    def release(self) -> None:
        """Release the lock; any thread may.

        Raises:
            RuntimeError: the lock is not locked.
        """
        if self._held_in is None:
            raise RuntimeError("release unlocked lock")
        self._record_released()
        self._lock.release()

    def locked(self) -> bool:
        """Whether some thread holds the lock."""
        return self._lock.locked()


class OrderedRLock(_OrderedBase):
    """A ``threading.RLock`` whose first acquisition by a thread is checked like
    :class:`OrderedLock`'s.

    Re-entrant: the owner may acquire it again, which neither blocks nor records an edge; it is
    free once released as many times as acquired, and only the owner may release it. Usable as
    the lock of ``threading.Condition``: ``wait`` releases every level and restores them.

    >>> lock = OrderedRLock("config", checker=LockOrderChecker())
    >>> with lock, lock:
    ...     lock.checker.held()
    ('config',)
    >>> lock.locked()
    False
    """

    def __init__(self, name: str | None = None, *, checker: LockOrderChecker | None = None) -> None:
        super().__init__(name, checker)
        # Taken once per outermost acquisition; the recursion depth is counted here.
        self._lock = threading.RLock()
        self._depth = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Acquire as ``threading.RLock.acquire`` does, after the order check described above.

        Raises:
            LockOrderViolation: a blocking first acquisition would close a cycle; not taken.
        """
        if self._is_owned():
            self._depth += 1
            return True
        held = self.checker._held_list()
        if blocking and held:
            self.checker._before_blocking(self, held)
        if not self._lock.acquire(blocking, timeout):
            return False
        self._depth = 1
        self._record_acquired(held)
        return True

    def release(self) -> None:
        """Undo one acquisition; the last one frees the lock.

        Raises:
            RuntimeError: the calling thread does not hold the lock.
        """
        if not self._is_owned():
            raise RuntimeError("cannot release un-acquired lock")
        self._depth -= 1
        if self._depth == 0:
            self._record_released()
            self._lock.release()

    def locked(self) -> bool:
        """Whether some thread holds the lock."""
        if self._is_owned():
            return True
        if self._lock.acquire(blocking=False):
            self._lock.release()
            return False
        return True

    def _release_save(self) -> int:
        """Release every level for ``Condition.wait``; return the depth to restore."""
        if not self._is_owned():
            raise RuntimeError("cannot release un-acquired lock")
        depth, self._depth = self._depth, 0
        self._record_released()
        self._lock.release()
        return depth

    def _acquire_restore(self, depth: int) -> None:
        """Re-acquire after ``Condition.wait`` (checked as a blocking acquire) at ``depth``."""
        held = self.checker._held_list()
        if held:
            self.checker._before_blocking(self, held)
        self._lock.acquire()
        self._depth = depth
        self._record_acquired(held)


_PROCESS_CHECKER = LockOrderChecker()
_enabled_checker: LockOrderChecker | None = None


def _checker_for_new_locks() -> LockOrderChecker:
    enabled = _enabled_checker
    return enabled if enabled is not None else _PROCESS_CHECKER


def enable_lock_order_checking(checker: LockOrderChecker | None = None) -> LockOrderChecker:
    """Make :func:`new_lock` and :func:`new_rlock` return checked locks; return the checker.

    Affects locks created from now on. With ``checker`` given, it becomes the one in effect;
    without, the one already in effect stays, or a fresh one is made.

    >>> checker = enable_lock_order_checking()
    >>> type(new_lock("example")).__name__, lock_order_checking_enabled()
    ('OrderedLock', True)
    >>> disable_lock_order_checking()
    """
    global _enabled_checker
    if checker is not None:
        _enabled_checker = checker
    elif _enabled_checker is None:
        _enabled_checker = LockOrderChecker()
    return _enabled_checker


def disable_lock_order_checking() -> None:
    """Make the factories return plain locks again. Locks already created stay checked."""
    global _enabled_checker
    _enabled_checker = None


def lock_order_checking_enabled() -> bool:
    """Whether :func:`new_lock` and :func:`new_rlock` currently return checked locks."""
    return _enabled_checker is not None


@contextmanager
def lock_order_checking(checker: LockOrderChecker | None = None) -> Iterator[LockOrderChecker]:
    """Enable checking for the ``with`` block (as :func:`enable_lock_order_checking` does),
    then restore whatever was in effect before.

    >>> with lock_order_checking() as checker:
    ...     lock = new_lock("example")
    >>> lock.checker is checker, lock_order_checking_enabled()
    (True, False)
    """
    global _enabled_checker
    previous = _enabled_checker
    try:
        yield enable_lock_order_checking(checker)
    finally:
        _enabled_checker = previous


def new_lock(name: str) -> LockLike:
    """A lock for a Spindle component: an :class:`OrderedLock` named ``name`` reporting to the
    enabled checker when checking is on, else a plain ``threading.Lock`` (no overhead).

    >>> type(new_lock("example")).__name__
    'lock'
    """
    enabled = _enabled_checker
    return threading.Lock() if enabled is None else OrderedLock(name, checker=enabled)


def new_rlock(name: str) -> LockLike:
    """As :func:`new_lock`, for a re-entrant lock: :class:`OrderedRLock` or ``threading.RLock``.

    >>> with new_rlock("example") as got:
    ...     got
    True
    """
    enabled = _enabled_checker
    return threading.RLock() if enabled is None else OrderedRLock(name, checker=enabled)


def new_condition(lock: LockLike) -> threading.Condition:
    """A ``threading.Condition`` over ``lock`` (any lock from this module or ``threading``).

    >>> ready = new_condition(new_lock("example"))
    >>> with ready:
    ...     ready.wait(timeout=0)
    False
    """
    # Condition accepts any lock with acquire/release; its type hints only name the stdlib ones.
    return threading.Condition(cast("threading.Lock", lock))
