"""Crawl one site with every entry of its plan, round by round, and keep each run's record.

Within a round every entry runs once, in the same order, so slow drifts of the machine (heat,
other load) touch all contenders alike. A run that overruns its limit is killed and recorded as
a failure; a server that will not start fails the site, not the harness.
"""

from __future__ import annotations

import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from contenders import Found
from measure import run_measured
from plan import Entry, SitePlan
from results import RunRecord, Summary, summarise
from steady import steady_rate

__all__ = ["SiteResult", "run_site"]


@dataclass(slots=True)
class SiteResult:
    """Everything one site produced; ``error`` says why it produced nothing, if it did not."""

    plan: SitePlan
    records: list[RunRecord] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    def summaries(self) -> list[Summary]:
        """One summary per entry that ran at least once, in plan order."""
        by_label: dict[str, list[RunRecord]] = {}
        for record in self.records:
            by_label.setdefault(record.label, []).append(record)
        return [summarise(by_label[e.label]) for e in self.plan.entries if e.label in by_label]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


def _run_entry(
    plan: SitePlan, entry: Entry, seed: str, round_number: int, site_dir: Path
) -> RunRecord:
    """One measured run in a fresh work folder, which is deleted once its output is read."""
    log = site_dir / f"{_slug(entry.label)}-r{round_number}.log"
    workdir = site_dir / f"work-{_slug(entry.label)}-r{round_number}"
    workdir.mkdir(parents=True)
    try:
        command = entry.contender.command(seed, entry.workers, workdir)
        measurement = run_measured(command, timeout=plan.timeout, log=log, cwd=workdir)
        try:
            found = entry.contender.found(workdir, log)
        except (OSError, ValueError) as exc:
            with log.open("a") as note:
                note.write(f"\n[bench] could not read the output: {exc}\n")
            found = Found(set())
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return RunRecord(
        site=plan.name,
        label=entry.label,
        contender=entry.contender.name,
        workers=entry.workers,
        max_pages=entry.max_pages,
        round=round_number,
        measurement=measurement,
        completed=not measurement.timed_out
        and measurement.returncode in entry.contender.ok_returncodes,
        pages=found.pages,
        requests=found.requests,
        steady_pages_per_s=steady_rate(found.finished_at),
        crawl_s=found.crawl_s,
        log=str(log),
    )


def run_site(plan: SitePlan, out_dir: Path) -> SiteResult:
    """Serve the site, run every entry ``entry.runs`` times interleaved, stop the server."""
    result = SiteResult(plan)
    if plan.unavailable:
        result.error = plan.unavailable
        return result
    site_dir = out_dir / plan.name
    site_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        with plan.server(site_dir / "server") as seed:
            for round_number in range(1, plan.rounds + 1):
                for entry in plan.entries:
                    if round_number > entry.runs:
                        continue
                    record = _run_entry(plan, entry, seed, round_number, site_dir)
                    result.records.append(record)
                    _progress(record)
    except (OSError, RuntimeError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    result.seconds = time.monotonic() - started
    return result


def _progress(record: RunRecord) -> None:
    """One line per run on stderr, so a long harness shows it is alive."""
    measurement = record.measurement
    status = "ok" if record.ok else record.failure()
    print(
        f"  {record.site:<14} r{record.round} {record.label:<34} {measurement.wall_s:7.2f} s "
        f"{len(record.pages):>7} pages  cpu {measurement.cpu_s:6.2f} s  "
        f"rss {measurement.max_rss_mb:6.1f} MB  {status}",
        file=sys.stderr,
        flush=True,
    )
