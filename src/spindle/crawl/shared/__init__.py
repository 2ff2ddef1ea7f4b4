"""A crawl shared by many workers through one Redis frontier (``--frontier redis://...``)."""

from spindle.crawl.shared.frontier import RedisFrontier
from spindle.crawl.shared.keys import CrawlKeys
from spindle.crawl.shared.link import (
    FrontierError,
    FrontierLost,
    FrontierMismatch,
    FrontierUnavailable,
    RedisLink,
)

__all__ = [
    "CrawlKeys",
    "FrontierError",
    "FrontierLost",
    "FrontierMismatch",
    "FrontierUnavailable",
    "RedisFrontier",
    "RedisLink",
]
