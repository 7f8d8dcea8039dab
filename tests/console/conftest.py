"""Run the real ``hoedan`` command with piped input, as a newcomer or a demo script would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

HOEDAN = Path(sys.executable).with_name("hoedan")


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


RunHoedan = Callable[..., Run]


@pytest.fixture
def run_hoedan(tmp_path: Path) -> RunHoedan:
    """``run_hoedan(lines, *args, env={...})`` runs ``hoedan console`` in a clean folder."""

    def run(lines: list[str], *args: str, env: dict[str, str] | None = None) -> Run:
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("HOEDAN_", "DATABASE_URL", "SLACK_"))
        }
        environment["DATABASE_URL"] = f"sqlite:///{tmp_path / 'hoedan.db'}"
        environment["COLUMNS"] = "200"
        environment.update(env or {})
        completed = subprocess.run(
            [str(HOEDAN), *(args or ("console",))],
            input="\n".join(lines) + "\n",
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=environment,
            timeout=60,
            check=False,
        )
        return Run(completed.returncode, completed.stdout, completed.stderr)

    return run
