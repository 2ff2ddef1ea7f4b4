"""What both fetchers send, and how they fail on URLs they cannot fetch, are the same."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from spindle.crawl.core.values import ErrorKind, Failure
from spindle.crawl.engines import http_async, http_threads
from spindle.crawl.engines.request import Credentials, FetchSettings, PreparedRequest
from tests.crawl.engines.harness import ENGINES, fetch_once, make_fetch, summary
from tests.support.faultserver import BROKEN_HOST_URLS, FaultServer, text


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


def _sent(server: FaultServer, index: int = -1) -> list[tuple[str, str]]:
    return list(server.log[index].headers.items())


def test_both_engines_send_the_same_request(server: FaultServer) -> None:
    server.route_prefix("/", text("ok"))
    settings = FetchSettings(
        "spindle-test/1",
        headers={"Accept-Language": "en"},
        credentials={server.url(""): Credentials("bob", "hunter2")},
    )
    url = server.url("/a/./b/../c%7e d?q=%2f&é=1#frag")
    for engine in ENGINES:
        assert summary(fetch_once(engine, settings, make_fetch(url))) == (
            "response",
            200,
            b"ok",
            False,
        )
    assert server.paths() == ["/a/c%7E%20d?q=%2F&%C3%A9=1"] * 2
    assert (
        _sent(server, 0)
        == _sent(server, 1)
        == [
            ("Host", f"127.0.0.1:{server.port}"),
            ("User-Agent", "spindle-test/1"),
            ("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"),
            ("Accept-Encoding", "gzip, deflate"),
            ("Accept-Language", "en"),
            ("Authorization", "Basic Ym9iOmh1bnRlcjI="),
        ]
    )


def test_credentials_go_to_their_origin_only(server: FaultServer, engine: str) -> None:
    server.route("/", text("ok"))
    with FaultServer() as other:
        other.route("/", text("ok"))
        settings = FetchSettings(
            "spindle-test/1", credentials={other.url(""): Credentials("bob", "hunter2")}
        )
        fetch_once(engine, settings, make_fetch(server.url("/")))
        fetch_once(engine, settings, make_fetch(other.url("/")))
        assert other.log[0].headers["Authorization"] == "Basic Ym9iOmh1bnRlcjI="
    assert server.log[0].headers["Authorization"] is None


def test_userinfo_in_a_url_is_never_sent(server: FaultServer, engine: str) -> None:
    server.route("/", text("ok"))
    url = f"http://bob:hunter2@127.0.0.1:{server.port}/"
    assert summary(fetch_once(engine, FetchSettings("ua/1"), make_fetch(url)))[:2] == (
        "response",
        200,
    )
    assert server.log[0].headers["Authorization"] is None
    assert server.paths() == ["/"]


@pytest.mark.parametrize(
    "url",
    [
        *BROKEN_HOST_URLS,
        "ftp://example.test/",
        "http:///nohost",
        "http://a.test:99999/",
        "http://a.test/\n",
    ],
)
def test_a_url_that_cannot_be_fetched_is_a_crash(engine: str, url: str) -> None:
    outcome = fetch_once(engine, FetchSettings("ua/1"), make_fetch(url))
    assert isinstance(outcome, Failure)
    assert outcome.kind is ErrorKind.CRASH
    assert outcome.message.startswith("ValueError: ")
    other = fetch_once(
        next(e for e in ENGINES if e != engine), FetchSettings("ua/1"), make_fetch(url)
    )
    assert isinstance(other, Failure)
    assert other.message == outcome.message


def test_broken_bracketed_host_messages() -> None:
    unclosed = fetch_once("threads", FetchSettings("ua/1"), make_fetch("http://[::1/"))
    assert isinstance(unclosed, Failure)
    assert unclosed.message == "ValueError: Invalid IPv6 URL"


def test_any_exception_becomes_a_crash_with_credentials_masked(
    server: FaultServer, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(settings: FetchSettings, url: str) -> PreparedRequest:
        raise KeyError(
            f"cannot prepare {url} with {settings.credentials['http://h.test'].authorization}"
        )

    for module in (http_threads, http_async):
        monkeypatch.setattr(module, "prepare", broken)
    settings = FetchSettings("ua/1", credentials={"http://h.test": Credentials("bob", "hunter2")})
    outcome = fetch_once(engine, settings, make_fetch("http://bob:hunter2@h.test/x"))
    assert isinstance(outcome, Failure)
    assert outcome.kind is ErrorKind.CRASH
    assert outcome.message == "KeyError: 'cannot prepare http://***@h.test/x with Basic ***'"


def test_a_bug_after_the_head_is_a_crash_and_the_fetcher_goes_on(
    server: FaultServer, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.route("/", text("ok"))
    calls = []

    def broken(fields: object) -> object:
        calls.append(fields)
        if len(calls) == 1:
            raise ZeroDivisionError("division by zero")
        return ()

    for module in (http_threads, http_async):
        monkeypatch.setattr(module, "wire_headers", broken)
    from tests.crawl.engines.harness import open_fetcher

    with open_fetcher(engine, FetchSettings("ua/1", timeout=5.0)) as fetch:
        first = fetch(make_fetch(server.url("/")))
        second = fetch(make_fetch(server.url("/")))
    assert isinstance(first, Failure)
    assert (first.kind, first.message) == (ErrorKind.CRASH, "ZeroDivisionError: division by zero")
    assert summary(second) == ("response", 200, b"ok", False)
