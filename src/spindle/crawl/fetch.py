"""``spindle fetch``: download URLs concurrently over one shared connection pool.

Every URL is downloaded by a :class:`~concurrent.futures.ThreadPoolExecutor` whose threads share
one :class:`urllib3.PoolManager`, so connections to the same host are reused. With
``--compare-sequential`` the same URLs are also downloaded one after another (over a fresh pool,
so neither run inherits warm connections from the other) and a per-URL table shows both times
and the measured speedup.

Contract:

* only absolute ``http``/``https`` URLs with a host are accepted; anything else is a
  :class:`FetchInputError` (the command prints one line and exits with 2);
* a URL that fails to download (refused, timed out, too many redirects, body over
  :data:`MAX_BODY_BYTES`) becomes a :class:`FetchResult` carrying the error, never an
  exception; the command then exits with 1;
* every request is bounded: ``timeout`` seconds to connect, ``timeout`` seconds per read and
  ``timeout`` seconds for the whole body; at most 5 redirects; no retries.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import click
import urllib3
from rich.console import Console
from rich.table import Table

from spindle import __version__

__all__ = [
    "DEFAULT_FETCH_USER_AGENT",
    "MAX_BODY_BYTES",
    "FetchComparison",
    "FetchInputError",
    "FetchResult",
    "FetchRun",
    "check_url",
    "compare_fetch",
    "comparison_table",
    "fetch",
    "fetch_concurrent",
    "fetch_sequential",
    "fetch_url",
    "load_urls",
    "new_pool",
    "results_table",
]

DEFAULT_FETCH_USER_AGENT = f"spindle-fetch/{__version__}"
MAX_BODY_BYTES = 64 * 1024 * 1024
"""Bodies larger than this are cut off and reported as an error."""

_CHUNK = 64 * 1024
_MAX_REDIRECTS = 5
_EXIT_SOME_FAILED = 1
# Tables are read from logs and pipes too, where rich would assume 80 columns and wrap every
# URL; a terminal keeps its own width.
_PIPE_WIDTH = 160


class FetchInputError(ValueError):
    """A URL or a URL list given by the user cannot be used."""


def check_url(url: str) -> str:
    """Return ``url`` if it is an absolute http(s) URL with a host.

    >>> check_url("http://127.0.0.1:8000/docs/1.html")
    'http://127.0.0.1:8000/docs/1.html'
    >>> check_url("ftp://example.org/file")
    Traceback (most recent call last):
    ...
    spindle.crawl.fetch.FetchInputError: not an http(s) URL: 'ftp://example.org/file'
    >>> check_url("http:///path")
    Traceback (most recent call last):
    ...
    spindle.crawl.fetch.FetchInputError: URL has no host: 'http:///path'

    Raises:
        FetchInputError: not http(s), no host, a bad port, or whitespace inside.
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it validates the port
    except ValueError as exc:
        raise FetchInputError(f"malformed URL {url!r}: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise FetchInputError(f"not an http(s) URL: {url!r}")
    if not parts.hostname:
        raise FetchInputError(f"URL has no host: {url!r}")
    if any(character.isspace() for character in url):
        raise FetchInputError(f"URL contains whitespace: {url!r}")
    return url


def load_urls(urls: Iterable[str], urls_file: Path | None = None) -> list[str]:
    """The URLs given, then those in ``urls_file`` (one a line; blanks and ``#`` lines skipped).

    Raises:
        FetchInputError: the file cannot be read, or a URL is not acceptable to
            :func:`check_url`.
    """
    found = list(urls)
    if urls_file is not None:
        try:
            text = urls_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise FetchInputError(f"cannot read {urls_file}: {reason}") from exc
        lines = (line.strip() for line in text.splitlines())
        found += [line for line in lines if line and not line.startswith("#")]
    return [check_url(url) for url in found]


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One download: the HTTP status and body size, or the error that stopped it."""

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


def new_pool(*, workers: int, timeout: float, user_agent: str) -> urllib3.PoolManager:
    """A pool keeping up to ``workers`` connections per host, with the bounds described above."""
    return urllib3.PoolManager(
        maxsize=workers,
        headers={"User-Agent": user_agent},
        timeout=urllib3.Timeout(connect=timeout, read=timeout),
        retries=urllib3.Retry(connect=0, read=0, status=0, other=0, redirect=_MAX_REDIRECTS),
    )


def _describe(exc: Exception) -> str:
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        return _describe(exc.reason)
    if isinstance(exc, urllib3.exceptions.NewConnectionError):
        return "cannot connect: " + str(exc).rsplit(": ", 1)[-1]
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return "timed out"
    if isinstance(exc, urllib3.exceptions.ResponseError):
        return "too many redirects"
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def _read_body(response: urllib3.BaseHTTPResponse, deadline: float) -> tuple[int, str | None]:
    nbytes = 0
    error: str | None = None
    try:
        for chunk in response.stream(_CHUNK):
            nbytes += len(chunk)
            if nbytes > MAX_BODY_BYTES:
                error = f"body larger than {MAX_BODY_BYTES:,} bytes"
                break
            if time.perf_counter() > deadline:
                error = "body not complete within the timeout"
                break
    except urllib3.exceptions.HTTPError as exc:
        error = _describe(exc)
    if error is not None:
        # The rest of the body is unread, so this connection cannot be reused.
        response.close()
    response.release_conn()
    return nbytes, error


def fetch_url(pool: urllib3.PoolManager, url: str, *, timeout: float) -> FetchResult:
    """Download ``url`` completely; any failure becomes the result's ``error``."""
    started = time.perf_counter()
    try:
        response = pool.request("GET", url, preload_content=False)
    except urllib3.exceptions.HTTPError as exc:
        return FetchResult(url, None, 0, time.perf_counter() - started, _describe(exc))
    nbytes, error = _read_body(response, deadline=started + timeout)
    return FetchResult(url, response.status, nbytes, time.perf_counter() - started, error)


def fetch_sequential(
    urls: Sequence[str], *, timeout: float, user_agent: str = DEFAULT_FETCH_USER_AGENT
) -> FetchRun:
    """Download ``urls`` one after another over one fresh pool."""
    pool = new_pool(workers=1, timeout=timeout, user_agent=user_agent)
    started = time.perf_counter()
    with pool:
        results = tuple(fetch_url(pool, url, timeout=timeout) for url in urls)
    return FetchRun(results, time.perf_counter() - started, workers=1)


def fetch_concurrent(
    urls: Sequence[str],
    *,
    workers: int,
    timeout: float,
    user_agent: str = DEFAULT_FETCH_USER_AGENT,
) -> FetchRun:
    """Download ``urls`` with ``workers`` threads sharing one fresh pool; results keep order."""
    threads = max(1, min(workers, len(urls)))
    pool = new_pool(workers=threads, timeout=timeout, user_agent=user_agent)
    started = time.perf_counter()
    with pool, ThreadPoolExecutor(threads, thread_name_prefix="fetch") as executor:
        results = tuple(executor.map(lambda url: fetch_url(pool, url, timeout=timeout), urls))
    return FetchRun(results, time.perf_counter() - started, workers=threads)


def compare_fetch(
    urls: Sequence[str],
    *,
    workers: int,
    timeout: float,
    user_agent: str = DEFAULT_FETCH_USER_AGENT,
) -> FetchComparison:
    """Download ``urls`` sequentially, then concurrently with ``workers`` threads."""
    sequential = fetch_sequential(urls, timeout=timeout, user_agent=user_agent)
    concurrent = fetch_concurrent(urls, workers=workers, timeout=timeout, user_agent=user_agent)
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
    help="Seconds allowed to connect, per read, and for a whole body.",
)
@click.option(
    "--user-agent", default=DEFAULT_FETCH_USER_AGENT, show_default=True, help="User-Agent header."
)
@click.option(
    "--urls-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A file of URLs, one a line (blank lines and # comments skipped).",
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
    """Download URL... concurrently over one shared connection pool.

    Exits with 0 when every URL was downloaded (whatever its HTTP status), 1 when some
    download failed (shown in the table), 2 for unusable input.
    """
    try:
        targets = load_urls(urls, urls_file)
    except FetchInputError as exc:
        raise click.UsageError(str(exc)) from exc
    if not targets:
        raise click.UsageError("give at least one URL or --urls-file")
    console = Console(width=None if sys.stdout.isatty() else _PIPE_WIDTH)
    if compare_sequential:
        comparison = compare_fetch(targets, workers=workers, timeout=timeout, user_agent=user_agent)
        console.print(comparison_table(comparison))
        console.print(
            f"{len(targets)} URLs: sequential {comparison.sequential.seconds:.3f} s, "
            f"concurrent ({comparison.concurrent.workers} workers) "
            f"{comparison.concurrent.seconds:.3f} s, speedup ×{comparison.speedup:.2f}"
        )
        failed = comparison.sequential.failures + comparison.concurrent.failures
    else:
        run = fetch_concurrent(targets, workers=workers, timeout=timeout, user_agent=user_agent)
        console.print(results_table(run))
        console.print(f"{len(targets)} URLs in {run.seconds:.3f} s with {run.workers} workers")
        failed = run.failures
    if failed:
        ctx.exit(_EXIT_SOME_FAILED)
