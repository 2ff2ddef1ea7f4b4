"""FetchSettings validation, request headers, origins and the URL put on the wire."""

from __future__ import annotations

import math
import re

import pytest

from spindle.crawl.engines.cookies import CookieJar
from spindle.crawl.engines.proxy import Proxy, ProxyRules
from spindle.crawl.engines.request import (
    Credentials,
    FetchSettings,
    check_header,
    origin,
    prepare,
)


def test_defaults_and_request_headers() -> None:
    settings = FetchSettings("bot/1")
    assert (settings.timeout, settings.pool_size, dict(settings.headers)) == (15.0, 10, {})
    assert (settings.accept_types, settings.cookies, settings.verify) == ((), None, True)
    assert (settings.ca_file, settings.keep_wire) == (None, False)
    assert settings.proxies.proxy_for("http://a.test/") is None
    assert list(settings.request_headers("http://a.test:8080").items()) == [
        ("Host", "a.test:8080"),
        ("User-Agent", "bot/1"),
        ("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"),
        ("Accept-Encoding", "gzip, deflate"),
    ]


def test_accept_is_replaced_in_place_and_extra_headers_follow_in_order() -> None:
    settings = FetchSettings(
        "bot/1", headers={"X-One": "1", "accept": "application/json", "X-Two": "2"}
    )
    assert list(settings.request_headers("https://a.test", cookie="a=1").items()) == [
        ("Host", "a.test"),
        ("User-Agent", "bot/1"),
        ("Accept", "application/json"),
        ("Accept-Encoding", "gzip, deflate"),
        ("X-One", "1"),
        ("X-Two", "2"),
        ("Cookie", "a=1"),
    ]


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("Host", "x", "it comes from the URL"),
        ("connection", "close", "it belongs to the connection"),
        ("Transfer-Encoding", "chunked", "it belongs to the connection"),
        ("Accept-Encoding", "br", "Spindle asks for the encodings it decodes"),
        ("Authorization", "Basic czNjcjN0", "credentials have their own setting (--auth)"),
        ("Cookie", "sid=s3cr3t", "cookies have their own setting (--cookies)"),
        ("Proxy-Authorization", "Basic czNjcjN0", "proxy credentials go in the proxy URL"),
        ("User-Agent", "x/1", "robots.txt is matched against it"),
        ("X-Token", "caf\u00e9", "is not printable ASCII"),
        ("X-Token", "a\r\nX-Evil: 1", "is not printable ASCII"),
        ("Bad Name", "x", "is not a header name"),
    ],
)
def test_refused_extra_headers_say_why_never_showing_the_value(
    name: str, value: str, reason: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)) as caught:
        check_header(name, value)
    assert value not in str(caught.value)


def test_request_headers_through_prepare_carry_the_cookie_and_the_proxy() -> None:
    jar = CookieJar()
    jar.update("http://a.test/", (("Set-Cookie", "sid=s3cr3t-value; Path=/"),))
    proxy = Proxy("http://proxy.test:3128")
    settings = FetchSettings("bot/1", cookies=jar, proxies=ProxyRules(http=proxy))
    request = prepare(settings, "HTTP://A.test:80/x?y")
    assert (request.url, request.target, request.request_target) == (
        "http://a.test/x?y",
        "/x?y",
        "http://a.test/x?y",
    )
    assert (request.proxy, request.headers["Cookie"]) == (proxy, "sid=s3cr3t-value")
    secure = prepare(settings, "https://a.test/x")
    assert (secure.proxy, secure.request_target, "Cookie" in secure.headers) == (
        None,
        "/x",
        True,
    )
    assert "s3cr3t-value" in settings.secrets
    assert "s3cr3t-value" not in repr(settings)


def test_extra_headers_then_credentials_for_their_origin_only() -> None:
    settings = FetchSettings(
        "bot/1",
        headers={"Accept-Language": "fr"},
        credentials={"HTTPS://A.test:443/": Credentials("ann", "pâss")},
    )
    assert list(settings.credentials) == ["https://a.test"]
    assert list(settings.request_headers("https://a.test").items())[4:] == [
        ("Accept-Language", "fr"),
        ("Authorization", "Basic YW5uOnDDonNz"),
    ]
    assert "Authorization" not in settings.request_headers("http://a.test")
    assert "Authorization" not in settings.request_headers("https://a.test:8443")


def test_settings_and_credentials_never_show_a_password() -> None:
    settings = FetchSettings("bot/1", credentials={"http://a.test": Credentials("ann", "s3cr3t")})
    assert "s3cr3t" not in repr(settings)
    assert "czNjcjN0" not in repr(settings)
    assert set(settings.secrets) == {"s3cr3t", "YW5uOnMzY3IzdA==", "ann:s3cr3t"}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"user_agent": ""}, "user_agent"),
        ({"user_agent": "bot\r\nX-Evil: 1"}, "user_agent"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": -1.0}, "timeout"),
        ({"timeout": math.inf}, "timeout"),
        ({"timeout": math.nan}, "timeout"),
        ({"timeout": 86400.5}, "timeout"),
        ({"timeout": True}, "timeout"),
        ({"timeout": "5"}, "timeout"),
        ({"pool_size": 0}, "pool_size"),
        ({"pool_size": 2.0}, "pool_size"),
        ({"pool_size": True}, "pool_size"),
        ({"headers": {"Bad Name": "x"}}, "headers"),
        ({"headers": {"X-A": "a\r\nb"}}, "headers"),
        ({"headers": {"user-agent": "x"}}, "headers"),
        ({"headers": {"Accept-Encoding": "br"}}, "headers"),
        ({"headers": {"Authorization": "Basic x"}}, "headers"),
        ({"headers": {"Host": "x"}}, "headers"),
        ({"headers": {"X-A": "1", "x-a": "2"}}, "headers"),
        ({"headers": {"Cookie": "a=1"}}, "headers"),
        ({"accept_types": ("text",)}, "accept_types"),
        ({"accept_types": ("text/html; charset=utf-8",)}, "accept_types"),
        ({"cookies": {"a": "1"}}, "cookies"),
        ({"proxies": "http://proxy.test"}, "proxies"),
        ({"ca_file": 3}, "ca_file"),
        ({"verify": "no"}, "verify"),
        ({"keep_wire": 1}, "keep_wire"),
        ({"credentials": {"a.test": Credentials("a", "b")}}, "credentials"),
        ({"credentials": {"ftp://a.test": Credentials("a", "b")}}, "credentials"),
        ({"credentials": {"http://a.test/path": Credentials("a", "b")}}, "credentials"),
        ({"credentials": {"http://u@a.test": Credentials("a", "b")}}, "credentials"),
        ({"credentials": {"http://a.test": ("a", "b")}}, "credentials"),
        (
            {
                "credentials": {
                    "http://a.test": Credentials("a", "b"),
                    "http://A.test:80": Credentials("c", "d"),
                }
            },
            "credentials",
        ),
    ],
)
def test_invalid_settings_name_their_field(kwargs: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {"user_agent": "bot/1", **kwargs}
    with pytest.raises(ValueError, match=rf"^FetchSettings\.{field}"):
        FetchSettings(**arguments)  # type: ignore[arg-type]


def test_the_longest_timeout_is_a_day() -> None:
    assert FetchSettings("bot/1", timeout=86400).timeout == 86400.0


@pytest.mark.parametrize("user", ["a:b", "a\nb"])
def test_invalid_credentials(user: str) -> None:
    with pytest.raises(ValueError, match=r"^Credentials\.user"):
        Credentials(user, "x")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://A.test/", "http://a.test"),
        ("http://a.test:80/x", "http://a.test"),
        ("https://a.test:443", "https://a.test"),
        ("https://a.test:80", "https://a.test:80"),
        ("http://user:pw@a.test:8080/", "http://a.test:8080"),
        ("http://[::1]:80/", "http://[::1]"),
        ("http://[::1]:8080/", "http://[::1]:8080"),
    ],
)
def test_origins(url: str, expected: str) -> None:
    assert origin(url) == expected


@pytest.mark.parametrize(
    ("url", "wire"),
    [
        ("http://a.test", "http://a.test/"),
        ("http://a.test/a/./b/../c", "http://a.test/a/c"),
        ("http://a.test/a/b/..", "http://a.test/a/"),
        ("http://a.test/../../x", "http://a.test/x"),
        ("http://a.test/%7e/%2f?%3d=%3D", "http://a.test/%7E/%2F?%3D=%3D"),
        ("http://a.test/100%/x?p=50%", "http://a.test/100%25/x?p=50%25"),
        ("http://a.test/a b/é?q=a b&é", "http://a.test/a%20b/%C3%A9?q=a%20b&%C3%A9"),
        ("http://a.test/p;x=1?", "http://a.test/p;x=1"),
        ("http://a.test/p?q#frag", "http://a.test/p?q"),
        ("http://a.test/p?a/b?c:@", "http://a.test/p?a/b?c:@"),
        ("HTTP://u:p@A.test:8080/x", "http://a.test:8080/x"),
        ("http://A.test:80/x", "http://a.test/x"),
        ("https://[::1]:443/x", "https://[::1]/x"),
    ],
)
def test_the_url_on_the_wire(url: str, wire: str) -> None:
    assert prepare(FetchSettings("bot/1"), url).url == wire


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://[::1/", "Invalid IPv6 URL"),
        ("ftp://a.test/", "unsupported URL scheme 'ftp'"),
        ("a.test/x", "unsupported URL scheme ''"),
        ("http:///x", "the URL has no host"),
        ("http://a.test:99999/", "Port out of range 0-65535"),
        ("http://a.test/\x00", "the URL contains a control character"),
    ],
)
def test_urls_that_cannot_be_fetched(url: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        prepare(FetchSettings("bot/1"), url)


def test_a_bracketed_host_that_is_not_an_address() -> None:
    with pytest.raises(ValueError, match="does not appear to be an IPv"):
        prepare(FetchSettings("bot/1"), "http://[foo]/x")
