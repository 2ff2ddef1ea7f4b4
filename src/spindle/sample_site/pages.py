"""The sample site's content: pure functions from a path to a reply, no I/O.

The site is a documentation-like tree of ``SiteSpec.pages`` pages at ``/docs/N.html``. Page
``N`` links to its children ``2N+1`` and ``2N+2`` (so every page is reachable from ``/`` within
about log2(pages) clicks; with ``fanout`` f, to ``fN+1`` to ``fN+f``), to its parent, and to
pseudo-random other pages drawn from a generator seeded with ``(seed, N)``: the same spec
always gives the same bytes. Links mix absolute paths, relative paths and fragments, as real
sites do. Around the tree sit the things a crawler must handle politely: a robots.txt that
disallows ``/private/``, a PDF that must not be parsed, a permanent redirect, a broken link and
an off-site link.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from html import escape

__all__ = ["ROBOTS_TXT", "Reply", "SiteSpec", "render"]

ROBOTS_TXT = b"User-agent: *\nDisallow: /private/\n"

_WORDS = (
    "thread",
    "lock",
    "queue",
    "condition",
    "semaphore",
    "barrier",
    "event",
    "task",
    "future",
    "loop",
    "select",
    "poll",
    "socket",
    "buffer",
    "frontier",
    "crawler",
    "robots",
    "politeness",
    "backoff",
    "jitter",
    "token",
    "bucket",
    "deadlock",
    "banker",
    "resource",
    "claim",
    "philosopher",
    "fork",
    "starvation",
    "fairness",
    "latency",
    "throughput",
)


@dataclass(frozen=True, slots=True)
class SiteSpec:
    """The shape of a generated site.

    Args:
        pages: number of ``/docs/N.html`` pages.
        links_per_page: links on each page (at least the tree links, up to ``pages``).
        page_bytes: approximate size of each page's HTML (filler text pads it).
        seed: varies the cross links; the same spec always renders the same site.
        fanout: children of each page in the tree; with ``links_per_page`` equal to it and
            ``pages`` large, every page links to that many pages no other page links to (the
            memory benchmark's shape: 4,000 pages with 500 each admit 2 million URLs).
    """

    pages: int = 300
    links_per_page: int = 10
    page_bytes: int = 6_000
    seed: int = 0
    fanout: int = 2

    def __post_init__(self) -> None:
        if self.pages < 1:
            raise ValueError(f"pages must be at least 1, got {self.pages}")
        if self.links_per_page < 0 or self.page_bytes < 0:
            raise ValueError("links_per_page and page_bytes cannot be negative")
        if self.fanout < 1:
            raise ValueError(f"fanout must be at least 1, got {self.fanout}")


@dataclass(frozen=True, slots=True)
class Reply:
    """A response the server sends as it is."""

    status: int
    content_type: str
    body: bytes
    location: str | None = None


def render(spec: SiteSpec, path: str) -> Reply:
    """The reply for ``path`` (no query string) on the site described by ``spec``.

    >>> spec = SiteSpec(pages=3)
    >>> render(spec, "/docs/0.html").status, render(spec, "/docs/3.html").status
    (200, 404)
    >>> render(spec, "/old-home").location
    '/'
    """
    if path in ("/", "/index.html"):
        return _html(_index(spec))
    if path.startswith("/docs/") and path.endswith(".html"):
        number = path[len("/docs/") : -len(".html")]
        if number.isdigit() and int(number) < spec.pages and str(int(number)) == number:
            return _html(_page(spec, int(number)))
    if path == "/robots.txt":
        return Reply(200, "text/plain", ROBOTS_TXT)
    if path == "/about.html":
        return _html(_document("About", '<p>A generated site. <a href="/">Home</a></p>'))
    if path == "/private/secret.html":
        return _html(_document("Private", "<p>robots.txt asks crawlers to stay out.</p>"))
    if path == "/files/report.pdf":
        fake_pdf = b'%PDF-1.4\n% not HTML: <a href="/docs/never-parsed.html">x</a>\n%%EOF\n'
        return Reply(200, "application/pdf", fake_pdf)
    if path == "/old-home":
        return Reply(301, "text/html", b"", location="/")
    return Reply(404, "text/html", _document("Not found", "<p>No such page.</p>").encode())


def _html(text: str) -> Reply:
    return Reply(200, "text/html; charset=utf-8", text.encode())


def _document(title: str, body: str) -> str:
    return (
        f"<!doctype html>\n<html><head><meta charset=utf-8><title>{escape(title)}</title></head>"
        f"\n<body><h1>{escape(title)}</h1>\n{body}\n</body></html>\n"
    )


def _index(spec: SiteSpec) -> str:
    links = [
        ("/docs/0.html", "Documentation"),
        ("/about.html", "About"),
        ("/private/secret.html", "Private area"),
        ("/files/report.pdf", "Annual report (PDF)"),
        ("/old-home", "Old home page"),
        ("/docs/missing.html", "A broken link"),
        ("https://example.org/", "Elsewhere"),
    ]
    items = "\n".join(f'<li><a href="{href}">{escape(label)}</a></li>' for href, label in links)
    return _document(f"Sample site ({spec.pages} pages)", f"<ul>\n{items}\n</ul>")


def _page(spec: SiteSpec, number: int) -> str:
    rng = random.Random(spec.seed * 1_000_003 + number)
    fanout = spec.fanout
    first = fanout * number + 1
    targets = list(range(first, min(first + fanout, spec.pages)))
    if number > 0:
        targets.append((number - 1) // fanout)
    while len(targets) < min(spec.links_per_page, spec.pages):
        targets.append(rng.randrange(spec.pages))
    anchors = []
    for position, target in enumerate(targets[: max(spec.links_per_page, 1)]):
        # Vary the spelling of links the way real sites do; all resolve to /docs/N.html.
        href = (f"/docs/{target}.html", f"{target}.html", f"./{target}.html#part-{position}")[
            position % 3
        ]
        anchors.append(f'<li><a href="{href}">Chapter {target}</a></li>')
    body = f'<p><a href="/">Home</a></p>\n<ul>\n{"".join(anchors)}\n</ul>\n'
    need = max(0, spec.page_bytes - len(body))
    text = _filler_text()
    start = rng.randrange(len(text) - need) if need < len(text) else 0
    filler = (text * (need // len(text) + 1))[start : start + need]
    return _document(f"Chapter {number}", body + f"<p>{filler}</p>")


@functools.cache
def _filler_text(size: int = 256 * 1024) -> str:
    """Sentences of words drawn from a fixed seed: page padding, sliced per page (fast)."""
    rng = random.Random(0)
    sentences: list[str] = []
    total = 0
    while total < size:
        sentence = " ".join(rng.choice(_WORDS) for _ in range(12)).capitalize() + ". "
        sentences.append(sentence)
        total += len(sentence)
    return "".join(sentences)
