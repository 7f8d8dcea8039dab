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
