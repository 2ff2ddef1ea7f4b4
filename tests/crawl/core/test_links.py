"""Link extraction: base href, nofollow, robots meta, charsets, HTML detection."""

from __future__ import annotations

import pytest

from spindle.crawl.core.links import LinkExtractor, is_html
from spindle.crawl.core.urls import LinkResolver, Scope, ScopeRule

URL = "http://a.test/dir/page.html"


def parse(body: bytes, content_type: str | None = "text/html", x_robots: str | None = None):  # type: ignore[no-untyped-def]
    scope = Scope.from_seeds(ScopeRule.HOST, [URL])
    return LinkExtractor(LinkResolver(scope)).parse(URL, body, content_type, x_robots)


def test_relative_links_resolve_against_the_page_and_dedupe() -> None:
    page = parse(b'<a href="b.html">1</a><a href="b.html#x">2</a><a href="/c">3</a><area href="d">')
    assert page.links == ("http://a.test/dir/b.html", "http://a.test/c", "http://a.test/dir/d")
    assert page.link_count == 3


def test_base_href_changes_resolution() -> None:
    page = parse(b'<head><base href="http://a.test/other/"></head><a href="x">x</a>')
    assert page.links == ("http://a.test/other/x",)


def test_rel_nofollow_links_are_not_followed() -> None:
    page = parse(b'<a rel="external NoFollow" href="/x">x</a><a href="/y">y</a>')
    assert page.links == ("http://a.test/y",)


def test_area_links_count_and_anchors_without_href_do_not() -> None:
    page = parse(
        b'<a name="top">no href</a><map><area href="/map" rel="help"></map>'
        b'<a href="/z">z</a><area rel="nofollow" href="/hidden">'
    )
    assert page.links == ("http://a.test/map", "http://a.test/z")


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
    assert page.links == (() if nofollow else ("http://a.test/x",))
    assert page.link_count == 1


def test_charset_from_header_and_from_meta() -> None:
    body = "<a href='/caf\u00e9'>x</a>".encode("latin-1")
    assert parse(body, "text/html; charset=iso-8859-1").links == ("http://a.test/caf%C3%A9",)
    body = "<meta charset='latin-1'><a href='/caf\u00e9'>x</a>".encode("latin-1")
    assert parse(body, "text/html").links == ("http://a.test/caf%C3%A9",)
    body = "<a href='/caf\u00e9'>x</a>".encode()
    assert parse(body, "text/html").links == ("http://a.test/caf%C3%A9",)


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
