"""The core's exceptions: one small tree, so a caller can tell its own bugs from bad input."""

from __future__ import annotations

__all__ = ["CoreError", "MisuseError"]


class CoreError(Exception):
    """Base of every exception the crawl core raises on purpose."""


class MisuseError(CoreError):
    """The caller broke the core's contract: observed a fetch that was never handed out or was
    already observed, moved time backwards, started a fetch its host may not start yet.

    This is a bug in the driver, not a fact about the web; the message names the broken rule.
    """
