"""pywb, the web archive's replay tool, run for a test: ``wb-manager init`` and ``add`` in a
directory of the test's, then ``wayback`` on a free 127.0.0.1 port, stopped when the block
ends. pywb lives in a virtual environment of its own (``make test`` makes ``.venv-pywb``; it
pins a Redis client the crawler cannot use); ``SPINDLE_PYWB_BIN`` names another. wayback runs
without ``--live``, ``--record`` or ``--proxy`` and with the default configuration, so it only
reads the collection's files and never fetches anything."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest

__all__ = ["START_DEADLINE", "replayed", "wayback"]

BIN = Path(os.environ.get("SPINDLE_PYWB_BIN") or Path(__file__).parents[2] / ".venv-pywb" / "bin")
START_DEADLINE = 60.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    pause = threading.Event()
    deadline = START_DEADLINE
    while deadline > 0:
        assert proc.poll() is None, f"wayback exited: {log.read_text()[-2000:]}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            pause.wait(0.1)
            deadline -= 0.1
    pytest.fail(f"wayback did not listen within {START_DEADLINE} s: {log.read_text()[-2000:]}")


@contextlib.contextmanager
def wayback(root: Path, warcs: list[Path]) -> Iterator[int]:
    """Serve the collection ``coll`` of ``warcs`` from ``root``; yields the port."""
    if not (BIN / "wayback").exists():
        pytest.skip(f"pywb is not installed in {BIN} (make test installs it there)")
    archive = root / "pywb"
    archive.mkdir()
    for step in (["init", "coll"], ["add", "coll", *map(str, warcs)]):
        subprocess.run(
            [str(BIN / "wb-manager"), *step], cwd=archive, check=True, capture_output=True
        )
    port = _free_port()
    log = root / "wayback.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [str(BIN / "wayback"), "-p", str(port), "-b", "127.0.0.1", "-t", "2"],
            cwd=archive,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(port, proc, log)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def replayed(port: int, stamp: str, url: str, *, gzip_ok: bool = True) -> tuple[bytes, Message]:
    """The body and headers pywb replays for ``url`` at 14-digit ``stamp``, unrewritten
    (``id_``); ``gzip_ok`` sends ``Accept-Encoding: gzip`` (pywb decodes a stored gzip body
    for a client that does not accept it)."""
    address = f"http://127.0.0.1:{port}/coll/{stamp}id_/{url}"
    headers = {"Accept-Encoding": "gzip"} if gzip_ok else {}
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(urllib.request.Request(address, headers=headers), timeout=10) as answer:
        return answer.read(), answer.headers
