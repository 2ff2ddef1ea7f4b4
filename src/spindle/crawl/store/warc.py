"""The WARC output: files, rotation, and a cut back to the crawl state on resume.

The crawl state is the commit point. For each batch the writer thread appends the batch's
records here and flushes them, then commits the batch's state together with the
:class:`~spindle.crawl.store.base.WarcMark` this archive returns (the file's number and the
offset just past the batch's last record). A crash between the two leaves records the state
never committed at the end of the file (and perhaps a torn record); the resumed crawl cuts the
file back to the committed offset (:meth:`WarcArchive.start`) and removes any later rotated
file, and the pages of that batch are fetched again. So after ``kill -9`` and a rerun, the WARC
holds exactly one response record per committed fetch, and every record is whole.

``PATH`` ending in ``.gz`` gives one gzip member per record. With ``max_size``, files are
numbered: ``crawl.warc.gz`` becomes ``crawl-00000.warc.gz``, ``crawl-00001.warc.gz``... (the
number goes before ``.warc.gz``, ``.warc`` or ``.gz``, else at the end), and a new file is
started before an exchange once the current one has reached ``max_size`` bytes. Each file
starts with a warcinfo record (the software, the crawl's settings, and ``run: fresh`` or
``run: resumed``); a resumed run appends one more before its first records.

This guards against the process dying, as the JSON Lines output does; records are flushed to
the operating system, not synced to the disk.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, Final

from warcio.warcwriter import WARCWriter

from spindle import __version__
from spindle.crawl.core.config import CrawlConfig
from spindle.crawl.core.values import Fetch, Response
from spindle.crawl.store.base import WarcMark
from spindle.crawl.store.jsonl import OutputMismatch
from spindle.crawl.store.warc_records import WARC_VERSION, build_exchange, build_warcinfo

__all__ = ["WarcArchive", "WarcMismatch", "crawl_info", "warc_file", "warc_files"]

_SUFFIXES: Final = (".warc.gz", ".warc", ".gz")
_CONFORMS_TO: Final = (
    "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
)


class WarcMismatch(OutputMismatch):
    """The WARC output does not match the crawl state it is resumed from."""


def _split(name: str) -> tuple[str, str]:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], suffix
    return name, ""


def warc_file(path: Path, index: int | None) -> Path:
    """File ``index`` of a rotating output named ``path``, or ``path`` itself for None.

    >>> warc_file(Path("out/crawl.warc.gz"), 1).as_posix(), warc_file(Path("x"), 0).as_posix()
    ('out/crawl-00001.warc.gz', 'x-00000')
    """
    if index is None:
        return path
    stem, suffix = _split(path.name)
    return path.with_name(f"{stem}-{index:05d}{suffix}")


def warc_files(path: Path, *, rotating: bool) -> list[tuple[int, Path]]:
    """The files of the output named ``path`` that exist, by number (0 without rotation)."""
    if not rotating:
        return [(0, path)] if path.is_file() else []
    stem, suffix = _split(path.name)
    pattern = re.compile(re.escape(stem) + r"-(\d{5,})" + re.escape(suffix))
    if not path.parent.is_dir():
        return []
    found = []
    for candidate in path.parent.iterdir():
        match = pattern.fullmatch(candidate.name)
        if match and candidate.is_file():
            found.append((int(match.group(1)), candidate))
    return sorted(found)


def crawl_info(config: CrawlConfig) -> list[tuple[str, str]]:
    """The warcinfo fields describing a crawl: the software, the format and its settings."""
    fields = [
        ("software", f"spindle/{__version__}"),
        ("format", "WARC File Format 1.1"),
        ("conformsTo", _CONFORMS_TO),
        ("http-header-user-agent", config.user_agent),
        ("robots", "obey" if config.obey_robots else "ignore"),
    ]
    fields.extend(("seed", seed) for seed in config.seeds)
    fields += [
        ("depth", str(config.max_depth)),
        ("scope", config.scope.value),
        ("rate", f"{config.rate:g}"),
        ("host-concurrency", str(config.host_concurrency)),
        ("max-bytes", str(config.max_bytes)),
        ("retries", str(config.retries)),
        ("timeout", f"{config.timeout:g}"),
    ]
    if config.max_pages is not None:
        fields.append(("max-pages", str(config.max_pages)))
    fields.extend(("include", pattern) for pattern in config.include)
    fields.extend(("exclude", pattern) for pattern in config.exclude)
    if config.no_parent:
        fields.append(("no-parent", "true"))
    return fields


class WarcArchive:
    """Appends exchanges to a WARC output, one file or rotating; owned by the writer thread.

    Call :meth:`start` once, then :meth:`write` per batch, then :meth:`close`.
    """

    def __init__(
        self,
        path: Path,
        *,
        info: Sequence[tuple[str, str]],
        max_size: int | None = None,
        user_agent: str = "",
    ) -> None:
        self._path = path
        self._max_size = max_size
        self._info = list(info)
        self._user_agent = user_agent
        self._writer = WARCWriter(None, gzip=path.name.endswith(".gz"), warc_version=WARC_VERSION)
        self._index = 0
        self._offset = 0
        self._run = "fresh"
        self._file: BinaryIO | None = None
        self._warcinfo_id = ""

    @property
    def rotating(self) -> bool:
        """Whether files are numbered and closed at ``max_size``."""
        return self._max_size is not None

    def current(self) -> Path:
        """The file records go to now."""
        return warc_file(self._path, self._index if self.rotating else None)

    def start(self, mark: WarcMark | None, *, resumed: bool) -> None:
        """Begin a fresh output (removing any file of it), or continue one from ``mark``: cut
        the file back to the committed offset and remove later files. ``mark`` None with
        ``resumed`` means no batch was committed yet: start from the first file's beginning.

        Raises:
            WarcMismatch: the file is missing or shorter than the state says (it was moved,
                edited, or lost with the operating system); nothing is changed then.
        """
        self._index, self._offset = mark if resumed and mark is not None else (0, 0)
        self._run = "resumed" if resumed else "fresh"
        later = [p for i, p in warc_files(self._path, rotating=self.rotating) if i > self._index]
        path = self.current()
        size = path.stat().st_size if path.is_file() else None
        if size is None and self._offset > 0:
            raise WarcMismatch(
                f"{path}: missing; the crawl state has {self._offset} bytes of records in it"
            )
        if size is not None and size < self._offset:
            raise WarcMismatch(
                f"{path}: {size} bytes, shorter than the {self._offset} bytes the crawl "
                "state committed"
            )
        if size is not None and size > self._offset:
            with path.open("r+b") as file:
                file.truncate(self._offset)  # records of a batch that never committed
        for extra in later:
            extra.unlink()

    def write(self, exchanges: Sequence[tuple[Fetch, Response]]) -> WarcMark:
        """Append the records of ``exchanges`` (a warcinfo record first, where one is due),
        flush them, and return where the output now ends.

        Raises:
            OSError: the file could not be written.
        """
        if self._file is None:
            self._open()
        for fetch, response in exchanges:
            if self._max_size is not None and self._offset >= self._max_size:
                self._rotate()
            records = build_exchange(
                self._writer,
                fetch,
                response,
                warcinfo_id=self._warcinfo_id,
                user_agent=self._user_agent,
            )
            self._writer.write_request_response_pair(records.request, records.response)
        assert self._file is not None
        self._file.flush()
        self._offset = self._file.tell()
        return WarcMark(self._index, self._offset)

    def close(self) -> None:
        """Flush and close the current file."""
        if self._file is not None:
            file, self._file = self._file, None
            file.close()

    def _open(self) -> None:
        path = self.current()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("ab")
        self._writer.out = self._file
        self._file.seek(0, 2)
        self._offset = self._file.tell()
        self._write_info(path.name)

    def _rotate(self) -> None:
        self.close()
        self._index += 1
        self._open()

    def _write_info(self, filename: str) -> None:
        fields = [*self._info, ("run", self._run)]
        record = build_warcinfo(self._writer, filename, fields, time.time())
        self._warcinfo_id = record.rec_headers.get_header("WARC-Record-ID")
        self._writer.write_record(record)
