"""Sitemaps (sitemaps.org protocol 0.9): what a sitemap file lists, read safely.

Rules:

* A body that starts with the gzip magic bytes is a gzipped sitemap, whatever its
  Content-Type says; it is inflated under :data:`MAX_SITEMAP_BYTES` (the protocol's own limit
  on an uncompressed sitemap: 50 MB), and a bomb that inflates past it is cut there.
* A body that starts with ``<`` (after white space and a BOM) is XML, read with lxml's
  incremental parser with entity expansion and network access off, so neither a
  "billion laughs" file nor an external entity can do harm; a file that is not well formed is
  read as far as it is readable (``recover``). ``<urlset>`` lists pages, ``<sitemapindex>``
  lists more sitemaps; each ``<loc>`` is taken with its white space stripped. At most
  :data:`MAX_URLS` locations are read, the protocol's limit per file.
* Any other body is a plain-text sitemap: one absolute URL a line.
* Only absolute http(s) URLs are kept; scope, filters and robots.txt are the crawl's business.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass

__all__ = ["MAX_SITEMAP_BYTES", "MAX_URLS", "SitemapContent", "parse_sitemap"]

MAX_SITEMAP_BYTES = 50 * 1024 * 1024
MAX_URLS = 50_000
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class SitemapContent:
    """What one sitemap file lists: page URLs, and (for an index) more sitemap URLs."""

    pages: tuple[str, ...]
    sitemaps: tuple[str, ...]


def parse_sitemap(body: bytes) -> SitemapContent:
    """Read a sitemap body (XML, gzipped XML, or plain text).

    >>> parse_sitemap(b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    ...               b'<url><loc> http://a.test/x </loc></url></urlset>')
    SitemapContent(pages=('http://a.test/x',), sitemaps=())
    >>> parse_sitemap(b"http://a.test/1\\nnot a url\\nhttps://a.test/2\\n").pages
    ('http://a.test/1', 'https://a.test/2')
    """
    if body.startswith(_GZIP_MAGIC):
        body = _inflate(body)
    text_start = body.lstrip().removeprefix(b"\xef\xbb\xbf").lstrip()
    if text_start.startswith(b"<"):
        return _parse_xml(body)
    lines = body.decode("utf-8-sig", errors="replace").splitlines()[:MAX_URLS]
    return SitemapContent(tuple(line.strip() for line in lines if _is_url(line.strip())), ())


def _inflate(body: bytes) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        return inflater.decompress(body, MAX_SITEMAP_BYTES)
    except zlib.error:
        return b""  # not gzip after all: nothing to read


def _parse_xml(body: bytes) -> SitemapContent:
    from lxml import etree  # here: most crawls read no sitemap, and lxml costs start-up time

    pages: list[str] = []
    sitemaps: list[str] = []
    parser = etree.iterparse(
        io.BytesIO(body),
        events=("end",),
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        recover=True,
        load_dtd=False,
    )
    try:
        for _, element in parser:
            if _local(element.tag) == "loc":
                parent = element.getparent()
                url = (element.text or "").strip()
                if _is_url(url):
                    kind = _local(parent.tag) if parent is not None else ""
                    (sitemaps if kind == "sitemap" else pages).append(url)
                if len(pages) + len(sitemaps) >= MAX_URLS:
                    break
            elif _local(element.tag) in ("url", "sitemap"):
                element.clear()  # keep memory flat on a 50,000-entry file
    except etree.XMLSyntaxError:
        pass  # what was read before the damage stands
    return SitemapContent(tuple(pages), tuple(sitemaps))


def _local(tag: object) -> str:
    name = tag if isinstance(tag, str) else ""
    return name.rpartition("}")[2]


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://")) and " " not in text
