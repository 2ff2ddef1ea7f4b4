"""Horizontal bar charts as inline SVG: readable without scripts, printable, and testable.

Each bar is a ``<g class="bar tone-TONE">`` holding its label (``text.label``), its bar
(``rect``, as long as its share of the largest count) and its count with its share of the
total (``text.count``); a ``<title>`` repeats all three for a tooltip. ``data-label`` and
``data-count`` carry the exact values for tests and scrapers. Labels come from records (status
codes, content types), so every label is escaped, and a label longer than
:data:`LABEL_CHARS` is cut with an ellipsis on screen (the tooltip keeps it whole). Colours
come from the page's stylesheet through the ``tone-`` classes, so the chart has no inline
style.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from typing import Final

from spindle.crawl.report.tally import Bar

__all__ = ["LABEL_CHARS", "bar_chart"]

LABEL_CHARS: Final = 28
_WIDTH: Final = 720
_LABEL_RIGHT: Final = 196  # labels end here (text-anchor end)
_BAR_LEFT: Final = 204
_BAR_SPACE: Final = 400  # the longest bar; the count is written after the bar
_ROW: Final = 22
_BAR_HEIGHT: Final = 14
_PAD: Final = 4
_NAME = re.compile(r"[a-z][a-z0-9-]*\Z")


def bar_chart(name: str, title: str, bars: Sequence[Bar]) -> str:
    """The SVG markup of one chart, ``id="chart-NAME"``, with a bar per element of ``bars``.

    ``name`` is the report's own identifier (lower-case letters, digits, ``-``), never text
    from a record.

    Raises:
        ValueError: ``name`` is not a valid identifier, or ``bars`` is empty (an empty chart
            says nothing: the page says so in words instead).

    >>> svg = bar_chart("demo", "Demo", [Bar("200", 3, "ok"), Bar("<b>", 1)])
    >>> svg.count('<g class="bar'), 'data-label="&lt;b&gt;"' in svg
    (2, True)
    >>> 'data-count="3"' in svg, "3 (75.0%)" in svg
    (True, True)
    """
    if not _NAME.match(name):
        raise ValueError(f"chart name {name!r} is not an identifier")
    if not bars:
        raise ValueError("a chart needs at least one bar")
    total = sum(bar.count for bar in bars)
    largest = max(bar.count for bar in bars)
    height = len(bars) * _ROW + 2 * _PAD
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="chart-{name}" '
        f'viewBox="0 0 {_WIDTH} {height}" width="{_WIDTH}" height="{height}" role="img" '
        f'aria-labelledby="chart-{name}-title">',
        f'<title id="chart-{name}-title">{escape(title)}</title>',
    ]
    for row, bar in enumerate(bars):
        parts.append(_bar(bar, row, total, largest))
    parts.append("</svg>")
    return "\n".join(parts)


def _bar(bar: Bar, row: int, total: int, largest: int) -> str:
    top = _PAD + row * _ROW
    baseline = top + _ROW // 2 + 4
    length = round(_BAR_SPACE * bar.count / largest, 1) if largest else 0.0
    share = f"{100 * bar.count / total:.1f}%" if total else "0.0%"
    count = f"{bar.count:,} ({share})"
    label = escape(bar.label)
    shown = bar.label if len(bar.label) <= LABEL_CHARS else bar.label[: LABEL_CHARS - 1] + "…"
    tone = bar.tone if _NAME.match(bar.tone) else "plain"
    return (
        f'<g class="bar tone-{tone}" data-label="{label}" data-count="{bar.count}">'
        f"<title>{label}: {count}</title>"
        f'<text class="label" x="{_LABEL_RIGHT}" y="{baseline}" text-anchor="end">'
        f"{escape(shown)}</text>"
        f'<rect x="{_BAR_LEFT}" y="{top + (_ROW - _BAR_HEIGHT) // 2}" width="{length:g}" '
        f'height="{_BAR_HEIGHT}"/>'
        f'<text class="count" x="{_BAR_LEFT + length + 6:g}" y="{baseline}">{count}</text>'
        "</g>"
    )
