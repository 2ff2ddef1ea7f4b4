"""The sans-I/O crawl core: policy as pure code, with time passed in.

Nothing here opens a socket, starts a thread, takes a lock, sleeps or reads a clock. Engines
drive it; stores persist what it hands out. Every value at its boundary lives in
:mod:`spindle.crawl.core.values`.

Names are loaded on first use (PEP 562): importing one module of the core, such as
:mod:`spindle.crawl.core.urls`, does not load the rest, which keeps the command line's
start-up short.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOMES = {
    "CrawlConfig": "spindle.crawl.core.config",
    "TrapLimits": "spindle.crawl.core.config",
    "CoreError": "spindle.crawl.core.errors",
    "MisuseError": "spindle.crawl.core.errors",
    "Admission": "spindle.crawl.core.frontier",
    "Frontier": "spindle.crawl.core.frontier",
    "LocalFrontier": "spindle.crawl.core.frontier",
    "MemoryFrontier": "spindle.crawl.core.frontier",
    "FrontierStorage": "spindle.crawl.core.queues",
    "MemoryStorage": "spindle.crawl.core.queues",
    "CrawlScheduler": "spindle.crawl.core.scheduler",
    "InvalidURL": "spindle.crawl.core.urls",
    "Scope": "spindle.crawl.core.urls",
    "ScopeRule": "spindle.crawl.core.urls",
    "canonicalize": "spindle.crawl.core.urls",
    "normalize": "spindle.crawl.core.urls",
    "DONE": "spindle.crawl.core.values",
    "IDLE": "spindle.crawl.core.values",
    "Action": "spindle.crawl.core.values",
    "Changes": "spindle.crawl.core.values",
    "CrawlStats": "spindle.crawl.core.values",
    "Entry": "spindle.crawl.core.values",
    "ErrorKind": "spindle.crawl.core.values",
    "Failure": "spindle.crawl.core.values",
    "Fetch": "spindle.crawl.core.values",
    "FetchKind": "spindle.crawl.core.values",
    "Link": "spindle.crawl.core.values",
    "Observation": "spindle.crawl.core.values",
    "Outcome": "spindle.crawl.core.values",
    "PageRecord": "spindle.crawl.core.values",
    "ParsedPage": "spindle.crawl.core.values",
    "Response": "spindle.crawl.core.values",
    "Resumed": "spindle.crawl.core.values",
    "Skip": "spindle.crawl.core.values",
    "SkipReason": "spindle.crawl.core.values",
    "TrapRule": "spindle.crawl.core.values",
    "TrapTally": "spindle.crawl.core.values",
    "Wait": "spindle.crawl.core.values",
}


def __getattr__(name: str) -> Any:
    """Load ``name`` from its module on first use, then keep it here."""
    try:
        home = _HOMES[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
