"""What the harness runs: the sites, and which crawlers at which concurrency on each.

The default plan fits in about ten minutes on a 2-core machine; ``quick`` shrinks it to a
smoke test of well under a minute of crawling. Every figure the report shows comes from an
:class:`Entry` of a :class:`SitePlan`.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from contenders import Contender, NaiveCrawler, Scrapy, Spindle, Wget
from sites import (
    DOCS_ROOT,
    docs_missing,
    latency_command,
    latency_server,
    nginx_command,
    nginx_server,
    sample_command,
    sample_server,
)

__all__ = ["SITES", "Entry", "SitePlan", "build_plan"]

SITES = ("docs", "docs-latency", "light-latency", "big")
LATENCY = 0.1
DOCS_WORKERS = 32
DOCS_WORKERS_ALT = 16
DOCS_LATENCY_WORKERS = 32
LIGHT_WORKERS = 64
BIG_WORKERS = 32
BIG_SIZES = (1_000, 10_000, 100_000)
BIG_SIZES_QUICK = (500, 1_000, 2_000)
# A one-page crawl measures start-up, so the per-page cost of the larger crawls can leave it out.
STARTUP_PAGES = 1
# The 100,000-page step takes about a minute per engine, so it runs once, not in every round.
BIG_FULL_RUNS = 1
ENGINES = ("threads", "async")

Server = Callable[[Path], AbstractContextManager[str]]


@dataclass(frozen=True, slots=True)
class Entry:
    """One row of a site's table: a contender at a concurrency, run ``runs`` times."""

    contender: Contender
    workers: int
    runs: int
    max_pages: int | None = None

    @property
    def label(self) -> str:
        """Unique within a site: name, workers, and the page cap when there is one."""
        cap = f" max {self.max_pages:,}" if self.max_pages is not None else ""
        return f"{self.contender.name} W={self.concurrency}{cap}"

    @property
    def concurrency(self) -> int:
        """The concurrency the contender really runs at (wget: always 1)."""
        return self.contender.fixed_workers or self.workers


@dataclass(frozen=True, slots=True)
class SitePlan:
    """A site, how to serve it, and the entries crawled against it, round by round."""

    name: str
    description: str
    server: Server
    serves: str
    entries: tuple[Entry, ...]
    timeout: float
    latency: float = 0.0
    unavailable: str | None = None

    @property
    def rounds(self) -> int:
        """Rounds needed for the entry with the most runs."""
        return max((entry.runs for entry in self.entries), default=0)


def _peers(
    runs: int, workers: int, *, scrapy: bool = True, wget: bool, naive: bool = True
) -> list[Entry]:
    """Both Spindle engines and the peers asked for: the side-by-side lineup."""
    lineup: list[Contender] = [Spindle("threads"), Spindle("async")]
    lineup += [Scrapy()] if scrapy else []
    lineup += [Wget()] if wget else []
    lineup += [NaiveCrawler()] if naive else []
    return [Entry(contender, workers, runs) for contender in lineup]


def build_plan(names: tuple[str, ...], runs: int, *, quick: bool) -> list[SitePlan]:
    """The site plans for ``names``, in the order given."""
    light: dict[str, Any] = {
        "pages": 300 if quick else 2000,
        "links": 50,
        "page_bytes": 20_000,
        "latency": LATENCY,
    }
    plans = {
        "docs": SitePlan(
            "docs",
            f"Python 3.11 docs (Debian python3.11-doc, {DOCS_ROOT}) served by nginx (generated "
            "TMP/nginx.conf: 127.0.0.1 only, 1 worker process, access_log off), no latency; "
            f"W={DOCS_WORKERS}" + ("" if quick else f", and W={DOCS_WORKERS_ALT} for comparison"),
            nginx_server,
            shlex.join(nginx_command(Path("TMP"))),
            tuple(
                _peers(runs, DOCS_WORKERS, wget=True)
                + ([] if quick else _peers(runs, DOCS_WORKERS_ALT, wget=False, naive=False))
            ),
            timeout=180,
            unavailable=docs_missing(need_nginx=True),
        ),
        "docs-latency": SitePlan(
            "docs-latency",
            f"the same docs behind bench/latency_server.py, {LATENCY * 1000:.0f} ms per response, "
            f"W={DOCS_LATENCY_WORKERS}; wget left out: over one connection it would need "
            f"{LATENCY:.1f} s x every page"
            + ("; Scrapy left out in quick mode (CPU-bound here, as on docs)" if quick else ""),
            partial(latency_server, latency=LATENCY),
            shlex.join(latency_command("PORT", LATENCY)),
            tuple(_peers(runs, DOCS_LATENCY_WORKERS, scrapy=not quick, wget=False)),
            timeout=180,
            latency=LATENCY,
            unavailable=docs_missing(need_nginx=False),
        ),
        "light-latency": SitePlan(
            "light-latency",
            f"spindle serve-sample, {light['pages']:,} pages of ~20 KB with 50 links, "
            f"{LATENCY * 1000:.0f} ms per response, W={LIGHT_WORKERS}; wget left out as above",
            partial(sample_server, **light),
            shlex.join(sample_command("PORT", **light)),
            tuple(_peers(runs, LIGHT_WORKERS, wget=False)),
            timeout=180,
            latency=LATENCY,
        ),
        "big": _big_plan(runs, quick=quick),
    }
    return [plans[name] for name in names]


def _big_plan(runs: int, *, quick: bool) -> SitePlan:
    sizes = BIG_SIZES_QUICK if quick else BIG_SIZES
    pages = sizes[-1]
    shape: dict[str, Any] = {"pages": pages, "links": 10, "page_bytes": 6_000, "latency": 0.0}
    entries = [
        Entry(
            Spindle(engine, max_pages=size),
            BIG_WORKERS,
            BIG_FULL_RUNS if size >= 100_000 else runs,
            max_pages=size,
        )
        for size in (STARTUP_PAGES, *sizes)
        for engine in ENGINES
    ]
    return SitePlan(
        "big",
        f"spindle serve-sample, {pages:,} pages of ~6 KB, no latency; Spindle alone, "
        f"W={BIG_WORKERS}, stopped by --max-pages at each size; --max-pages {STARTUP_PAGES} "
        "measures start-up"
        + ("" if quick else f"; the 100,000 step runs {BIG_FULL_RUNS}x (a minute per engine)"),
        partial(sample_server, **shape),
        shlex.join(sample_command("PORT", **shape)),
        tuple(entries),
        timeout=420,
    )
