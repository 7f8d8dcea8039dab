"""Secrets never reach the log: by key, as Slack tokens in text, or as URL passwords."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.logs import configure_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield None
    root.handlers[:] = handlers
    root.setLevel(level)


def test_tokens_and_passwords_are_masked(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO")
    log = logging.getLogger("hoedan.test")

    log.info("connecting to postgresql://hoedan:supergeheim@db/hoedan with xoxb-123-456-abc")
    log.warning("verifying %s", "xapp-1-A0-99-zz")

    written = capsys.readouterr().err
    assert "connecting to postgresql://***@db/hoedan with ***" in written
    assert "supergeheim" not in written
    assert "xoxb-123" not in written
    assert "xapp-1" not in written


def test_below_the_level_nothing_is_written(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("WARNING")

    logging.getLogger("hoedan.test").info("quiet please")

    assert "quiet please" not in capsys.readouterr().err


def test_bearer_tokens_jwts_and_secret_parameters_are_masked(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """Shapes beyond Slack's: a Bot Connector JWT, an Authorization header, and a password or
    signature carried as a parameter (a PostgreSQL URL's query, a storage link)."""
    configure_logging("INFO")
    log = logging.getLogger("hoedan.test")
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJob2VkYW4ifQ.c2lnbmF0dXJlLWhpZXI"

    log.info("Authorization: Bearer opaque-Token_42==")
    log.info("connector answered 401 for %s", jwt)
    log.info("postgresql://db/hoedan?user=hoedan&password=supergeheim&sslmode=require")
    log.info("upload to https://files.example/up?sv=1&sig=AbC%2Fd&se=2 failed")
    log.info("client_secret=S3cr3t-waarde; tokens=2")

    written = capsys.readouterr().err
    for secret in (
        "opaque-Token_42",
        "eyJhbGci",
        "c2lnbmF0dXJl",
        "supergeheim",
        "AbC%2Fd",
        "S3cr3t",
    ):
        assert secret not in written
    assert "Bearer ***" in written
    assert "password=***&sslmode=require" in written
    assert "sig=***&se=2" in written
    assert "tokens=2" in written  # not a secret's name: left as it is
