"""A simulated web, generated on demand from a seed: no page is stored.

Everything about a host or a page is a pure function of (seed, host rank, page number,
attempt), so asking twice gives the same answer and a million hosts cost no memory. The
model, with the defaults of :class:`WebParams`:

* **Hosts** are ranked 1..``hosts`` by popularity. Host ``r`` has about
  ``largest_host / r ** size_exponent`` pages (at least 1), times a log-normal factor
  (sigma ``size_sigma``): a Zipf-like spread of host sizes, from millions of pages down to one.
* **Links.** An HTML page has a log-normal number of links (mean ``links_mean``, sigma
  ``links_sigma``, at most 500). A share ``offsite_share`` of them leave the host: the target
  host is drawn with probability proportional to ``rank ** -link_exponent`` (popular hosts
  attract more inlinks), and the target page is its root half the time, else a page drawn as
  below. A link that stays on its host goes to a page drawn with probability proportional to
  ``1 / (page + 1)`` (navigation towards the top pages) half the time, else uniformly.
* **Pages** (by a hash of the page): HTML 83%, not HTML (PDF, images) 7%, a 301 redirect 3%
  (to a page of the same host, or one time in ten to another host's root; chains and loops
  happen), gone (404) 3%, under ``/private/`` 3% (HTML that robots.txt may disallow), a 500
  error 1%. A host's root is always HTML.
* **Latency**: each host has a median drawn log-normally (median ``latency_median`` s, sigma
  ``latency_host_sigma``); each fetch takes that median times a log-normal factor (sigma
  ``latency_fetch_sigma``). A fetch that would take longer than ``timeout`` times out.
* **Errors**: ``dead_share`` of hosts do not resolve (DNS failure, robots.txt included);
  ``flaky_share`` fail a fetch with probability ``flaky_error_rate``, the others with
  ``error_rate``. A failed attempt is a timeout, a refused connection, a 503, or a 429 (seven
  times in ten with ``Retry-After``, 1 to 180 s) in equal parts; the next attempt draws anew.
* **robots.txt**: 35% of hosts have none (404), 3% answer 503 every time (unreachable, so
  nothing of theirs is fetched), the others serve ``Disallow: /private/``. A share
  ``crawl_delay_share`` of all hosts add a ``Crawl-delay`` drawn from :data:`CRAWL_DELAYS`.

Links and URLs come out in the form a parser hands the scheduler (request form and key; the
URLs are canonical already, so the two are equal strings, as separate objects).
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any, Final

from spindle.crawl.core import ErrorKind, Failure, Fetch, FetchKind, Link, ParsedPage, Response

__all__ = ["CRAWL_DELAYS", "Answer", "SimWeb", "WebParams"]

STAMP: Final = 1_700_000_000.0  # wall-clock time of simulated second 0, for records
MASK: Final = (1 << 64) - 1
_NORMAL = NormalDist()

# Crawl-delay values and their weights among hosts that set one. Small values dominate, and
# a few hosts ask for more than the crawler's cap (--max-crawl-delay, 30 s by default).
CRAWL_DELAYS: Final = (
    (1, 30),
    (2, 10),
    (3, 5),
    (5, 20),
    (10, 20),
    (20, 5),
    (30, 5),
    (60, 3),
    (120, 2),
)

_WORDS: Final = (  # noqa: SIM905 - a word list reads better as words
    "river stone cloud maple north amber harbor cedar delta ember falcon garden island jade "
    "kettle lumen meadow nova orbit pine quartz raven silver tide umber valley willow yonder "
    "zephyr atlas bright coast dune field grove hollow iron lake mesa"
).split()
_SECTIONS: Final = ("news", "blog", "docs", "shop", "wiki", "forum", "archive", "about", "help")
_TLDS: Final = ("com", "org", "net", "de", "co.uk", "io", "fr", "jp", "info", "nl")

HTML, OTHER, REDIRECT, GONE, PRIVATE, SERVER_ERROR = range(6)
# (kind, cumulative share) of pages other than a host's root
_PAGE_KINDS: Final = (
    (HTML, 0.83),
    (OTHER, 0.90),
    (REDIRECT, 0.93),
    (GONE, 0.96),
    (PRIVATE, 0.99),
    (SERVER_ERROR, 1.0),
)
NO_ROBOTS, ROBOTS_RULES, ROBOTS_DOWN = range(3)
_SLUGS: Final = 4096  # distinct slugs (3 to 5 words) that page URLs are made of
_HOST_CACHE: Final = 1 << 16  # host names kept; popular hosts are asked for again and again

_HTML_TYPE: Final = (("Content-Type", "text/html; charset=utf-8"),)
_PDF_TYPE: Final = (("Content-Type", "application/pdf"),)
_TEXT_TYPE: Final = (("Content-Type", "text/plain"),)


@dataclass(frozen=True, slots=True)
class WebParams:
    """The knobs of the simulated web (see the module docstring for what each one does)."""

    seed: int = 1
    hosts: int = 1_000_000
    largest_host: int = 5_000_000
    size_exponent: float = 1.0
    size_sigma: float = 0.5
    link_exponent: float = 1.0
    links_mean: float = 20.0
    links_sigma: float = 0.6
    offsite_share: float = 0.15
    nofollow_share: float = 0.01
    latency_median: float = 0.3
    latency_host_sigma: float = 0.7
    latency_fetch_sigma: float = 0.3
    timeout: float = 15.0
    dead_share: float = 0.02
    flaky_share: float = 0.08
    flaky_error_rate: float = 0.2
    error_rate: float = 0.01
    crawl_delay_share: float = 0.1

    def __post_init__(self) -> None:
        if self.hosts < 1 or self.largest_host < 1:
            raise ValueError("hosts and largest_host must be at least 1")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Answer:
    """What the web does with one fetch: how long it takes, and the outcome. ``page`` is the
    parsed page a parser would produce (for an HTML 2xx answer), for the direct mode."""

    latency: float
    outcome: Response | Failure
    page: ParsedPage | None = None


def mix(x: int) -> int:
    """splitmix64's finaliser: a well-spread 64-bit hash of a 64-bit integer."""
    x = (x + 0x9E3779B97F4A7C15) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def _kind(h: int) -> int:
    u = (h & 0xFFFFF) / 1048576.0
    for kind, share in _PAGE_KINDS:
        if u < share:
            return kind
    return HTML


def zipf_rank(u: float, n: int, exponent: float) -> int:
    """Rank 1..n with probability about proportional to ``rank ** -exponent`` (the inverse of
    the continuous power law's distribution function, at ``u`` in [0, 1))."""
    if n <= 1:
        return 1
    if abs(exponent - 1.0) < 1e-9:
        rank = int(math.exp(u * math.log(n + 1)))
    else:
        one = 1.0 - exponent
        rank = int(((float(n + 1) ** one - 1.0) * u + 1.0) ** (1.0 / one))
    return min(max(rank, 1), n)


class SimWeb:
    """The simulated web of :class:`WebParams`: URLs, pages and answers, computed on demand.

    >>> web = SimWeb(WebParams(seed=3, hosts=1000, largest_host=100))
    >>> root = web.url(1, 0)
    >>> web.locate(root)
    (1, 0)
    >>> web.answer_url(root, 1) == web.answer_url(root, 1)  # the same question, the same answer
    True
    """

    def __init__(self, params: WebParams) -> None:
        self.params = params
        self._salt = mix(params.seed * 0x2545F4914F6CDD1D)
        self._rng = random.Random()
        self._robots_bodies: dict[float, bytes] = {}
        self._hosts: dict[int, str] = {}
        words = random.Random(params.seed)
        self._slugs = [
            "-".join(words.choice(_WORDS) for _ in range(words.randint(3, 5)))
            for _ in range(_SLUGS)
        ]

    # -- hosts -------------------------------------------------------------------------------

    def _u(self, *parts: int) -> float:
        """A uniform number in [0, 1) that depends only on the seed and ``parts``."""
        h = self._salt
        for part in parts:
            h = mix(h ^ (part & MASK))
        return h / 18446744073709551616.0

    def host(self, rank: int) -> str:
        """The host key (``scheme://name``) of the host of this rank."""
        name = self._hosts.get(rank)
        if name is None:
            h = mix(self._salt ^ rank)
            scheme = "https" if h % 10 < 7 else "http"
            word = _WORDS[(h >> 8) % len(_WORDS)]
            tld = _TLDS[(h >> 16) % len(_TLDS)]
            if len(self._hosts) >= _HOST_CACHE:
                self._hosts.clear()
            name = self._hosts[rank] = f"{scheme}://www.{word}{rank}.{tld}"
        return name

    def host_size(self, rank: int) -> int:
        """How many pages the host has."""
        p = self.params
        noise = math.exp(p.size_sigma * _NORMAL.inv_cdf(0.001 + 0.998 * self._u(rank, 1)))
        return max(1, int(p.largest_host / rank**p.size_exponent * noise))

    def host_latency(self, rank: int) -> float:
        """The host's median latency, in seconds."""
        p = self.params
        z = _NORMAL.inv_cdf(0.001 + 0.998 * self._u(rank, 2))
        return min(p.latency_median * math.exp(p.latency_host_sigma * z), 10.0)

    def host_error_rate(self, rank: int) -> float:
        """The chance that one attempt on this host fails; 1.0 for a host that is dead."""
        p = self.params
        u = self._u(rank, 3)
        if u < p.dead_share:
            return 1.0
        if u < p.dead_share + p.flaky_share:
            return p.flaky_error_rate
        return p.error_rate

    def robots_kind(self, rank: int) -> int:
        """NO_ROBOTS (404), ROBOTS_RULES (Disallow: /private/) or ROBOTS_DOWN (503 always)."""
        u = self._u(rank, 4)
        if u < 0.35:
            return NO_ROBOTS
        return ROBOTS_DOWN if u < 0.38 else ROBOTS_RULES

    def crawl_delay(self, rank: int) -> float | None:
        """The Crawl-delay the host's robots.txt asks for, if any (hosts with rules only)."""
        if self.robots_kind(rank) != ROBOTS_RULES:
            return None
        u = self._u(rank, 5)
        if u >= self.params.crawl_delay_share:
            return None
        total = sum(weight for _, weight in CRAWL_DELAYS)
        pick = u / self.params.crawl_delay_share * total
        for delay, weight in CRAWL_DELAYS:
            pick -= weight
            if pick < 0:
                return float(delay)
        return float(CRAWL_DELAYS[-1][0])

    def robots_body(self, delay: float | None) -> bytes:
        """The robots.txt of a host with rules (shared bytes per Crawl-delay value)."""
        key = -1.0 if delay is None else delay
        body = self._robots_bodies.get(key)
        if body is None:
            text = "User-agent: *\nDisallow: /private/\n"
            if delay is not None:
                text += f"Crawl-delay: {delay:g}\n"
            body = self._robots_bodies[key] = text.encode()
        return body

    # -- pages -------------------------------------------------------------------------------

    def _page_hash(self, rank: int, page: int) -> int:
        return mix(self._salt ^ ((rank * 0x9E3779B97F4A7C15 + page) & MASK))

    def page_kind(self, rank: int, page: int) -> int:
        """HTML, OTHER, REDIRECT, GONE, PRIVATE or SERVER_ERROR."""
        return HTML if page == 0 else _kind(self._page_hash(rank, page))

    def url(self, rank: int, page: int, host: str | None = None) -> str:
        """The URL of a page, in request form (canonical already); ``host`` saves a lookup."""
        if host is None:
            host = self.host(rank)
        if page == 0:
            return host + "/"
        h = self._page_hash(rank, page)
        kind = _kind(h)
        if kind == REDIRECT:
            return f"{host}/go/{page}"
        slug = self._slugs[(h >> 20) % _SLUGS]
        if kind == PRIVATE:
            return f"{host}/private/{slug}-{page}.html"
        section = _SECTIONS[(h >> 40) % len(_SECTIONS)]
        return f"{host}/{section}/{slug}-{page}{'.pdf' if kind == OTHER else '.html'}"

    def locate(self, url: str) -> tuple[int, int] | None:
        """(host rank, page number) of a URL of this web; None for anything else."""
        parts = url.split("/", 3)
        if len(parts) < 4:
            return None
        labels = parts[2].split(".")
        if len(labels) < 3 or labels[0] != "www":
            return None
        digits = labels[1].lstrip("abcdefghijklmnopqrstuvwxyz")
        if not digits or not digits.isdigit():
            return None
        rank = int(digits)
        path = parts[3]
        if not path:
            return rank, 0
        if path == "robots.txt":
            return rank, -1
        last = path.rsplit("-", 1)[-1].rsplit("/", 1)[-1].split(".", 1)[0]
        if not last.isdigit():
            return None
        return rank, int(last)

    def links(self, rank: int, page: int) -> tuple[list[str], bool]:
        """The URLs an HTML page links to (each once, in order) and whether it says nofollow."""
        p = self.params
        rng = self._rng
        rng.seed(mix(self._salt ^ (rank * 0x9E3779B1 + page * 0x85EBCA77 + 7)))
        mu = math.log(p.links_mean) - p.links_sigma**2 / 2
        count = min(500, int(math.exp(mu + p.links_sigma * _NORMAL.inv_cdf(rng.random()))))
        size = self.host_size(rank)
        own = self.host(rank)
        urls: dict[str, None] = {}
        for _ in range(count):
            if rng.random() < p.offsite_share:
                target = zipf_rank(rng.random(), p.hosts, p.link_exponent)
                host = self.host(target)
                if rng.random() < 0.5:
                    urls[host + "/"] = None
                    continue
                target_size = self.host_size(target)
            else:
                target, target_size, host = rank, size, own
            if rng.random() < 0.5:
                number = zipf_rank(rng.random(), target_size, 1.0) - 1
            else:
                number = int(rng.random() * target_size)
            urls[self.url(target, number, host)] = None
        urls.pop(self.url(rank, page, own), None)
        return list(urls), rng.random() < p.nofollow_share

    def parsed(self, rank: int, page: int) -> ParsedPage:
        """The page as the link extractor would hand it to the scheduler."""
        urls, nofollow = self.links(rank, page)
        # A parser builds the key as its own string: keep them two objects, as in a crawl.
        found = tuple(Link(url, url[:1] + url[1:]) for url in urls)
        return ParsedPage(() if nofollow else found, len(found), nofollow, False)

    def html(self, rank: int, page: int) -> bytes:
        """The page as HTML: what the direct mode hands over, written out for the parser."""
        urls, nofollow = self.links(rank, page)
        host = self.host(rank)
        parts = ["<!doctype html><html><head><title>page</title>"]
        if nofollow:
            parts.append('<meta name="robots" content="nofollow">')
        parts.append("</head><body><p>")
        for url in urls:
            href = url[len(host) :] if url.startswith(host + "/") else url
            parts.append(f'<a href="{href}">link</a> ')
        parts.append("</p></body></html>")
        return "".join(parts).encode()

    # -- answers -----------------------------------------------------------------------------

    def answer(self, fetch: Fetch, now: float, *, html: bool = False) -> Answer:
        """How the web answers ``fetch`` handed out at simulated time ``now``: the latency and
        the outcome (with the parsed page for HTML, unless ``html`` asks for a body to parse)."""
        return self.answer_url(fetch.url, fetch.attempt, now, html=html, kind=fetch.kind)

    def answer_url(
        self,
        url: str,
        attempt: int,
        now: float = 0.0,
        *,
        html: bool = False,
        kind: FetchKind = FetchKind.PAGE,
    ) -> Answer:
        """:meth:`answer` for a URL and an attempt number."""
        p = self.params
        where = self.locate(url)
        if where is None:
            return Answer(0.05, Failure(ErrorKind.DNS, "no such host", 0.05, STAMP + now))
        rank, page = where
        is_robots = page == -1 or kind is FetchKind.ROBOTS
        base = self.host_latency(rank)
        factor = math.exp(p.latency_fetch_sigma * _NORMAL.inv_cdf(self._u(rank, page, attempt, 8)))
        latency = base * factor
        stamp = STAMP + now + latency
        error_rate = self.host_error_rate(rank)
        if error_rate >= 1.0:
            return Answer(0.05, Failure(ErrorKind.DNS, "name does not resolve", 0.05, STAMP + now))
        u = self._u(rank, page, attempt, 9)
        if latency > p.timeout or u < error_rate:
            return self._transient(u / error_rate if u < error_rate else 0.0, latency, now)
        if is_robots:
            robots = self.robots_kind(rank)
            if robots == NO_ROBOTS:
                return Answer(latency, Response(404, _TEXT_TYPE, b"", latency, stamp))
            if robots == ROBOTS_DOWN:
                return Answer(latency, Response(503, _TEXT_TYPE, b"", latency, stamp))
            body = self.robots_body(self.crawl_delay(rank))
            return Answer(latency, Response(200, _TEXT_TYPE, body, latency, stamp))
        page_kind = self.page_kind(rank, page)
        if page_kind == GONE:
            return Answer(latency, Response(404, _HTML_TYPE, b"", latency, stamp))
        if page_kind == SERVER_ERROR:
            return Answer(latency, Response(500, _HTML_TYPE, b"", latency, stamp))
        if page_kind == OTHER:
            return Answer(latency, Response(200, _PDF_TYPE, b"", latency, stamp))
        if page_kind == REDIRECT:
            u2 = self._u(rank, page, 10)
            if u2 < 0.1:
                target = self.url(zipf_rank(u2 * 10, p.hosts, p.link_exponent), 0)
            else:
                target = self.url(rank, int(u2 * self.host_size(rank)))
            headers = (*_HTML_TYPE, ("Location", target))
            return Answer(latency, Response(301, headers, b"", latency, stamp))
        if html:
            body = self.html(rank, page)
            return Answer(latency, Response(200, _HTML_TYPE, body, latency, stamp))
        parsed = self.parsed(rank, page)
        return Answer(latency, Response(200, _HTML_TYPE, b"", latency, stamp), parsed)

    def _transient(self, u: float, latency: float, now: float) -> Answer:
        """One failed attempt: a timeout, a refused connection, a 503 or a 429."""
        p = self.params
        if latency > p.timeout or u < 0.25:
            stamp = STAMP + now + p.timeout
            return Answer(p.timeout, Failure(ErrorKind.TIMEOUT, "timed out", p.timeout, stamp))
        short = min(latency, 0.05)
        if u < 0.5:
            failure = Failure(
                ErrorKind.CONNECTION, "connection refused", short, STAMP + now + short
            )
            return Answer(short, failure)
        stamp = STAMP + now + latency
        if u < 0.75:
            return Answer(latency, Response(503, _HTML_TYPE, b"", latency, stamp))
        headers: tuple[tuple[str, str], ...] = _HTML_TYPE
        if u < 0.925:  # seven 429s in ten say when to come back
            seconds = int(math.exp((u - 0.75) / 0.175 * math.log(180))) or 1
            headers = (*_HTML_TYPE, ("Retry-After", str(seconds)))
        return Answer(latency, Response(429, headers, b"", latency, stamp))
