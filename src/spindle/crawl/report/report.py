"""The HTML report of a records file: two streaming passes, then one page.

The first pass counts (:class:`Tally`) and notes the broken URLs (:class:`BrokenLinks`); the
second, only when records list outlinks and something is broken, finds the links to them.
Every line is read and checked before the first byte is written, so a bad line leaves the
output untouched.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from spindle.crawl.report.broken import MAX_REFERRERS, BrokenLink, BrokenLinks, ReferrerSource
from spindle.crawl.report.page import render_page
from spindle.crawl.report.records import ReportInputError, read_records
from spindle.crawl.report.tally import Overview, Tally

__all__ = ["ReportSummary", "build_report", "write_html_report"]


@dataclass(frozen=True, slots=True)
class ReportSummary:
    """What a written report holds, for a one-line message.

    ``broken`` counts the broken URLs the report lists; ``links_to_broken`` the links to them
    found in outlinks (0 when the crawl did not collect links: ``links_collected``).
    """

    records: int
    fetched: int
    errors: int
    broken: int
    links_to_broken: int
    links_collected: bool


def build_report(
    records_path: Path, *, max_referrers: int = MAX_REFERRERS
) -> tuple[Overview, tuple[BrokenLink, ...]]:
    """Read ``records_path`` (twice at most) and return the figures and the broken links.

    The file must be a regular file: a pipe could not be read twice.

    Raises:
        ReportInputError: the file cannot be read, is not a regular file, or a line is not a
            record.
    """
    try:
        regular = stat.S_ISREG(records_path.stat().st_mode)
    except OSError as exc:
        raise ReportInputError(records_path, None, exc.strerror or str(exc)) from exc
    if not regular:
        raise ReportInputError(records_path, None, "not a regular file (it is read twice)")
    tally = Tally()
    finder = BrokenLinks(max_referrers)
    for record in read_records(records_path):
        tally.add(record)
        finder.add(record)
    if finder.wants_scan:
        for record in read_records(records_path):
            finder.scan(record)
    return tally.overview(), finder.result()


def write_html_report(
    records_path: Path,
    out: TextIO | Path,
    *,
    title: str | None = None,
    max_referrers: int = MAX_REFERRERS,
) -> ReportSummary:
    """Write the HTML report of ``records_path`` to ``out`` (a text stream, or a path to
    create or replace, UTF-8).

    ``title`` heads the page (default: ``Crawl report: NAME`` after the records file). At most
    ``max_referrers`` linking pages are listed per broken URL; the page says how many more
    links there are.

    Raises:
        ReportInputError: the file cannot be read, or a line is not a record; nothing has
            been written then.
        OSError: ``out`` cannot be written.

    >>> import io, tempfile
    >>> records = Path(tempfile.mkdtemp()) / "crawl.jsonl"
    >>> _ = records.write_text('{"url": "http://a/", "status": 404}\\n')
    >>> page = io.StringIO()
    >>> write_html_report(records, page)
    ReportSummary(records=1, fetched=1, errors=0, broken=1, links_to_broken=0, ...)
    >>> "<title>Crawl report: crawl.jsonl</title>" in page.getvalue()
    True
    """
    overview, broken = build_report(records_path, max_referrers=max_referrers)
    pieces = render_page(
        overview,
        broken,
        title=title if title is not None else f"Crawl report: {records_path.name}",
        source=records_path.name,
    )
    if isinstance(out, Path):
        with out.open("w", encoding="utf-8", newline="") as file:
            file.writelines(pieces)
    else:
        out.writelines(pieces)
    return ReportSummary(
        records=overview.records,
        fetched=overview.fetched,
        errors=overview.errors,
        broken=len(broken),
        links_to_broken=sum(
            item.links for item in broken if item.source is ReferrerSource.OUTLINKS
        ),
        links_collected=overview.links_collected,
    )
