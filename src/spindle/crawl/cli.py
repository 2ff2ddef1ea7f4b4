"""``spindle crawl``, ``spindle demo``: the crawler's command line.

Every option is checked (numbers finite and in range, seeds usable, output and state files
safe to use) before any file is touched; a problem ends with one line naming it and exit code
2. The exit codes are those of :mod:`spindle.crawl.summary`.

Where records go when ``--out`` is not given: to stdout when stdout is a pipe or a file, else
to ``HOST.jsonl`` in the current directory (named in the summary). A file output keeps its
crawl state beside it (``OUT.state``), so running the same command again resumes.
"""

from __future__ import annotations

import math
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import click

from spindle.crawl.core.choices import DEFAULT_USER_AGENT, ENGINES, FRONTIERS, ScopeRule
from spindle.crawl.http_controls import http_controls

if TYPE_CHECKING:
    from spindle.crawl.core.config import CrawlConfig
    from spindle.crawl.http_options import HttpOptions
    from spindle.crawl.runner import RunOptions
    from spindle.crawl.seeds import Seeds
    from spindle.crawl.summary import CrawlSummary

__all__ = ["EXIT_CODES_HELP", "crawl", "default_output", "demo"]

EXIT_CODES_HELP = """\b
Exit codes:
  0    finished, and something was fetched
  1    nothing could be fetched (each seed's record says why)
  2    bad usage; nothing was touched
  3    the output or state could not be written (same command resumes)
  4    internal error; what was committed is kept
  130  interrupted (same command resumes, when there is state)"""


class FiniteFloat(click.FloatRange):
    """A float in a closed range; ``inf`` and ``nan`` are refused by name."""

    name = "finite float"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):  # FloatRange lets nan through
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


_DURATION = re.compile(
    r"(?:(\d+(?:\.\d+)?)d)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?"
)


class Duration(click.ParamType[float, object]):
    """A span of time: seconds (``90``, ``2.5``) or with units (``90s``, ``15m``, ``2h``,
    ``1h30m``, ``1d``).

    >>> Duration().convert("1h30m", None, None), Duration().convert("45", None, None)
    (5400.0, 45.0)
    """

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, float):
            return value
        text = str(value).strip().lower()
        try:
            seconds = float(text)
        except ValueError:
            parts = _DURATION.fullmatch(text)
            if not text or parts is None:
                self.fail(f"{value!r} is not a duration (90, 90s, 15m, 2h, 1h30m)", param, ctx)
            seconds = sum(
                float(amount) * unit
                for amount, unit in zip(parts.groups(), (86400, 3600, 60, 1), strict=True)
                if amount
            )
        if not (math.isfinite(seconds) and 0 < seconds <= 365 * 86400):
            self.fail(f"{value!r} must be more than 0 and at most a year", param, ctx)
        return seconds


_UNITS: Final = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def byte_size(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    """A size in bytes: a whole number with an optional K, M or G (powers of 1024), at least 1K.

    >>> byte_size(None, None, "500M"), byte_size(None, None, "1GiB")  # type: ignore[arg-type]
    (524288000, 1073741824)
    """
    if value is None:
        return None
    text = value.strip().upper().removesuffix("B").removesuffix("I")
    unit = text[-1:] if text[-1:] in _UNITS else ""
    digits = text[: len(text) - len(unit)]
    if not digits.isdigit() or int(digits) * _UNITS[unit] < 1024:
        raise click.BadParameter(f"{value!r} is not a size of at least 1K (such as 1G, 500M)")
    return int(digits) * _UNITS[unit]


def _frontier_choice(value: str | None) -> tuple[str | None, str | None]:
    """``--frontier``: a kind of local frontier (memory, disk), or a Redis URL to share."""
    if value is None or value in FRONTIERS:
        return value, None
    if value.startswith(("redis://", "rediss://", "unix://")):
        return None, value
    kinds = ", ".join(FRONTIERS)
    raise click.UsageError(f"--frontier {value!r}: give {kinds} or a redis:// URL")


def default_output(seeds: Seeds) -> str:
    """Where records go without ``--out``: stdout unless it is a terminal, else a file named
    after the first seed's host."""
    if not sys.stdout.isatty():
        return "-"
    host = seeds.urls[0].partition("://")[2].split("/", 1)[0]
    return host.replace(":", "_").replace("[", "").replace("]", "") + ".jsonl"


def _default_state(out: str) -> Path | None:
    if out == "-":
        return None
    path = Path(out)
    if path.exists() and not path.is_file():  # a device or a pipe: nowhere to keep state
        return None
    return path.with_name(path.name + ".state")


def execute(config: CrawlConfig, options: RunOptions, *, quiet: bool) -> CrawlSummary:
    """Run a crawl for the command line, turning user-caused failures into usage errors."""
    import sqlite3

    from rich.console import Console

    from spindle.crawl.progress import print_summary
    from spindle.crawl.runner import RunRefused, run_crawl
    from spindle.crawl.shared.errors import FrontierError, FrontierMismatch
    from spindle.crawl.store.base import StateError
    from spindle.crawl.store.jsonl import OutputMismatch
    from spindle.crawl.summary import RunFailure

    console = Console(stderr=True, quiet=quiet)
    try:
        summary = run_crawl(config, options, console)
    except (StateError, RunRefused, OutputMismatch, FrontierMismatch) as exc:
        raise click.UsageError(str(exc)) from exc
    except FrontierError as exc:
        raise click.ClickException(str(exc)) from exc
    except sqlite3.DatabaseError as exc:
        raise click.UsageError(f"{options.state}: not a Spindle state file ({exc})") from exc
    except OSError as exc:
        raise click.UsageError(f"{exc.filename}: {exc.strerror}") from exc
    if summary.failure is not None and summary.out == "-":
        _silence_stdout()
    print_summary(summary, console)
    if summary.failure is not None and quiet:
        kind = "internal error" if summary.failure.kind is RunFailure.Kind.INTERNAL else "error"
        click.echo(f"spindle crawl: {kind}: {summary.state_text}", err=True)
    return summary


def _silence_stdout() -> None:
    """After the reader of stdout went away, point stdout at /dev/null, so that the final
    flush at exit cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


@click.command(epilog=EXIT_CODES_HELP)
@click.argument("seeds", nargs=-1)
@click.option(
    "--seeds-file",
    type=click.Path(path_type=Path, dir_okay=False),
    multiple=True,
    help="Read seed URLs, one a line ('#' starts a comment).",
)
@click.option(
    "--depth",
    default=2,
    show_default=True,
    type=click.IntRange(0, 1_000_000),
    help="Links followed from the seeds (seeds are depth 0).",
)
@click.option(
    "--max-pages", type=click.IntRange(min=1), help="Stop after N fetched pages (resumable)."
)
@click.option(
    "--workers",
    default=16,
    show_default=True,
    type=click.IntRange(1, 1024),
    help="Concurrent fetches.",
)
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default="async",
    show_default=True,
    help="One asyncio loop with aiohttp, or worker threads with urllib3 (same policy). The "
    "loop is as fast on one site and far faster across many hosts (bench/README.md).",
)
@click.option(
    "--parsers",
    type=click.IntRange(0, 64),
    help="Worker processes that parse big pages (0: parse in the crawl's own process). "
    "[default: one fewer than the cores]",
)
@click.option(
    "--scope",
    type=click.Choice([r.value for r in ScopeRule]),
    default="host",
    show_default=True,
    help="Stay on the seeds' hosts, their domains (and subdomains), or go anywhere.",
)
@click.option(
    "--rate",
    default=4.0,
    show_default=True,
    type=FiniteFloat(0, 1_000_000),
    help="Requests per second per host (0 = unlimited).",
)
@click.option(
    "--host-concurrency",
    default=2,
    show_default=True,
    type=click.IntRange(1, 1024),
    help="Simultaneous connections per host.",
)
@click.option("--user-agent", default=DEFAULT_USER_AGENT, show_default=True)
@click.option("--ignore-robots", is_flag=True, help="Do not fetch or obey robots.txt.")
@click.option(
    "--max-crawl-delay",
    default=30.0,
    show_default=True,
    type=FiniteFloat(0, 86_400),
    help="Longest robots.txt Crawl-delay obeyed, in seconds; longer ones are capped.",
)
@click.option(
    "--timeout",
    default=15.0,
    show_default=True,
    type=FiniteFloat(0.001, 86_400),
    help="Seconds allowed for a whole response: connecting, headers and body.",
)
@click.option(
    "--retries",
    default=3,
    show_default=True,
    type=click.IntRange(0, 100),
    help="Retries after timeouts, connection errors, 429, 502, 503, 504.",
)
@click.option(
    "--max-bytes",
    default=10 * 1024 * 1024,
    show_default=True,
    type=click.IntRange(1024, 1 << 31),
    help="Largest body kept; longer ones are truncated.",
)
@click.option("--max-pages-per-host", type=click.IntRange(min=1), help="Trap guard: URLs per host.")
@click.option(
    "--max-query-variants",
    default=1000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Trap guard: distinct queries per path.",
)
@click.option(
    "--max-path-depth",
    default=32,
    show_default=True,
    type=click.IntRange(min=1),
    help="Trap guard: path segments per URL.",
)
@click.option(
    "--max-url-length",
    default=2048,
    show_default=True,
    type=click.IntRange(min=16),
    help="Trap guard: characters per URL.",
)
@http_controls
@click.option(
    "--out",
    help="JSON Lines records: a file, or '-' for stdout. "
    "[default: stdout when it is not a terminal, else HOST.jsonl]",
)
@click.option(
    "--skips",
    type=click.Path(dir_okay=False),
    help="JSON Lines of every URL the crawl decided not to fetch, with the reason.",
)
@click.option(
    "--report",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write an HTML report (charts, slowest pages, broken links and who links to them) "
    "when the crawl ends; implies --links.",
)
@click.option(
    "--links",
    "collect_links",
    is_flag=True,
    help="Put every page's outlinks (URL, anchor text, nofollow) in its record.",
)
@click.option(
    "--state",
    type=click.Path(path_type=Path, dir_okay=False),
    help="SQLite crawl state; the same command resumes. [default: OUT.state beside a file]",
)
@click.option("--no-state", is_flag=True, help="Keep no state: the crawl cannot be resumed.")
@click.option(
    "--warc",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write every exchange to this WARC 1.1 file (gzip per record when it ends in .gz).",
)
@click.option(
    "--warc-max-size",
    callback=byte_size,
    help="Start a new numbered WARC file (PATH-00000.warc.gz, ...) past this size.",
)
@click.option(
    "--save-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Save each 2xx body under DIR/HOST[_PORT]/path; records name the file.",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Start afresh: replace an existing --out and discard its state.",
)
@click.option(
    "--include",
    multiple=True,
    metavar="REGEX",
    help="Only crawl found URLs whose canonical form matches (repeatable; seeds always crawl).",
)
@click.option(
    "--exclude",
    multiple=True,
    metavar="REGEX",
    help="Never crawl found URLs whose canonical form matches (repeatable).",
)
@click.option(
    "--no-parent",
    is_flag=True,
    help="Stay under each seed's folder, as wget -np does.",
)
@click.option(
    "--sitemaps",
    is_flag=True,
    help="Also read each host's sitemaps (robots.txt Sitemap: lines, /sitemap.xml) for URLs.",
)
@click.option(
    "--max-time",
    type=Duration(),
    help="Stop cleanly after this long (90, 15m, 2h, 1h30m); the same command resumes.",
)
@click.option(
    "--verbose", "-v", is_flag=True, help="One line per fetch on stderr (URL, status, ms, bytes)."
)
@click.option(
    "--log-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Append one line per fetch to this file.",
)
@click.option(
    "--frontier",
    metavar="WHERE",
    help="Where queued URLs and the seen set live: memory; disk (in the state: flat memory "
    "however large the frontier grows); or redis://HOST:PORT/DB to share the crawl with other "
    "workers, each running the same command with its own --out and --state. "
    "[default: disk with a state, else memory]",
)
@click.option("--crawl-id", metavar="NAME", help="The shared crawl's name in Redis (--frontier).")
@click.option(
    "--lease-timeout",
    type=Duration(),
    default=30.0,
    show_default=True,
    help="With --frontier: how long after this worker stops (killed, cut off) others take "
    "back its URLs.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress display and no summary.")
@click.option("--summary-json", is_flag=True, help="Print the summary as JSON on stderr.")
def crawl(
    seeds: tuple[str, ...],
    seeds_file: tuple[Path, ...],
    depth: int,
    max_pages: int | None,
    workers: int,
    engine: str,
    parsers: int | None,
    scope: str,
    rate: float,
    host_concurrency: int,
    user_agent: str,
    ignore_robots: bool,
    max_crawl_delay: float,
    timeout: float,
    retries: int,
    max_bytes: int,
    max_pages_per_host: int | None,
    max_query_variants: int,
    max_path_depth: int,
    max_url_length: int,
    out: str | None,
    skips: str | None,
    report: Path | None,
    collect_links: bool,
    state: Path | None,
    no_state: bool,
    warc: Path | None,
    warc_max_size: int | None,
    save_dir: Path | None,
    overwrite: bool,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    no_parent: bool,
    sitemaps: bool,
    max_time: float | None,
    verbose: bool,
    log_file: Path | None,
    frontier: str | None,
    crawl_id: str | None,
    lease_timeout: float,
    quiet: bool,
    summary_json: bool,
    http: HttpOptions,
) -> int:
    """Crawl from SEED URLs, politely: robots.txt, per-host rate and connection limits.

    \b
    Examples:
      spindle crawl https://example.com/ --depth 1 --out pages.jsonl
      spindle crawl https://example.com/ --out pages.jsonl   # again: resumes
      spindle crawl https://example.com/ --out - | jq .url
      spindle crawl https://example.com/ --warc site.warc.gz --save-dir site --out pages.jsonl
      spindle crawl https://example.com/ --frontier redis://db:6379/0 --crawl-id site \\
          --out shard-1.jsonl --state shard-1.db      # one worker of many
    """
    # Imported here, not at the top, so that `spindle crawl --help` starts in a blink.
    import orjson

    from spindle.crawl.core.config import CrawlConfig, TrapLimits
    from spindle.crawl.http_options import INSECURE_WARNING, HttpOptionError
    from spindle.crawl.runner import RunOptions
    from spindle.crawl.seeds import SeedError, read_seeds
    from spindle.crawl.shared.settings import SharedCrawl

    try:
        given = read_seeds(seeds, seeds_file)
    except SeedError as exc:
        raise click.UsageError(str(exc)) from exc
    if not given.urls:
        raise click.UsageError("give at least one SEED URL or --seeds-file")
    if state is not None and no_state:
        raise click.UsageError("--state and --no-state contradict each other")
    if warc_max_size is not None and warc is None:
        raise click.UsageError("--warc-max-size needs --warc")
    try:
        credentials = http.with_seed_credentials(given.credentials)
    except HttpOptionError as exc:
        raise click.UsageError(str(exc)) from exc
    frontier_kind, redis_url = _frontier_choice(frontier)
    shared = None
    if (redis_url is None) != (crawl_id is None):
        raise click.UsageError("--frontier redis://... and --crawl-id go together")
    if redis_url is not None and crawl_id is not None:
        if no_state:
            raise click.UsageError("a worker of a shared crawl (--frontier) needs its state")
        try:
            shared = SharedCrawl(redis_url, crawl_id, lease_timeout)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from exc
    try:
        config = CrawlConfig(
            seeds=given.urls,
            max_depth=depth,
            max_pages=max_pages,
            scope=ScopeRule(scope),
            rate=rate,
            host_concurrency=host_concurrency,
            user_agent=user_agent,
            obey_robots=not ignore_robots,
            max_crawl_delay=max_crawl_delay,
            timeout=timeout,
            retries=retries,
            max_bytes=max_bytes,
            collect_links=collect_links or report is not None,
            include=include,
            exclude=exclude,
            no_parent=no_parent,
            report_scope=skips is not None,
            sitemaps=sitemaps,
            traps=TrapLimits(
                max_url_length=max_url_length,
                max_path_depth=max_path_depth,
                max_query_variants=max_query_variants,
                max_pages_per_host=max_pages_per_host,
            ),
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    out = out or default_output(given)
    if no_state:
        state = None
    elif state is None:
        state = _default_state(out)
    options = RunOptions(
        out=out,
        skips=skips,
        report=report,
        workers=workers,
        engine=engine,
        parsers=parsers,
        state=state,
        overwrite=overwrite,
        progress=not quiet and not verbose and sys.stderr.isatty(),
        credentials=credentials,
        http=http,
        max_time=max_time,
        verbose=verbose,
        log_file=log_file,
        warc=warc,
        warc_max_size=warc_max_size,
        save_dir=save_dir,
        shared=shared,
        frontier=frontier_kind,
    )
    if not http.verify:
        click.echo(INSECURE_WARNING, err=True)
    summary = execute(config, options, quiet=quiet or summary_json)
    if summary_json:
        click.echo(orjson.dumps(summary.to_json()).decode(), err=True)
    return int(summary.exit_code)


@click.command(epilog=EXIT_CODES_HELP)
@click.option(
    "--pages",
    default=300,
    show_default=True,
    type=click.IntRange(min=1),
    help="Size of the generated sample site.",
)
@click.option("--workers", default=16, show_default=True, type=click.IntRange(1, 1024))
def demo(pages: int, workers: int) -> int:
    """Serve the bundled sample site on 127.0.0.1 and crawl all of it, offline."""
    import tempfile

    from rich.console import Console

    from spindle.crawl.core.config import CrawlConfig
    from spindle.crawl.runner import RunOptions, holds_data
    from spindle.sample_site import SiteSpec, serve_in_thread

    console = Console(stderr=True)
    out = Path(tempfile.mkdtemp(prefix="spindle-demo-")) / "pages.jsonl"
    with serve_in_thread(SiteSpec(pages=pages)) as site:
        console.print(f"Crawling the sample site at [bold]{site.base_url}/[/] ...")
        config = CrawlConfig(seeds=(f"{site.base_url}/",), max_depth=50, rate=0)
        options = RunOptions(out=str(out), workers=workers, progress=sys.stderr.isatty())
        summary = execute(config, options, quiet=False)
    if holds_data(out):
        lines = out.read_bytes().splitlines()
        console.print(f"\n{len(lines)} records in {out}; the first three:")
        for line in lines[:3]:
            console.print_json(line.decode())
    return int(summary.exit_code)
