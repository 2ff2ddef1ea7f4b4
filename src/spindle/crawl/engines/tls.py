"""The TLS settings both fetchers use: one :class:`ssl.SSLContext`, made by one function.

Both engines are handed the same context, so they trust the same certificates and fail the
same way: with ``ca_file`` only the certificates of that PEM bundle are trusted (the system's
store is not read, as curl's ``--cacert`` replaces its bundle); without it, the system's
store (which OpenSSL also lets ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` replace). With
``verify`` False no certificate and no host name is checked (``--insecure``): the connection
is encrypted but the server may be anyone.

A context is made once per process for each set of inputs and then shared: loading the
system's store takes about 0.1 s, which every fetcher (and every test's fetcher) would pay
again, and aiohttp shares its own default context for that reason. The inputs include the CA
file's size and modification time, and the two OpenSSL variables, so a changed file or
environment gets a new context. Nothing changes a context once made (urllib3 sets the same
ALPN and verification values on it for every connection).
"""

from __future__ import annotations

import functools
import os
import ssl

__all__ = ["client_context"]


def client_context(*, ca_file: str | None, verify: bool) -> ssl.SSLContext:
    """A client context (TLS 1.2 or newer, Python's secure defaults) for these settings.

    The first call for a set of inputs reads certificate files (about 0.1 s for the system
    store): the asyncio engine makes that call on a helper thread, never on its loop.

    Raises:
        OSError: ``ca_file`` cannot be read.
        ssl.SSLError: ``ca_file`` holds no certificate.
    """
    if ca_file is None:
        source: tuple[object, ...] = (
            os.environ.get("SSL_CERT_FILE"),
            os.environ.get("SSL_CERT_DIR"),
        )
    else:
        info = os.stat(ca_file)
        source = (info.st_ino, info.st_size, info.st_mtime_ns)
    return _made(ca_file, source, verify)


@functools.lru_cache(maxsize=16)
def _made(ca_file: str | None, source: tuple[object, ...], verify: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca_file)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
