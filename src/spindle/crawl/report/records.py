"""Reading a crawl's JSON Lines output back, one checked record at a time.

Rules:

* The file is read line by line and never held whole: a record lives until the next one is
  read, outlinks included, so a two-pass report costs memory for what it keeps, not for the
  file.
* Each line must be a JSON object with ``url`` (a non-empty string) and ``status`` (an integer
  or null). Every other field of :meth:`PageRecord.to_json` may be missing, as in the output of
  older crawls, and is then read as empty (null, 0, false, no redirects, no outlinks); a field
  that is present must have the type ``to_json`` gives it. Blank lines are skipped.
* Anything else is a :class:`ReportInputError` whose text is ``FILE:LINE: reason``, so the
  command line can print it as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from spindle.crawl.core.values import Outlink

__all__ = ["Outlink", "Record", "ReportInputError", "parse_stamp", "read_records"]


class ReportInputError(Exception):
    """A records file that cannot be read, or a line of it that is not a record.

    ``line`` is the 1-based line number, or None when the file itself is the problem (missing,
    a directory, unreadable). ``str()`` gives ``FILE:LINE: reason`` (``FILE: reason``).

    >>> str(ReportInputError(Path("crawl.jsonl"), 3, "not JSON"))
    'crawl.jsonl:3: not JSON'
    """

    def __init__(self, path: Path, line: int | None, reason: str) -> None:
        where = str(path) if line is None else f"{path}:{line}"
        super().__init__(f"{where}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Record:
    """One line of a crawl's output, checked (see the module docstring for missing fields).

    ``fetched_at`` keeps the text of the file; :func:`parse_stamp` reads it. ``outlinks`` is
    None when the crawl did not collect links (``--links``); its items are the core's
    :class:`~spindle.crawl.core.values.Outlink` values.
    """

    url: str
    status: int | None
    final_url: str | None = None
    depth: int = 0
    parent: str | None = None
    content_type: str | None = None
    bytes: int = 0
    links: int = 0
    fetched_at: str | None = None
    elapsed_ms: float = 0.0
    attempts: int = 0
    error_kind: str | None = None
    error_message: str | None = None
    truncated: bool = False
    noindex: bool = False
    title: str | None = None
    sha1: str | None = None
    last_modified: str | None = None
    etag: str | None = None
    redirect_chain: tuple[str, ...] = ()
    outlinks: tuple[Outlink, ...] | None = None

    @property
    def broken(self) -> bool:
        """Whether the URL is broken: status 400 or more, no HTTP answer, or an error.

        An error can come with a status (``http_status`` after retries of a 503,
        ``redirect_loop`` on a 302), so a 3xx can be broken too.

        >>> Record("http://a/", 404).broken, Record("http://a/", None).broken
        (True, True)
        >>> Record("http://a/", 302, error_kind="redirect_loop").broken
        True
        >>> Record("http://a/", 301).broken
        False
        """
        return self.status is None or self.status >= 400 or self.error_kind is not None

    @property
    def attempted(self) -> bool:
        """Whether the URL was fetched at all (an answer, or a failure with a time)."""
        return self.status is not None or self.fetched_at is not None


def parse_stamp(text: str) -> datetime:
    """Read an ISO 8601 time of a record as an aware datetime (no zone means UTC).

    Raises:
        ValueError: not an ISO 8601 date and time.

    >>> parse_stamp("2023-11-14T22:13:20.000Z").isoformat()
    '2023-11-14T22:13:20+00:00'
    >>> parse_stamp("2023-11-14T22:13:20").tzinfo
    datetime.timezone.utc
    """
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def read_records(path: Path) -> Iterator[Record]:
    """Yield the records of the JSON Lines file ``path`` in file order.

    The file is opened when iteration starts and closed when it ends (or when the iterator is
    closed).

    Raises:
        ReportInputError: the file cannot be read, or a line is not a record; records before
            that line have been yielded already.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "r.jsonl"
    >>> _ = p.write_text('{"url": "http://a/", "status": 200}\\n\\n{"status": 404}\\n')
    >>> records = read_records(p)
    >>> next(records).status
    200
    >>> next(records)
    Traceback (most recent call last):
    ...
    spindle.crawl.report.records.ReportInputError: /.../r.jsonl:3: the record has no 'url'
    """
    try:
        file = path.open("rb")
    except OSError as exc:
        raise ReportInputError(path, None, exc.strerror or str(exc)) from exc
    with file:
        number = 0
        try:
            for line in file:
                number += 1
                if line.strip():
                    yield _record(path, number, line)
        except OSError as exc:  # a read error (EIO, a file on a vanished mount)
            raise ReportInputError(path, number + 1, exc.strerror or str(exc)) from exc


def _record(path: Path, number: int, line: bytes) -> Record:
    try:
        data = orjson.loads(line.rstrip(b"\r\n"))  # so that the column counts this line
    except orjson.JSONDecodeError as exc:
        raise ReportInputError(path, number, f"not JSON ({exc.msg} at column {exc.colno})") from exc
    if not isinstance(data, dict):
        raise ReportInputError(path, number, "not a record (a JSON object)")
    try:
        return _checked(data)
    except _FieldError as exc:
        raise ReportInputError(path, number, str(exc)) from None


class _FieldError(Exception):
    """A field of one record is missing or has the wrong type."""


def _checked(data: dict[str, Any]) -> Record:
    # Exact type checks (``type(v) is int``) keep JSON true out of the integers and are fast:
    # a report reads every field of every record, twice.
    url = data.get("url")
    if "url" not in data:
        raise _FieldError("the record has no 'url'")
    if type(url) is not str or not url:
        raise _FieldError(f"'url' must be a non-empty string, not {_shown(url)}")
    if "status" not in data:
        raise _FieldError("the record has no 'status'")
    status = data["status"]
    if status is not None and type(status) is not int:
        raise _FieldError(f"'status' must be an integer or null, not {_shown(status)}")
    fetched_at = _text(data, "fetched_at")
    if fetched_at is not None:
        try:
            parse_stamp(fetched_at)
        except ValueError:
            reason = f"'fetched_at' is not an ISO 8601 time: {_shown(fetched_at)}"
            raise _FieldError(reason) from None
    elapsed_ms = data.get("elapsed_ms", 0.0)
    if type(elapsed_ms) is not float and type(elapsed_ms) is not int:
        raise _FieldError(f"'elapsed_ms' must be a number, not {_shown(elapsed_ms)}")
    error_kind, error_message = _error(data.get("error"))
    return Record(
        url=url,
        status=status,
        final_url=_text(data, "final_url"),
        depth=_integer(data, "depth"),
        parent=_text(data, "parent"),
        content_type=_text(data, "content_type"),
        bytes=_integer(data, "bytes"),
        links=_integer(data, "links"),
        fetched_at=fetched_at,
        elapsed_ms=float(elapsed_ms),
        attempts=_integer(data, "attempts"),
        error_kind=error_kind,
        error_message=error_message,
        truncated=_flag(data, "truncated"),
        noindex=_flag(data, "noindex"),
        title=_text(data, "title"),
        sha1=_text(data, "sha1"),
        last_modified=_text(data, "last_modified"),
        etag=_text(data, "etag"),
        redirect_chain=_strings(data, "redirect_chain"),
        outlinks=_outlinks(data.get("outlinks")),
    )


def _text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None or type(value) is str:
        return value
    raise _FieldError(f"'{name}' must be a string or null, not {_shown(value)}")


def _integer(data: dict[str, Any], name: str) -> int:
    value = data.get(name, 0)
    if type(value) is int:
        return value
    raise _FieldError(f"'{name}' must be an integer, not {_shown(value)}")


def _flag(data: dict[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if type(value) is bool:
        return value
    raise _FieldError(f"'{name}' must be true or false, not {_shown(value)}")


def _strings(data: dict[str, Any], name: str) -> tuple[str, ...]:
    value = data.get(name)
    if value is None:
        return ()
    if type(value) is list and all(type(item) is str for item in value):
        return tuple(value)
    raise _FieldError(f"'{name}' must be a list of strings, not {_shown(value)}")


def _error(value: object) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if type(value) is dict:
        kind, message = value.get("kind"), value.get("message", "")
        if type(kind) is str and kind and type(message) is str:
            return kind, message
    raise _FieldError(
        f'\'error\' must be null or {{"kind": string, "message": string}}, not {_shown(value)}'
    )


def _outlinks(value: object) -> tuple[Outlink, ...] | None:
    if value is None:
        return None
    if type(value) is not list:
        raise _FieldError(f"'outlinks' must be a list or null, not {_shown(value)}")
    links = []
    for item in value:
        if type(item) is dict:
            url, text, nofollow = item.get("url"), item.get("text", ""), item.get("nofollow", False)
            if type(url) is str and type(text) is str and type(nofollow) is bool:
                links.append(Outlink(url, text, nofollow))
                continue
        raise _FieldError(
            f'outlink {len(links) + 1} must be {{"url": string, "text": string, '
            f'"nofollow": bool}}, not {_shown(item)}'
        )
    return tuple(links)


def _shown(value: object, limit: int = 60) -> str:
    """A value as JSON for an error message, cut to ``limit`` characters."""
    text = orjson.dumps(value).decode()
    return text if len(text) <= limit else text[: limit - 3] + "..."
