"""Reading a report page back the way a browser parses it (lexbor, an HTML5 parser)."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser, LexborNode

__all__ = ["BrokenRow", "bars", "broken_rows", "cells", "parse", "text_of"]

BrokenRow = tuple[str, tuple[tuple[str, str], ...]]
"""A broken URL and its (linking page, anchor cell text) pairs, as the page shows them."""


def parse(html: str) -> LexborHTMLParser:
    return LexborHTMLParser(html)


def text_of(node: LexborNode | None) -> str:
    assert node is not None
    return " ".join(node.text(separator="").split())


def cells(row: LexborNode) -> list[str]:
    return [text_of(cell) for cell in row.css("td, th")]


def broken_rows(page: LexborHTMLParser) -> list[BrokenRow]:
    rows = []
    for group in page.css("#broken-links tbody.broken"):
        target = text_of(group.css_first("td.target"))
        assert group.attributes["data-url"] == target
        referrers = tuple(
            (text_of(row.css_first("td.referrer")), text_of(row.css_first("td.anchor")))
            for row in group.css("tr")
            if row.css_first("td.anchor") is not None
        )
        rows.append((target, referrers))
    return rows


def bars(page: LexborHTMLParser, chart: str) -> list[tuple[str, int]]:
    """(label, count) of each bar of ``svg#chart-CHART``, checked against the text it shows."""
    found = []
    for bar in page.css(f"svg#chart-{chart} g.bar"):
        label, count = bar.attributes["data-label"] or "", int(bar.attributes["data-count"] or -1)
        assert text_of(bar.css_first("text.count")).startswith(f"{count:,} (")
        assert bar.css_first("rect") is not None
        found.append((label, count))
    return found
