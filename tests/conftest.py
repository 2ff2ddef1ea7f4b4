"""Shared test configuration."""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("spindle", deadline=None, max_examples=100)
settings.load_profile("spindle")
