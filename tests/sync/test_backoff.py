"""Backoff ceilings and full-jitter delays; Retry-After in both forms and on garbage."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spindle.sync import Backoff, retry_after


def test_defaults_and_exact_ceilings() -> None:
    backoff = Backoff()
    assert (backoff.base, backoff.factor, backoff.cap, backoff.max_attempts) == (0.5, 2.0, 30.0, 4)
    assert [backoff.ceiling(retry) for retry in range(1, 9)] == [
        0.5,
        1.0,
        2.0,
        4.0,
        8.0,
        16.0,
        30.0,
        30.0,
    ]


def test_a_huge_retry_number_gives_the_cap_instead_of_overflowing() -> None:
    assert Backoff(base=1.0, factor=10.0, cap=60.0).ceiling(10_000) == 60.0
    assert Backoff(base=0.0, factor=10.0, cap=60.0).ceiling(10_000) == 0.0


def test_attempts_count_the_first_try() -> None:
    backoff = Backoff(max_attempts=3)
    assert [backoff.allows(made) for made in range(5)] == [True, True, True, False, False]
    assert len(list(backoff.delays())) == 2
    assert list(Backoff(max_attempts=1).delays()) == []


def test_a_seeded_rng_makes_the_delays_repeatable() -> None:
    first = list(Backoff(max_attempts=8, rng=random.Random(42)).delays())
    second = list(Backoff(max_attempts=8, rng=random.Random(42)).delays())
    assert first == second
    assert len(set(first)) == 7


def test_delays_are_drawn_uniformly_from_zero_to_the_ceiling() -> None:
    expected = random.Random(3)
    backoff = Backoff(base=1.0, factor=3.0, cap=5.0, max_attempts=4, rng=random.Random(3))
    assert list(backoff.delays()) == [expected.uniform(0.0, ceiling) for ceiling in (1, 3, 5)]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"base": -0.1}, "base must be a finite number of at least 0"),
        ({"base": float("inf")}, "base must be"),
        ({"factor": 0.5}, "factor must be a finite number of at least 1"),
        ({"factor": float("nan")}, "factor must be"),
        ({"cap": -1.0}, "cap must be a finite number of at least 0"),
        ({"max_attempts": 0}, "max_attempts must be an integer of at least 1"),
        ({"max_attempts": 2.0}, "max_attempts must be an integer"),
        ({"max_attempts": True}, "max_attempts must be an integer"),
    ],
)
def test_parameters_are_validated(arguments: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Backoff(**arguments)  # type: ignore[arg-type]


def test_retry_numbers_and_attempt_counts_are_validated() -> None:
    backoff = Backoff()
    with pytest.raises(ValueError, match="retries are numbered from 1"):
        backoff.ceiling(0)
    with pytest.raises(ValueError, match="retries are numbered from 1"):
        backoff.delay(-1)
    with pytest.raises(ValueError, match="attempts_made must be at least 0"):
        backoff.allows(-1)


def test_repr() -> None:
    assert repr(Backoff(1, 3, 9, 2)) == "Backoff(base=1.0, factor=3.0, cap=9.0, max_attempts=2)"


backoffs = st.builds(
    Backoff,
    base=st.floats(min_value=0.0, max_value=100.0),
    factor=st.floats(min_value=1.0, max_value=100.0),
    cap=st.floats(min_value=0.0, max_value=1e6),
    max_attempts=st.integers(min_value=1, max_value=20),
    rng=st.randoms(use_true_random=False),
)


@given(backoff=backoffs, retry=st.integers(min_value=1, max_value=5_000))
def test_every_delay_lies_between_zero_and_the_ceiling(backoff: Backoff, retry: int) -> None:
    assert 0.0 <= backoff.delay(retry) <= backoff.ceiling(retry)


@given(backoff=backoffs, retries=st.lists(st.integers(1, 5_000), min_size=2, max_size=20))
def test_the_ceiling_never_decreases_and_never_exceeds_the_cap(
    backoff: Backoff, retries: list[int]
) -> None:
    ceilings = [backoff.ceiling(retry) for retry in sorted(retries)]
    assert ceilings == sorted(ceilings)
    assert all(0.0 <= ceiling <= backoff.cap for ceiling in ceilings)
    assert backoff.ceiling(1) == min(backoff.cap, backoff.base)


@given(backoff=backoffs)
def test_delays_yields_one_delay_per_retry_within_its_ceiling(backoff: Backoff) -> None:
    delays = list(backoff.delays())
    assert len(delays) == backoff.max_attempts - 1
    for retry, delay in enumerate(delays, start=1):
        assert 0.0 <= delay <= backoff.ceiling(retry)


NOW = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("0", 0.0),
        (" 7\t", 7.0),
        ("007", 7.0),
        ("2147483648", 2147483648.0),
        ("99999999999999999999", 2147483648.0),
        ("9" * 10_000, 2147483648.0),
        # IMF-fixdate, RFC 850 and asctime, each 90 seconds after NOW.
        ("Fri, 01 Mar 2024 12:01:30 GMT", 90.0),
        ("Friday, 01-Mar-24 12:01:30 GMT", 90.0),
        ("Fri Mar  1 12:01:30 2024", 90.0),
        ("Fri, 01 Mar 2024 11:00:00 GMT", 0.0),  # in the past
        (None, None),
        ("", None),
        ("   ", None),
        ("-5", None),
        ("1.5", None),
        ("+5", None),
        ("1e3", None),
        ("٣", None),  # a digit, but not an ASCII one
        ("soon", None),
        ("Fri, 31 Feb 2024 12:00:00 GMT", None),
        ("Fri, 01 Mar 2024 25:00:00 GMT", None),
        ("Fri, 01 Xyz 2024 12:01:30 GMT", None),
        ("Fri, 01 Mar 2024", None),
    ],
)
def test_retry_after_reads_both_forms_and_rejects_the_rest(
    value: str | None, expected: float | None
) -> None:
    assert retry_after(value, NOW) == expected


@given(value=st.text())
def test_retry_after_never_raises_on_arbitrary_text(value: str) -> None:
    result = retry_after(value, NOW)
    assert result is None or result >= 0.0


@given(
    moment=st.datetimes(
        min_value=datetime(1970, 1, 2),
        max_value=datetime(2200, 1, 1),
        timezones=st.just(UTC),
    ).map(lambda moment: moment.replace(microsecond=0)),
    now=st.floats(min_value=0.0, max_value=7e9),
)
def test_retry_after_reads_any_imf_fixdate(moment: datetime, now: float) -> None:
    header = format_datetime(moment, usegmt=True)
    assert retry_after(header, now) == max(0.0, moment.timestamp() - now)


@given(
    day=st.text(alphabet="0123456789 ", max_size=4),
    month=st.sampled_from(["Jan", "Feb", "Foo", ""]),
    year=st.text(alphabet="0123456789-", max_size=6),
    clock=st.text(alphabet="0123456789:", max_size=10),
    zone=st.sampled_from(["GMT", "+9999", "-0000", "UTC", "XYZ", ""]),
)
def test_retry_after_never_raises_on_date_shaped_garbage(
    day: str, month: str, year: str, clock: str, zone: str
) -> None:
    result = retry_after(f"Mon, {day} {month} {year} {clock} {zone}", NOW)
    assert result is None or result >= 0.0
