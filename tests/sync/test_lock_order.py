"""The lock-order checker: edges, cycles with their source lines, held sets, Condition, switch."""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from spindle.sync import (
    Banker,
    BoundedQueue,
    LockOrderChecker,
    LockOrderViolation,
    OrderedLock,
    OrderedRLock,
    TokenBucket,
    disable_lock_order_checking,
    enable_lock_order_checking,
    lock_order_checking,
    lock_order_checking_enabled,
    new_condition,
    new_lock,
    new_rlock,
)

JOIN_TIMEOUT = 10.0
THIS_FILE = Path(__file__)


def line_of(marker: str) -> str:
    """``file:line`` of the only line of this file ending in ``# <marker>``."""
    lines = [
        number
        for number, text in enumerate(THIS_FILE.read_text().splitlines(), start=1)
        if text.rstrip().endswith(f"# {marker}")
    ]
    assert len(lines) == 1, marker
    return f"{THIS_FILE}:{lines[0]}"


def run_in_thread(target: Callable[[], None]) -> None:
    """Run ``target`` in a new thread, wait for it, and re-raise what it raised."""
    failures: list[BaseException] = []

    def wrapper() -> None:
        try:
            target()
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=wrapper, daemon=True)
    thread.start()
    thread.join(JOIN_TIMEOUT)
    assert not thread.is_alive(), "thread hung"
    if failures:
        raise failures[0]


@pytest.fixture
def checker() -> LockOrderChecker:
    return LockOrderChecker()


def test_inverted_order_in_two_threads_that_never_overlap_is_flagged(
    checker: LockOrderChecker,
) -> None:
    a = OrderedLock("a", checker=checker)
    b = OrderedLock("b", checker=checker)
    first_done = threading.Event()
    outcome: dict[str, object] = {}

    def first() -> None:
        with a, b:  # edge a -> b
            pass
        first_done.set()

    def second() -> None:
        assert first_done.wait(JOIN_TIMEOUT)
        with b:
            try:
                a.acquire()  # edge b -> a
            except LockOrderViolation as violation:
                outcome["violation"] = violation
            outcome["held"] = checker.held()
            outcome["a_locked"] = a.locked()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads)
    violation = outcome["violation"]
    assert isinstance(violation, LockOrderViolation)
    assert violation.cycle == ("a", "b", "a")
    assert violation.locations == (line_of("edge a -> b"), line_of("edge b -> a"))
    assert str(violation) == (
        "lock order cycle a -> b -> a (a potential deadlock); edges first seen: "
        f"a -> b at {line_of('edge a -> b')}; b -> a at {line_of('edge b -> a')} "
        "(this acquisition)"
    )
    # Raised before blocking and without acquiring: only b was held, and a stayed free.
    assert outcome["held"] == ("b",)
    assert outcome["a_locked"] is False
    assert checker.edges() == {("a", "b"): line_of("edge a -> b")}


def test_a_three_lock_cycle_is_named_in_full_with_every_first_sighting(
    checker: LockOrderChecker,
) -> None:
    a, b, c = (OrderedLock(name, checker=checker) for name in "abc")
    with a, b:  # three: a -> b
        pass
    with b, c:  # three: b -> c
        pass
    with c, pytest.raises(LockOrderViolation) as raised:
        a.acquire()  # three: c -> a
    assert raised.value.cycle == ("a", "b", "c", "a")
    assert raised.value.locations == (
        line_of("three: a -> b"),
        line_of("three: b -> c"),
        line_of("three: c -> a"),
    )
    message = str(raised.value)
    assert "lock order cycle a -> b -> c -> a" in message
    for edge in ("a -> b", "b -> c", "c -> a"):
        assert f"{edge} at {line_of(f'three: {edge}')}" in message
    assert not a.locked()
    assert checker.held() == ()


def test_known_orders_are_recorded_once_at_their_first_sighting(
    checker: LockOrderChecker,
) -> None:
    a, b, c = (OrderedLock(name, checker=checker) for name in "abc")
    for _ in range(3):
        with a, b, c:  # first sightings
            pass
    with a, c:
        pass
    first = line_of("first sightings")
    assert checker.edges() == {("a", "b"): first, ("a", "c"): first, ("b", "c"): first}
    checker.reset()
    assert checker.edges() == {}
    with c, a:  # allowed after reset
        pass
    assert checker.edges() == {("c", "a"): line_of("allowed after reset")}


def test_rlock_reentrancy_adds_no_self_edge(checker: LockOrderChecker) -> None:
    outer = OrderedLock("outer", checker=checker)
    reentrant = OrderedRLock("reentrant", checker=checker)
    with outer, reentrant:
        with reentrant:
            assert checker.held() == ("outer", "reentrant")
        assert reentrant.locked()
    assert not reentrant.locked()
    assert list(checker.edges()) == [("outer", "reentrant")]
    assert checker.held() == ()


def test_reacquiring_a_held_plain_lock_is_a_cycle_of_one(checker: LockOrderChecker) -> None:
    lock = OrderedLock("solo", checker=checker)
    with lock, pytest.raises(LockOrderViolation) as raised:
        lock.acquire()  # self deadlock
    assert raised.value.cycle == ("solo", "solo")
    assert raised.value.locations == (line_of("self deadlock"),)
    assert not lock.locked()


def test_two_locks_sharing_a_name_held_together_are_flagged(checker: LockOrderChecker) -> None:
    first, second = OrderedLock("account", checker=checker), OrderedLock("account", checker=checker)
    with first, pytest.raises(LockOrderViolation) as raised:
        second.acquire()
    assert raised.value.cycle == ("account", "account")


def test_failed_nonblocking_acquire_records_nothing(checker: LockOrderChecker) -> None:
    mine = OrderedLock("mine", checker=checker)
    theirs = OrderedLock("theirs", checker=checker)
    taken, done = threading.Event(), threading.Event()

    def holder() -> None:
        with theirs:
            taken.set()
            assert done.wait(JOIN_TIMEOUT)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert taken.wait(JOIN_TIMEOUT)
        with mine:
            assert theirs.acquire(blocking=False) is False
            assert checker.held() == ("mine",)
    finally:
        done.set()
        thread.join(JOIN_TIMEOUT)
    assert checker.edges() == {}


def test_successful_nonblocking_acquire_adds_no_edge_but_counts_as_held(
    checker: LockOrderChecker,
) -> None:
    a, b, c = (OrderedLock(name, checker=checker) for name in "abc")
    with a:
        assert b.acquire(blocking=False)
        assert checker.held() == ("a", "b")
        with c:
            pass
        b.release()
    assert set(checker.edges()) == {("a", "c"), ("b", "c")}


def test_condition_wait_and_notify_over_an_ordered_lock(checker: LockOrderChecker) -> None:
    outer = OrderedLock("outer", checker=checker)
    lock = OrderedLock("inner", checker=checker)
    condition = threading.Condition(lock)  # type: ignore[arg-type]
    waiting = threading.Event()
    flag: list[bool] = []
    seen: dict[str, tuple[str, ...]] = {}

    def waiter() -> None:
        with outer, condition:
            seen["before"] = checker.held()
            waiting.set()
            assert condition.wait_for(lambda: bool(flag), timeout=JOIN_TIMEOUT)
            seen["after"] = checker.held()
        seen["outside"] = checker.held()

    thread = threading.Thread(target=waiter)
    thread.start()
    assert waiting.wait(JOIN_TIMEOUT)
    # Getting the lock proves the waiter released it inside wait().
    with condition:
        assert checker.held() == ("inner",)
        flag.append(True)
        condition.notify()
    thread.join(JOIN_TIMEOUT)
    assert not thread.is_alive()
    assert seen == {
        "before": ("outer", "inner"),
        "after": ("outer", "inner"),
        "outside": (),
    }
    assert list(checker.edges()) == [("outer", "inner")]
    assert not lock.locked()


def test_condition_wait_over_a_reentrant_ordered_lock_restores_the_depth(
    checker: LockOrderChecker,
) -> None:
    lock = OrderedRLock("reentrant", checker=checker)
    condition = new_condition(lock)
    waiting = threading.Event()
    flag: list[bool] = []
    seen: dict[str, object] = {}

    def waiter() -> None:
        with lock, condition:  # two levels
            waiting.set()
            assert condition.wait_for(lambda: bool(flag), timeout=JOIN_TIMEOUT)
            seen["held"] = checker.held()
        seen["locked_after"] = lock.locked()
        seen["held_after"] = checker.held()

    thread = threading.Thread(target=waiter)
    thread.start()
    assert waiting.wait(JOIN_TIMEOUT)
    with condition:  # only possible because wait() released both levels
        flag.append(True)
        condition.notify_all()
    thread.join(JOIN_TIMEOUT)
    assert not thread.is_alive()
    assert seen == {"held": ("reentrant",), "locked_after": False, "held_after": ()}
    assert checker.edges() == {}


def test_wait_on_a_condition_whose_lock_is_not_held_fails_as_in_threading(
    checker: LockOrderChecker,
) -> None:
    for lock in (OrderedLock(checker=checker), OrderedRLock(checker=checker)):
        with pytest.raises(RuntimeError, match="un-acquired lock"):
            new_condition(lock).wait(timeout=0)


def test_release_misuse_raises_runtime_error(checker: LockOrderChecker) -> None:
    with pytest.raises(RuntimeError, match="release unlocked lock"):
        OrderedLock(checker=checker).release()
    reentrant = OrderedRLock(checker=checker)
    with pytest.raises(RuntimeError, match="un-acquired lock"):
        reentrant.release()
    reentrant.acquire()
    with pytest.raises(RuntimeError, match="un-acquired lock"):
        run_in_thread(reentrant.release)
    reentrant.release()
    assert not reentrant.locked()


def test_a_plain_lock_released_by_another_thread_leaves_no_stale_held_entry(
    checker: LockOrderChecker,
) -> None:
    handoff = OrderedLock("handoff", checker=checker)
    later = OrderedLock("later", checker=checker)
    handoff.acquire()
    run_in_thread(handoff.release)
    assert checker.held() == ()
    with later:
        pass
    assert checker.edges() == {}


def test_locked_reports_other_threads_holding_an_rlock(checker: LockOrderChecker) -> None:
    lock = OrderedRLock("r", checker=checker)
    seen: list[bool] = []
    with lock:
        run_in_thread(lambda: seen.append(lock.locked()))
    run_in_thread(lambda: seen.append(lock.locked()))
    assert seen == [True, False]


def test_default_names_are_unique_and_repr_shows_the_state(checker: LockOrderChecker) -> None:
    first, second = OrderedLock(checker=checker), OrderedLock(checker=checker)
    assert first.name != second.name
    assert first.name.startswith("OrderedLock-")
    named = OrderedRLock("config", checker=checker)
    assert repr(named) == "<OrderedRLock 'config' unlocked>"
    with named:
        assert repr(named) == "<OrderedRLock 'config' locked>"


def test_violation_survives_pickling() -> None:
    violation = LockOrderViolation(("a", "b", "a"), ("x.py:1", "y.py:2"))
    copy = pickle.loads(pickle.dumps(violation))
    assert (copy.cycle, copy.locations, str(copy)) == (
        violation.cycle,
        violation.locations,
        str(violation),
    )


def test_factories_return_plain_locks_while_checking_is_off() -> None:
    assert not lock_order_checking_enabled()
    assert type(new_lock("x")) is type(threading.Lock())
    assert type(new_rlock("x")) is type(threading.RLock())


def test_switch_enables_restores_and_nests() -> None:
    mine = LockOrderChecker()
    with lock_order_checking() as outer:
        lock = new_lock("a")
        assert isinstance(lock, OrderedLock)
        assert lock.checker is outer
        rlock = new_rlock("b")
        assert isinstance(rlock, OrderedRLock)
        assert rlock.checker is outer
        with lock_order_checking() as same:
            assert same is outer
        with lock_order_checking(mine) as inner:
            assert inner is mine
            assert enable_lock_order_checking() is mine
        assert enable_lock_order_checking() is outer
    assert not lock_order_checking_enabled()
    checker = enable_lock_order_checking()
    try:
        assert lock_order_checking_enabled()
        assert OrderedLock().checker is checker
    finally:
        disable_lock_order_checking()
    assert not lock_order_checking_enabled()
    # A lock made explicitly while checking is off still checks, against one shared checker.
    assert OrderedLock().checker is OrderedLock().checker


def test_spindle_components_take_part_when_checking_is_on() -> None:
    with lock_order_checking() as checker:
        caller = new_lock("caller")
        queue: BoundedQueue[int] = BoundedQueue(1)
        bucket = TokenBucket(rate=1.0, burst=1.0)
        banker = Banker([1], max_claim=[[1]], allocation=[[0]])
        with caller:
            queue.put(1)  # caller -> BoundedQueue
            bucket.reserve(now=0.0)  # caller -> TokenBucket
            banker.request(0, [1])  # caller -> Banker
    # Edges point at the caller's line, not at the primitives' insides.
    assert checker.edges() == {
        ("caller", "BoundedQueue"): line_of("caller -> BoundedQueue"),
        ("caller", "TokenBucket"): line_of("caller -> TokenBucket"),
        ("caller", "Banker"): line_of("caller -> Banker"),
    }
