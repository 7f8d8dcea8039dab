"""Threats from docs/security.md whose defence had no test of its own yet.

Each test names the threat it covers; the HTTP ones live in ``tests/slack/test_security_http.py``
and ``tests/teams/test_security_http.py``.
"""

from __future__ import annotations

import ast
import csv
import io
import logging
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.app import Hoedan, create_app
from bot.report_files import spreadsheet, spreadsheet_cell
from bot.settings import Settings
from flows import intervision, reflection
from flows.config import FlowConfig
from flows.events import FormValue
from flows.messages import Button
from flows.text import ours
from storage.models import (
    FlowInstance,
    IntervisionContribution,
    Lesson,
    ReflectionAnswer,
    ReflectionParticipation,
)
from storage.store import Store
from tests.flows.helpers import Chat
from tests.flows.test_intervision import COACH, OWNER, PEERS, deliver_all, share_case, start

ROOT = Path(__file__).resolve().parent.parent


# Secrets in logs -----------------------------------------------------------------------------


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield None
    root.handlers[:] = handlers
    root.setLevel(level)


def _log_everywhere(secret: str) -> None:
    """The secret in a message, in an argument and in an exception's traceback."""
    log = logging.getLogger("hoedan.security")
    log.warning("config: %s", secret)
    log.error(f"Bolt said: invalid signature with {secret}")
    try:
        raise RuntimeError(f"could not connect with {secret}")
    except RuntimeError:
        log.exception("it failed")


def _app(tmp_path: Path, **values: Any) -> Hoedan:
    settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'h.db'}", **values)
    return create_app(settings, default_log_level="INFO")


async def test_the_slack_signing_secret_is_masked_wherever_it_is_logged(
    restore_logging: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A signing secret has no recognisable shape: only registering it at start-up masks it.
    A fresh value, so that no earlier test can have registered it."""
    signing_secret = secrets.token_hex(16)
    hoedan = _app(
        tmp_path,
        slack_bot_token="xoxb-1-2-security",  # noqa: S106 (a test value)
        slack_signing_secret=signing_secret,
    )
    try:
        _log_everywhere(signing_secret)
    finally:
        await hoedan.close()

    written = capsys.readouterr().err
    assert "could not connect with ***" in written
    assert "Bolt said: invalid signature with ***" in written
    assert signing_secret not in written


async def test_the_teams_client_secret_is_masked_wherever_it_is_logged(
    restore_logging: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from bot.teams.adapter import TeamsAdapter

    client_secret = "Qx8" + secrets.token_urlsafe(24)
    hoedan = _app(
        tmp_path,
        teams_client_id="00000000-0000-0000-0000-00000000c1d0",
        teams_client_secret=client_secret,
        teams_tenant_id="00000000-0000-0000-0000-0000000000a1",
    )
    try:
        TeamsAdapter(hoedan.settings, hoedan.runtime, on_queued=lambda: None)
        _log_everywhere(client_secret)
    finally:
        await hoedan.close()

    written = capsys.readouterr().err
    assert "could not connect with ***" in written
    assert client_secret not in written


def test_slack_tokens_and_url_passwords_in_a_traceback_are_masked(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.logs import configure_logging

    configure_logging("INFO")
    try:
        raise ConnectionError(
            "postgresql://hoedan:Zeer-geheim-9@db:5432/hoedan refused xoxb-9-8-tokenvalue "
            "and xapp-1-A1-2-zz"
        )
    except ConnectionError:
        logging.getLogger("hoedan.security").exception("database down")

    written = capsys.readouterr().err
    assert "ConnectionError: postgresql://***@db:5432/hoedan refused *** and ***" in written
    for secret in ("Zeer-geheim-9", "xoxb-9", "xapp-1"):
        assert secret not in written


# Spreadsheet formulas ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        '=HYPERLINK("https://evil.example";"klik")',
        "+31 6 1234 5678",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_a_cell_that_starts_like_a_formula_is_read_as_text(typed: str) -> None:
    """Every character a spreadsheet starts a formula with gets a leading quote, in a file as
    written (both separators)."""
    assert spreadsheet_cell(typed) == "'" + typed
    for language in ("nl", "en"):
        written = spreadsheet([["vraag"], [typed]], language=language).decode("utf-8-sig")
        [_, [cell]] = list(csv.reader(io.StringIO(written), delimiter=";,"[language == "en"]))
        assert cell == "'" + typed


def test_ordinary_cells_and_numbers_are_left_alone() -> None:
    assert spreadsheet_cell("Hoe doen jullie dat? =ja") == "Hoe doen jullie dat? =ja"
    assert spreadsheet_cell(-3) == -3
    assert spreadsheet_cell(None) is None


# SQL is parameterised ------------------------------------------------------------------------

SQL_CALLS = frozenset({"execute", "exec", "exec_driver_sql", "scalar", "scalars", "executescript"})
"""Methods that run SQL on a connection, session or cursor."""
TEXT_CLAUSES = frozenset({"text", "sql"})
"""``sqlalchemy.text`` as Hoedan imports it (``storage.repositories.matching``: ``sql``)."""
KNOWN_BUILT_SQL = {
    ("storage/database.py", "f'PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}'"),
    (
        "storage/repositories/matching.py",
        "_FREQUENCIES.format(counts=' UNION ALL '.join(counts), settings=settings)",
    ),
    (
        "storage/repositories/matching.py",
        "_CANDIDATES.format(hits=hits, weight=weight, reach=reach, search_id=search_id, wide=wide)",
    ),
}
"""Statements built from pieces on purpose: a module constant, and the matcher's fixed SQL and
whole numbers (its module docs; every value there is a bound parameter, and hostile search
text is tested in ``tests/storage/test_matching.py``)."""


def _sqlalchemy_names(tree: ast.Module) -> set[str]:
    """The local names a module gives ``sqlalchemy.text``."""
    return {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy")
        for alias in node.names
        if alias.name == "text"
    }


def _is_built(node: ast.expr) -> bool:
    """An f-string, a concatenation, ``%``-formatting or ``.format``/``.join``: SQL put
    together at run time, where a value could end up inside the statement."""
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"format", "join", "replace"}
    )


def built_sql(source: str, filename: str = "<sample>") -> list[tuple[str, str]]:
    """Every SQL statement in ``source`` that is put together at run time."""
    tree = ast.parse(source, filename=filename)
    text_names = _sqlalchemy_names(tree) & TEXT_CLAUSES
    found: list[tuple[str, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        runs_sql = (isinstance(node.func, ast.Name) and node.func.id in text_names) or (
            isinstance(node.func, ast.Attribute) and node.func.attr in SQL_CALLS
        )
        if runs_sql and _is_built(node.args[0]):
            found.append((filename, ast.unparse(node.args[0])))
    return found


def test_the_sql_scanner_finds_statements_put_together_at_run_time() -> None:
    sample = """
from sqlalchemy import text as sql
def f(session, cursor, name, table):
    session.execute(sql(f"SELECT * FROM member WHERE name = '{name}'"))
    cursor.execute("DELETE FROM " + table)
    session.exec(sql("SELECT %s" % name))
    session.execute(sql("SELECT * FROM member WHERE name = :name"), {"name": name})
    self.text(f"report.{name}")
"""
    assert sorted(built_sql(sample)) == [
        ("<sample>", "'DELETE FROM ' + table"),
        ("<sample>", "'SELECT %s' % name"),
        ("<sample>", "f\"SELECT * FROM member WHERE name = '{name}'\""),
    ]


def test_sql_is_never_put_together_from_values() -> None:
    """SQL injection: outside the known, reviewed exceptions no statement is built at run
    time anywhere in Hoedan; values go in as bound parameters (SQLModel or ``:name``)."""
    found = {
        hit
        for package in ("bot", "flows", "storage")
        for path in sorted((ROOT / package).rglob("*.py"))
        for hit in built_sql(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())
    }

    assert found == KNOWN_BUILT_SQL


# Forged form submissions reach the flows' own checks -----------------------------------------
#
# On Slack a dialog's submission is signed by Slack and on Teams it is read against the card
# Hoedan sent; the flows check again, so that a submission nobody was shown (a console user,
# a replayed or changed request) gets nothing done.

OUTSIDER = "Frank"


@pytest.fixture
async def chat(store: Store) -> Chat:
    chat = Chat(store, FlowConfig(admins=frozenset({"beheer"})))
    for name in (COACH, OWNER, *PEERS, OUTSIDER):
        await chat.command(name, "help")
    assert "coach" in (await chat.command("Beheer", f"rol {COACH} coach")).text
    await deliver_all(chat)
    return chat


async def _said_in_session(store: Store) -> list[str]:
    async with store.transaction() as tx:
        said = [c.text for c in (await tx.session.exec(select(IntervisionContribution))).all()]
        said += [lesson.text for lesson in (await tx.session.exec(select(Lesson))).all()]
    return said


async def test_a_case_submitted_by_someone_other_than_the_case_owner_is_refused(
    chat: Chat, store: Store
) -> None:
    started = await start(chat)
    session = "1"
    for who in (PEERS[0], OUTSIDER, COACH):
        forged = await chat.submit(
            who, intervision.CASE_FORM, {"case": f"Verzonnen casus van {who}"}, context=session
        )
        assert f"Alleen de inbrenger ({OWNER}) schrijft de casus." in forged.only.text
    assert await _said_in_session(store) == []

    await share_case(chat, started)  # the owner still can
    assert len(await _said_in_session(store)) == 1


async def _to_lessons_phase(chat: Chat, store: Store) -> None:
    """The facilitator presses "next" until the session collects lessons."""
    for _ in range(10):
        async with store.transaction() as tx:
            [flow] = (await tx.session.exec(select(FlowInstance))).all()
        phase = flow.data["phases"][int(flow.data["index"])]
        if phase["collects"] == "lessons":
            return
        value = f"{flow.data['session_id']}:{flow.data['index']}"
        await chat.press(
            COACH, Button(label=ours("Volgende"), action=intervision.NEXT, value=value)
        )
        await deliver_all(chat)
    raise AssertionError("the session never reached its lessons")


async def test_a_lesson_submitted_by_someone_outside_the_session_is_refused(
    chat: Chat, store: Store
) -> None:
    await share_case(chat, await start(chat))
    await _to_lessons_phase(chat, store)
    before = await _said_in_session(store)

    for form_id in (intervision.LESSON_FORM, intervision.TAKEAWAY_FORM):
        forged = await chat.submit(
            OUTSIDER,
            form_id,
            {"lesson": "Ik was er niet bij.", "shareable": True},
            context="1",
        )
        assert "alleen voor de deelnemers" in forged.only.text
    assert await _said_in_session(store) == before

    kept = await chat.submit(
        PEERS[0], intervision.LESSON_FORM, {"lesson": "Wel bij geweest."}, context="1"
    )
    assert "bewaard" in kept.text
    assert await _said_in_session(store) == [*before, "Wel bij geweest."]


async def test_a_reflection_answer_from_someone_not_asked_is_refused(
    chat: Chat, store: Store
) -> None:
    asked = [OWNER, PEERS[0]]
    opened = await chat.command(COACH, "reflectie check-in")
    assert opened.outcome.form is not None
    started = await chat.submit(
        COACH,
        opened.outcome.form.form_id,
        {
            "template": "check-in",
            "privacy": "anonymous",
            "deadline": "2d",
            "question": "",
            "who": [name.lower() for name in asked],
        },
    )
    [dm] = [r for r in started.replies if r.member_ref == OWNER.lower()]
    [answer_button] = [b for b in dm.buttons if b.action == reflection.ANSWER_FORM_OPEN]
    values: dict[str, FormValue] = {"q0": "3", "q1": "Verzonnen antwoord"}

    forged = await chat.submit(
        OUTSIDER, reflection.ANSWER_FORM, values, context=answer_button.value
    )

    assert "niet aan jou gevraagd" in forged.text
    async with store.transaction() as tx:
        assert (await tx.session.exec(select(ReflectionAnswer))).all() == []
        assert (await tx.session.exec(select(ReflectionParticipation))).all() == []
    kept = await chat.submit(OWNER, reflection.ANSWER_FORM, values, context=answer_button.value)
    assert "opgeslagen" in kept.text
