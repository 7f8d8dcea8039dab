"""The ``hoedan`` command line: help everywhere, database commands, clear failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import RunHoedan


@pytest.mark.parametrize(
    "command",
    [(), ("run",), ("console",), ("db",), ("db", "upgrade"), ("db", "status")],
    ids=lambda c: " ".join(c) or "hoedan",
)
def test_every_command_has_help(
    command: tuple[str, ...], run_hoedan: RunHoedan, tmp_path: Path
) -> None:
    result = run_hoedan([], *command, "--help")

    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    assert not (tmp_path / "hoedan.db").exists()


def test_version(run_hoedan: RunHoedan) -> None:
    result = run_hoedan([], "--version")

    assert result.returncode == 0
    assert result.stdout.startswith("hoedan ")


MIGRATIONS = Path(__file__).resolve().parents[2] / "storage" / "migrations" / "versions"


def test_db_upgrade_then_status_reports_the_newest_revision(run_hoedan: RunHoedan) -> None:
    before = run_hoedan([], "db", "status")
    upgrade = run_hoedan([], "db", "upgrade")
    after = run_hoedan([], "db", "status")

    assert "versie leeg" in before.stdout
    assert upgrade.returncode == 0, upgrade.stderr
    newest = sorted(path.name[:4] for path in MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))[-1]
    assert f"Database bijgewerkt tot versie {newest}" in upgrade.stdout
    assert f"versie {newest}, nieuwste {newest}" in after.stdout


def test_an_unreachable_database_is_one_clear_line(run_hoedan: RunHoedan, tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path}/missing/dir/hoedan.db"

    result = run_hoedan([], "db", "upgrade", env={"DATABASE_URL": missing})

    assert result.returncode == 1
    assert "Hoedan kan de database niet bereiken" in result.stderr
    assert "Traceback" not in result.stderr
