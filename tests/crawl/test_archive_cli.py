"""``--warc`` and ``--save-dir`` as a user runs them: real subprocesses against the fault
server, every WARC checked with ``warcio check`` and member by member, kill -9 and resume.

These tests hold whether or not the fetchers capture the wire: a WARC payload is either the
body as sent (with its ``Content-Encoding``) or, without a wire capture, the decoded body with
no ``Content-Encoding``; each case is asserted exactly.
"""

from __future__ import annotations

import collections
import gzip
import signal
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from spindle.crawl.store.pages import page_path
from tests.crawl.archive_site import BIG, MAX_BYTES, Sent, archive_site
from tests.crawl.e2e import read_jsonl, run_spindle, spindle
from tests.support.faultserver import FaultServer, delayed, page
from tests.support.warc import (
    Record,
    assert_one_record_per_member,
    read_records,
    warcio_check,
)

PAGES = 120


def _target_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _target(record: Record) -> str:
    return _target_of(record.headers["WARC-Target-URI"])


def check_warc(path: Path) -> list[Record]:
    """``warcio check`` passes, every gzip member is one whole record, each request record
    names a response record; returns the records."""
    warcio_check(path)
    assert_one_record_per_member(path)
    records = read_records(path)
    assert records[0].type == "warcinfo"
    responses = {r.headers["WARC-Record-ID"]: r for r in records if r.type == "response"}
    requests = [r for r in records if r.type == "request"]
    assert len(requests) == len(responses)
    for request in requests:
        response = responses[request.headers["WARC-Concurrent-To"]]
        assert request.headers["WARC-Target-URI"] == response.headers["WARC-Target-URI"]
    return records


def assert_payload(record: Record, sent: Sent) -> None:
    """The payload is what the server sent: as on the wire when the record keeps the
    Content-Encoding, else decoded."""
    assert record.http_header("Transfer-Encoding") is None
    if record.http_header("Content-Encoding") is not None:
        assert record.payload == sent.wire
    else:
        assert record.payload == sent.decoded


def test_warc_and_page_store_of_a_whole_site(tmp_path: Path, engine: str) -> None:
    warc, pages, out = tmp_path / "site.warc.gz", tmp_path / "pages", tmp_path / "o.jsonl"
    with FaultServer() as server:
        sent = archive_site(server)
        result = run_spindle(
            "crawl",
            server.url("/"),
            *("--rate", "0", "--max-bytes", str(MAX_BYTES), "--engine", engine),
            *("--warc", str(warc), "--save-dir", str(pages), "--out", str(out), "--quiet"),
        )
        fetched = server.paths()
    assert result.returncode == 0, result.stderr.decode()
    records = check_warc(warc)
    responses = [r for r in records if r.type == "response"]
    # exactly one response record per fetch: robots.txt, redirects, errors and retries too
    assert collections.Counter(_target(r) for r in responses) == collections.Counter(fetched)
    assert collections.Counter(fetched)["/flaky.html"] == 2
    by_target = {_target(r): r for r in responses}  # the last one for the retried page
    statuses = {t: r.status_line.split()[1] for t, r in by_target.items() if r.status_line}
    assert statuses["/moved"] == "301"
    assert statuses["/missing"] == "404"
    assert statuses["/flaky.html"] == "200"
    for target, body in sent.items():
        if target != "/big.html":
            assert_payload(by_target[target], body)
    big = by_target["/big.html"]
    assert big.headers["WARC-Truncated"] == "length"
    assert MAX_BYTES <= len(big.payload) < BIG
    assert big.payload == b"x" * len(big.payload)

    lines = read_jsonl(out)
    files = {_target_of(r["url"]): r for r in lines}
    for target, body in sent.items():
        record = files[target]
        assert record["file"] == str(page_path(record["url"]))
        assert (pages / record["file"]).read_bytes() == body.decoded
    for target in ("/moved", "/missing"):
        assert files[target]["file"] is None
    assert files["/dir"]["file"].endswith("/dir#")
    assert files["/dir/"]["file"].endswith("/dir/index.html")
    assert files["/find?q=a/b"]["file"].endswith("/find?q=a#2Fb")
    saved = {str(p.relative_to(pages)) for p in pages.rglob("*") if p.is_file()}
    assert saved == {r["file"] for r in lines if r["file"] is not None}


def _numbered_body(n: int) -> bytes:
    links = [f"/p/{k}" for k in (2 * n + 1, 2 * n + 2) if k < PAGES]
    reply = page(*links)(None)  # type: ignore[arg-type]
    assert isinstance(reply.body, bytes)
    return reply.body


def _wait_for_lines(path: Path, count: int, proc: object) -> None:
    seen = threading.Event()
    while not seen.wait(0.02):
        if path.exists() and path.read_bytes().count(b"\n") >= count:
            return
        assert proc.poll() is None, "the crawl ended before it could be interrupted"  # type: ignore[attr-defined]


def test_kill_9_then_resume_gives_one_response_per_page_and_whole_files(tmp_path: Path) -> None:
    """The numbered site of test_crawl_cli, killed mid-crawl, a torn record appended to the
    WARC, then the same command again (on the other engine)."""

    def numbered(request):  # type: ignore[no-untyped-def]
        n = int(request.path.rsplit("/", 1)[1])
        links = [f"/p/{k}" for k in (2 * n + 1, 2 * n + 2) if k < PAGES]
        return delayed(0.02, page(*links))(request)

    warc, pages, out = tmp_path / "x.warc.gz", tmp_path / "pages", tmp_path / "o.jsonl"
    with FaultServer() as server:
        server.route("/", page("/p/0"))
        server.route_prefix("/p/", numbered)
        args = [
            *("crawl", server.url("/"), "--depth", "20", "--rate", "0", "--workers", "4"),
            *("--warc", str(warc), "--save-dir", str(pages), "--out", str(out), "--quiet"),
        ]
        proc = spindle(*args, "--engine", "threads")
        _wait_for_lines(out, 30, proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert out.read_bytes().count(b"\n") < PAGES + 1
        with warc.open("ab") as torn:  # a record cut short by the kill
            torn.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03WARC/1.1\r\nWARC-Type: resp")
        resumed = spindle(*args, "--engine", "async")
        _, err = resumed.communicate(timeout=60)
        assert resumed.returncode == 0, err.decode()
    records = check_warc(warc)
    responses = collections.Counter(_target(r) for r in records if r.type == "response")
    expected = {"/", "/robots.txt"} | {f"/p/{n}" for n in range(PAGES)}
    assert set(responses) == expected
    assert set(responses.values()) == {1}, "a page has more than one response record"
    assert sum(1 for r in records if r.type == "warcinfo") == 2  # the first run's, the resumed
    lines = read_jsonl(out)
    assert len(lines) == len({r["url"] for r in lines}) == PAGES + 1
    home = page("/p/0")(None).body  # type: ignore[arg-type]
    for record in lines:
        path = urlsplit(record["url"]).path
        body = home if path == "/" else _numbered_body(int(path.rsplit("/", 1)[1]))
        assert record["file"] == str(page_path(record["url"]))
        assert (pages / record["file"]).read_bytes() == body
    saved = {str(p.relative_to(pages)) for p in pages.rglob("*") if p.is_file()}
    assert saved == {r["file"] for r in lines}  # nothing else: no orphan, no temporary


def test_existing_archives_are_refused_without_state_or_overwrite(tmp_path: Path) -> None:
    with FaultServer() as server:
        server.route("/", page())
        url = server.url("/")
        warc, pages = tmp_path / "x.warc.gz", tmp_path / "pages"
        warc.write_bytes(b"someone's archive")
        base = ["crawl", url, "--depth", "0", "--no-state", "--out", str(tmp_path / "o.jsonl")]
        refused = run_spindle(*base, "--warc", str(warc))
        assert refused.returncode == 2
        assert b"exists and there is no crawl state to resume it from" in refused.stderr
        assert warc.read_bytes() == b"someone's archive"
        pages.mkdir()
        (pages / "notes.txt").write_text("mine")
        refused = run_spindle(*base, "--save-dir", str(pages))
        assert refused.returncode == 2
        assert b"holds files and there is no crawl state" in refused.stderr
        done = run_spindle(*base, "--warc", str(warc), "--save-dir", str(pages), "--overwrite")
        assert done.returncode == 0, done.stderr.decode()
        check_warc(warc)
        assert (pages / "notes.txt").read_text() == "mine"  # a save dir is never emptied
        assert (pages / str(page_path(url))).read_bytes() == page()(None).body  # type: ignore[arg-type]


def test_a_resume_must_keep_the_archives_of_the_crawl(tmp_path: Path) -> None:
    with FaultServer() as server:
        server.route("/", page())
        out = tmp_path / "o.jsonl"
        base = ["crawl", server.url("/"), "--depth", "0", "--out", str(out), "--quiet"]
        assert run_spindle(*base).returncode == 0
        later = run_spindle(*base, "--warc", str(tmp_path / "x.warc"))
        assert later.returncode == 2
        assert b"holds a different crawl (warc differ)" in later.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--warc-max-size", "1G"], "--warc-max-size needs --warc"),
        (["--warc", "x.warc", "--warc-max-size", "12"], "is not a size of at least 1K"),
        (["--warc", "x.warc", "--warc-max-size", "lots"], "is not a size of at least 1K"),
    ],
)
def test_bad_archive_options_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = run_spindle("crawl", "http://127.0.0.1:1/", "--out", str(tmp_path / "o"), *args)
    assert result.returncode == 2
    assert message in result.stderr.decode()
    assert not (tmp_path / "o").exists()


def test_rotation_over_a_crawl(tmp_path: Path) -> None:
    warc = tmp_path / "r.warc.gz"
    with FaultServer() as server:
        archive_site(server)
        result = run_spindle(
            *("crawl", server.url("/"), "--rate", "0", "--max-bytes", str(MAX_BYTES)),
            *("--warc", str(warc), "--warc-max-size", "4K", "--out", str(tmp_path / "o.jsonl")),
        )
        fetched = server.paths()
    assert result.returncode == 0, result.stderr.decode()
    assert not warc.exists()
    files = sorted(tmp_path.glob("r-*.warc.gz"))
    assert len(files) >= 3
    assert [f.name for f in files] == [f"r-{i:05d}.warc.gz" for i in range(len(files))]
    targets = []
    for path in files:
        records = check_warc(path)
        assert records[0].headers["WARC-Filename"] == path.name
        assert path.stat().st_size < 4096 + 20_000  # closed at the first exchange past 4K
        targets += [_target(r) for r in records if r.type == "response"]
    assert collections.Counter(targets) == collections.Counter(fetched)


def test_credentials_and_cookies_never_reach_the_warc(tmp_path: Path) -> None:
    """Request records carry what was sent, less Authorization and the user's cookies."""
    with FaultServer() as server:
        server.route("/", page("/next"))
        server.route("/next", page())
        cookies = tmp_path / "cookies.txt"
        cookies.write_text("127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tc00kie-v4lue\n")
        warc = tmp_path / "x.warc.gz"
        seed = server.url("/").replace("http://", "http://ann:s3cret-pw@")
        result = run_spindle(
            "crawl",
            seed,
            "--rate",
            "0",
            "--cookies",
            str(cookies),
            "--warc",
            str(warc),
            "--out",
            str(tmp_path / "out.jsonl"),
        )
        assert result.returncode == 0, result.stderr.decode()
        assert server.log[-1].headers["Cookie"] == "session=c00kie-v4lue"  # it was sent
        records = check_warc(warc)
        requests = [r for r in records if r.type == "request"]
        assert len(requests) == 3  # robots.txt, /, /next
        assert all(r.http_header("Cookie") is None for r in requests)
        assert all(r.http_header("Authorization") is None for r in requests)
        everything = gzip.decompress(warc.read_bytes())
        for secret in (b"s3cret-pw", b"c00kie-v4lue", b"YW5uOnMzY3JldC1wdw=="):
            assert secret not in everything
