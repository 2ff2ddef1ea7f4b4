"""The HTTP controls end to end: ``spindle crawl`` subprocesses, on both engines, against a
fault server (plain and TLS) and a forward proxy on 127.0.0.1. Each test checks what the
servers saw, what the records say, and that no credential or cookie value reaches any file
the crawl wrote, its stdout or its stderr."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from spindle.crawl.http_options import INSECURE_WARNING
from tests.crawl.e2e import read_jsonl, run_spindle
from tests.support.faultserver import FaultServer, Handler, Reply, Request, endless, page, raw
from tests.support.proxyserver import ProxyServer
from tests.support.tls import TestPKI

PASSWORD = "pa55-w0rd-9f3k"
TOKEN = base64.b64encode(f"ann:{PASSWORD}".encode()).decode()
SERVER_COOKIE = "srv-7d1c0a93e5b24f68"
FILE_COOKIE = "file-3b9e2c41d07a5f86"
SECURE_COOKIE = "tls-only-8c2e4a1f"
EXPIRED_COOKIE = "expired-5f1a60c2"
PROXY_PASSWORD = "pr0xy-9e8d7c6b"
PROXY_TOKEN = base64.b64encode(f"pat:{PROXY_PASSWORD}".encode()).decode()
QUICK = ["--rate", "0", "--timeout", "10", "--summary-json"]


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


def _with_headers(handler: Handler, **headers: str) -> Handler:
    def handle(request: Request) -> Reply:
        reply = handler(request)
        assert isinstance(reply, Reply)
        reply.headers.update({k.replace("_", "-"): v for k, v in headers.items()})
        return reply

    return handle


def _everything_written(
    directory: Path, result: subprocess.CompletedProcess[bytes], *, but: Path | None = None
) -> bytes:
    """Every file the crawl left in ``directory`` (records, skips, state and its journals),
    its stdout and its stderr."""
    files = [p for p in sorted(directory.rglob("*")) if p.is_file() and p != but]
    assert any(p.name.endswith(".state") for p in files)
    return b"".join(p.read_bytes() for p in files) + result.stdout + result.stderr


def _by_host_and_path(server: FaultServer) -> dict[tuple[str, str], dict[str, str | None]]:
    names = ("Cookie", "Authorization", "X-Trace", "Accept")
    return {
        (entry.headers["Host"], entry.path): {name: entry.headers[name] for name in names}
        for entry in server.log
    }


def test_headers_cookies_and_credentials_go_only_where_they_belong(
    server: FaultServer, engine: str, tmp_path: Path
) -> None:
    other = server.url("/other", host="localhost")
    home = page("/next", other, title="home")
    server.route("/", _with_headers(home, Set_Cookie=f"session={SERVER_COOKIE}; Path=/"))
    server.route("/next", page())
    server.route("/other", page())
    cookies = tmp_path / "cookies.txt"
    cookies.write_text(
        "# Netscape HTTP Cookie File\n"
        f"127.0.0.1\tFALSE\t/\tFALSE\t0\tpref\t{FILE_COOKIE}\n"
        f"#HttpOnly_127.0.0.1\tFALSE\t/\tTRUE\t0\tsafe\t{SECURE_COOKIE}\n"
        f"127.0.0.1\tFALSE\t/\tFALSE\t1000\told\t{EXPIRED_COOKIE}\n"
    )
    run = tmp_path / "run"
    run.mkdir()
    out = run / "out.jsonl"
    result = run_spindle(
        "crawl",
        server.url("/"),
        "--engine",
        engine,
        "--scope",
        "any",
        "--depth",
        "1",
        *QUICK,
        "--out",
        str(out),
        "--skips",
        str(run / "skips.jsonl"),
        "--cookies",
        str(cookies),
        "--auth",
        server.url(""),
        f"ann:{PASSWORD}",
        "-H",
        "X-Trace: e2e",
        "--header",
        "Accept: text/html",
    )
    assert result.returncode == 0, result.stderr.decode()
    local, named = f"127.0.0.1:{server.port}", f"localhost:{server.port}"
    mine = {"Authorization": f"Basic {TOKEN}", "X-Trace": "e2e", "Accept": "text/html"}
    theirs = {"Authorization": None, "X-Trace": "e2e", "Accept": "text/html", "Cookie": None}
    assert _by_host_and_path(server) == {
        (local, "/robots.txt"): {**mine, "Cookie": f"pref={FILE_COOKIE}"},
        (local, "/"): {**mine, "Cookie": f"pref={FILE_COOKIE}"},
        (local, "/next"): {**mine, "Cookie": f"pref={FILE_COOKIE}; session={SERVER_COOKIE}"},
        (named, "/robots.txt"): theirs,
        (named, "/other"): theirs,
    }
    assert all(entry.headers["Proxy-Authorization"] is None for entry in server.log)
    assert sorted(record["status"] for record in read_jsonl(out)) == [200, 200, 200]
    written = _everything_written(run, result)
    for secret in (PASSWORD, TOKEN, f"ann:{PASSWORD}", SERVER_COOKIE, FILE_COOKIE):
        assert secret.encode() not in written, secret
    for secret in (SECURE_COOKIE, EXPIRED_COOKIE):  # never even sent
        assert secret.encode() not in written, secret


def test_the_proxy_environment_no_proxy_and_the_options_over_it(
    server: FaultServer, engine: str, tmp_path: Path
) -> None:
    server.route("/", page("/via", server.url("/direct")))
    server.route("/via", page())
    server.route("/direct", page())
    seed = server.url("/", host="localhost")
    with ProxyServer(credentials=("pat", PROXY_PASSWORD)) as proxy:
        with ProxyServer() as gone:
            dead = gone.url()
        environ = {
            "HTTP_PROXY": proxy.url(credentials=f"pat:{PROXY_PASSWORD}"),
            "no_proxy": "127.0.0.1",
        }
        args = ["crawl", seed, "--engine", engine, "--scope", "any", "--depth", "1", *QUICK]
        first = run_spindle(*args, "--out", str(tmp_path / "a.jsonl"), env=environ)
        assert first.returncode == 0, first.stderr.decode()
        via = f"http://localhost:{server.port}"
        assert sorted(proxy.targets()) == [
            ("GET", f"{via}/"),
            ("GET", f"{via}/robots.txt"),
            ("GET", f"{via}/via"),
        ]
        assert {entry.proxy_authorization for entry in proxy.log} == {f"Basic {PROXY_TOKEN}"}
        assert sorted(e.path for e in server.log if e.headers["Host"].startswith("127.")) == [
            "/direct",
            "/robots.txt",
        ]
        # --proxy replaces the environment's proxy, --no-proxy '' its NO_PROXY.
        proxy.log.clear()
        overridden = run_spindle(
            *args,
            "--proxy",
            proxy.url(credentials=f"pat:{PROXY_PASSWORD}"),
            "--no-proxy",
            "",
            "--out",
            str(tmp_path / "b.jsonl"),
            env={**environ, "HTTP_PROXY": dead},
        )
        assert overridden.returncode == 0, overridden.stderr.decode()
        assert sorted(target for _, target in proxy.targets()) == [
            f"{server.url('/direct')}",
            f"{server.url('/robots.txt')}",
            f"{via}/",
            f"{via}/robots.txt",
            f"{via}/via",
        ]
    assert all(entry.headers["Proxy-Authorization"] is None for entry in server.log)
    for result in (first, overridden):
        written = _everything_written(tmp_path, result)
        for secret in (PROXY_PASSWORD, PROXY_TOKEN):
            assert secret.encode() not in written


@pytest.fixture
def secure(pki: TestPKI) -> Iterator[FaultServer]:
    with FaultServer(tls=pki.server_context()) as srv:
        srv.route("/", page(title="secure"))
        yield srv


def test_tls_without_the_ca_with_it_and_insecure(
    secure: FaultServer, pki: TestPKI, engine: str, tmp_path: Path
) -> None:
    args = ["crawl", secure.url("/"), "--engine", engine, "--depth", "0", "--ignore-robots"]
    args += ["--retries", "0", "--rate", "0", "--quiet"]

    def crawl(name: str, *more: str, env: dict[str, str] | None = None) -> dict[str, object]:
        out = tmp_path / f"{name}.jsonl"
        result = run_spindle(*args, *more, "--out", str(out), env=env)
        (record,) = read_jsonl(out)
        record["exit"] = result.returncode
        record["stderr"] = result.stderr.decode()
        return record

    untrusted = crawl("untrusted")
    assert (untrusted["exit"], untrusted["status"], untrusted["stderr"]) == (1, None, "")
    assert untrusted["error"]["kind"] == "tls"  # type: ignore[index]
    for trusted in (
        crawl("ca-file", "--ca-file", str(pki.ca)),
        crawl("ssl-cert-file", env={"SSL_CERT_FILE": str(pki.ca)}),
    ):
        assert (trusted["exit"], trusted["status"], trusted["title"]) == (0, 200, "secure")
        assert trusted["stderr"] == ""
    insecure = crawl("insecure", "--insecure")
    assert (insecure["exit"], insecure["status"]) == (0, 200)
    assert insecure["stderr"] == INSECURE_WARNING + "\n"
    assert secure.wait_for_tls_failures(1) == 1  # the untrusted crawl's only handshake


def test_accept_type_records_other_types_without_their_bodies(
    server: FaultServer, engine: str, tmp_path: Path
) -> None:
    server.route("/", page("/doc", "/big.bin", "/pic.png"))
    server.route("/doc", page(title="doc"))
    server.route("/big.bin", _with_headers(endless(), Content_Type="application/octet-stream"))
    server.route("/pic.png", raw(200, {"Content-Type": "image/png"}, b"\x89PNG" + bytes(500)))
    out = tmp_path / "out.jsonl"
    result = run_spindle(
        "crawl",
        server.url("/"),
        "--engine",
        engine,
        "--depth",
        "1",
        "--accept-type",
        "text/*",
        *QUICK,
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr.decode()
    records = {record["url"]: record for record in read_jsonl(out)}
    fields = ("status", "content_type", "bytes", "truncated", "sha1", "error", "links")
    for path, content_type in (("/big.bin", "application/octet-stream"), ("/pic.png", "image/png")):
        skipped = records[server.url(path)]
        assert tuple(skipped[f] for f in fields) == (200, content_type, 0, False, None, None, 0)
    doc = records[server.url("/doc")]
    assert (doc["title"], doc["bytes"] > 0, doc["sha1"] is not None) == ("doc", True, True)
    assert server.count("/big.bin") == 1
    assert server.wait_for_stream("/big.bin") < 64 * 1024 * 1024  # not read: the crawl hung up


SECRET = "s3cr3t-v4lue-77"


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--cookies", "/nonexistent/cookies.txt"], {}, "--cookies: cannot read"),
        (["-H", f"Authorization: Bearer {SECRET}"], {}, "-H: 'Authorization' cannot be given"),
        (["-H", f"X-Key {SECRET}"], {}, "-H: expected 'Name: value'"),
        (["--auth", "a.test", SECRET], {}, "--auth a.test: expected USER:PASSWORD"),
        (["--proxy", f"socks5://u:{SECRET}@p.test"], {}, "only http:// proxies are supported"),
        ([], {"HTTPS_PROXY": f"socks5://u:{SECRET}@p.test"}, "HTTPS_PROXY: 'socks5://***@"),
        (["--no-proxy", "a b"], {}, "--no-proxy: 'a b' is not a host"),
        (["--ca-file", "/nonexistent/ca.pem"], {}, "--ca-file: cannot read"),
        ([], {"SSL_CERT_FILE": "/nonexistent/ca.pem"}, "SSL_CERT_FILE: cannot read"),
        (["--ca-file", "/dev/null", "--insecure"], {}, "contradict each other"),
        (["--accept-type", "text/html;q=1"], {}, "--accept-type: 'text/html;q=1' is not"),
    ],
)
def test_bad_http_options_exit_2_with_one_line(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    out = tmp_path / "out.jsonl"
    result = run_spindle("crawl", "http://127.0.0.1:9/", *args, "--out", str(out), env=env)
    err = result.stderr.decode()
    assert result.returncode == 2, err
    assert err.startswith("spindle crawl: error: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert SECRET not in err
    assert list(tmp_path.iterdir()) == []  # nothing touched


def test_a_malformed_cookies_file_exits_2_naming_its_line(tmp_path: Path) -> None:
    cookies = tmp_path / "cookies.txt"
    cookies.write_text(f"127.0.0.1\tFALSE\t/\tFALSE\t0\tsid\t{SECRET}\nnot a cookie line\n")
    result = run_spindle("crawl", "http://127.0.0.1:9/", "--cookies", str(cookies), "--out", "-")
    assert result.returncode == 2
    assert result.stderr.decode() == (
        f"spindle crawl: error: --cookies: {cookies}:2: expected 7 tab-separated fields "
        "(domain, subdomains, path, secure, expiry, name, value), found 1\n"
    )
