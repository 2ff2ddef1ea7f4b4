"""``spindle report`` as a user runs it: real subprocesses, exit codes, one-line errors."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from spindle.crawl.report import write_csv, write_html_report
from tests.crawl.e2e import run_spindle, spindle
from tests.crawl.report.records import write_jsonl
from tests.crawl.report.test_broken import _site


@pytest.fixture
def records(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "crawl.jsonl", _site(links=True))


def _one_line(stderr: bytes) -> str:
    text = stderr.decode()
    assert "Traceback" not in text
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def _files(directory: Path) -> set[str]:
    return {path.name for path in directory.iterdir()}


def test_html_beside_the_records_by_default(records: Path) -> None:
    result = run_spindle("report", str(records))
    assert result.returncode == 0
    out = records.with_suffix(".html")
    assert _one_line(result.stderr) == f"spindle report: wrote {out} (8 records, 5 broken links)"
    assert result.stdout == b""
    expected = io.StringIO()
    write_html_report(records, expected)
    assert out.read_text(encoding="utf-8") == expected.getvalue()
    assert _files(records.parent) == {"crawl.jsonl", "crawl.html"}


def test_csv_by_format_or_by_the_output_name(records: Path) -> None:
    result = run_spindle("report", str(records), "--format", "csv")
    assert result.returncode == 0
    out = records.with_suffix(".csv")
    assert _one_line(result.stderr) == f"spindle report: wrote {out} (8 records, 5 broken links)"
    expected = io.StringIO(newline="")
    write_csv(records, expected)
    assert out.read_bytes() == expected.getvalue().encode()
    named = records.parent / "table.CSV"
    assert run_spindle("report", str(records), "--out", str(named)).returncode == 0
    assert named.read_bytes() == out.read_bytes()


def test_dash_writes_to_stdout(records: Path) -> None:
    result = run_spindle("report", str(records), "--out", "-", "--title", "Mine")
    assert result.returncode == 0
    assert _one_line(result.stderr) == "spindle report: wrote to stdout (8 records, 5 broken links)"
    expected = io.StringIO()
    write_html_report(records, expected, title="Mine")
    assert result.stdout.decode() == expected.getvalue()
    assert _files(records.parent) == {"crawl.jsonl"}


def test_an_existing_file_is_kept_unless_overwrite(records: Path) -> None:
    out = records.with_suffix(".html")
    out.write_text("mine")
    refused = run_spindle("report", str(records))
    assert refused.returncode == 2
    assert _one_line(refused.stderr) == (
        f"spindle report: error: {out}: exists; add --overwrite to replace it"
    )
    assert out.read_text() == "mine"
    replaced = run_spindle("report", str(records), "--overwrite")
    assert replaced.returncode == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert _files(records.parent) == {"crawl.jsonl", "crawl.html"}


def test_the_records_file_is_never_the_output(records: Path) -> None:
    before = records.read_bytes()
    result = run_spindle("report", str(records), "--out", str(records), "--overwrite")
    assert result.returncode == 2
    assert _one_line(result.stderr) == (
        f"spindle report: error: {records}: is the records file itself; choose another --out"
    )
    assert records.read_bytes() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "{path}: No such file or directory"),
        ('{"url": "http://a/", "status": 200}\n{"url": "http://a/",\n', "{path}:2: not JSON ("),
        (
            '{"url": "http://a/", "status": 200}\n\n{"status": 404}\n',
            "{path}:3: the record has no 'url'",
        ),
    ],
    ids=["missing", "not-json", "no-url"],
)
@pytest.mark.parametrize("fmt", ["html", "csv"])
def test_bad_input_is_one_line_and_touches_nothing(
    tmp_path: Path, content: str | None, message: str, fmt: str
) -> None:
    path = tmp_path / "crawl.jsonl"
    if content is not None:
        path.write_text(content)
    before = _files(tmp_path)
    for out in ([], ["--out", "-"]):
        result = run_spindle("report", str(path), "--format", fmt, *out)
        assert result.returncode == 2
        assert _one_line(result.stderr).startswith(
            "spindle report: error: " + message.format(path=path)
        )
        assert result.stdout == b""
        assert _files(tmp_path) == before


def test_an_unwritable_destination_is_one_line(records: Path) -> None:
    out = records.parent / "no" / "such" / "dir" / "r.html"
    result = run_spindle("report", str(records), "--out", str(out))
    assert result.returncode == 2
    assert _one_line(result.stderr) == (
        f"spindle report: error: {out}: cannot write: No such file or directory"
    )
    directory = run_spindle("report", str(records), "--out", str(records.parent))
    assert directory.returncode == 2
    assert _one_line(directory.stderr) == (
        f"spindle report: error: {records.parent}: is a directory; give a file name with --out"
    )


def test_usage_errors(records: Path) -> None:
    missing = run_spindle("report")
    assert missing.returncode == 2
    assert _one_line(missing.stderr) == "spindle report: error: Missing argument 'RECORDS'."
    bad_format = run_spindle("report", str(records), "--format", "pdf")
    assert bad_format.returncode == 2
    assert "'pdf' is not one of 'html', 'csv'" in _one_line(bad_format.stderr)
    title = run_spindle("report", str(records), "--format", "csv", "--title", "T")
    assert title.returncode == 2
    assert (
        _one_line(title.stderr) == "spindle report: error: --title applies to the HTML report only"
    )
    assert _files(records.parent) == {"crawl.jsonl"}


def test_help_shows_an_example_and_the_exit_codes() -> None:
    result = run_spindle("report", "--help")
    assert result.returncode == 0
    text = result.stdout.decode()
    assert "spindle report pages.jsonl                 # writes pages.html" in text
    assert "Exit codes:" in text
    assert "--overwrite" in text
    assert "report" in run_spindle("--help").stdout.decode()


def test_a_closed_stdout_is_one_line(records: Path) -> None:
    process = spindle("report", str(records), "--out", "-")
    assert process.stdout is not None
    process.stdout.close()  # the reader is gone before the report is written
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert _one_line(err) == "spindle report: error: stdout: cannot write: Broken pipe"
