"""Canonicalisation, scope and link resolution."""

from __future__ import annotations

from urllib.parse import urljoin

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spindle.crawl.core.urls import (
    InvalidURL,
    LinkResolver,
    Scope,
    ScopeRule,
    canonicalize,
    host_key,
    normalize,
    plain_join,
    resolve,
    split_credentials,
)
from spindle.crawl.core.values import Link


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("http://example.com", "http://example.com/"),
        ("HTTP://EXAMPLE.com:80/a#frag", "http://example.com/a"),
        ("https://example.com:443/", "https://example.com/"),
        ("https://example.com:8443/", "https://example.com:8443/"),
        ("http://example.com/a/./b/../c", "http://example.com/a/c"),
        ("http://example.com/?b=2&a=1", "http://example.com/?a=1&b=2"),
        ("http://example.com/%7euser", "http://example.com/~user"),
        ("http://example.com/caf\u00e9", "http://example.com/caf%C3%A9"),
        ("  http://example.com/x  ", "http://example.com/x"),
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
    ],
)
def test_canonical_forms(raw: str, canonical: str) -> None:
    assert canonicalize(raw) == canonical


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("ftp://example.com/", "only http and https"),
        ("mailto:someone@example.com", "only http and https"),
        ("example.com/page", "only http and https"),
        ("http:///nohost", "no host"),
        ("http://example.com:99999/", "Port out of range"),
        ("http://example.com:abc/", "Port could not be cast"),
    ],
)
def test_invalid_urls_name_the_problem(raw: str, reason: str) -> None:
    with pytest.raises(InvalidURL, match=reason):
        canonicalize(raw)


_segment = st.text(alphabet="abcXYZ019-._~%ä ", min_size=0, max_size=6)
_url = st.builds(
    lambda host, path, query, frag: f"http://{host}/{'/'.join(path)}{query}{frag}",
    st.sampled_from(["a.test", "A.TEST:80", "b.test:8080"]),
    st.lists(_segment, max_size=4),
    st.sampled_from(["", "?x=1&a=2", "?a=2&x=1", "?q=%20"]),
    st.sampled_from(["", "#top", "#"]),
)


@given(_url)
def test_canonicalize_is_idempotent_and_drops_fragments(url: str) -> None:
    once = canonicalize(url)
    assert canonicalize(once) == once
    assert "#" not in once


@pytest.mark.parametrize(
    ("rule", "url", "allowed"),
    [
        (ScopeRule.HOST, "http://www.example.com/x", True),
        (ScopeRule.HOST, "https://www.example.com/x", True),
        (ScopeRule.HOST, "http://www.example.com:8080/x", False),
        (ScopeRule.HOST, "http://docs.example.com/x", False),
        (ScopeRule.DOMAIN, "http://docs.example.com/x", True),
        (ScopeRule.DOMAIN, "http://example.com/x", True),
        (ScopeRule.DOMAIN, "http://badexample.com/x", False),
        (ScopeRule.DOMAIN, "http://example.org/x", False),
        (ScopeRule.ANY, "http://example.org/x", True),
    ],
)
def test_scope_rules(rule: ScopeRule, url: str, allowed: bool) -> None:
    scope = Scope.from_seeds(rule, ["http://www.example.com/"])
    assert scope.allows(url) is allowed


def test_host_key_includes_scheme_and_port() -> None:
    assert host_key("http://a.test/x") == "http://a.test"
    assert host_key("https://a.test:8443/") == "https://a.test:8443"


_href = st.one_of(
    st.sampled_from(["", "#", "#x", "?q=1", "?", "/", "..", "../", "./", "//a.test/z", "x.html"]),
    st.builds(
        lambda parts, q: "/".join(parts) + q,
        st.lists(st.sampled_from(["..", ".", "a", "b", "c.html", ""]), min_size=1, max_size=4),
        st.sampled_from(["", "?k=v", "#f"]),
    ),
    st.builds(lambda p: f"http://a.test/{p}", st.sampled_from(["", "x", "y/z?b=1&a=2"])),
)
_base = st.sampled_from(
    [
        "http://a.test/",
        "http://a.test/docs/x.html",
        "http://a.test/docs/x.html?page=2",
        "http://a.test/docs/sub/",
        "http://a.test/docs/sub/y.html",
    ]
)


@settings(max_examples=300)
@given(st.lists(st.tuples(_base, _href), min_size=1, max_size=20))
def test_resolver_cache_matches_direct_resolution(pairs: list[tuple[str, str]]) -> None:
    """The (base directory, href) cache key never changes an answer."""
    scope = Scope.from_seeds(ScopeRule.HOST, ["http://a.test/"])
    resolver = LinkResolver(scope)
    for base, href in pairs:
        expected = []
        if not href.startswith("#"):
            try:
                direct = normalize(urljoin(base, href))
            except InvalidURL:
                direct = ""
            if direct and scope.allows(direct):
                expected = [Link(direct, canonicalize(direct))]
        assert resolver.resolve(base, [href]) == expected


def test_resolver_drops_other_schemes_and_out_of_scope() -> None:
    resolver = LinkResolver(Scope.from_seeds(ScopeRule.HOST, ["http://a.test/"]))
    hrefs = [
        "mailto:x@a.test",
        "javascript:void(0)",
        "tel:123",
        "http://b.test/",
        "HTTP://a.test/Q",
    ]
    assert resolver.resolve("http://a.test/", hrefs) == [Link("http://a.test/Q", "http://a.test/Q")]


@pytest.mark.parametrize(
    ("raw", "request_form"),
    [
        ("http://example.com", "http://example.com/"),
        ("HTTP://EXAMPLE.com:80/a#frag", "http://example.com/a"),
        ("https://example.com:443/", "https://example.com/"),
        ("http://example.com/a/./b/../c", "http://example.com/a/c"),
        ("http://example.com/?b=2&a=1", "http://example.com/?b=2&a=1"),
        ("http://example.com/?q=baz/login/", "http://example.com/?q=baz/login/"),
        ("http://example.com/caf\u00e9?x=\u00fc y", "http://example.com/caf%C3%A9?x=%C3%BC%20y"),
        ("http://user:secret@example.com/x", "http://example.com/x"),
        ("http://b\u00fccher.example/", "http://xn--bcher-kva.example/"),
        (" \thttp://example.com/a\nb ", "http://example.com/ab"),
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
    ],
)
def test_request_form_is_what_a_browser_sends(raw: str, request_form: str) -> None:
    assert normalize(raw) == request_form


@pytest.mark.parametrize("broken", ["http://[::1/", "http://[foo]/x", "http://a.test:x/"])
def test_malformed_urls_raise_invalid_url_only(broken: str) -> None:
    with pytest.raises(InvalidURL):
        normalize(broken)
    with pytest.raises(InvalidURL):
        resolve("http://a.test/page", broken)


def test_credentials_are_split_off() -> None:
    assert split_credentials("https://ann:p%3Ass@a.test:8443/x?y") == (
        "https://a.test:8443/x?y",
        ("ann", "p:ss"),
    )
    assert split_credentials("http://[::1/") == ("http://[::1/", None)


@given(st.text(max_size=40))
def test_normalize_raises_nothing_but_invalid_url(text: str) -> None:
    for candidate in (text, "http://" + text, "http://a.test/" + text):
        try:
            url = normalize(candidate)
        except InvalidURL:
            continue
        assert normalize(url) == url
        assert canonicalize(url) == canonicalize(candidate)


@given(_url)
def test_request_form_is_idempotent_and_keys_agree(url: str) -> None:
    once = normalize(url)
    assert normalize(once) == once
    assert "#" not in once
    assert canonicalize(once) == canonicalize(url)


# Near the edge of "plain": labels with hyphens, digits, long labels, ports near the limits
# and the defaults, dot segments, characters a path must have escaped, upper case.
_plain_label = st.from_regex(
    r"[a-z0-9](?:[a-z0-9-]{0,3}[a-z0-9])?", fullmatch=True
) | st.sampled_from(["xn--nxasmq6b", "xn--zz", "a" * 63, "a" * 64, "-a", "a-", "A", "127", "0"])
_plain_host = st.lists(_plain_label, min_size=1, max_size=4).map(".".join)
_plain_port = st.sampled_from(["", ":80", ":443", ":8080", ":0", ":080", ":65535", ":65536", ":1"])
_plain_segment = st.text(alphabet="aZ09-._~%?#:@ é+", max_size=5)
_plain_path = st.lists(_plain_segment, max_size=4).map(lambda parts: "/" + "/".join(parts))
_plain_url = st.builds(
    lambda scheme, host, port, path: f"{scheme}://{host}{port}{path}",
    st.sampled_from(["http", "https", "HTTP", "ftp"]),
    _plain_host,
    _plain_port,
    _plain_path,
)
_plain_href = st.one_of(
    _plain_url,
    _plain_path,
    _plain_path.map(lambda path: path.lstrip("/")),
    st.sampled_from(["//a.test/x", "a b", "", "x?y", "x#y", "./x", "../x", "x/..", "x/."]),
)


@settings(max_examples=1000)
@given(_plain_url, _plain_href)
def test_the_plain_path_agrees_with_the_general_one(base: str, href: str) -> None:
    """Where plain_join answers, resolve() and canonicalize() give the same URL and key."""
    try:
        request_base = normalize(base)
    except InvalidURL:
        return
    plain = plain_join(request_base, href)
    if plain is None:
        return
    assert plain == resolve(request_base, href)
    assert canonicalize(plain) == plain


@pytest.mark.parametrize(
    ("base", "href", "joined"),
    [
        ("http://a.test/d/x.html", "y.html", "http://a.test/d/y.html"),
        ("http://a.test/d/x.html", "/r/y.html", "http://a.test/r/y.html"),
        ("https://a.test:8443/", "e/f", "https://a.test:8443/e/f"),
        ("http://a.test/", "http://127.1.0.9:18080/p/3.html", "http://127.1.0.9:18080/p/3.html"),
        ("http://a.test/", "http://b.test:80/", None),  # a default port to drop
        ("http://a.test/", "http://B.test/", None),  # a host to lower-case
        ("http://a.test/", "../y.html", None),
        ("http://a.test/", "y.html?q=1", None),
        ("http://a.test/d/?q=1", "y.html", None),
        ("http://a.test/", "//b.test/", None),
        ("http://a.test/", "caf%C3%A9", None),
        ("http://a.test/", "mailto:x@a.test", None),
        ("http://a.test/", "a//b", None),  # urljoin collapses it, a path from the root not
        ("http://a.test//d/", "b", None),
        ("http://a.test/", "/a//b", "http://a.test/a//b"),
    ],
)
def test_plain_join_takes_only_what_it_can_answer_exactly(
    base: str, href: str, joined: str | None
) -> None:
    assert plain_join(base, href) == joined
    if joined is not None:
        assert resolve(base, href) == joined
