"""The crawl command as a user runs it: real subprocesses, exit codes, kill -9 and resume."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.crawl.e2e import read_jsonl, run_spindle, spindle
from tests.support.faultserver import FaultServer, delayed, page

PAGES = 120


def _numbered_site(server: FaultServer, latency: float) -> None:
    def numbered(request):  # type: ignore[no-untyped-def]
        n = int(request.path.rsplit("/", 1)[1])
        links = [f"/p/{k}" for k in (2 * n + 1, 2 * n + 2) if k < PAGES]
        return delayed(latency, page(*links))(request)

    server.route("/", page("/p/0"))
    server.route_prefix("/p/", numbered)


def _expected(server: FaultServer) -> set[str]:
    return {server.url("/")} | {server.url(f"/p/{n}") for n in range(PAGES)}


@pytest.fixture
def site() -> Iterator[FaultServer]:
    with FaultServer() as server:
        _numbered_site(server, latency=0.0)
        yield server


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ftp://example.com/"], "only http and https"),
        (["not a url"], "only http and https"),
        (["http://127.0.0.1:1/", "--depth", "-1"], "--depth"),
        (["http://127.0.0.1:1/", "--scope", "planet"], "--scope"),
        (["http://127.0.0.1:1/", "--workers", "0"], "--workers"),
        ([], "at least one SEED"),
        (["--seeds-file", "/nonexistent/seeds.txt"], "cannot read"),
    ],
)
def test_bad_usage_exits_2_with_one_line(args: list[str], message: str) -> None:
    result = run_spindle("crawl", *args)
    assert result.returncode == 2
    err = result.stderr.decode()
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_state_file_of_another_crawl_is_refused(tmp_path: Path, site: FaultServer) -> None:
    state = tmp_path / "s.sqlite"
    args = ["--state", str(state), "--quiet", "--rate", "0", "--depth", "0"]
    assert run_spindle("crawl", site.url("/"), *args).returncode == 0
    other = run_spindle("crawl", site.url("/p/0"), *args)
    assert other.returncode == 2
    assert b"holds a different crawl (seeds differ)" in other.stderr
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not sqlite" * 100)
    bad = run_spindle("crawl", site.url("/"), "--state", str(junk), "--quiet")
    assert bad.returncode == 2
    assert b"not a Spindle state file" in bad.stderr


def test_out_dash_prints_only_records_on_stdout(site: FaultServer) -> None:
    result = run_spindle("crawl", site.url("/"), "--rate", "0", "--depth", "3", "--out", "-")
    assert result.returncode == 0
    records = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert {r["url"] for r in records} == {site.url("/")} | {site.url(f"/p/{n}") for n in range(7)}
    assert "Crawl summary" in result.stderr.decode()


def test_seeds_file(tmp_path: Path, site: FaultServer) -> None:
    seeds = tmp_path / "seeds.txt"
    seeds.write_text(f"# a comment\n{site.url('/p/5')}\n\n{site.url('/p/6')}\n")
    out = tmp_path / "out.jsonl"
    args = ["--seeds-file", str(seeds), "--depth", "0", "--out", str(out), "--quiet"]
    assert run_spindle("crawl", *args).returncode == 0
    assert {r["url"] for r in read_jsonl(out)} == {site.url("/p/5"), site.url("/p/6")}


def _wait_for_lines(path: Path, count: int, proc: subprocess.Popen[bytes]) -> None:
    """Block until ``path`` holds ``count`` lines (bounded: the test timeout stops it)."""
    seen = threading.Event()
    while not seen.wait(0.02):
        if path.exists() and path.read_bytes().count(b"\n") >= count:
            return
        assert proc.poll() is None, "the crawl ended before it could be interrupted"


def _assert_exactly_once(out: Path, expected: set[str]) -> None:
    lines = out.read_bytes().splitlines()
    records = [orjson.loads(line) for line in lines]  # every line is valid JSON
    urls = [r["url"] for r in records]
    assert len(urls) == len(set(urls)), "a page was written twice"
    assert set(urls) == expected


def _resumable(server: FaultServer, state: Path, out: Path) -> list[str]:
    """The whole numbered site, 4 workers, no rate limit, with a state file to resume from."""
    crawl = ["crawl", server.url("/"), "--depth", "20", "--rate", "0", "--workers", "4"]
    return [*crawl, "--state", str(state), "--out", str(out)]


@pytest.mark.parametrize(
    ("first", "then", "frontiers"),
    # Each engine killed and each resuming, across engines, both frontiers, and a switch.
    [
        ("threads", "async", ("disk", "disk")),
        ("async", "threads", ("disk", "disk")),
        ("threads", "threads", ("memory", "memory")),
        ("async", "async", ("memory", "disk")),
    ],
)
def test_kill_9_then_resume_gives_exactly_once(
    tmp_path: Path, first: str, then: str, frontiers: tuple[str, str]
) -> None:
    """A crawl killed with SIGKILL resumes exactly once, also when the engine changes, with
    the frontier in memory or on disk, and from one to the other."""
    with FaultServer() as server:
        _numbered_site(server, latency=0.02)
        state, out = tmp_path / "crawl.sqlite", tmp_path / "out.jsonl"
        args = [*_resumable(server, state, out), "--quiet"]
        proc = spindle(*args, "--engine", first, "--frontier", frontiers[0])
        _wait_for_lines(out, 30, proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        done_before = out.read_bytes().count(b"\n")
        assert done_before < PAGES + 1
        with out.open("ab") as torn:  # a write cut short by the kill
            torn.write(b'{"url": "http://torn')
        resumed = spindle(*args, "--engine", then, "--frontier", frontiers[1])
        assert resumed.wait(timeout=60) == 0
        _assert_exactly_once(out, _expected(server))
        with sqlite3.connect(state) as db:
            states = dict(db.execute("SELECT state, COUNT(*) FROM urls GROUP BY state").fetchall())
        assert states == {"done": PAGES + 1}
        page_hits = [p for p in server.paths() if p != "/robots.txt"]
        assert len(page_hits) - len(set(page_hits)) <= 4  # only in-flight pages were refetched


def test_ctrl_c_exits_130_and_resumes(tmp_path: Path, engine: str) -> None:
    with FaultServer() as server:
        _numbered_site(server, latency=0.02)
        state, out = tmp_path / "crawl.sqlite", tmp_path / "out.jsonl"
        args = _resumable(server, state, out)
        proc = spindle(*args, "--engine", engine)
        _wait_for_lines(out, 20, proc)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err.decode()
        assert b"interrupted" in err
        assert b"Traceback" not in err
        resumed = run_spindle(*args, "--engine", engine)
        assert resumed.returncode == 0
        assert b"from earlier runs" in resumed.stderr
        _assert_exactly_once(out, _expected(server))
        page_hits = [p for p in server.paths() if p != "/robots.txt"]
        assert len(page_hits) == len(set(page_hits))  # a clean stop refetches nothing
        assert server.count("/robots.txt") == 1  # the resumed run reused the decision


def test_a_frontier_on_disk_without_state_uses_a_temporary_file(
    tmp_path: Path, site: FaultServer
) -> None:
    args = ["crawl", site.url("/"), "--rate", "0", "--depth", "20", "--out", "-", "--quiet"]
    result = subprocess.run(
        [sys.executable, "-m", "spindle", *args, "--frontier", "disk"],
        capture_output=True,
        timeout=60,
        check=False,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr.decode()
    urls = [orjson.loads(line)["url"] for line in result.stdout.splitlines()]
    assert sorted(urls) == sorted(_expected(site))
    assert list(tmp_path.iterdir()) == []  # the temporary state is gone


def test_finished_crawl_resumed_does_nothing(tmp_path: Path, site: FaultServer) -> None:
    state, out = tmp_path / "s.sqlite", tmp_path / "out.jsonl"
    args = [
        "crawl",
        site.url("/"),
        "--depth",
        "3",
        "--rate",
        "0",
        "--state",
        str(state),
        "--out",
        str(out),
        "--quiet",
    ]
    assert run_spindle(*args).returncode == 0
    before = out.read_bytes()
    requests = len(site.log)
    assert run_spindle(*args).returncode == 0
    assert out.read_bytes() == before
    assert len(site.log) == requests  # nothing was left to fetch, not even robots.txt
    assert os.path.getsize(state) > 0
