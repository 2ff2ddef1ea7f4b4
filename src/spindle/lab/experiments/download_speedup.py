"""``download-speedup``: the same URLs downloaded one after another, then with a thread pool.

By default the URLs are pages of the sample site, served on 127.0.0.1 with a fixed latency per
response, so the run needs no network and the expected speedup is known: with enough workers
the concurrent run takes about one latency instead of one per URL. ``--url`` and
``--urls-file`` download the user's own URLs instead. The downloading is
:mod:`spindle.crawl.fetch`, the same code as ``spindle fetch``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click
from rich.console import Console

from spindle.crawl.fetch import FetchComparison, compare_fetch, comparison_table
from spindle.crawl.seeds import SeedError, read_seeds
from spindle.lab.registry import Experiment, ExperimentInputError, Option

__all__ = ["EXPERIMENT", "DownloadSpeedupResult", "run"]


@dataclass(frozen=True, slots=True)
class DownloadSpeedupResult:
    """Where the URLs came from, and both runs over them."""

    source: str
    latency_seconds: float | None
    comparison: FetchComparison

    @property
    def speedup(self) -> float:
        """Sequential wall time divided by concurrent wall time."""
        return self.comparison.speedup

    @property
    def ok(self) -> bool:
        """Every URL was downloaded in both runs."""
        return self.comparison.sequential.failures == self.comparison.concurrent.failures == 0

    @property
    def headline(self) -> str:
        return (
            f"{len(self.comparison.concurrent.results)} URLs: "
            f"{self.comparison.sequential.seconds:.2f} s in turn, "
            f"{self.comparison.concurrent.seconds:.2f} s with "
            f"{self.comparison.concurrent.workers} workers: ×{self.speedup:.1f}"
        )


def run(
    url: tuple[str, ...],
    urls_file: Path | None,
    count: int,
    latency_seconds: float,
    workers: int,
    timeout_seconds: float,
) -> DownloadSpeedupResult:
    """Download the given URLs, or ``count`` pages of a local sample site, both ways."""
    if url or urls_file is not None:
        try:
            given = read_seeds(url, [urls_file] if urls_file is not None else [])
        except SeedError as exc:
            raise ExperimentInputError(str(exc)) from exc
        comparison = compare_fetch(
            list(given.urls),
            workers=workers,
            timeout=timeout_seconds,
            credentials=given.credentials,
        )
        return DownloadSpeedupResult("your URLs", None, comparison)

    # Imported here: the local server (aiohttp) is only needed when no URLs are given.
    from spindle.sample_site import SiteSpec, serve_in_thread

    with serve_in_thread(SiteSpec(pages=max(count, 1)), latency=latency_seconds) as site:
        urls = [f"{site.base_url}/docs/{page}.html" for page in range(count)]
        comparison = compare_fetch(urls, workers=workers, timeout=timeout_seconds)
    source = f"local sample site, {latency_seconds:g} s latency per response"
    return DownloadSpeedupResult(source, latency_seconds, comparison)


def report(result: DownloadSpeedupResult, console: Console) -> None:
    """Print the per-URL table and both totals."""
    comparison = result.comparison
    console.print(f"{len(comparison.concurrent.results)} URLs from {result.source}")
    console.print(comparison_table(comparison))
    console.print(
        f"sequential {comparison.sequential.seconds:.3f} s, concurrent "
        f"({comparison.concurrent.workers} workers sharing one connection pool) "
        f"{comparison.concurrent.seconds:.3f} s: speedup ×{result.speedup:.2f}"
    )


EXPERIMENT = Experiment(
    name="download-speedup",
    summary="Ten downloads one after another, then with a ThreadPoolExecutor: the speedup.",
    lesson="Network waits overlap in threads: N slow downloads take about one download's time.",
    run=run,
    report=report,
    options=(
        Option(
            "url", (), "a URL to download instead of the local site (repeatable)", multiple=True
        ),
        Option(
            "urls_file",
            None,
            "a file of URLs to download, one a line",
            type=click.Path(dir_okay=False, path_type=Path),
        ),
        Option("count", 10, "pages of the local site to download", type=click.IntRange(1, 1000)),
        Option(
            "latency_seconds",
            0.2,
            "the local site's delay before each response",
            quick=0.1,
            type=click.FloatRange(0.0, 10.0),
        ),
        Option("workers", 10, "download threads", type=click.IntRange(1, 256)),
        Option(
            "timeout_seconds",
            10.0,
            "per-request timeout",
            type=click.FloatRange(0, 600, min_open=True),
        ),
    ),
)
