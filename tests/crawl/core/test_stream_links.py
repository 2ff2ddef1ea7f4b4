"""Reading a page as a stream of tags: the pieces it is fed in and the size that selects it."""

from __future__ import annotations

import pytest

from spindle.crawl.core import stream_links
from spindle.crawl.core.links import LinkExtractor
from spindle.crawl.core.stream_links import STREAM_BYTES, read_tags
from spindle.crawl.core.urls import LinkResolver, Scope, ScopeRule
from spindle.crawl.core.values import Outlink

PAGE = (
    '<title>Big &amp; <b>bold</b></title><base href="/b/">'
    '<meta name="Robots" content="noindex"><meta name="robots">'
    '<a href="x.html" rel="author  NOFOLLOW">one<!-- c --><i>two</i> &lt;three&gt;</a>'
    '<area href="y.html" alt="the area"><a>no href</a><a href="z.html">four<a href="w">five</a>'
)


@pytest.mark.parametrize("piece", [1, 3, 7, 1024])
def test_the_pieces_a_page_is_fed_in_change_nothing(
    piece: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream_links, "_PIECE", piece)
    tags = read_tags(PAGE, texts=True)
    assert tags.base == "/b/"
    assert tags.robots == ["noindex", None]
    assert tags.title == "Big & <b>bold</b>"  # RCDATA: no tags in a title
    assert tags.links == [
        ("x.html", True, "one two  <three>"),  # text nodes joined by " "
        ("y.html", False, "the area"),
        ("z.html", False, "four"),
        ("w", False, "five"),
    ]


def test_a_page_without_tags_says_nothing() -> None:
    tags = read_tags(" " * 10, texts=True)
    assert (tags.base, tags.robots, tags.links, tags.title) == (None, [], [], None)


def test_a_page_of_stream_bytes_gives_what_the_tree_gives() -> None:
    url = "http://a.test/d/p.html"
    extractor = LinkExtractor(
        LinkResolver(Scope.from_seeds(ScopeRule.HOST, [url])), collect_outlinks=True
    )
    small = PAGE.encode()
    big = small + b"<!--" + b"-" * STREAM_BYTES + b"-->"
    tree, stream = extractor.parse(url, small, "text/html"), extractor.parse(url, big, "text/html")
    assert stream == tree
    assert stream.title == "Big & <b>bold</b>"
    assert stream.outlinks[0] == Outlink("http://a.test/b/x.html", "one two <three>", True)
