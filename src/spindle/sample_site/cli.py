"""``spindle serve-sample``: serve the generated site until Ctrl-C."""

from __future__ import annotations

import contextlib
import threading

import click

from spindle.sample_site.pages import SiteSpec

__all__ = ["serve_sample"]


@click.command("serve-sample")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--pages", default=300, show_default=True, type=click.IntRange(min=1))
@click.option("--links", default=10, show_default=True, type=click.IntRange(min=0))
@click.option("--page-bytes", default=6_000, show_default=True, type=click.IntRange(min=0))
@click.option(
    "--fanout",
    default=2,
    show_default=True,
    type=click.IntRange(min=1),
    help="Children of each page in the tree.",
)
@click.option(
    "--latency",
    default=0.0,
    show_default=True,
    type=click.FloatRange(min=0.0, max=60.0),
    help="Seconds to wait before each response.",
)
def serve_sample(
    port: int, pages: int, links: int, page_bytes: int, fanout: int, latency: float
) -> None:
    """Serve a generated sample site on 127.0.0.1 (Ctrl-C stops it)."""
    from spindle.sample_site.server import serve_in_thread  # aiohttp: only when serving

    spec = SiteSpec(pages=pages, links_per_page=links, page_bytes=page_bytes, fanout=fanout)
    with contextlib.ExitStack() as stack:
        try:
            site = stack.enter_context(serve_in_thread(spec, latency=latency, port=port))
        except OSError as exc:
            raise click.UsageError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from exc
        click.echo(f"Serving {pages} pages at {site.base_url}/ (Ctrl-C to stop)", err=True)
        try:
            threading.Event().wait()
        finally:
            click.echo(f"served {site.requests} requests", err=True)
