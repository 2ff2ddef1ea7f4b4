"""Proxies: one decision for a URL (the rules as tables), and both engines through a real
forward proxy on 127.0.0.1: absolute form for http, CONNECT for https, NO_PROXY bypasses,
proxy credentials, and the failures of a proxy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from spindle.crawl.core.values import ErrorKind, Failure, Response
from spindle.crawl.engines.proxy import Proxy, ProxyConfigError, ProxyRules
from spindle.crawl.engines.request import FetchSettings
from tests.crawl.engines.harness import ENGINES, fetch_once, make_fetch, summary
from tests.support.faultserver import FaultServer, text
from tests.support.proxyserver import ProxyServer
from tests.support.tls import TestPKI

P = Proxy("http://proxy.test:3128")


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        srv.route("/x", text("through"))
        yield srv


@pytest.mark.parametrize(
    ("no_proxy", "url", "direct"),
    [
        ("", "http://example.com/", False),
        ("*", "https://example.com/", True),
        (" * ", "http://10.0.0.1:8080/", True),
        ("example.com", "http://example.com/", True),
        ("example.com", "http://www.example.com/", True),
        ("example.com", "http://myexample.com/", False),
        (".example.com", "http://example.com/", True),
        (".example.com", "http://a.b.example.com/", True),
        ("*.example.com", "http://www.example.com/", True),
        ("EXAMPLE.com", "http://Example.COM./", True),
        ("example.com.", "http://example.com/", True),
        ("other.test, example.com", "http://example.com/", True),
        ("other.test,,example.org", "http://example.com/", False),
        ("example.com:8080", "http://example.com:8080/", True),
        ("example.com:8080", "http://example.com/", False),
        ("example.com:443", "https://example.com/", True),
        ("example.com:80", "https://example.com/", False),
        ("127.0.0.1", "http://127.0.0.1:9/", True),
        ("127.0.0.1", "http://localhost/", False),
        ("127.0.0.1", "http://127.0.0.10/", False),
        ("10.0.0.0/8", "http://10.200.3.4/", True),
        ("10.0.0.0/8", "http://11.0.0.1/", False),
        ("10.0.0.0/8", "http://10.example.com/", False),
        ("::1", "http://[::1]:8080/", True),
        ("[::1]", "http://[::1]/", True),
        ("[::1]:8080", "http://[::1]:8080/", True),
        ("[::1]:8080", "http://[::1]:8081/", False),
        ("fe80::/10", "http://[fe80::1]/", True),
        ("127.0.0.1:8080", "http://127.0.0.1:8080/", True),
        ("127.0.0.1:8080", "http://127.0.0.1:9090/", False),
    ],
)
def test_no_proxy_entries(no_proxy: str, url: str, direct: bool) -> None:
    rules = ProxyRules.from_environment({}, proxy=P.url, no_proxy=no_proxy)
    assert rules.proxy_for(url) == (None if direct else P)


@pytest.mark.parametrize(
    ("environ", "http", "https"),
    [
        ({}, None, None),
        ({"http_proxy": "h.test:1"}, "http://h.test:1", None),
        ({"HTTP_PROXY": "h.test:1"}, "http://h.test:1", None),
        ({"HTTP_PROXY": "h.test:1", "REQUEST_METHOD": "GET"}, None, None),
        ({"http_proxy": "h.test:1", "REQUEST_METHOD": "GET"}, "http://h.test:1", None),
        ({"http_proxy": "low.test:1", "HTTP_PROXY": "up.test:1"}, "http://low.test:1", None),
        ({"http_proxy": "", "HTTP_PROXY": "up.test:1"}, "http://up.test:1", None),
        ({"https_proxy": "s.test"}, None, "http://s.test:1080"),
        ({"HTTPS_PROXY": "http://s.test:3128/"}, None, "http://s.test:3128"),
        ({"https_proxy": "low.test:1", "HTTPS_PROXY": "up.test:1"}, None, "http://low.test:1"),
        ({"ALL_PROXY": "a.test:1", "all_proxy": "a.test:1"}, None, None),
    ],
)
def test_proxies_from_the_environment(
    environ: dict[str, str], http: str | None, https: str | None
) -> None:
    rules = ProxyRules.from_environment(environ)
    assert (rules.http and rules.http.url, rules.https and rules.https.url) == (http, https)


def test_options_override_the_environment() -> None:
    environ = {"http_proxy": "h.test:1", "https_proxy": "s.test:1", "no_proxy": "a.test"}
    given = ProxyRules.from_environment(environ, proxy="p.test:2")
    assert (given.proxy_for("http://a.test/"), given.proxy_for("https://b.test/")) == (
        None,
        Proxy("http://p.test:2"),
    )
    none = ProxyRules.from_environment(environ, proxy="")
    assert (none.http, none.https) == (None, None)
    everywhere = ProxyRules.from_environment(environ, no_proxy="")
    assert everywhere.proxy_for("http://a.test/") == Proxy("http://h.test:1")
    nowhere = ProxyRules.from_environment(environ, no_proxy="*")
    assert nowhere.proxy_for("https://b.test/") is None


def test_environment_entries_that_are_not_hosts_are_ignored_options_refused() -> None:
    rules = ProxyRules.from_environment({"no_proxy": "a b, <local>, a.test", "http_proxy": "p"})
    assert (rules.proxy_for("http://a.test/"), rules.proxy_for("http://b.test/")) == (
        None,
        Proxy("http://p:1080"),
    )
    with pytest.raises(ProxyConfigError, match=r"^--no-proxy: 'a b' is not a host"):
        ProxyRules.from_environment({}, no_proxy="a.test, a b")


def test_proxy_credentials_are_decoded_and_never_shown() -> None:
    proxy = Proxy.parse("http://p%40t:s%3Acr%C3%A9t@Proxy.test:8080", source="--proxy")
    assert proxy.url == "http://proxy.test:8080"
    assert proxy.credentials is not None
    assert (proxy.credentials.user, proxy.credentials.password) == ("p@t", "s:crét")
    assert "s:cr" not in repr(proxy)
    rules = ProxyRules(http=proxy)
    assert set(rules.secrets) == {"s:crét", "cEB0OnM6Y3LDqXQ=", "p@t:s:crét"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("socks5://bob:s3cr3t@h.test:1080", "--proxy: 'socks5://***@h.test:1080': only http://"),
        ("https://h.test", "only http:// proxies are supported, not https://"),
        ("http://h.test/path", "is not a proxy URL (http://host:port)"),
        ("http://h.test:99999", "is not a proxy URL"),
        ("http://h.test:0", "is not a proxy URL"),
        ("http://", "is not a proxy URL"),
        ("http://bob:s3cr3t\x01@h.test", "is not a proxy URL"),
    ],
)
def test_unusable_proxies_are_refused_without_their_password(value: str, message: str) -> None:
    with pytest.raises(ProxyConfigError) as caught:
        ProxyRules.from_environment({}, proxy=value)
    assert message in str(caught.value)
    assert "s3cr3t" not in str(caught.value)


def test_an_unusable_proxy_variable_is_named() -> None:
    with pytest.raises(ProxyConfigError, match=r"^HTTPS_PROXY: 'socks5://h.test': only http://"):
        ProxyRules.from_environment({"HTTPS_PROXY": "socks5://h.test"})


# -- both engines through a real proxy --------------------------------------------------------


def _settings(proxy: ProxyServer, **kwargs: object) -> FetchSettings:
    rules = ProxyRules.from_environment(
        {
            "http_proxy": proxy.url(credentials="pat:pr0xy-pw"),
            "https_proxy": proxy.url(credentials="pat:pr0xy-pw"),
            "no_proxy": "127.0.0.1",
        }
    )
    return FetchSettings("spindle-test/1", timeout=5.0, proxies=rules, **kwargs)  # type: ignore[arg-type]


TOKEN = "Basic cGF0OnByMHh5LXB3"


def test_http_goes_through_the_proxy_in_absolute_form(server: FaultServer, engine: str) -> None:
    with ProxyServer(credentials=("pat", "pr0xy-pw")) as proxy:
        url = server.url("/x?q=1", host="site.test")
        assert summary(fetch_once(engine, _settings(proxy), make_fetch(url))) == (
            "response",
            200,
            b"through",
            False,
        )
        assert proxy.targets() == [("GET", url)]
        assert proxy.log[0].proxy_authorization == TOKEN
        assert proxy.log[0].header("Host") == f"site.test:{server.port}"
    (seen,) = server.log
    assert (seen.path, seen.headers["Host"]) == ("/x?q=1", f"site.test:{server.port}")
    assert seen.headers["Proxy-Authorization"] is None  # the proxy's, not passed on


def test_https_goes_through_a_connect_tunnel(pki: TestPKI, engine: str) -> None:
    with (
        FaultServer(tls=pki.server_context()) as secure,
        ProxyServer(credentials=("pat", "pr0xy-pw")) as proxy,
    ):
        secure.route("/x", text("tunnelled"))
        settings = _settings(proxy, ca_file=str(pki.ca))
        outcome = fetch_once(engine, settings, make_fetch(secure.url("/x", host="localhost")))
        assert summary(outcome) == ("response", 200, b"tunnelled", False)
        assert proxy.targets() == [("CONNECT", f"localhost:{secure.port}")]
        assert proxy.log[0].proxy_authorization == TOKEN
        assert proxy.log[0].header("User-Agent") == "spindle-test/1"
        assert [entry.path for entry in secure.log] == ["/x"]


def test_a_tunnel_to_a_name_the_certificate_lacks_fails_as_tls(pki: TestPKI, engine: str) -> None:
    with FaultServer(tls=pki.server_context()) as secure, ProxyServer() as proxy:
        rules = ProxyRules.from_environment({}, proxy=proxy.url())
        settings = FetchSettings("spindle-test/1", proxies=rules, ca_file=str(pki.ca))
        outcome = fetch_once(engine, settings, make_fetch(secure.url("/", host="site.test")))
        assert summary(outcome) == ("failure", ErrorKind.TLS)
        assert (secure.wait_for_tls_failures(1), secure.log) == (1, [])


def test_no_proxy_hosts_go_direct(server: FaultServer, engine: str) -> None:
    with ProxyServer(credentials=("pat", "pr0xy-pw")) as proxy:
        settings = _settings(proxy)
        direct = fetch_once(engine, settings, make_fetch(server.url("/x")))
        proxied = fetch_once(engine, settings, make_fetch(server.url("/x", host="localhost")))
        assert summary(direct) == summary(proxied) == ("response", 200, b"through", False)
        assert proxy.targets() == [("GET", server.url("/x", host="localhost"))]
    assert [entry.headers["Host"] for entry in server.log] == [
        f"127.0.0.1:{server.port}",
        f"localhost:{server.port}",
    ]


def test_a_proxy_refusing_a_tunnel_is_a_connection_failure(pki: TestPKI, engine: str) -> None:
    with ProxyServer(credentials=("pat", "right")) as proxy:
        rules = ProxyRules.from_environment({}, proxy=proxy.url(credentials="pat:wr0ng-pw"))
        settings = FetchSettings("spindle-test/1", timeout=5.0, proxies=rules)
        outcome = fetch_once(engine, settings, make_fetch("https://site.test/"))
        assert isinstance(outcome, Failure)
        assert outcome.kind is ErrorKind.CONNECTION
        assert outcome.message == "the proxy refused the tunnel: 407 Proxy Authentication Required"
        assert proxy.targets() == [("CONNECT", "site.test:443")]  # once: not sent again
        # Through the proxy in absolute form, its 407 is the answer.
        answer = fetch_once(engine, settings, make_fetch("http://site.test/"))
        assert isinstance(answer, Response)
        assert answer.status == 407


def test_an_unreachable_proxy_is_a_connection_failure(engine: str) -> None:
    with ProxyServer() as gone:
        url = gone.url()
    settings = FetchSettings("ua/1", proxies=ProxyRules.from_environment({}, proxy=url))
    for target in ("http://site.test/", "https://site.test/"):
        assert summary(fetch_once(engine, settings, make_fetch(target))) == (
            "failure",
            ErrorKind.CONNECTION,
        )
