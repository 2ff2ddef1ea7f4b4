"""The choices ``spindle crawl`` offers, in a module that imports nothing else of the crawler.

``spindle crawl --help`` lists them and checks them; the modules that act on them (the rest of
the core, the engines, the stores) cost most of a short run's start-up, so the names live here
and those modules take them from here rather than the other way round.
"""

from __future__ import annotations

import enum

from spindle import __version__

__all__ = ["DEFAULT_USER_AGENT", "ENGINES", "FRONTIERS", "FrontierKind", "ScopeRule"]

DEFAULT_USER_AGENT = f"spindle/{__version__} (+https://github.com/spindle-crawler/spindle)"

ENGINES = ("threads", "async")


class ScopeRule(enum.Enum):
    """How far from its seeds a crawl may go."""

    HOST = "host"
    DOMAIN = "domain"
    ANY = "any"


class FrontierKind(enum.Enum):
    """Where a crawl's frontier keeps its URLs."""

    MEMORY = "memory"
    DISK = "disk"


FRONTIERS = tuple(kind.value for kind in FrontierKind)
