"""``spindle fetch``: download URLs concurrently, with the crawler's own fetcher.

URLs are read by :mod:`spindle.crawl.seeds` (the same rules as crawl seeds: comments,
``FILE:LINE`` errors, credentials taken out of the URL) and downloaded by the thread engine's
:class:`~spindle.crawl.engines.http_threads.ThreadFetcher`, so a download is bounded and
classified exactly as in a crawl: ``timeout`` seconds for the whole response, bodies decoded
under a cap, failures named by their :class:`~spindle.crawl.core.values.ErrorKind`.
``fetch`` follows up to five redirects (the crawler's fetcher follows none; the crawl's core
does). Workers share one fetcher, so connections to a host are reused; with
``--compare-sequential`` the URLs are downloaded one after another over a fresh fetcher first.

A URL that fails to download becomes a :class:`FetchResult` carrying the error (the command
then exits with 1); unusable input is a :class:`~spindle.crawl.seeds.SeedError` (exit 2).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from spindle import __version__
from spindle.crawl.core.urls import InvalidURL, resolve
from spindle.crawl.core.values import Failure, Fetch, FetchKind, Response
from spindle.crawl.engines.http_threads import ThreadFetcher
from spindle.crawl.engines.request import Credentials, FetchSettings
from spindle.crawl.seeds import SeedError, read_seeds

__all__ = [
    "DEFAULT_FETCH_USER_AGENT",
    "MAX_BODY_BYTES",
    "MAX_REDIRECTS",
    "FetchComparison",
    "FetchResult",
    "FetchRun",
    "compare_fetch",
    "comparison_table",
    "fetch",
    "fetch_concurrent",
    "fetch_sequential",
    "results_table",
]

DEFAULT_FETCH_USER_AGENT = f"spindle-fetch/{__version__}"
MAX_BODY_BYTES = 64 * 1024 * 1024
"""Bodies larger than this are cut off and reported as an error."""
MAX_REDIRECTS = 5

_EXIT_SOME_FAILED = 1
# Tables are read from logs and pipes too, where rich would assume 80 columns and wrap every
# URL; a terminal keeps its own width.
_PIPE_WIDTH = 160


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One download: the final HTTP status and body size, or the error that stopped it."""

    url: str
    status: int | None
    nbytes: int
    seconds: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        """A response arrived and its whole body was read (any status counts)."""
        return self.error is None


@dataclass(frozen=True, slots=True)
class FetchRun:
    """Every URL downloaded once, in the order given, and the wall time of the whole run."""

    results: tuple[FetchResult, ...]
    seconds: float
    workers: int

    @property
    def failures(self) -> int:
        """Downloads that ended with an error."""
        return sum(not result.ok for result in self.results)


@dataclass(frozen=True, slots=True)
class FetchComparison:
    """The same URLs downloaded one after another, then concurrently."""

    sequential: FetchRun
    concurrent: FetchRun

    @property
    def speedup(self) -> float:
        """Sequential wall time divided by concurrent wall time."""
        return self.sequential.seconds / self.concurrent.seconds


def _download(fetcher: ThreadFetcher, url: str) -> FetchResult:
    """Download ``url``, following redirects; any failure becomes the result's ``error``."""
    started = time.perf_counter()
    current = url
    for hop in range(MAX_REDIRECTS + 1):
        request = Fetch(hop + 1, current, current, FetchKind.PAGE, 0, None, 1, MAX_BODY_BYTES)
        outcome = fetcher.fetch(request)
        elapsed = time.perf_counter() - started
        if isinstance(outcome, Failure):
            return FetchResult(url, None, 0, elapsed, f"{outcome.kind.value}: {outcome.message}")
        if _is_redirect(outcome) and hop < MAX_REDIRECTS:
            try:
                current = resolve(current, outcome.location or "")
            except InvalidURL as exc:
                return FetchResult(url, outcome.status, 0, elapsed, f"bad redirect: {exc}")
            continue
        if _is_redirect(outcome):
            return FetchResult(url, outcome.status, 0, elapsed, "too many redirects")
        error = f"body larger than {MAX_BODY_BYTES:,} bytes" if outcome.truncated else None
        return FetchResult(url, outcome.status, len(outcome.body), elapsed, error)
    raise AssertionError("unreachable: the loop returns on its last hop")


def _is_redirect(response: Response) -> bool:
    return 300 <= response.status < 400 and response.location is not None


def _settings(
    workers: int, timeout: float, user_agent: str, credentials: dict[str, Credentials]
) -> FetchSettings:
    return FetchSettings(
        user_agent=user_agent, timeout=timeout, pool_size=workers, credentials=credentials
    )


def fetch_sequential(
    urls: Sequence[str],
    *,
    timeout: float,
    user_agent: str = DEFAULT_FETCH_USER_AGENT,
    credentials: dict[str, Credentials] | None = None,
) -> FetchRun:
    """Download ``urls`` one after another over one fresh fetcher."""
    fetcher = ThreadFetcher(_settings(1, timeout, user_agent, credentials or {}))
    started = time.perf_counter()
    try:
        results = tuple(_download(fetcher, url) for url in urls)
    finally:
        fetcher.close()
    return FetchRun(results, time.perf_counter() - started, workers=1)


def fetch_concurrent(
    urls: Sequence[str],
    *,
    workers: int,
    timeout: float,
    user_agent: str = DEFAULT_FETCH_USER_AGENT,
    credentials: dict[str, Credentials] | None = None,
) -> FetchRun:
    """Download ``urls`` with ``workers`` threads sharing one fresh fetcher; results keep order."""
    threads = max(1, min(workers, len(urls)))
    fetcher = ThreadFetcher(_settings(threads, timeout, user_agent, credentials or {}))
    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(threads, thread_name_prefix="fetch") as executor:
            results = tuple(executor.map(lambda url: _download(fetcher, url), urls))
    finally:
        fetcher.close()
    return FetchRun(results, time.perf_counter() - started, workers=threads)


def compare_fetch(
    urls: Sequence[str],
    *,
    workers: int,
    timeout: float,
    user_agent: str = DEFAULT_FETCH_USER_AGENT,
    credentials: dict[str, Credentials] | None = None,
) -> FetchComparison:
    """Download ``urls`` sequentially, then concurrently with ``workers`` threads."""
    sequential = fetch_sequential(
        urls, timeout=timeout, user_agent=user_agent, credentials=credentials
    )
    concurrent = fetch_concurrent(
        urls, workers=workers, timeout=timeout, user_agent=user_agent, credentials=credentials
    )
    return FetchComparison(sequential, concurrent)


def _status(result: FetchResult) -> str:
    return "-" if result.status is None else str(result.status)


def results_table(run: FetchRun) -> Table:
    """One row per URL: url, status, bytes, ms, and the error if any URL failed."""
    table = Table("url", "status", "bytes", "ms")
    if run.failures:
        table.add_column("error")
    for result in run.results:
        cells = [result.url, _status(result), f"{result.nbytes:,}", f"{result.seconds * 1e3:.0f}"]
        table.add_row(*cells, *([result.error or ""] if run.failures else []))
    return table


def comparison_table(comparison: FetchComparison) -> Table:
    """One row per URL: url, status, bytes, ms sequential, ms concurrent (and the error)."""
    failures = comparison.sequential.failures + comparison.concurrent.failures
    table = Table("url", "status", "bytes", "ms sequential", "ms concurrent")
    if failures:
        table.add_column("error")
    pairs = zip(comparison.sequential.results, comparison.concurrent.results, strict=True)
    for first, second in pairs:
        status = (
            _status(second)
            if first.status == second.status
            else f"{_status(first)}/{_status(second)}"
        )
        cells = [
            second.url,
            status,
            f"{second.nbytes:,}",
            f"{first.seconds * 1e3:.0f}",
            f"{second.seconds * 1e3:.0f}",
        ]
        error = second.error or first.error or ""
        table.add_row(*cells, *([error] if failures else []))
    return table


@click.command("fetch")
@click.argument("urls", nargs=-1, metavar="URL...")
@click.option(
    "--workers", type=click.IntRange(1, 256), default=8, show_default=True, help="Download threads."
)
@click.option(
    "--compare-sequential",
    is_flag=True,
    help="Also download the URLs one after another and show both times and the speedup.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0, 3600, min_open=True),
    default=10.0,
    show_default=True,
    help="Seconds allowed for a whole response: connecting, headers and body.",
)
@click.option(
    "--user-agent", default=DEFAULT_FETCH_USER_AGENT, show_default=True, help="User-Agent header."
)
@click.option(
    "--urls-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A file of URLs, one a line ('#' starts a comment).",
)
@click.pass_context
def fetch(
    ctx: click.Context,
    urls: tuple[str, ...],
    workers: int,
    compare_sequential: bool,
    timeout: float,
    user_agent: str,
    urls_file: Path | None,
) -> None:
    """Download URL... concurrently, following up to five redirects.

    Exits with 0 when every URL was downloaded (whatever its HTTP status), 1 when some
    download failed (shown in the table), 2 for unusable input.
    """
    try:
        given = read_seeds(urls, [urls_file] if urls_file is not None else [])
    except SeedError as exc:
        raise click.UsageError(str(exc)) from exc
    if not given.urls:
        raise click.UsageError("give at least one URL or --urls-file")
    targets, credentials = list(given.urls), given.credentials
    console = Console(width=None if sys.stdout.isatty() else _PIPE_WIDTH)
    if compare_sequential:
        comparison = compare_fetch(
            targets,
            workers=workers,
            timeout=timeout,
            user_agent=user_agent,
            credentials=credentials,
        )
        console.print(comparison_table(comparison))
        console.print(
            f"{len(targets)} URLs: sequential {comparison.sequential.seconds:.3f} s, "
            f"concurrent ({comparison.concurrent.workers} workers) "
            f"{comparison.concurrent.seconds:.3f} s, speedup ×{comparison.speedup:.2f}"
        )
        failed = comparison.sequential.failures + comparison.concurrent.failures
    else:
        run = fetch_concurrent(
            targets,
            workers=workers,
            timeout=timeout,
            user_agent=user_agent,
            credentials=credentials,
        )
        console.print(results_table(run))
        console.print(f"{len(targets)} URLs in {run.seconds:.3f} s with {run.workers} workers")
        failed = run.failures
    if failed:
        ctx.exit(_EXIT_SOME_FAILED)
