"""How a user's DATABASE_URL becomes the engines' URLs, and how a bad one is explained."""

from __future__ import annotations

import pytest

from storage.database import DatabaseUrlError, resolve_database_url

EXAMPLE_FORM = "sqlite:///hoedan.db"


@pytest.mark.parametrize(
    "raw",
    ["sqlite:///hoedan.db", "sqlite+pysqlite:///hoedan.db", "sqlite+aiosqlite:///hoedan.db"],
)
def test_a_sqlite_file_gets_aiosqlite_for_the_app_and_pysqlite_for_migrations(raw: str) -> None:
    urls = resolve_database_url(raw)

    assert urls.async_url.drivername == "sqlite+aiosqlite"
    assert urls.sync_url.drivername == "sqlite+pysqlite"
    assert urls.async_url.database == urls.sync_url.database == "hoedan.db"
    assert urls.is_sqlite


def test_an_absolute_sqlite_path_is_kept() -> None:
    urls = resolve_database_url("sqlite:////var/lib/hoedan/hoedan.db")

    assert urls.sync_url.database == "/var/lib/hoedan/hoedan.db"
    assert urls.async_url.database == "/var/lib/hoedan/hoedan.db"


def test_surrounding_whitespace_from_an_env_file_is_ignored() -> None:
    urls = resolve_database_url("  sqlite:///hoedan.db\n")

    assert urls.sync_url.database == "hoedan.db"


@pytest.mark.parametrize(
    "raw",
    [
        "postgresql://hoedan:geheim@db.example.nl:5433/hoedan?sslmode=require",
        "postgres://hoedan:geheim@db.example.nl:5433/hoedan?sslmode=require",
        "postgresql+psycopg2://hoedan:geheim@db.example.nl:5433/hoedan?sslmode=require",
        "postgresql+asyncpg://hoedan:geheim@db.example.nl:5433/hoedan?sslmode=require",
    ],
)
def test_postgresql_in_any_spelling_uses_psycopg_and_keeps_every_connection_detail(
    raw: str,
) -> None:
    urls = resolve_database_url(raw)

    assert urls.async_url == urls.sync_url
    url = urls.sync_url
    assert url.drivername == "postgresql+psycopg"
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "hoedan",
        "geheim",
        "db.example.nl",
        5433,
        "hoedan",
    )
    assert dict(url.query) == {"sslmode": "require"}
    assert not urls.is_sqlite


@pytest.mark.parametrize("raw", ["", "   ", "\n"])
def test_an_empty_url_is_refused_by_name(raw: str) -> None:
    with pytest.raises(DatabaseUrlError, match=r"^DATABASE_URL is empty"):
        resolve_database_url(raw)


@pytest.mark.parametrize("raw", ["hoedan.db", "not a url", "/var/lib/hoedan.db"])
def test_something_that_is_not_a_url_is_explained_with_an_example(raw: str) -> None:
    with pytest.raises(DatabaseUrlError) as caught:
        resolve_database_url(raw)

    message = str(caught.value)
    assert message.startswith(f"DATABASE_URL {raw!r} is not a database URL")
    assert EXAMPLE_FORM in message
    assert "postgresql://" in message


@pytest.mark.parametrize(
    "raw", ["sqlite://", "sqlite:///", "sqlite:///:memory:", "sqlite+aiosqlite:///:memory:"]
)
def test_an_in_memory_sqlite_database_is_refused_because_it_would_lose_everything(
    raw: str,
) -> None:
    with pytest.raises(DatabaseUrlError) as caught:
        resolve_database_url(raw)

    message = str(caught.value)
    assert message.startswith("DATABASE_URL must name a SQLite file")
    assert EXAMPLE_FORM in message
    assert "in-memory" in message


def test_a_postgresql_url_without_a_database_is_refused() -> None:
    with pytest.raises(
        DatabaseUrlError, match=r"^DATABASE_URL for PostgreSQL must name a database"
    ):
        resolve_database_url("postgresql://hoedan:geheim@db.example.nl:5432")


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ("mysql://hoedan:geheim@db.example.nl/hoedan", "'mysql'"),
        ("mssql+pyodbc://hoedan:geheim@db.example.nl/hoedan", "'mssql+pyodbc'"),
        ("sqlite+pysqlcipher:///hoedan.db", "'sqlite+pysqlcipher'"),
        ("postgresql+pg8000://hoedan:geheim@db.example.nl/hoedan", "'postgresql+pg8000'"),
    ],
)
def test_an_unsupported_database_or_driver_is_named_and_the_supported_forms_listed(
    raw: str, named: str
) -> None:
    with pytest.raises(DatabaseUrlError) as caught:
        resolve_database_url(raw)

    message = str(caught.value)
    assert message.startswith(f"DATABASE_URL uses {named};")
    assert "sqlite:///" in message
    assert "postgresql://" in message
    assert "geheim" not in message


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (
            "post gres://hoedan:geheim@db.example.nl/hoedan",
            "post gres://hoedan:***@db.example.nl/hoedan",
        ),
        (
            "postgresql//hoedan:geheim@db.example.nl/hoedan",
            "postgresql//hoedan:***@db.example.nl/hoedan",
        ),
        ("postgresql:hoedan:geheim@db.example.nl/hoedan", "postgresql:***@db.example.nl/hoedan"),
        (
            "postgresql://hoedan:geheim@db.example.nl:54x2/hoedan",
            "postgresql://hoedan:***@db.example.nl:54x2/hoedan",
        ),
    ],
)
def test_a_password_in_a_mistyped_url_never_reaches_the_error_message(raw: str, shown: str) -> None:
    with pytest.raises(DatabaseUrlError) as caught:
        resolve_database_url(raw)

    message = str(caught.value)
    assert "geheim" not in message
    assert message.startswith(f"DATABASE_URL {shown!r} is not a database URL")
    assert EXAMPLE_FORM in message


def test_a_password_containing_at_and_colon_is_still_hidden_when_the_url_cannot_be_read() -> None:
    # Unescaped "@" and ":" in a password make the rest look like host:port.
    with pytest.raises(DatabaseUrlError) as caught:
        resolve_database_url("postgresql://hoedan:ge@he:im@db.example.nl/hoedan")

    message = str(caught.value)
    assert "ge@he" not in message
    assert "he:im" not in message
    assert "im@db" not in message
    assert "postgresql://hoedan:***@db.example.nl/hoedan" in message


def test_a_url_without_a_password_is_shown_unchanged() -> None:
    with pytest.raises(DatabaseUrlError) as caught:
        resolve_database_url("post gres://hoedan@db.example.nl/hoedan")

    assert "'post gres://hoedan@db.example.nl/hoedan'" in str(caught.value)
