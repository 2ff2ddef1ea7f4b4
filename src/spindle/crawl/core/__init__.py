"""The sans-I/O crawl core: policy as pure code, with time passed in.

Nothing here opens a socket, starts a thread, takes a lock, sleeps or reads a clock. Engines
drive it; stores persist what it hands out. Every value at its boundary lives in
:mod:`spindle.crawl.core.values`.
"""

from spindle.crawl.core.config import CrawlConfig, TrapLimits
from spindle.crawl.core.errors import CoreError, MisuseError
from spindle.crawl.core.frontier import Admission, Frontier, LocalFrontier, MemoryFrontier
from spindle.crawl.core.queues import FrontierStorage, MemoryStorage
from spindle.crawl.core.scheduler import CrawlScheduler
from spindle.crawl.core.urls import InvalidURL, Scope, ScopeRule, canonicalize, normalize
from spindle.crawl.core.values import (
    DONE,
    IDLE,
    Action,
    Changes,
    CrawlStats,
    Entry,
    ErrorKind,
    Failure,
    Fetch,
    FetchKind,
    Link,
    Observation,
    Outcome,
    PageRecord,
    ParsedPage,
    Response,
    Resumed,
    Skip,
    SkipReason,
    TrapRule,
    TrapTally,
    Wait,
)

__all__ = [
    "DONE",
    "IDLE",
    "Action",
    "Admission",
    "Changes",
    "CoreError",
    "CrawlConfig",
    "CrawlScheduler",
    "CrawlStats",
    "Entry",
    "ErrorKind",
    "Failure",
    "Fetch",
    "FetchKind",
    "Frontier",
    "FrontierStorage",
    "InvalidURL",
    "Link",
    "LocalFrontier",
    "MemoryFrontier",
    "MemoryStorage",
    "MisuseError",
    "Observation",
    "Outcome",
    "PageRecord",
    "ParsedPage",
    "Response",
    "Resumed",
    "Scope",
    "ScopeRule",
    "Skip",
    "SkipReason",
    "TrapLimits",
    "TrapRule",
    "TrapTally",
    "Wait",
    "canonicalize",
    "normalize",
]
