"""``spindle crawl``, ``spindle demo``: the crawler's command line.

Bad input (options out of range, seeds that are not http(s) URLs, a state file of another
crawl) ends with one line naming the problem and exit code 2. A run that was interrupted
ends with 130 after flushing everything, and the same command resumes it.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from pathlib import Path

import click
import orjson
from rich.console import Console

from spindle.crawl.core.config import DEFAULT_USER_AGENT, CrawlConfig, TrapLimits
from spindle.crawl.core.urls import InvalidURL, ScopeRule
from spindle.crawl.progress import CrawlSummary, print_summary
from spindle.crawl.runner import ENGINES, RunOptions, run_crawl
from spindle.crawl.store.base import StateMismatch

__all__ = ["crawl", "demo"]

_EXIT_INTERRUPTED = 130


def _read_seeds(seeds: tuple[str, ...], seeds_file: Path | None) -> list[str]:
    found = list(seeds)
    if seeds_file is not None:
        try:
            text = seeds_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise click.BadParameter(f"cannot read {seeds_file}: {exc.strerror}") from exc
        found += [line.strip() for line in text.splitlines()]
        found = [s for s in found if s and not s.startswith("#")]
    if not found:
        raise click.UsageError("give at least one SEED URL or --seeds-file")
    return found


def execute(config: CrawlConfig, options: RunOptions, *, quiet: bool) -> CrawlSummary:
    """Run a crawl for the command line, turning user-caused failures into usage errors."""
    console = Console(stderr=True, quiet=quiet)
    try:
        summary = run_crawl(config, options, console)
    except StateMismatch as exc:
        raise click.UsageError(str(exc)) from exc
    except sqlite3.DatabaseError as exc:
        raise click.UsageError(
            f"--state {options.state}: not a Spindle state file ({exc})"
        ) from exc
    except OSError as exc:
        raise click.UsageError(f"{exc.filename}: {exc.strerror}") from exc
    print_summary(summary, console)
    return summary


@click.command()
@click.argument("seeds", nargs=-1)
@click.option("--seeds-file", type=click.Path(path_type=Path), help="Read seed URLs, one per line.")
@click.option(
    "--depth",
    default=2,
    show_default=True,
    type=click.IntRange(min=0),
    help="Links followed from the seeds (seeds are depth 0).",
)
@click.option("--max-pages", type=click.IntRange(min=1), help="Stop after N fetched pages.")
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
    default="threads",
    show_default=True,
    help="Worker threads with urllib3, or one asyncio loop with aiohttp (same policy).",
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
    type=click.FloatRange(min=0),
    help="Requests per second per host (0 = unlimited).",
)
@click.option(
    "--host-concurrency",
    default=2,
    show_default=True,
    type=click.IntRange(min=1),
    help="Simultaneous connections per host.",
)
@click.option("--user-agent", default=DEFAULT_USER_AGENT, show_default=True)
@click.option("--ignore-robots", is_flag=True, help="Do not fetch or obey robots.txt.")
@click.option(
    "--timeout",
    default=15.0,
    show_default=True,
    type=click.FloatRange(min=0.001),
    help="Seconds allowed to connect, for each read, and for a whole response.",
)
@click.option(
    "--retries",
    default=3,
    show_default=True,
    type=click.IntRange(min=0),
    help="Retries after timeouts, connection errors, 429, 502, 503, 504.",
)
@click.option(
    "--max-bytes",
    default=10 * 1024 * 1024,
    show_default=True,
    type=click.IntRange(min=1024),
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
@click.option("--out", help="Write JSON Lines records here ('-' for stdout).")
@click.option(
    "--state",
    type=click.Path(path_type=Path, dir_okay=False),
    help="SQLite state file; running the same command again resumes the crawl.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress display and no summary.")
@click.option("--summary-json", is_flag=True, help="Print the summary as JSON on stderr.")
def crawl(
    seeds: tuple[str, ...],
    seeds_file: Path | None,
    depth: int,
    max_pages: int | None,
    workers: int,
    engine: str,
    scope: str,
    rate: float,
    host_concurrency: int,
    user_agent: str,
    ignore_robots: bool,
    timeout: float,
    retries: int,
    max_bytes: int,
    max_pages_per_host: int | None,
    max_query_variants: int,
    max_path_depth: int,
    max_url_length: int,
    out: str | None,
    state: Path | None,
    quiet: bool,
    summary_json: bool,
) -> int:
    """Crawl from SEED URLs, politely: robots.txt, per-host rate and connection limits.

    \b
    Examples:
      spindle crawl https://example.com/ --depth 1 --out pages.jsonl
      spindle crawl https://example.com/ --state crawl.sqlite --out pages.jsonl
    """
    try:
        config = CrawlConfig(
            seeds=tuple(_read_seeds(seeds, seeds_file)),
            max_depth=depth,
            max_pages=max_pages,
            scope=ScopeRule(scope),
            rate=rate,
            host_concurrency=host_concurrency,
            user_agent=user_agent,
            obey_robots=not ignore_robots,
            timeout=timeout,
            retries=retries,
            max_bytes=max_bytes,
            traps=TrapLimits(
                max_url_length=max_url_length,
                max_path_depth=max_path_depth,
                max_query_variants=max_query_variants,
                max_pages_per_host=max_pages_per_host,
            ),
        )
    except InvalidURL as exc:
        raise click.BadParameter(str(exc), param_hint="SEED") from exc
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    options = RunOptions(
        workers=workers,
        engine=engine,
        out=out,
        state=state,
        progress=not quiet and sys.stderr.isatty(),
    )
    summary = execute(config, options, quiet=quiet or summary_json)
    if summary_json:
        click.echo(orjson.dumps(summary.to_json()).decode(), err=True)
    return _EXIT_INTERRUPTED if summary.interrupted else 0


@click.command()
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
    from spindle.sample_site import SiteSpec, serve_in_thread

    console = Console(stderr=True)
    out = Path(tempfile.mkdtemp(prefix="spindle-demo-")) / "pages.jsonl"
    with serve_in_thread(SiteSpec(pages=pages)) as site:
        console.print(f"Crawling the sample site at [bold]{site.base_url}/[/] ...")
        config = CrawlConfig(seeds=(f"{site.base_url}/",), max_depth=50, rate=0)
        options = RunOptions(workers=workers, out=str(out), progress=sys.stderr.isatty())
        summary = execute(config, options, quiet=False)
    lines = out.read_bytes().splitlines()
    console.print(f"\n{len(lines)} records in {out}; the first three:")
    for line in lines[:3]:
        console.print_json(line.decode())
    return _EXIT_INTERRUPTED if summary.interrupted else 0
