"""The classification table and the messages of failures."""

from __future__ import annotations

import pytest

from spindle.crawl.core.values import ErrorKind
from spindle.crawl.engines.body import BodyTooLarge
from spindle.crawl.engines.failures import (
    COMMON_ROWS,
    KIND,
    MESSAGE_LIMIT,
    Fault,
    classify,
    crash,
    failure,
    mask,
)
from spindle.crawl.engines.head import HeadIncomplete, MalformedHead


def test_the_table_gives_every_fault_a_kind_and_retries_only_what_may_pass() -> None:
    assert set(KIND) == set(Fault)
    retried = {fault for fault, kind in KIND.items() if kind.retryable}
    assert retried == {Fault.TIMED_OUT, Fault.REFUSED, Fault.CLOSED}
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


def test_the_chain_is_searched_through_args_and_causes() -> None:
    inner = HeadIncomplete("the connection closed inside the head")
    wrapped = OSError("Connection aborted.", inner)
    assert classify(wrapped, COMMON_ROWS) == (Fault.CLOSED, inner)
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
