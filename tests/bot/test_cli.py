"""The ``hoedan`` command line: help everywhere, database commands, clear failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HOEDAN = Path(sys.executable).with_name("hoedan")


def _hoedan(*args: str, cwd: Path, database: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOEDAN_", "DATABASE_URL"))}
    env["DATABASE_URL"] = database or f"sqlite:///{cwd / 'hoedan.db'}"
    env["COLUMNS"] = "200"
    return subprocess.run(
        [str(HOEDAN), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "command",
    [(), ("run",), ("console",), ("db",), ("db", "upgrade"), ("db", "status")],
    ids=lambda c: " ".join(c) or "hoedan",
)
def test_every_command_has_help(command: tuple[str, ...], tmp_path: Path) -> None:
    result = _hoedan(*command, "--help", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    assert not (tmp_path / "hoedan.db").exists()


def test_version(tmp_path: Path) -> None:
    result = _hoedan("--version", cwd=tmp_path)

    assert result.returncode == 0
    assert result.stdout.startswith("hoedan ")


def test_db_upgrade_then_status_reports_the_newest_revision(tmp_path: Path) -> None:
    before = _hoedan("db", "status", cwd=tmp_path)
    upgrade = _hoedan("db", "upgrade", cwd=tmp_path)
    after = _hoedan("db", "status", cwd=tmp_path)

    assert "versie leeg" in before.stdout
    assert upgrade.returncode == 0, upgrade.stderr
    assert "Database bijgewerkt tot versie 0001" in upgrade.stdout
    assert "versie 0001, nieuwste 0001" in after.stdout


def test_an_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    result = _hoedan(
        "db", "upgrade", cwd=tmp_path, database=f"sqlite:///{tmp_path}/missing/dir/hoedan.db"
    )

    assert result.returncode == 1
    assert "Hoedan kan de database niet bereiken" in result.stderr
    assert "Traceback" not in result.stderr
