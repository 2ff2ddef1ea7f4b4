"""Time per new link: resolving an href into a request-form URL and key, and finding the
request target robots rules match. On a broad crawl nearly every link is new, so this is
paid once per link, with no cache to help.

Usage: ``.venv/bin/python bench/links.py [--links 40000] [--repeat 5]``. Half the hrefs are
absolute URLs on 1,000 hosts, half paths from the root; prints the minimum over the repeats.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from spindle.crawl.core.robots_rules import _request_target
from spindle.crawl.core.urls import LinkResolver, Scope, ScopeRule

BASE = "http://127.1.0.1:18080/p/1.html"


def hrefs(count: int) -> list[str]:
    """``count`` distinct hrefs in the broad bench site's shapes."""
    half = count // 2
    absolute = [f"http://127.1.{i // 250}.{i % 250 + 1}:18080/p/{i * 7}.html" for i in range(half)]
    return absolute + [f"/p/{i}.html" for i in range(count - half)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--links", type=int, default=40_000)
    parser.add_argument("--repeat", type=int, default=5)
    arguments = parser.parse_args(argv)
    links = hrefs(arguments.links)
    resolve_us, target_us = [], []
    for _ in range(arguments.repeat):
        resolver = LinkResolver(Scope.from_seeds(ScopeRule.ANY, [BASE]))  # an empty cache
        start = time.perf_counter()
        inside, _ = resolver.split(BASE, links)
        resolve_us.append((time.perf_counter() - start) / len(links) * 1e6)
        start = time.perf_counter()
        for link in inside:
            _request_target(link.url)
        target_us.append((time.perf_counter() - start) / len(inside) * 1e6)
    print(
        f"{len(links):,} new links: {min(resolve_us):.1f} us each to resolve and key, "
        f"{min(target_us):.2f} us each for the robots request target (min of {arguments.repeat})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
