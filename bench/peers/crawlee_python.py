"""The Crawlee for Python peer: its HTTP crawler with a fast parser, as its guides set it up.

Run with the Crawlee venv's interpreter (``make bench`` builds ``bench/.venv-crawlee``)::

    python bench/peers/crawlee_python.py URL --workers 32 --max-requests 2000 \
        --storage DIR --out pages.txt [--parser parsel|beautifulsoup] [--seeds-file FILE] \
        [--polite-delay 0.5] [--robots]

Concurrency is pinned at ``--workers`` (min = desired = max, so the autoscaled pool neither
ramps up nor backs off). Links are the ``<a href>`` of each page, enqueued with the
``same-origin`` strategy (the seed's scheme, host and port) unless ``--seeds-file`` is given,
then with ``all`` (every seed's host is part of the site). robots.txt is obeyed only with
``--robots``. Without ``--polite-delay`` nothing is delayed; with it every seed's host is handed
to Crawlee's ``ThrottlingRequestManager`` with that many seconds between two requests
(``set_crawl_delay``): Crawlee's own per-domain pacing. Crawlee keeps its request queue and
other state under ``--storage`` (purged on start). Each HTML page fetched with status 200 is
written to ``--out`` as "epoch-seconds URL" as soon as it is handled, so an interrupted run
leaves what it fetched; Crawlee's final statistics go to stderr as one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Crawlee for Python on one site.")
    parser.add_argument("seed", nargs="?", help="the start URL (or --seeds-file)")
    parser.add_argument("--seeds-file", type=Path, help="start URLs, one a line")
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--max-requests", type=int, required=True)
    parser.add_argument("--storage", type=Path, required=True, help="Crawlee's storage folder")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--parser", choices=("parsel", "beautifulsoup"), default="parsel")
    parser.add_argument("--polite-delay", type=float, help="seconds between requests to a host")
    parser.add_argument("--robots", action="store_true", help="obey robots.txt")
    arguments = parser.parse_args()
    if (arguments.seed is None) == (arguments.seeds_file is None):
        parser.error("give one seed URL or --seeds-file")
    return arguments


def _crawler(arguments: argparse.Namespace, request_manager: Any) -> Any:
    """The crawler class the ``--parser`` names, every limit set the same way."""
    from crawlee import ConcurrencySettings

    workers = arguments.workers
    options: dict[str, Any] = {
        "concurrency_settings": ConcurrencySettings(
            min_concurrency=workers, desired_concurrency=workers, max_concurrency=workers
        ),
        "max_requests_per_crawl": arguments.max_requests,
        "max_request_retries": 3,
        "respect_robots_txt_file": arguments.robots,
        "configure_logging": False,
        "request_manager": request_manager,
    }
    if arguments.parser == "parsel":
        from crawlee.crawlers import ParselCrawler

        return ParselCrawler(**options)
    from crawlee.crawlers import BeautifulSoupCrawler

    return BeautifulSoupCrawler(parser="lxml", **options)


async def _throttled(seeds: list[str], delay: float) -> Any:
    """A request queue wrapped so each seed's host gets ``delay`` s between two requests."""
    from crawlee.request_loaders import ThrottlingRequestManager
    from crawlee.storages import RequestQueue

    inner = await RequestQueue.open()
    throttler = ThrottlingRequestManager(
        inner=inner, domains=seeds, request_manager_opener=RequestQueue.open
    )
    for seed in seeds:
        throttler.set_crawl_delay(seed, delay)  # type: ignore[arg-type]  # typed int, takes float
    return throttler


async def crawl(arguments: argparse.Namespace, seeds: list[str], out: TextIO) -> dict[str, Any]:
    """Run the crawl; return Crawlee's final statistics."""
    polite = arguments.polite_delay is not None
    manager = await _throttled(seeds, arguments.polite_delay) if polite else None
    crawler = _crawler(arguments, manager)
    strategy = "all" if arguments.seeds_file else "same-origin"

    @crawler.router.default_handler
    async def handle(context: Any) -> None:
        response = context.http_response
        kind = dict(response.headers).get("content-type", "")
        if response.status_code == 200 and "html" in kind:
            out.write(f"{time.time():.4f} {context.request.loaded_url or context.request.url}\n")
            out.flush()
        await context.enqueue_links(strategy=strategy)

    started = time.monotonic()
    statistics = await crawler.run(seeds)
    return {
        "requests_finished": statistics.requests_finished,
        "requests_failed": statistics.requests_failed,
        "requests_total": statistics.requests_total,
        "crawler_runtime_s": statistics.crawler_runtime.total_seconds(),
        "run_s": round(time.monotonic() - started, 3),
    }


def main() -> int:
    arguments = _arguments()
    # Crawlee reads its storage folder from the environment when it is first configured.
    os.environ["CRAWLEE_STORAGE_DIR"] = str(arguments.storage)
    os.environ["CRAWLEE_PURGE_ON_START"] = "true"
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if arguments.seeds_file:
        seeds = [
            line.strip()
            for line in arguments.seeds_file.read_text().splitlines()
            if line.strip() and not line.startswith("#")
        ]
    else:
        seeds = [arguments.seed]
    with arguments.out.open("w", encoding="utf-8") as out:
        try:
            summary = asyncio.run(crawl(arguments, seeds, out))
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
    print(json.dumps({"crawlee": summary}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
