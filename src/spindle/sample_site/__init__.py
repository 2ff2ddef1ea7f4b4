"""A generated, deterministic website served on 127.0.0.1: the demo's, the lab's and the
benchmarks' target, so every example runs offline against something real."""

from spindle.sample_site.pages import SiteSpec, render
from spindle.sample_site.server import RunningSite, serve_in_thread

__all__ = ["RunningSite", "SiteSpec", "render", "serve_in_thread"]
