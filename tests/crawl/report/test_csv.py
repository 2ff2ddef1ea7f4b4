"""CSV: fixed columns, RFC 4180 quoting, UTF-8, and no formulas from strangers' pages."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from spindle.crawl.report import CSV_COLUMNS, ReportInputError, guard_cell, write_csv
from tests.crawl.report.records import T0, ErrorKind, link, record, write_jsonl

HEADER = (
    b"url,final_url,status,depth,parent,content_type,bytes,links,fetched_at,elapsed_ms,"
    b"attempts,error_kind,error_message,truncated,noindex,title,sha1,last_modified,etag,"
    b"redirect_chain\r\n"
)


def _csv(tmp_path: Path, records: list[dict[str, object]]) -> tuple[int, bytes]:
    path = write_jsonl(tmp_path / "crawl.jsonl", records)
    out = tmp_path / "crawl.csv"
    with out.open("w", encoding="utf-8", newline="") as file:
        rows = write_csv(path, file)
    return rows, out.read_bytes()


def test_exact_bytes(tmp_path: Path) -> None:
    records = [
        record(
            "http://a.test/",
            title='Caf\u00e9, "quoted"\nand two lines',
            outlinks=[link("http://a.test/x", "x")],
            elapsed_ms=1.25,
        ),
        record(
            "http://a.test/new",
            404,
            depth=1,
            parent="http://a.test/",
            redirect_chain=("http://a.test/old", "http://a.test/older"),
            fetched_at=T0 + 0.5,
        ),
        record(
            "http://b.test/",
            None,
            error=(ErrorKind.TIMEOUT, "read timed out, after 10 s"),
            fetched_at=None,
            elapsed_ms=0.0,
        ),
    ]
    rows, data = _csv(tmp_path, records)
    assert rows == 3
    assert data == (
        HEADER
        + b"http://a.test/,http://a.test/,200,0,,text/html,100,1,2023-11-14T22:13:20.000Z,1.2,1,,,"
        + b'false,false,"Caf\xc3\xa9, ""quoted""\nand two lines",,,,\r\n'
        + b"http://a.test/new,http://a.test/new,404,1,http://a.test/,text/html,100,0,"
        + b"2023-11-14T22:13:20.500Z,5.0,1,,,false,false,,,,,"
        + b"http://a.test/old -> http://a.test/older\r\n"
        + b'http://b.test/,,,0,,,0,0,,0.0,1,timeout,"read timed out, after 10 s",false,false,,,,,'
        + b"\r\n"
    )


def test_columns_are_fixed_and_a_spreadsheet_reads_them_back(tmp_path: Path) -> None:
    _, data = _csv(tmp_path, [record("http://a.test/", title="a\r\nb")])
    header, row = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert tuple(header) == CSV_COLUMNS
    assert len(CSV_COLUMNS) == 20
    assert dict(zip(header, row, strict=True))["title"] == "a\r\nb"


@pytest.mark.parametrize(
    ("title", "cell"),
    [
        ('=HYPERLINK("http://evil.test/","x")', '\'=HYPERLINK("http://evil.test/","x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Home = start", "Home = start"),
        ("'quoted'", "'quoted'"),
        ("", ""),
    ],
)
def test_formula_cells_get_a_leading_apostrophe(tmp_path: Path, title: str, cell: str) -> None:
    assert guard_cell(title) == cell
    _, data = _csv(tmp_path, [record("http://a.test/", title=title)])
    (_, row) = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert row[CSV_COLUMNS.index("title")] == cell


def test_every_column_is_guarded(tmp_path: Path) -> None:
    hostile = record(
        "http://a.test/",
        None,
        error=(ErrorKind.CRASH, "=cmd|' /C calc'!A0"),
        fetched_at=None,
    )
    hostile["content_type"] = "@x"
    hostile["etag"] = "-1"
    hostile["last_modified"] = "+x"
    _, data = _csv(tmp_path, [hostile])
    (_, row) = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    values = dict(zip(CSV_COLUMNS, row, strict=True))
    assert values["error_message"] == "'=cmd|' /C calc'!A0"
    assert (values["etag"], values["last_modified"]) == ("'-1", "'+x")
    assert values["content_type"] == "'@x"
    assert not [v for v in row if v.startswith(("=", "+", "-", "@", "\t", "\r"))]


def test_a_bad_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "crawl.jsonl"
    path.write_text('{"url": "http://a/", "status": 200}\n{"status": 200}\n')
    with pytest.raises(ReportInputError, match=r"crawl.jsonl:2: the record has no 'url'"):
        write_csv(path, io.StringIO(newline=""))
