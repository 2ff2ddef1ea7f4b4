"""``spindle crawl``'s HTTP controls: extra headers, accepted types, cookies, credentials,
proxies and TLS, read from the command line and the environment into one value.

Each option is checked before anything is fetched or written; a problem is one line naming
the option (or the environment variable) and, for headers and credentials, never the value,
which may be a secret. What each option means is decided in the modules that apply it to
every request, in both engines:

* ``--accept-type TYPE`` (repeatable, or comma-separated): :mod:`.engines.accept`;
* ``-H/--header 'Name: value'`` (repeatable): :mod:`.engines.request` lists the headers that
  cannot be given and why (``Authorization``, ``Cookie`` and ``User-Agent`` have options of
  their own); ``Accept`` replaces Spindle's; a header needs a value;
* ``--cookies FILE``: :mod:`.engines.cookies`; without it no cookie is sent or kept, so a crawl
  that should keep the cookies servers set, with none to start from, gives an empty file
  (``--cookies /dev/null``), as curl's ``-b`` turns its cookie engine on;
* ``--auth HOST USER:PASSWORD`` (repeatable): HTTP Basic credentials for one origin
  (``https://intranet.test:8443``); a bare ``host[:port]`` means that host over http and
  https alike (with the port, when given, for both). The password is everything after the
  first ``:``. They join the credentials of the seed URLs (the same origin given two
  different credentials is refused) and go to that origin only;
* ``--proxy URL``, ``--no-proxy LIST`` and the proxy variables: :mod:`.engines.proxy`;
* ``--ca-file FILE`` (else ``SSL_CERT_FILE``, as curl reads it) and ``--insecure``:
  :mod:`.engines.tls`. ``--insecure`` ignores ``SSL_CERT_FILE``; with ``--ca-file`` it is a
  contradiction. The command warns on stderr, once, when a crawl starts insecure.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Final

from spindle.crawl.engines.accept import check_accept_types
from spindle.crawl.engines.cookies import CookieFileError, CookieJar, read_cookies_file
from spindle.crawl.engines.credentials import Credentials
from spindle.crawl.engines.proxy import ProxyConfigError, ProxyRules
from spindle.crawl.engines.request import check_header, origin
from spindle.crawl.engines.tls import client_context

__all__ = [
    "INSECURE_WARNING",
    "HttpOptionError",
    "HttpOptions",
    "read_http_options",
]

INSECURE_WARNING: Final = (
    "spindle crawl: warning: --insecure: TLS certificates are not checked, "
    "so any server can pose as the hosts crawled"
)


class HttpOptionError(ValueError):
    """An HTTP control that cannot be used; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class HttpOptions:
    """The HTTP controls of a crawl, checked (see the module docstring).

    ``credentials`` are those of ``--auth``, by origin; the command merges them with the
    seeds' (:meth:`with_seed_credentials`). The other fields go to
    :class:`~spindle.crawl.engines.request.FetchSettings` as they are.
    """

    headers: Mapping[str, str] = field(default_factory=dict)
    accept_types: tuple[str, ...] = ()
    cookies: CookieJar | None = None
    proxies: ProxyRules = field(default_factory=ProxyRules)
    ca_file: str | None = None
    verify: bool = True
    credentials: Mapping[str, Credentials] = field(default_factory=dict)

    def with_seed_credentials(self, seeds: Mapping[str, Credentials]) -> dict[str, Credentials]:
        """``--auth``'s credentials and those of the seed URLs, by origin.

        Raises:
            HttpOptionError: one origin is given two different sets of credentials.
        """
        merged = dict(self.credentials)
        for key, login in seeds.items():
            normal = origin(key)
            if merged.setdefault(normal, login) != login:
                raise HttpOptionError(f"--auth: {normal} is given other credentials in a seed URL")
        return merged


def read_http_options(
    *,
    headers: Sequence[str] = (),
    accept_types: Sequence[str] = (),
    cookies_file: Path | None = None,
    auth: Sequence[tuple[str, str]] = (),
    proxy: str | None = None,
    no_proxy: str | None = None,
    ca_file: Path | None = None,
    insecure: bool = False,
    environ: Mapping[str, str] | None = None,
) -> HttpOptions:
    """Check the options as given on the command line; ``environ`` is ``os.environ`` unless
    given (proxy variables, ``SSL_CERT_FILE``).

    Raises:
        HttpOptionError: naming the option and the problem.
    """
    env = os.environ if environ is None else environ
    try:
        types = check_accept_types(
            part for given in accept_types for part in given.split(",") if part.strip()
        )
    except ValueError as exc:
        raise HttpOptionError(f"--accept-type: {exc}") from None
    cookies = None
    if cookies_file is not None:
        try:
            cookies = read_cookies_file(cookies_file)
        except CookieFileError as exc:
            raise HttpOptionError(f"--cookies: {exc}") from None
    try:
        proxies = ProxyRules.from_environment(env, proxy=proxy, no_proxy=no_proxy)
    except ProxyConfigError as exc:
        raise HttpOptionError(str(exc)) from None
    return HttpOptions(
        headers=_headers(headers),
        accept_types=types,
        cookies=cookies,
        proxies=proxies,
        ca_file=_ca_file(ca_file, insecure, env),
        verify=not insecure,
        credentials=_credentials(auth),
    )


def _headers(lines: Iterable[str]) -> Mapping[str, str]:
    found: dict[str, str] = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon:
            raise HttpOptionError("-H: expected 'Name: value', found no ':'")
        value = value.strip(" \t")
        try:
            check_header(name, value)
        except ValueError as exc:
            raise HttpOptionError(f"-H: {exc}") from None
        if not value:
            raise HttpOptionError(
                f"-H: {name!r} needs a value (Spindle's own headers cannot be removed)"
            )
        if name.lower() in (known.lower() for known in found):
            raise HttpOptionError(f"-H: {name!r} is given twice")
        found[name] = value
    return MappingProxyType(found)


def _credentials(pairs: Iterable[tuple[str, str]]) -> Mapping[str, Credentials]:
    found: dict[str, Credentials] = {}
    for host, login in pairs:
        user, colon, password = login.partition(":")
        if not colon:
            raise HttpOptionError(f"--auth {host}: expected USER:PASSWORD after the host")
        try:
            credentials = Credentials(user, password)
        except ValueError as exc:
            raise HttpOptionError(f"--auth {host}: {exc}") from None
        for key in _origins(host):
            if found.setdefault(key, credentials) != credentials:
                raise HttpOptionError(f"--auth: {key} is given twice")
    return MappingProxyType(found)


def _origins(host: str) -> list[str]:
    """The origins ``--auth HOST`` names: one for ``scheme://host[:port]``, two (http and
    https) for a bare ``host[:port]``."""
    written = host.strip()
    urls = [written] if "://" in written else [f"http://{written}", f"https://{written}"]
    problem = f"--auth {host}: not an origin (scheme://host[:port]) or a host[:port]"
    keys: list[str] = []
    for url in urls:
        rest = url.partition("://")[2]
        if not rest or any(mark in rest for mark in "/?#@"):
            raise HttpOptionError(problem)
        try:
            keys.append(origin(url))
        except ValueError:
            raise HttpOptionError(problem) from None
    return keys


def _ca_file(given: Path | None, insecure: bool, environ: Mapping[str, str]) -> str | None:
    if given is not None and insecure:
        raise HttpOptionError("--ca-file and --insecure contradict each other")
    if insecure:
        return None
    source, path = "--ca-file", None if given is None else str(given)
    if path is None and environ.get("SSL_CERT_FILE", "").strip():
        source, path = "SSL_CERT_FILE", environ["SSL_CERT_FILE"]
    if path is None:
        return None
    try:
        client_context(ca_file=path, verify=True)
    except ssl.SSLError:  # an OSError too: first
        raise HttpOptionError(f"{source}: {path} holds no PEM certificate") from None
    except OSError as exc:
        raise HttpOptionError(f"{source}: cannot read {path}: {exc.strerror}") from None
    return path
