"""What a robots.txt allows one crawler, read as RFC 9309 says; protego matches the paths.

:class:`RobotsRules` is a frozen value: the rules of the group(s) that apply to one product
token, that group's ``Crawl-delay`` and the file's sitemaps. It takes bytes in and answers
``allows(url)``; it never fetches anything.

Reading the file:

1. Only the first :data:`MAX_ROBOTS_BYTES` are read (RFC 9309 §2.5: "The parsing limit MUST be
   at least 500 kibibytes"). A line cut by the limit is dropped: half a rule is not a rule the
   site wrote.
2. A UTF-8 byte order mark, or the start of one, is skipped, and the rest is decoded as UTF-8
   with invalid bytes replaced (§2.3: "The file MUST be UTF-8 encoded").
3. Lines end at CR, LF or CRLF, and ``#`` starts a comment (§2.2.3). Keys are
   case-insensitive. Like Google's parser we also read ``disallow /`` without its colon and
   the common misspellings of ``user-agent`` and ``disallow`` (§2.3.1.5: "Crawlers MUST try to
   parse each line").
4. A group is one or more ``user-agent`` lines and the rules after them; a ``user-agent`` line
   after a rule starts the next group (§2.1). No other line ends a group: not ``sitemap``, not
   ``crawl-delay``, not an unknown key (§2.2.4: "a 'Sitemaps' record MUST NOT terminate a
   group"). Rules before the first group are ignored (§2.2.2).

Choosing the group (§2.2.1):

5. The product token is letters, ``_`` and ``-`` only ("The product token MUST contain only
   uppercase and lowercase letters ..."); anything else is refused with ``ValueError``. A
   ``user-agent`` value names the token its leading letters, ``_`` and ``-`` spell, so
   ``FooBot/2.1`` and ``FooBot Images`` name ``foobot``; tokens compare case-insensitively and
   whole: ``foo`` never selects ``FooBot``.
6. Every group that names the token applies, combined; the ``*`` groups apply only when none
   does; with neither, nothing is disallowed.

Matching (§2.2.2, §2.2.3):

7. A URL is judged by its path and query exactly as they will be requested; its arguments are
   never reordered. ``/robots.txt`` is always allowed.
8. protego matches the selected rules (longest match wins, Allow wins a tie, ``*`` and a final
   ``$``, percent-encoding equivalence), written under ``User-agent: *`` in a file of our own.
   Where protego reads more into a rule than RFC 9309 does, :class:`_Matcher` takes it back.
9. ``Crawl-delay`` is not in RFC 9309: a value that is not a finite number of seconds >= 0 is
   ignored, and of the values the selected groups give we keep the largest (the most polite
   reading), or ``None``.

Without a file: :data:`ALLOW_ALL` (§2.3.1.3, an "unavailable" robots.txt, such as a 4xx) and
:data:`DISALLOW_ALL` (§2.3.1.4, "unreachable": "the crawler MUST assume complete disallow").

>>> body = b"User-agent: *\\nDisallow: /private/\\nCrawl-delay: 2\\nSitemap: https://a.test/s.xml"
>>> rules = RobotsRules.parse(body, "spindle")
>>> rules
RobotsRules(allow=0, disallow=1, crawl_delay=2.0, sitemaps=1)
>>> rules.allows("https://a.test/private/x"), rules.allows("https://a.test/public")
(False, True)
>>> DISALLOW_ALL.allows("https://a.test/"), DISALLOW_ALL.allows("https://a.test/robots.txt")
(False, True)
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from protego import Protego

__all__ = ["ALLOW_ALL", "DISALLOW_ALL", "MAX_ROBOTS_BYTES", "RobotsRules", "Rule", "RuleKind"]

MAX_ROBOTS_BYTES = 500 * 1024

_BOM = b"\xef\xbb\xbf"
_EOL = re.compile(r"\r\n|\r|\n")
_TOKEN = re.compile(r"[A-Za-z_-]+")
_NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


class RuleKind(enum.Enum):
    """Whether a rule allows or disallows the paths it matches."""

    ALLOW = "allow"
    DISALLOW = "disallow"


@dataclass(frozen=True, slots=True)
class Rule:
    """One ``allow`` or ``disallow`` line of a selected group, its pattern as the file wrote it.

    Raises:
        ValueError: the pattern is empty (an empty rule matches nothing and is not kept), has
            surrounding whitespace, or holds a line break or a ``#``.
    """

    kind: RuleKind
    pattern: str

    def __post_init__(self) -> None:
        pattern = self.pattern
        if not pattern or pattern != pattern.strip() or any(c in pattern for c in "\r\n#"):
            raise ValueError(f"{pattern!r}: a pattern is one non-empty line without a comment")


class _Key(enum.Enum):
    USER_AGENT = "user-agent"
    ALLOW = "allow"
    DISALLOW = "disallow"
    CRAWL_DELAY = "crawl-delay"
    SITEMAP = "sitemap"
    OTHER = "other"


# The spellings Google's parser accepts; a misspelt disallow only ever makes us more polite.
_KEYS = {
    "user-agent": _Key.USER_AGENT,
    "useragent": _Key.USER_AGENT,
    "user agent": _Key.USER_AGENT,
    "allow": _Key.ALLOW,
    "disallow": _Key.DISALLOW,
    "dissallow": _Key.DISALLOW,
    "dissalow": _Key.DISALLOW,
    "disalow": _Key.DISALLOW,
    "diasllow": _Key.DISALLOW,
    "disallaw": _Key.DISALLOW,
    "crawl-delay": _Key.CRAWL_DELAY,
    "sitemap": _Key.SITEMAP,
    "site-map": _Key.SITEMAP,
}


@dataclass(slots=True)
class _Group:
    agents: list[str] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)


@dataclass(frozen=True, slots=True, repr=False)
class RobotsRules:
    """The decision a robots.txt makes for one crawler: its rules, crawl delay and sitemaps.

    Build it with :meth:`parse`, or use :data:`ALLOW_ALL` / :data:`DISALLOW_ALL`. Two values
    are equal when their rules, crawl delay and sitemaps are. :meth:`allows` only reads, so one
    value may serve every thread (protego fills its lookup caches with the same values each
    time).

    Raises:
        ValueError: ``crawl_delay`` is negative, infinite or not a number.
    """

    rules: tuple[Rule, ...] = ()
    crawl_delay: float | None = None
    sitemaps: tuple[str, ...] = ()
    _matcher: _Matcher = field(init=False, compare=False)
    _disallows: bool = field(init=False, compare=False)

    def __post_init__(self) -> None:
        delay = self.crawl_delay
        if delay is not None and not (math.isfinite(delay) and delay >= 0):
            raise ValueError(f"crawl_delay must be a finite number of seconds >= 0, not {delay}")
        object.__setattr__(self, "_matcher", _Matcher(self.rules))
        object.__setattr__(
            self, "_disallows", any(rule.kind is RuleKind.DISALLOW for rule in self.rules)
        )

    @classmethod
    def parse(cls, body: bytes, product_token: str) -> RobotsRules:
        """Read a robots.txt body (a 2xx response, §2.3.1.1) for the crawler ``product_token``.

        Raises:
            ValueError: ``product_token`` is not made of letters, ``_`` and ``-`` (§2.2.1).
        """
        if not _TOKEN.fullmatch(product_token):
            raise ValueError(
                f"{product_token!r} is not a product token: RFC 9309 §2.2.1 allows only "
                "letters, '_' and '-'"
            )
        groups, sitemaps = _read(_decode(body))
        token = product_token.lower()
        # §2.2.1: "If there is more than one group matching the user-agent, the matching
        # groups' rules MUST be combined into one group"; "If no matching group exists,
        # crawlers MUST obey the group with a user-agent line with the '*' value, if present."
        chosen = [g for g in groups if token in g.agents] or [g for g in groups if "*" in g.agents]
        return cls(
            rules=tuple(rule for group in chosen for rule in group.rules),
            crawl_delay=max((d for group in chosen for d in group.delays), default=None),
            sitemaps=tuple(sitemaps),
        )

    def allows(self, url: str) -> bool:
        """Whether the crawler may fetch ``url``, an absolute http(s) URL as it will be requested.

        Pass the URL the request line will carry (resolved as a browser resolves a link), never
        a canonical form with sorted arguments: that is another URL. Its path and query are
        matched as written, up to the percent-encoding equivalence of §2.2.2.

        Raises:
            ValueError: ``url`` is not an absolute http or https URL.
        """
        if not self._disallows and _ABSOLUTE_HTTP.match(url):
            # Nothing to match: every link of a crawl that ignores robots.txt (ALLOW_ALL) lands
            # here, about 240 per page on the Rust docs, where the full match cost 40 µs each.
            return True
        target = _request_target(url)
        if unquote(target.partition("?")[0]) == "/robots.txt":
            return True  # §2.2.2: "The /robots.txt URI is implicitly allowed."
        return self._matcher.allows(target)

    def __repr__(self) -> str:
        allow = sum(rule.kind is RuleKind.ALLOW for rule in self.rules)
        return (
            f"RobotsRules(allow={allow}, disallow={len(self.rules) - allow}, "
            f"crawl_delay={self.crawl_delay}, sitemaps={len(self.sitemaps)})"
        )


def _decode(body: bytes) -> str:
    text = body[:MAX_ROBOTS_BYTES]
    if len(body) > MAX_ROBOTS_BYTES and body[MAX_ROBOTS_BYTES] not in b"\r\n":
        text = text[: max(text.rfind(b"\n"), text.rfind(b"\r")) + 1]
    for size in (3, 2, 1):  # Google's parser skips a partial mark too: it is never content.
        if text.startswith(_BOM[:size]):
            text = text[size:]
            break
    return text.decode("utf-8", errors="replace")


def _records(text: str) -> Iterator[tuple[_Key, str]]:
    for raw in _EOL.split(text):
        line = raw.partition("#")[0].strip()
        if not line:
            continue
        name, colon, value = line.partition(":")
        key = _KEYS.get(" ".join(name.split()).lower()) if colon else None
        if key is not None:
            yield key, value.strip()
            continue
        words = line.split(None, 2)  # "disallow /x", "user agent foo": no colon
        if len(words) >= 2 and (key := _KEYS.get(f"{words[0]} {words[1]}".lower())):
            yield key, words[2] if len(words) == 3 else ""
        elif len(words) >= 2 and (key := _KEYS.get(words[0].lower())):
            yield key, line.split(None, 1)[1]
        else:
            yield _Key.OTHER, ""


def _read(text: str) -> tuple[list[_Group], list[str]]:
    groups: list[_Group] = []
    sitemaps: list[str] = []
    group: _Group | None = None
    after_rule = True  # the next user-agent line starts a new group
    for key, value in _records(text):
        if key is _Key.USER_AGENT:
            if group is None or after_rule:
                group = _Group()
                groups.append(group)
                after_rule = False
            group.agents.append(_agent(value))
        elif key in (_Key.ALLOW, _Key.DISALLOW):
            if group is None:
                continue  # §2.2.2: ignore "any rule that precedes the first user-agent line"
            after_rule = True
            if value:  # an empty pattern matches nothing
                kind = RuleKind.ALLOW if key is _Key.ALLOW else RuleKind.DISALLOW
                group.rules.append(Rule(kind, value))
        elif key is _Key.CRAWL_DELAY:
            if group is not None and (delay := _delay(value)) is not None:
                group.delays.append(delay)
        elif key is _Key.SITEMAP and value:
            sitemaps.append(value)
    return groups, sitemaps


def _agent(value: str) -> str:
    """The lowercased product token a user-agent value names: ``*``, or its leading token."""
    if value.split()[:1] == ["*"]:
        return "*"
    match = _TOKEN.match(value)
    return match.group().lower() if match else ""


def _delay(value: str) -> float | None:
    if not _NUMBER.fullmatch(value):
        return None
    delay = float(value)
    return delay if math.isfinite(delay) else None


_SLASH = re.compile("%2F", re.IGNORECASE)


def _query_slashes(text: str) -> str:
    """Read ``%2F`` in a query as ``/``: §2.2.2's example gives ``/foo/bar?baz=https://foo.bar``
    the path to match ``/foo/bar?baz=https%3A%2F%2Ffoo.bar``. In the path they stay apart."""
    path, mark, query = text.partition("?")
    return f"{path}{mark}{_SLASH.sub('/', query)}" if mark else text


# A URL without these after its scheme has a request target urlsplit need not find: the path.
_NOT_PLAIN_TARGET = re.compile(r"[?#\[\]\t\r\n\\]")
# A prefix that urlsplit() reads as an http(s) scheme with a host (it drops no leading byte).
_ABSOLUTE_HTTP = re.compile(r"https?://[^/?#\s[]", re.IGNORECASE)


def _request_target(url: str) -> str:
    """The path and query robots rules match ``url`` by (``/`` for an empty path).

    >>> _request_target("http://a.test/x/y.html"), _request_target("https://a.test?q=%2F")
    ('/x/y.html', '/?q=/')
    """
    scheme, _, rest = url.partition("://")
    if scheme in ("http", "https") and _NOT_PLAIN_TARGET.search(rest) is None:
        netloc, _, path = rest.partition("/")
        if netloc:  # the common case, once per link: about 4x faster than urlsplit
            return f"/{path}"
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{url!r}: robots rules judge absolute http(s) URLs")
    target = parts.path or "/"
    if parts.query or "?" in url.partition("#")[0]:
        target = f"{target}?{parts.query}"
    return _query_slashes(target)


# protego splits lines with str.splitlines(); these characters would cut a pattern in two.
_SPLITLINES_ONLY = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_ORIGIN = "http://robots.invalid"  # protego matches path and query; any origin will do
# Stand-ins for the end of a URL (see _Matcher); no URL worth crawling holds all of them.
_SENTINELS = tuple(f"%{byte:02X}" for byte in (*range(1, 32), 0x7F))


def _percent_encode(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match[0].encode())


def _protego(rules: Iterable[tuple[RuleKind, str]]) -> Protego:
    lines = ["User-agent: *"]
    for kind, pattern in rules:
        lines.append(f"{kind.value}: {_SPLITLINES_ONLY.sub(_percent_encode, pattern)}")
    return Protego.parse("\n".join(lines))


def _allowed(matcher: Protego, target: str) -> bool:
    return bool(matcher.can_fetch(_ORIGIN + target, "*"))


def _probe(pattern: str) -> Protego:
    """A file in which a URL is disallowed exactly when ``pattern`` (no final ``$``) matches it."""
    return _protego([(RuleKind.DISALLOW, pattern)])


@dataclass(frozen=True, slots=True)
class _Special:
    """A rule protego reads more into, with a probe for where the rule itself matches."""

    kind: RuleKind
    pattern: str
    probe: Protego


class _Matcher:
    """protego over the selected rules, without the two rules protego adds of its own.

    protego reads a final ``$`` as the end of the pattern (§2.2.3) and also as a literal ``$``:
    ``Disallow: /a$`` blocks ``/a$b`` too. It reads ``Allow: X/index.html`` as also allowing
    ``X/``, a Google convention; §2.2.2 gives ``X/`` to the most specific rule that matches it.
    The first extra rule can only match a URL protego spells with ``%24``, the second only one
    that ends in ``/``; every other URL gets protego's answer on the whole group. For those two
    kinds of URL we hand protego the group without what breeds the extras: an anchored rule or
    an index.html rule that does not match the URL is left out, and an anchored rule that does
    is written ``X*``, which matches the URL too and ranks the same (same length, same kind).
    What protego still adds then matches only where its own rule does, with that rule's kind,
    so it cannot change the decision.

    Whether ``X$`` matches is asked as whether ``X`` and a sentinel match the URL and that
    sentinel: when the URL holds no sentinel of its own, the sentinel occurs only at its end.
    A URL holding every sentinel (all 32 control characters) and a ``$`` is read cautiously:
    its anchored Disallow rules are taken to match and its anchored Allow rules not to.
    """

    __slots__ = (
        "_anchored",
        "_dollar_probe",
        "_index_allows",
        "_ordinary",
        "_ordinary_protego",
        "_protego",
        "_sentinel_probe",
    )

    def __init__(self, rules: Iterable[Rule]) -> None:
        patterns = [(rule.kind, _query_slashes(rule.pattern)) for rule in rules]
        self._protego = _protego(patterns)
        self._anchored = tuple(
            _Special(kind, pattern, _probe(pattern[:-1] + _SENTINELS[0]))
            for kind, pattern in patterns
            if pattern.endswith("$")
        )
        self._index_allows = tuple(
            _Special(kind, pattern, _probe(pattern))
            for kind, pattern in patterns
            if _is_index_allow(kind, pattern)
        )
        self._ordinary = [
            (kind, pattern)
            for kind, pattern in patterns
            if not pattern.endswith("$") and not _is_index_allow(kind, pattern)
        ]
        special = self._anchored or self._index_allows
        self._ordinary_protego = _protego(self._ordinary) if special else None
        self._dollar_probe = _probe("*%24") if self._anchored else None
        self._sentinel_probe = _probe(f"*{_SENTINELS[0]}") if self._anchored else None

    def allows(self, target: str) -> bool:
        if (self._index_allows and target.endswith("/")) or (
            self._dollar_probe is not None
            and ("$" in target or "%" in target)  # nothing else becomes %24 in protego
            and not _allowed(self._dollar_probe, target)
        ):
            return self._allows_exactly(target)
        return _allowed(self._protego, target)

    def _allows_exactly(self, target: str) -> bool:
        kept = [(rule.kind, f"{rule.pattern[:-1]}*") for rule in self._anchored_matching(target)]
        kept += [(r.kind, r.pattern) for r in self._index_allows if not _allowed(r.probe, target)]
        if not kept and self._ordinary_protego is not None:
            return _allowed(self._ordinary_protego, target)
        return _allowed(_protego([*self._ordinary, *kept]), target)

    def _anchored_matching(self, target: str) -> Iterator[_Special]:
        if self._sentinel_probe is None:
            return  # no anchored rule
        if _allowed(self._sentinel_probe, target):
            yield from (r for r in self._anchored if not _allowed(r.probe, target + _SENTINELS[0]))
            return
        # The URL holds the first sentinel: find one it does not hold and ask again.
        sentinel = next((s for s in _SENTINELS if _allowed(_probe(f"*{s}"), target)), None)
        for rule in self._anchored:
            if sentinel is None:  # the URL holds every sentinel: keep to the cautious side
                if rule.kind is RuleKind.DISALLOW:
                    yield rule
            elif not _allowed(_probe(rule.pattern[:-1] + sentinel), target + sentinel):
                yield rule


def _is_index_allow(kind: RuleKind, pattern: str) -> bool:
    return (
        kind is RuleKind.ALLOW
        and not pattern.endswith("$")
        and unquote(pattern).endswith("/index.html")
    )


ALLOW_ALL = RobotsRules()
"""Everything may be fetched: robots.txt is "unavailable", a 4xx (RFC 9309 §2.3.1.3)."""

DISALLOW_ALL = RobotsRules(rules=(Rule(RuleKind.DISALLOW, "/"),))
"""Nothing but /robots.txt may be fetched: robots.txt is "unreachable" (RFC 9309 §2.3.1.4)."""
