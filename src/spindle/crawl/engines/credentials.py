"""HTTP Basic credentials (RFC 7617), for origins and for proxies alike.

A password never shows in a ``repr``; :attr:`Credentials.secrets` lists every form of it a
message must never carry (the password, ``user:password`` and the Basic token).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Final

__all__ = ["Credentials"]

_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Credentials:
    """HTTP Basic credentials (RFC 7617); the password never shows in a repr.

    >>> Credentials("bob", "hunter2")
    Credentials(user='bob')
    >>> Credentials("bob", "hunter2").authorization
    'Basic Ym9iOmh1bnRlcjI='
    """

    user: str
    password: str = field(repr=False)

    def __post_init__(self) -> None:
        if ":" in self.user or _CONTROL.search(self.user):
            raise ValueError("Credentials.user must not contain ':' or control characters")
        if _CONTROL.search(self.password):
            raise ValueError("Credentials.password must not contain control characters")

    @property
    def authorization(self) -> str:
        """The ``Authorization`` header value (UTF-8, as RFC 7617 recommends)."""
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode("ascii")
        return f"Basic {token}"

    @property
    def secrets(self) -> tuple[str, ...]:
        """The password, ``user:password`` and the Basic token: what no message may show.

        >>> Credentials("bob", "hunter2").secrets
        ('hunter2', 'Ym9iOmh1bnRlcjI=', 'bob:hunter2')
        >>> Credentials("bob", "").secrets
        ('Ym9iOg==', 'bob:')
        """
        token = self.authorization.removeprefix("Basic ")
        found = (self.password, token, f"{self.user}:{self.password}")
        return tuple(secret for secret in found if secret)
