"""The records as CSV, for spreadsheets: one row per record, fixed columns, no outlinks.

Rules:

* Columns, in this order: :data:`CSV_COLUMNS`. ``error`` is split into ``error_kind`` and
  ``error_message``; ``redirect_chain`` is joined with ``" -> "``; ``outlinks`` are left out
  (a spreadsheet cell is no place for a page's links).
* Written with :mod:`csv` (RFC 4180: fields quoted when they hold a comma, a quote or a line
  break, quotes doubled, rows ended by CRLF), in UTF-8 without a byte-order mark. Null is an
  empty cell; true and false are ``true`` and ``false``; numbers are decimal text
  (``elapsed_ms`` always with a decimal point: ``5.0``).
* **Formula injection.** Spreadsheet programs run a cell that starts with ``=``, ``+``, ``-``
  or ``@`` as a formula, and titles and URLs come from strangers' pages. As OWASP's "CSV
  Injection" page recommends, such a cell, and one starting with a tab or a carriage return
  (the other characters OWASP lists), gets a leading apostrophe (``'=1+1``): spreadsheets
  show the text instead of running it. The apostrophe stays visible to other readers of the
  file; a URL never starts with one of these characters, so URLs are never changed.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Final, TextIO

from spindle.crawl.report.records import Record, read_records

__all__ = ["CSV_COLUMNS", "guard_cell", "write_csv", "write_csv_records"]

CSV_COLUMNS: Final = (
    "url",
    "final_url",
    "status",
    "depth",
    "parent",
    "content_type",
    "bytes",
    "links",
    "fetched_at",
    "elapsed_ms",
    "attempts",
    "error_kind",
    "error_message",
    "truncated",
    "noindex",
    "title",
    "sha1",
    "last_modified",
    "etag",
    "redirect_chain",
)

_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def guard_cell(text: str) -> str:
    """``text`` with a leading apostrophe when a spreadsheet would read it as a formula.

    >>> guard_cell("=HYPERLINK(\\"http://evil/\\")"), guard_cell("@SUM(A1)"), guard_cell("-1")
    ('\\'=HYPERLINK("http://evil/")', "'@SUM(A1)", "'-1")
    >>> guard_cell("Home page"), guard_cell(""), guard_cell("http://a/?x==1")
    ('Home page', '', 'http://a/?x==1')
    """
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def write_csv(records_path: Path, out: TextIO) -> int:
    """Write the records of ``records_path`` to ``out`` as CSV and return the rows written
    (the header not counted).

    ``out`` must be opened with ``newline=""`` (as :mod:`csv` asks), so that the CRLF row
    ends reach the file unchanged.

    Raises:
        ReportInputError: the file cannot be read, or a line is not a record. The rows of the
            records before that line have been written by then: write to a temporary file
            and keep it only on success when that matters.

    >>> import io, tempfile
    >>> records = Path(tempfile.mkdtemp()) / "crawl.jsonl"
    >>> _ = records.write_text('{"url": "http://a/", "status": 200, "title": "=1+1"}\\n')
    >>> out = io.StringIO(newline="")
    >>> write_csv(records, out)
    1
    >>> out.getvalue().splitlines()[1]
    "http://a/,,200,0,,,0,0,,0.0,0,,,false,false,'=1+1,,,,"
    """
    return write_csv_records(read_records(records_path), out)


def write_csv_records(records: Iterable[Record], out: TextIO) -> int:
    """Write ``records`` to ``out`` as :func:`write_csv` does; returns the rows written."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    rows = 0
    for record in records:
        writer.writerow([guard_cell(_cell(value)) for value in _values(record)])
        rows += 1
    return rows


def _values(record: Record) -> tuple[object, ...]:
    return (
        record.url,
        record.final_url,
        record.status,
        record.depth,
        record.parent,
        record.content_type,
        record.bytes,
        record.links,
        record.fetched_at,
        record.elapsed_ms,
        record.attempts,
        record.error_kind,
        record.error_message,
        record.truncated,
        record.noindex,
        record.title,
        record.sha1,
        record.last_modified,
        record.etag,
        " -> ".join(record.redirect_chain),
    )


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
