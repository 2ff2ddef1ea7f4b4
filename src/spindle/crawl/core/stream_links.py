"""What a big page says, read as a stream of tags: no document tree is built.

A document tree costs about 20 times the page: a 10 MB page of highlighted source (the Rust
docs have four) took lexbor 195 MB, which set the crawl's peak RSS, and glibc kept it after
the tree was freed. Pages of at least :data:`STREAM_BYTES` are therefore read by libxml2's HTML
tokenizer (lxml's parser-target interface), which hands each start tag, end tag and run of
text to :class:`_Reader` and keeps nothing else; only what
:class:`~spindle.crawl.core.links.LinkExtractor` reports is collected, by the same rules (see
that module). libxml2 reads broken markup by HTML 4 rules rather than
HTML5's, so on such markup a big page's links can differ from what the tree would give. Read
both ways, every page of the Rust docs (22,002 files of 1 KB or more) and of the Python docs
(530) gave the same links, out-of-scope links, titles, directives and anchor texts; the stream
took no more CPU.
"""

from __future__ import annotations

import re

from lxml import etree

__all__ = ["STREAM_BYTES", "PageTags", "read_tags"]

# Bodies of at least this many bytes are read as a stream (see the module docstring): the
# stream costs more CPU than lexbor's tree (0.79 s against 0.56 s for the Python docs' twelve
# largest pages, 8.7 MB), which the crawl waits for when a big index page holds the links to
# everything; a tree of a smaller page costs at most about 80 MB, and only while it is read.
STREAM_BYTES = 4 * 1024 * 1024
# The decoded page is fed to the tokenizer in pieces of this many characters.
_PIECE = 256 * 1024
_HTML_SPACE = re.compile("[ \t\n\f\r]+")


def _words(value: str | None) -> list[str]:
    return _HTML_SPACE.split(value.lower()) if value else []


class PageTags:
    """What a page's tags say, in document order: the first ``<base href>`` (None when the
    page has none), the ``content`` of each robots meta tag, each ``<a href>`` and
    ``<area href>`` as (href, rel says nofollow, text), and the first title's text."""

    __slots__ = ("base", "links", "robots", "title")

    def __init__(self) -> None:
        self.base: str | None = None
        self.robots: list[str | None] = []
        self.links: list[tuple[str, bool, str]] = []
        self.title: str | None = None


class _Reader:
    """The parser target: libxml2 calls it for every tag and run of text."""

    def __init__(self, texts: bool) -> None:
        self.tags = PageTags()
        self._texts = texts  # whether anchor texts are wanted
        self._seen_base = False
        self._in_title = False
        self._title: list[str] = []
        self._anchor: list[str] | None = None  # text nodes of the open <a>, when kept
        self._node: list[str] = []  # pieces of the current text node (libxml2 splits them)
        self._anchor_at = 0  # index in tags.links of the open <a>

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self._boundary()
        if tag in ("a", "area"):
            self._close_anchor()  # an <a> inside an <a> ends it, as in HTML5
            href = attrib.get("href")
            if href is None:
                return
            nofollow = "nofollow" in _words(attrib.get("rel"))
            text = (attrib.get("alt") or "") if tag == "area" else ""
            self.tags.links.append((href, nofollow, text))
            if tag == "a" and self._texts:
                self._anchor, self._anchor_at = [], len(self.tags.links) - 1
        elif tag == "base" and not self._seen_base and "href" in attrib:
            self._seen_base = True
            self.tags.base = attrib["href"]
        elif tag == "meta" and (attrib.get("name") or "").lower() == "robots":
            self.tags.robots.append(attrib.get("content"))
        elif tag == "title" and self.tags.title is None:
            self._in_title = True

    def end(self, tag: str) -> None:
        self._boundary()
        if tag == "a":
            self._close_anchor()
        elif tag == "title" and self._in_title:
            self._in_title = False
            self.tags.title = "".join(self._title)

    def data(self, text: str) -> None:
        if self._in_title:
            self._title.append(text)
        if self._anchor is not None:
            self._node.append(text)

    def comment(self, text: str) -> None:
        self._boundary()  # a comment separates text nodes and is not text

    def close(self) -> PageTags:
        self._boundary()
        self._close_anchor()
        if self._in_title:
            self.tags.title = "".join(self._title)
        return self.tags

    def _boundary(self) -> None:
        if self._anchor is not None and self._node:
            self._anchor.append("".join(self._node))
            self._node = []

    def _close_anchor(self) -> None:
        if self._anchor is None:
            return
        href, nofollow, _ = self.tags.links[self._anchor_at]
        self.tags.links[self._anchor_at] = (href, nofollow, " ".join(self._anchor))
        self._anchor = None


def read_tags(text: str, *, texts: bool) -> PageTags:
    """Read a decoded page's tags; ``texts`` says whether to keep each ``<a>``'s text.

    >>> tags = read_tags('<base href="/b/"><a href="x" rel="NoFollow">x<b>y</b></a>', texts=True)
    >>> tags.base, tags.links
    ('/b/', [('x', True, 'x y')])
    """
    reader = _Reader(texts)
    parser = etree.HTMLParser(target=reader, no_network=True)
    for start in range(0, len(text), _PIECE):
        parser.feed(text[start : start + _PIECE])
    tags: PageTags = parser.close()
    return tags
