"""The core stays platform-neutral: flows/ and storage/ never import a chat SDK or web server."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NEUTRAL_PACKAGES = ("flows", "storage")
FORBIDDEN = frozenset({"slack_bolt", "slack_sdk", "microsoft_agents", "aiohttp"})


def forbidden_imports(source: str, filename: str = "<sample>") -> list[str]:
    """Every forbidden module a piece of Python imports, wherever the import statement is."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        else:
            continue
        found.extend(
            f"{filename}:{node.lineno}: {module}"
            for module in modules
            if module.split(".")[0] in FORBIDDEN
        )
    return found


def _neutral_sources() -> list[Path]:
    return sorted(path for package in NEUTRAL_PACKAGES for path in (ROOT / package).rglob("*.py"))


def test_the_scanner_finds_every_form_of_a_forbidden_import() -> None:
    sample = """
import os, slack_sdk
import slack_bolt.async_app as bolt
from aiohttp import web
from microsoft_agents.hosting.core import TurnContext
from slack_sdk.web.async_client import AsyncWebClient

def later():
    import aiohttp.client

if TYPE_CHECKING:
    from slack_bolt import App
"""

    assert forbidden_imports(sample) == [
        "<sample>:2: slack_sdk",
        "<sample>:3: slack_bolt.async_app",
        "<sample>:4: aiohttp",
        "<sample>:5: microsoft_agents.hosting.core",
        "<sample>:6: slack_sdk.web.async_client",
        "<sample>:9: aiohttp.client",
        "<sample>:12: slack_bolt",
    ]


def test_the_scanner_lets_look_alike_and_relative_imports_through() -> None:
    sample = """
import slack_sdk_helpers
import aiohttp_retry
from . import aiohttp
from .slack_sdk import client
from storage.models import Member
text = "import slack_sdk"
"""

    assert forbidden_imports(sample) == []


def test_both_neutral_packages_are_scanned() -> None:
    sources = {path.relative_to(ROOT).as_posix() for path in _neutral_sources()}

    assert "flows/engine.py" in sources
    assert "storage/store.py" in sources
    assert "storage/migrations/env.py" in sources


@pytest.mark.parametrize(
    "path", _neutral_sources(), ids=lambda path: path.relative_to(ROOT).as_posix()
)
def test_a_neutral_module_imports_no_platform_sdk(path: Path) -> None:
    source = path.read_text(encoding="utf-8")

    assert forbidden_imports(source, path.relative_to(ROOT).as_posix()) == []
