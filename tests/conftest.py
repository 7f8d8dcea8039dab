"""Shared fixtures: real databases (a SQLite file per test; PostgreSQL when configured) and
the real ``hoedan`` command run with piped input."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storage.database import DatabaseUrls, resolve_database_url
from storage.migrate import upgrade
from storage.store import Store

POSTGRES_URL = os.environ.get("HOEDAN_TEST_POSTGRES_URL", "")

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgres",
        id="postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(not POSTGRES_URL, reason="HOEDAN_TEST_POSTGRES_URL is not set"),
        ],
    ),
]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'hoedan.db'}"


def postgres_schema_url() -> Iterator[str]:
    """A fresh schema in the test PostgreSQL, dropped afterwards; the URL points into it."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin_url = make_url(POSTGRES_URL).set(drivername="postgresql+psycopg")
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield admin_url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[str]:
    """A migrated-nothing-yet database URL: SQLite, and PostgreSQL when configured."""
    if request.param == "sqlite":
        yield sqlite_url
    else:
        yield from postgres_schema_url()


@pytest.fixture
def database(database_url: str) -> DatabaseUrls:
    urls = resolve_database_url(database_url)
    upgrade(urls)
    return urls


@pytest.fixture
async def store(database: DatabaseUrls) -> AsyncIterator[Store]:
    store = Store(database)
    try:
        yield store
    finally:
        await store.close()


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
