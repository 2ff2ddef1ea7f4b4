"""Reading records back: every field as the crawl wrote it, and one exact line per bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from spindle.crawl.report import Outlink, Record, ReportInputError, read_records
from tests.crawl.report.records import T0, ErrorKind, link, record, write_jsonl


def test_a_record_reads_back_field_for_field(tmp_path: Path) -> None:
    written = record(
        "http://a.test/x",
        503,
        depth=2,
        parent="http://a.test/",
        error=(ErrorKind.HTTP_STATUS, "503 on every attempt"),
        outlinks=[link("http://a.test/y", "Y", nofollow=True)],
        elapsed_ms=12.34,
        title="Busy",
        redirect_chain=("http://a.test/old",),
    )
    (got,) = read_records(write_jsonl(tmp_path / "r.jsonl", [written]))
    assert got == Record(
        url="http://a.test/x",
        status=503,
        final_url="http://a.test/x",
        depth=2,
        parent="http://a.test/",
        content_type="text/html",
        bytes=100,
        links=1,
        fetched_at="2023-11-14T22:13:20.000Z",
        elapsed_ms=12.3,
        attempts=1,
        error_kind="http_status",
        error_message="503 on every attempt",
        title="Busy",
        redirect_chain=("http://a.test/old",),
        outlinks=(Outlink("http://a.test/y", "Y", True),),
    )
    assert got.broken
    assert got.attempted


def test_fields_of_older_crawls_may_be_missing(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('{"url": "http://a.test/", "status": null}\n')
    (got,) = read_records(path)
    assert got == Record("http://a.test/", None)
    assert got.outlinks is None
    assert got.broken
    assert not got.attempted


def test_blank_lines_are_skipped_and_still_counted(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('\n{"url": "http://a.test/", "status": 200}\n   \n{"url": 1, "status": 200}\n')
    records = read_records(path)
    assert next(records).url == "http://a.test/"
    with pytest.raises(ReportInputError) as caught:
        next(records)
    assert str(caught.value) == f"{path}:4: 'url' must be a non-empty string, not 1"
    assert (caught.value.line, caught.value.reason) == (
        4,
        "'url' must be a non-empty string, not 1",
    )


GOOD = '"url": "http://a.test/", "status": 200'


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{", "not JSON (unexpected end of data at column 2)"),
        (
            '{"url": "http://a.test/", "status": 200',
            "not JSON (unexpected end of data at column 40)",
        ),
        ("[1, 2]", "not a record (a JSON object)"),
        ('"http://a.test/"', "not a record (a JSON object)"),
        ('{"status": 200}', "the record has no 'url'"),
        ('{"url": "", "status": 200}', "'url' must be a non-empty string, not \"\""),
        ('{"url": null, "status": 200}', "'url' must be a non-empty string, not null"),
        ('{"url": "http://a.test/"}', "the record has no 'status'"),
        (
            '{"url": "http://a.test/", "status": "200"}',
            "'status' must be an integer or null, not \"200\"",
        ),
        (
            '{"url": "http://a.test/", "status": true}',
            "'status' must be an integer or null, not true",
        ),
        (
            '{"url": "http://a.test/", "status": 200.0}',
            "'status' must be an integer or null, not 200.0",
        ),
        (f'{{{GOOD}, "depth": null}}', "'depth' must be an integer, not null"),
        (f'{{{GOOD}, "bytes": false}}', "'bytes' must be an integer, not false"),
        (f'{{{GOOD}, "elapsed_ms": "5"}}', "'elapsed_ms' must be a number, not \"5\""),
        (f'{{{GOOD}, "truncated": 0}}', "'truncated' must be true or false, not 0"),
        (f'{{{GOOD}, "title": 7}}', "'title' must be a string or null, not 7"),
        (
            f'{{{GOOD}, "fetched_at": "yesterday"}}',
            "'fetched_at' is not an ISO 8601 time: \"yesterday\"",
        ),
        (
            f'{{{GOOD}, "redirect_chain": [1]}}',
            "'redirect_chain' must be a list of strings, not [1]",
        ),
        (
            f'{{{GOOD}, "error": "timeout"}}',
            '\'error\' must be null or {"kind": string, "message": string}, not "timeout"',
        ),
        (
            f'{{{GOOD}, "error": {{"message": "x"}}}}',
            '\'error\' must be null or {"kind": string, "message": string}, not {"message":"x"}',
        ),
        (f'{{{GOOD}, "outlinks": {{}}}}', "'outlinks' must be a list or null, not {}"),
        (
            f'{{{GOOD}, "outlinks": [{{"url": "http://a.test/x"}}, {{"text": "y"}}]}}',
            'outlink 2 must be {"url": string, "text": string, "nofollow": bool}, not {"text":"y"}',
        ),
    ],
)
def test_a_bad_line_is_named_with_its_number(tmp_path: Path, line: str, reason: str) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(f"{{{GOOD}}}\n{line}\n{{{GOOD}}}\n")
    with pytest.raises(ReportInputError) as caught:
        list(read_records(path))
    assert str(caught.value) == f"{path}:2: {reason}"


def test_long_values_are_cut_in_messages(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('{"url": "http://a.test/", "status": "' + "x" * 200 + '"}\n')
    with pytest.raises(ReportInputError) as caught:
        list(read_records(path))
    assert (
        str(caught.value) == f"{path}:1: 'status' must be an integer or null, not \"{'x' * 56}..."
    )


def test_a_torn_last_line_is_reported_by_its_number(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(b'{"url": "http://a.test/", "status": 200}\n{"url": "http://a.te')
    records = read_records(path)
    assert next(records).status == 200
    with pytest.raises(ReportInputError, match=r":2: not JSON \(unexpected end of data"):
        next(records)


def test_bytes_that_are_not_utf8_are_not_json(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(b'{"url": "http://a.test/\xff", "status": 200}\n')
    with pytest.raises(ReportInputError, match=r":1: not JSON \(str is not valid UTF-8"):
        list(read_records(path))


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nope.jsonl"
    with pytest.raises(ReportInputError) as caught:
        list(read_records(path))
    assert str(caught.value) == f"{path}: No such file or directory"
    assert caught.value.line is None


def test_a_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(ReportInputError) as caught:
        list(read_records(tmp_path))
    assert str(caught.value) == f"{tmp_path}: Is a directory"


def test_a_record_without_time_was_not_fetched(tmp_path: Path) -> None:
    seed = record("http://a.test/", None, error=(ErrorKind.DNS, "no such host"), fetched_at=None)
    (got,) = read_records(write_jsonl(tmp_path / "r.jsonl", [seed]))
    assert (got.fetched_at, got.attempted, got.broken) == (None, False, True)
    assert (got.error_kind, got.error_message) == ("dns", "no such host")


def test_fetched_at_is_kept_as_written(tmp_path: Path) -> None:
    (got,) = read_records(write_jsonl(tmp_path / "r.jsonl", [record("http://a/", fetched_at=T0)]))
    assert got.fetched_at == "2023-11-14T22:13:20.000Z"
