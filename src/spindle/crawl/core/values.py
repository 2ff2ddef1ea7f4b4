"""Every value that crosses the boundary of the sans-I/O core, in one module.

The core hands out decisions (:class:`Fetch`, :class:`Wait`, :data:`IDLE`, :data:`DONE`); an
engine performs a fetch and hands back facts (:class:`Response` or :class:`Failure`, wrapped
with the parsed page in an :class:`Observation`); the core turns facts into
:class:`PageRecord` values, :class:`Skip` values and frontier :class:`Entry` values, and
hands them over in one :class:`Changes` batch to persist. Engines, stores and outputs depend on
this module, never on the scheduler. All values are immutable; every kind of failure, skip
and trap is an enum member, so a typo fails at import or in mypy instead of changing policy.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple

__all__ = [
    "DONE",
    "IDLE",
    "Action",
    "Changes",
    "CrawlStats",
    "Done",
    "ErrorKind",
    "Failure",
    "Fetch",
    "FetchKind",
    "FilterRule",
    "Headers",
    "Idle",
    "Link",
    "Listing",
    "Observation",
    "Outcome",
    "Outlink",
    "PageRecord",
    "ParsedPage",
    "RecordError",
    "Response",
    "Resumed",
    "RobotsDecision",
    "Skip",
    "SkipReason",
    "TrapRule",
    "TrapTally",
    "Wait",
    "Wire",
]


class FetchKind(enum.Enum):
    """Why a URL is fetched: a page of the crawl, a host's robots.txt, or a sitemap."""

    PAGE = "page"
    ROBOTS = "robots"
    SITEMAP = "sitemap"


class ErrorKind(enum.Enum):
    """Why a URL has no usable answer.

    Engines report the first group as :class:`Failure` kinds; the core adds the second when it
    judges a response. ``retryable`` says whether trying again later could help.

    ===================  =========  =====================================================
    kind                 retried    meaning
    ===================  =========  =====================================================
    timeout              yes        no complete answer within ``--timeout`` (connect, any
                                    read, or the whole response)
    connection           yes        refused, reset or closed before the answer was whole
    dns                  no         the host name does not resolve
    tls                  no         the TLS handshake or certificate failed
    protocol             no         the bytes are not HTTP (bad status line, header
                                    limits exceeded, broken framing)
    decode               no         a Content-Encoding that cannot be decoded
    decompression_bomb   no         a compressed body that expands past every sane ratio
    crash                no         fetching or parsing this one URL raised; the
                                    message names the exception
    http_status          no         429 or 5xx on every attempt
    redirect_loop        no         a redirect back to a URL of its own chain
    too_many_redirects   no         a chain longer than ``--max-redirects``
    bad_redirect         no         a ``Location`` that is not a crawlable URL
    ===================  =========  =====================================================
    """

    TIMEOUT = "timeout"
    CONNECTION = "connection"
    DNS = "dns"
    TLS = "tls"
    PROTOCOL = "protocol"
    DECODE = "decode"
    DECOMPRESSION_BOMB = "decompression_bomb"
    CRASH = "crash"
    HTTP_STATUS = "http_status"
    REDIRECT_LOOP = "redirect_loop"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    BAD_REDIRECT = "bad_redirect"

    @property
    def retryable(self) -> bool:
        """Whether trying the same request again later could succeed."""
        return self in _RETRYABLE


_RETRYABLE: Final = frozenset({ErrorKind.TIMEOUT, ErrorKind.CONNECTION})


class TrapRule(enum.Enum):
    """The spider-trap guard that refused a URL (see :mod:`spindle.crawl.core.traps`)."""

    URL_TOO_LONG = "url_too_long"
    PATH_TOO_DEEP = "path_too_deep"
    REPEATED_PATH = "repeated_path"
    QUERY_VARIANTS = "query_variants"
    HOST_PAGE_CAP = "host_page_cap"


class FilterRule(enum.Enum):
    """The user's filter that refused a URL (see :mod:`spindle.crawl.core.filters`)."""

    INCLUDE = "include"
    EXCLUDE = "exclude"
    NO_PARENT = "no_parent"


class SkipReason(enum.Enum):
    """Why the crawl decided not to fetch a URL it found.

    ``budget`` is the one reason that is not final: the URL was still queued when the crawl
    stopped at ``--max-pages``, and stays queued in the state for a resumed run.
    """

    ROBOTS = "robots"
    ROBOTS_UNREACHABLE = "robots_unreachable"
    TRAP = "trap"
    FILTER = "filter"
    SCOPE = "scope"
    BUDGET = "budget"


# -- decisions ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fetch:
    """Decision: fetch ``url`` now, with one GET, following no redirect.

    ``id`` is unique within a crawl; the observation of this fetch must carry this very value
    back, once. ``url`` is the URL as the page wrote it, normalised only as a browser would;
    it is what goes on the wire and what robots.txt rules are matched against. ``key`` is its
    canonical form, which the crawl deduplicates by (engines have no use for it). The core
    follows redirects itself (``redirect_chain`` holds the URLs before this one), so that every
    hop is deduplicated, checked against robots.txt and paced.
    """

    id: int
    url: str
    key: str
    kind: FetchKind
    depth: int
    parent: str | None
    attempt: int
    max_bytes: int
    redirect_chain: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Wait:
    """Decision: nothing may be fetched before the monotonic time ``until``."""

    until: float


class Idle:
    """Decision: nothing can be fetched until an in-flight fetch finishes."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "IDLE"


class Done:
    """Decision: the crawl is over; nothing is in flight and nothing is left to fetch."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "DONE"


IDLE: Final = Idle()
DONE: Final = Done()

Action = Fetch | Wait | Idle | Done

# -- facts -------------------------------------------------------------------------------------

Headers = tuple[tuple[str, str], ...]
"""Response headers as received: (name, value) pairs in wire order, names as the server wrote
them, repeated names kept."""


@dataclass(frozen=True, slots=True)
class Wire:
    """One exchange as it went over the wire, kept only when the crawl archives it (WARC).

    ``request_headers`` are the request's header fields as sent, in order, ``Host`` included;
    ``target`` is the request target of the request line (``/path?query``). ``http_version``
    (``HTTP/1.1``) and ``reason`` come from the status line; the response's header fields are
    :attr:`Response.headers`. ``body`` is the body as received, before any Content-Encoding
    was undone (the HTTP libraries remove chunked transfer framing, so a chunked body is
    kept as its chunks' data joined); it stops where the fetcher stopped reading, and
    ``complete`` says whether that was the end of the body. A body cut at ``max_bytes`` stops
    where the decoder stopped: at exactly ``max_bytes`` bytes for a body without
    Content-Encoding, at the compressed bytes the decoder took for a compressed one (fed in
    fixed blocks, so the same bytes stop at the same place in either engine); ``complete`` is
    then False. A body not downloaded (:attr:`Response.body_skipped`) is empty, and complete
    only when the head announced an empty body.
    """

    target: str
    request_headers: Headers
    http_version: str
    reason: str
    body: bytes
    complete: bool


@dataclass(frozen=True, slots=True)
class Response:
    """Fact: the server answered with a final (non-1xx) status.

    ``body`` holds at most the fetch's ``max_bytes`` of the decoded body; ``truncated`` says the
    rest was not read. ``fetched_at`` is wall-clock time (seconds since the epoch) for the
    record; ``elapsed`` is how long the fetch took. ``wire`` is the exchange as it went over
    the wire, when the fetcher was asked to keep it. ``body_skipped`` says the body was not
    downloaded at all, because its media type is not one the crawl accepts
    (``--accept-type``): ``body`` is then empty, ``truncated`` False, and the page is
    recorded from its status and headers, with no digest and no parse. When the request went
    on the wire is not here: an engine says so as it happens (:meth:`CrawlScheduler.sent`).
    """

    status: int
    headers: Headers
    body: bytes
    elapsed: float
    fetched_at: float
    truncated: bool = False
    wire: Wire | None = None
    body_skipped: bool = False

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case), or None.

        >>> Response(200, (("content-TYPE", "text/html"),), b"", 0.0, 0.0).header("Content-Type")
        'text/html'
        """
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    @property
    def content_type(self) -> str | None:
        """The ``Content-Type`` header."""
        return self.header("Content-Type")

    @property
    def location(self) -> str | None:
        """The ``Location`` header."""
        return self.header("Location")

    @property
    def retry_after(self) -> str | None:
        """The ``Retry-After`` header."""
        return self.header("Retry-After")

    @property
    def x_robots_tag(self) -> str | None:
        """The ``X-Robots-Tag`` header."""
        return self.header("X-Robots-Tag")


@dataclass(frozen=True, slots=True)
class Failure:
    """Fact: no usable answer. ``message`` is for people; ``kind`` is for policy."""

    kind: ErrorKind
    message: str
    elapsed: float
    fetched_at: float

    @property
    def retryable(self) -> bool:
        """Whether the core may try this URL again."""
        return self.kind.retryable


Outcome = Response | Failure


class Link(NamedTuple):
    """A followable link: the URL to request, and its canonical form for deduplication."""

    url: str
    key: str


class Outlink(NamedTuple):
    """A link of a page, for the link graph: any http(s) URL in request form, in scope or not,
    its anchor text (white space collapsed; an ``<area>``'s alt text) and whether the link
    itself says ``rel=nofollow``."""

    url: str
    text: str
    nofollow: bool


@dataclass(frozen=True, slots=True)
class ParsedPage:
    """What one HTML page tells the crawl.

    ``links`` are the in-scope, followable links (``<a>`` links in document order, then
    ``<area>`` links), each once by canonical key; it is empty when the page says
    ``nofollow``. ``link_count`` is how many such links the page has, even when they are not
    followed. ``outlinks`` lists every http(s) link of the page in document order, only when
    the crawl collects them (``--links``); ``outside`` the followable links out of scope, only
    when the crawl reports them as skips.
    """

    links: tuple[Link, ...]
    link_count: int
    nofollow: bool
    noindex: bool
    title: str | None = None
    outlinks: tuple[Outlink, ...] = ()
    outside: tuple[Link, ...] = ()


@dataclass(frozen=True, slots=True)
class Listing:
    """What a sitemap file lists: page URLs, and (for a sitemap index) more sitemaps."""

    pages: tuple[Link, ...]
    sitemaps: tuple[Link, ...]


@dataclass(frozen=True, slots=True)
class Observation:
    """A fetch handed out by the core, its outcome and what was learnt from the body off the
    scheduler's thread: for HTML pages the parsed page, for any body its SHA-1 (hex), for a
    sitemap what it lists."""

    fetch: Fetch
    outcome: Outcome
    page: ParsedPage | None = None
    sha1: str | None = None
    listing: Listing | None = None


# -- results -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """A URL waiting in the frontier: ``url`` to request, ``key`` to deduplicate by.

    ``attempt`` is the number of the next try (1 for a URL never tried). ``kind`` is PAGE, or
    SITEMAP for a sitemap file to read for more URLs.
    """

    url: str
    key: str
    depth: int
    parent: str | None
    attempt: int = 1
    redirect_chain: tuple[str, ...] = ()
    kind: FetchKind = FetchKind.PAGE


@dataclass(frozen=True, slots=True)
class Skip:
    """A URL the crawl will not fetch, and why; ``rule`` names the trap guard for TRAP and
    the filter for FILTER."""

    url: str
    key: str
    depth: int
    parent: str | None
    reason: SkipReason
    rule: TrapRule | FilterRule | None = None

    @property
    def label(self) -> str:
        """The most specific name of the reason: the trap rule for TRAP, else the reason."""
        return self.rule.value if self.rule is not None else self.reason.value

    def to_json(self) -> dict[str, Any]:
        """The skip as a JSON-ready dict: one line of the skips output."""
        return {
            "url": self.url,
            "depth": self.depth,
            "parent": self.parent,
            "reason": self.reason.value,
            "rule": None if self.rule is None else self.rule.value,
        }


RecordError = tuple[ErrorKind | SkipReason, str]
"""Why a record has no usable answer: a kind and a message for people."""


@dataclass(frozen=True, slots=True)
class PageRecord:
    """The final word on one URL of the crawl: one JSON Lines record.

    Every fetched page gets one, and so does every seed, fetched or not (``status`` is None and
    ``error`` says why). ``key`` (the canonical URL) is for the store, not the output.
    ``fetched_at`` (seconds since the epoch) is None for a URL never fetched. ``sha1`` is the
    hex SHA-1 of the body as kept (decoded, at most ``--max-bytes``); ``redirect_chain`` the
    URLs that redirected to this one, in order; ``outlinks`` None unless the crawl collects
    links.
    """

    url: str
    key: str
    final_url: str | None
    status: int | None
    depth: int
    parent: str | None
    content_type: str | None
    bytes: int
    links: int
    fetched_at: float | None
    elapsed_ms: float
    attempts: int
    error: RecordError | None = None
    truncated: bool = False
    noindex: bool = False
    title: str | None = None
    sha1: str | None = None
    last_modified: str | None = None
    etag: str | None = None
    redirect_chain: tuple[str, ...] = ()
    outlinks: tuple[Outlink, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the record as a JSON-ready dict (``fetched_at`` as ISO 8601 UTC)."""
        stamp = None
        if self.fetched_at is not None:
            moment = datetime.fromtimestamp(self.fetched_at, UTC)
            stamp = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {
            "url": self.url,
            "final_url": self.final_url,
            "status": self.status,
            "depth": self.depth,
            "parent": self.parent,
            "content_type": self.content_type,
            "bytes": self.bytes,
            "links": self.links,
            "fetched_at": stamp,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "attempts": self.attempts,
            "error": None
            if self.error is None
            else {"kind": self.error[0].value, "message": self.error[1]},
            "truncated": self.truncated,
            "noindex": self.noindex,
            "title": self.title,
            "sha1": self.sha1,
            "last_modified": self.last_modified,
            "etag": self.etag,
            "redirect_chain": list(self.redirect_chain),
            "outlinks": None
            if self.outlinks is None
            else [{"url": o.url, "text": o.text, "nofollow": o.nofollow} for o in self.outlinks],
        }


@dataclass(frozen=True, slots=True)
class RobotsDecision:
    """A host's final robots.txt decision, kept in the state so that a resumed crawl reuses it
    instead of fetching robots.txt again (RFC 9309, 2.4, allows caching it for 24 hours).

    ``body`` is the robots.txt that was read (at most 500 KiB), or None when no rules apply:
    then ``reachable`` says allow all (True, e.g. a 404) or disallow all (False, with
    ``reason``). ``fetched_at`` is wall-clock time, for the cache's age.
    """

    host: str
    reachable: bool
    body: bytes | None
    reason: RecordError | None
    fetched_at: float


@dataclass(slots=True)
class Changes:
    """What happened since the last drain, to persist as one atomic batch.

    ``discovered`` are newly admitted URLs; ``retried`` are URLs put back for another attempt
    (their ``attempt`` already counts it); ``skipped`` are URLs that will never be fetched,
    trap refusals included, so that a resumed crawl judges nothing twice; ``robots`` are the
    robots.txt decisions reached. ``exchanges`` are the fetches that got an answer, page and
    robots.txt alike, in the order they finished, when the crawl keeps them for its archives
    (``CrawlConfig.keep_exchanges``); a page's exchange is in the same batch as its record.
    ``read`` are the keys of sitemaps fetched, which are done but have no record.
    """

    records: list[PageRecord] = field(default_factory=list)
    discovered: list[Entry] = field(default_factory=list)
    retried: list[Entry] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    robots: list[RobotsDecision] = field(default_factory=list)
    exchanges: list[tuple[Fetch, Response]] = field(default_factory=list)
    read: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(
            self.records
            or self.discovered
            or self.retried
            or self.skipped
            or self.robots
            or self.exchanges
            or self.read
        )

    def extend(self, other: Changes) -> None:
        """Append ``other``'s changes after this batch's, keeping their order."""
        self.records.extend(other.records)
        self.discovered.extend(other.discovered)
        self.retried.extend(other.retried)
        self.skipped.extend(other.skipped)
        self.robots.extend(other.robots)
        self.exchanges.extend(other.exchanges)
        self.read.extend(other.read)


@dataclass(frozen=True, slots=True)
class TrapTally:
    """What the trap guards have counted (:mod:`spindle.crawl.core.traps`): URLs admitted per
    host key, and per host and path the distinct queries admitted."""

    per_host: dict[str, int] = field(default_factory=dict)
    variants: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Resumed:
    """What a store hands back to continue a crawl: counts and decisions, nothing that grows
    with the frontier (the URLs themselves stay in the store until a frontier asks).

    ``pages_done`` counts the records of fetched URLs, ``fetched`` those that carry an HTTP
    status, ``retrying`` the queued URLs waiting for another attempt (the page budget counts
    them). ``traps`` are the trap guards' counts. ``robots`` are the robots.txt decisions
    still fresh enough to reuse.
    """

    pages_done: int
    fetched: int
    retrying: int = 0
    traps: TrapTally = field(default_factory=TrapTally)
    robots: list[RobotsDecision] = field(default_factory=list)


@dataclass(slots=True)
class CrawlStats:
    """Running counts of this run, for the progress display and the summary.

    Written by the thread that owns the scheduler; read them from that thread too.
    """

    pages: int = 0
    fetched: int = 0
    bytes: int = 0
    retries: int = 0
    robots_fetches: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[ErrorKind | SkipReason] = field(default_factory=Counter)
    skipped: Counter[SkipReason] = field(default_factory=Counter)
    traps: Counter[TrapRule] = field(default_factory=Counter)
    filtered: Counter[FilterRule] = field(default_factory=Counter)
    capped_crawl_delays: dict[str, float] = field(default_factory=dict)
    sitemaps_read: int = 0
    sitemap_urls: int = 0
