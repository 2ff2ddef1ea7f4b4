"""What the harness runs: the sites, and which crawlers at which concurrency on each.

The default plan fits in about fifteen minutes on a 2-core machine; ``quick`` shrinks it to a
smoke test of a few minutes. Every figure the report shows comes from an :class:`Entry` of a
:class:`SitePlan`.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from broad_site import BroadSite
from contenders import Contender, Polite, Spindle
from peer_commands import CrawleeNode, CrawleePython, NaiveCrawler, Scrapy, Wget, Wget2
from sites import (
    DOCS_ROOT,
    RUST_DOCS_ROOT,
    Served,
    broad_command,
    broad_server,
    docs_missing,
    latency_command,
    latency_server,
    nginx_command,
    nginx_server,
    sample_command,
    sample_server,
)

__all__ = ["SITES", "Entry", "SitePlan", "build_plan"]

SITES = ("docs", "docs-latency", "light-latency", "rust-docs", "broad", "big")
LATENCY = 0.1
DOCS_WORKERS = 32
DOCS_WORKERS_ALT = 16
DOCS_LATENCY_WORKERS = 32
LIGHT_WORKERS = 64
RUST_WORKERS = 16
# rust-doc's HTML: 21,635 pages reachable from its index, and a few 404s.
RUST_MAX_PAGES = 25_000
# The peers that take minutes over the whole of it crawl its first pages only, as Spindle does
# in a row of its own for an equal comparison.
RUST_CAPPED = 500
RUST_CAPPED_QUICK = 200
BROAD_WORKERS = 1024
BROAD_POLITE = Polite(rate=2.0, per_host=2)
BROAD_SITE = BroadSite(hosts=1000, largest=20_000, exponent=1.0)
BROAD_SECONDS = 20.0
# Crawlee for Python takes about 5 s to start from 1,000 seeds.
BROAD_SECONDS_QUICK = 12.0
BIG_WORKERS = 32
BIG_SIZES = (1_000, 10_000, 100_000)
BIG_SIZES_QUICK = (500, 1_000, 2_000)
# A one-page crawl measures start-up, so the per-page cost of the larger crawls can leave it out.
STARTUP_PAGES = 1
# The 100,000-page step takes about a minute per engine, so it runs once, not in every round.
BIG_FULL_RUNS = 1
# Crawlee takes from half a minute to minutes per docs crawl: once per site, not in every round,
# and in quick mode not on the docs sites at all (it still runs on the other three).
SLOW_RUNS = 1
ENGINES = ("threads", "async")

Server = Callable[[Path], AbstractContextManager[Served]]


@dataclass(frozen=True, slots=True)
class Entry:
    """One row of a site's table: a contender at a concurrency, run ``runs`` times, with a page
    cap of its own when ``max_pages`` is set (else the site's)."""

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
    """A site, how to serve it, and the entries crawled against it, round by round.

    ``max_pages`` bounds every run (a little above the site's size); ``stop_after`` time-boxes
    every run (SIGINT after that many seconds: the broad site); ``polite`` makes the crawl a
    polite broad crawl of ``broad``'s hosts.
    """

    name: str
    description: str
    server: Server
    serves: str
    entries: tuple[Entry, ...]
    timeout: float
    max_pages: int
    latency: float = 0.0
    unavailable: str | None = None
    stop_after: float | None = None
    polite: Polite | None = None
    broad: BroadSite | None = None
    notes: tuple[str, ...] = ()

    @property
    def rounds(self) -> int:
        """Rounds needed for the entry with the most runs."""
        return max((entry.runs for entry in self.entries), default=0)


def _lineup(
    runs: int,
    workers: int,
    *,
    scrapy: bool = True,
    wget: bool = False,
    wget2: bool = True,
    naive: bool = True,
    crawlee: bool = True,
    max_pages: int | None = None,
) -> list[Entry]:
    """Both Spindle engines and the peers asked for, side by side; the Crawlees run
    :data:`SLOW_RUNS` times at most."""
    fast: list[Contender] = [Spindle("threads"), Spindle("async")]
    fast += [Scrapy()] if scrapy else []
    fast += [Wget()] if wget else []
    fast += [Wget2()] if wget2 else []
    fast += [NaiveCrawler()] if naive else []
    slow: list[Contender] = [CrawleePython(), CrawleeNode()] if crawlee else []
    entries = [Entry(contender, workers, runs, max_pages) for contender in fast]
    return entries + [Entry(c, workers, min(runs, SLOW_RUNS), max_pages) for c in slow]


def build_plan(names: tuple[str, ...], runs: int, *, quick: bool) -> list[SitePlan]:
    """The site plans for ``names``, in the order given."""
    light: dict[str, Any] = {
        "pages": 300 if quick else 2000,
        "links": 50,
        "page_bytes": 20_000,
        "latency": LATENCY,
    }
    plans = {
        "docs": lambda: SitePlan(
            "docs",
            f"Python 3.11 docs (Debian python3.11-doc, {DOCS_ROOT}) served by nginx (generated "
            "TMP/nginx.conf: 127.0.0.1 only, 1 worker process, access_log off), no latency; "
            f"W={DOCS_WORKERS}"
            + (
                "; the Crawlees left out in quick mode (minutes each here)"
                if quick
                else f", and W={DOCS_WORKERS_ALT} for comparison"
            ),
            nginx_server,
            shlex.join(nginx_command(Path("TMP"))),
            tuple(
                _lineup(runs, DOCS_WORKERS, wget=True, crawlee=not quick)
                + (
                    []
                    if quick
                    else _lineup(runs, DOCS_WORKERS_ALT, wget2=False, naive=False, crawlee=False)
                )
            ),
            timeout=240,
            max_pages=1_000,
            unavailable=docs_missing(need_nginx=True),
        ),
        "docs-latency": lambda: SitePlan(
            "docs-latency",
            f"the same docs behind bench/latency_server.py, {LATENCY * 1000:.0f} ms per response, "
            f"W={DOCS_LATENCY_WORKERS}; wget left out: over one connection it would need "
            f"{LATENCY:.1f} s x every page"
            + (
                "; Scrapy and the Crawlees left out in quick mode (CPU-bound here, as on docs)"
                if quick
                else ""
            ),
            partial(latency_server, latency=LATENCY),
            shlex.join(latency_command("PORT", LATENCY)),
            tuple(_lineup(runs, DOCS_LATENCY_WORKERS, scrapy=not quick, crawlee=not quick)),
            timeout=240,
            max_pages=1_000,
            latency=LATENCY,
            unavailable=docs_missing(need_nginx=False),
        ),
        "light-latency": lambda: SitePlan(
            "light-latency",
            f"spindle serve-sample, {light['pages']:,} pages of ~20 KB with 50 links, "
            f"{LATENCY * 1000:.0f} ms per response, W={LIGHT_WORKERS}; wget left out as above",
            partial(sample_server, **light),
            shlex.join(sample_command("PORT", **light)),
            tuple(_lineup(runs, LIGHT_WORKERS)),
            timeout=240,
            max_pages=light["pages"] + 500,
            latency=LATENCY,
        ),
        "rust-docs": lambda: _rust_plan(runs, quick=quick),
        "broad": lambda: _broad_plan(quick=quick),
        "big": lambda: _big_plan(runs, quick=quick),
    }
    return [plans[name]() for name in names]


def _rust_plan(runs: int, *, quick: bool) -> SitePlan:
    """Rust's documentation: whole crawls by the fast, the first pages by everyone."""
    capped = RUST_CAPPED_QUICK if quick else RUST_CAPPED
    full = [Entry(c, RUST_WORKERS, 1) for c in (Spindle("threads"), Spindle("async"), Wget2())]
    full = [] if quick else full
    return SitePlan(
        "rust-docs",
        f"Rust 1.63 docs (Debian rust-doc, {RUST_DOCS_ROOT}: 21,635 HTML pages reachable from "
        f"its index, 460 MB) served by nginx as docs is, no latency, W={RUST_WORKERS}; "
        + ("" if quick else "whole crawls by Spindle and wget2, 1 run each; ")
        + f"every contender but wget2 (no page cap) crawls the first {capped:,} pages "
        "(breadth-first from the index: the link-heavy std and core module pages), as whole "
        "crawls would take Scrapy and the Crawlees many minutes; wget 1.x left out (one "
        "connection, no page cap)",
        partial(nginx_server, root=RUST_DOCS_ROOT),
        shlex.join(nginx_command(Path("TMP"))),
        tuple(full + _lineup(1, RUST_WORKERS, wget2=False, max_pages=capped)),
        timeout=300,
        max_pages=RUST_MAX_PAGES,
        unavailable=docs_missing(RUST_DOCS_ROOT, need_nginx=True),
    )


def _broad_plan(*, quick: bool) -> SitePlan:
    """1,000 polite hosts: every contender that can be made polite, once each, time-boxed."""
    seconds = BROAD_SECONDS_QUICK if quick else BROAD_SECONDS
    site, polite = BROAD_SITE, BROAD_POLITE
    lineup = _lineup(1, BROAD_WORKERS, naive=False)
    return SitePlan(
        "broad",
        f"bench/broad_server.py: {site.hosts:,} hosts on 127.1.0.1-127.1.3.250 (one port), "
        f"Zipf host sizes with exponent {site.exponent:g} ({site.sizes[0]:,} pages down to "
        f"{site.sizes[-1]:,}, {site.total_pages:,} in all), {LATENCY * 1000:.0f} ms per response, "
        f"9 of 10 links within the host; every crawl starts from all {site.hosts:,} home pages, "
        f"obeys robots.txt (which allows all) and asks each host at most {polite.rate:g} times "
        f"a second over at most {polite.per_host} connections, W={BROAD_WORKERS}; each run is "
        f"stopped by SIGINT after {seconds:g} s; the naive crawler and wget 1.x left out (no "
        "per-host politeness)",
        partial(broad_server, site=site, latency=LATENCY),
        shlex.join(
            broad_command("PORT", site, LATENCY, Path("TMP/arrivals.log"), Path("TMP/seeds.txt"))
        ),
        tuple(lineup),
        timeout=seconds + 60,
        max_pages=round(polite.rate * site.hosts * seconds * 1.25),
        latency=LATENCY,
        stop_after=seconds,
        polite=polite,
        broad=site,
        notes=(
            "wget2 has no per-host rate: `--wait` pauses each thread after each download",
            "Crawlee for Python paces hosts with its ThrottlingRequestManager (set_crawl_delay), "
            "Crawlee for Node with sameDomainDelaySecs keyed by host; neither limits connections "
            "per host, and both run without robots.txt: obeying it, neither fetched a page "
            "within 30 s from 1,000 hosts (it allows everything here)",
        ),
    )


def _big_plan(runs: int, *, quick: bool) -> SitePlan:
    sizes = BIG_SIZES_QUICK if quick else BIG_SIZES
    pages = sizes[-1]
    shape: dict[str, Any] = {"pages": pages, "links": 10, "page_bytes": 6_000, "latency": 0.0}
    entries = [
        Entry(
            Spindle(engine),
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
        max_pages=pages,
    )
