"""Reports of a crawl's records: one self-contained HTML page, or CSV for spreadsheets.

Both read the JSON Lines output of ``spindle crawl`` as a stream (:func:`read_records`), so
a file of any size costs memory only for what the report keeps. A line that is not a record
raises :class:`ReportInputError`, whose text is ``FILE:LINE: reason``.

>>> import io, tempfile
>>> from pathlib import Path
>>> records = Path(tempfile.mkdtemp()) / "crawl.jsonl"
>>> _ = records.write_text(
...     '{"url": "http://a/", "status": 200, "outlinks": [{"url": "http://a/x", "text": "X"}]}\\n'
...     '{"url": "http://a/x", "status": 404, "parent": "http://a/"}\\n'
... )
>>> summary = write_html_report(records, io.StringIO())
>>> summary.broken, summary.links_to_broken
(1, 1)
>>> write_csv(records, io.StringIO(newline=""))
2
"""

from spindle.crawl.report.broken import (
    MAX_REFERRERS,
    BrokenLink,
    BrokenLinks,
    Referrer,
    ReferrerSource,
)
from spindle.crawl.report.csv_table import CSV_COLUMNS, guard_cell, write_csv, write_csv_records
from spindle.crawl.report.records import Outlink, Record, ReportInputError, read_records
from spindle.crawl.report.report import ReportSummary, build_report, write_html_report
from spindle.crawl.report.tally import Bar, Overview, SlowPage, Tally

__all__ = [
    "CSV_COLUMNS",
    "MAX_REFERRERS",
    "Bar",
    "BrokenLink",
    "BrokenLinks",
    "Outlink",
    "Overview",
    "Record",
    "Referrer",
    "ReferrerSource",
    "ReportInputError",
    "ReportSummary",
    "SlowPage",
    "Tally",
    "build_report",
    "guard_cell",
    "read_records",
    "write_csv",
    "write_csv_records",
    "write_html_report",
]
