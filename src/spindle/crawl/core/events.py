"""The values that cross the boundary between the sans-I/O core and an engine.

The core hands out decisions (:class:`Fetch`, :class:`Wait`, :data:`IDLE`, :data:`DONE`); the
engine performs a fetch and hands back facts (:class:`Response` or :class:`Failure`); the core
turns facts into :class:`PageRecord` values and frontier changes. All are immutable.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

__all__ = [
    "DONE",
    "IDLE",
    "Action",
    "Done",
    "Failure",
    "Fetch",
    "FetchKind",
    "Idle",
    "Outcome",
    "PageRecord",
    "Response",
    "Wait",
]


class FetchKind(enum.Enum):
    """Why a URL is fetched: a page of the crawl, or a host's robots.txt."""

    PAGE = "page"
    ROBOTS = "robots"


@dataclass(frozen=True, slots=True)
class Fetch:
    """Decision: fetch ``url`` now.

    ``max_redirects`` is how many redirects the engine itself may follow: 0 for pages (the core
    follows page redirects, so targets are deduplicated and checked against robots.txt) and 5 for
    robots.txt (RFC 9309, section 2.3.1.2).
    """

    url: str
    kind: FetchKind
    depth: int
    parent: str | None
    attempt: int
    max_bytes: int
    max_redirects: int
    redirect_chain: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Wait:
    """Decision: nothing may be fetched before the monotonic time ``until``."""

    until: float


class Idle:
    """Decision: nothing can be fetched until an in-flight fetch finishes."""

    def __repr__(self) -> str:
        return "IDLE"


class Done:
    """Decision: the crawl is complete; nothing is in flight and nothing is left to fetch."""

    def __repr__(self) -> str:
        return "DONE"


IDLE: Final = Idle()
DONE: Final = Done()

Action = Fetch | Wait | Idle | Done


@dataclass(frozen=True, slots=True)
class Response:
    """Fact: the server answered. ``body`` holds at most the fetch's ``max_bytes`` (decoded)."""

    status: int
    final_url: str
    content_type: str | None
    body: bytes
    elapsed: float
    fetched_at: float
    truncated: bool = False
    location: str | None = None
    retry_after: str | None = None
    x_robots_tag: str | None = None


@dataclass(frozen=True, slots=True)
class Failure:
    """Fact: no usable answer. ``kind`` is machine-readable (``timeout``, ``connection``,
    ``decompression_bomb``, ``too_many_redirects``, ``protocol``); ``retryable`` says whether
    trying again could help."""

    kind: str
    message: str
    elapsed: float
    fetched_at: float
    retryable: bool


Outcome = Response | Failure


@dataclass(frozen=True, slots=True)
class PageRecord:
    """The final word on one crawled URL: one JSON Lines record."""

    url: str
    final_url: str | None
    status: int | None
    depth: int
    parent: str | None
    content_type: str | None
    bytes: int
    links: int
    fetched_at: float
    elapsed_ms: float
    attempts: int
    error: tuple[str, str] | None = None
    truncated: bool = False
    noindex: bool = False

    def to_json(self) -> dict[str, Any]:
        """Return the record as a JSON-ready dict (``fetched_at`` as ISO 8601 UTC)."""
        stamp = datetime.fromtimestamp(self.fetched_at, UTC).isoformat(timespec="milliseconds")
        return {
            "url": self.url,
            "final_url": self.final_url,
            "status": self.status,
            "depth": self.depth,
            "parent": self.parent,
            "content_type": self.content_type,
            "bytes": self.bytes,
            "links": self.links,
            "fetched_at": stamp.replace("+00:00", "Z"),
            "elapsed_ms": round(self.elapsed_ms, 1),
            "attempts": self.attempts,
            "error": None
            if self.error is None
            else {"kind": self.error[0], "message": self.error[1]},
            "truncated": self.truncated,
            "noindex": self.noindex,
        }
