"""The core is sans-I/O: it imports nothing that does I/O, threads or reads the clock."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import spindle.crawl.core

CORE = Path(spindle.crawl.core.__file__).parent
FORBIDDEN = {"socket", "threading", "asyncio", "time", "urllib3", "aiohttp", "sqlite3", "select"}


@pytest.mark.parametrize("module", sorted(CORE.glob("*.py")), ids=lambda p: p.name)
def test_core_module_imports_no_io(module: Path) -> None:
    tree = ast.parse(module.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
            if node.module.startswith("spindle.crawl."):
                assert node.module.startswith("spindle.crawl.core"), node.module
    assert not imported & FORBIDDEN
