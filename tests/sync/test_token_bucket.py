"""TokenBucket with a fake clock: exact waits, debt, pacing threads, and the rate bound."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spindle.sync import TokenBucket

JOIN_TIMEOUT = 30.0
# Admissions may come up to this long early (see the module's rounding slack), plus float error.
SLACK = 1e-9


class FakeClock:
    """A clock that moves only when told to; its sleep advances it."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(
    ("rate", "burst", "message"),
    [
        (0.0, 1.0, "rate must be a finite number more than 0"),
        (-1.0, 1.0, "rate must be"),
        (float("inf"), 1.0, "rate must be"),
        (float("nan"), 1.0, "rate must be"),
        (1.0, 0.5, "burst must be a finite number at least 1"),
        (1.0, float("inf"), "burst must be"),
    ],
)
def test_rate_and_burst_are_validated(rate: float, burst: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TokenBucket(rate, burst)
    bucket = TokenBucket(1.0, 1.0)
    with pytest.raises(ValueError, match=message.split(maxsplit=1)[0]):
        bucket.set_rate(rate, burst)
    assert (bucket.rate, bucket.burst) == (1.0, 1.0)


@pytest.mark.parametrize("tokens", [0.0, -1.0, 2.5, float("nan")])
def test_tokens_outside_zero_to_burst_are_refused(tokens: float) -> None:
    bucket = TokenBucket(1.0, 2.0)
    for call in (bucket.try_acquire, bucket.reserve, bucket.wait_time):
        with pytest.raises(ValueError, match="tokens must be more than 0 and at most burst=2"):
            call(tokens, now=0.0)
    assert bucket.available(now=0.0) == 2.0


def test_now_must_be_finite() -> None:
    with pytest.raises(ValueError, match="now must be a finite number"):
        TokenBucket(1.0, 1.0).try_acquire(now=float("nan"))


def test_starts_full_at_first_use_whatever_the_time_base() -> None:
    bucket = TokenBucket(rate=1.0, burst=3.0)
    assert [bucket.try_acquire(now=1e9) for _ in range(4)] == [True, True, True, False]


def test_refills_at_the_rate_up_to_the_burst() -> None:
    bucket = TokenBucket(rate=2.0, burst=2.0)
    assert bucket.try_acquire(2.0, now=10.0)
    assert not bucket.try_acquire(now=10.0)
    assert bucket.available(now=10.25) == 0.5
    assert not bucket.try_acquire(now=10.25)
    assert bucket.try_acquire(now=10.5)
    assert bucket.available(now=100.0) == 2.0  # capped at the burst


def test_reserve_goes_into_debt_and_says_how_long_to_wait() -> None:
    bucket = TokenBucket(rate=2.0, burst=1.0)
    assert [bucket.reserve(now=0.0) for _ in range(4)] == [0.0, 0.5, 1.0, 1.5]
    assert bucket.available(now=0.0) == -3.0
    assert bucket.wait_time(now=0.0) == 2.0
    assert not bucket.try_acquire(now=1.9)
    assert bucket.wait_time(now=2.0) == 0.0
    assert bucket.try_acquire(now=2.0)


def test_wait_time_peeks_without_taking() -> None:
    bucket = TokenBucket(rate=1.0, burst=1.0)
    assert bucket.wait_time(now=0.0) == 0.0
    assert bucket.wait_time(now=0.0) == 0.0
    assert bucket.reserve(now=0.0) == 0.0
    assert bucket.wait_time(now=0.25) == 0.75
    assert bucket.wait_time(now=0.25) == 0.75


def test_the_clock_is_read_only_when_now_is_not_given() -> None:
    clock = FakeClock(5.0)
    bucket = TokenBucket(rate=1.0, burst=1.0, clock=clock)
    assert bucket.try_acquire()
    assert not bucket.try_acquire()
    clock.now = 6.0
    assert bucket.wait_time() == 0.0
    assert bucket.try_acquire(now=6.0)


def test_acquire_sleeps_until_the_reserved_tokens_are_due() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=4.0, burst=2.0, clock=clock)
    for _ in range(5):
        assert bucket.acquire(sleep=clock.sleep)
    assert clock.slept == [0.25, 0.25, 0.25]
    assert clock.now == 0.75


def test_acquire_gives_up_at_once_and_takes_nothing_if_not_due_within_the_timeout() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=1.0, burst=1.0, clock=clock)
    assert bucket.acquire(timeout=0, sleep=clock.sleep)
    assert not bucket.acquire(timeout=0.5, sleep=clock.sleep)
    assert clock.slept == []
    assert bucket.wait_time() == 1.0
    assert bucket.acquire(timeout=1.0, sleep=clock.sleep)
    assert clock.slept == [1.0]
    with pytest.raises(ValueError, match="timeout must be None or at least 0"):
        bucket.acquire(timeout=-1)


def test_concurrent_acquires_each_get_their_own_slot() -> None:
    """With the clock frozen, the n-th reservation waits n / rate: no two threads share one."""
    clock = FakeClock()
    bucket = TokenBucket(rate=10.0, burst=1.0, clock=clock)
    waits: list[float] = []
    record = threading.Lock()
    start = threading.Barrier(8)

    def sleep(seconds: float) -> None:  # the clock stays frozen: only the waits are kept
        with record:
            waits.append(seconds)

    def worker() -> None:
        start.wait(JOIN_TIMEOUT)
        for _ in range(5):
            assert bucket.acquire(sleep=sleep)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads)
    assert sorted(round(wait * 10) for wait in waits) == list(range(1, 40))
    assert bucket.wait_time() == pytest.approx(4.0)


def test_set_rate_keeps_the_tokens_and_caps_them_at_the_new_burst() -> None:
    bucket = TokenBucket(rate=1.0, burst=4.0)
    assert bucket.try_acquire(1.0, now=0.0)
    bucket.set_rate(2.0, now=0.0)
    assert bucket.available(now=0.0) == 3.0
    assert bucket.available(now=0.5) == 4.0
    bucket.set_rate(2.0, burst=2.0, now=0.5)
    assert (bucket.rate, bucket.burst, bucket.available(now=0.5)) == (2.0, 2.0, 2.0)


def test_set_rate_keeps_a_debt_and_repays_it_at_the_new_rate() -> None:
    bucket = TokenBucket(rate=1.0, burst=1.0)
    bucket.reserve(now=0.0)
    bucket.reserve(now=0.0)  # one token of debt
    bucket.set_rate(4.0, now=0.0)
    assert bucket.available(now=0.0) == -1.0
    assert bucket.wait_time(now=0.0) == 0.5  # two tokens at 4 per second


def test_repr() -> None:
    assert repr(TokenBucket(2.5, 3)) == "TokenBucket(rate=2.5, burst=3.0)"


attempts = st.lists(
    st.tuples(
        st.floats(min_value=0.0, max_value=2.0, allow_nan=False),
        st.sampled_from([1.0, 1.0, 1.0, 0.5, 2.0]),
    ),
    min_size=1,
    max_size=60,
)
rates = st.floats(min_value=0.1, max_value=50.0)
bursts = st.floats(min_value=2.0, max_value=10.0)


def assert_rate_bound(admitted: list[tuple[float, float]], rate: float, burst: float) -> None:
    """In every window between two admission times, at most burst + rate * width tokens."""
    admitted.sort()
    for i, (start, _) in enumerate(admitted):
        total = 0.0
        for end, tokens in admitted[i:]:
            total += tokens
            width = end - start
            assert total <= burst + rate * (width + SLACK) + 1e-9 * total, (start, end, total)


@given(rate=rates, burst=bursts, schedule=attempts)
def test_try_acquire_never_admits_more_than_burst_plus_rate_times_window(
    rate: float, burst: float, schedule: list[tuple[float, float]]
) -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate, burst, clock=clock)
    admitted: list[tuple[float, float]] = []
    for gap, tokens in schedule:
        clock.now += gap
        if bucket.try_acquire(tokens):
            admitted.append((clock.now, tokens))
    assert admitted  # it starts full, so the first attempt always gets in
    assert_rate_bound(admitted, rate, burst)


@given(rate=rates, burst=bursts, schedule=attempts)
def test_reservations_acted_on_when_due_respect_the_same_bound(
    rate: float, burst: float, schedule: list[tuple[float, float]]
) -> None:
    bucket = TokenBucket(rate, burst)
    now = 0.0
    acted: list[tuple[float, float]] = []
    for gap, tokens in schedule:
        now += gap
        acted.append((now + bucket.reserve(tokens, now=now), tokens))
    assert_rate_bound(acted, rate, burst)


@given(rate=rates, burst=bursts, schedule=attempts)
def test_coming_back_after_wait_time_always_succeeds(
    rate: float, burst: float, schedule: list[tuple[float, float]]
) -> None:
    bucket = TokenBucket(rate, burst)
    now = 0.0
    for gap, tokens in schedule:
        now += gap
        wait = bucket.wait_time(tokens, now=now)
        assert wait >= 0.0
        assert bucket.try_acquire(tokens, now=now) == (wait == 0.0)
        if wait > 0.0:
            now += wait
            assert bucket.wait_time(tokens, now=now) == 0.0
            assert bucket.try_acquire(tokens, now=now)
