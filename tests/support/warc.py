"""Checks every test runs on the WARC files it writes: ``warcio check``, one whole record per
gzip member, and the records read back."""

from __future__ import annotations

import subprocess
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

WARCIO = Path(sys.executable).with_name("warcio")


@dataclass
class Record:
    """One record read back: its WARC headers, HTTP head (None for warcinfo) and block
    content after the HTTP head (the payload as stored, still content-encoded)."""

    type: str
    headers: dict[str, str]
    http: list[tuple[str, str]] | None
    status_line: str | None
    payload: bytes

    def http_header(self, name: str) -> str | None:
        for key, value in self.http or []:
            if key.lower() == name.lower():
                return value
        return None


def warcio_check(path: Path) -> None:
    """``warcio check -v FILE`` exits 0 and every record with a digest passes."""
    result = subprocess.run(
        [str(WARCIO), "check", "-v", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "digest failed" not in result.stdout
    assert "ArchiveLoadFailed" not in result.stdout


def gzip_members(path: Path) -> list[bytes]:
    """The decompressed gzip members of ``path``, in order; fails on a cut member or junk."""
    data = path.read_bytes()
    members = []
    while data:
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        members.append(inflater.decompress(data))
        assert inflater.eof, f"{path}: a gzip member is cut short"
        data = inflater.unused_data
    return members


def assert_one_record_per_member(path: Path) -> int:
    """Every gzip member of ``path`` is exactly one whole WARC record; returns how many."""
    members = gzip_members(path)
    for member in members:
        head, sep, rest = member.partition(b"\r\n\r\n")
        assert sep, member[:80]
        assert head.startswith(b"WARC/1.1\r\n"), member[:80]
        fields = dict(
            line.split(b": ", 1)
            for line in head.split(b"\r\n")[1:]
            if line  # type: ignore[misc]
        )
        length = int(fields[b"Content-Length"])
        assert len(rest) == length + 4, "a member holds more or less than one record"
        assert rest.endswith(b"\r\n\r\n")
    return len(members)


def read_records(path: Path) -> list[Record]:
    """Every record of ``path``, in order."""
    found = []
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream, no_record_parse=False, ensure_http_headers=False):
            http = record.http_headers
            found.append(
                Record(
                    type=record.rec_type,
                    headers=dict(record.rec_headers.headers),
                    http=None if http is None else list(http.headers),
                    status_line=None if http is None else f"{http.protocol} {http.statusline}",
                    payload=record.raw_stream.read(),
                )
            )
    return found
