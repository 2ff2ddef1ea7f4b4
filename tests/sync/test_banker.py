"""The Banker's algorithm: textbook cases, brute force cross-check, safety kept, threads."""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Iterator, Sequence

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from spindle.sync import Banker, Decision, lock_order_checking

AVAILABLE = [3, 3, 2]
ALLOCATION = [[0, 1, 0], [2, 0, 0], [3, 0, 2], [2, 1, 1], [0, 0, 2]]
MAX_CLAIM = [[7, 5, 3], [3, 2, 2], [9, 0, 2], [2, 2, 2], [4, 3, 3]]
JOIN_TIMEOUT = 60.0


def classic() -> Banker:
    return Banker(AVAILABLE, MAX_CLAIM, ALLOCATION)


def snapshot(banker: Banker) -> tuple[object, ...]:
    return banker.available, banker.allocation, banker.need


def test_classic_state_is_safe_with_the_textbook_sequence() -> None:
    banker = classic()
    assert (banker.processes, banker.resources) == (5, 3)
    assert banker.need == ((7, 4, 3), (1, 2, 2), (6, 0, 0), (0, 1, 1), (4, 3, 1))
    assert banker.max_claim == tuple(map(tuple, MAX_CLAIM))
    assert banker.safe_sequence() == [1, 3, 4, 0, 2]
    assert banker.is_safe()


def test_classic_requests_granted_refused_for_resources_and_refused_as_unsafe() -> None:
    banker = classic()
    assert banker.request(1, (1, 0, 2)) == Decision(
        True, "granted: the state stays safe (safe sequence P1, P3, P4, P0, P2)"
    )
    assert banker.available == (2, 3, 0)
    assert banker.allocation[1] == (3, 0, 2)
    after_grant = snapshot(banker)

    assert banker.request(4, (3, 3, 0)) == Decision(
        False, "refused: P4 asks for 3 of R0 but only 2 available"
    )
    assert snapshot(banker) == after_grant

    assert banker.request(0, (0, 2, 0)) == Decision(
        False,
        "refused: granting it would leave an unsafe state (no order lets every process finish)",
    )
    assert snapshot(banker) == after_grant
    assert banker.safe_sequence() == [1, 3, 4, 0, 2]


def test_a_request_beyond_the_remaining_need_is_refused_and_changes_nothing() -> None:
    banker = classic()
    before = snapshot(banker)
    assert banker.request(3, [1, 1, 1]) == Decision(
        False, "refused: P3 asks for 1 of R0, more than its remaining need of 0"
    )
    assert snapshot(banker) == before


def test_release_returns_units_and_refuses_to_return_more_than_held() -> None:
    banker = classic()
    banker.release(2, [3, 0, 1])
    assert banker.available == (6, 3, 3)
    assert banker.allocation[2] == (0, 0, 1)
    with pytest.raises(ValueError, match="P2 releases 2 of R2 but holds only 1"):
        banker.release(2, [0, 0, 2])
    assert banker.available == (6, 3, 3)


@pytest.mark.parametrize(
    ("pid", "vector", "message"),
    [
        (5, [0, 0, 0], "no process 5: processes are P0 to P4"),
        (-1, [0, 0, 0], "no process -1"),
        (True, [0, 0, 0], "no process True"),
        (0, [1, 0], "request of P0 has 2 entries, expected 3 \\(one per resource\\)"),
        (0, [0, -1, 0], "request of P0 for resource R1 \\(-1\\) must be a non-negative integer"),
        (0, [0, 1.5, 0], "request of P0 for resource R1 \\(1.5\\) must be"),
    ],
)
def test_malformed_requests_raise(pid: int, vector: list[int], message: str) -> None:
    banker = classic()
    with pytest.raises(ValueError, match=message):
        banker.request(pid, vector)
    with pytest.raises(ValueError, match=message.replace("request", "release")):
        banker.release(pid, vector)
    with pytest.raises(ValueError, match=message):
        banker.acquire(pid, vector, timeout=0)


@pytest.mark.parametrize(
    ("available", "max_claim", "allocation", "message"),
    [
        ([], [[1]], [[0]], "available must have one entry per resource"),
        ([1, -2], [[1, 1]], [[0, 0]], "available amount of R1 \\(-2\\) must be a non-negative"),
        ([1], [[1], [1]], [[0]], "max_claim has 2 rows but allocation has 1"),
        ([1], [], [], "there must be at least one process"),
        ([1, 1], [[1, 1], [1]], [[0, 0], [0, 0]], "maximum claim of P1 has 1 entries, expected 2"),
        ([1], [[1]], [[0, 0]], "allocation of P0 has 2 entries, expected 1"),
        ([1], [[True]], [[0]], "maximum claim of P0 for resource R0 \\(True\\) must be"),
        (
            [1, 1, 1],
            [[1, 1, 1], [1, 1, 1], [1, 3, 1]],
            [[0, 0, 0], [0, 0, 0], [0, 5, 0]],
            "allocation of P2 for resource R1 \\(5\\) exceeds its maximum claim \\(3\\)",
        ),
    ],
)
def test_invalid_states_are_refused_naming_the_process_and_resource(
    available: list[int], max_claim: list[list[int]], allocation: list[list[int]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Banker(available, max_claim, allocation)


def test_an_unsafe_state_has_no_sequence_and_grants_nothing() -> None:
    banker = Banker([0], max_claim=[[2], [2]], allocation=[[1], [1]])
    assert banker.safe_sequence() is None
    assert not banker.request(0, [0]).granted


def test_acquire_refuses_requests_that_can_never_be_granted() -> None:
    banker = classic()
    with pytest.raises(ValueError, match="P3 can never be granted: 1 of R0 exceeds its remaining"):
        banker.acquire(3, [1, 0, 0])
    impossible = Banker([1], max_claim=[[1], [5]], allocation=[[0], [1]])
    with pytest.raises(ValueError, match="the maximum claim of P1 for R0 \\(5\\) exceeds the 2"):
        impossible.acquire(0, [1])


def test_acquire_times_out_without_taking_anything() -> None:
    banker = Banker([0], max_claim=[[1], [1]], allocation=[[1], [0]])
    assert not banker.acquire(1, [1], timeout=0)
    assert not banker.acquire(1, [1], timeout=0.01)
    assert banker.allocation == ((1,), (0,))
    with pytest.raises(ValueError, match="timeout must be None or at least 0"):
        banker.acquire(1, [1], timeout=-1)


def test_acquire_waits_for_a_release() -> None:
    banker = Banker([0], max_claim=[[1], [1]], allocation=[[1], [0]])
    granted: list[bool] = []
    thread = threading.Thread(target=lambda: granted.append(banker.acquire(1, [1])))
    thread.start()
    banker.release(0, [1])  # whether the acquire is waiting yet or not, it gets the unit
    thread.join(JOIN_TIMEOUT)
    assert not thread.is_alive()
    assert granted == [True]
    assert banker.allocation == ((0,), (1,))


def test_repr() -> None:
    assert repr(classic()) == "<Banker processes=5 resources=3 available=(3, 3, 2)>"


@st.composite
def states(draw: st.DrawFn) -> tuple[list[int], list[list[int]], list[list[int]]]:
    processes = draw(st.integers(1, 5))
    resources = draw(st.integers(1, 3))
    amounts = st.integers(0, 4)
    available = draw(st.lists(amounts, min_size=resources, max_size=resources))
    max_claim = [
        draw(st.lists(amounts, min_size=resources, max_size=resources)) for _ in range(processes)
    ]
    allocation = [[draw(st.integers(0, most)) for most in row] for row in max_claim]
    return available, max_claim, allocation


def replays(
    available: Sequence[int],
    max_claim: Sequence[Sequence[int]],
    allocation: Sequence[Sequence[int]],
    order: Sequence[int],
) -> bool:
    """Whether every process, taken in ``order``, gets its need from what is free and finishes."""
    if sorted(order) != list(range(len(max_claim))):
        return False
    free = list(available)
    for pid in order:
        need = [most - held for most, held in zip(max_claim[pid], allocation[pid], strict=True)]
        if any(wanted > have for wanted, have in zip(need, free, strict=True)):
            return False
        free = [have + held for have, held in zip(free, allocation[pid], strict=True)]
    return True


@given(state=states())
def test_safe_sequence_agrees_with_brute_force_over_all_orders(
    state: tuple[list[int], list[list[int]], list[list[int]]],
) -> None:
    available, max_claim, allocation = state
    sequence = Banker(available, max_claim, allocation).safe_sequence()
    orders = itertools.permutations(range(len(max_claim)))
    some_order_works = any(replays(available, max_claim, allocation, order) for order in orders)
    assert some_order_works == (sequence is not None)
    if sequence is not None:
        assert replays(available, max_claim, allocation, sequence)


@given(
    state=states(),
    operations=st.lists(
        st.tuples(st.booleans(), st.integers(0, 4), st.lists(st.integers(0, 3), max_size=3)),
        max_size=30,
    ),
)
def test_granted_requests_keep_a_safe_state_safe_and_refusals_change_nothing(
    state: tuple[list[int], list[list[int]], list[list[int]]],
    operations: list[tuple[bool, int, list[int]]],
) -> None:
    banker = Banker(*state)
    assume(banker.is_safe())
    for is_request, pid_seed, amounts in operations:
        pid = pid_seed % banker.processes
        vector = (amounts + [0] * banker.resources)[: banker.resources]
        if is_request:
            before = snapshot(banker)
            decision = banker.request(pid, vector)
            if not decision.granted:
                assert snapshot(banker) == before
        else:
            held = banker.allocation[pid]
            banker.release(
                pid, [min(amount, have) for amount, have in zip(vector, held, strict=True)]
            )
        assert banker.is_safe()


@pytest.fixture(params=[False, True], ids=["plain-lock", "lock-order-checked"])
def checking(request: pytest.FixtureRequest) -> Iterator[bool]:
    if request.param:
        with lock_order_checking():
            yield True
    else:
        yield False


@pytest.mark.usefixtures("checking")
def test_threads_acquiring_their_needs_in_steps_all_finish() -> None:
    max_claim = [[4, 3, 2], [3, 3, 3], [5, 1, 2], [2, 4, 1], [4, 4, 4]]
    totals = [6, 5, 5]
    banker = Banker(totals, max_claim, [[0, 0, 0] for _ in max_claim])
    rounds = 15
    finished: list[int] = []
    failures: list[BaseException] = []
    start = threading.Barrier(len(max_claim))

    def process(pid: int) -> None:
        rng = random.Random(pid)
        try:
            start.wait(JOIN_TIMEOUT)
            for _ in range(rounds):
                while any(banker.need[pid]):
                    step = [rng.randint(0, need) for need in banker.need[pid]]
                    assert banker.acquire(pid, step, timeout=JOIN_TIMEOUT)
                banker.release(pid, banker.allocation[pid])
            finished.append(pid)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=process, args=(pid,)) for pid in range(len(max_claim))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []
    assert sorted(finished) == list(range(len(max_claim)))
    assert banker.available == tuple(totals)
    assert banker.allocation == ((0, 0, 0),) * len(max_claim)
