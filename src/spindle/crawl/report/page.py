"""The HTML report as one self-contained page: no script, no external resource, no network.

Rules:

* Every piece of text that comes from a record (URLs, titles, anchor texts, content types,
  error messages) goes through :func:`html.escape` with quotes, in text and in attributes
  alike: pages are written by strangers, and a title of ``<script>...`` must show as text.
  Only ``http:`` and ``https:`` URLs become links (``rel="noreferrer"``); anything else stays
  text, so a ``javascript:`` URL can never be clicked.
* A Content-Security-Policy in the page forbids scripts, frames, fonts, images and every fetch
  (``default-src 'none'``) and allows only the inline stylesheet, as a second wall behind the
  escaping. The page works without scripts and prints on paper (a print stylesheet drops the
  contents list and keeps each broken URL's rows on one page).
* Sections and figures have stable ids for tests and scrapers: ``summary`` (``total-records``,
  ``total-fetched``, ``total-errors``, ``total-broken``, ``total-bytes``, ``time-span``),
  ``statuses``, ``content-types``, ``depths``, ``response-times`` (charts ``chart-NAME``),
  ``slowest`` (``slowest-table``), ``broken-links`` (``broken-table``, one ``tbody.broken``
  per URL with ``data-url``; ``links-note`` when anchor texts are unknown).
* The page holds no time of its own making: the same records give the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from html import escape
from http import HTTPStatus

from spindle import __version__
from spindle.crawl.report.broken import BrokenLink, Referrer, ReferrerSource
from spindle.crawl.report.svg import bar_chart
from spindle.crawl.report.tally import Bar, Overview

__all__ = ["render_page"]

_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

_STYLE = """
:root { color-scheme: light; --ink: #1a202c; --muted: #4a5568; --rule: #e2e8f0;
  --ok: #2f855a; --redirect: #2b6cb0; --client: #c05621; --server: #c53030;
  --failed: #718096; --plain: #4c51bf; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1100px; padding: 24px 32px 48px; color: var(--ink);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  background: #fff; }
h1 { font-size: 1.7rem; margin: 0 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 1.25rem; margin: 0 0 10px; padding-bottom: 4px;
  border-bottom: 2px solid var(--rule); }
p { margin: 6px 0; }
.source, .muted, footer { color: var(--muted); }
header { margin-bottom: 16px; }
dl.totals { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr));
  gap: 10px; margin: 16px 0 0; }
dl.totals div { border: 1px solid var(--rule); border-radius: 6px; padding: 8px 12px; }
dl.totals dt { color: var(--muted); font-size: 0.8rem; text-transform: uppercase;
  letter-spacing: 0.04em; }
dl.totals dd { margin: 2px 0 0; font-size: 1.25rem; font-weight: 600; }
dl.totals dd small { display: block; font-size: 0.78rem; font-weight: 400;
  color: var(--muted); }
nav.contents { margin: 12px 0 8px; font-size: 0.9rem; }
nav.contents a { margin-right: 14px; }
section { margin: 28px 0; }
.chart { display: block; max-width: 100%; height: auto; }
.chart text { font: 12px system-ui, "DejaVu Sans", sans-serif; fill: var(--ink); }
.chart text.count { fill: var(--muted); }
.chart .tone-ok rect { fill: var(--ok); }
.chart .tone-redirect rect { fill: var(--redirect); }
.chart .tone-client rect { fill: var(--client); }
.chart .tone-server rect { fill: var(--server); }
.chart .tone-failed rect { fill: var(--failed); }
.chart .tone-plain rect { fill: var(--plain); }
table { border-collapse: collapse; width: 100%; font-size: 0.88rem; table-layout: fixed; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px;
  border-bottom: 1px solid var(--rule); overflow-wrap: break-word; }
col.rank { width: 3.5em; } col.ms { width: 7.5em; } col.code { width: 9em; }
col.target { width: 27%; } col.problem { width: 22%; } col.anchor { width: 17%; }
th { background: #f7fafc; font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; }
tbody.broken { border-top: 2px solid #cbd5e0; }
tbody.broken td.target { font-weight: 600; }
.status-client { color: var(--client); } .status-server { color: var(--server); }
.status-failed { color: var(--failed); } .status-redirect { color: var(--redirect); }
.unknown, .none { color: var(--muted); font-style: italic; }
.tag { display: inline-block; font-size: 0.75rem; color: var(--muted);
  border: 1px solid var(--rule); border-radius: 4px; padding: 0 4px; margin-left: 4px; }
.via { display: block; font-size: 0.8rem; color: var(--muted); }
.note { background: #fffaf0; border-left: 4px solid #dd6b20; padding: 8px 12px; }
.empty { color: var(--muted); }
a { color: #2b6cb0; text-decoration: none; }
a:hover { text-decoration: underline; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav.contents { display: none; }
  a { color: inherit; }
  section.chart-section, tbody.broken, tr { break-inside: avoid; }
  h2 { break-after: avoid; }
  th { background: none; }
}
"""

_SECTIONS = (
    ("statuses", "Status codes"),
    ("content-types", "Content types"),
    ("depths", "Depths"),
    ("response-times", "Response times"),
    ("slowest", "Slowest pages"),
    ("broken-links", "Broken links"),
)


def render_page(
    overview: Overview, broken: tuple[BrokenLink, ...], *, title: str, source: str
) -> Iterator[str]:
    """Yield the report page in pieces, to write one after another.

    ``title`` heads the page; ``source`` names the records file. Both are escaped.
    """
    yield (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8"/>\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}"/>\n'
        '<meta name="referrer" content="no-referrer"/>\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>\n'
        f'<meta name="generator" content="Spindle {escape(__version__)}"/>\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
    )
    yield _header(overview, title, source)
    yield _contents()
    yield _chart_section("statuses", "Status codes", overview.statuses, "No records.")
    yield _chart_section(
        "content-types", "Content types", overview.content_types, "No HTTP answers."
    )
    yield _chart_section("depths", "Depths", overview.depths, "No records.")
    yield _chart_section(
        "response-times",
        "Response times",
        overview.response_times if any(b.count for b in overview.response_times) else (),
        "Nothing was fetched.",
        note="Time from request to the end of the answer (elapsed_ms), per fetched URL.",
    )
    yield _slowest(overview)
    yield from _broken(broken, overview.links_collected)
    yield (
        f"<footer><p>Made by Spindle {escape(__version__)} from {escape(source)}.</p></footer>\n"
        "</body>\n</html>\n"
    )


def _header(overview: Overview, title: str, source: str) -> str:
    span = _span(overview.first_fetch, overview.last_fetch)
    totals = [
        ("total-records", "Records", f"{overview.records:,}", ""),
        ("total-fetched", "Fetched", f"{overview.fetched:,}", "with an HTTP answer"),
        ("total-errors", "Errors", f"{overview.errors:,}", f"{overview.failed:,} without answer"),
        ("total-broken", "Broken URLs", f"{overview.broken:,}", "4xx, 5xx, failed or in error"),
        ("total-bytes", "Bytes", _size(overview.bytes), f"{overview.bytes:,} bytes"),
        ("time-span", "Time span", *span),
    ]
    items = "\n".join(
        f'<div><dt>{name}</dt><dd id="{ident}">{value}'
        + (f" <small>{detail}</small>" if detail else "")
        + "</dd></div>"
        for ident, name, value, detail in totals
    )
    return (
        f'<header id="summary">\n<h1>{escape(title)}</h1>\n'
        f'<p class="source">Records from <code>{escape(source)}</code></p>\n'
        f'<dl class="totals">\n{items}\n</dl>\n</header>\n'
    )


def _contents() -> str:
    links = " ".join(f'<a href="#{ident}">{name}</a>' for ident, name in _SECTIONS)
    return f'<nav class="contents" aria-label="Contents">{links}</nav>\n'


def _chart_section(
    ident: str, heading: str, bars: tuple[Bar, ...], empty: str, note: str = ""
) -> str:
    body = bar_chart(ident, heading, bars) if bars else f'<p class="empty">{empty}</p>'
    note_html = f'<p class="muted">{note}</p>\n' if note else ""
    return (
        f'<section id="{ident}" class="chart-section">\n<h2>{heading}</h2>\n'
        f"{note_html}{body}\n</section>\n"
    )


def _slowest(overview: Overview) -> str:
    if not overview.slowest:
        return (
            '<section id="slowest">\n<h2>Slowest pages</h2>\n'
            '<p class="empty">Nothing was fetched.</p>\n</section>\n'
        )
    rows = "\n".join(
        f'<tr><td class="num">{rank}</td><td class="num ms">{page.elapsed_ms:,.1f} ms</td>'
        f'<td class="status">{_status_text(page.status, page.error_kind)}</td>'
        f'<td class="url">{_link(page.url)}</td></tr>'
        for rank, page in enumerate(overview.slowest, start=1)
    )
    return (
        f'<section id="slowest">\n<h2>Slowest pages</h2>\n'
        f'<p class="muted">The {len(overview.slowest)} fetched URLs that took longest.</p>\n'
        '<table id="slowest-table">\n<colgroup><col class="rank"/><col class="ms"/>'
        '<col class="code"/><col/></colgroup>\n'
        '<thead><tr><th class="num">#</th><th class="num">Time</th>'
        f"<th>Status</th><th>URL</th></tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>\n"
        "</section>\n"
    )


def _broken(broken: tuple[BrokenLink, ...], links_collected: bool) -> Iterator[str]:
    yield f'<section id="broken-links">\n<h2>Broken links ({len(broken):,})</h2>\n'
    yield (
        '<p class="muted">URLs whose record has status 400 or more, no HTTP answer, or an '
        "error, with the pages that link to them.</p>\n"
    )
    if not links_collected and broken:
        yield (
            '<p class="note" id="links-note">This crawl did not collect links (run '
            "<code>spindle crawl</code> with <code>--links</code>), so each broken URL shows "
            "only the page where the crawl first found it, and the anchor texts are unknown.</p>\n"
        )
    if not broken:
        yield '<p class="empty">No broken links.</p>\n</section>\n'
        return
    yield (
        '<table id="broken-table">\n<colgroup><col class="target"/><col class="code"/>'
        '<col class="problem"/><col/><col class="anchor"/></colgroup>\n'
        "<thead><tr><th>Broken URL</th><th>Status</th>"
        "<th>Problem</th><th>Linked from</th><th>Anchor text</th></tr></thead>\n"
    )
    for item in broken:
        yield _broken_rows(item)
    yield "</table>\n</section>\n"


def _broken_rows(item: BrokenLink) -> str:
    shown = sum(ref.times for ref in item.referrers) if item.referrers else 0
    more = item.links - shown if item.source is ReferrerSource.OUTLINKS else 0
    span = max(len(item.referrers), 1) + (1 if more else 0)
    problem = _problem(item)
    lead = (
        f'<td class="target" rowspan="{span}">{_link(item.url)}</td>'
        f'<td class="status {_status_class(item.status)}" rowspan="{span}">'
        f"{_status_text(item.status, None)}</td>"
        f'<td class="problem" rowspan="{span}">{problem}</td>'
    )
    rows = []
    if not item.referrers:
        rows.append(
            '<td class="referrer none" colspan="2">nothing links to it in these records '
            "(a seed)</td>"
        )
    for ref in item.referrers:
        rows.append(_referrer_cells(ref, item.source))
    if more:
        rows.append(
            f'<td class="more muted" colspan="2">and {more:,} more '
            f"link{'s' if more != 1 else ''} not shown</td>"
        )
    rows[0] = lead + rows[0]
    body = "\n".join(f"<tr>{cells}</tr>" for cells in rows)
    return f'<tbody class="broken" data-url="{escape(item.url)}">\n{body}\n</tbody>\n'


def _referrer_cells(ref: Referrer, source: ReferrerSource) -> str:
    if ref.text is None:
        anchor = '<span class="unknown">unknown</span>'
        if source is ReferrerSource.PARENT:
            anchor += ' <span class="tag">first found here</span>'
    elif not ref.text:
        anchor = '<span class="unknown">(no text)</span>'
    else:
        anchor = f'<span class="text">{escape(ref.text)}</span>'
    if ref.nofollow:
        anchor += ' <span class="tag">nofollow</span>'
    if ref.times > 1:
        anchor += f' <span class="tag">×{ref.times}</span>'
    if ref.via is not None:
        anchor += f' <span class="via">via {_link(ref.via)}</span>'
    return f'<td class="referrer">{_link(ref.page)}</td><td class="anchor">{anchor}</td>'


def _problem(item: BrokenLink) -> str:
    if item.error_kind is not None:
        if not item.error_message:
            return f'<span class="kind">{escape(item.error_kind)}</span>'
        return f'<span class="kind">{escape(item.error_kind)}:</span> {escape(item.error_message)}'
    if item.status is not None:
        try:
            return escape(HTTPStatus(item.status).phrase)
        except ValueError:
            return f"HTTP {item.status}"
    return "no answer"


def _status_text(status: int | None, error_kind: str | None) -> str:
    if status is not None:
        return str(status)
    return f"no answer ({escape(error_kind)})" if error_kind else "no answer"


def _status_class(status: int | None) -> str:
    if status is None:
        return "status-failed"
    return {3: "status-redirect", 4: "status-client", 5: "status-server"}.get(status // 100, "")


def _link(url: str) -> str:
    """An escaped URL, clickable only when it is http(s).

    >>> _link('http://a/"><script>')
    '<a href="http://a/&quot;&gt;&lt;script&gt;" rel="noreferrer">http://a/&quot;&gt;&lt;script&gt;</a>'
    >>> _link("javascript:alert(1)")
    'javascript:alert(1)'
    """
    text = escape(url)
    if url[:8].lower().startswith(("http://", "https://")):
        return f'<a href="{text}" rel="noreferrer">{text}</a>'
    return text


def _size(count: int) -> str:
    """Bytes in decimal units.

    >>> _size(999), _size(421_514), _size(3_200_000_000)
    ('999 B', '421.5 kB', '3.2 GB')
    """
    value = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{count} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def _span(first: datetime | None, last: datetime | None) -> tuple[str, str]:
    """The time span as (value, detail): the duration, and the first and last fetch in UTC."""
    if first is None or last is None:
        return "none", "nothing was fetched"
    start, end = first.astimezone(UTC), last.astimezone(UTC)
    same_day = start.date() == end.date()
    end_text = end.strftime("%H:%M:%S" if same_day else "%Y-%m-%d %H:%M:%S")
    return _duration((end - start).total_seconds()), (
        f"{start.strftime('%Y-%m-%d %H:%M:%S')} to {end_text} UTC"
    )


def _duration(seconds: float) -> str:
    """A duration for people.

    >>> _duration(1.62), _duration(192), _duration(7_500)
    ('1.6 s', '3 min 12 s', '2 h 5 min')
    """
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"
