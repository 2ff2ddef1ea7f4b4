"""A crawl shared by many workers through one Redis frontier (``--frontier redis://...``).

:mod:`.frontier` (``RedisFrontier``), :mod:`.lua` (the script), :mod:`.keys` (the layout),
:mod:`.link` (the connection that waits while Redis is away), :mod:`.join` (a worker joining a
crawl), :mod:`.report` (``spindle frontier status`` and ``export``). Importing this package
loads only its errors, not the Redis client.
"""

from spindle.crawl.shared.errors import (
    FrontierError,
    FrontierLost,
    FrontierMismatch,
    FrontierUnavailable,
)

__all__ = ["FrontierError", "FrontierLost", "FrontierMismatch", "FrontierUnavailable"]
