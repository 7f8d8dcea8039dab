"""The README tells the truth about setting up: CI runs its test command word for word."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _shell_blocks(text: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", text, re.DOTALL)]


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = next(block for block in _shell_blocks(readme) if "pytest" in block)

    assert test_command in ci.splitlines()


def test_the_readme_start_command_starts_local_mode() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = _shell_blocks(readme)[0]

    assert start.startswith("python3 -m venv .venv")
    assert start.endswith(".venv/bin/hoedan run")
    assert "requirements.lock" in start
