"""RFC 9309 conformance of :mod:`spindle.crawl.core.robots_rules`: one table row per expectation.

Every row's id names its source and the place of the expectation in it:

* ``rfc9309:<section>/<n>``: RFC 9309 (September 2022): the examples of §2.2.1, Figure 4 of
  §2.2.2, the special characters of §2.2.3, the example files of §5.1 and §5.2, and the
  sentences quoted beside the rows. §5.2 says its disallow rule "MUST be used for the URI
  example.com/example/page/disallow.gif", which that rule, /example/page/disallowed.gif, does
  not match (§2.2.2); rfc9309:5.2/1 asks about /example/page/disallowed.gif.
* ``google:<TEST>/<n>``: the n-th expectation of TEST in ``robots_test.cc`` of the repository
  google/robotstxt, in file order. Expectations about the parser's callbacks (line numbers,
  byte order marks, sitemaps) are asked of what they imply: a group's rules, a decision, the
  sitemaps. ``IsValidUserAgentToObey`` is asked of :meth:`RobotsRules.parse`, which refuses
  what is not a product token, and google:GoogleOnly_SystemTest/1 to /4, which pass an empty
  URL or user agent, are asked as misuse that raises ``ValueError``.
* ``spindle:<topic>/<n>``: the defects of the reader built on raw protego (a group chosen by a
  substring of the product token, a line between user-agent lines ending a group, a byte order
  mark, query arguments matched in another order), and what RFC 9309 leaves to us: crawl
  delay, sitemaps, misuse.

Expectations of robots_test.cc not applied, and why:

* google:ID_Encoding/3 and google:ID_Encoding/5: Google's matcher leaves percent-encoding the
  URL to its caller, so an unencoded ツ in the URL does not match a rule for /foo/bar/ツ.
  RFC 9309 §2.2.2 percent-encodes the URI's non-ASCII octets "prior to comparison": it does
  match (rfc9309:2.2.2/5 and rfc9309:2.2.2/7).
* google:ID_Encoding/6: Google keeps /foo/bar/%62%61%7A apart from /foo/bar/baz; Figure 4 of
  §2.2.2 gives the first the path to match /foo/bar/baz (rfc9309:2.2.2/8).
* google:GoogleOnly_IndexHTMLisDirectory/1: Google reads "Allow: /allowed-slash/index.html" as
  also allowing /allowed-slash/; under §2.2.2 the most specific match for /allowed-slash/ is
  "Disallow: /" (rfc9309:2.2.2/22).
* google:GoogleOnly_LineTooLong/2 and google:GoogleOnly_LineTooLong/5: Google cuts lines at
  8 * 2083 bytes and matches what is left of the rule. RFC 9309 has no line limit, only the
  file limit of §2.5, so the whole rule is matched.
* google:TestGetPathParamsQuery/1, google:TestGetPathParamsQuery/8,
  google:TestGetPathParamsQuery/9, google:TestGetPathParamsQuery/10,
  google:TestGetPathParamsQuery/11, google:TestGetPathParamsQuery/12,
  google:TestGetPathParamsQuery/13, google:TestGetPathParamsQuery/14,
  google:TestGetPathParamsQuery/15, google:TestGetPathParamsQuery/16,
  google:TestGetPathParamsQuery/17, google:TestGetPathParamsQuery/18 and
  google:TestGetPathParamsQuery/19 pass URLs without a scheme ("", "example.com/a", "a",
  "//a/b/c"); ``allows`` judges absolute http(s) URLs and raises ``ValueError`` for others
  (spindle:misuse). The absolute ones, /2 to /7, are asked as "Disallow: <expected path>$".

Where protego 0.7 deviates from RFC 9309, found by asking raw protego every row (the body
decoded as UTF-8 with bad bytes replaced, ``Protego.parse``, then ``can_fetch``,
``crawl_delay`` and ``sitemaps``); test_raw_protego_fails_exactly_these_rows keeps this exact:

1. A group is chosen by a prefix of the crawler's name: the group of ``barbarbot`` applies to
   ``barbarbot-prod``, ``foo`` to ``FooBot``, ``spin`` to ``spindle``. §2.2.1 matches the whole
   product token, case-insensitively. We choose the group ourselves and hand protego only its
   rules. Rows: spindle:token/1, spindle:token/2, spindle:token/4, spindle:token/5,
   spindle:crawl-delay/16.
2. A user-agent value is read whole, so ``Foo Bar`` and ``spindle/1.0`` name nobody. A product
   token is letters, "_" and "-" (§2.2.1); we read the value's leading token, as Google does.
   Rows: google:ID_UserAgentValueCaseInsensitive/4, google:ID_UserAgentValueCaseInsensitive/5,
   google:ID_UserAgentValueCaseInsensitive/6, google:ID_UserAgentValueCaseInsensitive/10,
   google:ID_UserAgentValueCaseInsensitive/11, google:ID_UserAgentValueCaseInsensitive/12,
   google:GoogleOnly_AcceptUserAgentUpToFirstSpace/2, spindle:token/7.
3. Any line but a rule, a user-agent line or a sitemap ends the user-agent lines of a group: an
   unknown key (``Foo: bar``, a typo such as ``Usre-agent``) or a ``Crawl-delay``. §2.2.4: other
   records "MUST NOT interfere with the parsing of explicitly defined records". In our reader
   only a rule does. (A ``Sitemap:`` line no longer does in protego 0.7: spindle:unknown-line/2
   passes.) Rows: rfc9309:2.2.4/3, rfc9309:2.2.4/4, spindle:unknown-line/1,
   spindle:unknown-line/3, spindle:unknown-line/4, spindle:unknown-line/6,
   spindle:crawl-delay/14, spindle:crawl-delay/21.
4. A UTF-8 byte order mark spoils the first line: a first ``User-agent: *`` is lost with its
   group, and its disallowed paths are fetched. We skip a whole or partial mark. Rows:
   spindle:bom/1, spindle:bom/3, spindle:crawl-delay/18, spindle:sitemap/3.
5. There is no parsing limit. §2.5 lets a crawler stop at 500 KiB; we do, and drop a line the
   limit cuts. Rows: rfc9309:2.5/2, rfc9309:2.5/3, rfc9309:2.5/7, spindle:sitemap/5.
6. A ``$`` that ends a rule also matches a literal ``$``: ``Disallow: /shop$`` blocks
   /shop$cart. In §2.2.3 a final ``$`` ends the pattern, and a literal ``$`` is written %24.
   ``_Matcher`` rebuilds protego's file without that reading for a URL protego spells with
   %24. Rows: rfc9309:2.2.3/13, rfc9309:2.2.3/15, rfc9309:2.2.3/16, rfc9309:2.2.3/18.
7. ``Allow: X/index.html`` also allows X/ (Google-only). ``_Matcher`` rebuilds the file without
   that reading for a URL ending in "/". Rows: rfc9309:2.2.2/22.
8. In a query, "/" and %2F differ. Figure 4 of §2.2.2 gives /foo/bar?baz=https://foo.bar the
   path to match /foo/bar?baz=https%3A%2F%2Ffoo.bar; we read %2F in a query as "/" (in rule
   and URL) before protego compares. Rows: rfc9309:2.2.2/2, rfc9309:2.2.2/3.
9. Lines are split with ``str.splitlines``, so a form feed, U+0085 or U+2028 inside a line cuts
   it in two. Lines end at CR and LF only (§2.2); we split there and percent-encode those
   characters in the file we hand protego. Rows: spindle:lines/1.

Google-only readings we share, and so apply: a missing colon (google:ID_LineSyntax_Line/3), a
user-agent value read up to its first space (google:GoogleOnly_AcceptUserAgentUpToFirstSpace/2),
a partial byte order mark (google:ID_UTF8ByteOrderMarkIsSkipped/2 and /3), and the matching
examples of google:GoogleOnly_DocumentationChecks, all plain RFC 9309 matching. We also read the
misspellings of ``disallow`` Google's parser accepts (spindle:lines/3): they only restrict.

Outside RFC 9309 (crawl delay is an extension): when combined groups give several
``Crawl-delay`` values protego keeps the last and we keep the largest. Rows:
spindle:crawl-delay/15.

The last defect of the old reader was not protego's: it matched a canonical URL, query
arguments sorted. The spindle:query rows pass with raw protego given the URL as requested.

The properties at the end check what no table can: a file that disallows nothing allows every
URL; a byte order mark, unrelated groups and unknown lines change no decision; neither does
the order of rules nor percent-encoding an unreserved character; and on a small alphabet of
paths (with ``*``, ``$``, %24 and index.html) every decision is that of a plain RFC 9309
matcher.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from protego import Protego

from spindle.crawl.core.robots_rules import (
    ALLOW_ALL,
    DISALLOW_ALL,
    MAX_ROBOTS_BYTES,
    RobotsRules,
    Rule,
    RuleKind,
)

# --------------------------------------------------------------------------------------------
# The tables. Ids are "<source>/<n>": the n-th expectation of that source, in its own order.
# --------------------------------------------------------------------------------------------

BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Decision:
    id: str
    body: bytes
    token: str
    url: str
    allowed: bool


@dataclass(frozen=True)
class Delay:
    id: str
    body: bytes
    token: str
    crawl_delay: float | None


@dataclass(frozen=True)
class Sitemaps:
    id: str
    body: bytes
    sitemaps: tuple[str, ...]


@dataclass(frozen=True)
class GroupRules:
    id: str
    body: bytes
    token: str
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Token:
    id: str
    token: str
    valid: bool


@dataclass(frozen=True)
class Misuse:
    id: str
    body: bytes
    token: str
    url: str
    message: str


DECISIONS: list[Decision] = []
DELAYS: list[Delay] = []
SITEMAPS: list[Sitemaps] = []
GROUP_RULES: list[GroupRules] = []
TOKENS: list[Token] = []
MISUSES: list[Misuse] = []
NOT_APPLIED: list[str] = []
_numbers: Counter[str] = Counter()


def _next(source: str) -> str:
    _numbers[source] += 1
    return f"{source}/{_numbers[source]}"


def _bytes(body: str | bytes) -> bytes:
    return body.encode() if isinstance(body, str) else body


def expect(source: str, body: str | bytes, token: str, *checks: tuple[str, bool]) -> None:
    """One decision row per (url, allowed) check."""
    for url, allowed in checks:
        DECISIONS.append(Decision(_next(source), _bytes(body), token, url, allowed))


def not_applied(source: str) -> None:
    """Skip one expectation of ``source``; the module docstring says why."""
    NOT_APPLIED.append(_next(source))


def delay(source: str, body: str | bytes, token: str, crawl_delay: float | None) -> None:
    DELAYS.append(Delay(_next(source), _bytes(body), token, crawl_delay))


def sitemaps(source: str, body: str | bytes, *urls: str) -> None:
    SITEMAPS.append(Sitemaps(_next(source), _bytes(body), urls))


def group_rules(source: str, body: str | bytes, token: str, *rules: Rule) -> None:
    GROUP_RULES.append(GroupRules(_next(source), _bytes(body), token, rules))


def token(source: str, value: str, valid: bool) -> None:
    TOKENS.append(Token(_next(source), value, valid))


def misuse(source: str, body: str | bytes, token: str, url: str, message: str) -> None:
    MISUSES.append(Misuse(_next(source), _bytes(body), token, url, message))


def allow(pattern: str) -> Rule:
    return Rule(RuleKind.ALLOW, pattern)


def padded(head: str, tail: str, tail_at: int) -> bytes:
    """``head``, one comment line, then ``tail`` starting at byte ``tail_at``."""
    filler = tail_at - len(head.encode())
    return (head + "#" + "x" * (filler - 2) + "\n" + tail).encode()


NOT_A_TOKEN = "is not a product token"
NOT_A_URL = "robots rules judge absolute http"

# ---- RFC 9309 --------------------------------------------------------------------------------

E = "https://example.com"

S = "rfc9309:2.1"
# "The last group may have no rules, which means it implicitly allows everything."
body = "User-agent: *\nDisallow: /\n\nUser-agent: ExampleBot\n"
expect(S, body, "ExampleBot", (f"{E}/x", True))
expect(S, body, "OtherBot", (f"{E}/x", False))

S = "rfc9309:2.2.1"
# Two groups naming ExampleBot are combined (Figure 2 and the merged group after it).
body = (
    "user-agent: ExampleBot\ndisallow: /foo\ndisallow: /bar\n\n"
    "user-agent: ExampleBot\ndisallow: /baz\n"
)
expect(S, body, "ExampleBot", (f"{E}/foo", False), (f"{E}/bar", False), (f"{E}/baz", False))
expect(S, body, "ExampleBot", (f"{E}/qux", True))
expect(S, body, "exampleBOT", (f"{E}/baz", False))  # "case-insensitive matching"
# No group names ExampleBot: it obeys the "*" group.
body = "user-agent: *\ndisallow: /foo\ndisallow: /bar\n\nuser-agent: BazBot\ndisallow: /baz\n"
expect(S, body, "ExampleBot", (f"{E}/foo", False), (f"{E}/bar", False), (f"{E}/baz", True))
expect(S, body, "BazBot", (f"{E}/baz", False), (f"{E}/foo", True))
# "If no group matches the product token and there is no group with a user-agent line with
# the '*' value, or no groups are present at all, no rules apply."
expect(S, "user-agent: BazBot\ndisallow: /\n", "ExampleBot", (f"{E}/foo", True))
expect(S, "Sitemap: https://example.com/sitemap.xml\n", "ExampleBot", (f"{E}/foo", True))

S = "rfc9309:2.2.2"
star = "User-agent: *\n"
# Figure 4: path, encoded path, path to match.
expect(S, star + "Disallow: /foo/bar?baz=quz\n", "x", (f"{E}/foo/bar?baz=quz", False))
body = star + "Disallow: /foo/bar?baz=https://foo.bar\n"
expect(S, body, "x", (f"{E}/foo/bar?baz=https%3A%2F%2Ffoo.bar", False))
body = star + "Disallow: /foo/bar?baz=https%3A%2F%2Ffoo.bar\n"
expect(S, body, "x", (f"{E}/foo/bar?baz=https://foo.bar", False))
body = star + "Disallow: /foo/bar/\u30c4\n"
expect(S, body, "x", (f"{E}/foo/bar/%E3%83%84", False), (f"{E}/foo/bar/\u30c4", False))
body = star + "Disallow: /foo/bar/%E3%83%84\n"
expect(S, body, "x", (f"{E}/foo/bar/%E3%83%84", False), (f"{E}/foo/bar/\u30c4", False))
expect(S, star + "Disallow: /foo/bar/%62%61%7A\n", "x", (f"{E}/foo/bar/baz", False))
expect(S, star + "Disallow: /foo/bar/baz\n", "x", (f"{E}/foo/bar/%62%61%7A", False))
# "The matching SHOULD be case sensitive." / "MUST start with the first octet of the path."
expect(S, star + "Disallow: /Foo\n", "x", (f"{E}/foo", True))
expect(S, star + "Disallow: /bar\n", "x", (f"{E}/foo/bar", True))
# "The most specific match found MUST be used." / "... the 'allow' rule SHOULD be used."
expect(S, star + "Disallow: /a\nAllow: /a/b\n", "x", (f"{E}/a/b/c", True), (f"{E}/a/c", False))
expect(S, star + "Disallow: /a\nAllow: /a\n", "x", (f"{E}/a", True))
# "If no match is found ... or there are no rules in the group, the URI is allowed."
expect(S, star + "Disallow: /a\n", "x", (f"{E}/b", True))
body = "User-agent: *\nDisallow: /\n\nUser-agent: ExampleBot\nSitemap: https://example.com/s.xml\n"
expect(S, body, "ExampleBot", (f"{E}/x", True))
# "The /robots.txt URI is implicitly allowed."
expect(S, star + "Disallow: /\n", "x", (f"{E}/robots.txt", True))
# "... ignore 'disallow' and 'allow' rules that are not in any group"
expect(S, "Disallow: /\nUser-agent: *\nAllow: /x\n", "x", (f"{E}/y", True))
# A percent-encoded reserved character stays encoded: %2F is not a path separator.
expect(S, star + "Disallow: /a/b\n", "x", (f"{E}/a%2Fb", True))
expect(S, star + "Disallow: /a%2Fb\n", "x", (f"{E}/a/b", True), (f"{E}/a%2fb", False))
# The most specific match wins even against an index.html rule (Google reads it otherwise).
body = star + "Allow: /allowed-slash/index.html\nDisallow: /\n"
expect(S, body, "x", (f"{E}/allowed-slash/", False))

S = "rfc9309:2.2.3"
body = star + "Disallow: /a # comment in line\n# Disallow: /b\n"
expect(S, body, "x", (f"{E}/a", False), (f"{E}/b", True))
body = star + "Disallow: /this/path/exactly$\n"
expect(S, body, "x", (f"{E}/this/path/exactly", False), (f"{E}/this/path/exactly/x", True))
expect(S, body, "x", (f"{E}/this/path/exactly?x", True))
body = star + "Disallow: /this/*/exactly\n"
expect(S, body, "x", (f"{E}/this/a/b/exactly", False), (f"{E}/this/exactly", True))
expect(S, body, "x", (f"{E}/this//exactly", False))
# "If crawlers match special characters verbatim in the URI, crawlers SHOULD use '%' encoding."
body = star + "Disallow: /path/file-with-a-%2A.html\n"
expect(
    S, body, "x", (f"{E}/path/file-with-a-*.html", False), (f"{E}/path/file-with-a-b.html", True)
)
body = star + "Disallow: /path/foo-%24\n"
expect(S, body, "x", (f"{E}/path/foo-$", False), (f"{E}/path/foo-$bar", False))
# ... and so a "$" that ends a pattern is an anchor, never a literal "$".
expect(S, star + "Disallow: /shop$\n", "x", (f"{E}/shop$cart", True), (f"{E}/shop", False))
expect(S, star + "Disallow: /\nAllow: /shop$\n", "x", (f"{E}/shop$cart", False))
expect(S, star + "Disallow: /*.gif$\n", "x", (f"{E}/a.gif$x", True), (f"{E}/a.gif", False))
# "Disallow: /a%24" is longer than "Allow: /*$", whatever protego reads into the latter.
expect(S, star + "Allow: /*$\nDisallow: /a%24\n", "x", (f"{E}/a$", False))

S = "rfc9309:2.2.4"
body = star + "Disallow: /a\nSitemap: https://example.com/sitemap.xml\nDisallow: /b\n"
expect(S, body, "x", (f"{E}/b", False))
body = (
    "User-agent: ExampleBot\nSitemap: https://example.com/s.xml\nUser-agent: Other\nDisallow: /\n"
)
expect(S, body, "ExampleBot", (f"{E}/x", False))
body = "User-agent: ExampleBot\nFoo: bar\nUser-agent: Other\nDisallow: /\n"
expect(S, body, "ExampleBot", (f"{E}/x", False))
body = "User-agent: ExampleBot\nCrawl-delay: 5\nUser-agent: Other\nDisallow: /\n"
expect(S, body, "ExampleBot", (f"{E}/x", False))

S = "rfc9309:2.5"
head = "User-agent: *\nDisallow: /early\n"
body_bytes = padded(head, "Disallow: /late\n", MAX_ROBOTS_BYTES + 100)
expect(S, body_bytes, "x", (f"{E}/early", False), (f"{E}/late", True))
# The limit falls inside "Allow: /public/page": the cut line is not read as "Allow: /pu".
body_bytes = padded("User-agent: *\nDisallow: /\n", "Allow: /public/page\n", MAX_ROBOTS_BYTES - 10)
expect(S, body_bytes, "x", (f"{E}/public/page", False), (f"{E}/pu", False))
# A last line that ends exactly at the limit is whole, with or without its line break.
exact = padded("User-agent: *\n", "Disallow: /last", MAX_ROBOTS_BYTES - len("Disallow: /last"))
expect(S, exact, "x", (f"{E}/last", False))
expect(S, exact + b"\n", "x", (f"{E}/last", False))
expect(S, exact + b"x\n", "x", (f"{E}/lastx", True))

S = "rfc9309:5.1"
body = (
    "User-Agent: *\nDisallow: *.gif$\nDisallow: /example/\nAllow: /publications/\n\n"
    "User-Agent: foobot\nDisallow:/\nAllow:/example/page.html\nAllow:/example/allowed.gif\n\n"
    "User-Agent: barbot\nUser-Agent: bazbot\nDisallow: /example/page.html\n\n"
    "User-Agent: quxbot\n\nEOF\n"
)
expect(
    S,
    body,
    "ExampleBot",
    (f"{E}/example/", False),
    (f"{E}/example/page.html", False),
    (f"{E}/publications/", True),
    (f"{E}/publications/chart.gif", True),
    (f"{E}/images/logo.gif", False),
    (f"{E}/images/logo.gif?v=2", True),
    (f"{E}/", True),
)
expect(
    S,
    body,
    "foobot",
    (f"{E}/", False),
    (f"{E}/example/page.html", True),
    (f"{E}/example/allowed.gif", True),
    (f"{E}/example/other.html", False),
    (f"{E}/publications/", False),
)
expect(
    S,
    body,
    "barbot",
    (f"{E}/example/page.html", False),
    (f"{E}/example/page.html.bak", False),
    (f"{E}/example/", True),
    (f"{E}/a.gif", True),
)
expect(S, body, "bazbot", (f"{E}/example/page.html", False), (f"{E}/a.gif", True))
expect(S, body, "quxbot", (f"{E}/example/page.html", True), (f"{E}/a.gif", True))

S = "rfc9309:5.2"
body = "User-Agent: foobot\nAllow: /example/page/\nDisallow: /example/page/disallowed.gif\n"
expect(
    S,
    body,
    "foobot",
    (f"{E}/example/page/disallowed.gif", False),
    (f"{E}/example/page/", True),
    (f"{E}/example/page/other.gif", True),
)

# ---- Google's robots_test.cc, every TEST in file order --------------------------------------

G = "google:GoogleOnly_SystemTest"
misuse(G, "", "FooBot", "", NOT_A_URL)
misuse(G, "user-agent: FooBot\ndisallow: /\n", "", "", NOT_A_TOKEN)
misuse(G, "user-agent: FooBot\ndisallow: /\n", "FooBot", "", NOT_A_URL)
misuse(G, "", "", "", NOT_A_TOKEN)

G = "google:ID_LineSyntax_Line"
url = "http://foo.bar/x/y"
expect(G, "user-agent: FooBot\ndisallow: /\n", "FooBot", (url, False))
expect(G, "foo: FooBot\nbar: /\n", "FooBot", (url, True))
expect(G, "user-agent FooBot\ndisallow /\n", "FooBot", (url, False))

G = "google:ID_LineSyntax_Groups"
body = (
    "allow: /foo/bar/\n\nuser-agent: FooBot\ndisallow: /\nallow: /x/\nuser-agent: BarBot\n"
    "disallow: /\nallow: /y/\n\n\nallow: /w/\nuser-agent: BazBot\n\nuser-agent: FooBot\n"
    "allow: /z/\ndisallow: /\n"
)
F = "http://foo.bar"
expect(G, body, "FooBot", (f"{F}/x/b", True), (f"{F}/z/d", True), (f"{F}/y/c", False))
expect(G, body, "BarBot", (f"{F}/y/c", True), (f"{F}/w/a", True), (f"{F}/z/d", False))
expect(G, body, "BazBot", (f"{F}/z/d", True))
expect(G, body, "FooBot", (f"{F}/foo/bar/", False))
expect(G, body, "BarBot", (f"{F}/foo/bar/", False))
expect(G, body, "BazBot", (f"{F}/foo/bar/", False))

G = "google:ID_REPLineNamesCaseInsensitive"
upper = "USER-AGENT: FooBot\nALLOW: /x/\nDISALLOW: /\n"
lower = "user-agent: FooBot\nallow: /x/\ndisallow: /\n"
camel = "uSeR-aGeNt: FooBot\nAlLoW: /x/\ndIsAlLoW: /\n"
for body in (upper, lower, camel):
    expect(G, body, "FooBot", (f"{F}/x/y", True))
for body in (upper, lower, camel):
    expect(G, body, "FooBot", (f"{F}/a/b", False))

G = "google:ID_VerifyValidUserAgentsToObey"
for value, valid in [
    ("Foobot", True),
    ("Foobot-Bar", True),
    ("Foo_Bar", True),
    ("", False),  # absl::string_view()
    ("", False),
    ("\u30c4", False),
    ("Foobot*", False),
    (" Foobot ", False),
    ("Foobot/2.1", False),
    ("Foobot Bar", False),
]:
    token(G, value, valid)

G = "google:ID_UserAgentValueCaseInsensitive"
upper = "User-Agent: FOO BAR\nAllow: /x/\nDisallow: /\n"
lower = "User-Agent: foo bar\nAllow: /x/\nDisallow: /\n"
camel = "User-Agent: FoO bAr\nAllow: /x/\nDisallow: /\n"
for agent in ("Foo", "foo"):
    for body in (upper, lower, camel):
        expect(G, body, agent, (f"{F}/x/y", True))
    for body in (upper, lower, camel):
        expect(G, body, agent, (f"{F}/a/b", False))

G = "google:GoogleOnly_AcceptUserAgentUpToFirstSpace"
body = "User-Agent: *\nDisallow: /\nUser-Agent: Foo Bar\nAllow: /x/\nDisallow: /\n"
token(G, "Foobot Bar", False)
expect(G, body, "Foo", (f"{F}/x/y", True))
misuse(G, body, "Foo Bar", f"{F}/x/y", NOT_A_TOKEN)

G = "google:ID_GlobalGroups_Secondary"
glob = "user-agent: *\nallow: /\nuser-agent: FooBot\ndisallow: /\n"
only_specific = (
    "user-agent: FooBot\nallow: /\nuser-agent: BarBot\ndisallow: /\nuser-agent: BazBot\n"
    "disallow: /\n"
)
expect(G, "", "FooBot", (f"{F}/x/y", True))
expect(G, glob, "FooBot", (f"{F}/x/y", False))
expect(G, glob, "BarBot", (f"{F}/x/y", True))
expect(G, only_specific, "QuxBot", (f"{F}/x/y", True))

G = "google:ID_AllowDisallow_Value_CaseSensitive"
expect(G, "user-agent: FooBot\ndisallow: /x/\n", "FooBot", (f"{F}/x/y", False))
expect(G, "user-agent: FooBot\ndisallow: /X/\n", "FooBot", (f"{F}/x/y", True))

G = "google:ID_LongestMatch"
foo = "user-agent: FooBot\n"
page = f"{F}/x/page.html"
expect(G, foo + "disallow: /x/page.html\nallow: /x/\n", "FooBot", (page, False))
body = foo + "allow: /x/page.html\ndisallow: /x/\n"
expect(G, body, "FooBot", (page, True), (f"{F}/x/", False))
expect(G, foo + "disallow: \nallow: \n", "FooBot", (page, True))
expect(G, foo + "disallow: /\nallow: /\n", "FooBot", (page, True))
expect(G, foo + "disallow: /x\nallow: /x/\n", "FooBot", (f"{F}/x", False), (f"{F}/x/", True))
expect(G, foo + "disallow: /x/page.html\nallow: /x/page.html\n", "FooBot", (page, True))
body = foo + "allow: /page\ndisallow: /*.html\n"
expect(G, body, "FooBot", (f"{F}/page.html", False), (f"{F}/page", True))
body = foo + "allow: /x/page.\ndisallow: /*.html\n"
expect(G, body, "FooBot", (page, True), (f"{F}/x/y.html", False))
body = "User-agent: *\nDisallow: /x/\nUser-agent: FooBot\nDisallow: /y/\n"
expect(G, body, "FooBot", (f"{F}/x/page", True), (f"{F}/y/page", False))

G = "google:ID_Encoding"
body = "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar?qux=taz&baz=http://foo.bar?tar&par\n"
expect(G, body, "FooBot", (f"{F}/foo/bar?qux=taz&baz=http://foo.bar?tar&par", True))
body = "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/\u30c4\n"
expect(G, body, "FooBot", (f"{F}/foo/bar/%E3%83%84", True))
not_applied(G)  # 3: the URL /foo/bar/ツ, unencoded
body = "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/%E3%83%84\n"
expect(G, body, "FooBot", (f"{F}/foo/bar/%E3%83%84", True))
not_applied(G)  # 5: the URL /foo/bar/ツ, unencoded
not_applied(G)  # 6: /foo/bar/baz against Allow: /foo/bar/%62%61%7A
body = "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/%62%61%7A\n"
expect(G, body, "FooBot", (f"{F}/foo/bar/%62%61%7A", True))

G = "google:ID_SpecialCharacters"
body = "User-agent: FooBot\nDisallow: /foo/bar/quz\nAllow: /foo/*/qux\n"
expect(
    G,
    body,
    "FooBot",
    (f"{F}/foo/bar/quz", False),
    (f"{F}/foo/quz", True),
    (f"{F}/foo//quz", True),
    (f"{F}/foo/bax/quz", True),
)
body = "User-agent: FooBot\nDisallow: /foo/bar$\nAllow: /foo/bar/qux\n"
expect(
    G,
    body,
    "FooBot",
    (f"{F}/foo/bar", False),
    (f"{F}/foo/bar/qux", True),
    (f"{F}/foo/bar/", True),
    (f"{F}/foo/bar/baz", True),
)
body = "User-agent: FooBot\n# Disallow: /\nDisallow: /foo/quz#qux\nAllow: /\n"
expect(G, body, "FooBot", (f"{F}/foo/bar", True), (f"{F}/foo/quz", False))

G = "google:GoogleOnly_IndexHTMLisDirectory"
body = "User-Agent: *\nAllow: /allowed-slash/index.html\nDisallow: /\n"
not_applied(G)  # 1: /allowed-slash/ allowed through index.html
expect(
    G,
    body,
    "foobot",
    ("http://foo.com/allowed-slash/index.htm", False),
    ("http://foo.com/allowed-slash/index.html", True),
    ("http://foo.com/anyother-url", False),
)

G = "google:GoogleOnly_LineTooLong"
max_line = 2083 * 8
long_x = "/x/" + "a" * (max_line - len("/x/") - len("disallow: ") + 1 - len("/x/"))
body = "user-agent: FooBot\ndisallow: " + long_x + "/qux\n"
expect(G, body, "FooBot", (f"{F}/fux", True))
not_applied(G)  # 2: a URL matching the disallow rule cut at 8 * 2083 bytes
long_a = "/x/" + "a" * (max_line - len("/x/") - len("allow: ") + 1 - len("/x/"))
long_b = "/x/" + "b" * (max_line - len("/x/") - len("allow: ") + 1 - len("/x/"))
body = f"user-agent: FooBot\ndisallow: /\nallow: {long_a}/qux\nallow: {long_b}/qux\n"
expect(G, body, "FooBot", (f"{F}/", False), (f"{F}{long_a}/qux", True))
not_applied(G)  # 5: a URL matching the allow rule cut at 8 * 2083 bytes

G = "google:GoogleOnly_DocumentationChecks"
fish = [
    ("/bar", False),
    ("/fish", True),
    ("/fish.html", True),
    ("/fish/salmon.html", True),
    ("/fishheads", True),
    ("/fishheads/yummy.html", True),
    ("/fish.html?id=anything", True),
]
fish_not = [("/catfish", False), ("/?id=fish", False)]
expect(
    G,
    foo + "disallow: /\nallow: /fish\n",
    "FooBot",
    *[(F + path, ok) for path, ok in [*fish, ("/Fish.asp", False), *fish_not]],
)
expect(
    G,
    foo + "disallow: /\nallow: /fish*\n",
    "FooBot",
    *[(F + path, ok) for path, ok in [*fish, ("/Fish.bar", False), *fish_not]],
)
expect(
    G,
    foo + "disallow: /\nallow: /fish/\n",
    "FooBot",
    *[
        (F + path, ok)
        for path, ok in [
            ("/bar", False),
            ("/fish/", True),
            ("/fish/salmon", True),
            ("/fish/?salmon", True),
            ("/fish/salmon.html", True),
            ("/fish/?id=anything", True),
            ("/fish", False),
            ("/fish.html", False),
            ("/Fish/Salmon.html", False),
        ]
    ],
)
expect(
    G,
    foo + "disallow: /\nallow: /*.php\n",
    "FooBot",
    *[
        (F + path, ok)
        for path, ok in [
            ("/bar", False),
            ("/filename.php", True),
            ("/folder/filename.php", True),
            ("/folder/filename.php?parameters", True),
            ("//folder/any.php.file.html", True),
            ("/filename.php/", True),
            ("/index?f=filename.php/", True),
            ("/php/", False),
            ("/index?php", False),
            ("/windows.PHP", False),
        ]
    ],
)
expect(
    G,
    foo + "disallow: /\nallow: /*.php$\n",
    "FooBot",
    *[
        (F + path, ok)
        for path, ok in [
            ("/bar", False),
            ("/filename.php", True),
            ("/folder/filename.php", True),
            ("/filename.php?parameters", False),
            ("/filename.php/", False),
            ("/filename.php5", False),
            ("/php/", False),
            ("/filename?php", False),
            ("/aaaphpaaa", False),
            ("//windows.PHP", False),
        ]
    ],
)
expect(
    G,
    foo + "disallow: /\nallow: /fish*.php\n",
    "FooBot",
    (f"{F}/bar", False),
    (f"{F}/fish.php", True),
    (f"{F}/fishheads/catfish.php?parameters", True),
    (f"{F}/Fish.PHP", False),
)
X = "http://example.com"
expect(G, foo + "allow: /p\ndisallow: /\n", "FooBot", (f"{X}/page", True))
expect(G, foo + "allow: /folder\ndisallow: /folder\n", "FooBot", (f"{X}/folder/page", True))
expect(G, foo + "allow: /page\ndisallow: /*.htm\n", "FooBot", (f"{X}/page.htm", False))
expect(G, foo + "allow: /$\ndisallow: /\n", "FooBot", (f"{X}/", True), (f"{X}/page.html", False))

G = "google:ID_LinesNumbersAreCountedCorrectly"
for eol, last in [("\n", "\n"), ("\r\n", "\r\n"), ("\r", "\r"), ("\n", "")]:
    lines = ["User-Agent: foo", "Allow: /some/path", "User-Agent: bar", "", "", "Disallow: /"]
    expect(G, eol.join(lines) + last, "bar", (f"{F}/x", False))
mixed = "User-Agent: foo\nAllow: /some/path\r\nUser-Agent: bar\n\r\n\nDisallow: /"
expect(G, mixed, "bar", (f"{F}/x", False))

G = "google:ID_UTF8ByteOrderMarkIsSkipped"
rest = b"User-Agent: foo\nAllow: /AnyValue\n"
group_rules(G, BOM + rest, "foo", allow("/AnyValue"))
group_rules(G, b"\xef\xbb" + rest, "foo", allow("/AnyValue"))
group_rules(G, b"\xef" + rest, "foo", allow("/AnyValue"))
group_rules(G, b"\xef\x11\xbf" + rest, "foo")
group_rules(G, b"User-Agent: foo\n" + BOM + b"Allow: /AnyValue\n", "foo")

G = "google:ID_NonStandardLineExample_Sitemap"
groups = "User-Agent: foo\nAllow: /some/path\nUser-Agent: bar\n\n\n"
sitemaps(G, groups + "Sitemap: http://foo.bar/sitemap.xml\n", "http://foo.bar/sitemap.xml")
sitemaps(G, "Sitemap: http://foo.bar/sitemap.xml\n" + groups, "http://foo.bar/sitemap.xml")

G = "google:TestGetPathParamsQuery"
not_applied(G)  # 1: ""
for address, path in [
    ("http://www.example.com", "/"),
    ("http://www.example.com/", "/"),
    ("http://www.example.com/a", "/a"),
    ("http://www.example.com/a/", "/a/"),
    ("http://www.example.com/a/b?c=http://d.e/", "/a/b?c=http://d.e/"),
    ("http://www.example.com/a/b?c=d&e=f#fragment", "/a/b?c=d&e=f"),
]:
    expect(G, f"user-agent: FooBot\ndisallow: {path}$\n", "FooBot", (address, False))
for _ in range(12):  # 8-19: "example.com", "a", "/a", "//a/b/c" ... have no scheme
    not_applied(G)

G = "google:TestMaybeEscapePattern"
expect(G, foo + "disallow: http://www.example.com\n", "FooBot", ("http://www.example.com/", True))
expect(G, foo + "disallow: /a/b/c\n", "FooBot", (f"{F}/a/b/c", False))
expect(G, foo + "disallow: /\u00e1\n", "FooBot", (f"{F}/%C3%A1", False))
expect(G, foo + "disallow: /%aa\n", "FooBot", (f"{F}/%AA", False))

# ---- Defects of the protego-based reader, and our own choices -------------------------------

S = "spindle:token"  # the group for a product token is the one naming that whole token
expect(S, "User-agent: barbarbot\nDisallow: /\n", "barbarbot-prod", (f"{E}/x", True))
body = "User-agent: *\nDisallow: /private\n\nUser-agent: barbarbot\nDisallow: /\n"
expect(S, body, "barbarbot-prod", (f"{E}/x", True), (f"{E}/private", False))
expect(S, "User-agent: foo\nDisallow: /\n", "FooBot", (f"{E}/x", True))
expect(S, "User-agent: *\nDisallow: /\n\nUser-agent: foo\nAllow: /\n", "FooBot", (f"{E}/x", False))
expect(S, "User-agent: SPINDLE\nDisallow: /\n", "spindle", (f"{E}/x", False))
expect(S, "User-agent: spindle/1.0\nDisallow: /\n", "spindle", (f"{E}/x", False))
expect(S, "User-agent: spindle-images\nDisallow: /\n", "spindle", (f"{E}/x", True))
body = (
    "User-agent: spindle\nDisallow: /a\n\nUser-agent: *\nDisallow: /b\n\n"
    "User-agent: Spindle\nDisallow: /c\n"
)
expect(S, body, "spindle", (f"{E}/a", False), (f"{E}/c", False), (f"{E}/b", True))
body = "User-agent: *\nDisallow: /\n\nUser-agent: spindle\nAllow: /\n"
expect(S, body, "spindle", (f"{E}/x", True))

S = "spindle:unknown-line"  # no line but a rule ends the user-agent lines of a group
body = "User-agent: spindle\nFoo: bar\nUser-agent: other\nDisallow: /\n"
expect(S, body, "spindle", (f"{E}/x", False))
body = "User-agent: spindle\nSitemap:\nUser-agent: other\nDisallow: /\n"
expect(S, body, "spindle", (f"{E}/x", False))
body = "User-agent: spindle\nUsre-agent: other\nUser-agent: more\nDisallow: /\n"
expect(S, body, "spindle", (f"{E}/x", False))
body = "User-agent: spindle\nCrawl-delay: 3\nUser-agent: other\nDisallow: /private\n"
expect(S, body, "spindle", (f"{E}/private", False), (f"{E}/public", True))

S = "spindle:bom"
expect(S, BOM + b"User-agent: *\nDisallow: /private\n", "spindle", (f"{E}/private", False))
expect(S, BOM + b"User-agent: *\nDisallow: /private\n", "spindle", (f"{E}/public", True))
expect(S, BOM + b"User-agent: spindle\nDisallow: /\n", "spindle", (f"{E}/", False))

S = "spindle:query"  # the URL as it will be requested, arguments in the page's order
expect(S, star + "Disallow: /?q=baz/login/\n", "x", (f"{E}/?q=baz/login/", False))
expect(S, star + "Disallow: /?q=baz/login/\n", "x", (f"{E}/?q=baz", True))
body = star + "Disallow: /search\nAllow: /search?b=2&a=1\n"
expect(S, body, "x", (f"{E}/search?b=2&a=1", True), (f"{E}/search?a=1&b=2", False))
body = star + "Disallow: /*?sort=desc&page=\n"
expect(S, body, "x", (f"{E}/list?sort=desc&page=2", False), (f"{E}/list?page=2&sort=desc", True))

S = "spindle:url"  # what part of the URL is matched
expect(S, star + "Disallow: /a$\n", "x", (f"{E}/a#frag", False), (f"{E}/a?", True))
expect(S, star + "Disallow: /a;b\n", "x", (f"{E}/a;b", False))
expect(S, star + "Disallow: //a\n", "x", (f"{E}//a/b", False))
expect(S, star + "Disallow: /$\n", "x", (E, False))

S = "spindle:dollar"  # a URL with a "$" and control characters of its own
expect(S, star + "Disallow: /*a$\n", "x", (f"{E}/a%01$b", True), (f"{E}/b%01$a", False))

S = "spindle:lines"  # what a line is
expect(S, star + "Disallow: /a\u2028b\n", "x", (f"{E}/a", True), (f"{E}/a%E2%80%A8b", False))
expect(S, b"User-agent: *\n# \xff\xfe\nDisallow: /private\n", "x", (f"{E}/private", False))
expect(S, star + "Dissallow: /private\n", "x", (f"{E}/private", False))
expect(S, "User agent: spindle\nDisallow: /\n", "spindle", (f"{E}/x", False))
expect(S, "Disallow\nUser-agent: *\nDisallow: /x\n", "x", (f"{E}/x", False))

S = "spindle:crawl-delay"
body = (
    "User-agent: *\nDisallow: /y\nCrawl-delay: 10\n\n"
    "User-agent: spindle\nDisallow: /x\nCrawl-delay: 2\n"
)
delay(S, body, "spindle", 2.0)
delay(S, body, "other", 10.0)
body = "User-agent: *\nDisallow: /y\nCrawl-delay: 10\n\nUser-agent: spindle\nDisallow: /x\n"
delay(S, body, "spindle", None)
delay(S, "User-agent: spindle\nCrawl-delay: 0.5\n", "spindle", 0.5)
for value in ("soon", "-1", "inf", "nan", "", "9" * 400, "1e999"):
    delay(S, f"User-agent: spindle\nCrawl-delay: {value}\n", "spindle", None)
delay(S, "User-agent: spindle\nCrawl-delay: 1e3\n", "spindle", 1000.0)
body = "User-agent: spindle\nCrawl-delay: 3\nUser-agent: other\nDisallow: /\n"
delay(S, body, "spindle", 3.0)
delay(S, body, "other", 3.0)
body = "User-agent: spindle\nDisallow: /\nCrawl-delay: 5\n\nUser-agent: spindle\nCrawl-delay: 2\n"
delay(S, body, "spindle", 5.0)
body = (
    "User-agent: spin\nDisallow: /x\nCrawl-delay: 30\n\n"
    "User-agent: *\nDisallow: /y\nCrawl-delay: 1\n"
)
delay(S, body, "spindle", 1.0)
delay(S, "Crawl-delay: 5\nUser-agent: *\nDisallow: /x\n", "spindle", None)
delay(S, BOM + b"User-agent: *\nCrawl-delay: 4\n", "spindle", 4.0)
delay(S, "User-agent: *\nCrawl-delay: 3 # seconds\n", "spindle", 3.0)
# A group of user-agent lines and a Crawl-delay but no rule runs on into the next group.
body = "User-agent: spindle\nCrawl-delay: 5\n\nUser-agent: *\nDisallow: /\n"
delay(S, body, "spindle", 5.0)
delay(S, body, "other", 5.0)
expect("spindle:unknown-line", body, "spindle", (f"{E}/x", False))

S = "spindle:sitemap"
body = (
    "Sitemap: https://a.test/1.xml\nUser-agent: *\nSitemap: https://a.test/2.xml\n"
    "Disallow: /x\nsitemap:https://a.test/3.xml # last\n"
)
sitemaps(S, body, "https://a.test/1.xml", "https://a.test/2.xml", "https://a.test/3.xml")
sitemaps(S, "Sitemap:\nSitemap: # none\n")
sitemaps(S, BOM + b"Sitemap: https://a.test/s.xml\n", "https://a.test/s.xml")
sitemaps(S, "Sitemap https://a.test/s.xml\n", "https://a.test/s.xml")
body_bytes = padded(
    "Sitemap: https://a.test/1.xml\n", "Sitemap: https://a.test/2.xml\n", MAX_ROBOTS_BYTES
)
sitemaps(S, body_bytes, "https://a.test/1.xml")

S = "spindle:token-validity"
token(S, "spindle", True)
token(S, "Bot2", False)
token(S, "Bot\n", False)

S = "spindle:misuse"
misuse(S, "", "spindle", "ftp://a.test/", NOT_A_URL)
misuse(S, "", "spindle", "/relative/path", NOT_A_URL)
misuse(S, "", "spindle", "https:///no-host", NOT_A_URL)
misuse(S, "", "spindle", "http://[::1/x", "Invalid IPv6 URL")


# Rows that raw protego answers differently: Protego.parse(body decoded as UTF-8, invalid bytes
# replaced) with can_fetch(url, token), crawl_delay(token) and sitemaps.
PROTEGO_WRONG = frozenset(
    {
        # 1. a group chosen by a prefix of the crawler's name
        "spindle:token/1",
        "spindle:token/2",
        "spindle:token/4",
        "spindle:token/5",
        "spindle:crawl-delay/16",
        # 2. a user-agent value read whole
        "google:ID_UserAgentValueCaseInsensitive/4",
        "google:ID_UserAgentValueCaseInsensitive/5",
        "google:ID_UserAgentValueCaseInsensitive/6",
        "google:ID_UserAgentValueCaseInsensitive/10",
        "google:ID_UserAgentValueCaseInsensitive/11",
        "google:ID_UserAgentValueCaseInsensitive/12",
        "google:GoogleOnly_AcceptUserAgentUpToFirstSpace/2",
        "spindle:token/7",
        # 3. other records end the user-agent lines of a group
        "rfc9309:2.2.4/3",
        "rfc9309:2.2.4/4",
        "spindle:unknown-line/1",
        "spindle:unknown-line/3",
        "spindle:unknown-line/4",
        "spindle:unknown-line/6",
        "spindle:crawl-delay/14",
        "spindle:crawl-delay/21",
        # 4. a byte order mark
        "spindle:bom/1",
        "spindle:bom/3",
        "spindle:crawl-delay/18",
        "spindle:sitemap/3",
        # 5. no parsing limit
        "rfc9309:2.5/2",
        "rfc9309:2.5/3",
        "rfc9309:2.5/7",
        "spindle:sitemap/5",
        # 6. a final "$" also read as a literal "$"
        "rfc9309:2.2.3/13",
        "rfc9309:2.2.3/15",
        "rfc9309:2.2.3/16",
        "rfc9309:2.2.3/18",
        # 7. index.html
        "rfc9309:2.2.2/22",
        # 8. "/" and %2F in a query
        "rfc9309:2.2.2/2",
        "rfc9309:2.2.2/3",
        # 9. str.splitlines
        "spindle:lines/1",
        # outside RFC 9309: the last Crawl-delay of combined groups
        "spindle:crawl-delay/15",
    }
)

# --------------------------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("row", DECISIONS, ids=lambda row: row.id)
def test_decision(row: Decision) -> None:
    assert RobotsRules.parse(row.body, row.token).allows(row.url) is row.allowed


@pytest.mark.parametrize("row", DELAYS, ids=lambda row: row.id)
def test_crawl_delay(row: Delay) -> None:
    assert RobotsRules.parse(row.body, row.token).crawl_delay == row.crawl_delay


@pytest.mark.parametrize("row", SITEMAPS, ids=lambda row: row.id)
def test_sitemaps(row: Sitemaps) -> None:
    assert RobotsRules.parse(row.body, "spindle").sitemaps == row.sitemaps


@pytest.mark.parametrize("row", GROUP_RULES, ids=lambda row: row.id)
def test_group_rules(row: GroupRules) -> None:
    assert RobotsRules.parse(row.body, row.token).rules == row.rules


@pytest.mark.parametrize("row", TOKENS, ids=lambda row: row.id)
def test_product_token(row: Token) -> None:
    if row.valid:
        assert RobotsRules.parse(b"User-agent: *\nDisallow: /\n", row.token) == DISALLOW_ALL
    else:
        with pytest.raises(ValueError, match=NOT_A_TOKEN):
            RobotsRules.parse(b"", row.token)


@pytest.mark.parametrize("row", MISUSES, ids=lambda row: row.id)
def test_misuse_fails_loudly(row: Misuse) -> None:
    with pytest.raises(ValueError, match=re.escape(row.message)):
        RobotsRules.parse(row.body, row.token).allows(row.url)


@pytest.mark.parametrize(
    ("rules", "url", "allowed"),
    [
        pytest.param(ALLOW_ALL, f"{E}/anything?at=all", True, id="rfc9309:2.3.1.3/1"),
        pytest.param(ALLOW_ALL, f"{E}/robots.txt", True, id="rfc9309:2.3.1.3/2"),
        pytest.param(DISALLOW_ALL, f"{E}/", False, id="rfc9309:2.3.1.4/1"),
        pytest.param(DISALLOW_ALL, f"{E}/anything?at=all", False, id="rfc9309:2.3.1.4/2"),
        pytest.param(DISALLOW_ALL, f"{E}/robots.txt", True, id="rfc9309:2.3.1.4/3"),
    ],
)
def test_decisions_that_need_no_file(rules: RobotsRules, url: str, allowed: bool) -> None:
    assert rules.allows(url) is allowed


def test_the_decisions_that_need_no_file_are_plain_values() -> None:
    assert ALLOW_ALL == RobotsRules() == RobotsRules.parse(b"", "spindle")
    assert RobotsRules.parse(b"User-agent: *\nDisallow: /\n", "spindle") == DISALLOW_ALL
    assert repr(DISALLOW_ALL) == "RobotsRules(allow=0, disallow=1, crawl_delay=None, sitemaps=0)"
    assert hash(ALLOW_ALL) == hash(RobotsRules())


def _protego_answers() -> dict[str, bool]:
    """Whether raw protego gives each row's expected answer."""
    answers: dict[str, bool] = {}
    for row in DECISIONS:
        parser = Protego.parse(row.body.decode("utf-8", errors="replace"))
        answers[row.id] = parser.can_fetch(row.url, row.token) is row.allowed
    for delay_row in DELAYS:
        parser = Protego.parse(delay_row.body.decode("utf-8", errors="replace"))
        answers[delay_row.id] = parser.crawl_delay(delay_row.token) == delay_row.crawl_delay
    for sitemap_row in SITEMAPS:
        parser = Protego.parse(sitemap_row.body.decode("utf-8", errors="replace"))
        answers[sitemap_row.id] = tuple(parser.sitemaps) == sitemap_row.sitemaps
    return answers


def test_raw_protego_fails_exactly_these_rows() -> None:
    """The deviations listed in the module docstring are the rows raw protego gets wrong."""
    wrong = {row_id for row_id, right in _protego_answers().items() if not right}
    assert wrong == PROTEGO_WRONG


def test_ids_are_unique_and_the_docstring_names_every_case_not_applied() -> None:
    ids = [
        row.id
        for table in (DECISIONS, DELAYS, SITEMAPS, GROUP_RULES, TOKENS, MISUSES)
        for row in table
    ]
    assert len(ids) == len(set(ids))
    doc = __doc__ or ""
    assert [case for case in NOT_APPLIED if case not in doc] == []
    assert [case for case in PROTEGO_WRONG if case not in doc] == []


def test_a_url_holding_every_sentinel_gets_no_anchored_allow() -> None:
    """Where no sentinel is left to find out whether "X$" matches, only Disallow rules count."""
    controls = "".join(f"%{byte:02X}" for byte in (*range(1, 32), 0x7F))
    robots = RobotsRules.parse(b"User-agent: *\nDisallow: /\nAllow: /*a$\n", "x")
    assert robots.allows(f"{E}/{controls[3:]}$a") is True  # %01 is free: the exact reading
    assert robots.allows(f"{E}/{controls}$a") is False


def test_a_rule_pattern_is_one_line() -> None:
    for pattern in ("", " /a", "/a\n", "/a#b"):
        with pytest.raises(ValueError, match="a pattern is one non-empty line"):
            Rule(RuleKind.DISALLOW, pattern)


def test_a_crawl_delay_is_a_finite_number_of_seconds() -> None:
    for bad in (-1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="crawl_delay must be a finite number"):
            RobotsRules(crawl_delay=bad)


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

_UNRESERVED = string.ascii_letters + string.digits + "-._~"
_segment = st.text(alphabet=_UNRESERVED, max_size=6)
_path = st.lists(_segment, max_size=4).map(lambda parts: "/" + "/".join(parts))
_query = st.one_of(st.just(""), st.text(alphabet=_UNRESERVED + "=&", max_size=8).map("?".__add__))
_urls = st.builds(lambda path, query: f"{E}{path}{query}", _path, _query)
_pattern = st.text(alphabet="ab/.*$-", max_size=6).map("/".__add__)
_rule_line = st.builds(
    lambda kind, pattern: f"{kind}: {pattern}", st.sampled_from(["Allow", "Disallow"]), _pattern
)
_rule_lines = st.lists(_rule_line, max_size=6)
_noise = st.sampled_from(
    [
        "",
        "# a comment",
        "Foo: bar",
        "Sitemap: https://example.com/s.xml",
        "Crawl-dealy: 3",
        "Host: example.com",
        "Request-rate: 1/5",
        "Sitemap:",
    ]
)
_line = st.one_of(
    _noise,
    _rule_line,
    st.sampled_from(
        ["User-agent: *", "User-agent: spindle", "User-agent: other", "Crawl-delay: 2"]
    ),
)


@given(
    url=_urls,
    token=st.from_regex(r"[A-Za-z_-]{1,8}", fullmatch=True),
    space=st.sampled_from(["", " ", "\t"]),
    eol=st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_a_star_group_that_disallows_nothing_allows_everything(
    url: str, token: str, space: str, eol: str
) -> None:
    body = f"User-agent:{space}*{eol}Disallow:{space}{eol}"
    assert RobotsRules.parse(body.encode(), token).allows(url)


@given(
    allows=st.lists(_pattern, max_size=4),
    host=st.sampled_from(["a.test", "A.TEST:8080", "[::1]", "[::1]:80", "b"]),
    scheme=st.sampled_from(["http", "https", "HTTP", "Https"]),
    path=_path,
    query=_query,
)
def test_rules_without_a_disallow_allow_every_absolute_url(
    allows: list[str], host: str, scheme: str, path: str, query: str
) -> None:
    """Such rules skip matching (the shortcut of ``allows``). The same rules with a Disallow
    that no generated URL meets (none holds a ``%``) take the full match and agree."""
    body = "User-agent: *\n" + "".join(f"Allow: {pattern}\n" for pattern in allows)
    inert = body + "Disallow: /%25\n"
    url = f"{scheme}://{host}{path}{query}"
    assert RobotsRules.parse(body.encode(), "spindle").allows(url)
    assert RobotsRules.parse(inert.encode(), "spindle").allows(url)


@given(lines=st.lists(_line, max_size=12), url=_urls)
def test_a_byte_order_mark_never_changes_a_decision(lines: list[str], url: str) -> None:
    body = "\n".join(lines).encode()
    plain, marked = RobotsRules.parse(body, "spindle"), RobotsRules.parse(BOM + body, "spindle")
    assert marked == plain
    assert marked.allows(url) is plain.allows(url)


@given(
    rules=st.lists(_rule_line, min_size=1, max_size=6),
    before=st.lists(st.lists(_rule_line, min_size=1, max_size=3), max_size=2),
    after=st.lists(st.lists(_rule_line, min_size=1, max_size=3), max_size=2),
    noise=st.lists(_noise, min_size=1, max_size=8),
    url=_urls,
)
def test_unrelated_groups_and_unknown_lines_change_nothing(
    rules: list[str], before: list[list[str]], after: list[list[str]], noise: list[str], url: str
) -> None:
    ours = ["User-agent: spindle", *rules]
    noisy = [line for pair in zip(ours, noise * len(ours), strict=False) for line in pair]
    others = [["User-agent: other", "User-agent: *", *group] for group in [*before, *after]]
    lines = [*noise, *[line for group in others[: len(before)] for line in group], *noisy]
    lines += [line for group in others[len(before) :] for line in group]
    alone = RobotsRules.parse("\n".join(ours).encode(), "spindle")
    crowded = RobotsRules.parse("\n".join(lines).encode(), "spindle")
    assert crowded.rules == alone.rules
    assert crowded.allows(url) is alone.allows(url)


@given(data=st.data(), rules=_rule_lines, url=_urls)
def test_the_order_of_rules_never_matters(data: st.DataObject, rules: list[str], url: str) -> None:
    shuffled = data.draw(st.permutations(rules))
    first = RobotsRules.parse("\n".join(["User-agent: *", *rules]).encode(), "x")
    second = RobotsRules.parse("\n".join(["User-agent: *", *shuffled]).encode(), "x")
    assert second.allows(url) is first.allows(url)


@given(data=st.data(), rules=_rule_lines, path=_path.filter(lambda p: len(p) > 1))
def test_percent_encoding_an_unreserved_character_never_changes_a_decision(
    data: st.DataObject, rules: list[str], path: str
) -> None:
    robots = RobotsRules.parse("\n".join(["User-agent: *", *rules]).encode(), "x")
    index = data.draw(st.sampled_from([i for i, c in enumerate(path) if c != "/"] or [0]))
    if path[index] == "/":
        return
    hex_form = data.draw(st.sampled_from(["%02X", "%02x"])) % ord(path[index])
    encoded = f"{path[:index]}%{hex_form}{path[index + 1 :]}"
    assert robots.allows(f"{E}{encoded}") is robots.allows(f"{E}{path}")


# A reference for a small alphabet where percent-encoding only turns "$" into "%24": RFC 9309
# matching with protego's measure of length (the pattern as compared, "*" and a final "$"
# counted). It has no index.html rule and no literal reading of a final "$".
_URL_PARTS = ["a", "b", "/", "/index.html", "$", "%24"]
_url_parts = st.lists(st.sampled_from(_URL_PARTS), max_size=3).map("".join)
_ref_pattern = st.builds(
    lambda parts, anchor: "/" + "".join(parts) + anchor,
    st.lists(st.sampled_from([*_URL_PARTS, "*"]), max_size=5),
    st.sampled_from(["", "$"]),
)
_ref_rules = st.lists(st.tuples(st.sampled_from(["Allow", "Disallow"]), _ref_pattern), max_size=5)


def _reference_allows(rules: list[tuple[str, str]], path: str) -> bool:
    compared = path.replace("$", "%24")
    best: tuple[int, bool] | None = None
    for kind, pattern in rules:
        anchored = pattern.endswith("$")
        body = (pattern[:-1] if anchored else pattern).replace("$", "%24")
        regex = ".*".join(re.escape(part) for part in body.split("*"))
        if re.match(regex + (r"\Z" if anchored else ""), compared, re.DOTALL):
            rank = (len(body) + anchored, kind == "Allow")
            best = rank if best is None else max(best, rank)
    return best is None or best[1]


def _near(data: st.DataObject, pattern: str) -> str:
    """A path close to what ``pattern`` matches, so that near misses are tried too."""
    parts = pattern.removesuffix("$").split("*")
    path = "".join(part + data.draw(_url_parts) for part in parts[:-1]) + parts[-1]
    if data.draw(st.booleans()):
        path = path.removesuffix("index.html")
    return path + data.draw(_url_parts)


@settings(max_examples=500)
@given(data=st.data(), rules=_ref_rules)
def test_matching_agrees_with_rfc_9309_on_wildcards_anchors_and_index_html(
    data: st.DataObject, rules: list[tuple[str, str]]
) -> None:
    anywhere = _url_parts.map("/".__add__)
    near = [_near(data, pattern) for _, pattern in rules]
    path = data.draw(st.one_of(st.sampled_from(near), anywhere) if near else anywhere)
    body = "\n".join(["User-agent: *", *(f"{kind}: {pattern}" for kind, pattern in rules)])
    robots = RobotsRules.parse(body.encode(), "x")
    assert robots.allows(f"{E}{path}") is _reference_allows(rules, path)


def test_the_parsing_limit_is_the_one_rfc_9309_sets() -> None:
    """§2.5: "The parsing limit MUST be at least 500 kibibytes"; the 2.5 rows build on it."""
    assert MAX_ROBOTS_BYTES == 500 * 1024


def _target_by_urlsplit(url: str) -> str:
    """The request target as urlsplit finds it: the oracle for the shortcut."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query or "?" in url.partition("#")[0]:
        target = f"{target}?{parts.query}"
    path, mark, query = target.partition("?")
    return f"{path}{mark}{re.sub('%2F', '/', query, flags=re.IGNORECASE)}" if mark else target


@settings(max_examples=500)
@given(
    st.sampled_from(["http://", "https://", "HTTP://"]),
    st.text(alphabet="ab.:9[]@", min_size=1, max_size=8),
    st.text(alphabet="/ab%2F?#\\\t.~-", max_size=12),
)
def test_the_request_target_shortcut_agrees_with_urlsplit(
    scheme: str, netloc: str, rest: str
) -> None:
    from spindle.crawl.core.robots_rules import _request_target

    url = f"{scheme}{netloc}{rest}"
    try:
        expected = _target_by_urlsplit(url)
    except ValueError as exc:
        with pytest.raises(ValueError, match=re.escape(str(exc))):
            _request_target(url)
        return
    assert _request_target(url) == expected
