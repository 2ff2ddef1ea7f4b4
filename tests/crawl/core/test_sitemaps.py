"""Sitemaps: the parser (XML, index, gzip, plain text, hostile files) and the crawl's use of
them (robots.txt Sitemap: lines and /sitemap.xml, scope, filters, depth, resume)."""

from __future__ import annotations

import gzip

import pytest

from spindle.crawl.core import CrawlConfig, FetchKind, SkipReason
from spindle.crawl.core.sitemaps import MAX_SITEMAP_BYTES, MAX_URLS, parse_sitemap
from spindle.crawl.core.values import Response
from tests.crawl.core.harness import Harness, page, robots

A = "http://a.test"
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def urlset(*urls: str) -> bytes:
    entries = "".join(f"<url><loc>{u}</loc><lastmod>2026-01-01</lastmod></url>" for u in urls)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset {NS}>{entries}</urlset>'.encode()


def index(*urls: str) -> bytes:
    entries = "".join(f"<sitemap><loc>{u}</loc></sitemap>" for u in urls)
    return f"<sitemapindex {NS}>{entries}</sitemapindex>".encode()


def xml(body: bytes) -> Response:
    return Response(200, (("Content-Type", "application/xml"),), body, 0.0, 1.7e9)


def test_urlset_index_gzip_and_text() -> None:
    assert parse_sitemap(urlset(f"{A}/1", f"{A}/2")).pages == (f"{A}/1", f"{A}/2")
    assert parse_sitemap(index(f"{A}/s1.xml")).sitemaps == (f"{A}/s1.xml",)
    assert parse_sitemap(gzip.compress(urlset(f"{A}/z"))).pages == (f"{A}/z",)
    text = f"\ufeff{A}/t1\n  {A}/t2  \nftp://x/\n".encode()
    assert parse_sitemap(text).pages == (f"{A}/t1", f"{A}/t2")


def test_hostile_sitemaps_are_harmless() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY ext SYSTEM "file:///etc/passwd">]>'
        b"<urlset><url><loc>&lol2;&ext;</loc></url><url><loc>http://a.test/ok</loc></url></urlset>"
    )
    assert parse_sitemap(laughs).pages == ("http://a.test/ok",)
    broken = urlset(f"{A}/1")[:-20] + b"<url><loc>http://a.test/2</loc></url>"
    assert parse_sitemap(broken).pages[0] == f"{A}/1"
    bomb = gzip.compress(b"x" * (MAX_SITEMAP_BYTES + 1000))
    assert parse_sitemap(bomb).pages == ()
    many = "\n".join(f"{A}/{i}" for i in range(MAX_URLS + 10)).encode()
    assert len(parse_sitemap(many).pages) == MAX_URLS
    assert parse_sitemap(b"\x1f\x8bnot gzip at all") == parse_sitemap(b"")


def test_sitemaps_named_in_robots_and_at_the_default_place_are_read() -> None:
    site = {
        f"{A}/robots.txt": [robots(f"Sitemap: {A}/maps/index.xml\nUser-agent: *\nDisallow: /no\n")],
        f"{A}/": [page()],
        f"{A}/maps/index.xml": [xml(index(f"{A}/maps/one.xml.gz"))],
        f"{A}/maps/one.xml.gz": [xml(gzip.compress(urlset(f"{A}/deep/x", f"{A}/no/y")))],
        f"{A}/sitemap.xml": [xml(urlset(f"{A}/plain", "http://other.test/z"))],
        f"{A}/deep/x": [page()],
        f"{A}/plain": [page()],
    }
    config = CrawlConfig(seeds=(f"{A}/",), rate=0.0, sitemaps=True, report_scope=True)
    h = Harness(config, site).run()
    kinds = {fetch.url: fetch.kind for _, fetch in h.log}
    assert kinds[f"{A}/maps/one.xml.gz"] is FetchKind.SITEMAP
    assert {r.url: r.depth for r in h.records} == {f"{A}/": 0, f"{A}/deep/x": 1, f"{A}/plain": 1}
    assert {(s.url, s.reason) for s in h.skipped} == {
        (f"{A}/no/y", SkipReason.ROBOTS),
        ("http://other.test/z", SkipReason.SCOPE),
    }
    assert (h.scheduler.stats.sitemaps_read, h.scheduler.stats.sitemap_urls) == (3, 4)


@pytest.mark.parametrize("obey_robots", [True, False])
def test_without_the_option_no_sitemap_is_fetched(obey_robots: bool) -> None:
    site = {f"{A}/": [page()], f"{A}/sitemap.xml": [xml(urlset(f"{A}/hidden"))]}
    config = CrawlConfig(seeds=(f"{A}/",), rate=0.0, obey_robots=obey_robots)
    h = Harness(config, site).run()
    assert f"{A}/sitemap.xml" not in h.fetched()
    with_maps = Harness(
        CrawlConfig(seeds=(f"{A}/",), rate=0.0, obey_robots=obey_robots, sitemaps=True), site
    ).run()
    assert f"{A}/hidden" in with_maps.fetched()
    assert with_maps.fetched().count(f"{A}/sitemap.xml") == 1
