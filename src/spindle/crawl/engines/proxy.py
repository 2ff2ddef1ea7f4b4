"""Which proxy a request goes through: one decision, :meth:`ProxyRules.proxy_for`, for both
engines, configured the way curl reads its options and environment.

Where the proxies come from (:meth:`ProxyRules.from_environment`):

* ``--proxy URL`` is the proxy for http and https URLs alike, and the environment's proxy
  variables are not read; ``--proxy ''`` means no proxy at all.
* Otherwise http URLs use ``http_proxy``, else ``HTTP_PROXY``, and https URLs ``https_proxy``,
  else ``HTTPS_PROXY`` (lower case first; an empty value counts as unset). ``HTTP_PROXY`` is
  not read when ``REQUEST_METHOD`` is set: a program run as CGI would find a request's
  ``Proxy:`` header there ("httpoxy"); curl never reads it for that reason, and Python's
  urllib skips it under CGI, as we do. ``ALL_PROXY`` and SOCKS are not supported.
* A proxy is ``http://[user:password@]host[:port]``; without a scheme it is ``http://``;
  without a port, 1080 (curl's default). Percent-escapes in the user and password are
  decoded; they become a ``Proxy-Authorization: Basic`` header, and never show in a message.
  An https or SOCKS proxy, or a URL that is not a proxy, is refused: a crawl that cannot use
  the proxy it was given stops before it starts rather than going direct.

Which hosts go direct (``--no-proxy LIST``, else ``no_proxy``, else ``NO_PROXY``; the list
applies to every proxy, ``--proxy`` included, as in curl): a comma-separated list, white space
around entries ignored, case ignored, each entry one of

* ``*``: every host;
* an IP address or a network (``10.0.0.0/8``, ``::1``, ``[fe80::]/10``): URLs whose host is
  written as an address inside it (names are never resolved to be compared);
* a host name, with or without a leading ``.`` (or ``*.``): that host and every host under it
  (``example.com`` and ``.example.com`` both match ``example.com`` and ``www.example.com``,
  never ``myexample.com``);
* a host name or an address followed by ``:PORT`` (``[::1]:8080`` for IPv6): the same, but
  only for URLs on that port (the URL's port, or its scheme's default).

Entries that are none of these are ignored when they come from the environment, as curl
ignores them; ``--no-proxy`` refuses them. Going through a proxy, an http URL is requested in
absolute form (``GET http://host/path``) and an https URL through a ``CONNECT`` tunnel.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import unquote, urlsplit

from spindle.crawl.engines.credentials import Credentials

__all__ = [
    "DEFAULT_PROXY_PORT",
    "Bypass",
    "Proxy",
    "ProxyConfigError",
    "ProxyRules",
    "TunnelRefused",
]

DEFAULT_PROXY_PORT: Final = 1080
"""The port of a proxy URL without one, as curl assumes."""

_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_NAME: Final = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*")
_PORT: Final = re.compile(r"(.*):([0-9]{1,5})")
_CONTROL: Final = re.compile(r"[\x00-\x20\x7f]")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ProxyConfigError(ValueError):
    """A proxy setting that cannot be used; the message names its source, never a password."""


class TunnelRefused(OSError):
    """The proxy answered ``CONNECT`` with another status than 200; both engines turn their
    library's error into this one, so the failure reads the same (``407 Proxy
    Authentication Required``)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}".strip())
        self.status = status


@dataclass(frozen=True, slots=True)
class Proxy:
    """An HTTP proxy: its URL (``http://host:port``, no credentials) and its credentials.

    >>> Proxy("http://proxy.test:3128", Credentials("bob", "hunter2"))
    Proxy(url='http://proxy.test:3128', credentials=Credentials(user='bob'))
    >>> Proxy("http://proxy.test:3128", Credentials("bob", "hunter2")).authorization
    'Basic Ym9iOmh1bnRlcjI='
    """

    url: str
    credentials: Credentials | None = None

    @property
    def authorization(self) -> str | None:
        """The ``Proxy-Authorization`` value, or None without credentials."""
        return None if self.credentials is None else self.credentials.authorization

    @classmethod
    def parse(cls, text: str, *, source: str) -> Proxy:
        """Read a proxy URL (see the module docstring); ``source`` names it in errors.

        >>> Proxy.parse("Proxy.test", source="--proxy")
        Proxy(url='http://proxy.test:1080', credentials=None)
        >>> Proxy.parse("http://a%40b:p%3Aw@[::1]:3128/", source="--proxy").credentials.password
        'p:w'

        Raises:
            ProxyConfigError: not an http proxy URL.
        """
        shown = _masked(text)
        if _CONTROL.search(text.strip()):
            raise ProxyConfigError(f"{source}: {shown!r} is not a proxy URL")
        written = text.strip()
        if "://" not in written:
            written = "http://" + written
        try:
            parts = urlsplit(written)
            port = parts.port
            host = parts.hostname
        except ValueError:
            raise ProxyConfigError(f"{source}: {shown!r} is not a proxy URL") from None
        if parts.scheme.lower() != "http":
            raise ProxyConfigError(
                f"{source}: {shown!r}: only http:// proxies are supported, "
                f"not {parts.scheme.lower()}://"
            )
        if not host or port == 0 or parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ProxyConfigError(f"{source}: {shown!r} is not a proxy URL (http://host:port)")
        credentials = None
        if parts.username is not None:
            try:
                credentials = Credentials(unquote(parts.username), unquote(parts.password or ""))
            except ValueError as exc:
                raise ProxyConfigError(f"{source}: {shown!r}: {exc}") from None
        if ":" in host:
            host = f"[{host}]"
        return cls(f"http://{host}:{DEFAULT_PROXY_PORT if port is None else port}", credentials)


@dataclass(frozen=True, slots=True)
class Bypass:
    """One ``NO_PROXY`` entry: every host, a network, or a host name and the hosts under it;
    with a port, only URLs on that port."""

    everything: bool = False
    network: Network | None = None
    domain: str | None = None
    port: int | None = None

    def matches(self, host: str, port: int) -> bool:
        """Whether a URL on ``host`` (lower case, IPv6 without brackets) and ``port`` goes
        direct."""
        if self.everything:
            return True
        if self.port is not None and self.port != port:
            return False
        if self.network is not None:
            try:
                return ipaddress.ip_address(host) in self.network
            except ValueError:
                return False
        assert self.domain is not None
        return host == self.domain or host.endswith("." + self.domain)

    @classmethod
    def parse(cls, entry: str) -> Bypass | None:
        """Read one entry (module docstring); None when it is none of the allowed forms.

        >>> Bypass.parse(".Example.com:8080")
        Bypass(everything=False, network=None, domain='example.com', port=8080)
        >>> Bypass.parse("10.0.0.0/8").network
        IPv4Network('10.0.0.0/8')
        >>> Bypass.parse("a b") is None
        True
        """
        text = entry.strip().lower()
        if text == "*":
            return cls(everything=True)
        port = None
        if (match := _PORT.fullmatch(text)) and (
            ":" not in match.group(1) or match.group(1).endswith("]")
        ):
            text, port = match.group(1), int(match.group(2))
            if not 0 < port < 65536:
                return None
        network = _network(text)
        if network is not None:
            return cls(network=network, port=port)
        name = text.removeprefix("*.").removeprefix(".").removesuffix(".")
        if not _NAME.fullmatch(name):
            return None
        return cls(domain=name, port=port)


@dataclass(frozen=True, slots=True)
class ProxyRules:
    """The proxy for http URLs, the proxy for https URLs, and the hosts that go direct.

    The default is no proxy at all. See the module docstring for the rules.

    >>> rules = ProxyRules.from_environment(
    ...     {"https_proxy": "proxy.test:3128", "NO_PROXY": ".internal.test, 10.0.0.0/8"}
    ... )
    >>> rules.proxy_for("https://example.com/"), rules.proxy_for("http://example.com/")
    (Proxy(url='http://proxy.test:3128', credentials=None), None)
    >>> rules.proxy_for("https://wiki.internal.test/"), rules.proxy_for("https://10.1.2.3/")
    (None, None)
    """

    http: Proxy | None = None
    https: Proxy | None = None
    bypass: tuple[Bypass, ...] = field(default=())

    def proxy_for(self, url: str) -> Proxy | None:
        """The proxy to send a request for ``url`` through, or None to go direct.

        Raises:
            ValueError: ``url`` has a bad port.
        """
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        proxy = self.http if scheme == "http" else self.https if scheme == "https" else None
        if proxy is None:
            return None
        host = (parts.hostname or "").removesuffix(".")
        port = parts.port or _DEFAULT_PORTS[scheme]
        if any(bypass.matches(host, port) for bypass in self.bypass):
            return None
        return proxy

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every form of every proxy password (see :attr:`Credentials.secrets`)."""
        found: list[str] = []
        for proxy in (self.http, self.https):
            if proxy is not None and proxy.credentials is not None:
                found += proxy.credentials.secrets
        return tuple(found)

    @classmethod
    def from_environment(
        cls,
        environ: Mapping[str, str],
        *,
        proxy: str | None = None,
        no_proxy: str | None = None,
    ) -> ProxyRules:
        """The rules for ``environ`` and the ``--proxy`` / ``--no-proxy`` values (None when
        the option was not given), as the module docstring says.

        Raises:
            ProxyConfigError: a proxy URL that cannot be used, or a ``--no-proxy`` entry that
                is none of the allowed forms.
        """
        if proxy is not None:
            given = Proxy.parse(proxy, source="--proxy") if proxy.strip() else None
            http = https = given
        else:
            http = _from_variables(environ, ("http_proxy", *_upper_http_proxy(environ)))
            https = _from_variables(environ, ("https_proxy", "HTTPS_PROXY"))
        if no_proxy is not None:
            bypass = _bypass_list(no_proxy, strict=True)
        else:
            listed = _variable(environ, ("no_proxy", "NO_PROXY"))
            bypass = _bypass_list(listed[1], strict=False) if listed else ()
        return cls(http, https, bypass)


def _upper_http_proxy(environ: Mapping[str, str]) -> tuple[str, ...]:
    return () if "REQUEST_METHOD" in environ else ("HTTP_PROXY",)


def _variable(environ: Mapping[str, str], names: tuple[str, ...]) -> tuple[str, str] | None:
    for name in names:
        value = environ.get(name, "")
        if value.strip():
            return name, value
    return None


def _from_variables(environ: Mapping[str, str], names: tuple[str, ...]) -> Proxy | None:
    found = _variable(environ, names)
    return None if found is None else Proxy.parse(found[1], source=found[0])


def _bypass_list(text: str, *, strict: bool) -> tuple[Bypass, ...]:
    entries: list[Bypass] = []
    for raw in text.split(","):
        if not raw.strip():
            continue
        entry = Bypass.parse(raw)
        if entry is None:
            if strict:
                raise ProxyConfigError(
                    f"--no-proxy: {raw.strip()!r} is not a host, domain, IP address or network"
                )
            continue
        entries.append(entry)
    return tuple(entries)


def _network(text: str) -> Network | None:
    address, slash, prefix = text.partition("/")
    if address.startswith("[") and address.endswith("]"):
        address = address[1:-1]
    try:
        ipaddress.ip_address(address)
        return ipaddress.ip_network(address + slash + prefix, strict=False)
    except ValueError:
        return None


def _masked(text: str) -> str:
    head, at, tail = text.rpartition("@")
    if not at:
        return text
    scheme, sep, _ = head.partition("://")
    return f"{scheme}{sep}***@{tail}" if sep else f"***@{tail}"
