"""The watchdog shuts down the sockets of attempts past their deadline, and only those."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from spindle.crawl.engines import watchdog as watchdog_module
from spindle.crawl.engines.watchdog import Watchdog

SAFETY = 10.0  # a recv that the watchdog failed to wake gives up after this, failing the test


def _running(dog: Watchdog) -> bool:
    return dog.running


@pytest.fixture
def dog() -> Iterator[Watchdog]:
    dog = Watchdog(name="test-watchdog")
    yield dog
    dog.close()


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    a.settimeout(SAFETY)
    b.settimeout(SAFETY)
    yield a, b
    a.close()
    b.close()


def test_a_blocked_recv_wakes_at_the_deadline(
    dog: Watchdog, pair: tuple[socket.socket, socket.socket]
) -> None:
    reader, _ = pair
    attempt = dog.arm(time.monotonic() + 0.2)
    dog.watch(attempt, reader)
    assert reader.recv(10) == b""  # woken by the shutdown, not by SAFETY
    assert dog.disarm(attempt) is True


def test_an_attempt_disarmed_in_time_keeps_its_socket(
    dog: Watchdog, pair: tuple[socket.socket, socket.socket]
) -> None:
    reader, writer = pair
    attempt = dog.arm(time.monotonic() + 30.0)
    dog.watch(attempt, reader)
    assert dog.disarm(attempt) is False
    # A later attempt that does expire proves the watchdog ran past the first deadline.
    other_reader, other_writer = socket.socketpair()
    with other_reader, other_writer:
        other_reader.settimeout(SAFETY)
        later = dog.arm(time.monotonic() + 0.4)
        dog.watch(later, other_reader)
        assert other_reader.recv(10) == b""
        assert dog.disarm(later) is True
    writer.sendall(b"still here")
    assert reader.recv(10) == b"still here"


def test_a_nearer_deadline_armed_later_is_not_missed(
    dog: Watchdog, pair: tuple[socket.socket, socket.socket]
) -> None:
    reader, _ = pair
    far = dog.arm(time.monotonic() + 60.0)  # the thread now waits for this one
    near = dog.arm(time.monotonic() + 0.2)
    dog.watch(near, reader)
    assert reader.recv(10) == b""
    assert (dog.disarm(near), dog.disarm(far)) == (True, False)


def test_a_socket_watched_after_expiry_is_shut_down_at_once(
    dog: Watchdog, pair: tuple[socket.socket, socket.socket]
) -> None:
    first, _ = pair
    attempt = dog.arm(time.monotonic() - 1.0)
    dog.watch(attempt, first)
    assert first.recv(10) == b""  # expired: this is the sync point
    second, second_peer = socket.socketpair()
    with second, second_peer:
        second.settimeout(SAFETY)
        dog.watch(attempt, second)
        assert second.recv(10) == b""
    assert dog.disarm(attempt) is True


def test_a_closed_socket_is_ignored(
    dog: Watchdog, pair: tuple[socket.socket, socket.socket]
) -> None:
    reader, _ = pair
    closed = socket.socket()
    closed.close()
    attempt = dog.arm(time.monotonic() + 0.1)
    dog.watch(attempt, closed)
    dog.watch(attempt, reader)
    assert reader.recv(10) == b""  # the closed socket before it did not stop the expiry
    assert dog.disarm(attempt) is True


def test_close_stops_the_thread_and_arming_after_it_raises(dog: Watchdog) -> None:
    attempt = dog.arm(time.monotonic() + 60.0)
    assert _running(dog)
    dog.close()
    assert not _running(dog)
    assert not [t for t in threading.enumerate() if t.name == "test-watchdog"]
    assert dog.disarm(attempt) is False
    with pytest.raises(RuntimeError, match="the watchdog is closed"):
        dog.arm(time.monotonic() + 1.0)


def test_an_idle_thread_exits_and_the_next_arm_starts_another(
    dog: Watchdog, pair: tuple[socket.socket, socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watchdog_module, "IDLE_EXIT", 0.05)
    reader, _ = pair
    attempt = dog.arm(time.monotonic() + 0.1)
    dog.watch(attempt, reader)
    (thread,) = [t for t in threading.enumerate() if t.name == "test-watchdog"]
    assert reader.recv(10) == b""  # expired: nothing is armed any more
    thread.join(SAFETY)
    assert not thread.is_alive()
    assert not _running(dog)
    assert dog.disarm(attempt) is True
    again = dog.arm(time.monotonic() + 60.0)
    assert _running(dog)
    assert dog.disarm(again) is False


def test_repr_shows_the_state(dog: Watchdog) -> None:
    attempt = dog.arm(time.monotonic() + 60.0)
    assert repr(dog) == "<Watchdog armed=1 running=True closed=False>"
    assert repr(attempt).startswith("<Attempt armed deadline=")
    dog.disarm(attempt)
