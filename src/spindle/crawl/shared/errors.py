"""What can go wrong with a shared frontier: importing this loads no Redis client."""

from __future__ import annotations

__all__ = ["FrontierError", "FrontierLost", "FrontierMismatch", "FrontierUnavailable"]


class FrontierError(Exception):
    """The shared frontier cannot be used; the message says why."""


class FrontierUnavailable(FrontierError):
    """Redis stayed away longer than the patience allowed, or the run was stopped meanwhile."""


class FrontierLost(FrontierError):
    """The crawl's records are gone from Redis (flushed, or a Redis without persistence
    restarted)."""


class FrontierMismatch(FrontierError):
    """The crawl in Redis was started with other settings, or the state belongs elsewhere."""
