"""The crawlers being compared: how to start each one and how to read back what it found.

Every contender gets the same :class:`Job`: the same seeds, the same concurrency, the same page
cap (a bound a little above the site's size, or a cap the row states). A job without
politeness fetches every reachable page of the seed's host once, with no rate limit and
robots.txt ignored; a :class:`Polite` job (the broad site) starts from every host's home page,
may go to any host, obeys robots.txt and asks each host at most ``rate`` times a second over at
most ``per_host`` connections, as far as the crawler can be told to. Each run writes into its
own work folder (on tmpfs); ``found`` turns that output into the set of HTML pages fetched with
status 200 (normalised) and, where the crawler reports them, its request count and its own
timing of the crawl. The peers from outside this project are in :mod:`peers`.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import tools
from pagesets import normalise

__all__ = [
    "Contender",
    "Found",
    "Job",
    "Polite",
    "Spindle",
    "json_lines",
    "spindle_version",
]


@dataclass(frozen=True, slots=True)
class Polite:
    """A polite broad crawl: per host, ``rate`` requests a second and ``per_host`` at once."""

    rate: float = 2.0
    per_host: int = 2

    @property
    def delay(self) -> float:
        """Seconds between two requests to one host."""
        return 1 / self.rate


@dataclass(frozen=True, slots=True)
class Job:
    """One crawl, as every contender on a site is asked to do it.

    ``seed`` is the start URL; a broad job also has ``seeds_file`` (every host's home page, one
    a line) and ``polite``. ``max_pages`` bounds every run.
    """

    seed: str
    max_pages: int
    seeds_file: Path | None = None
    polite: Polite | None = None

    def capped(self, max_pages: int | None) -> Job:
        """This job with a lower page cap, when one is given."""
        return self if max_pages is None else replace(self, max_pages=max_pages)


@dataclass(frozen=True, slots=True)
class Found:
    """What one run fetched, as far as its output tells.

    ``pages`` are the normalised URLs of HTML pages fetched with status 200. ``requests`` and
    ``crawl_s`` (the crawler's own timing of its crawl, without interpreter start-up) are None
    when the crawler does not report them. ``finished_at`` holds each page's completion time
    (epoch seconds) where the output records it, for the steady-state rate.
    """

    pages: set[str]
    requests: int | None = None
    crawl_s: float | None = None
    finished_at: list[float] = field(default_factory=list)


class Contender(Protocol):
    """A crawler the harness can run: a command line, then a reading of its output."""

    @property
    def name(self) -> str:
        """The label in tables and charts."""
        ...

    @property
    def tool(self) -> str:
        """The key :func:`tools.missing` knows it by."""
        ...

    @property
    def ok_returncodes(self) -> tuple[int, ...]:
        """Exit codes of a run that completed."""
        ...

    @property
    def fixed_workers(self) -> int | None:
        """The concurrency the crawler always uses, when it has no option for it."""
        ...

    def command(self, job: Job, workers: int, workdir: Path) -> list[str]:
        """The command that does ``job`` with ``workers``, writing into ``workdir``."""
        ...

    def found(self, job: Job, workdir: Path, log: Path) -> Found:
        """What the finished (or stopped) run left behind; ``log`` has its stdout and stderr."""
        ...


@dataclass(frozen=True, slots=True)
class Spindle:
    """``spindle crawl`` with one engine, from the project's venv, keeping no state.

    ``source`` runs another checkout's ``src`` folder (``python -m spindle`` with it first on
    ``PYTHONPATH``) instead of the installed Spindle, for side-by-side runs of two versions;
    ``tag`` then tells them apart. ``extra`` are more options for ``spindle crawl``;
    ``keep_state`` writes the SQLite state beside the output, as a user's crawl does.
    """

    engine: str
    ok_returncodes: tuple[int, ...] = (0,)
    fixed_workers: int | None = None
    tool: str = "spindle"
    source: Path | None = None
    tag: str = ""
    extra: tuple[str, ...] = ()
    keep_state: bool = False

    @property
    def name(self) -> str:
        """e.g. ``spindle-async``, or ``spindle-async (baseline)`` with a tag."""
        return f"spindle-{self.engine}" + (f" ({self.tag})" if self.tag else "")

    def program(self) -> list[str]:
        """How to start this Spindle."""
        if self.source is None:
            return [str(tools.SPINDLE)]
        return ["env", f"PYTHONPATH={self.source}", str(tools.SPINDLE_PYTHON), "-m", "spindle"]

    def command(self, job: Job, workers: int, workdir: Path) -> list[str]:
        """Unlimited depth; unlimited rate, robots.txt ignored and per-host limit = workers
        unless the job is polite. A fresh ``--out`` per run and, unless ``keep_state``,
        ``--no-state``: no SQLite state is written, none is resumed."""
        command = [*self.program(), "crawl"]
        if job.seeds_file is None:
            command.append(job.seed)
        else:
            command += ["--seeds-file", str(job.seeds_file)]
        command += ["--engine", self.engine, "--depth", "1000"]
        if job.polite is None:
            command += ["--rate", "0", "--workers", str(workers)]
            command += ["--host-concurrency", str(workers), "--ignore-robots"]
        else:
            command += ["--rate", f"{job.polite.rate:g}", "--workers", str(workers)]
            command += ["--host-concurrency", str(job.polite.per_host), "--scope", "any"]
        command += ["--max-pages", str(job.max_pages), "--quiet", "--summary-json"]
        if not self.keep_state:
            command.append("--no-state")
        return [*command, *self.extra, "--out", str(workdir / "pages.jsonl")]

    def found(self, job: Job, workdir: Path, log: Path) -> Found:
        """Every record is a request; the pages are the 200s with an HTML content type.

        The summary that ``--summary-json`` prints on stderr gives the crawl's own duration.
        """
        pages, requests, finished_at = set(), 0, []
        for record in json_lines(workdir / "pages.jsonl"):
            requests += 1
            if record.get("status") == 200 and "html" in str(record.get("content_type")):
                pages.add(normalise(str(record["url"])))
                started = datetime.fromisoformat(str(record["fetched_at"])).timestamp()
                finished_at.append(started + float(record["elapsed_ms"]) / 1000)
        summaries = [line for line in json_lines(log) if "elapsed_s" in line]
        crawl_s = float(summaries[-1]["elapsed_s"]) if summaries else None
        return Found(pages, requests, crawl_s, finished_at)


def json_lines(path: Path) -> list[dict[str, Any]]:
    """The JSON objects among the lines of ``path`` (a killed run may leave a torn last line)."""
    if not path.is_file():
        return []
    records = []
    for line in path.read_bytes().splitlines():
        if not line.startswith(b"{"):
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


def spindle_version() -> str:
    """``spindle --version`` from the project's venv, or why it could not be read."""
    if not tools.SPINDLE_PYTHON.is_file():
        return "not installed"
    done = subprocess.run(
        [str(tools.SPINDLE_PYTHON), "-c", "import spindle; print(spindle.__version__)"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.stdout.strip() or f"exit {done.returncode}"
