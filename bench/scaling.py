"""How Spindle's cost grows with the size of a crawl, start-up set apart.

A crawl of N pages costs start-up (interpreter, imports) plus N times the per-page cost. A
one-page crawl measures the first part, so the marginal CPU per page, ``(cpu(N) - cpu(1)) /
(pages(N) - pages(1))``, shows whether the per-page cost stays flat as the crawl grows, which
the raw CPU / pages figure hides (it falls with N as start-up is spread thinner).
"""

from __future__ import annotations

from dataclasses import dataclass

from plan import STARTUP_PAGES
from results import Summary

__all__ = ["ScalingRow", "scaling_rows"]


@dataclass(frozen=True, slots=True)
class ScalingRow:
    """One size of one engine, with its marginal CPU milliseconds per page."""

    summary: Summary
    startup: bool
    marginal_ms: float | None


def scaling_rows(rows: list[Summary]) -> list[ScalingRow]:
    """The rows in order, each with its marginal cost against its engine's one-page crawl."""
    baselines = {
        row.contender: row
        for row in rows
        if row.max_pages == STARTUP_PAGES and row.cpu_s is not None and row.pages is not None
    }
    found = []
    for row in rows:
        base = baselines.get(row.contender)
        marginal = None
        startup = row.max_pages == STARTUP_PAGES
        if not startup and base and row.cpu_s is not None and row.pages and base.pages is not None:
            assert base.cpu_s is not None
            extra_pages = row.pages - base.pages
            if extra_pages > 0:
                marginal = 1000 * (row.cpu_s - base.cpu_s) / extra_pages
        found.append(ScalingRow(row, startup, marginal))
    return found
