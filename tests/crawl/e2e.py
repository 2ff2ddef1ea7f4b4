"""Helpers for end-to-end crawler tests: run a crawl in-process or as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console

from spindle.crawl.core import CrawlConfig
from spindle.crawl.runner import RunOptions, run_crawl
from spindle.crawl.summary import CrawlSummary


@dataclass
class CrawlResult:
    summary: CrawlSummary
    records: list[dict[str, Any]]

    def urls(self) -> set[str]:
        return {r["url"] for r in self.records}

    def by_url(self, url: str) -> dict[str, Any]:
        (found,) = [r for r in self.records if r["url"] == url]
        return found


def crawl(
    engine: str,
    tmp_path: Path,
    *seeds: str,
    workers: int = 4,
    options: dict[str, Any] | None = None,
    **settings: Any,
) -> CrawlResult:
    """Crawl in this process; ``settings`` go to the CrawlConfig, ``options`` to RunOptions."""
    settings.setdefault("rate", 0.0)
    settings.setdefault("timeout", 5.0)
    settings.setdefault("backoff_base", 0.05)
    config = CrawlConfig(seeds=seeds, **settings)
    out = tmp_path / "out.jsonl"
    run = RunOptions(
        out=str(out), workers=workers, engine=engine, overwrite=True, **(options or {})
    )
    summary = run_crawl(config, run, Console(quiet=True, stderr=True))
    return CrawlResult(summary, read_jsonl(out))


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


# The crawl reads these; tests talk to 127.0.0.1 only, whatever the machine's settings.
_MACHINE_SETTINGS = frozenset(
    {
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "no_proxy",
        "NO_PROXY",
        "REQUEST_METHOD",
        "SSL_CERT_FILE",
    }
)


def child_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without the proxy and CA variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in _MACHINE_SETTINGS}
    return {**env, "PYTHONUNBUFFERED": "1", **(extra or {})}


def spindle(*args: str, **kwargs: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "spindle", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_environment(),
        **kwargs,
    )


def run_spindle(
    *args: str, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "spindle", *args],
        capture_output=True,
        timeout=timeout,
        check=False,
        env=child_environment(env),
    )
