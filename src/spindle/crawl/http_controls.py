"""``spindle crawl``'s HTTP options as click declares them, apart from the code that checks
them (:mod:`spindle.crawl.http_options`, which loads the engines' request modules), so that
``spindle crawl --help`` need not load it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import click

__all__ = ["http_controls"]

_OPTIONS: Final = (
    click.option(
        "--accept-type",
        "accept_types",
        multiple=True,
        metavar="TYPE",
        help="Download only bodies of this media type (repeatable or comma-separated; "
        "'text/*' works; robots.txt is always read). Other responses are recorded from "
        "their status and headers. [default: every type]",
    ),
    click.option(
        "-H",
        "--header",
        "headers",
        multiple=True,
        metavar="'NAME: VALUE'",
        help="Send this header with every request (repeatable). It may replace Accept, not "
        "Host, Cookie, Authorization, User-Agent, Accept-Encoding or connection headers.",
    ),
    click.option(
        "--cookies",
        "cookies_file",
        type=click.Path(path_type=Path, dir_okay=False),
        metavar="FILE",
        help="Send the cookies of this Netscape cookies.txt (as curl and wget write it) "
        "where they match, and keep those servers set, in memory only.",
    ),
    click.option(
        "--auth",
        nargs=2,
        multiple=True,
        metavar="HOST USER:PASSWORD",
        help="HTTP Basic credentials for scheme://host[:port], or a host[:port] over http "
        "and https (repeatable); sent there only, never written out.",
    ),
    click.option(
        "--proxy",
        metavar="URL",
        help="HTTP proxy for http and https URLs: http://[user:password@]host[:port] "
        "(port 1080 by default); '' for none. [default: $http_proxy, $https_proxy]",
    ),
    click.option(
        "--no-proxy",
        metavar="LIST",
        help="Hosts reached without the proxy, comma-separated: names (with the hosts under "
        "them), IP addresses, networks, NAME:PORT, or '*'. [default: $no_proxy]",
    ),
    click.option(
        "--ca-file",
        type=click.Path(path_type=Path, dir_okay=False),
        metavar="FILE",
        help="Trust the CA certificates of this PEM file instead of the system's. "
        "[default: $SSL_CERT_FILE]",
    ),
    click.option(
        "--insecure",
        is_flag=True,
        help="Check no TLS certificate: still encrypted, but to whoever answers.",
    ),
)


def http_controls(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the HTTP options to a click command; it receives them checked, as ``http``
    (:class:`~spindle.crawl.http_options.HttpOptions`). A problem is a usage error (exit code 2)."""

    @functools.wraps(command)
    def run(
        *args: Any,
        accept_types: tuple[str, ...],
        headers: tuple[str, ...],
        cookies_file: Path | None,
        auth: tuple[tuple[str, str], ...],
        proxy: str | None,
        no_proxy: str | None,
        ca_file: Path | None,
        insecure: bool,
        **kwargs: Any,
    ) -> Any:
        from spindle.crawl.http_options import HttpOptionError, read_http_options

        try:
            http = read_http_options(
                headers=headers,
                accept_types=accept_types,
                cookies_file=cookies_file,
                auth=auth,
                proxy=proxy,
                no_proxy=no_proxy,
                ca_file=ca_file,
                insecure=insecure,
            )
        except HttpOptionError as exc:
            raise click.UsageError(str(exc)) from exc
        return command(*args, http=http, **kwargs)

    for option in reversed(_OPTIONS):
        run = option(run)
    return run
