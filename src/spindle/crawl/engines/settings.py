"""Placeholder: the fetch settings both fetchers share (replaced by the fetchers' own module)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["FetchSettings"]


@dataclass(frozen=True, slots=True)
class FetchSettings:
    user_agent: str
    timeout: float
    pool_size: int
    headers: tuple[tuple[str, str], ...] = ()
    basic_auth: dict[str, tuple[str, str]] = field(default_factory=dict)
