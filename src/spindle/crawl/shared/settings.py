"""How a worker finds its shared crawl: the options of ``spindle crawl --frontier``.

Importing this loads no Redis client.
"""

from __future__ import annotations

from dataclasses import dataclass

from spindle.crawl.shared.keys import check_crawl_id

__all__ = ["SharedCrawl"]


@dataclass(frozen=True, slots=True)
class SharedCrawl:
    """Where a worker's crawl is shared: ``--frontier``, ``--crawl-id``, ``--lease-timeout``."""

    url: str
    crawl_id: str
    lease_timeout: float = 30.0

    def __post_init__(self) -> None:
        check_crawl_id(self.crawl_id)
        if not self.url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(
                f"{self.url!r} is not a Redis URL (redis://HOST:PORT/DB, rediss://, unix://)"
            )
        if not 1.0 <= self.lease_timeout <= 86_400:
            raise ValueError("the lease timeout must be from 1 s to a day")
