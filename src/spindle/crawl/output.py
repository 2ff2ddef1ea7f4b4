"""JSON Lines output that stays valid across crashes.

Records reach the file only after the store has committed them, so the file is always a prefix
of the store's record list. After a crash the file may end in a torn line; :func:`open_output`
cuts it off, counts the complete lines and lets the caller append what the store has beyond
them. Every record therefore appears exactly once, and every line is valid JSON.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import BinaryIO

__all__ = ["JsonlSink", "open_output", "repair_jsonl"]

_CHUNK = 1 << 20


def repair_jsonl(path: Path) -> int:
    """Cut a torn last line off ``path`` and return the number of complete lines.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "out.jsonl"
    >>> _ = p.write_bytes(b'{"a":1}\\n{"b":2}\\n{"c":')
    >>> repair_jsonl(p), p.read_bytes()
    (2, b'{"a":1}\\n{"b":2}\\n')
    """
    lines = 0
    last_newline = -1
    with path.open("rb") as file:
        offset = 0
        while chunk := file.read(_CHUNK):
            lines += chunk.count(b"\n")
            found = chunk.rfind(b"\n")
            if found >= 0:
                last_newline = offset + found
            offset += len(chunk)
    if last_newline + 1 != offset:
        os.truncate(path, last_newline + 1)
    return lines


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
        self._target.flush()
        if self._owned:
            self._target.close()


def open_output(out: str, *, resume: bool) -> tuple[JsonlSink, int | None]:
    """Open ``out`` ('-' for stdout) and return the sink and its complete line count.

    The count is None for stdout (it cannot be checked) and for a fresh crawl, which truncates
    the file; a resumed crawl appends after repairing the file.
    """
    if out == "-":
        return JsonlSink(sys.stdout.buffer, owned=False), None
    path = Path(out)
    if resume and path.exists():
        lines = repair_jsonl(path)
        return JsonlSink(path.open("ab"), owned=True), lines
    return JsonlSink(path.open("wb"), owned=True), 0 if resume else None
