"""Broken URLs and the links that lead to them, found in two passes over the records.

Rules:

* A URL is broken when its record is (:attr:`Record.broken`: status 400 or more, no HTTP
  answer, or an error).
* **First pass** (:meth:`BrokenLinks.add`, every record): remember the broken records, their
  redirect chains and whether any record lists outlinks. Only broken records are kept.
* **Second pass** (:meth:`BrokenLinks.scan`, every record again, only when
  :attr:`BrokenLinks.wants_scan`): every outlink that points at a broken URL becomes a
  :class:`Referrer` of it, with its anchor text. A link that points at a URL of a broken
  record's redirect chain is a link to that record too, and the referrer says ``via`` which
  URL. Links are matched by the crawl's own URL key (query order, percent-encoding), so a
  link spelt differently from the URL the crawl fetched is still found. Keying costs some
  25 us, so a link is keyed only when its key could differ from it and could be a broken
  URL's (same path before the query, or, for a path with escapes, same host).
* When no outlink leads to a broken URL (the crawl ran without ``--links``, or the linking
  page has no outlinks in the file), the record's ``parent``, the page where the crawl first
  found the URL, stands in as its referrer, with the anchor text unknown. A seed has neither.
* At most ``max_referrers`` distinct referrers are kept per broken URL, in file order;
  :attr:`BrokenLink.links` still counts every link, so the report can say how many it left
  out. Identical links of one page (same text, same target) are one referrer with a count.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field
from typing import Final

from spindle.crawl.core.urls import InvalidURL, canonicalize
from spindle.crawl.report.records import Record

__all__ = ["MAX_REFERRERS", "BrokenLink", "BrokenLinks", "Referrer", "ReferrerSource"]

MAX_REFERRERS: Final = 100


class ReferrerSource(enum.Enum):
    """Where the referrers of a broken URL come from."""

    OUTLINKS = "outlinks"
    """Links of other records, with their anchor texts."""
    PARENT = "parent"
    """The record's ``parent`` only: the page where the URL was first found, text unknown."""
    NONE = "none"
    """Nothing links to it in the file (a seed, for one)."""


@dataclass(frozen=True, slots=True)
class Referrer:
    """A page that links to a broken URL.

    ``text`` is the anchor text, None when unknown (a ``parent`` stand-in). ``via`` is the URL
    the link points at when that is not the broken URL itself but a URL that redirected to
    it. ``times`` counts identical links on the page.
    """

    page: str
    text: str | None
    via: str | None = None
    nofollow: bool = False
    times: int = 1


@dataclass(frozen=True, slots=True)
class BrokenLink:
    """A broken URL, why it is broken, and who links to it (``links`` counts every link
    found, also those beyond the kept ``referrers``)."""

    url: str
    status: int | None
    error_kind: str | None
    error_message: str | None
    source: ReferrerSource
    referrers: tuple[Referrer, ...]
    links: int


_RefKey = tuple[str, str | None, str | None, bool]


@dataclass(slots=True)
class _Target:
    record: Record
    referrers: dict[_RefKey, int] = field(default_factory=dict)
    links: int = 0


class BrokenLinks:
    """Collects broken URLs and their referrers over two passes (see the module docstring).

    >>> finder = BrokenLinks()
    >>> page = Record("http://a/", 200, outlinks=())
    >>> gone = Record("http://a/gone", 404, parent="http://a/")
    >>> for record in (page, gone):
    ...     finder.add(record)
    >>> finder.wants_scan
    True
    >>> from spindle.crawl.report.records import Outlink
    >>> finder.scan(Record("http://a/", 200, outlinks=(Outlink("http://a/gone", "Gone", False),)))
    >>> [(b.url, b.status, [(r.page, r.text) for r in b.referrers]) for b in finder.result()]
    [('http://a/gone', 404, [('http://a/', 'Gone')])]
    """

    def __init__(self, max_referrers: int = MAX_REFERRERS) -> None:
        if max_referrers < 1:
            raise ValueError(f"max_referrers must be at least 1, got {max_referrers}")
        self._max = max_referrers
        self._targets: dict[str, _Target] = {}
        self._aliases: dict[str, tuple[_Target, bool]] = {}  # URL -> (target, is a redirect)
        self._keys: dict[str, tuple[_Target, bool]] = {}  # the same, by the crawl's URL key
        self._origins: set[str] = set()
        self._paths: set[str] = set()  # keys without their query
        self._links_seen = False
        self._scanned = False

    def __repr__(self) -> str:
        return f"<BrokenLinks broken={len(self._targets)} scanned={self._scanned}>"

    def add(self, record: Record) -> None:
        """First pass: note ``record`` if it is broken, and whether it lists outlinks."""
        if record.outlinks is not None:
            self._links_seen = True
        if not record.broken or record.url in self._targets:
            return
        target = _Target(record)
        self._targets[record.url] = target
        # A broken URL's own record wins over a redirect chain that passes through it.
        self._aliases[record.url] = (target, False)
        self._keys[_key(record.url)] = (target, False)
        for url in record.redirect_chain:
            self._aliases.setdefault(url, (target, True))
            self._keys.setdefault(_key(url), (target, True))
        for url in (record.url, *record.redirect_chain):
            self._origins.add(_origin(url))
            self._paths.add(_key(url).partition("?")[0])

    @property
    def wants_scan(self) -> bool:
        """Whether a second pass can find anything: broken URLs, and outlinks to look in."""
        return bool(self._targets) and self._links_seen

    def scan(self, record: Record) -> None:
        """Second pass: make each outlink of ``record`` to a broken URL one of its referrers."""
        self._scanned = True
        for link in record.outlinks or ():
            found = self._aliases.get(link.url) or self._keyed(link.url)
            if found is None:
                continue
            target, redirected = found
            target.links += 1
            ref: _RefKey = (record.url, link.text, link.url if redirected else None, link.nofollow)
            if ref in target.referrers:
                target.referrers[ref] += 1
            elif len(target.referrers) < self._max:
                target.referrers[ref] = 1

    def _keyed(self, url: str) -> tuple[_Target, bool] | None:
        """Match ``url`` by its key, keying it only when the key could be a broken URL's."""
        path, query, _ = url.partition("?")
        if not _is_own_key(path):
            could = _origin(url) in self._origins
        elif not query:
            return self._keys.get(url)  # its own key
        else:
            could = path in self._paths  # the key changes only the query
        return self._keys.get(_key(url)) if could else None

    def result(self) -> tuple[BrokenLink, ...]:
        """Every broken URL in URL order, with its referrers."""
        return tuple(self._broken_link(self._targets[url]) for url in sorted(self._targets))

    def _broken_link(self, target: _Target) -> BrokenLink:
        record = target.record
        referrers = tuple(
            Referrer(page, text, via, nofollow, times)
            for (page, text, via, nofollow), times in target.referrers.items()
        )
        links = target.links
        if referrers:
            source = ReferrerSource.OUTLINKS
        elif record.parent is not None:
            source, referrers, links = ReferrerSource.PARENT, (Referrer(record.parent, None),), 1
        else:
            source = ReferrerSource.NONE
        return BrokenLink(
            url=record.url,
            status=record.status,
            error_kind=record.error_kind,
            error_message=record.error_message,
            source=source,
            referrers=referrers,
            links=links,
        )


@functools.lru_cache(maxsize=1 << 16)
def _key(url: str) -> str:
    """The crawl's dedupe key of ``url``, or ``url`` itself when the crawl could not key it."""
    try:
        return canonicalize(url)
    except InvalidURL:
        return url


def _is_own_key(url: str) -> bool:
    """Whether a request-form URL is its own key: the key sorts and re-encodes the query and
    percent-escapes, drops empty path parameters and removes the dot segments a request form
    can keep (from a backslash in the page's href), so a URL without ``?``, ``%``, ``;`` or
    ``/.`` needs no keying (which costs some 25 us a link). Without its query, a URL that is
    its own key is also the part of its key before the query.

    >>> _is_own_key("http://a.test/docs/1.html"), _is_own_key("http://a.test/?b=1&a=2")
    (True, False)
    """
    return "?" not in url and "%" not in url and ";" not in url and "/." not in url


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of a request-form URL, which its key keeps as it is.

    >>> _origin("http://a.test:8080/x?y"), _origin("http://a.test")
    ('http://a.test:8080', 'http://a.test')
    """
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.partition('/')[0].partition('?')[0]}"
