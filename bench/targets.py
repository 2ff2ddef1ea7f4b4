"""The performance targets Spindle is held to, checked against the measured medians.

Each target is judged on the best Spindle engine for that figure (named in the table), and a
target whose figures are missing says so instead of passing or failing.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence

from harness import SiteResult
from plan import DOCS_WORKERS, LIGHT_WORKERS
from results import Summary
from scaling import scaling_rows

__all__ = ["target_table"]

Row = tuple[str, str, str]


def _verdict(met: bool) -> str:
    return "met" if met else "**not met**"


def _by_contender(result: SiteResult, workers: int) -> dict[str, Summary]:
    return {s.contender: s for s in result.summaries() if s.workers == workers}


def _best(rows: dict[str, Summary], metric: str, *, highest: bool) -> tuple[str, float] | None:
    """The Spindle engine with the best value of ``metric``, and that value."""
    values = [
        (name, float(getattr(summary, metric)))
        for name, summary in rows.items()
        if name.startswith("spindle-") and getattr(summary, metric) is not None
    ]
    if not values:
        return None
    return (max if highest else min)(values, key=lambda item: item[1])


def _docs(result: SiteResult) -> list[Row]:
    """Against Scrapy and wget at equal concurrency on the CPU-bound docs site."""
    rows = _by_contender(result, DOCS_WORKERS)
    scrapy, wget = rows.get("scrapy"), rows.get("wget")
    checks: list[tuple[str, str, Summary | None, Callable[[float, float], bool], float]] = [
        ("pages/s >= 5x Scrapy's", "pages_per_s", scrapy, operator.ge, 5.0),
        ("CPU per page <= 0.2x Scrapy's", "cpu_s_per_1k", scrapy, operator.le, 0.2),
        ("wall time < wget's", "wall_s", wget, operator.lt, 1.0),
        ("peak RSS < Scrapy's", "max_rss_mb", scrapy, operator.lt, 1.0),
    ]
    found = []
    for title, metric, peer, passes, limit in checks:
        best = _best(rows, metric, highest=metric == "pages_per_s")
        reference = None if peer is None else getattr(peer, metric)
        if best is None or not reference:
            found.append((f"docs W={DOCS_WORKERS}: {title}", "not measured", "-"))
            continue
        ratio = best[1] / reference
        found.append(
            (
                f"docs W={DOCS_WORKERS}: {title}",
                f"{best[0]}: {ratio:.2f}x",
                _verdict(passes(ratio, limit)),
            )
        )
    return found


def _light(result: SiteResult) -> list[Row]:
    """At least 90% of W / latency: by wall time, by the crawl's own timing, in steady state."""
    rows = _by_contender(result, LIGHT_WORKERS)
    ideal = LIGHT_WORKERS / result.plan.latency
    found = []
    metrics = (
        ("pages_per_s", "wall"),
        ("crawl_pages_per_s", "self-timed"),
        ("steady_pages_per_s", "steady state"),
    )
    for metric, how in metrics:
        best = _best(rows, metric, highest=True)
        title = f"light-latency W={LIGHT_WORKERS}: >= 90% of ideal {ideal:.0f} pages/s ({how})"
        if best is None:
            found.append((title, "not measured", "-"))
        else:
            share = best[1] / ideal
            found.append((title, f"{best[0]}: {100 * share:.0f}%", _verdict(share >= 0.9)))
    return found


def _big(result: SiteResult) -> list[Row]:
    """Per engine: memory at the largest size; marginal CPU per page there against the smallest."""
    rows = [row for row in scaling_rows(result.summaries()) if not row.startup]
    found: list[Row] = []
    for engine in sorted({row.summary.contender for row in rows}):
        sizes = [row for row in rows if row.summary.contender == engine]
        small, large = sizes[0], sizes[-1]
        rss = large.summary.max_rss_mb
        title = f"big ({engine}): peak RSS at --max-pages {large.summary.max_pages:,} < 300 MB"
        found.append(
            (title, "not measured", "-")
            if rss is None
            else (title, f"{rss:.1f} MB", _verdict(rss < 300))
        )
        title = (
            f"big ({engine}): CPU/page at {large.summary.max_pages:,} <= 1.2x that at "
            f"{small.summary.max_pages:,} (marginal, start-up left out; raw in brackets)"
        )
        if not small.marginal_ms or large.marginal_ms is None:
            found.append((title, "not measured", "-"))
            continue
        growth = large.marginal_ms / small.marginal_ms
        raw = ""
        if small.summary.cpu_s_per_1k and large.summary.cpu_s_per_1k:
            raw = f" ({large.summary.cpu_s_per_1k / small.summary.cpu_s_per_1k:.2f}x)"
        found.append((title, f"{growth:.2f}x{raw}", _verdict(growth <= 1.2)))
    return found


def target_table(results: Sequence[SiteResult]) -> list[str]:
    """The targets of the sites that ran, as Markdown table lines (none if no site applies)."""
    checks = {"docs": _docs, "light-latency": _light, "big": _big}
    rows = [
        row
        for result in results
        if result.plan.name in checks and result.records
        for row in checks[result.plan.name](result)
    ]
    if not rows:
        return []
    lines = ["| target | measured (best Spindle engine) | verdict |", "|---|---|---|"]
    return lines + [f"| {title} | {measured} | {verdict} |" for title, measured, verdict in rows]
