"""The core is sans-I/O, enforced three ways: what its modules import, what importing it loads,
and a whole crawl run with every clock raising."""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from pathlib import Path

import pytest

import spindle.crawl.core
import spindle.sync.backoff
from spindle.crawl.core import CrawlConfig, ErrorKind, TrapLimits
from tests.crawl.core.harness import Harness, failure, page, robots, status

CORE = Path(spindle.crawl.core.__file__).parent
FORBIDDEN = {
    "asyncio",
    "concurrent",
    "multiprocessing",
    "select",
    "selectors",
    "signal",
    "socket",
    "sqlite3",
    "threading",
    "time",
    "aiohttp",
    "urllib3",
    "rich",
    "click",
}
# spindle.sync modules the core may use: pure functions of their arguments, no lock, no clock.
ALLOWED_SYNC = {"spindle.sync.backoff"}
CLOCK_CALLS = {"now", "utcnow", "today", "monotonic", "perf_counter", "time", "time_ns"}
LOCK_NAMES = {"Lock", "RLock", "Condition", "Semaphore", "new_lock", "new_rlock", "new_condition"}


def _imports(path: Path) -> set[str]:
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    return imported


@pytest.mark.parametrize("module", sorted(CORE.glob("*.py")), ids=lambda p: p.name)
def test_core_module_imports_no_io_clock_or_lock(module: Path) -> None:
    imported = _imports(module)
    assert not {name.split(".")[0] for name in imported} & FORBIDDEN
    for name in imported:
        if name.startswith("spindle.") and not name.startswith("spindle.crawl.core"):
            assert name in ALLOWED_SYNC, f"{module.name} imports {name}"
    tree = ast.parse(module.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            assert node.func.attr not in CLOCK_CALLS, f"{module.name} reads a clock"
        if isinstance(node, ast.Name):
            assert node.id not in LOCK_NAMES, f"{module.name} uses {node.id}"


def test_the_sync_modules_the_core_uses_read_no_clock() -> None:
    """The core may not reach a clock through spindle.sync either (TokenBucket.set_rate without
    ``now`` once read time.monotonic from inside the core)."""
    for name in ALLOWED_SYNC:
        path = Path(sys.modules[name].__file__ or "")
        assert not {n.split(".")[0] for n in _imports(path)} & {"time", "threading"}
    assert spindle.sync.backoff.__name__ in ALLOWED_SYNC


def test_importing_the_core_loads_no_engine_store_or_ui() -> None:
    code = "import sys, spindle.crawl.core; print('\\n'.join(sorted(sys.modules)))"
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, check=True, text=True
        ).stdout.split()
    )
    ours = {
        m
        for m in loaded
        if m.startswith("spindle.crawl.") and not m.startswith("spindle.crawl.core")
    }
    assert ours == set()
    assert not loaded & {"rich", "click", "sqlite3", "urllib3", "aiohttp", "orjson", "asyncio"}


def test_a_whole_crawl_runs_with_every_clock_raising(monkeypatch: pytest.MonkeyPatch) -> None:
    """Robots (with Crawl-delay), rate limits, 429 with an HTTP-date Retry-After, 503 pauses,
    retries, redirects and trap guards: none of them may read the real clock."""

    def no_clock(*args: object) -> float:
        raise AssertionError("the core read the clock")

    for name in ("time", "monotonic", "perf_counter", "time_ns", "monotonic_ns", "perf_counter_ns"):
        monkeypatch.setattr(time, name, no_clock)
    a = "http://a.test"
    site = {
        f"{a}/robots.txt": [robots("User-agent: *\nCrawl-delay: 0.7\nDisallow: /no\n")],
        f"{a}/": [page("/x", "/moved", "/no", "/cal?m=1", "/cal?m=2", "/gone", "/busy")],
        f"{a}/x": [status(503), page("/y")],
        f"{a}/busy": [status(429, retry_after="Wed, 21 Oct 2015 07:28:00 GMT"), page()],
        f"{a}/moved": [status(301, location="/y")],
        f"{a}/gone": [failure(ErrorKind.TIMEOUT), failure(ErrorKind.TIMEOUT)],
        f"{a}/y": [page()],
    }
    config = CrawlConfig(
        seeds=(f"{a}/",), rate=5.0, retries=1, traps=TrapLimits(max_query_variants=1)
    )
    h = Harness(config, site).run()
    assert sorted(r.url for r in h.records) == sorted(
        f"{a}{p}" for p in ("/", "/x", "/busy", "/moved", "/gone", "/y", "/cal?m=1")
    )
    gaps = [later - earlier for earlier, later in zip(h.times(), h.times()[1:], strict=False)]
    assert min(gaps) >= 0.7 - 1e-9
