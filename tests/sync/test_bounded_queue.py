"""BoundedQueue: a model-based state machine, blocking proven with events, close, stress."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from spindle.sync import (
    BoundedQueue,
    QueueClosed,
    QueueEmpty,
    QueueFull,
    QueueStatistics,
    QueueTimeout,
    lock_order_checking,
)

JOIN_TIMEOUT = 30.0


class Outcome:
    """What a background call returned or raised, and whether it has finished."""

    def __init__(self) -> None:
        self.finished = threading.Event()
        self.value: object = None
        self.error: BaseException | None = None


def in_background(call: Callable[[], object]) -> tuple[threading.Thread, Outcome]:
    outcome = Outcome()

    def run() -> None:
        try:
            outcome.value = call()
        except BaseException as exc:
            outcome.error = exc
        finally:
            outcome.finished.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def finish(thread: threading.Thread) -> None:
    thread.join(JOIN_TIMEOUT)
    assert not thread.is_alive(), "thread hung"


@pytest.mark.parametrize("capacity", [0, -1, True, 1.5, "2"])
def test_capacity_must_be_a_positive_integer(capacity: object) -> None:
    with pytest.raises(ValueError, match="capacity must be an integer of at least 1"):
        BoundedQueue(capacity)  # type: ignore[arg-type]


def test_a_producer_blocks_while_full_until_a_get_makes_room() -> None:
    queue: BoundedQueue[str] = BoundedQueue(1)
    queue.put("first")
    thread, outcome = in_background(lambda: queue.put("second"))
    assert queue.wait_for_blocked(producers=1, timeout=JOIN_TIMEOUT)
    # Registered as a waiter on a full queue: it cannot have finished.
    assert not outcome.finished.is_set()
    stats = queue.statistics()
    assert (stats.blocked_producers, stats.producer_waits, stats.size) == (1, 1, 1)
    assert queue.get() == "first"
    finish(thread)
    assert outcome.error is None
    assert queue.get_nowait() == "second"
    stats = queue.statistics()
    assert (stats.blocked_producers, stats.total_put, stats.total_got) == (0, 2, 2)


def test_a_consumer_blocks_while_empty_until_a_put() -> None:
    queue: BoundedQueue[str] = BoundedQueue(3)
    thread, outcome = in_background(queue.get)
    assert queue.wait_for_blocked(consumers=1, timeout=JOIN_TIMEOUT)
    assert not outcome.finished.is_set()
    assert queue.statistics().blocked_consumers == 1
    queue.put("item")
    finish(thread)
    assert (outcome.value, outcome.error) == ("item", None)
    stats = queue.statistics()
    assert (stats.blocked_consumers, stats.consumer_waits, stats.size) == (0, 1, 0)


def test_close_releases_every_blocked_consumer_with_queue_closed() -> None:
    queue: BoundedQueue[int] = BoundedQueue(2)
    started = [in_background(queue.get) for _ in range(3)]
    assert queue.wait_for_blocked(consumers=3, timeout=JOIN_TIMEOUT)
    queue.close()
    for thread, outcome in started:
        finish(thread)
        assert isinstance(outcome.error, QueueClosed)
    assert queue.statistics().blocked_consumers == 0


def test_close_releases_every_blocked_producer_and_leaves_the_items_to_drain() -> None:
    queue: BoundedQueue[int] = BoundedQueue(2)
    queue.put(1)
    queue.put(2)
    started = [in_background(lambda: queue.put(3)) for _ in range(2)]
    assert queue.wait_for_blocked(producers=2, timeout=JOIN_TIMEOUT)
    queue.close()
    for thread, outcome in started:
        finish(thread)
        assert isinstance(outcome.error, QueueClosed)
    with pytest.raises(QueueClosed):
        queue.put_nowait(4)
    with pytest.raises(QueueClosed):
        queue.put(4)
    assert [queue.get(), queue.get_nowait()] == [1, 2]
    with pytest.raises(QueueClosed):
        queue.get()
    with pytest.raises(QueueClosed):
        queue.get_nowait()
    stats = queue.statistics()
    assert (stats.total_put, stats.total_got, stats.blocked_producers, stats.closed) == (
        2,
        2,
        0,
        True,
    )


def test_close_is_idempotent() -> None:
    queue: BoundedQueue[int] = BoundedQueue(1)
    queue.close()
    queue.close()
    assert queue.closed
    assert list(queue) == []


def test_iteration_yields_until_closed_and_drained() -> None:
    queue: BoundedQueue[int] = BoundedQueue(3)

    def produce() -> None:
        for number in range(100):
            queue.put(number)
        queue.close()

    thread, outcome = in_background(produce)
    assert list(queue) == list(range(100))
    finish(thread)
    assert outcome.error is None


def test_timeouts_raise_queue_timeout_and_change_nothing() -> None:
    queue: BoundedQueue[int] = BoundedQueue(1)
    with pytest.raises(QueueTimeout):
        queue.get(timeout=0)
    with pytest.raises(QueueTimeout):
        queue.get(timeout=0.01)
    queue.put(1)
    with pytest.raises(QueueTimeout):
        queue.put(2, timeout=0)
    with pytest.raises(QueueTimeout):
        queue.put(2, timeout=0.01)
    # A zero timeout never waits, so only the two real waits are counted.
    assert queue.statistics() == QueueStatistics(
        size=1,
        capacity=1,
        blocked_producers=0,
        blocked_consumers=0,
        total_put=1,
        total_got=0,
        producer_waits=1,
        consumer_waits=1,
        closed=False,
    )
    assert issubclass(QueueTimeout, TimeoutError)
    assert queue.get(timeout=0) == 1


@pytest.mark.parametrize("timeout", [-1.0, float("nan")])
def test_a_negative_timeout_is_refused(timeout: float) -> None:
    queue: BoundedQueue[int] = BoundedQueue(1)
    with pytest.raises(ValueError, match="timeout"):
        queue.get(timeout=timeout)
    with pytest.raises(ValueError, match="timeout"):
        queue.put(1, timeout=timeout)


def test_wait_for_blocked_times_out_when_nobody_waits() -> None:
    assert not BoundedQueue[int](1).wait_for_blocked(producers=1, timeout=0.01)
    assert BoundedQueue[int](1).wait_for_blocked(timeout=0)


def test_repr_shows_size_capacity_and_blocked_counts() -> None:
    queue: BoundedQueue[int] = BoundedQueue(4)
    thread, outcome = in_background(queue.get)
    assert queue.wait_for_blocked(consumers=1, timeout=JOIN_TIMEOUT)
    assert repr(queue) == "<BoundedQueue size=0/4 blocked_producers=0 blocked_consumers=1>"
    queue.put(1)
    finish(thread)
    assert outcome.value == 1
    queue.put(2)
    queue.close()
    assert repr(queue) == "<BoundedQueue size=1/4 blocked_producers=0 blocked_consumers=0 closed>"


class QueueAgainstModel(RuleBasedStateMachine):
    """Non-blocking operations and close, compared with a deque and a closed flag."""

    def __init__(self) -> None:
        super().__init__()
        self.model: deque[int] = deque()
        self.closed = False
        self.total_put = 0
        self.total_got = 0
        self.capacity = 1
        self.queue: BoundedQueue[int] = BoundedQueue(1)

    @initialize(capacity=st.integers(min_value=1, max_value=5))
    def create(self, capacity: int) -> None:
        self.capacity = capacity
        self.queue = BoundedQueue(capacity)

    @rule(item=st.integers())
    def put_nowait(self, item: int) -> None:
        if self.closed:
            with pytest.raises(QueueClosed):
                self.queue.put_nowait(item)
        elif len(self.model) == self.capacity:
            with pytest.raises(QueueFull):
                self.queue.put_nowait(item)
        else:
            self.queue.put_nowait(item)
            self.model.append(item)
            self.total_put += 1

    @rule(item=st.integers())
    def put_without_waiting(self, item: int) -> None:
        if self.closed:
            with pytest.raises(QueueClosed):
                self.queue.put(item, timeout=0)
        elif len(self.model) == self.capacity:
            with pytest.raises(QueueTimeout):
                self.queue.put(item, timeout=0)
        else:
            self.queue.put(item, timeout=0)
            self.model.append(item)
            self.total_put += 1

    @rule()
    def get_nowait(self) -> None:
        if self.model:
            assert self.queue.get_nowait() == self.model.popleft()
            self.total_got += 1
        elif self.closed:
            with pytest.raises(QueueClosed):
                self.queue.get_nowait()
        else:
            with pytest.raises(QueueEmpty):
                self.queue.get_nowait()

    @rule()
    def get_without_waiting(self) -> None:
        if self.model:
            assert self.queue.get(timeout=0) == self.model.popleft()
            self.total_got += 1
        else:
            with pytest.raises(QueueClosed if self.closed else QueueTimeout):
                self.queue.get(timeout=0)

    @rule()
    def close(self) -> None:
        self.queue.close()
        self.closed = True

    @invariant()
    def statistics_match_the_model(self) -> None:
        assert self.queue.statistics() == QueueStatistics(
            size=len(self.model),
            capacity=self.capacity,
            blocked_producers=0,
            blocked_consumers=0,
            total_put=self.total_put,
            total_got=self.total_got,
            producer_waits=0,
            consumer_waits=0,
            closed=self.closed,
        )
        assert len(self.queue) == len(self.model)
        assert self.queue.closed == self.closed
        assert self.queue.capacity == self.capacity

    def teardown(self) -> None:
        # Whatever the history, closing and draining yields exactly what the model holds.
        self.queue.close()
        assert list(self.queue) == list(self.model)


QueueAgainstModel.TestCase.settings = settings(max_examples=150, stateful_step_count=40)
TestQueueAgainstModel = QueueAgainstModel.TestCase


class WeightedQueueAgainstModel(RuleBasedStateMachine):
    """A queue bounded by weight (items are their own weights), against a deque: a put is
    refused exactly when the model says there is no room, and the weight never goes over
    ``max_weight`` but for one heavy item alone."""

    def __init__(self) -> None:
        super().__init__()
        self.model: deque[int] = deque()
        self.capacity = 1
        self.max_weight = 1
        self.queue: BoundedQueue[int] = BoundedQueue(1, max_weight=1, weigh=int)

    @initialize(capacity=st.integers(1, 6), max_weight=st.integers(1, 12))
    def create(self, capacity: int, max_weight: int) -> None:
        self.capacity, self.max_weight = capacity, max_weight
        self.queue = BoundedQueue(capacity, max_weight=max_weight, weigh=int)

    def room_for(self, weight: int) -> bool:
        if len(self.model) == self.capacity:
            return False
        return not self.model or sum(self.model) + weight <= self.max_weight

    @rule(weight=st.integers(0, 15))
    def put_nowait(self, weight: int) -> None:
        if self.room_for(weight):
            self.queue.put_nowait(weight)
            self.model.append(weight)
        else:
            with pytest.raises(QueueFull):
                self.queue.put_nowait(weight)

    @rule(weight=st.integers(0, 15))
    def put_without_waiting(self, weight: int) -> None:
        if self.room_for(weight):
            self.queue.put(weight, timeout=0)
            self.model.append(weight)
        else:
            with pytest.raises(QueueTimeout):
                self.queue.put(weight, timeout=0)

    @rule()
    def get_nowait(self) -> None:
        if self.model:
            assert self.queue.get_nowait() == self.model.popleft()
        else:
            with pytest.raises(QueueEmpty):
                self.queue.get_nowait()

    @invariant()
    def weight_matches_the_model_and_stays_bounded(self) -> None:
        statistics = self.queue.statistics()
        assert (statistics.size, statistics.weight) == (len(self.model), sum(self.model))
        assert statistics.max_weight == self.max_weight
        assert statistics.weight <= self.max_weight or len(self.model) == 1


WeightedQueueAgainstModel.TestCase.settings = settings(max_examples=150, stateful_step_count=40)
TestWeightedQueueAgainstModel = WeightedQueueAgainstModel.TestCase


@pytest.mark.parametrize(
    ("max_weight", "weigh", "message"),
    [
        (0, len, "max_weight must be an integer of at least 1"),
        (True, len, "max_weight must be an integer of at least 1"),
        (4, None, "max_weight and weigh go together"),
        (None, len, "max_weight and weigh go together"),
    ],
)
def test_a_weight_bound_needs_a_positive_limit_and_a_weigh(
    max_weight: object, weigh: Callable[[bytes], int] | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        BoundedQueue(4, max_weight=max_weight, weigh=weigh)  # type: ignore[arg-type]


def test_a_negative_weight_is_refused_and_changes_nothing() -> None:
    queue: BoundedQueue[int] = BoundedQueue(4, max_weight=10, weigh=int)
    with pytest.raises(ValueError, match="an item must weigh at least 0, not -1"):
        queue.put(-1)
    assert queue.statistics().total_put == 0


def test_a_heavy_put_waits_until_gets_free_its_weight_then_goes_in() -> None:
    queue: BoundedQueue[bytes] = BoundedQueue(8, max_weight=10, weigh=len)
    queue.put(b"x" * 6)
    queue.put(b"y" * 3)
    thread, outcome = in_background(lambda: queue.put(b"z" * 5))
    assert queue.wait_for_blocked(producers=1, timeout=JOIN_TIMEOUT)
    assert not outcome.finished.is_set()
    assert queue.get() == b"x" * 6  # 3 + 5 <= 10: room now
    finish(thread)
    assert outcome.error is None
    assert queue.statistics().weight == 8
    assert [queue.get_nowait() for _ in range(2)] == [b"y" * 3, b"z" * 5]


def test_an_item_heavier_than_the_bound_waits_for_an_empty_queue() -> None:
    queue: BoundedQueue[bytes] = BoundedQueue(8, max_weight=4, weigh=len)
    queue.put(b"a")
    thread, outcome = in_background(lambda: queue.put(b"b" * 9))
    assert queue.wait_for_blocked(producers=1, timeout=JOIN_TIMEOUT)
    assert queue.get() == b"a"
    finish(thread)
    assert outcome.error is None
    assert queue.statistics().weight == 9


@pytest.fixture(params=[False, True], ids=["plain-lock", "lock-order-checked"])
def checking(request: pytest.FixtureRequest) -> Iterator[bool]:
    if request.param:
        with lock_order_checking():
            yield True
    else:
        yield False


def test_eight_producers_eight_consumers_deliver_each_item_once_in_producer_order(
    checking: bool,
) -> None:
    producers, consumers, items = 8, 8, 1_500
    queue: BoundedQueue[tuple[int, int]] = BoundedQueue(4)
    received: list[list[tuple[int, int]]] = [[] for _ in range(consumers)]
    start = threading.Barrier(producers + consumers)

    def produce(producer: int) -> None:
        start.wait(JOIN_TIMEOUT)
        for number in range(items):
            queue.put((producer, number))

    def consume(into: list[tuple[int, int]]) -> None:
        start.wait(JOIN_TIMEOUT)
        into.extend(queue)

    producer_threads = [threading.Thread(target=produce, args=(p,)) for p in range(producers)]
    consumer_threads = [threading.Thread(target=consume, args=(r,)) for r in received]
    for thread in producer_threads + consumer_threads:
        thread.start()
    for thread in producer_threads:
        finish(thread)
    queue.close()
    for thread in consumer_threads:
        finish(thread)

    everything = [item for batch in received for item in batch]
    assert sorted(everything) == [(p, n) for p in range(producers) for n in range(items)]
    # FIFO: whatever one consumer took from one producer came out in the order it went in.
    for batch in received:
        for producer in range(producers):
            numbers = [number for source, number in batch if source == producer]
            assert numbers == sorted(numbers)
    stats = queue.statistics()
    assert (stats.total_put, stats.total_got, stats.size) == (producers * items,) * 2 + (0,)
    assert (stats.blocked_producers, stats.blocked_consumers, stats.closed) == (0, 0, True)
