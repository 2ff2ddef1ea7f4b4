"""The figures of a report, counted in one pass over the records with bounded memory.

Rules:

* **Totals**: records; fetched (an HTTP answer, so a status); failed (no HTTP answer); errors
  (no HTTP answer, or an ``error`` beside a status); broken (see :attr:`Record.broken`);
  bytes (the sum of ``bytes``, as kept by the crawl); the span from the earliest to the latest
  ``fetched_at``.
* **Statuses**: a bar per status code, ascending, then a bar per error kind of the records
  without an answer (``no answer: timeout``).
* **Content types**: over the records with an answer, the media type (parameters dropped,
  lower-cased, ``(none)`` without the header); the ten most frequent, the rest in one
  ``other`` bar, so a server that invents a type per page cannot flood the chart.
* **Depths**: a bar per depth from 0, with no gap; from :data:`DEPTH_BARS` depths on, the
  deepest ones share the last bar (``15+``).
* **Response times**: ``elapsed_ms`` of every record that was fetched (answered or failed), in
  the fixed buckets of :data:`TIME_EDGES_MS` (lower edge included), every bucket shown.
* **Slowest**: the :data:`SLOWEST` fetched records with the largest ``elapsed_ms``, ties in URL
  order.

Memory grows with the number of distinct statuses, error kinds, media types and depths, never
with the number of records.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from spindle.crawl.report.records import Record, parse_stamp

__all__ = ["DEPTH_BARS", "SLOWEST", "TIME_EDGES_MS", "Bar", "Overview", "SlowPage", "Tally"]

DEPTH_BARS: Final = 16
SLOWEST: Final = 20
CONTENT_TYPE_BARS: Final = 10
TIME_EDGES_MS: Final = (10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000)
"""Upper edges of the response-time buckets; the last bucket is 10 s and more."""


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of a chart. ``tone`` names its colour class: ``ok`` (2xx), ``redirect``
    (3xx), ``client`` (4xx), ``server`` (5xx), ``failed`` (no answer) or ``plain``."""

    label: str
    count: int
    tone: str = "plain"


@dataclass(frozen=True, slots=True)
class SlowPage:
    """A row of the slowest pages: the URL, its time, and its status or error kind."""

    url: str
    elapsed_ms: float
    status: int | None
    error_kind: str | None


@dataclass(frozen=True, slots=True)
class Overview:
    """Everything the report shows except the broken links (see the module docstring)."""

    records: int
    fetched: int
    failed: int
    errors: int
    broken: int
    bytes: int
    first_fetch: datetime | None
    last_fetch: datetime | None
    links_collected: bool
    statuses: tuple[Bar, ...]
    content_types: tuple[Bar, ...]
    depths: tuple[Bar, ...]
    response_times: tuple[Bar, ...]
    slowest: tuple[SlowPage, ...]


class Tally:
    """Counts records handed to :meth:`add`; :meth:`overview` gives the figures so far.

    >>> tally = Tally()
    >>> for status in (200, 200, 404):
    ...     tally.add(Record("http://a/", status, content_type="text/html; charset=utf-8"))
    >>> overview = tally.overview()
    >>> [(bar.label, bar.count) for bar in overview.statuses]
    [('200', 2), ('404', 1)]
    >>> overview.content_types
    (Bar(label='text/html', count=3, tone='plain'),)
    """

    def __init__(self) -> None:
        self._records = 0
        self._fetched = 0
        self._errors = 0
        self._broken = 0
        self._bytes = 0
        self._first: datetime | None = None
        self._last: datetime | None = None
        self._links_collected = False
        self._statuses: Counter[int] = Counter()
        self._failures: Counter[str] = Counter()
        self._types: Counter[str] = Counter()
        self._depths: Counter[int] = Counter()
        self._times = [0] * (len(TIME_EDGES_MS) + 1)
        self._slow: list[SlowPage] = []

    def __repr__(self) -> str:
        return f"<Tally records={self._records} fetched={self._fetched} broken={self._broken}>"

    def add(self, record: Record) -> None:
        """Count one record."""
        self._records += 1
        self._bytes += record.bytes
        self._depths[min(record.depth, DEPTH_BARS - 1)] += 1
        self._links_collected = self._links_collected or record.outlinks is not None
        if record.broken:
            self._broken += 1
        if record.status is None or record.error_kind is not None:
            self._errors += 1
        if record.status is None:
            self._failures[record.error_kind or ""] += 1
        else:
            self._fetched += 1
            self._statuses[record.status] += 1
            self._types[_media_type(record.content_type)] += 1
        if record.fetched_at is not None:
            moment = parse_stamp(record.fetched_at)
            self._first = moment if self._first is None else min(self._first, moment)
            self._last = moment if self._last is None else max(self._last, moment)
        if record.attempted:
            self._times[_time_bucket(record.elapsed_ms)] += 1
            self._slow.append(
                SlowPage(record.url, record.elapsed_ms, record.status, record.error_kind)
            )
            if len(self._slow) >= 10 * SLOWEST:
                self._slow = _slowest(self._slow)

    def overview(self) -> Overview:
        """The figures of every record added so far."""
        return Overview(
            records=self._records,
            fetched=self._fetched,
            failed=self._records - self._fetched,
            errors=self._errors,
            broken=self._broken,
            bytes=self._bytes,
            first_fetch=self._first,
            last_fetch=self._last,
            links_collected=self._links_collected,
            statuses=self._status_bars(),
            content_types=self._type_bars(),
            depths=self._depth_bars(),
            response_times=tuple(
                Bar(label, count) for label, count in zip(TIME_LABELS, self._times, strict=True)
            ),
            slowest=tuple(_slowest(self._slow)),
        )

    def _status_bars(self) -> tuple[Bar, ...]:
        answered = [Bar(str(code), n, _tone(code)) for code, n in sorted(self._statuses.items())]
        failed = [
            Bar(f"no answer: {kind}" if kind else "no answer", n, "failed")
            for kind, n in sorted(self._failures.items())
        ]
        return (*answered, *failed)

    def _type_bars(self) -> tuple[Bar, ...]:
        ranked = sorted(self._types.items(), key=lambda item: (-item[1], item[0]))
        bars = [Bar(name, n) for name, n in ranked[:CONTENT_TYPE_BARS]]
        rest = ranked[CONTENT_TYPE_BARS:]
        if rest:
            kinds = "type" if len(rest) == 1 else "types"
            bars.append(Bar(f"other ({len(rest)} {kinds})", sum(n for _, n in rest)))
        return tuple(bars)

    def _depth_bars(self) -> tuple[Bar, ...]:
        if not self._depths:
            return ()
        deepest = max(self._depths)
        bars = [Bar(str(depth), self._depths[depth]) for depth in range(deepest + 1)]
        if deepest == DEPTH_BARS - 1:
            bars[-1] = Bar(f"{deepest}+", self._depths[deepest])
        return tuple(bars)


def _label_ms(ms: int) -> str:
    return f"{ms} ms" if ms < 1_000 else f"{ms / 1_000:g} s"


def _time_labels() -> tuple[str, ...]:
    edges = TIME_EDGES_MS
    middle = []
    for low, high in itertools.pairwise(edges):
        low_text, high_text = _label_ms(low), _label_ms(high)
        if low_text[-2:] == high_text[-2:]:  # same unit: "10–25 ms"
            low_text = low_text.rsplit(" ", 1)[0]
        elif high >= 1_000:  # "0.5–1 s" reads better than "500 ms–1 s"
            low_text = f"{low / 1_000:g}"
        middle.append(f"{low_text}–{high_text}")
    return (f"< {_label_ms(edges[0])}", *middle, f"≥ {_label_ms(edges[-1])}")


TIME_LABELS: Final = _time_labels()
"""The response-time buckets' labels, in order.

>>> TIME_LABELS[:3], TIME_LABELS[-3:]
(('< 10 ms', '10–25 ms', '25–50 ms'), ('2.5–5 s', '5–10 s', '≥ 10 s'))
"""


def _time_bucket(elapsed_ms: float) -> int:
    for index, edge in enumerate(TIME_EDGES_MS):
        if elapsed_ms < edge:
            return index
    return len(TIME_EDGES_MS)


def _media_type(content_type: str | None) -> str:
    """``text/html`` from ``text/HTML; charset=utf-8``; ``(none)`` without a header."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media or "(none)"


def _tone(status: int) -> str:
    return {2: "ok", 3: "redirect", 4: "client", 5: "server"}.get(status // 100, "plain")


def _slowest(pages: list[SlowPage]) -> list[SlowPage]:
    return sorted(pages, key=lambda page: (-page.elapsed_ms, page.url))[:SLOWEST]
