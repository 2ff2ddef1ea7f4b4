"""TLS, the same in both engines: a server whose CA is not trusted fails as ``tls`` and sees
no request; trusting its CA (``ca_file``) or checking nothing (``verify=False``) succeeds."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from spindle.crawl.core.values import ErrorKind
from spindle.crawl.engines.request import FetchSettings
from spindle.crawl.engines.tls import client_context
from tests.crawl.engines.harness import ENGINES, fetch_once, make_fetch, summary
from tests.support.faultserver import FaultServer, text
from tests.support.tls import TestPKI


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def secure(pki: TestPKI) -> Iterator[FaultServer]:
    with FaultServer(tls=pki.server_context()) as srv:
        srv.route("/", text("secret garden"))
        yield srv


OK = ("response", 200, b"secret garden", False)


def test_an_untrusted_certificate_fails_as_tls(secure: FaultServer, engine: str) -> None:
    outcome = fetch_once(engine, FetchSettings("ua/1", timeout=5.0), make_fetch(secure.url("/")))
    assert summary(outcome) == ("failure", ErrorKind.TLS)
    assert "certificate verify failed" in outcome.message  # type: ignore[union-attr]
    assert (secure.wait_for_tls_failures(1), secure.log) == (1, [])


def test_the_ca_file_is_trusted(secure: FaultServer, pki: TestPKI, engine: str) -> None:
    settings = FetchSettings("ua/1", timeout=5.0, ca_file=str(pki.ca))
    assert summary(fetch_once(engine, settings, make_fetch(secure.url("/")))) == OK
    by_name = fetch_once(engine, settings, make_fetch(secure.url("/", host="localhost")))
    assert summary(by_name) == OK


def test_insecure_checks_nothing(secure: FaultServer, engine: str) -> None:
    settings = FetchSettings("ua/1", timeout=5.0, verify=False)
    assert summary(fetch_once(engine, settings, make_fetch(secure.url("/")))) == OK


def test_a_ca_file_replaces_the_system_store(pki: TestPKI) -> None:
    context = client_context(ca_file=str(pki.ca), verify=True)
    assert [cert["subject"] for cert in context.get_ca_certs()] == [
        ((("commonName", "Spindle test CA"),),)
    ]
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)


def test_contexts_are_made_once_per_inputs(pki: TestPKI, tmp_path: Path) -> None:
    first = client_context(ca_file=str(pki.ca), verify=True)
    assert client_context(ca_file=str(pki.ca), verify=True) is first
    assert client_context(ca_file=str(pki.ca), verify=False) is not first
    copy = tmp_path / "ca.pem"
    copy.write_bytes(pki.ca.read_bytes())
    assert client_context(ca_file=str(copy), verify=True) is not first


@pytest.mark.parametrize(
    ("content", "error"), [(None, FileNotFoundError), (b"not a certificate", ssl.SSLError)]
)
def test_an_unusable_ca_file_raises(
    tmp_path: Path, content: bytes | None, error: type[Exception]
) -> None:
    path = tmp_path / "ca.pem"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(error):
        client_context(ca_file=str(path), verify=True)
