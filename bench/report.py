"""The Markdown report: machine, method, one table per site with its commands, targets, and the
spindle.sync micro-benchmarks.

Figures are printed as measured (medians, to the precision each column states); a missing figure
shows as "-", and every failed or timed-out run is listed, never silently dropped.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from contenders import Job
from harness import SiteResult
from pagesets import compare, hosts
from plan import DOCS_WORKERS, SitePlan
from results import Summary
from scaling import scaling_rows
from targets import target_table

__all__ = ["Context", "render"]

_REPO = Path(__file__).resolve().parent.parent
_PLACEHOLDER_SEED = "http://127.0.0.1:PORT/"
_PLACEHOLDER_SEEDS = Path("TMP/seeds.txt")

METHOD = """\
- Every figure is the median of the usable runs (up to {runs} per row); within a round every
  contender runs once, in the same order, so machine noise hits all alike.
- wall s: process start to exit, interpreter start-up included; pages/s = pages / wall s.
  Self-timed pages/s divides by the crawler's own crawl duration instead (Spindle's
  `--summary-json`, Scrapy's `elapsed_time_seconds`), leaving start-up out.
- CPU: user + sys seconds of the crawler process and its children, from `os.wait4` in a small
  launcher process (bench/launcher.py); peak RSS: `ru_maxrss` from the same call, which on
  Linux includes the launcher's own few MB (the "peak RSS floor" above). Servers run in their
  own processes and are not counted.
- pages: HTML pages fetched with status 200, URLs normalised (fragment dropped, `d/` =
  `d/index.html`, percent-escapes decoded). requests: every fetch the crawler reports,
  redirects, 404s and non-HTML files included (wget also fetches stylesheets and images).
- Every run writes into a fresh folder on tmpfs (/dev/shm): Spindle its records (no state,
  `--no-state`), wget and wget2 every file they fetch, the others their page lists, Crawlee
  its request queue. Every run is bounded by a page cap a little above the site's size (where
  the crawler has one; the commands show it) and a time limit.
- Page sets are compared among the contenders at the same W and page cap on the same site:
  "missing" = found by some other contender but not this one, "only here" = found by no other.
  A row capped below the site's size crawls the first pages in its own order; its pages are
  checked against the whole crawls' pages instead.
- Latency sites: the ideal rate is W / latency, every worker always waiting on a response.
  "% of docs rate" compares with the same contender's pages/s on the CPU-bound docs site.
- Broad site: each run is stopped by SIGINT after a fixed window of D seconds from its start,
  as Ctrl-C would; pages/s counts the pages it finished within the window, divided by D (wall s
  and pages include its shutdown). The ideal is every host asked `rate` times a second from the
  first moment to the last (robots.txt taking one request), less where a host has run out of
  pages: sum over hosts of min(pages, rate x D), divided by D. The server logs every request's
  arrival per host; a request breaks politeness when it arrives while `per host` others of its
  host are unanswered, or when some window of w seconds ending with it holds more than
  rate x (w + 0.05) + 1 of its host's requests (0.05 s of slack for the server's own event
  loop). "server lag max" is the longest the server's event loop ran late during the run (a
  10 ms timer): when it exceeds the slack, some early arrivals may be the server's doing."""


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


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _short(command: Sequence[str]) -> str:
    """A command line with this checkout's paths made relative, as a reader would type it."""
    return shlex.join(command).replace(f"{_REPO}/", "")


def _set_differences(result: SiteResult) -> dict[str, str]:
    """Per label, how its first usable run's pages differ from the others' at the same W and
    page cap; a capped row's pages are checked against the whole crawls' instead."""
    groups: dict[tuple[int, int | None], dict[str, set[str]]] = {}
    for record in result.records:
        if record.ok:
            sets = groups.setdefault((record.workers, record.max_pages), {})
            sets.setdefault(record.label, record.pages)
    whole: set[str] = set()
    for (_, cap), sets in groups.items():
        if cap is None:
            whole = whole.union(*sets.values())
    descriptions: dict[str, str] = {}
    for (_, cap), sets in groups.items():
        if cap is None:
            for label, difference in compare(sets).items():
                descriptions[label] = difference.describe()
            continue
        for label, pages in sets.items():
            note = f"first {cap:,} in its own order"
            if whole:
                outside = len(pages - whole)
                note += f"; {outside:,} outside the whole crawls" if outside else "; all in them"
            descriptions[label] = note
    return descriptions


def _docs_rates(results: Sequence[SiteResult]) -> dict[str, float]:
    """Each contender's pages/s on the docs site: the CPU-bound reference for docs-latency."""
    for result in results:
        if result.plan.name == "docs":
            return {
                s.contender: s.pages_per_s
                for s in result.summaries()
                if s.workers == DOCS_WORKERS and s.pages_per_s is not None
            }
    return {}


def _crawl_table(result: SiteResult, cpu_bound: dict[str, float]) -> list[str]:
    plan = result.plan
    latency = plan.latency > 0
    differences = _set_differences(result)
    concurrency = {entry.label: entry.concurrency for entry in plan.entries}
    header = ["contender", "W", "ok runs", "wall s", "pages/s", "CPU s / 1k pages"]
    header += ["peak RSS MB", "pages", "requests"]
    if latency:
        header += ["self-timed pages/s", "steady pages/s"]
        header += ["% of ideal (wall)", "% of ideal (self-timed)", "% of ideal (steady)"]
        header += ["% of docs rate"] if cpu_bound else []
    header.append("page set vs the others")
    rows = []
    for summary in result.summaries():
        capped = f", first {summary.max_pages:,}" if summary.max_pages else ""
        row = [
            summary.contender + capped,
            str(concurrency[summary.label]),
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
            row += [
                _fmt(summary.crawl_pages_per_s),
                _fmt(summary.steady_pages_per_s),
                _ratio(summary.pages_per_s, ideal),
                _ratio(summary.crawl_pages_per_s, ideal),
                _ratio(summary.steady_pages_per_s, ideal),
            ]
            row += (
                [_ratio(summary.pages_per_s, cpu_bound.get(summary.contender))] if cpu_bound else []
            )
        row.append(differences.get(summary.label, "-"))
        rows.append(row)
    return _table(header, rows)


def _big_table(result: SiteResult) -> list[str]:
    scaling = scaling_rows(result.summaries())
    first_marginal: dict[str, float] = {}
    for item in scaling:
        if item.marginal_ms is not None:
            first_marginal.setdefault(item.summary.contender, item.marginal_ms)
    header = ["contender", "--max-pages", "ok runs", "wall s", "pages", "pages/s", "CPU s"]
    header += ["CPU ms / page", "marginal CPU ms / page", "marginal vs smallest", "peak RSS MB"]
    rows = []
    for item in scaling:
        summary = item.summary
        size = f"{summary.max_pages:,}" if summary.max_pages else "-"
        rows.append(
            [
                summary.contender,
                f"{size} (start-up)" if item.startup else size,
                f"{summary.usable}/{summary.runs}",
                _fmt(summary.wall_s, 2),
                _pages(summary),
                _fmt(summary.pages_per_s),
                _fmt(summary.cpu_s, 2),
                _fmt(summary.cpu_s_per_1k, 3),
                _fmt(item.marginal_ms, 3),
                _ratio(item.marginal_ms, first_marginal.get(summary.contender)),
                _fmt(summary.max_rss_mb),
            ]
        )
    return _table(header, rows)


def _broad_table(result: SiteResult) -> list[str]:
    """The polite broad crawl: rate against the ideal, and what the hosts saw."""
    hosts_reached: dict[str, int] = {}
    for record in result.records:
        if record.ok and record.label not in hosts_reached:
            hosts_reached[record.label] = hosts(record.pages)
    window = result.plan.stop_after or 0.0
    header = ["contender", "W", "ok runs", "wall s", "pages", f"pages in {window:g} s", "pages/s"]
    header += ["ideal pages/s", "% of ideal", "CPU s / 1k pages", "peak RSS MB"]
    header += ["requests (crawler)", "requests (hosts saw)", "hosts reached"]
    header += ["politeness violations", "server lag max ms"]
    rows = []
    for summary in result.summaries():
        audit = summary.politeness
        rows.append(
            [
                summary.contender,
                str(summary.workers),
                f"{summary.usable}/{summary.runs}",
                _fmt(summary.wall_s, 2),
                _pages(summary),
                _fmt(None if summary.pages_per_s is None else summary.pages_per_s * window, 0),
                _fmt(summary.pages_per_s),
                _fmt(summary.ideal_pages_per_s),
                _ratio(summary.pages_per_s, summary.ideal_pages_per_s),
                _fmt(summary.cpu_s_per_1k, 2),
                _fmt(summary.max_rss_mb),
                "-" if summary.requests is None else f"{summary.requests:,}",
                "-" if audit is None else f"{audit.requests:,}",
                f"{hosts_reached.get(summary.label, 0):,}",
                "-" if audit is None else audit.describe(),
                _fmt(None if summary.server_lag_s is None else 1000 * summary.server_lag_s, 0),
            ]
        )
    return _table(header, rows)


def _commands(plan: SitePlan) -> list[str]:
    lines = [f"- server: `{_short(shlex.split(plan.serves))}`"]
    seeds = _PLACEHOLDER_SEEDS if plan.polite else None
    job = Job(_PLACEHOLDER_SEED, plan.max_pages, seeds, plan.polite)
    for entry in plan.entries:
        command = entry.contender.command(job.capped(entry.max_pages), entry.workers, Path("OUT"))
        lines.append(f"- {entry.label}: `{_short(command)}`")
    return lines


def render(context: Context, results: Sequence[SiteResult]) -> str:
    """The whole report as Markdown."""
    lines = [
        "# Spindle benchmarks",
        "",
        f"Run {context.started}, {context.seconds:.0f} s in all, with `{context.command}`"
        + (" (quick mode: smaller sites, fewer runs)" if context.quick else "")
        + ".",
        "",
        "## Machine",
        "",
        *[f"- {key}: {value}" for key, value in context.machine.items()],
        "",
        "## Method",
        "",
        METHOD.format(runs=context.runs),
        "",
    ]
    cpu_bound = _docs_rates(results)
    for result in results:
        plan = result.plan
        lines += [f"## {plan.name}", "", plan.description + ".", ""]
        if result.error:
            lines += [f"Skipped: {result.error}", ""]
            continue
        if plan.name == "big":
            lines += _big_table(result)
        elif plan.polite is not None:
            lines += _broad_table(result)
        else:
            lines += _crawl_table(result, cpu_bound if plan.name == "docs-latency" else {})
        notes = [
            *plan.notes,
            *(f"{label} left out: {why}" for label, why in result.left_out.items()),
        ]
        if notes:
            lines += ["", *[f"- {note}" for note in notes]]
        lines += ["", f"Site total: {result.seconds:.0f} s. Commands:", ""]
        lines += _commands(plan)
        failures = [failure for s in result.summaries() for failure in s.failures]
        if failures:
            lines += ["", "Failed runs:", "", *[f"- {failure}" for failure in failures]]
        lines.append("")
    targets = target_table(results)
    if targets:
        lines += ["## Targets", "", *targets, ""]
    if context.sync_table is not None:
        lines += ["## spindle.sync micro-benchmarks", "", "```", context.sync_table, "```", ""]
    return "\n".join(lines)
