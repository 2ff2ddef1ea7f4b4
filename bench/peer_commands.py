"""The peers Spindle is compared with: each one's command for a :class:`~contenders.Job`, and how
to read what it found. Their scripts are in ``bench/peers/``; where each program lives is
:mod:`tools`' business.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import tools
from contenders import Found, Job, json_lines
from pagesets import normalise

__all__ = [
    "CrawleeNode",
    "CrawleePython",
    "NaiveCrawler",
    "Scrapy",
    "Wget",
    "Wget2",
    "tool_versions",
]

PEERS = tools.BENCH / "peers"


@dataclass(frozen=True, slots=True)
class Scrapy:
    """``scrapy runspider`` on ``peers/scrapy_spider.py``, from the bench venv."""

    name: str = "scrapy"
    ok_returncodes: tuple[int, ...] = (0,)
    fixed_workers: int | None = None
    tool: str = "scrapy"

    def command(self, job: Job, workers: int, workdir: Path) -> list[str]:
        """Global concurrency = workers, closed after ``max_pages`` responses; per-domain
        concurrency = workers, or for a polite job Scrapy's broad-crawl settings: a fixed
        per-domain delay (no jitter), robots.txt obeyed, the downloader-aware queue."""
        command = [str(tools.scrapy()), "runspider", str(PEERS / "scrapy_spider.py")]
        if job.seeds_file is None:
            command += ["-a", f"start_url={job.seed}"]
        else:
            command += ["-a", f"seeds_file={job.seeds_file}"]
        command += ["-a", f"stats={workdir / 'stats.json'}"]
        settings = {"CONCURRENT_REQUESTS": workers, "CLOSESPIDER_PAGECOUNT": job.max_pages}
        if job.polite is None:
            settings["CONCURRENT_REQUESTS_PER_DOMAIN"] = workers
        else:
            settings |= {
                "CONCURRENT_REQUESTS_PER_DOMAIN": job.polite.per_host,
                "DOWNLOAD_DELAY": job.polite.delay,
                "DOWNLOAD_DELAY_JITTER": 0,
                "ROBOTSTXT_OBEY": True,
                "SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.DownloaderAwarePriorityQueue",
            }
        for key, value in settings.items():
            command += ["-s", f"{key}={value}"]
        return [*command, "-O", str(workdir / "pages.jsonl")]

    def found(self, job: Job, workdir: Path, log: Path) -> Found:
        """Items are the pages; Scrapy's stats give the request count and the crawl's duration."""
        items = json_lines(workdir / "pages.jsonl")
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


def _saved_pages(site: Path, seed: str, *, with_port: bool) -> tuple[set[str], list[float]]:
    """Saved ``*.html`` files mapped back to URLs, with their modification times.

    wget names a host's folder ``HOST:PORT``; wget2 names it ``HOST`` (every host of a site
    here shares the seed's port).
    """
    port = urlsplit(seed).port
    pages, finished_at = set(), []
    for host_dir in site.iterdir() if site.is_dir() else ():
        netloc = host_dir.name if with_port or port is None else f"{host_dir.name}:{port}"
        for path in host_dir.rglob("*.html"):
            pages.add(normalise(f"http://{netloc}/{path.relative_to(host_dir)}"))
            finished_at.append(path.stat().st_mtime)
    return pages, finished_at


@dataclass(frozen=True, slots=True)
class Wget:
    """GNU ``wget -r`` 1.x over one connection; it saves pages to disk, which are then counted."""

    name: str = "wget"
    # 8: the server answered some request with an error (the docs link to one missing page).
    ok_returncodes: tuple[int, ...] = (0, 8)
    fixed_workers: int | None = 1
    tool: str = "wget"

    def command(self, job: Job, workers: int, workdir: Path) -> list[str]:
        """wget has no concurrency option and no page cap: neither applies."""
        command = ["wget", "-r", "-np", "-l", "inf", "-e", "robots=off", "-nv"]
        return [*command, "-P", str(workdir / "site"), job.seed]

    def found(self, job: Job, workdir: Path, log: Path) -> Found:
        """Saved ``*.html`` files mapped back to URLs; the log's last line counts requests."""
        pages, _ = _saved_pages(workdir / "site", job.seed, with_port=True)
        match = re.search(rb"Downloaded: (\d+) files", log.read_bytes())
        return Found(pages, int(match.group(1)) if match else None)


@dataclass(frozen=True, slots=True)
class Wget2:
    """GNU ``wget2 -r`` with ``--max-threads``, saving pages to the work folder (tmpfs)."""

    name: str = "wget2"
    ok_returncodes: tuple[int, ...] = (0, 8)
    fixed_workers: int | None = None
    tool: str = "wget2"

    def command(self, job: Job, workers: int, workdir: Path) -> list[str]:
        """``workers`` threads. wget2 has no page cap, and no per-host rate: for a polite job
        the closest it has is ``--wait`` (a pause after each download, per thread)."""
        command = [tools.wget2(), "-r", "-l", "inf", f"--max-threads={workers}"]
        if job.polite is None:
            command += ["-np", "--robots=off", job.seed]
        else:
            command += ["--span-hosts", "--robots=on", f"--wait={job.polite.delay:g}"]
            command += ["-i", str(job.seeds_file)]
        # File times are the moments each download finished: the steady rate reads them.
        command += ["--no-use-server-timestamps", "-nv", "-P", str(workdir / "site")]
        return [*command, f"--stats-site=csv:{workdir / 'stats.csv'}"]

    def found(self, job: Job, workdir: Path, log: Path) -> Found:
        """Saved ``*.html`` files mapped back to URLs; the site statistics count requests."""
        pages, finished_at = _saved_pages(workdir / "site", job.seed, with_port=False)
        stats = workdir / "stats.csv"
        requests = None
        if stats.is_file():
            requests = max(0, len(stats.read_text(errors="replace").splitlines()) - 1)
        return Found(pages, requests, finished_at=finished_at)


@dataclass(frozen=True, slots=True)
class NaiveCrawler:
    """``peers/naive_crawler.py``: ThreadPoolExecutor + requests + html.parser (bench venv)."""

    name: str = "naive-threads"
    ok_returncodes: tuple[int, ...] = (0,)
    fixed_workers: int | None = None
    tool: str = "naive"

    def command(self, job: Job, workers: int, workdir: Path) -> list[str]:
        """One thread per worker; it has no politeness at all."""
        command = [str(tools.BENCH_PYTHON), str(PEERS / "naive_crawler.py"), job.seed]
        command += ["--workers", str(workers), "--max-pages", str(job.max_pages)]
        return [*command, "--out", str(workdir / "pages.txt")]

    def found(self, job: Job, workdir: Path, log: Path) -> Found:
        """One "epoch-seconds URL" line per page; the last stderr line counts requests."""
        pages, finished_at = _timed_urls(workdir / "pages.txt")
        match = re.search(rb"requests: (\d+)", log.read_bytes())
        return Found(pages, int(match.group(1)) if match else None, finished_at=finished_at)


def _timed_urls(path: Path) -> tuple[set[str], list[float]]:
    """The pages of an "epoch-seconds URL" file, and their times."""
    rows = [line.split(" ", 1) for line in path.read_text().splitlines()] if path.is_file() else []
    rows = [row for row in rows if len(row) == 2]
    return {normalise(row[1]) for row in rows}, [float(row[0]) for row in rows]


def _crawlee_found(workdir: Path, log: Path) -> Found:
    """The page file both Crawlee scripts write, and the statistics they print at the end."""
    pages, finished_at = _timed_urls(workdir / "pages.txt")
    summaries = [line["crawlee"] for line in json_lines(log) if "crawlee" in line]
    if not summaries:
        return Found(pages, finished_at=finished_at)
    summary = summaries[-1]
    return Found(
        pages, summary.get("requests_total"), summary.get("crawler_runtime_s"), finished_at
    )


def _crawlee_options(job: Job, workers: int, workdir: Path) -> list[str]:
    """The options both Crawlee scripts share.

    A polite job gets Crawlee's per-host pacing but not ``--robots``: with robots.txt obeyed,
    neither Crawlee fetched a single page within 30 s from the broad site's 1,000 hosts (both
    did from 5; Python from 200, slowly), and robots.txt allows everything there anyway.
    """
    options = [job.seed] if job.seeds_file is None else ["--seeds-file", str(job.seeds_file)]
    options += ["--workers", str(workers), "--max-requests", str(job.max_pages)]
    options += ["--storage", str(workdir / "storage"), "--out", str(workdir / "pages.txt")]
    if job.polite is not None:
        options += ["--polite-delay", f"{job.polite.delay:g}"]
    return options


@dataclass(frozen=True, slots=True)
class CrawleePython:
    """``peers/crawlee_python.py``: Crawlee for Python's ParselCrawler, in its own venv."""

    name: str = "crawlee-python"
    ok_returncodes: tuple[int, ...] = (0,)
    fixed_workers: int | None = None
    tool: str = "crawlee-python"

    def command(self, job: Job, workers: int, workdir: Path) -> list[str]:
        """Concurrency pinned at ``workers``; storage in the work folder."""
        script = [str(tools.CRAWLEE_PYTHON), str(PEERS / "crawlee_python.py")]
        return script + _crawlee_options(job, workers, workdir)

    def found(self, job: Job, workdir: Path, log: Path) -> Found:
        """One "epoch-seconds URL" line per page; Crawlee's statistics from stderr."""
        return _crawlee_found(workdir, log)


@dataclass(frozen=True, slots=True)
class CrawleeNode:
    """``peers/crawlee_node/crawl.mjs``: Crawlee for Node's CheerioCrawler."""

    name: str = "crawlee-node"
    ok_returncodes: tuple[int, ...] = (0,)
    fixed_workers: int | None = None
    tool: str = "crawlee-node"

    def command(self, job: Job, workers: int, workdir: Path) -> list[str]:
        """Concurrency pinned at ``workers``; storage in the work folder."""
        script = [tools.node(), str(tools.CRAWLEE_NODE / "crawl.mjs")]
        return script + _crawlee_options(job, workers, workdir)

    def found(self, job: Job, workdir: Path, log: Path) -> Found:
        """One "epoch-seconds URL" line per page; Crawlee's statistics from stderr."""
        return _crawlee_found(workdir, log)


def _version(command: list[str]) -> str:
    if shutil.which(command[0]) is None:
        return "not installed"
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    text = (done.stdout + done.stderr).strip().splitlines()
    return text[0] if text else f"exit {done.returncode}"


def _package_version(python: Path, package: str) -> str:
    if not python.is_file():
        return "not installed"
    code = f"from importlib.metadata import version; print(version({package!r}))"
    return _version([str(python), "-c", code])


def _node_crawlee_version() -> str:
    package = tools.CRAWLEE_NODE / "node_modules" / "crawlee" / "package.json"
    if not package.is_file():
        return "not installed"
    return str(json.loads(package.read_text()).get("version"))


def tool_versions() -> dict[str, str]:
    """Versions of the peers and the servers, for the report's header."""
    return {
        "scrapy": _version([str(tools.scrapy()), "version"]),
        "wget": _version(["wget", "--version"]),
        "wget2": _version([tools.wget2(), "--version"]),
        "crawlee (Python)": _package_version(tools.CRAWLEE_PYTHON, "crawlee"),
        "crawlee (Node)": _node_crawlee_version()
        + f", node {_version([tools.node(), '--version'])}",
        "nginx": _version(["nginx", "-v"]),
    }
