"""The classification table and the messages of failures."""

from __future__ import annotations

import http.client

import pytest
from urllib3.exceptions import ProtocolError

from spindle.crawl.core.values import ErrorKind
from spindle.crawl.engines import http_async, http_threads
from spindle.crawl.engines.body import BodyError, BodyTooLarge
from spindle.crawl.engines.failures import (
    COMMON_ROWS,
    KIND,
    MESSAGE_LIMIT,
    Fault,
    Rows,
    classify,
    crash,
    failure,
    mask,
)
from spindle.crawl.engines.head import HeadIncomplete, HeadTooLarge, MalformedHead


def test_the_table_gives_every_fault_a_kind_and_retries_only_what_may_pass() -> None:
    assert set(KIND) == set(Fault)
    retried = {fault for fault, kind in KIND.items() if kind.retryable}
    assert retried == {Fault.TIMED_OUT, Fault.REFUSED, Fault.PROXY_REFUSED, Fault.CLOSED}
    assert set(KIND.values()) == {
        ErrorKind.TIMEOUT,
        ErrorKind.CONNECTION,
        ErrorKind.DNS,
        ErrorKind.TLS,
        ErrorKind.PROTOCOL,
        ErrorKind.DECODE,
        ErrorKind.DECOMPRESSION_BOMB,
        ErrorKind.CRASH,
    }


@pytest.mark.parametrize("rows", [http_threads.ROWS, http_async.ROWS], ids=["threads", "async"])
@pytest.mark.parametrize(
    ("exc", "fault"),
    [
        (BodyTooLarge("x"), Fault.BOMB),
        (BodyError("x"), Fault.UNDECODABLE),
        (HeadTooLarge("x"), Fault.HEAD_TOO_LARGE),
        (MalformedHead("x"), Fault.NOT_HTTP),
        (HeadIncomplete("x"), Fault.CLOSED),
        (ConnectionResetError(104, "reset"), Fault.CLOSED),
        (TimeoutError(), Fault.TIMED_OUT),
        (ValueError("Invalid IPv6 URL"), Fault.CRASH),
        (ZeroDivisionError("division by zero"), Fault.CRASH),
    ],
)
def test_both_engines_share_the_rows_for_their_own_exceptions(
    rows: Rows, exc: BaseException, fault: Fault
) -> None:
    assert classify(exc, rows) == (fault, exc)


def test_the_chain_is_searched_through_args_and_causes() -> None:
    inner = http.client.IncompleteRead(b"abc", 7)
    wrapped = ProtocolError("Connection broken: IncompleteRead", inner)
    assert classify(wrapped, http_threads.ROWS) == (Fault.CLOSED, inner)
    outer = RuntimeError("while reading")
    outer.__cause__ = BodyTooLarge("bomb")
    assert classify(outer, COMMON_ROWS) == (Fault.BOMB, outer.__cause__)


def test_failure_messages() -> None:
    short = failure(
        MalformedHead("not an HTTP status line: b'x'"), COMMON_ROWS, elapsed=1.5, fetched_at=2.0
    )
    assert (short.kind, short.message, short.elapsed, short.fetched_at) == (
        ErrorKind.PROTOCOL,
        "the answer is not valid HTTP/1.1: not an HTTP status line: b'x'",
        1.5,
        2.0,
    )
    long = failure(MalformedHead("x" * 1000), COMMON_ROWS, elapsed=0.0, fetched_at=0.0)
    assert len(long.message) == MESSAGE_LIMIT
    assert long.message.endswith("xxx...")
    assert crash(KeyError("k"), elapsed=0.0, fetched_at=0.0).message == "KeyError: 'k'"
    assert failure(ValueError("v"), COMMON_ROWS, elapsed=0.0, fetched_at=0.0).message == (
        "ValueError: v"
    )


@pytest.mark.parametrize(
    ("text", "secrets", "masked"),
    [
        ("see http://bob:pw@a.test/x", (), "see http://***@a.test/x"),
        ("see https://bob@a.test and //x:y@b", (), "see https://***@a.test and //***@b"),
        ("token Ym9iOnB3 and pw", ("Ym9iOnB3", "pw"), "token *** and ***"),
        ("nothing here", ("",), "nothing here"),
    ],
)
def test_mask(text: str, secrets: tuple[str, ...], masked: str) -> None:
    assert mask(text, secrets) == masked
