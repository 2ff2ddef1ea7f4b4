"""A deadline for every blocking fetch: one thread that shuts down the sockets of late fetches.

A blocking read only times out when no byte arrives for the socket timeout, so a server that
drips one byte per interval holds it for ever. The watchdog holds the deadline of each fetch in
flight (an :class:`Attempt`) and the sockets it uses; at the deadline it shuts them down
(``shutdown(SHUT_RDWR)`` wakes a ``recv`` blocked in another thread, which then sees the end of
the stream or an error) and marks the attempt expired, so the fetch is reported as a timeout
whatever the interrupted read made of it.

Contract:

* :meth:`Watchdog.arm` registers a deadline and starts the watchdog thread if it is not
  running; :meth:`Watchdog.watch` adds a socket to an attempt (a socket watched after its
  attempt expired is shut down at once); :meth:`Watchdog.disarm` ends the attempt and says
  whether it expired. After ``disarm`` returns, the watchdog never touches that attempt's
  sockets again, so a connection may go back to a pool only after it.
* The thread waits on a condition until the nearest deadline, never polls. Once nothing has
  been armed for :data:`IDLE_EXIT` seconds it exits (the next ``arm`` starts another), so a
  forgotten ``close`` leaks nothing for long; :meth:`Watchdog.close` stops it at once and joins
  it. ``arm`` after ``close`` raises ``RuntimeError``.
* Locks come from :func:`spindle.sync.new_lock`, so the lock-order checker sees them.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Final

from spindle.sync import new_condition, new_lock

__all__ = ["IDLE_EXIT", "Attempt", "Watchdog"]

IDLE_EXIT: Final = 5.0
"""Seconds the watchdog thread waits with nothing armed before it exits."""


class Attempt:
    """One fetch in flight: its deadline, its sockets, and whether the deadline passed.

    Only the :class:`Watchdog` that armed it changes it, under the watchdog's lock.
    """

    __slots__ = ("deadline", "expired", "sockets")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.expired = False
        self.sockets: list[socket.socket] = []

    def __repr__(self) -> str:
        state = "expired" if self.expired else "armed"
        return f"<Attempt {state} deadline={self.deadline:.3f} sockets={len(self.sockets)}>"


class Watchdog:
    """Shuts down the sockets of attempts whose deadline passed (see the module docstring)."""

    def __init__(self, *, name: str = "spindle-watchdog") -> None:
        self._name = name
        self._lock = new_lock("Watchdog")
        self._wake = new_condition(self._lock)
        self._armed: set[Attempt] = set()
        self._thread: threading.Thread | None = None
        self._waiting_until: float | None = None
        self._closed = False

    def __repr__(self) -> str:
        with self._lock:
            running = self._thread is not None
            return f"<Watchdog armed={len(self._armed)} running={running} closed={self._closed}>"

    @property
    def running(self) -> bool:
        """Whether the watchdog thread is alive."""
        with self._lock:
            thread = self._thread
        return thread is not None and thread.is_alive()

    def arm(self, deadline: float) -> Attempt:
        """Start an attempt that expires at ``deadline`` (a :func:`time.monotonic` time).

        Raises:
            RuntimeError: the watchdog is closed.
        """
        attempt = Attempt(deadline)
        with self._lock:
            if self._closed:
                raise RuntimeError("the watchdog is closed")
            self._armed.add(attempt)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            elif self._waiting_until is None or deadline < self._waiting_until:
                self._wake.notify()
        return attempt

    def watch(self, attempt: Attempt, sock: socket.socket) -> None:
        """Shut ``sock`` down when ``attempt`` expires (at once if it already has)."""
        with self._lock:
            if attempt.expired:
                _shut_down(sock)
            elif attempt in self._armed and all(sock is not s for s in attempt.sockets):
                attempt.sockets.append(sock)

    def disarm(self, attempt: Attempt) -> bool:
        """End ``attempt``; return whether its deadline passed (its sockets were shut down)."""
        with self._lock:
            self._armed.discard(attempt)
            attempt.sockets.clear()
            return attempt.expired

    def close(self) -> None:
        """Stop the watchdog thread and wait for it. Attempts still armed are left alone."""
        with self._lock:
            self._closed = True
            thread = self._thread
            self._wake.notify()
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _run(self) -> None:
        with self._lock:
            try:
                self._watch()
            finally:
                self._thread = None
                self._waiting_until = None

    def _watch(self) -> None:
        idle_since: float | None = None
        while not self._closed:
            now = time.monotonic()
            nearest: float | None = None
            for attempt in list(self._armed):
                if attempt.deadline <= now:
                    self._expire(attempt)
                elif nearest is None or attempt.deadline < nearest:
                    nearest = attempt.deadline
            if nearest is not None:
                idle_since = None
                self._waiting_until = nearest
                self._wake.wait(nearest - now)
                continue
            if idle_since is None:
                idle_since = now
            elif now - idle_since >= IDLE_EXIT:
                return
            self._waiting_until = None
            self._wake.wait(IDLE_EXIT - (now - idle_since))

    def _expire(self, attempt: Attempt) -> None:
        self._armed.discard(attempt)
        attempt.expired = True
        for sock in attempt.sockets:
            _shut_down(sock)
        attempt.sockets.clear()


def _shut_down(sock: socket.socket) -> None:
    # The plain socket's shutdown, also for an SSL socket: SSLSocket.shutdown would also drop
    # its TLS state under the thread that is reading.
    if sock.fileno() == -1:
        return
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
