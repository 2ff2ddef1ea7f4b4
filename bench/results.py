"""Per-run records and their medians: the numbers every table is built from.

A run counts towards the medians only if it completed (an accepted exit code, no timeout) and
found at least one page; the others are kept and reported as failures.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

from measure import Measurement
from politeness import Audit

__all__ = ["RunRecord", "Summary", "summarise"]


@dataclass(slots=True)
class RunRecord:
    """One run of one entry on one site."""

    site: str
    label: str
    contender: str
    workers: int
    max_pages: int | None
    round: int
    measurement: Measurement
    completed: bool
    pages: set[str] = field(repr=False)
    requests: int | None
    crawl_s: float | None
    steady_pages_per_s: float | None
    log: str
    politeness: Audit | None = None
    ideal_pages: float | None = None
    window_s: float | None = None
    pages_in_window: int | None = None
    server_lag_s: float | None = None

    @property
    def pages_per_s(self) -> float:
        """Pages / wall s; for a time-boxed run, the pages finished within its window / window."""
        if self.window_s and self.pages_in_window is not None:
            return self.pages_in_window / self.window_s
        return len(self.pages) / self.measurement.wall_s

    @property
    def ok(self) -> bool:
        """Whether this run's figures are usable."""
        return self.completed and bool(self.pages)

    def failure(self) -> str:
        """Why the run is not usable, in a few words."""
        measurement = self.measurement
        if measurement.timed_out:
            return f"timed out and killed after {measurement.wall_s:.1f} s"
        if not self.completed:
            return f"exit code {measurement.returncode}"
        return "found no pages"

    def to_json(self) -> dict[str, Any]:
        """The raw figures, for ``results/runs/``."""
        measurement = self.measurement
        return {
            "site": self.site,
            "label": self.label,
            "contender": self.contender,
            "workers": self.workers,
            "max_pages": self.max_pages,
            "round": self.round,
            "wall_s": round(measurement.wall_s, 4),
            "cpu_s": round(measurement.cpu_s, 4),
            "max_rss_mb": round(measurement.max_rss_mb, 1),
            "returncode": measurement.returncode,
            "timed_out": measurement.timed_out,
            "pages": len(self.pages),
            "requests": self.requests,
            "crawl_s": self.crawl_s,
            "steady_pages_per_s": self.steady_pages_per_s,
            "stopped": measurement.stopped,
            "politeness": None if self.politeness is None else asdict(self.politeness),
            "ideal_pages": self.ideal_pages,
            "window_s": self.window_s,
            "pages_in_window": self.pages_in_window,
            "server_lag_s": self.server_lag_s,
            "log": self.log,
        }


@dataclass(frozen=True, slots=True)
class Summary:
    """Medians over the usable runs of one entry (None when no run was usable)."""

    label: str
    contender: str
    workers: int
    max_pages: int | None
    runs: int
    usable: int
    wall_s: float | None
    pages_per_s: float | None
    crawl_pages_per_s: float | None
    steady_pages_per_s: float | None
    cpu_s: float | None
    cpu_s_per_1k: float | None
    max_rss_mb: float | None
    pages: int | None
    pages_range: tuple[int, int] | None
    requests: int | None
    failures: tuple[str, ...]
    ideal_pages_per_s: float | None = None
    politeness: Audit | None = None
    server_lag_s: float | None = None


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summarise(records: list[RunRecord]) -> Summary:
    """The medians of one entry's runs (all ``records`` share a label)."""
    first = records[0]
    good = [record for record in records if record.ok]
    counts = [len(record.pages) for record in good]
    crawl_rates = [len(record.pages) / record.crawl_s for record in good if record.crawl_s]
    requests = [float(record.requests) for record in good if record.requests is not None]
    median_requests = _median(requests)
    return Summary(
        label=first.label,
        contender=first.contender,
        workers=first.workers,
        max_pages=first.max_pages,
        runs=len(records),
        usable=len(good),
        wall_s=_median([r.measurement.wall_s for r in good]),
        pages_per_s=_median([r.pages_per_s for r in good]),
        crawl_pages_per_s=_median(crawl_rates),
        steady_pages_per_s=_median(
            [r.steady_pages_per_s for r in good if r.steady_pages_per_s is not None]
        ),
        cpu_s=_median([r.measurement.cpu_s for r in good]),
        cpu_s_per_1k=_median([r.measurement.cpu_s * 1000 / len(r.pages) for r in good]),
        max_rss_mb=_median([r.measurement.max_rss_mb for r in good]),
        pages=round(statistics.median(counts)) if counts else None,
        pages_range=(min(counts), max(counts)) if counts else None,
        requests=None if median_requests is None else round(median_requests),
        ideal_pages_per_s=_median(
            [r.ideal_pages / r.window_s for r in good if r.ideal_pages is not None and r.window_s]
        ),
        # The worst run speaks for the row: one impolite run is one too many.
        politeness=max(
            (r.politeness for r in good if r.politeness is not None),
            key=lambda audit: audit.violations,
            default=None,
        ),
        server_lag_s=max(
            (r.server_lag_s for r in good if r.server_lag_s is not None), default=None
        ),
        failures=tuple(
            f"{r.label}, round {r.round}: {r.failure()} (log: {r.log})" for r in records if not r.ok
        ),
    )
