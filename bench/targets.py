"""The performance targets Spindle is held to, checked against the measured medians.

Each target is judged on the best Spindle engine for that figure (named in the table), and a
target whose figures are missing says so instead of passing or failing. The docs site is also
held to the figures the README last published (:data:`DOCS_BASELINE`), within a margin for
run-to-run noise.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence

from harness import SiteResult
from pagesets import hosts
from plan import DOCS_WORKERS, LIGHT_WORKERS, RUST_WORKERS
from results import RunRecord, Summary
from scaling import scaling_rows

__all__ = ["DOCS_BASELINE", "target_table"]

Row = tuple[str, str, str]

# The docs site at W=32 as README.md reported it (run of 2026-11-25, git f0657b6): pages/s,
# CPU s per 1,000 pages and peak RSS MB per engine.
DOCS_BASELINE = {
    "spindle-threads": {"pages_per_s": 576.5, "cpu_s_per_1k": 2.07, "max_rss_mb": 100.5},
    "spindle-async": {"pages_per_s": 650.8, "cpu_s_per_1k": 1.88, "max_rss_mb": 101.8},
}
# A regression is a figure more than this much worse than the baseline.
BASELINE_MARGIN = 0.10
CRAWLEES = ("crawlee-python", "crawlee-node")


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


def _docs_baseline(result: SiteResult) -> list[Row]:
    """No figure of either engine more than the margin worse than README's last one."""
    rows = _by_contender(result, DOCS_WORKERS)
    found: list[Row] = []
    for engine, baseline in DOCS_BASELINE.items():
        title = (
            f"docs W={DOCS_WORKERS} ({engine}): no regression against README "
            f"({baseline['pages_per_s']:.0f} pages/s, {baseline['cpu_s_per_1k']:.2f} CPU s / 1k, "
            f"{baseline['max_rss_mb']:.0f} MB; {100 * BASELINE_MARGIN:.0f}% margin)"
        )
        summary = rows.get(engine)
        measured = {
            "pages/s": None if summary is None else summary.pages_per_s,
            "CPU": None if summary is None else summary.cpu_s_per_1k,
            "RSS": None if summary is None else summary.max_rss_mb,
        }
        if any(value is None for value in measured.values()):
            found.append((title, "not measured", "-"))
            continue
        ratios = {
            key: float(value or 0.0) / baseline[metric]
            for (key, value), metric in zip(
                measured.items(), ("pages_per_s", "cpu_s_per_1k", "max_rss_mb"), strict=True
            )
        }
        met = (
            ratios["pages/s"] >= 1 - BASELINE_MARGIN
            and ratios["CPU"] <= 1 + BASELINE_MARGIN
            and ratios["RSS"] <= 1 + BASELINE_MARGIN
        )
        measured = ", ".join(f"{key} {value:.2f}x" for key, value in ratios.items())
        found.append((title, measured, _verdict(met)))
    return found


def _rust(result: SiteResult) -> list[Row]:
    """Whole crawls at 16 connections: wall time and peak RSS against wget2's."""
    rows = {s.contender: s for s in result.summaries() if s.max_pages is None}
    wget2 = rows.get("wget2")
    found: list[Row] = []
    for what, metric, limit in (
        ("wall time <= wget2's", "wall_s", 1.0),
        ("peak RSS <= 1.5x wget2's", "max_rss_mb", 1.5),
    ):
        title = f"rust-docs W={RUST_WORKERS}, whole site: {what}"
        best = _best(rows, metric, highest=False)
        reference = None if wget2 is None else getattr(wget2, metric)
        if best is None or not reference:
            found.append((title, "not measured", "-"))
            continue
        ratio = best[1] / reference
        found.append((title, f"{best[0]}: {ratio:.2f}x", _verdict(ratio <= limit)))
    return found


def _hosts_reached(records: list[RunRecord], label: str) -> int:
    """Hosts with a page in the first usable run of ``label``."""
    return next((hosts(r.pages) for r in records if r.label == label and r.ok), 0)


def _broad(result: SiteResult) -> list[Row]:
    """>= 90% of the ideal rate, no politeness violation, 1,000 hosts or more crawled at once."""
    plan = result.plan
    hosts = plan.broad.hosts if plan.broad else 0
    title = f"broad: >= 90% of ideal pages/s, 0 politeness violations, >= 1,000 hosts ({hosts:,})"
    candidates = []
    for summary in result.summaries():
        if not summary.contender.startswith("spindle-") or summary.politeness is None:
            continue
        if not summary.pages_per_s or not summary.ideal_pages_per_s:
            continue
        share = summary.pages_per_s / summary.ideal_pages_per_s
        violations = summary.politeness.violations
        reached = _hosts_reached(result.records, summary.label)
        met = share >= 0.9 and violations == 0 and reached >= 1000 and hosts >= 1000
        candidates.append((met, violations == 0, share, summary.contender, violations, reached))
    if not candidates:
        return [(title, "not measured", "-")]
    met, _, share, engine, violations, reached = max(candidates)
    measured = f"{engine}: {100 * share:.0f}%, {violations:,} violations, {reached:,} hosts"
    return [(title, measured, _verdict(met))]


def _crawlee_lead(results: Sequence[SiteResult]) -> list[Row]:
    """On every site both ran, at the same W and page cap: Spindle's pages/s over each Crawlee's."""
    found: list[Row] = []
    for crawlee in CRAWLEES:
        ratios = []
        for result in results:
            groups: dict[tuple[int, int | None], dict[str, Summary]] = {}
            for summary in result.summaries():
                key = (summary.workers, summary.max_pages)
                groups.setdefault(key, {})[summary.contender] = summary
            for (workers, cap), rows in groups.items():
                peer = rows.get(crawlee)
                best = _best(rows, "pages_per_s", highest=True)
                if peer is None or best is None or not peer.pages_per_s:
                    continue
                where = result.plan.name + (f" first {cap:,}" if cap else "") + f" W={workers}"
                ratios.append((best[1] / peer.pages_per_s, where))
        title = f"pages/s ahead of {crawlee} on every site both crawled (same W and page cap)"
        if not ratios:
            found.append((title, "not measured", "-"))
            continue
        lowest, where = min(ratios)
        measured = f"lowest lead {lowest:.2f}x ({where}), over {len(ratios)} rows"
        found.append((title, measured, _verdict(lowest > 1.0)))
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
    checks: dict[str, list[Callable[[SiteResult], list[Row]]]] = {
        "docs": [_docs, _docs_baseline],
        "light-latency": [_light],
        "rust-docs": [_rust],
        "broad": [_broad],
        "big": [_big],
    }
    rows = [
        row
        for result in results
        if result.plan.name in checks and result.records
        for check in checks[result.plan.name]
        for row in check(result)
    ]
    rows += _crawlee_lead([result for result in results if result.records])
    if not rows:
        return []
    lines = ["| target | measured (best Spindle engine) | verdict |", "|---|---|---|"]
    return lines + [f"| {title} | {measured} | {verdict} |" for title, measured, verdict in rows]
