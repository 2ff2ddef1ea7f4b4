"""Hand-made records for the report tests, written by the crawl's own ``PageRecord.to_json``,
so the tests read exactly what a crawl writes."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from spindle.crawl.core.values import ErrorKind, Outlink, PageRecord, RecordError, SkipReason

__all__ = ["T0", "ErrorKind", "SkipReason", "link", "record", "write_jsonl"]

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z


def link(url: str, text: str = "", *, nofollow: bool = False) -> Outlink:
    return Outlink(url, text, nofollow)


def record(
    url: str,
    status: int | None = 200,
    *,
    depth: int = 0,
    parent: str | None = None,
    error: RecordError | None = None,
    outlinks: Iterable[Outlink] | None = None,
    elapsed_ms: float = 5.0,
    fetched_at: float | None = T0,
    content_type: str | None = "text/html",
    title: str | None = None,
    redirect_chain: tuple[str, ...] = (),
    size: int = 100,
) -> dict[str, Any]:
    """One record as ``spindle crawl`` writes it; a failure (no status) has no content type."""
    return PageRecord(
        url=url,
        key=url,
        final_url=url if status is not None else None,
        status=status,
        depth=depth,
        parent=parent,
        content_type=content_type if status is not None else None,
        bytes=size if status is not None else 0,
        links=len(list(outlinks or ())),
        fetched_at=fetched_at,
        elapsed_ms=elapsed_ms,
        attempts=1,
        error=error,
        title=title,
        redirect_chain=redirect_chain,
        outlinks=None if outlinks is None else tuple(outlinks),
    ).to_json()


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path
