"""Placeholder until the RFC 9309 conformance layer lands: protego as it is."""

from __future__ import annotations

from protego import Protego

__all__ = ["ALLOW_ALL", "DISALLOW_ALL", "MAX_ROBOTS_BYTES", "RobotsRules"]

MAX_ROBOTS_BYTES = 500 * 1024


class RobotsRules:
    """Rules of one robots.txt for one product token."""

    def __init__(self, rules: Protego | None, token: str, allow: bool) -> None:
        self._rules = rules
        self._token = token
        self._allow = allow
        delay = rules.crawl_delay(token) if rules is not None else None
        self.crawl_delay: float | None = float(delay) if delay else None
        self.sitemaps: tuple[str, ...] = tuple(rules.sitemaps) if rules is not None else ()

    @classmethod
    def parse(cls, body: bytes, product_token: str) -> RobotsRules:
        text = body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace")
        return cls(Protego.parse(text), product_token, True)

    def allows(self, url: str) -> bool:
        if self._rules is None:
            return self._allow
        return bool(self._rules.can_fetch(url, self._token))


ALLOW_ALL = RobotsRules(None, "", True)
DISALLOW_ALL = RobotsRules(None, "", False)
