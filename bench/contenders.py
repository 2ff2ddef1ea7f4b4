"""The crawlers being compared: how to start each one and how to read back what it found.

Every contender gets the same seed, the same concurrency and no politeness limits, fetches
every reachable page of the seed's host once, and leaves its output in its own work folder.
``found`` turns that output into the set of HTML pages fetched with status 200 (normalised) and,
where the crawler reports them, its request count and its own timing of the crawl.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from pagesets import normalise

__all__ = [
    "Contender",
    "Found",
    "NaiveCrawler",
    "Scrapy",
    "Spindle",
    "Wget",
    "tool_versions",
]

BIN = Path(sys.executable).parent
PEERS = Path(__file__).resolve().parent / "peers"


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
    def ok_returncodes(self) -> tuple[int, ...]:
        """Exit codes of a run that completed."""
        ...

    @property
    def fixed_workers(self) -> int | None:
        """The concurrency the crawler always uses, when it has no option for it."""
        ...

    def command(self, seed: str, workers: int, workdir: Path) -> list[str]:
        """The command that crawls from ``seed`` with ``workers``, writing into ``workdir``."""
        ...

    def found(self, workdir: Path, log: Path) -> Found:
        """What the finished (or killed) run left behind; ``log`` has its stdout and stderr."""
        ...


@dataclass(frozen=True, slots=True)
class Spindle:
    """``spindle crawl`` with one engine, optionally capped at ``max_pages``.

    ``source`` runs another checkout's ``src`` folder (``python -m spindle`` with it first on
    ``PYTHONPATH``) instead of the installed Spindle, for side-by-side runs of two versions;
    ``tag`` then tells them apart. ``extra`` are more options for ``spindle crawl``.
    """

    engine: str
    max_pages: int | None = None
    ok_returncodes: tuple[int, ...] = (0,)
    fixed_workers: int | None = None
    source: Path | None = None
    tag: str = ""
    extra: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """e.g. ``spindle-async``, or ``spindle-async (baseline)`` with a tag."""
        return f"spindle-{self.engine}" + (f" ({self.tag})" if self.tag else "")

    def program(self) -> list[str]:
        """How to start this Spindle."""
        if self.source is None:
            return [str(BIN / "spindle")]
        return ["env", f"PYTHONPATH={self.source}", sys.executable, "-m", "spindle"]

    def command(self, seed: str, workers: int, workdir: Path) -> list[str]:
        """Unlimited depth and rate, robots.txt ignored, per-host limit = workers."""
        command = [
            *self.program(),
            "crawl",
            seed,
            "--engine",
            self.engine,
            "--depth",
            "1000",
            "--rate",
            "0",
            "--workers",
            str(workers),
            "--host-concurrency",
            str(workers),
            "--ignore-robots",
            "--quiet",
            "--summary-json",
            "--out",
            str(workdir / "pages.jsonl"),
        ]
        if self.max_pages is not None:
            command += ["--max-pages", str(self.max_pages)]
        return command + list(self.extra)

    def found(self, workdir: Path, log: Path) -> Found:
        """Every record is a request; the pages are the 200s with an HTML content type.

        The summary that ``--summary-json`` prints on stderr gives the crawl's own duration.
        """
        pages, requests, finished_at = set(), 0, []
        for record in _json_lines(workdir / "pages.jsonl"):
            requests += 1
            if record.get("status") == 200 and "html" in str(record.get("content_type")):
                pages.add(normalise(str(record["url"])))
                started = datetime.fromisoformat(str(record["fetched_at"])).timestamp()
                finished_at.append(started + float(record["elapsed_ms"]) / 1000)
        summaries = [line for line in _json_lines(log) if "elapsed_s" in line]
        crawl_s = float(summaries[-1]["elapsed_s"]) if summaries else None
        return Found(pages, requests, crawl_s, finished_at)


@dataclass(frozen=True, slots=True)
class Scrapy:
    """``scrapy runspider`` on ``peers/scrapy_spider.py``."""

    name: str = "scrapy"
    ok_returncodes: tuple[int, ...] = (0,)
    fixed_workers: int | None = None

    def command(self, seed: str, workers: int, workdir: Path) -> list[str]:
        """Global and per-domain concurrency = workers; a JSON Lines feed of page URLs."""
        return [
            str(BIN / "scrapy"),
            "runspider",
            str(PEERS / "scrapy_spider.py"),
            "-a",
            f"start_url={seed}",
            "-a",
            f"stats={workdir / 'stats.json'}",
            "-s",
            f"CONCURRENT_REQUESTS={workers}",
            "-s",
            f"CONCURRENT_REQUESTS_PER_DOMAIN={workers}",
            "-O",
            str(workdir / "pages.jsonl"),
        ]

    def found(self, workdir: Path, log: Path) -> Found:
        """Items are the pages; Scrapy's stats give the request count and the crawl's duration."""
        items = _json_lines(workdir / "pages.jsonl")
        pages = {normalise(str(item["url"])) for item in items}
        finished_at = [float(item["t"]) for item in items if "t" in item]
        stats_file = workdir / "stats.json"
        if not stats_file.is_file():
            return Found(pages, finished_at=finished_at)
        stats = json.loads(stats_file.read_text())
        return Found(
            pages,
            stats.get("downloader/request_count"),
            stats.get("elapsed_time_seconds"),
            finished_at,
        )


@dataclass(frozen=True, slots=True)
class Wget:
    """``wget -r`` over one connection; it saves pages to disk, which are then counted."""

    name: str = "wget"
    # 8: the server answered some request with an error (the docs link to one missing page).
    ok_returncodes: tuple[int, ...] = (0, 8)
    fixed_workers: int | None = 1

    def command(self, seed: str, workers: int, workdir: Path) -> list[str]:
        """wget has no concurrency option: ``workers`` does not apply."""
        return [
            "wget",
            "-r",
            "-np",
            "-l",
            "inf",
            "-e",
            "robots=off",
            "-nv",
            "-P",
            str(workdir / "site"),
            seed,
        ]

    def found(self, workdir: Path, log: Path) -> Found:
        """Saved ``*.html`` files mapped back to URLs; the log's last line counts requests."""
        site = workdir / "site"
        pages = set()
        for host_dir in site.iterdir() if site.is_dir() else ():
            for path in host_dir.rglob("*.html"):
                pages.add(normalise(f"http://{host_dir.name}/{path.relative_to(host_dir)}"))
        match = re.search(rb"Downloaded: (\d+) files", log.read_bytes())
        return Found(pages, int(match.group(1)) if match else None)


@dataclass(frozen=True, slots=True)
class NaiveCrawler:
    """``peers/naive_crawler.py``: ThreadPoolExecutor + requests + html.parser."""

    name: str = "naive-threads"
    ok_returncodes: tuple[int, ...] = (0,)
    fixed_workers: int | None = None

    def command(self, seed: str, workers: int, workdir: Path) -> list[str]:
        """One thread per worker."""
        return [
            sys.executable,
            str(PEERS / "naive_crawler.py"),
            seed,
            "--workers",
            str(workers),
            "--out",
            str(workdir / "pages.txt"),
        ]

    def found(self, workdir: Path, log: Path) -> Found:
        """One "epoch-seconds URL" line per page; the last stderr line counts requests."""
        out = workdir / "pages.txt"
        rows = (
            [line.split(" ", 1) for line in out.read_text().splitlines()] if out.is_file() else []
        )
        match = re.search(rb"requests: (\d+)", log.read_bytes())
        requests = int(match.group(1)) if match else None
        pages = {normalise(row[1]) for row in rows if len(row) == 2}
        finished_at = [float(row[0]) for row in rows if len(row) == 2]
        return Found(pages, requests, finished_at=finished_at)


def _json_lines(path: Path) -> list[dict[str, Any]]:
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


def tool_versions() -> dict[str, str]:
    """Versions of the peers and the server, for the report's header."""
    versions = {}
    probes = {
        "scrapy": [str(BIN / "scrapy"), "version"],
        "wget": ["wget", "--version"],
        "nginx": ["nginx", "-v"],
    }
    for tool, command in probes.items():
        if shutil.which(command[0]) is None:
            versions[tool] = "not installed"
            continue
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
        text = (done.stdout + done.stderr).strip().splitlines()
        versions[tool] = text[0] if text else f"exit {done.returncode}"
    return versions
