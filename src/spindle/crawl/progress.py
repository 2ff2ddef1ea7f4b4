"""What a person watching the crawl sees: a live line while it runs, a summary at the end.

Both go to stderr, so ``--out -`` leaves nothing but records on stdout.
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.live import Live
from rich.table import Table

from spindle.crawl.core.scheduler import CrawlScheduler
from spindle.crawl.summary import CrawlSummary

__all__ = ["LiveProgress", "print_summary"]

_REFRESH = 0.25


class LiveProgress:
    """A rich live display of pages done, queued, in flight, pages/s, errors and bytes."""

    def __init__(self, scheduler: CrawlScheduler, console: Console) -> None:
        self._scheduler = scheduler
        self._start = time.monotonic()
        self._next = 0.0
        self._live = Live(self._render(), console=console, auto_refresh=False, transient=True)

    def __enter__(self) -> LiveProgress:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.__exit__(None, None, None)

    def tick(self) -> None:
        """Redraw, at most four times a second."""
        now = time.monotonic()
        if now >= self._next:
            self._next = now + _REFRESH
            self._live.update(self._render(), refresh=True)

    def _render(self) -> Table:
        sched = self._scheduler
        stats = sched.stats
        elapsed = max(time.monotonic() - self._start, 1e-9)
        table = Table.grid(padding=(0, 2))
        table.add_row(
            f"[bold]{stats.pages}[/] pages",
            f"{sched.queued} queued",
            f"{sched.in_flight} in flight",
            f"{stats.pages / elapsed:.1f} pages/s",
            f"[red]{sum(stats.errors.values())}[/] errors",
            f"{stats.bytes / 1e6:.1f} MB",
        )
        return table


def print_summary(summary: CrawlSummary, console: Console) -> None:
    """Print the final summary table."""
    stats = summary.stats
    table = Table(title="Crawl summary", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("state", summary.state_text)
    pages = f"{stats.pages}"
    if summary.resumed_pages:
        pages += f" (plus {summary.resumed_pages} from earlier runs)"
    table.add_row("pages", pages)
    table.add_row("elapsed", f"{summary.elapsed:.2f} s")
    table.add_row("rate", f"{summary.pages_per_second:.1f} pages/s")
    table.add_row("data", f"{stats.bytes / 1e6:.2f} MB")
    table.add_row("statuses", _counts({str(k): v for k, v in stats.statuses.items()}))
    table.add_row("errors", _counts({k.value: v for k, v in stats.errors.items()}))
    table.add_row(
        "robots skips",
        _counts({k.value: v for k, v in stats.skipped.items() if k.value.startswith("robots")}),
    )
    table.add_row("refused", _counts({k.value: v for k, v in stats.traps.items()}))
    table.add_row("retries", str(stats.retries))
    if stats.capped_crawl_delays:
        capped = ", ".join(
            f"{host} asked {delay:g} s" for host, delay in sorted(stats.capped_crawl_delays.items())
        )
        table.add_row("crawl-delay capped", capped)
    if summary.out is not None:
        table.add_row("records", "stdout" if summary.out == "-" else summary.out)
    if summary.state is not None:
        table.add_row("state file", str(summary.state))
    for what, where in summary.outputs:
        table.add_row(what, where)
    console.print(table)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{key}: {value}" for key, value in sorted(counts.items())) or "none"
