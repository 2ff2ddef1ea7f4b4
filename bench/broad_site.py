"""The broad-crawl site: many small hosts of power-law sizes, each page a pure function of its URL.

Host ``i`` (0-based) listens on its own loopback address, ``127.1.X.Y`` (:func:`address`), all on
one port, so every crawler sees distinct hosts whatever its politeness key (Scrapy and Crawlee key
by host name, without the port). Host sizes follow Zipf's law: the host of rank ``r = i + 1`` has
``round(largest / r ** exponent)`` pages, at least one. Page 0 is ``/``; page ``k`` is
``/p/k.html``. Each page links to ``links`` pages: ``links - 1`` on its own host (its children
``(links - 1) * k + 1 ...`` in a tree, so every page is reachable from ``/`` and the frontier
grows faster than a polite crawler drains it, then pseudo-random pages of the host) and one page
of another host. robots.txt allows everything. The same parameters give the same site.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cached_property

__all__ = ["BroadSite", "address"]

_FILLER = (
    "Spindle benchmark broad site: a small page of a small host, one of many, "
    "served slowly on purpose so politeness, not bandwidth, sets the pace. "
)
ROBOTS_TXT = b"User-agent: *\nAllow: /\n"


def address(host: int) -> str:
    """The loopback address of host ``host``: 250 hosts per /24, from 127.1.0.1.

    >>> address(0), address(249), address(250), address(999)
    ('127.1.0.1', '127.1.0.250', '127.1.1.1', '127.1.3.250')
    """
    return f"127.1.{host // 250}.{host % 250 + 1}"


@dataclass(frozen=True)
class BroadSite:
    """The shape of the site; every page follows from it.

    >>> site = BroadSite(hosts=4, largest=8, exponent=1.0, port=8000)
    >>> site.sizes
    (8, 4, 3, 2)
    >>> site.total_pages
    17
    >>> site.path(0), site.path(5)
    ('/', '/p/5.html')
    >>> site.page_index("/p/5.html"), site.page_index("/"), site.page_index("/p/x.html")
    (5, 0, None)
    """

    hosts: int = 1000
    largest: int = 20_000
    exponent: float = 1.0
    port: int = 0
    links: int = 10
    page_bytes: int = 2000

    @cached_property
    def sizes(self) -> tuple[int, ...]:
        """Pages per host, host 0 the largest."""
        return tuple(
            max(1, round(self.largest / (rank**self.exponent))) for rank in range(1, self.hosts + 1)
        )

    @property
    def total_pages(self) -> int:
        """Pages over all hosts."""
        return sum(self.sizes)

    def origin(self, host: int) -> str:
        """``http://ADDRESS:PORT`` of host ``host``."""
        return f"http://{address(host)}:{self.port}"

    def seeds(self) -> list[str]:
        """Every host's home page."""
        return [f"{self.origin(host)}/" for host in range(self.hosts)]

    @staticmethod
    def path(page: int) -> str:
        """The URL path of page ``page``."""
        return "/" if page == 0 else f"/p/{page}.html"

    def page_index(self, path: str) -> int | None:
        """The page a URL path names, or None when it names none (the size is not checked)."""
        if path in ("/", "/index.html"):
            return 0
        if path.startswith("/p/") and path.endswith(".html") and path[3:-5].isdigit():
            return int(path[3:-5])
        return None

    def page(self, host: int, page: int) -> bytes:
        """The HTML of page ``page`` of host ``host`` (which must exist)."""
        size = self.sizes[host]
        same_host = self.links - 1
        first_child = same_host * page + 1
        targets = list(range(first_child, min(size, first_child + same_host)))
        chooser = random.Random(host * 1_000_003 + page)
        while len(targets) < same_host and size > 1:
            targets.append(chooser.randrange(size))
        anchors = [f'<a href="{self.path(target)}">page {target}</a>' for target in targets]
        other = chooser.randrange(self.hosts - 1) if self.hosts > 1 else host
        other += other >= host
        if other != host:
            target = chooser.randrange(self.sizes[other])
            anchors.append(
                f'<a href="{self.origin(other)}{self.path(target)}">host {other} page {target}</a>'
            )
        head = (
            f"<!doctype html><html><head><title>host {host} page {page}</title></head><body>"
            f"<h1>host {host}, page {page} of {size}</h1><ul><li>"
            + "</li><li>".join(anchors)
            + "</li></ul><p>"
        )
        filler = max(0, self.page_bytes - len(head) - 20)
        text = (_FILLER * (filler // len(_FILLER) + 1))[:filler]
        return (head + text + "</p></body></html>").encode()
