"""JSON Lines output that stays valid across crashes, and is checked before it is extended.

Records reach the file only after the store has committed them, so the file is always a prefix
of the store's record list, except for a torn last line after a crash. Resuming
(:func:`open_output` with the store) compares every complete line with the store's record at
that position, cuts a torn last line, and appends what the store has beyond the file. A line
that differs from the store (an edited or damaged file) stops the resume with
:class:`OutputMismatch` naming the line, so no user data is overwritten and no record is
dropped. Every record therefore appears exactly once, and every line is valid JSON.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from spindle.crawl.store.base import CrawlStore, Stream

__all__ = ["JsonlSink", "OutputMismatch", "open_output", "verify_and_repair"]


class OutputMismatch(Exception):
    """The output file does not match the crawl state it is resumed from."""


class JsonlSink:
    """Appends encoded records, one per line, flushing after each batch."""

    def __init__(self, target: BinaryIO, *, owned: bool) -> None:
        self._target = target
        self._owned = owned

    def write(self, lines: list[bytes]) -> None:
        """Append ``lines`` (each without its newline) and flush them to the OS."""
        if lines:
            self._target.write(b"\n".join(lines) + b"\n")
            self._target.flush()

    def close(self) -> None:
        """Flush, and close the file if this sink opened it."""
        try:
            self._target.flush()
        finally:
            if self._owned:
                self._target.close()


def verify_and_repair(path: Path, saved: Iterator[bytes]) -> int:
    """Check ``path`` against the saved lines, cut a torn last line, and return how many
    complete lines it holds. ``saved`` is left at the first line the file lacks.

    Raises:
        OutputMismatch: a complete line differs from the saved line at its position, or the
            file holds more complete lines than were saved.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "out.jsonl"
    >>> _ = p.write_bytes(b'{"a":1}\\n{"b":2}\\n{"c":')
    >>> saved = iter([b'{"a":1}', b'{"b":2}', b'{"c":3}'])
    >>> verify_and_repair(p, saved), p.read_bytes(), next(saved)
    (2, b'{"a":1}\\n{"b":2}\\n', b'{"c":3}')
    """
    count = 0
    good_end = 0
    with path.open("rb") as file:
        for line in file:
            if not line.endswith(b"\n"):
                break  # a write cut short by a crash
            expected = next(saved, None)
            if expected is None:
                raise OutputMismatch(
                    f"{path}:{count + 1}: the file has more records than its crawl state"
                )
            if line[:-1] != expected:
                raise OutputMismatch(f"{path}:{count + 1}: the line differs from the crawl state")
            count += 1
            good_end += len(line)
    if path.stat().st_size != good_end:
        os.truncate(path, good_end)
    return count


def open_output(
    out: str, *, resume_from: CrawlStore | None, stream: Stream = Stream.RECORDS
) -> JsonlSink:
    """Open ``out`` ('-' for stdout) for ``stream`` of a fresh crawl, or of one resumed from a
    store.

    A fresh crawl truncates the file (the caller has checked that this is wanted). A resumed
    crawl verifies and repairs the file (:func:`verify_and_repair`), then appends the saved
    records it lacks; stdout gets only the records written from now on.

    Raises:
        OutputMismatch: the file does not match the store.
        OSError: the file cannot be opened.
    """
    if out == "-":
        return JsonlSink(sys.stdout.buffer, owned=False)
    path = Path(out)
    if resume_from is None:
        return JsonlSink(path.open("wb"), owned=True)
    saved = resume_from.encoded(stream, 0)
    try:
        if path.exists():
            verify_and_repair(path, saved)
        sink = JsonlSink(path.open("ab"), owned=True)
        batch: list[bytes] = []
        for line in saved:
            batch.append(line)
            if len(batch) >= 1000:
                sink.write(batch)
                batch = []
        sink.write(batch)
    finally:
        saved.close()  # ends the store's read statement, even when the file was refused
    return sink
