"""Shared test configuration."""

from __future__ import annotations

import pytest
from hypothesis import settings

from tests.support.tls import TestPKI, make_pki

settings.register_profile("spindle", deadline=None, max_examples=100)
settings.load_profile("spindle")


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    """A test CA and a server certificate for 127.0.0.1 and localhost (``openssl``)."""
    return make_pki(tmp_path_factory.mktemp("pki"))
