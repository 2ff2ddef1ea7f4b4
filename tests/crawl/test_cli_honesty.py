"""An honest command line: exit codes, numbers checked before any file is touched, no silent
discard or overwrite, one lock per state file, seeds files with comments and FILE:LINE errors,
and clean endings when the output goes away. Real subprocesses against 127.0.0.1."""

from __future__ import annotations

import os
import pty
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.crawl.e2e import child_environment, read_jsonl, run_spindle, spindle
from tests.support.faultserver import FaultServer, delayed, page

PAGES = 60


def _numbered(server: FaultServer, latency: float = 0.0) -> None:
    def numbered(request):  # type: ignore[no-untyped-def]
        n = int(request.path.rsplit("/", 1)[1])
        links = [f"/p/{k}" for k in (2 * n + 1, 2 * n + 2) if k < PAGES]
        return delayed(latency, page(*links))(request)

    server.route("/", page("/p/0"))
    server.route_prefix("/p/", numbered)


@pytest.fixture
def site() -> Iterator[FaultServer]:
    with FaultServer() as server:
        _numbered(server)
        yield server


def _one_line_error(result: subprocess.CompletedProcess[bytes], code: int, text: str) -> None:
    err = result.stderr.decode()
    assert result.returncode == code, err
    assert text in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


def _wait_for_lines(path: Path, count: int, proc: subprocess.Popen[bytes]) -> None:
    tick = threading.Event()
    while not tick.wait(0.02):
        if path.exists() and path.read_bytes().count(b"\n") >= count:
            return
        assert proc.poll() is None, "the crawl ended too soon"


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--rate", "inf"),
        ("--rate", "1e400"),
        ("--rate", "nan"),
        ("--timeout", "inf"),
        ("--timeout", "1e10"),
        ("--max-crawl-delay", "-1"),
        ("--retries", "1000"),
        ("--workers", "0"),
    ],
)
def test_numbers_are_checked_before_any_file_is_touched(
    tmp_path: Path, option: str, value: str
) -> None:
    """`--rate inf` used to print a traceback after emptying an existing --out."""
    out = tmp_path / "out.jsonl"
    out.write_bytes(b'{"kept": true}\n')
    result = run_spindle("crawl", "http://127.0.0.1:1/", "--out", str(out), option, value)
    _one_line_error(result, 2, option)
    assert out.read_bytes() == b'{"kept": true}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


def test_nothing_listening_exits_1_with_a_record_for_the_seed(tmp_path: Path) -> None:
    with FaultServer() as gone:
        url = gone.url("/")
    out = tmp_path / "out.jsonl"
    result = run_spindle("crawl", url, "--out", str(out), "--retries", "0")
    assert result.returncode == 1, result.stderr.decode()
    assert "nothing could be fetched" in result.stderr.decode()
    (record,) = read_jsonl(out)
    assert (record["url"], record["status"], record["attempts"]) == (url, None, 0)
    assert record["error"]["kind"] == "connection"
    assert record["error"]["message"].startswith(f"{gone.url('/robots.txt')}: ")


def test_tls_failure_exits_1_with_the_reason(tmp_path: Path, site: FaultServer) -> None:
    url = site.url("/").replace("http://", "https://")  # the server speaks plain HTTP
    out = tmp_path / "out.jsonl"
    result = run_spindle("crawl", url, "--out", str(out), "--retries", "0")
    assert result.returncode == 1, result.stderr.decode()
    (record,) = read_jsonl(out)
    assert (record["url"], record["error"]["kind"]) == (url, "tls")


def test_a_seed_refused_by_a_trap_guard_gets_a_record(tmp_path: Path, site: FaultServer) -> None:
    url = site.url("/" + "x" * 5000)
    out = tmp_path / "out.jsonl"
    result = run_spindle("crawl", url, "--out", str(out))
    assert result.returncode == 1, result.stderr.decode()
    (record,) = read_jsonl(out)
    assert record["error"] == {
        "kind": "trap",
        "message": "refused by the url_too_long trap guard",
    }
    assert site.paths() == []


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1)")
def test_dns_failure_exits_1_with_the_reason(tmp_path: Path) -> None:
    """Run in a network namespace of its own, so the failed lookup sends nothing anywhere."""
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("creating a network namespace needs root")
    out = tmp_path / "out.jsonl"
    argv = ["unshare", "-n", sys.executable, "-m", "spindle", "crawl", "http://spindle.test/"]
    result = subprocess.run(
        [*argv, "--out", str(out), "--retries", "0"],
        capture_output=True,
        timeout=60,
        check=False,
        env=child_environment(),
    )
    assert result.returncode == 1, result.stderr.decode()
    (record,) = read_jsonl(out)
    assert record["error"]["kind"] == "dns"


def test_a_closed_pipe_ends_the_crawl_with_exit_3(site: FaultServer) -> None:
    """`--out - | head -1` used to end in a WriterFailed traceback."""
    proc = spindle("crawl", site.url("/"), "--depth", "20", "--rate", "0", "--out", "-")
    assert proc.stdout is not None
    assert proc.stderr is not None
    first = proc.stdout.readline()
    assert orjson.loads(first)["url"] == site.url("/")
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 3, err
    assert "Traceback" not in err
    assert "the output was closed by the program reading it" in err


def test_a_full_disk_ends_the_crawl_with_exit_3(site: FaultServer) -> None:
    result = run_spindle("crawl", site.url("/"), "--rate", "0", "--out", "/dev/full", "-q")
    _one_line_error(result, 3, "No space left on device")


def test_state_and_out_must_be_two_files(tmp_path: Path, site: FaultServer) -> None:
    same = tmp_path / "crawl.db"
    result = run_spindle("crawl", site.url("/"), "--out", str(same), "--state", str(same))
    _one_line_error(result, 2, "--out and --state name the same file")
    assert list(tmp_path.iterdir()) == []


def test_two_crawls_cannot_share_a_state_file(tmp_path: Path) -> None:
    with FaultServer() as server:
        _numbered(server, latency=0.05)
        state = tmp_path / "shared.state"
        first_out, second_out = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
        common = [server.url("/"), "--depth", "20", "--rate", "0", "--state", str(state), "-q"]
        first = spindle("crawl", *common, "--out", str(first_out))
        _wait_for_lines(first_out, 3, first)
        second = run_spindle("crawl", *common, "--out", str(second_out))
        _one_line_error(second, 2, "state file in use")
        assert not second_out.exists()
        first.send_signal(signal.SIGINT)
        assert first.wait(timeout=30) == 130


def test_an_existing_output_is_never_overwritten_silently(
    tmp_path: Path, site: FaultServer
) -> None:
    out = tmp_path / "mine.jsonl"
    out.write_bytes(b"my own data\n")
    result = run_spindle("crawl", site.url("/"), "--depth", "0", "--out", str(out))
    _one_line_error(result, 2, "pass --overwrite")
    assert out.read_bytes() == b"my own data\n"
    again = run_spindle("crawl", site.url("/"), "--depth", "0", "--out", str(out), "--overwrite")
    assert again.returncode == 0, again.stderr.decode()
    assert [r["url"] for r in read_jsonl(out)] == [site.url("/")]


def test_state_is_kept_beside_the_output_and_the_same_command_resumes(
    tmp_path: Path, site: FaultServer
) -> None:
    out = tmp_path / "pages.jsonl"
    args = ["crawl", site.url("/"), "--depth", "3", "--rate", "0", "--out", str(out)]
    assert run_spindle(*args).returncode == 0
    assert (tmp_path / "pages.jsonl.state").exists()
    before, requests = out.read_bytes(), len(site.log)
    again = run_spindle(*args)
    assert again.returncode == 0
    assert "from earlier runs" in again.stderr.decode()
    assert out.read_bytes() == before
    assert len(site.log) == requests


def test_records_go_to_stdout_when_it_is_a_pipe(tmp_path: Path, site: FaultServer) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "spindle", "crawl", site.url("/"), "--depth", "1", "--rate", "0"],
        capture_output=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
        env=child_environment(),
    )
    assert result.returncode == 0
    urls = [orjson.loads(line)["url"] for line in result.stdout.splitlines()]
    assert sorted(urls) == sorted([site.url("/"), site.url("/p/0")])
    assert list(tmp_path.iterdir()) == []


def test_records_go_to_a_named_file_when_stdout_is_a_terminal(
    tmp_path: Path, site: FaultServer
) -> None:
    controller, terminal = pty.openpty()
    try:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "spindle",
                "crawl",
                site.url("/"),
                "--depth",
                "1",
                "--rate",
                "0",
            ],
            stdout=terminal,
            stderr=subprocess.PIPE,
            cwd=tmp_path,
            env=child_environment(),
        )
        _, err = proc.communicate(timeout=60)
    finally:
        os.close(terminal)
        os.close(controller)
    assert proc.returncode == 0, err.decode()
    name = f"127.0.0.1_{site.port}.jsonl"
    assert name in err.decode()  # the summary names the file
    assert sorted(r["url"] for r in read_jsonl(tmp_path / name)) == [
        site.url("/"),
        site.url("/p/0"),
    ]
    assert (tmp_path / f"{name}.state").exists()


def test_an_interrupt_without_state_says_a_rerun_starts_again(tmp_path: Path) -> None:
    """It used to say "run the same command to resume", and the rerun started from scratch."""
    with FaultServer() as server:
        _numbered(server, latency=0.05)
        out = tmp_path / "out.jsonl"
        args = [server.url("/"), "--depth", "20", "--rate", "0", "--no-state"]
        proc = spindle("crawl", *args, "--out", str(out))
        _wait_for_lines(out, 3, proc)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "no state was kept" in err.decode()
    assert "run the same command to resume" not in err.decode()


def test_two_quick_interrupts_end_cleanly_and_the_crawl_resumes(tmp_path: Path) -> None:
    """Two Ctrl-C within 20 ms used to give a traceback from a half-imported module."""
    with FaultServer() as server:
        _numbered(server, latency=0.05)
        out = tmp_path / "out.jsonl"
        args = ["crawl", server.url("/"), "--depth", "20", "--rate", "0", "--out", str(out)]
        proc = spindle(*args)
        _wait_for_lines(out, 3, proc)
        proc.send_signal(signal.SIGINT)
        threading.Event().wait(0.02)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err.decode()
        assert "Traceback" not in err.decode()
        assert run_spindle(*args).returncode == 0
        urls = [r["url"] for r in read_jsonl(out)]
        assert len(urls) == len(set(urls)) == PAGES + 1


def test_seeds_file_comments_and_bad_lines(tmp_path: Path, site: FaultServer) -> None:
    seeds = tmp_path / "seeds.txt"
    seeds.write_text(f"# mine\n{site.url('/p/5')}   # five\n\n{site.url('/p/6')}\t# six\n")
    out = tmp_path / "out.jsonl"
    result = run_spindle("crawl", "--seeds-file", str(seeds), "--depth", "0", "--out", str(out))
    assert result.returncode == 0, result.stderr.decode()
    assert sorted(r["url"] for r in read_jsonl(out)) == [site.url("/p/5"), site.url("/p/6")]
    seeds.write_text(f"{site.url('/p/5')}\nftp://example.com/\n")
    bad = run_spindle("crawl", "--seeds-file", str(seeds), "--out", str(tmp_path / "b.jsonl"))
    _one_line_error(bad, 2, f"{seeds}:2: only http and https URLs can be crawled")


def test_credentials_never_reach_an_output(tmp_path: Path, site: FaultServer) -> None:
    url = site.url("/").replace("http://", "http://ann:s3cret@")
    out = tmp_path / "out.jsonl"
    result = run_spindle("crawl", url, "--depth", "1", "--rate", "0", "--out", str(out))
    assert result.returncode == 0, result.stderr.decode()
    assert b"s3cret" not in out.read_bytes()
    assert b"ann" not in out.read_bytes()
    assert b"s3cret" not in result.stderr
    assert sorted(r["url"] for r in read_jsonl(out)) == [site.url("/"), site.url("/p/0")]


def test_a_damaged_output_stops_the_resume_and_is_left_alone(
    tmp_path: Path, site: FaultServer
) -> None:
    out = tmp_path / "out.jsonl"
    args = ["crawl", site.url("/"), "--depth", "2", "--rate", "0", "--out", str(out)]
    assert run_spindle(*args).returncode == 0
    lines = out.read_bytes().splitlines(keepends=True)
    damaged = b"garbage\n" + b"".join(lines[1:])
    out.write_bytes(damaged)
    _one_line_error(run_spindle(*args), 2, f"{out}:1: the line differs from the crawl state")
    assert out.read_bytes() == damaged


def test_interrupts_only_set_flags_until_the_third() -> None:
    """The second Ctrl-C used to raise KeyboardInterrupt wherever the main thread was, even in
    the middle of importing an engine. Now the first asks to stop, the second to abandon
    in-flight fetches, and only a third (a user who insists) raises."""
    from spindle.crawl.engines.turns import StopSignals
    from spindle.crawl.runner import _signals_handled

    signals = StopSignals()
    with _signals_handled(signals):
        os.kill(os.getpid(), signal.SIGINT)
        assert signals.stop.wait(5)
        assert not signals.abandon.is_set()
        os.kill(os.getpid(), signal.SIGINT)
        assert signals.abandon.wait(5)
        with pytest.raises(KeyboardInterrupt):
            _interrupt_and_wait()


def _interrupt_and_wait() -> None:
    os.kill(os.getpid(), signal.SIGINT)
    threading.Event().wait(5)  # the handler runs on the next bytecode, long before this ends
