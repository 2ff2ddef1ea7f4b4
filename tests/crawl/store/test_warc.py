"""The WARC output from synthetic exchanges: what each record holds, digests, truncation, the
fallback without a wire capture, rotation, and the cut back to the committed offset."""

from __future__ import annotations

import base64
import gzip
import hashlib
from pathlib import Path

import pytest

from spindle.crawl.core.values import Fetch, FetchKind, Response, Wire
from spindle.crawl.store.base import WarcMark
from spindle.crawl.store.warc import WarcArchive, WarcMismatch, warc_file, warc_files
from tests.support.warc import (
    assert_one_record_per_member,
    gzip_members,
    read_records,
    warcio_check,
)

INFO = [("software", "spindle/test"), ("seed", "http://a.test/"), ("seed", "http://b.test/")]
HTML = b"<!doctype html><title>t</title>" + b"<p>words</p>" * 50
WHEN = 1764086866.688123


def fetch(path: str = "/", *, id: int = 1, kind: FetchKind = FetchKind.PAGE) -> Fetch:
    url = f"http://a.test{path}"
    return Fetch(id, url, url, kind, 0, None, 1, 1 << 20)


def wire(body: bytes, *, complete: bool = True, target: str = "/") -> Wire:
    asked = (
        ("Host", "a.test"),
        ("User-Agent", "spindle/test"),
        ("Accept-Encoding", "gzip, deflate"),
        ("Authorization", "Basic c2VjcmV0OnNlY3JldA=="),
    )
    return Wire(target, asked, "HTTP/1.1", "Fine", body, complete)


def digest(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def archive(tmp_path: Path, name: str = "out.warc.gz", **kwargs: object) -> WarcArchive:
    warc = WarcArchive(tmp_path / name, info=INFO, user_agent="spindle/test", **kwargs)  # type: ignore[arg-type]
    warc.start(None, resumed=False)
    return warc


def check(path: Path) -> None:
    warcio_check(path)
    if path.name.endswith(".gz"):
        assert_one_record_per_member(path)


def test_gzip_body_is_kept_as_received(tmp_path: Path) -> None:
    encoded = gzip.compress(HTML)
    headers = (
        ("Content-Type", "text/html"),
        ("Content-Encoding", "gzip"),
        ("Content-Length", str(len(encoded))),
    )
    answer = Response(200, headers, HTML, 0.01, WHEN, wire=wire(encoded))
    warc = archive(tmp_path)
    mark = warc.write([(fetch(), answer)])
    warc.close()
    path = tmp_path / "out.warc.gz"
    assert mark == WarcMark(0, path.stat().st_size)
    check(path)
    info, response, request = read_records(path)
    assert info.type == "warcinfo"
    assert info.headers["WARC-Filename"] == "out.warc.gz"
    assert info.payload == (
        b"software: spindle/test\r\nseed: http://a.test/\r\nseed: http://b.test/\r\nrun: fresh\r\n"
    )
    assert response.type == "response"
    assert response.status_line == "HTTP/1.1 200 Fine"
    assert response.http == list(headers)
    assert response.payload == encoded
    assert response.headers["WARC-Payload-Digest"] == digest(encoded)
    assert response.headers["WARC-Target-URI"] == "http://a.test/"
    assert response.headers["WARC-Date"] == "2025-11-25T16:07:46.688123Z"
    assert response.headers["WARC-Warcinfo-ID"] == info.headers["WARC-Record-ID"]
    assert "WARC-Truncated" not in response.headers
    assert request.type == "request"
    assert request.status_line == "GET / HTTP/1.1"
    assert request.http == [
        ("Host", "a.test"),
        ("User-Agent", "spindle/test"),
        ("Accept-Encoding", "gzip, deflate"),
    ]  # credentials never reach an output
    assert request.headers["WARC-Concurrent-To"] == response.headers["WARC-Record-ID"]
    assert request.headers["WARC-Date"] == response.headers["WARC-Date"]


def test_chunked_framing_is_renamed_and_the_length_added(tmp_path: Path) -> None:
    headers = (("Content-Type", "text/html"), ("Transfer-Encoding", "chunked"))
    answer = Response(200, headers, HTML, 0.01, WHEN, wire=wire(HTML))
    warc = archive(tmp_path, "out.warc")
    warc.write([(fetch(), answer)])
    warc.close()
    check(tmp_path / "out.warc")
    _, response, _ = read_records(tmp_path / "out.warc")
    assert response.http == [
        ("Content-Type", "text/html"),
        ("X-Spindle-Transfer-Encoding", "chunked"),
        ("Content-Length", str(len(HTML))),
    ]
    assert response.payload == HTML


def test_a_body_cut_at_max_bytes_is_marked_truncated(tmp_path: Path) -> None:
    headers = (("Content-Type", "text/html"), ("Content-Length", "100000"))
    cut = HTML[:100]
    answer = Response(200, headers, cut, 0.01, WHEN, truncated=True, wire=wire(cut, complete=False))
    warc = archive(tmp_path)
    warc.write([(fetch(), answer)])
    warc.close()
    check(tmp_path / "out.warc.gz")
    _, response, _ = read_records(tmp_path / "out.warc.gz")
    assert response.headers["WARC-Truncated"] == "length"
    assert response.http == list(headers)  # as received: the length the server declared
    assert response.payload == cut


def test_without_a_wire_capture_the_decoded_response_is_written_consistently(
    tmp_path: Path,
) -> None:
    headers = (
        ("Content-Type", "text/html"),
        ("Content-Encoding", "gzip"),
        ("Transfer-Encoding", "chunked"),
        ("ETag", '"x"'),
    )
    answers = [
        Response(200, headers, HTML, 0.01, WHEN),
        Response(599, (("Content-Length", "3"),), b"bad", 0.01, WHEN),
        Response(200, (), HTML[:50], 0.01, WHEN, truncated=True),
    ]
    warc = archive(tmp_path)
    warc.write([(fetch(f"/{i}?q=1", id=i), a) for i, a in enumerate(answers)])
    warc.close()
    check(tmp_path / "out.warc.gz")
    _, page, asked, odd, _, cut, _ = read_records(tmp_path / "out.warc.gz")
    assert page.status_line == "HTTP/1.1 200 OK"
    assert page.http == [("Content-Type", "text/html"), ("ETag", '"x"'), ("Content-Length", "631")]
    assert len(HTML) == 631
    assert page.payload == HTML
    assert page.headers["WARC-Payload-Digest"] == digest(HTML)
    assert asked.status_line == "GET /0?q=1 HTTP/1.1"
    assert asked.http == [("Host", "a.test"), ("User-Agent", "spindle/test")]
    assert odd.status_line == "HTTP/1.1 599"  # warcio strips the space RFC 9112 keeps:
    assert (
        b"\r\n\r\nHTTP/1.1 599 \r\nContent-Length: 3\r\n"
        in gzip_members(tmp_path / "out.warc.gz")[3]
    )
    assert odd.http == [("Content-Length", "3")]
    assert cut.headers["WARC-Truncated"] == "length"
    assert cut.http == [("Content-Length", "50")]


def test_resume_cuts_back_to_the_committed_offset(tmp_path: Path) -> None:
    path = tmp_path / "out.warc.gz"
    warc = archive(tmp_path)
    first = warc.write([(fetch("/1.html"), Response(200, (), b"one", 0.0, WHEN))])
    warc.write([(fetch("/2.html", id=2), Response(200, (), b"two", 0.0, WHEN))])  # never committed
    warc.close()
    with path.open("ab") as torn:
        torn.write(b"\x1f\x8b\x08junk of a torn write")
    again = WarcArchive(path, info=INFO)
    again.start(first, resumed=True)
    assert path.stat().st_size == first.offset
    mark = again.write([(fetch("/2.html", id=2), Response(200, (), b"two", 0.0, WHEN))])
    again.close()
    assert mark == WarcMark(0, path.stat().st_size)
    check(path)
    kinds = [(r.type, r.headers.get("WARC-Target-URI")) for r in read_records(path)]
    assert kinds == [
        ("warcinfo", None),
        ("response", "http://a.test/1.html"),
        ("request", "http://a.test/1.html"),
        ("warcinfo", None),  # the resumed run says so
        ("response", "http://a.test/2.html"),
        ("request", "http://a.test/2.html"),
    ]
    assert read_records(path)[3].payload.endswith(b"run: resumed\r\n")


def test_resume_refuses_a_file_shorter_than_the_state(tmp_path: Path) -> None:
    path = tmp_path / "out.warc.gz"
    warc = WarcArchive(path, info=INFO)
    with pytest.raises(WarcMismatch, match="missing"):
        warc.start(WarcMark(0, 100), resumed=True)
    path.write_bytes(b"x" * 10)
    with pytest.raises(WarcMismatch, match="shorter than the 100 bytes"):
        warc.start(WarcMark(0, 100), resumed=True)
    assert path.read_bytes() == b"x" * 10  # untouched
    warc.start(None, resumed=True)  # nothing committed yet: start over
    assert path.read_bytes() == b""


def test_rotation_numbers_files_each_with_its_warcinfo(tmp_path: Path) -> None:
    base = tmp_path / "crawl.warc.gz"
    warc = WarcArchive(base, info=INFO, max_size=2000)
    warc.start(None, resumed=False)
    body = b"".join(hashlib.sha256(bytes([i])).digest() for i in range(64))  # incompressible
    marks = [
        warc.write([(fetch(f"/{i}.bin", id=i), Response(200, (), body, 0.0, WHEN))])
        for i in range(4)
    ]
    warc.close()
    files = warc_files(base, rotating=True)
    assert [p.name for _, p in files] == [f"crawl-0000{i}.warc.gz" for i in range(4)]
    assert [m.file for m in marks] == [0, 1, 2, 3]
    uris = []
    for _, path in files:
        check(path)
        records = read_records(path)
        assert records[0].type == "warcinfo"
        assert records[0].headers["WARC-Filename"] == path.name
        uris += [r.headers["WARC-Target-URI"] for r in records if r.type == "response"]
    assert uris == [f"http://a.test/{i}.bin" for i in range(4)]
    # a resume from the second batch removes the files of batches never committed
    again = WarcArchive(base, info=INFO, max_size=2000)
    again.start(marks[1], resumed=True)
    assert [p.name for _, p in warc_files(base, rotating=True)] == [
        "crawl-00000.warc.gz",
        "crawl-00001.warc.gz",
    ]
    assert warc_file(base, 1).stat().st_size == marks[1].offset
