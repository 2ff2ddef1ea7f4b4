"""What one run of a crawl amounts to, and the exit code that says it.

=====  ===================================================================================
code   meaning
=====  ===================================================================================
0      the crawl finished (or reached ``--max-pages`` or ``--max-time``) and at least one
       URL got an HTTP answer, in this run or an earlier one of the same crawl
1      nothing could be fetched: no URL got an HTTP answer (nothing listening, DNS or TLS
       failure, robots.txt unreachable, every seed refused); each seed's record says why
2      bad usage: an option, a seed or a file was unusable; nothing was touched
3      the output or the state could not be written (a full disk, a closed pipe); what was
       committed is kept, and the same command resumes when there is state
4      an internal error stopped the crawl; what was committed is kept
130    interrupted (Ctrl-C); with state, the same command resumes
=====  ===================================================================================
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spindle.crawl.core.values import CrawlStats

__all__ = ["CrawlSummary", "ExitCode", "RunFailure"]


class ExitCode(enum.IntEnum):
    """The exit codes of ``spindle crawl`` (the table in the module docstring)."""

    OK = 0
    NOTHING_FETCHED = 1
    USAGE = 2
    OUTPUT_FAILED = 3
    INTERNAL_ERROR = 4
    INTERRUPTED = 130


@dataclass(frozen=True, slots=True)
class RunFailure:
    """Why a run stopped before its end: its output failed, or an invariant broke."""

    class Kind(enum.Enum):
        OUTPUT = "output"
        INTERNAL = "internal"

    kind: Kind
    message: str


@dataclass(frozen=True, slots=True)
class CrawlSummary:
    """The outcome of one run of a crawl. ``outputs`` names the other files it wrote, as
    (what, where) pairs: skips, report, WARC, page store, log."""

    stats: CrawlStats
    elapsed: float
    interrupted: bool
    resumed_pages: int
    queued: int
    resumed_fetched: int = 0
    timed_out: bool = False
    failure: RunFailure | None = None
    out: str | None = None
    state: Path | None = None
    outputs: tuple[tuple[str, str], ...] = ()

    @property
    def pages_per_second(self) -> float:
        """Records finished by this run per second of wall time."""
        return self.stats.pages / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def exit_code(self) -> ExitCode:
        """The exit code for this outcome (the table in the module docstring)."""
        if self.failure is not None:
            if self.failure.kind is RunFailure.Kind.OUTPUT:
                return ExitCode.OUTPUT_FAILED
            return ExitCode.INTERNAL_ERROR
        if self.interrupted:
            return ExitCode.INTERRUPTED
        if self.stats.fetched + self.resumed_fetched == 0:
            return ExitCode.NOTHING_FETCHED
        return ExitCode.OK

    @property
    def state_text(self) -> str:
        """One phrase for how the run ended, saying whether it can be resumed."""
        resumable = self.state is not None
        if self.failure is not None:
            again = "the same command resumes" if resumable else "no state was kept"
            return f"stopped: {self.failure.message} ({again})"
        if self.interrupted:
            if resumable:
                return "interrupted (run the same command to resume)"
            return "interrupted (no state was kept: a rerun starts again)"
        if self.timed_out:
            again = "the same command resumes" if resumable else "no state was kept"
            return f"stopped at the time limit, {self.queued} URLs still queued ({again})"
        if self.queued:
            return f"stopped at the page limit, {self.queued} URLs still queued"
        if self.stats.fetched + self.resumed_fetched == 0:
            return "nothing could be fetched"
        return "complete"

    def to_json(self) -> dict[str, Any]:
        """The summary as plain JSON-ready data."""
        stats = self.stats
        return {
            "state": self.state_text,
            "exit_code": int(self.exit_code),
            "pages": stats.pages,
            "fetched": stats.fetched,
            "bytes": stats.bytes,
            "elapsed_s": round(self.elapsed, 3),
            "pages_per_s": round(self.pages_per_second, 1),
            "statuses": {str(k): v for k, v in sorted(stats.statuses.items())},
            "errors": _named(stats.errors),
            "skipped": _named(stats.skipped),
            "traps": _named(stats.traps),
            "capped_crawl_delays": dict(sorted(stats.capped_crawl_delays.items())),
            "retries": stats.retries,
            "robots_fetches": stats.robots_fetches,
            "resumed_pages": self.resumed_pages,
            "queued": self.queued,
            "interrupted": self.interrupted,
            "timed_out": self.timed_out,
            "out": self.out,
            "state_file": str(self.state) if self.state else None,
            "outputs": dict(self.outputs),
        }


def _named(counts: dict[Any, int]) -> dict[str, int]:
    return dict(sorted((key.value, value) for key, value in counts.items()))
