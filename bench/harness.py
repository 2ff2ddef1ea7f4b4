"""Crawl one site with every entry of its plan, round by round, and keep each run's record.

Within a round every entry runs once, in the same order, so slow drifts of the machine (heat,
other load) touch all contenders alike. Each run writes into a fresh work folder on tmpfs
(``/dev/shm`` where there is one), deleted once its output is read. A run that overruns its
limit is killed and recorded as a failure; a time-boxed run (the broad site) is stopped by
SIGINT and counts with what it fetched; a server that will not start fails the site, not the
harness; a contender whose program is not installed is left out with the reason.
"""

from __future__ import annotations

import re
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import tools
from contenders import Found, Job
from measure import run_measured
from plan import Entry, SitePlan
from politeness import audit, ideal_pages, read_lag, read_log
from results import RunRecord, Summary, summarise
from sites import Served
from steady import steady_rate

__all__ = ["SiteResult", "run_site", "work_root"]

# The broad server flushes its arrival log every quarter second.
_LOG_SETTLE = 0.6
_INTERRUPTED = 130


@dataclass(slots=True)
class SiteResult:
    """Everything one site produced; ``error`` says why it produced nothing, if it did not,
    and ``left_out`` which entries could not run here, and why."""

    plan: SitePlan
    records: list[RunRecord] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    left_out: dict[str, str] = field(default_factory=dict)

    def summaries(self) -> list[Summary]:
        """One summary per entry that ran at least once, in plan order."""
        by_label: dict[str, list[RunRecord]] = {}
        for record in self.records:
            by_label.setdefault(record.label, []).append(record)
        return [summarise(by_label[e.label]) for e in self.plan.entries if e.label in by_label]


def work_root() -> Path:
    """Where runs write: tmpfs when the machine has it, so no crawler waits on a disk."""
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and shm.stat().st_mode & 0o002 else Path(tempfile.gettempdir())


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


def _run_entry(
    plan: SitePlan,
    entry: Entry,
    served: Served,
    round_number: int,
    site_dir: Path,
    work: Path,
) -> RunRecord:
    """One measured run in a fresh work folder, which is deleted once its output is read."""
    log = site_dir / f"{_slug(entry.label)}-r{round_number}.log"
    workdir = work / f"{_slug(entry.label)}-r{round_number}"
    workdir.mkdir(parents=True)
    job = Job(served.seed, plan.max_pages, served.seeds_file, plan.polite)
    job = job.capped(entry.max_pages)
    arrivals_from = served.arrivals.stat().st_size if served.arrivals else 0
    started_at = time.time()
    try:
        command = entry.contender.command(job, entry.workers, workdir)
        measurement = run_measured(
            command, timeout=plan.timeout, log=log, cwd=workdir, stop_after=plan.stop_after
        )
        try:
            found = entry.contender.found(job, workdir, log)
        except (OSError, ValueError) as exc:
            with log.open("a") as note:
                note.write(f"\n[bench] could not read the output: {exc}\n")
            found = Found(set())
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    politeness = ideal = window = in_window = lag = None
    if plan.stop_after is not None:
        # A time-boxed run counts the pages it finished in its window, not in its shutdown.
        window = min(plan.stop_after, measurement.wall_s)
        in_window = sum(1 for t in found.finished_at if t <= started_at + window)
    if served.arrivals and plan.polite and plan.broad:
        time.sleep(_LOG_SETTLE)
        arrivals = read_log(served.arrivals, arrivals_from)
        politeness = audit(arrivals, plan.polite.rate, plan.polite.per_host)
        lag = read_lag(served.arrivals, arrivals_from)
        ideal = ideal_pages(plan.broad.sizes, plan.polite.rate, window or measurement.wall_s)
    accepted = entry.contender.ok_returncodes
    # Stopped by SIGINT: an exit code saying so (130) or death by the signal itself.
    accepted += (_INTERRUPTED, -signal.SIGINT) if measurement.stopped else ()
    return RunRecord(
        site=plan.name,
        label=entry.label,
        contender=entry.contender.name,
        workers=entry.workers,
        max_pages=entry.max_pages,
        round=round_number,
        measurement=measurement,
        completed=not measurement.timed_out and measurement.returncode in accepted,
        pages=found.pages,
        requests=found.requests,
        steady_pages_per_s=steady_rate(found.finished_at),
        crawl_s=found.crawl_s,
        log=str(log),
        politeness=politeness,
        ideal_pages=ideal,
        window_s=window,
        pages_in_window=in_window,
        server_lag_s=lag,
    )


def run_site(plan: SitePlan, out_dir: Path) -> SiteResult:
    """Serve the site, run every entry ``entry.runs`` times interleaved, stop the server."""
    result = SiteResult(plan)
    if plan.unavailable:
        result.error = plan.unavailable
        return result
    entries = []
    for entry in plan.entries:
        reason = tools.missing(entry.contender.tool)
        if reason is None:
            entries.append(entry)
        else:
            result.left_out[entry.label] = reason
            print(f"  {entry.label}: left out, {reason}", file=sys.stderr)
    site_dir = out_dir / plan.name
    site_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="spindle-bench-", dir=work_root()) as work,
            plan.server(site_dir / "server") as served,
        ):
            for round_number in range(1, plan.rounds + 1):
                for entry in entries:
                    if round_number > entry.runs:
                        continue
                    record = _run_entry(plan, entry, served, round_number, site_dir, Path(work))
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
    status += ", stopped by SIGINT" if measurement.stopped else ""
    polite = f"  violations {record.politeness.describe()}" if record.politeness else ""
    print(
        f"  {record.site:<14} r{record.round} {record.label:<34} {measurement.wall_s:7.2f} s "
        f"{len(record.pages):>7} pages  cpu {measurement.cpu_s:6.2f} s  "
        f"rss {measurement.max_rss_mb:6.1f} MB  {status}{polite}",
        file=sys.stderr,
        flush=True,
    )
