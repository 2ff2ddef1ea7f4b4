"""The HTTP controls as the command line reads them: what each option becomes, and one-line
errors that never show a header value or a password."""

from __future__ import annotations

from pathlib import Path

import pytest

from spindle.crawl.engines.credentials import Credentials
from spindle.crawl.engines.proxy import Proxy
from spindle.crawl.http_options import HttpOptionError, read_http_options
from tests.support.tls import TestPKI


def test_nothing_given_means_the_defaults() -> None:
    options = read_http_options(environ={})
    assert (dict(options.headers), options.accept_types, options.cookies) == ({}, (), None)
    assert (options.proxies.http, options.proxies.https, options.proxies.bypass) == (None, None, ())
    assert (options.ca_file, options.verify, dict(options.credentials)) == (None, True, {})


def test_headers_and_accepted_types() -> None:
    options = read_http_options(
        headers=["X-Trace:  abc ", "accept: application/json", "X-Empty-Looking:\tx"],
        accept_types=["text/HTML, application/*", "image/png"],
        environ={},
    )
    assert dict(options.headers) == {
        "X-Trace": "abc",
        "accept": "application/json",
        "X-Empty-Looking": "x",
    }
    assert options.accept_types == ("text/html", "application/*", "image/png")


def test_auth_for_an_origin_or_a_bare_host() -> None:
    options = read_http_options(
        auth=[
            ("https://Intranet.test:8443", "ann:pa:ss"),
            ("wiki.test", "bob:"),
            ("[::1]:8080", "cy:pw"),
        ],
        environ={},
    )
    assert dict(options.credentials) == {
        "https://intranet.test:8443": Credentials("ann", "pa:ss"),
        "http://wiki.test": Credentials("bob", ""),
        "https://wiki.test": Credentials("bob", ""),
        "http://[::1]:8080": Credentials("cy", "pw"),
        "https://[::1]:8080": Credentials("cy", "pw"),
    }


def test_auth_joins_the_seed_credentials() -> None:
    options = read_http_options(auth=[("a.test", "ann:one")], environ={})
    merged = options.with_seed_credentials({"http://b.test": Credentials("bob", "two")})
    assert set(merged) == {"http://a.test", "https://a.test", "http://b.test"}
    same = options.with_seed_credentials({"http://A.test:80": Credentials("ann", "one")})
    assert len(same) == 2
    with pytest.raises(HttpOptionError, match=r"^--auth: http://a.test is given other"):
        options.with_seed_credentials({"http://a.test": Credentials("ann", "hunter2")})


def test_proxies_come_from_the_environment_unless_given() -> None:
    environ = {"https_proxy": "http://p.test:3128", "NO_PROXY": ".corp.test"}
    options = read_http_options(environ=environ)
    assert options.proxies.proxy_for("https://x.test/") == Proxy("http://p.test:3128")
    assert options.proxies.proxy_for("https://a.corp.test/") is None
    given = read_http_options(proxy="q.test:8080", no_proxy="", environ=environ)
    assert given.proxies.proxy_for("https://a.corp.test/") == Proxy("http://q.test:8080")


def test_the_ca_file_from_the_option_or_ssl_cert_file(pki: TestPKI) -> None:
    assert read_http_options(ca_file=pki.ca, environ={}).ca_file == str(pki.ca)
    assert read_http_options(environ={"SSL_CERT_FILE": str(pki.ca)}).ca_file == str(pki.ca)
    insecure = read_http_options(insecure=True, environ={"SSL_CERT_FILE": str(pki.ca)})
    assert (insecure.ca_file, insecure.verify) == (None, False)


SECRET = "hunter2-s3cr3t"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"headers": [f"Bearer {SECRET}"]}, "-H: expected 'Name: value', found no ':'"),
        ({"headers": ["X-Token:"]}, "-H: 'X-Token' needs a value"),
        ({"headers": ["X Token: 1"]}, "-H: 'X Token' is not a header name"),
        ({"headers": [f"Authorization: Bearer {SECRET}"]}, "-H: 'Authorization' cannot be given"),
        ({"headers": [f"Cookie: sid={SECRET}"]}, "-H: 'Cookie' cannot be given"),
        ({"headers": ["User-Agent: x/1"]}, "--user-agent"),
        ({"headers": ["Host: a.test"]}, "-H: 'Host' cannot be given: it comes from the URL"),
        ({"headers": [f"X-Key: caf\u00e9{SECRET}"]}, "the value of 'X-Key' is not printable"),
        ({"headers": ["X-A: 1", "x-a: 2"]}, "-H: 'x-a' is given twice"),
        ({"accept_types": ["html"]}, "--accept-type: 'html' is not a media type"),
        ({"auth": [("a.test", SECRET)]}, "--auth a.test: expected USER:PASSWORD"),
        ({"auth": [("a.test/path", f"u:{SECRET}")]}, "--auth a.test/path: not an origin"),
        ({"auth": [("ftp://a.test", f"u:{SECRET}")]}, "--auth ftp://a.test: not an origin"),
        ({"auth": [("u@a.test", f"u:{SECRET}")]}, "--auth u@a.test: not an origin"),
        ({"auth": [("a.test:99999", f"u:{SECRET}")]}, "--auth a.test:99999: not an origin"),
        ({"auth": [("a.test", f"a:b:{SECRET}"), ("a.test", "a:c")]}, "is given twice"),
        ({"proxy": f"socks5://u:{SECRET}@p.test"}, "--proxy: 'socks5://***@p.test': only"),
        ({"no_proxy": "a b"}, "--no-proxy: 'a b' is not a host"),
        ({"environ": {"HTTPS_PROXY": "ftp://p.test"}}, "HTTPS_PROXY: 'ftp://p.test': only"),
        ({"ca_file": Path("/nonexistent/ca.pem")}, "--ca-file: cannot read /nonexistent/ca.pem"),
        ({"environ": {"SSL_CERT_FILE": "/nonexistent/ca.pem"}}, "SSL_CERT_FILE: cannot read"),
        ({"ca_file": Path("/dev/null"), "insecure": True}, "--ca-file and --insecure contradict"),
        ({"cookies_file": Path("/nonexistent/c.txt")}, "--cookies: cannot read /nonexistent/c.txt"),
    ],
)
def test_errors_are_one_line_without_secrets(kwargs: dict[str, object], message: str) -> None:
    kwargs.setdefault("environ", {})
    with pytest.raises(HttpOptionError) as caught:
        read_http_options(**kwargs)  # type: ignore[arg-type]
    text = str(caught.value)
    assert message in text
    assert "\n" not in text
    assert SECRET not in text


def test_a_ca_file_without_a_certificate(tmp_path: Path) -> None:
    junk = tmp_path / "ca.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(HttpOptionError, match=r"^--ca-file: .*ca.pem holds no PEM certificate$"):
        read_http_options(ca_file=junk, environ={})


def test_a_malformed_cookies_file_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text(f"# comment\na.test\tTRUE\t/\tFALSE\tsoon\tsid\t{SECRET}\n")
    with pytest.raises(HttpOptionError) as caught:
        read_http_options(cookies_file=path, environ={})
    assert str(caught.value) == (
        f"--cookies: {path}:2: the expiry must be a whole number of seconds (0: session cookie)"
    )
