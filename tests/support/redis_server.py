"""A real redis-server for tests: on 127.0.0.1, a free port, a temporary directory.

No RDB snapshots (``--save ""``); an append-only file with ``appendfsync always``, as the
README advises for a shared crawl, so :meth:`RedisServer.kill` followed by
:meth:`RedisServer.start` (same port, same directory) loses nothing that was acknowledged.
Every wait is bounded: start waits for PING with a deadline, stop waits for the process with a
deadline and then kills it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import redis

__all__ = ["REDIS_SERVER", "RedisServer", "free_port"]

REDIS_SERVER = shutil.which("redis-server")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One redis-server process; start, kill (SIGKILL), stop (SIGTERM) and start again."""

    def __init__(
        self, directory: Path, *, port: int | None = None, appendfsync: str = "always"
    ) -> None:
        if REDIS_SERVER is None:
            raise RuntimeError("redis-server is not installed")
        self.directory = directory
        self.port = port or free_port()
        self.appendfsync = appendfsync
        self.process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def start(self, *, deadline: float = 10.0) -> RedisServer:
        assert REDIS_SERVER is not None
        assert self.process is None, "already running"
        command = [
            REDIS_SERVER,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.directory),
            "--save", "",
            "--appendonly", "yes",
            "--appendfsync", self.appendfsync,
            "--daemonize", "no",
            "--logfile", str(self.directory / "redis.log"),
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if self.process.poll() is not None:
                log = (self.directory / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"redis-server exited with {self.process.returncode}: {log}")
            try:
                if self.client().ping():
                    return self
            except (redis.ConnectionError, redis.BusyLoadingError):
                time.sleep(0.02)
        self.kill()
        raise RuntimeError(f"redis-server did not answer PING within {deadline} s")

    def kill(self) -> None:
        """SIGKILL: whatever was not in the append-only file is lost."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def stop(self, *, deadline: float = 10.0) -> None:
        """SIGTERM (Redis flushes its append-only file), then SIGKILL after ``deadline``."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=deadline)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.kill()
