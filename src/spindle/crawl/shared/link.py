"""A worker's connection to Redis, and how every call waits while Redis is away.

Rules:

* :meth:`RedisLink.call` sends, and when Redis cannot be reached (refused, reset, timed out,
  still loading its append-only file) it says so in one line on stderr, waits with full-jitter
  backoff (:class:`spindle.sync.Backoff`, 0.1 s doubling to 5 s) and sends again; once Redis
  answers it says how long it was away. The wait ends with :class:`FrontierUnavailable` when
  the ``stop`` event is set (Ctrl-C twice) or after ``patience`` seconds, never later.
* :meth:`RedisLink.try_call` sends once and returns None on the same failures, silently: for
  the heartbeat and for confirmations, which are tried again on their next turn.
* redis-py's own retries are off: a command is sent again only here, and only a command that
  is safe to repeat (every frontier call carries a request id for that; see
  :mod:`spindle.crawl.shared.lua`).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from spindle.crawl.shared.errors import (
    FrontierError,
    FrontierLost,
    FrontierMismatch,
    FrontierUnavailable,
)
from spindle.sync import Backoff

__all__ = [
    "FrontierError",
    "FrontierLost",
    "FrontierMismatch",
    "FrontierUnavailable",
    "RedisLink",
    "describe_url",
]

T = TypeVar("T")

_UNREACHABLE = (redis.ConnectionError, redis.TimeoutError)


def describe_url(url: str) -> str:
    """A Redis URL without its credentials, for messages.

    >>> describe_url("redis://ann:secret@db.example:6380/2")
    'redis://db.example:6380/2'
    """
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{netloc}{parts.path}"


class RedisLink:
    """One connection pool to the Redis at ``url``, shared by a worker's threads.

    Args:
        url: ``redis://[user:password@]host[:port][/db]``, ``rediss://`` or ``unix://``.
        stop: ends every wait for Redis when set.
        patience: longest wait for Redis in one call, seconds.
        say: where the one-line messages go (stderr by default).

    Raises:
        ValueError: ``url`` is not a Redis URL.
    """

    def __init__(
        self,
        url: str,
        *,
        stop: threading.Event | None = None,
        patience: float = 3600.0,
        say: Callable[[str], None] | None = None,
        socket_timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.name = describe_url(url)
        self.client: redis.Redis = redis.Redis.from_url(
            url,
            socket_timeout=socket_timeout,
            socket_connect_timeout=min(3.0, socket_timeout),
            retry=Retry(NoBackoff(), 0),
        )
        self._stop = stop or threading.Event()
        self._patience = patience
        self.say = say or _to_stderr
        self._backoff = Backoff(base=0.1, factor=2.0, cap=5.0, max_attempts=1 << 30)
        self.round_trips = 0

    def call(self, send: Callable[[redis.Redis], T]) -> T:
        """``send(client)``, sent again after backoff while Redis cannot be reached.

        Raises:
            FrontierUnavailable: the stop event was set, or ``patience`` ran out, first.
            redis.ResponseError: Redis answered with an error.
        """
        away_since: float | None = None
        attempt = 0
        while True:
            try:
                self.round_trips += 1
                result = send(self.client)
            except _UNREACHABLE as exc:
                attempt += 1
                now = time.monotonic()
                if away_since is None:
                    away_since = now
                    self.say(
                        f"spindle: Redis at {self.name} cannot be reached ({_reason(exc)}); "
                        "waiting for it, retrying with backoff (Ctrl-C twice to stop)"
                    )
                waited = now - away_since
                if waited >= self._patience:
                    raise FrontierUnavailable(
                        f"Redis at {self.name} was away for {waited:.0f} s ({_reason(exc)})"
                    ) from exc
                delay = min(self._backoff.delay(min(attempt, 30)), self._patience - waited)
                if self._stop.wait(max(delay, 0.01)):
                    raise FrontierUnavailable(
                        f"stopped while waiting for Redis at {self.name}"
                    ) from exc
                continue
            if away_since is not None:
                self.say(
                    f"spindle: Redis at {self.name} is back after "
                    f"{time.monotonic() - away_since:.1f} s"
                )
            return result

    def try_call(self, send: Callable[[redis.Redis], T]) -> T | None:
        """``send(client)`` once; None when Redis cannot be reached."""
        try:
            self.round_trips += 1
            return send(self.client)
        except _UNREACHABLE:
            return None

    def close(self) -> None:
        """Close the pool's connections."""
        self.client.close()


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text.rstrip(".")


def _to_stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
