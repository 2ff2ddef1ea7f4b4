"""A test certificate authority, made at test time with the ``openssl`` command line tool.

:func:`make_pki` writes a self-signed CA and a server certificate it signed, for
``127.0.0.1`` and ``localhost``, both valid for two days, into a directory. A client that
trusts the CA (``ca_file``) can verify a :class:`~tests.support.faultserver.FaultServer`
started with :meth:`TestPKI.server_context`; one that does not must fail the handshake.
Elliptic-curve keys keep the whole thing under a tenth of a second.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TestPKI", "make_pki"]

_CONFIG = """\
[req]
distinguished_name = dn
prompt = no

[dn]
CN = unused

[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""

_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


@dataclass(frozen=True)
class TestPKI:
    """The files of a test CA: its certificate (what a client trusts), and a server's
    certificate and key."""

    __test__ = False  # not a test class, whatever its name

    ca: Path
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        """A server-side TLS context presenting the server certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


def make_pki(directory: Path) -> TestPKI:
    """Write a CA and a server certificate signed by it into ``directory``.

    Raises:
        RuntimeError: ``openssl`` is missing or failed (its message included).
    """
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("the tests need the openssl command (apt-get install openssl)")
    config = directory / "openssl.cnf"
    config.write_text(_CONFIG)
    ca, ca_key = directory / "ca.pem", directory / "ca.key"
    cert, key = directory / "server.pem", directory / "server.key"
    request = directory / "server.csr"
    steps: list[list[object]] = [
        ["req", "-x509", *_KEY, "-keyout", ca_key, "-out", ca, "-days", "2",
         "-subj", "/CN=Spindle test CA", "-config", config, "-extensions", "ca"],
        ["req", "-new", *_KEY, "-keyout", key, "-out", request,
         "-subj", "/CN=127.0.0.1", "-config", config],
        ["x509", "-req", "-in", request, "-CA", ca, "-CAkey", ca_key, "-set_serial", "2",
         "-out", cert, "-days", "2", "-extfile", config, "-extensions", "server"],
    ]  # fmt: skip
    for step in steps:
        done = subprocess.run(
            [openssl, *map(str, step)], capture_output=True, timeout=60, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"openssl {step[0]} failed: {done.stderr.decode(errors='replace')}")
    return TestPKI(ca, cert, key)
