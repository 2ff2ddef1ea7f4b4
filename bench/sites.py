"""The servers the crawlers run against, each a child process on loopback addresses only.

Every server is started by a context manager that waits until it answers, yields what the
crawlers need (:class:`Served`) and, however the block ends (success, error, Ctrl-C), kills the
server's whole process group. Servers run as separate processes so their CPU time never counts
against a crawler's.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import tools
from broad_site import BroadSite, address
from measure import kill_group, local_env

__all__ = [
    "DOCS_ROOT",
    "RUST_DOCS_ROOT",
    "Served",
    "broad_command",
    "broad_server",
    "docs_missing",
    "free_port",
    "latency_command",
    "latency_server",
    "nginx_command",
    "nginx_server",
    "sample_command",
    "sample_server",
]

DOCS_ROOT = Path("/usr/share/doc/python3.11/html")
RUST_DOCS_ROOT = Path("/usr/share/doc/rust-doc/html")
_PACKAGES = {DOCS_ROOT: "python3.11-doc", RUST_DOCS_ROOT: "rust-doc"}
_READY_TIMEOUT = 20.0
_BENCH_DIR = Path(__file__).resolve().parent
_MIME_TYPES = Path("/etc/nginx/mime.types")
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy


@dataclass(frozen=True, slots=True)
class Served:
    """A running site: its start URL and, for the broad site, its seeds and arrival log."""

    seed: str
    seeds_file: Path | None = None
    arrivals: Path | None = None


def docs_missing(root: Path = DOCS_ROOT, *, need_nginx: bool) -> str | None:
    """Why a documentation site cannot run here, or None when it can."""
    missing, packages = [], []
    if need_nginx and shutil.which("nginx") is None:
        missing.append("nginx")
        packages.append("nginx")
    if not (root / "index.html").is_file():
        missing.append(str(root))
        packages.append(_PACKAGES.get(root, "?"))
    if not missing:
        return None
    return (
        f"{' and '.join(missing)} not found; install with "
        f"`apt-get install -y --no-install-recommends {' '.join(packages)}`"
    )


def free_port(host: str = "127.0.0.1") -> int:
    """A port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_ready(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    """Poll ``url`` until it answers (any HTTP status) or the server dies or time runs out."""
    deadline = time.monotonic() + _READY_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"server exited with {server.returncode}: {tail}")
        try:
            with _DIRECT.open(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} did not answer within {_READY_TIMEOUT:.0f} s")


def _wait_file(path: Path, server: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until the server has written ``path`` (it does once it listens everywhere)."""
    deadline = time.monotonic() + _READY_TIMEOUT
    while not path.is_file():
        if server.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"server exited with {server.returncode}: {tail}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"server did not write {path} within {_READY_TIMEOUT:.0f} s")
        time.sleep(0.1)


@contextlib.contextmanager
def _serve(
    command: Sequence[str], base_url: str, log: Path, ready_file: Path | None = None
) -> Iterator[str]:
    """Run ``command`` as a server until the block ends; yields ``base_url`` once it answers
    (and ``ready_file`` exists, when given)."""
    with log.open("wb") as output:
        server = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=local_env(),
            start_new_session=True,
        )
        try:
            if ready_file is not None:
                _wait_file(ready_file, server, log)
            _wait_ready(base_url, server, log)
            yield base_url
        finally:
            kill_group(server)


def _nginx_conf(workdir: Path, root: Path, port: int) -> str:
    types = f"include {_MIME_TYPES};" if _MIME_TYPES.is_file() else "types { text/html html; }"
    user = "user root;" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {workdir / 'tmp' / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}
worker_processes 1;
pid {workdir / "nginx.pid"};
error_log {workdir / "error.log"} warn;
events {{ worker_connections 4096; }}
http {{
    {types}
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
{temp}
    server {{
        listen 127.0.0.1:{port} backlog=1024;
        root {root};
        index index.html;
        absolute_redirect off;
        location / {{ try_files $uri $uri/ =404; }}
    }}
}}
"""


def nginx_command(workdir: Path) -> list[str]:
    """nginx in the foreground with the configuration, logs and pid file in ``workdir``."""
    conf = workdir / "nginx.conf"
    error_log = workdir / "error.log"
    return ["nginx", "-p", str(workdir), "-c", str(conf), "-e", str(error_log), "-g", "daemon off;"]


@contextlib.contextmanager
def nginx_server(workdir: Path, root: Path = DOCS_ROOT) -> Iterator[Served]:
    """nginx serving ``root`` on a free port, configured and logging in ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "tmp").mkdir(exist_ok=True)
    port = free_port()
    (workdir / "nginx.conf").write_text(_nginx_conf(workdir, root, port))
    url = f"http://127.0.0.1:{port}/"
    with _serve(nginx_command(workdir), url, workdir / "nginx.out") as seed:
        yield Served(seed)


def latency_command(port: int | str, latency: float, root: Path = DOCS_ROOT) -> list[str]:
    """``bench/latency_server.py`` (aiohttp, from Spindle's venv) serving ``root`` with
    ``latency`` seconds per response."""
    server = str(_BENCH_DIR / "latency_server.py")
    python = str(tools.SPINDLE_PYTHON)
    return [python, server, f"--root={root}", f"--port={port}", f"--latency={latency}"]


@contextlib.contextmanager
def latency_server(workdir: Path, latency: float, root: Path = DOCS_ROOT) -> Iterator[Served]:
    """The slow documentation server on a free port, in its own process."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = latency_command(port, latency, root)
    with _serve(command, f"http://127.0.0.1:{port}/", workdir / "latency-server.out") as url:
        yield Served(url)


def sample_command(
    port: int | str, *, pages: int, links: int, page_bytes: int, latency: float, fanout: int = 2
) -> list[str]:
    """``spindle serve-sample`` with the given shape."""
    return [
        str(tools.SPINDLE_PYTHON),
        "-m",
        "spindle",
        "serve-sample",
        f"--port={port}",
        f"--pages={pages}",
        f"--links={links}",
        f"--page-bytes={page_bytes}",
        f"--latency={latency}",
        *([f"--fanout={fanout}"] if fanout != 2 else []),
    ]


@contextlib.contextmanager
def sample_server(
    workdir: Path, *, pages: int, links: int, page_bytes: int, latency: float, fanout: int = 2
) -> Iterator[Served]:
    """The sample site on a free port, in its own process."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = sample_command(
        port, pages=pages, links=links, page_bytes=page_bytes, latency=latency, fanout=fanout
    )
    with _serve(command, f"http://127.0.0.1:{port}/", workdir / "sample-server.out") as url:
        yield Served(url)


def broad_command(
    port: int | str, site: BroadSite, latency: float, log: Path, seeds: Path
) -> list[str]:
    """``bench/broad_server.py`` (stdlib only) serving ``site``'s hosts on ``port``."""
    return [
        sys.executable,
        str(_BENCH_DIR / "broad_server.py"),
        f"--port={port}",
        f"--hosts={site.hosts}",
        f"--largest={site.largest}",
        f"--exponent={site.exponent:g}",
        f"--latency={latency:g}",
        f"--log={log}",
        f"--seeds={seeds}",
    ]


@contextlib.contextmanager
def broad_server(workdir: Path, site: BroadSite, latency: float) -> Iterator[Served]:
    """The broad site on a port free on its first address, in its own process; its arrival
    log and seeds file in ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port(address(0))
    log, seeds = workdir / "arrivals.log", workdir / "seeds.txt"
    seeds.unlink(missing_ok=True)
    command = broad_command(port, site, latency, log, seeds)
    home = f"http://{address(site.hosts - 1)}:{port}/"
    with _serve(command, home, workdir / "broad-server.out", ready_file=seeds):
        yield Served(f"http://{address(0)}:{port}/", seeds, log)
