"""The sans-I/O crawl core: policy as pure code, with time passed in.

Nothing here opens a socket, starts a thread, sleeps or reads a clock. Engines drive it.
"""

from spindle.crawl.core.config import CrawlConfig, TrapLimits
from spindle.crawl.core.events import (
    DONE,
    IDLE,
    Action,
    Failure,
    Fetch,
    FetchKind,
    Outcome,
    PageRecord,
    Response,
    Wait,
)
from spindle.crawl.core.hosts import Entry
from spindle.crawl.core.scheduler import Changes, CrawlScheduler, CrawlStats, Observation, Skip
from spindle.crawl.core.urls import InvalidURL, Scope, ScopeRule, canonicalize

__all__ = [
    "DONE",
    "IDLE",
    "Action",
    "Changes",
    "CrawlConfig",
    "CrawlScheduler",
    "CrawlStats",
    "Entry",
    "Failure",
    "Fetch",
    "FetchKind",
    "InvalidURL",
    "Observation",
    "Outcome",
    "PageRecord",
    "Response",
    "Scope",
    "ScopeRule",
    "Skip",
    "TrapLimits",
    "Wait",
    "canonicalize",
]
