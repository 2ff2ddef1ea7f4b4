"""The crawler a tutorial would write: a thread pool, requests, html.parser, a seen set.

It fetches every same-host page reachable from the seed once, with ``--workers`` threads, and
writes the completion time and URL of each HTML page it fetched to ``--out``, one per line.
It is the baseline that shows what the simple approach costs. Run as
``python bench/peers/naive_crawler.py URL --workers 32 --out pages.txt``.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from html.parser import HTMLParser
from typing import TextIO
from urllib.parse import urldefrag, urljoin, urlsplit

import requests

SKIP_EXTENSIONS = (".css", ".js", ".png", ".jpg", ".gif", ".svg", ".ico", ".pdf", ".zip", ".gz")

_local = threading.local()


class LinkParser(HTMLParser):
    """Collects the href of every <a> and <area> tag."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("a", "area"):
            self.links += [value for name, value in attrs if name == "href" and value]


def fetch(url: str) -> tuple[str, list[str]]:
    """GET ``url`` and return it with the links of the page (none unless it is HTML)."""
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    response = _local.session.get(url, timeout=15)
    if response.status_code != 200 or "text/html" not in response.headers.get("Content-Type", ""):
        return "", []
    parser = LinkParser()
    parser.feed(response.text)
    return response.url, [urljoin(response.url, link) for link in parser.links]


def crawl(seed: str, workers: int, max_pages: int, out: TextIO) -> int:
    """Fetch breadth-first as links come in; return how many URLs were requested."""
    host = urlsplit(seed).netloc
    seen = {seed}
    with ThreadPoolExecutor(workers) as pool:
        pending: set[Future[tuple[str, list[str]]]] = {pool.submit(fetch, seed)}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    page, links = future.result()
                except requests.RequestException:
                    continue
                if page:
                    out.write(f"{time.time():.4f} {page}\n")
                for href in links:
                    link = urldefrag(href).url
                    if urlsplit(link).netloc != host or link.lower().endswith(SKIP_EXTENSIONS):
                        continue
                    if link not in seen and len(seen) < max_pages:
                        seen.add(link)
                        pending.add(pool.submit(fetch, link))
    return len(seen)


def main() -> None:
    parser = argparse.ArgumentParser(description="A plain thread-pool crawler.")
    parser.add_argument("seed")
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--max-pages", type=int, default=1_000_000)
    parser.add_argument("--out", required=True)
    arguments = parser.parse_args()
    with open(arguments.out, "w", encoding="utf-8") as out:
        requested = crawl(arguments.seed, arguments.workers, arguments.max_pages, out)
    print(f"requests: {requested}", file=sys.stderr)


if __name__ == "__main__":
    main()
