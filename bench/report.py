"""The Markdown report: machine, method, commands, one table per site, targets, micro-benchmarks.

Figures are printed as measured (medians, to the precision the table states); a missing figure
is shown as "-", and every failed or timed-out run is listed, never silently dropped.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness import SiteResult
from pagesets import compare
from plan import DOCS_WORKERS, LIGHT_WORKERS, SitePlan
from results import RunRecord, Summary, summarise

__all__ = ["Context", "render", "summaries"]

_REPO = Path(__file__).resolve().parent.parent
_PLACEHOLDER_SEED = "http://127.0.0.1:PORT/"


@dataclass(frozen=True, slots=True)
class Context:
    """What the report says about the run as a whole."""

    started: str
    seconds: float
    command: str
    runs: int
    quick: bool
    machine: dict[str, str]
    sync_table: str | None


def summaries(result: SiteResult) -> list[Summary]:
    """One summary per entry of the site, in plan order."""
    by_label: dict[str, list[RunRecord]] = {}
    for record in result.records:
        by_label.setdefault(record.label, []).append(record)
    return [summarise(by_label[e.label]) for e in result.plan.entries if e.label in by_label]


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _pages(summary: Summary) -> str:
    if summary.pages is None or summary.pages_range is None:
        return "-"
    low, high = summary.pages_range
    return f"{summary.pages:,}" if low == high else f"{summary.pages:,} ({low:,}-{high:,})"


def _ratio(value: float | None, reference: float | None) -> str:
    if value is None or not reference:
        return "-"
    return f"{100 * value / reference:.0f}%"


def _short(command: Sequence[str]) -> str:
    """A command line with this checkout's paths made relative, as a reader would type it."""
    return shlex.join(command).replace(f"{_REPO}/", "")


def _set_differences(result: SiteResult) -> dict[str, str]:
    """Per label, how its pages differ from the other contenders' at the same concurrency."""
    descriptions: dict[str, str] = {}
    for workers in sorted({record.workers for record in result.records}):
        first_ok: dict[str, set[str]] = {}
        for record in result.records:
            if record.workers == workers and record.ok and record.label not in first_ok:
                first_ok[record.label] = record.pages
        for label, difference in compare(first_ok).items():
            descriptions[label] = difference.describe()
    return descriptions


def _crawl_table(result: SiteResult, cpu_bound: dict[str, float]) -> list[str]:
    plan = result.plan
    rows = summaries(result)
    latency = plan.latency > 0
    differences = _set_differences(result)
    header = [
        "contender",
        "W",
        "ok runs",
        "wall s",
        "pages/s",
        "CPU s / 1k pages",
        "peak RSS MB",
        "pages",
        "requests",
    ]
    if latency:
        header += ["self-timed pages/s", "% of ideal (wall)", "% of ideal (self-timed)"]
        if cpu_bound:
            header.append("% of docs rate")
    header.append("page set vs the others")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for summary in rows:
        cells = [
            summary.contender,
            str(summary.workers),
            f"{summary.usable}/{summary.runs}",
            _fmt(summary.wall_s, 2),
            _fmt(summary.pages_per_s),
            _fmt(summary.cpu_s_per_1k, 2),
            _fmt(summary.max_rss_mb),
            _pages(summary),
            "-" if summary.requests is None else f"{summary.requests:,}",
        ]
        if latency:
            ideal = summary.workers / plan.latency
            cells += [
                _fmt(summary.crawl_pages_per_s),
                _ratio(summary.pages_per_s, ideal),
                _ratio(summary.crawl_pages_per_s, ideal),
            ]
            if cpu_bound:
                cells.append(_ratio(summary.pages_per_s, cpu_bound.get(summary.contender)))
        cells.append(differences.get(summary.label, "-"))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _big_table(result: SiteResult) -> list[str]:
    rows = summaries(result)
    smallest: dict[str, float] = {}
    for summary in rows:
        if summary.cpu_s_per_1k is not None:
            smallest.setdefault(summary.contender, summary.cpu_s_per_1k)
    header = [
        "contender",
        "--max-pages",
        "ok runs",
        "wall s",
        "pages",
        "pages/s",
        "CPU ms / page",
        "CPU/page vs smallest",
        "peak RSS MB",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for summary in rows:
        lines.append(
            "| "
            + " | ".join(
                [
                    summary.contender,
                    f"{summary.max_pages:,}" if summary.max_pages else "-",
                    f"{summary.usable}/{summary.runs}",
                    _fmt(summary.wall_s, 2),
                    _pages(summary),
                    _fmt(summary.pages_per_s),
                    _fmt(summary.cpu_s_per_1k, 3),
                    _ratio(summary.cpu_s_per_1k, smallest.get(summary.contender)),
                    _fmt(summary.max_rss_mb),
                ]
            )
            + " |"
        )
    return lines


def _commands(plan: SitePlan) -> list[str]:
    lines = [f"- server: `{_short(shlex.split(plan.serves))}`"]
    seen: set[tuple[str, int]] = set()
    for entry in plan.entries:
        key = (entry.contender.name, entry.workers)
        if key in seen and entry.max_pages is None:
            continue
        seen.add(key)
        command = entry.contender.command(_PLACEHOLDER_SEED, entry.workers, Path("OUT"))
        lines.append(f"- {entry.label}: `{_short(command)}`")
    return lines


def docs_rates(results: Sequence[SiteResult], workers: int) -> dict[str, float]:
    """Each contender's pages/s on the docs site at ``workers``: the CPU-bound reference."""
    for result in results:
        if result.plan.name == "docs":
            return {
                s.contender: s.pages_per_s
                for s in summaries(result)
                if s.workers == workers and s.pages_per_s is not None
            }
    return {}


def _by_contender(result: SiteResult | None, workers: int) -> dict[str, Summary]:
    if result is None:
        return {}
    return {s.contender: s for s in summaries(result) if s.workers == workers}


def _best(rows: dict[str, Summary], metric: str, *, highest: bool) -> tuple[str, float] | None:
    """The Spindle engine with the best value of ``metric``, and that value."""
    values = [
        (name, getattr(summary, metric))
        for name, summary in rows.items()
        if name.startswith("spindle-") and getattr(summary, metric) is not None
    ]
    if not values:
        return None
    return (max if highest else min)(values, key=lambda item: item[1])


def _verdict(met: bool) -> str:
    return "met" if met else "**not met**"


def _docs_targets(rows: dict[str, Summary]) -> list[tuple[str, str, str]]:
    scrapy, wget = rows.get("scrapy"), rows.get("wget")
    checks = [
        ("pages/s >= 5x Scrapy's", "pages_per_s", True, scrapy, 5.0),
        ("CPU per page <= 0.2x Scrapy's", "cpu_s_per_1k", False, scrapy, 0.2),
        ("wall time < wget's", "wall_s", False, wget, 1.0),
        ("peak RSS < Scrapy's", "max_rss_mb", False, scrapy, 1.0),
    ]
    found = []
    for title, metric, highest, peer, factor in checks:
        best = _best(rows, metric, highest=highest)
        reference = None if peer is None else getattr(peer, metric)
        if best is None or not reference:
            found.append((f"docs: {title}", "not measured", "-"))
            continue
        ratio = best[1] / reference
        met = ratio >= factor if highest else (ratio < factor if factor == 1.0 else ratio <= factor)
        found.append((f"docs: {title}", f"{best[0]}: {ratio:.2f}x", _verdict(met)))
    return found


def _targets(results: Sequence[SiteResult]) -> list[str]:
    named = {result.plan.name: result for result in results}
    rows: list[tuple[str, str, str]] = []
    if "docs" in named:
        rows += _docs_targets(_by_contender(named["docs"], DOCS_WORKERS))
    if "light-latency" in named:
        plan = named["light-latency"].plan
        light = _by_contender(named["light-latency"], LIGHT_WORKERS)
        ideal = LIGHT_WORKERS / plan.latency
        for metric, how in (("pages_per_s", "wall"), ("crawl_pages_per_s", "self-timed")):
            best = _best(light, metric, highest=True)
            title = f"light-latency: >= 90% of ideal {ideal:.0f} pages/s ({how})"
            if best is None:
                rows.append((title, "not measured", "-"))
            else:
                share = best[1] / ideal
                rows.append((title, f"{best[0]}: {100 * share:.0f}%", _verdict(share >= 0.9)))
    if "big" in named:
        rows += _big_targets(summaries(named["big"]))
    if not rows:
        return []
    lines = ["| target | measured (best Spindle engine) | verdict |", "|---|---|---|"]
    lines += [f"| {title} | {measured} | {verdict} |" for title, measured, verdict in rows]
    return lines


def _big_targets(rows: list[Summary]) -> list[tuple[str, str, str]]:
    """Per engine: memory at the largest size, and CPU per page there against the smallest."""
    found = []
    for engine in sorted({s.contender for s in rows}):
        sizes = [
            (s.max_pages or 0, s.cpu_s_per_1k, s.max_rss_mb)
            for s in rows
            if s.contender == engine and s.cpu_s_per_1k and s.max_rss_mb is not None
        ]
        if len(sizes) < 2:
            found.append((f"big ({engine})", "not measured", "-"))
            continue
        (small, small_cpu, _), (large, large_cpu, large_rss) = sizes[0], sizes[-1]
        growth = large_cpu / small_cpu
        found += [
            (
                f"big ({engine}): peak RSS at {large:,} pages < 300 MB",
                f"{large_rss:.1f} MB",
                _verdict(large_rss < 300),
            ),
            (
                f"big ({engine}): CPU/page at {large:,} within 20% of {small:,}",
                f"{growth:.2f}x",
                _verdict(growth <= 1.2),
            ),
        ]
    return found


def render(context: Context, results: Sequence[SiteResult]) -> str:
    """The whole report as Markdown."""
    machine = context.machine
    lines = [
        "# Spindle benchmarks",
        "",
        f"Run {context.started}, {context.seconds:.0f} s in all, with `{context.command}`"
        + (" (quick mode: smaller sites, fewer runs)" if context.quick else "")
        + ".",
        "",
        "## Machine",
        "",
        *[f"- {key}: {value}" for key, value in machine.items()],
        "",
        "## Method",
        "",
        f"- Every figure is the median of the usable runs (up to {context.runs} per row); within "
        "a round every contender runs once, in the same order, so machine noise hits all alike.",
        "- wall s: from process start to exit, interpreter start-up included; pages/s = pages / "
        "wall s. Self-timed pages/s uses the crawler's own crawl duration (Spindle's summary, "
        "Scrapy's `elapsed_time_seconds`), so start-up is left out.",
        "- CPU: user + sys seconds of the crawler process and its children (`os.wait4`); peak "
        "RSS: `ru_maxrss` from the same call. Servers run in separate processes and are not "
        "counted.",
        "- pages: HTML pages fetched with status 200, URLs normalised (fragments dropped, `d/` = "
        "`d/index.html`, percent-escapes decoded). requests: every fetch the crawler reports, "
        "including redirects, 404s and non-HTML files.",
        "- Page sets are compared among the contenders at the same W on the same site: "
        "'missing' = found by some other contender but not this one, 'only here' = found by "
        "no other.",
        "- Latency sites: the ideal rate is W / latency (every worker always waiting on one "
        "response).",
        "",
    ]
    cpu_bound = docs_rates(results, DOCS_WORKERS)
    for result in results:
        plan = result.plan
        lines += [f"## {plan.name}", "", plan.description + ".", ""]
        if result.error:
            lines += [f"Skipped: {result.error}", ""]
            continue
        if plan.name == "big":
            lines += _big_table(result)
        else:
            reference = cpu_bound if plan.name == "docs-latency" else {}
            lines += _crawl_table(result, reference)
        lines += ["", f"Site total: {result.seconds:.0f} s.", "", "Commands:", ""]
        lines += _commands(plan)
        failures = [f for s in summaries(result) for f in s.failures]
        if failures:
            lines += ["", "Failed runs:", "", *[f"- {failure}" for failure in failures]]
        lines.append("")
    targets = _targets(results)
    if targets:
        lines += ["## Targets", "", *targets, ""]
    if context.sync_table is not None:
        lines += ["## spindle.sync micro-benchmarks", "", "```", context.sync_table, "```", ""]
    return "\n".join(lines)
