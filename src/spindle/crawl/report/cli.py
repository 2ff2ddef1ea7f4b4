"""``spindle report``: turn a crawl's records into an HTML report or a CSV table.

The output is written to a temporary file beside its destination and moved into place only
when it is complete, so a bad line in the records (or Ctrl-C) leaves no file behind and no
half-written report; ``-`` (stdout) gets the output only once it is whole. An existing file
is replaced only with ``--overwrite``, and never when it is the records file itself.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TextIO

import click

from spindle.crawl.report.csv_table import write_csv_records
from spindle.crawl.report.records import Record, ReportInputError, read_records
from spindle.crawl.report.report import write_html_report

__all__ = ["report"]

EXIT_CODES_HELP = """\b
Exit codes:
  0    the report was written
  2    bad usage or bad records (one line names the file and line);
       nothing was written
  130  interrupted; nothing was written"""

_FORMATS = ("html", "csv")


@click.command("report", epilog=EXIT_CODES_HELP)
@click.argument("records", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--out",
    "-o",
    metavar="PATH",
    help="Where to write: a file, or '-' for stdout. [default: RECORDS with .html or .csv]",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(_FORMATS),
    help="html: one self-contained page; csv: one row per record. "
    "[default: csv when --out ends in .csv, else html]",
)
@click.option("--title", help="Heading of the HTML report. [default: Crawl report: RECORDS]")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
def report(
    records: Path, out: str | None, fmt: str | None, title: str | None, overwrite: bool
) -> None:
    """Write a report of the RECORDS of `spindle crawl` (JSON Lines).

    The HTML report is one file that needs no network and no script: totals, charts of
    statuses, content types, depths and response times, the slowest pages, and every broken
    URL with the pages that link to it (with anchor texts when the crawl ran with --links).
    CSV has one row per record, for spreadsheets. One line on stderr says where the report
    went and how many broken links it lists.

    \b
    Example:
      spindle crawl http://127.0.0.1:8000/ --links --out pages.jsonl
      spindle report pages.jsonl                 # writes pages.html
      spindle report pages.jsonl --format csv    # writes pages.csv
      spindle report pages.jsonl --out - --format csv | head
    """
    if fmt is None:
        fmt = "csv" if out is not None and out.lower().endswith(".csv") else "html"
    if title is not None and fmt != "html":
        raise click.UsageError("--title applies to the HTML report only")
    destination = out if out is not None else str(records.with_suffix(f".{fmt}"))
    if destination != "-":
        _check_destination(Path(destination), records, overwrite=overwrite)
    try:
        with _output(destination, overwrite=overwrite) as stream:
            if fmt == "html":
                summary = write_html_report(records, stream, title=title)
                rows, broken = summary.records, summary.broken
            else:
                rows, broken = _csv(records, stream)
    except ReportInputError as exc:
        raise click.UsageError(str(exc)) from exc
    except OSError as exc:
        where = "stdout" if destination == "-" else destination
        raise click.UsageError(f"{where}: cannot write: {exc.strerror}") from exc
    where = "to stdout" if destination == "-" else destination
    links = "broken link" if broken == 1 else "broken links"
    click.echo(f"spindle report: wrote {where} ({rows:,} records, {broken:,} {links})", err=True)


def _csv(records: Path, stream: TextIO) -> tuple[int, int]:
    broken = 0

    def counted(items: Iterator[Record]) -> Iterator[Record]:
        nonlocal broken
        for item in items:
            broken += item.broken
            yield item

    rows = write_csv_records(counted(read_records(records)), stream)
    return rows, broken


def _check_destination(path: Path, records: Path, *, overwrite: bool) -> None:
    """Refuse, before any work, an output that would destroy something."""
    if not path.exists():
        return
    if path.is_dir():
        raise click.UsageError(f"{path}: is a directory; give a file name with --out")
    if records.exists() and os.path.samefile(path, records):
        raise click.UsageError(f"{path}: is the records file itself; choose another --out")
    if not overwrite:
        raise click.UsageError(f"{path}: exists; add --overwrite to replace it")


@contextlib.contextmanager
def _output(destination: str, *, overwrite: bool) -> Iterator[TextIO]:
    """A UTF-8 text stream (``newline=""``) whose content reaches ``destination`` only if the
    block ends without an exception."""
    if destination == "-":
        with tempfile.TemporaryFile() as spool:
            with _text(spool) as stream:
                yield stream
            spool.seek(0)
            shutil.copyfileobj(spool, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        return
    path = Path(destination)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("xb") as raw, _text(raw) as stream:  # x: never reuse another's file
            yield stream
        if overwrite:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)  # fails if the file appeared meanwhile: no silent clobber
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


@contextlib.contextmanager
def _text(raw: IO[bytes]) -> Iterator[TextIO]:
    """A text view of ``raw``, flushed and detached at the end: ``raw``'s owner closes it."""
    stream = io.TextIOWrapper(raw, encoding="utf-8", newline="")
    try:
        yield stream
    finally:
        stream.detach()
