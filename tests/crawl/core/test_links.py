"""Link extraction: base href, nofollow, robots meta, charsets, HTML detection.

Every test runs twice: with the document tree, and as a stream of tags (the reader of pages of
at least ``STREAM_BYTES``, here lowered to 0), so the two readers answer alike.
"""

from __future__ import annotations

import pytest

from spindle.crawl.core import links
from spindle.crawl.core.links import LinkExtractor, decode_html, is_html
from spindle.crawl.core.urls import LinkResolver, Scope, ScopeRule
from spindle.crawl.core.values import Link, Outlink, ParsedPage

URL = "http://a.test/dir/page.html"


@pytest.fixture(autouse=True, params=["tree", "stream"])
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "stream":
        monkeypatch.setattr(links, "STREAM_BYTES", 0)
    return str(request.param)


def parse(
    body: bytes, content_type: str | None = "text/html", x_robots: str | None = None
) -> ParsedPage:
    scope = Scope.from_seeds(ScopeRule.HOST, [URL])
    return LinkExtractor(LinkResolver(scope)).parse(URL, body, content_type, x_robots)


def urls(page: ParsedPage) -> tuple[str, ...]:
    return tuple(link.url for link in page.links)


def test_relative_links_resolve_against_the_page_and_dedupe() -> None:
    page = parse(b'<a href="b.html">1</a><a href="b.html#x">2</a><a href="/c">3</a><area href="d">')
    assert urls(page) == ("http://a.test/dir/b.html", "http://a.test/c", "http://a.test/dir/d")
    assert page.link_count == 3


def test_base_href_changes_resolution() -> None:
    page = parse(b'<head><base href="http://a.test/other/"></head><a href="x">x</a>')
    assert urls(page) == ("http://a.test/other/x",)


def test_rel_nofollow_links_are_not_followed() -> None:
    page = parse(b'<a rel="external NoFollow" href="/x">x</a><a href="/y">y</a>')
    assert urls(page) == ("http://a.test/y",)


def test_area_links_count_and_anchors_without_href_do_not() -> None:
    page = parse(
        b'<a name="top">no href</a><map><area href="/map" rel="help"></map>'
        b'<a href="/z">z</a><area rel="nofollow" href="/hidden">'
    )
    assert urls(page) == ("http://a.test/map", "http://a.test/z")


@pytest.mark.parametrize(
    ("meta", "header", "nofollow", "noindex"),
    [
        ("nofollow", None, True, False),
        ("NOINDEX, follow", None, False, True),
        ("none", None, True, True),
        (None, "noindex, nofollow", True, True),
        ("all", None, False, False),
    ],
)
def test_robots_meta_and_header(
    meta: str | None, header: str | None, nofollow: bool, noindex: bool
) -> None:
    head = f'<meta name="Robots" content="{meta}">' if meta else ""
    page = parse(f"<head>{head}</head><a href='/x'>x</a>".encode(), x_robots=header)
    assert (page.nofollow, page.noindex) == (nofollow, noindex)
    assert urls(page) == (() if nofollow else ("http://a.test/x",))
    assert page.link_count == 1


def test_charset_from_header_and_from_meta() -> None:
    body = "<a href='/caf\u00e9'>x</a>".encode("latin-1")
    assert urls(parse(body, "text/html; charset=iso-8859-1")) == ("http://a.test/caf%C3%A9",)
    body = "<meta charset='latin-1'><a href='/caf\u00e9'>x</a>".encode("latin-1")
    assert urls(parse(body, "text/html")) == ("http://a.test/caf%C3%A9",)
    body = "<a href='/caf\u00e9'>x</a>".encode()
    assert urls(parse(body, "text/html")) == ("http://a.test/caf%C3%A9",)


@pytest.mark.parametrize(
    ("content_type", "head", "expected"),
    [
        ("text/html", b"", True),
        ("TEXT/HTML; charset=utf-8", b"", True),
        ("application/xhtml+xml", b"", True),
        ("application/json", b"<html>", False),
        ("image/png", b"\x89PNG", False),
        (None, b"\n <!DOCTYPE html>", True),
        (None, b"<HTML><body>", True),
        (None, b"%PDF-1.7", False),
    ],
)
def test_html_detection(content_type: str | None, head: bytes, expected: bool) -> None:
    assert is_html(content_type, head) is expected


@pytest.mark.parametrize("charset", ["rot13", "base64", "hex", "zlib", "idna", "undefined"])
@pytest.mark.parametrize("where", ["header", "meta"])
def test_a_charset_that_names_no_text_encoding_is_ignored(charset: str, where: str) -> None:
    """These labels made html_to_unicode raise, which killed the parser thread."""
    meta = f'<meta charset="{charset}">' if where == "meta" else ""
    body = f"{meta}<a href='/caf\u00e9'>caf\u00e9</a>".encode()
    content_type = f"text/html; charset={charset}" if where == "header" else "text/html"
    assert urls(parse(body, content_type)) == ("http://a.test/caf%C3%A9",)
    latin = f"{meta}caf\u00e9".encode("cp1252")  # not UTF-8: read as cp1252
    assert decode_html(content_type, latin) == f"{meta}caf\u00e9"


@pytest.mark.parametrize("broken", ["http://[::1/", "http://[foo]/x", "//[bad/"])
def test_broken_bracketed_hosts_are_dropped_not_raised(broken: str) -> None:
    """urljoin raises ValueError for these; it used to escape the InvalidURL guard."""
    page = parse(f'<a href="{broken}">x</a><a href="/ok">ok</a>'.encode())
    assert urls(page) == ("http://a.test/ok",)
    based = parse(f'<base href="{broken}"><a href="ok">ok</a>'.encode())
    assert urls(based) == ("http://a.test/dir/ok",)


def test_links_keep_their_query_order_and_dedupe_by_key() -> None:
    page = parse(b'<a href="/s?q=baz/login/&a=1">1</a><a href="/s?a=1&q=baz%2Flogin%2F">2</a>')
    assert page.links == (
        Link("http://a.test/s?q=baz/login/&a=1", "http://a.test/s?a=1&q=baz%2Flogin%2F"),
    )


def test_title_and_outlinks_for_the_link_graph() -> None:
    scope = Scope.from_seeds(ScopeRule.HOST, [URL])
    extractor = LinkExtractor(LinkResolver(scope), collect_outlinks=True)
    body = (
        b"<title>\n  The   page </title>"
        b'<a href="b.html"> one\n <b>two</b> </a>'
        b'<a href="http://other.test/x" rel="nofollow">away</a>'
        b'<a href="mailto:x@a.test">mail</a><a href="#top">top</a>'
        b'<map><area href="/m" alt="the map"></map>'
    )
    page = extractor.parse(URL, body, "text/html")
    assert page.title == "The page"
    assert page.outlinks == (
        Outlink("http://a.test/dir/b.html", "one two", False),
        Outlink("http://other.test/x", "away", True),
        Outlink("http://a.test/m", "the map", False),
    )
    assert urls(page) == ("http://a.test/dir/b.html", "http://a.test/m")
    assert parse(body).outlinks == ()  # only collected when asked
