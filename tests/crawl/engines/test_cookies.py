"""Cookies: a Netscape cookies.txt read as curl and wget write it, browser matching, cookies
the server sets sent back later, one jar shared by threads, the same header in both engines."""

from __future__ import annotations

import http.cookiejar
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spindle.crawl.engines.cookies import (
    CookieFileError,
    CookieJar,
    _Answer,
    _Policy,
    read_cookies_file,
)
from spindle.crawl.engines.request import FetchSettings
from tests.crawl.engines.harness import ENGINES, make_fetch, open_fetcher
from tests.support.faultserver import FaultServer, Reply, Request, raw, text
from tests.support.tls import TestPKI

NOW = 1_800_000_000
FUTURE = NOW + 86_400

COOKIES_TXT = f"""\
# Netscape HTTP Cookie File
# https://curl.se/docs/http-cookies.html

.example.test\tTRUE\t/\tFALSE\t{FUTURE}\tsite\tdomain-wide
www.example.test\tFALSE\t/\tFALSE\t0\tsession\tjust-www
#HttpOnly_www.example.test\tFALSE\t/account\tTRUE\t{FUTURE}\tsid\tsecret-session-id
www.example.test\tFALSE\t/\tFALSE\t{NOW - 1}\told\texpired
localhost\tFALSE\t/\tFALSE\t0\tlocal\tyes
""".replace("\n", "\r\n", 1)  # a CRLF line, as a file edited on Windows has


@pytest.fixture
def jar(tmp_path: Path) -> CookieJar:
    path = tmp_path / "cookies.txt"
    path.write_text(COOKIES_TXT)
    return read_cookies_file(path, now=NOW)


@pytest.mark.parametrize(
    ("url", "header"),
    [
        ("http://example.test/", "site=domain-wide"),
        ("http://www.example.test/", "site=domain-wide; session=just-www"),
        ("http://a.www.example.test/", "site=domain-wide"),
        ("http://www.example.test/account/x", "site=domain-wide; session=just-www"),
        (
            "https://www.example.test/account/x",
            "sid=secret-session-id; site=domain-wide; session=just-www",
        ),
        ("https://www.example.test/accounts", "site=domain-wide; session=just-www"),
        ("http://other.test/", None),
        ("http://badexample.test/", None),
        ("http://localhost:8080/", "local=yes"),
    ],
)
def test_cookies_go_where_a_browser_sends_them(jar: CookieJar, url: str, header: str) -> None:
    # Longest path first; then in the order the jar holds their domains, as the standard
    # library's jar sends them.
    assert len(jar) == 4  # the expired one is dropped
    assert jar.header(url) == header


def test_a_missing_or_empty_file(tmp_path: Path) -> None:
    with pytest.raises(CookieFileError, match=r"^cannot read .*nope.txt: No such file"):
        read_cookies_file(tmp_path / "nope.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert len(read_cookies_file(empty)) == 0


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("example.test\tTRUE\t/\tFALSE\t0\tname", "expected 7 tab-separated fields"),
        ("example.test TRUE / FALSE 0 name value", "value), found 1"),
        ("example.test\tYES\t/\tFALSE\t0\tname\tvalue", "must be TRUE or FALSE"),
        ("example.test\tTRUE\tpath\tFALSE\t0\tname\tvalue", "the path must start with '/'"),
        ("example.test\tTRUE\t/\tFALSE\tnever\tname\tvalue", "the expiry must be a whole number"),
        ("\tTRUE\t/\tFALSE\t0\tname\tvalue", "the domain is empty"),
        ("example.test\tTRUE\t/\tFALSE\t0\tna me\tvalue", "the name must be a token"),
        ("example.test\tTRUE\t/\tFALSE\t0\tname\tcaf\u00e9-s3cr3t", "printable ASCII"),
        ("example.test\tTRUE\t/\tFALSE\t0\tname\ta;b-s3cr3t", "printable ASCII without ';'"),
    ],
)
def test_a_malformed_line_is_named_by_file_and_line(tmp_path: Path, line: str, reason: str) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text(f"# Netscape HTTP Cookie File\n\n{line}\n")
    with pytest.raises(CookieFileError) as caught:
        read_cookies_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:3: ")
    assert reason in message
    assert "s3cr3t" not in message


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "cookies.txt"
    path.write_bytes(b"example.test\tTRUE\t/\tFALSE\t0\tname\t\xff\n")
    with pytest.raises(CookieFileError, match="not UTF-8 text"):
        read_cookies_file(path)


def test_cookies_set_by_servers_follow_browser_rules() -> None:
    jar = CookieJar()
    jar.update(
        "http://www.example.test/login",
        (
            ("Set-Cookie", "host=only; Path=/"),
            ("set-cookie", "wide=yes; Domain=example.test; Path=/"),
            ("Set-Cookie", "safe=1; Secure; Path=/"),
            ("Set-Cookie", "scoped=1; Path=/login"),
            ("Set-Cookie", "gone=1; Max-Age=0"),
            ("Set-Cookie", "accent=caf\u00e9"),
            ("X-Other", "x"),
        ),
    )
    assert jar.header("http://www.example.test/login/next") == "scoped=1; host=only; wide=yes"
    assert jar.header("http://api.example.test/") == "wide=yes"
    assert jar.header("https://www.example.test/") == "host=only; safe=1; wide=yes"
    jar.update("http://www.example.test/", (("Set-Cookie", "host=changed; Path=/"),))
    assert jar.header("http://www.example.test/") == "host=changed; wide=yes"


def test_secrets_are_the_long_values_only() -> None:
    jar = CookieJar()
    jar.update("http://a.test/", (("Set-Cookie", "lang=en"), ("Set-Cookie", "sid=0123456789ab")))
    assert jar.secrets() == ("0123456789ab",)
    assert "0123456789ab" not in repr(jar)


def test_one_jar_shared_by_many_threads() -> None:
    jar = CookieJar()
    start = threading.Barrier(8)

    def work(worker: int) -> None:
        start.wait()
        for i in range(300):
            jar.update(f"http://h{worker}.test/", (("Set-Cookie", f"c{i % 10}=v{i}"),))
            assert jar.header(f"http://h{worker}.test/") is not None

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(jar) == 8 * 10
    last = "; ".join(f"c{n}=v{290 + n}" for n in range(10))
    assert {jar.header(f"http://h{w}.test/") for w in range(8)} == {last}


HOSTS = ["a.test", "www.a.test", "x.www.a.test", "b.test", "localhost", "127.0.0.1", "test"]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(HOSTS),
            st.sampled_from(["", "; Domain=a.test", "; Domain=.a.test", "; Domain=www.a.test"]),
            st.sampled_from(["/", "/p", "/p/q"]),
            st.booleans(),
        ),
        max_size=12,
    ),
    st.sampled_from(HOSTS),
    st.sampled_from(["http", "https"]),
    st.sampled_from(["/", "/p", "/p/q/r", "/other"]),
)
def test_the_indexed_lookup_sends_what_the_standard_jar_sends(
    sets: list[tuple[str, str, str, bool]], host: str, scheme: str, path: str
) -> None:
    ours, standard = CookieJar(), http.cookiejar.CookieJar(_Policy())
    for n, (origin, domain, cookie_path, secure) in enumerate(sets):
        header = f"c{n}=v{n}{domain}; Path={cookie_path}" + ("; Secure" if secure else "")
        ours.update(f"https://{origin}/", (("Set-Cookie", header),))
        standard.extract_cookies(
            _Answer((("Set-Cookie", header),)),  # type: ignore[arg-type]
            urllib.request.Request(f"https://{origin}/"),
        )
    request = urllib.request.Request(f"{scheme}://{host}{path}")
    standard.add_cookie_header(request)
    assert ours.header(f"{scheme}://{host}{path}") == request.get_header("Cookie")


# -- both engines ------------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


def _sets_a_cookie(request: Request) -> Reply:
    return Reply(200, {"Set-Cookie": "visit=server-chosen-42; Path=/"}, b"welcome")


def test_both_engines_send_the_same_cookies(server: FaultServer, tmp_path: Path) -> None:
    server.route("/login", _sets_a_cookie)
    server.route_prefix("/", text("ok"))
    path = tmp_path / "cookies.txt"
    path.write_text(
        "127.0.0.1\tFALSE\t/\tFALSE\t0\tpref\tfrom-file\n"
        "127.0.0.1\tFALSE\t/private\tFALSE\t0\tdeep\tonly-private\n"
        "127.0.0.1\tFALSE\t/\tTRUE\t0\tsafe\tonly-https\n"
    )
    sent = []
    for engine in ENGINES:
        settings = FetchSettings("ua/1", timeout=5.0, cookies=read_cookies_file(path))
        with open_fetcher(engine, settings) as fetch:
            for url in (
                server.url("/"),
                server.url("/login"),
                server.url("/private/x"),
                server.url("/", host="localhost"),
            ):
                fetch(make_fetch(url))
        sent.append([entry.headers["Cookie"] for entry in server.log])
        server.log.clear()
    assert (
        sent[0]
        == sent[1]
        == [
            "pref=from-file",
            "pref=from-file",
            "deep=only-private; pref=from-file; visit=server-chosen-42",
            None,
        ]
    )


def test_secure_cookies_go_over_https_only(pki: TestPKI, tmp_path: Path) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text("127.0.0.1\tFALSE\t/\tTRUE\t0\tsafe\tonly-https\n")
    with FaultServer(tls=pki.server_context()) as secure, FaultServer() as plain:
        for server in (secure, plain):
            server.route("/", raw(200, {}, b"ok"))
        for engine in ENGINES:
            settings = FetchSettings(
                "ua/1", timeout=5.0, cookies=read_cookies_file(path), ca_file=str(pki.ca)
            )
            with open_fetcher(engine, settings) as fetch:
                fetch(make_fetch(secure.url("/")))
                fetch(make_fetch(plain.url("/")))
        assert [e.headers["Cookie"] for e in secure.log] == ["safe=only-https"] * 2
        assert [e.headers["Cookie"] for e in plain.log] == [None, None]
