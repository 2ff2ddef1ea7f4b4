"""``spindle frontier``: look at a shared crawl, and merge its shards when it is done.

Exit codes: 0 done; 1 (export) the merge is incomplete or the crawl is not in Redis
(status); 2 bad usage; 3 Redis could not be reached.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
import orjson

from spindle.crawl.runner import holds_data
from spindle.crawl.shared.errors import FrontierError
from spindle.crawl.shared.keys import CrawlKeys, check_crawl_id

if TYPE_CHECKING:
    from spindle.crawl.shared.report import CrawlStatus

__all__ = ["frontier"]

_PATIENCE = 30.0  # a command a person runs: wait for Redis half a minute, not an hour


def _crawl_id(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        return check_crawl_id(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


def _frontier_url(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not value.startswith(("redis://", "rediss://", "unix://")):
        raise click.BadParameter(f"{value!r} is not a Redis URL (redis://HOST:PORT/DB)")
    return value


_url_option = click.option(
    "--frontier",
    "url",
    required=True,
    metavar="URL",
    callback=_frontier_url,
    help="The Redis the crawl is shared through (redis://HOST:PORT/DB).",
)
_crawl_option = click.option(
    "--crawl-id", required=True, metavar="NAME", callback=_crawl_id, help="The crawl's name."
)


@click.group()
def frontier() -> None:
    """A crawl shared through Redis: its status, and its shards merged."""


@frontier.command()
@_url_option
@_crawl_option
@click.option("--hosts", default=10, show_default=True, type=click.IntRange(0, 10_000))
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(url: str, crawl_id: str, hosts: int, as_json: bool) -> int:
    """Queued, leased and done URLs, hosts, workers, and the slowest hosts.

    \b
    Example:
      spindle frontier status --frontier redis://db:6379/0 --crawl-id site
    """
    from spindle.crawl.shared.link import RedisLink  # the Redis client, when needed
    from spindle.crawl.shared.report import crawl_status

    link = RedisLink(url, patience=_PATIENCE)
    try:
        found = crawl_status(link, CrawlKeys(crawl_id), slowest=hosts)
    except FrontierError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        link.close()
    if as_json:
        click.echo(orjson.dumps(found.to_json()).decode())
    else:
        click.echo(_render(found, link.name))
    return 0 if found.exists else 1


def _render(status: CrawlStatus, where: str) -> str:
    if not status.exists:
        return f"crawl {status.crawl}: not in Redis at {where}"
    alive = sum(left > 0 for left in status.workers.values())
    state = "finished" if status.finished else "running"
    lines = [
        f"crawl {status.crawl} at {where}: {state}",
        f"  queued     {status.queued:,} ({status.retries:,} waiting to be retried)",
        f"  leased     {status.leased:,} URLs taken, {status.in_flight:,} fetches in flight",
        f"  done       {status.done:,}",
        f"  seen       {status.seen:,}",
        f"  hosts      {status.hosts:,}",
        f"  budget     {status.charged:,} pages charged",
        f"  workers    {alive} alive, {len(status.workers) - alive} past their lease",
    ]
    for worker, pending in sorted(status.unconfirmed.items()):
        lines.append(f"             {worker}: {pending} claims not yet confirmed")
    if status.slowest:
        lines.append("  slowest hosts (time to empty the queue at the host's pace):")
        lines.append(
            f"    {'host':<40} {'queued':>8} {'flight':>6} {'interval':>9} {'done':>8} {'left':>9}"
        )
        for h in status.slowest:
            left = "robots" if h.time_left == float("inf") else f"{h.time_left:.1f} s"
            lines.append(
                f"    {h.host:<40} {h.queued:>8,} {h.in_flight:>6} {h.interval:>8.2f}s "
                f"{h.done:>8,} {left:>9}"
            )
    return "\n".join(lines)


@frontier.command()
@_url_option
@_crawl_option
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The merged JSON Lines file.",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing --out.")
@click.option("--partial", is_flag=True, help="Export a crawl that is not finished yet.")
@click.argument("shards", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
def export(
    url: str, crawl_id: str, out: Path, overwrite: bool, partial: bool, shards: tuple[Path, ...]
) -> int:
    """Merge the workers' SHARDS (their --out files) into one file, each URL once.

    \b
    Example:
      spindle frontier export --frontier redis://db:6379/0 --crawl-id site \\
          --out all.jsonl shard-*.jsonl
    """
    for shard in shards:
        if not shard.is_file():
            raise click.UsageError(f"{shard}: no such shard")
        if out.exists() and out.samefile(shard):
            raise click.UsageError(f"--out {out} is one of the shards")
    if holds_data(out) and not overwrite:
        raise click.UsageError(f"{out} exists; pass --overwrite to replace it")
    from spindle.crawl.shared.link import RedisLink  # the Redis client, when needed
    from spindle.crawl.shared.report import crawl_status, export_shards

    link = RedisLink(url, patience=_PATIENCE)
    keys = CrawlKeys(crawl_id)
    try:
        found = crawl_status(link, keys, slowest=0)
        if not found.exists:
            raise click.UsageError(f"crawl {crawl_id!r} is not in Redis at {link.name}")
        if not found.finished and not partial:
            raise click.UsageError(
                f"crawl {crawl_id!r} is not finished ({found.queued:,} queued, "
                f"{found.leased:,} leased); wait for its workers, or pass --partial"
            )
        report = export_shards(link, keys, shards, out)
    except FrontierError as exc:
        raise click.ClickException(str(exc)) from exc
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    finally:
        link.close()
    click.echo(
        f"{report.written:,} records from {len(shards)} shards in {out}; "
        f"{report.duplicates:,} duplicates dropped",
        err=True,
    )
    if report.missing:
        click.echo(
            f"spindle frontier export: {report.missing:,} completed URLs are in none of the "
            "shards given (a shard left out, or a killed worker not yet rerun)",
            err=True,
        )
    if found.unconfirmed:
        workers = ", ".join(sorted(found.unconfirmed))
        click.echo(f"spindle frontier export: unconfirmed claims of {workers}", err=True)
    if report.unclaimed:
        click.echo(
            f"spindle frontier export: {report.unclaimed:,} records were never claimed "
            "in Redis (a shard of another crawl?)",
            err=True,
        )
    sys.stderr.flush()
    return 0 if report.complete else 1
