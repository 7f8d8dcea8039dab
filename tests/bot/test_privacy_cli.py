"""``hoedan privacy export|erase``: an admin on the machine acts for one member, named exactly.

Members are made the way people make them, by talking to Hoedan in local mode; a namesake on
Slack is added to the database directly (local mode has no Slack).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlmodel import select

from storage.database import resolve_database_url
from storage.enums import Platform
from storage.models import Member, OutboxMessage
from storage.repositories.erasure import FAREWELL_KEY
from storage.store import Store
from tests.conftest import RunHoedan

ANNAS_QUESTION = "Hoe meten we onze resultaten?"


@pytest.fixture
def network(run_hoedan: RunHoedan) -> RunHoedan:
    """Anna (Twente) asked a question and Bram answered it, in local mode."""
    lines = [
        "/hoedan regio Twente",
        f"/hoedan vraag {ANNAS_QUESTION}",
        ":als Bram",
        "/hoedan zodan 1 Met een dashboard per gemeente.",
    ]
    seeded = run_hoedan(lines, "console", "--als", "Anna")
    assert seeded.returncode == 0, seeded.stderr
    return run_hoedan


async def _members(database: Path) -> list[Member]:
    store = Store(resolve_database_url(f"sqlite:///{database}"))
    try:
        async with store.transaction() as tx:
            return list((await tx.session.exec(select(Member))).all())
    finally:
        await store.close()


async def _farewells(database: Path) -> list[OutboxMessage]:
    store = Store(resolve_database_url(f"sqlite:///{database}"))
    try:
        async with store.transaction() as tx:
            rows = (await tx.session.exec(select(OutboxMessage))).all()
            return [row for row in rows if row.idempotency_key.startswith(FAREWELL_KEY)]
    finally:
        await store.close()


async def _add_slack_namesake(database: Path) -> None:
    store = Store(resolve_database_url(f"sqlite:///{database}"))
    try:
        async with store.transaction() as tx:
            network = await tx.networks.by_slug("landelijk")
            assert network is not None
            assert network.id is not None
            await tx.members.get_or_create(
                network_id=network.id,
                platform=Platform.SLACK,
                external_id="UANNA01",
                display_name="Anna",
            )
    finally:
        await store.close()


@pytest.mark.parametrize("command", [("privacy",), ("privacy", "export"), ("privacy", "erase")])
def test_the_privacy_commands_have_help(run_hoedan: RunHoedan, command: tuple[str, ...]) -> None:
    result = run_hoedan([], *command, "--help")

    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def test_export_writes_the_members_json(network: RunHoedan, tmp_path: Path) -> None:
    result = network([], "privacy", "export", "--member", "console:anna", "--out", "anna.json")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "De gegevens van Anna staan in anna.json.\n"
    data = json.loads((tmp_path / "anna.json").read_text(encoding="utf-8"))
    assert data["schema_version"] == 1
    assert data["profile"]["display_name"] == "Anna"
    assert data["profile"]["region"] == "Twente"
    [question] = data["questions"]
    assert question["text"] == ANNAS_QUESTION
    assert question["answers"][0]["by"] == "Bram"


def test_export_by_name_uses_a_dated_file_in_the_current_folder(
    network: RunHoedan, tmp_path: Path
) -> None:
    result = network([], "privacy", "export", "--member", "bram")

    assert result.returncode == 0, result.stderr
    [written] = tmp_path.glob("mijngegevens-*.json")
    assert json.loads(written.read_text(encoding="utf-8"))["answers"][0]["question_number"] == 1


def test_an_unknown_or_ambiguous_member_is_exit_code_1_and_no_file(
    network: RunHoedan, tmp_path: Path
) -> None:
    unknown = network([], "privacy", "export", "--member", "Nobody", "--out", "x.json")
    asyncio.run(_add_slack_namesake(tmp_path / "hoedan.db"))
    ambiguous = network([], "privacy", "erase", "--member", "Anna", "--yes")

    assert unknown.returncode == 1
    assert "Geen lid gevonden voor Nobody" in unknown.stderr
    assert ambiguous.returncode == 1
    assert "Meer dan één lid past bij Anna" in ambiguous.stderr
    assert "console:anna" in ambiguous.stderr
    assert "slack:UANNA01" in ambiguous.stderr
    assert "Traceback" not in unknown.stderr + ambiguous.stderr
    assert not (tmp_path / "x.json").exists()
    assert all(m.erased_at is None for m in asyncio.run(_members(tmp_path / "hoedan.db")))


def test_erase_asks_first_and_no_keeps_everything(network: RunHoedan, tmp_path: Path) -> None:
    declined = network(["n"], "privacy", "erase", "--member", "console:anna")

    assert declined.returncode == 1
    assert "Alles van Anna (console:anna) wissen of loskoppelen?" in declined.stdout
    assert "Niets gewist." in declined.stderr
    assert all(m.erased_at is None for m in asyncio.run(_members(tmp_path / "hoedan.db")))


def test_erase_after_yes_leaves_an_oud_lid_and_a_farewell(
    network: RunHoedan, tmp_path: Path
) -> None:
    erased = network(["j"], "privacy", "erase", "--member", "console:anna")

    assert erased.returncode == 0, erased.stderr
    assert "console:anna is gewist; het lid heet nu oud-lid." in erased.stdout
    members = {m.display_name: m for m in asyncio.run(_members(tmp_path / "hoedan.db"))}
    assert "Anna" not in members
    assert members["oud-lid"].erased_at is not None
    [farewell] = asyncio.run(_farewells(tmp_path / "hoedan.db"))
    assert farewell.member_ref == "anna"
    assert "Een beheerder heeft je gegevens gewist" in json.dumps(farewell.payload)
    again = network([], "privacy", "erase", "--member", "console:anna", "--yes")
    assert again.returncode == 1
    assert "Geen lid gevonden voor console:anna" in again.stderr

    shown = network(["/hoedan bekijk 1"], "console", "--als", "Bram")
    assert "Hoedan heeft je vergeten" in shown.stdout  # local mode delivers the farewell
    assert "Anna" not in shown.stdout.split("Hoedan heeft je vergeten")[1]


async def _start_session_with_anna(database: Path) -> None:
    store = Store(resolve_database_url(f"sqlite:///{database}"))
    try:
        async with store.transaction() as tx:
            ids = {m.external_id: m.id for m in (await tx.session.exec(select(Member))).all()}
            await tx.intervision.create(
                space_id=1,
                method="incident",
                facilitator_id=ids["bram"] or 0,
                case_owner_id=ids["anna"] or 0,
                venue="group",
                participant_ids=[],
            )
    finally:
        await store.close()


def test_erase_waits_for_a_running_intervision(network: RunHoedan, tmp_path: Path) -> None:
    asyncio.run(_start_session_with_anna(tmp_path / "hoedan.db"))

    refused = network([], "privacy", "erase", "--member", "console:anna", "--yes")

    assert refused.returncode == 1
    assert "console:anna doet mee aan een intervisie die nog loopt" in refused.stderr
    assert all(m.erased_at is None for m in asyncio.run(_members(tmp_path / "hoedan.db")))


def test_erase_with_yes_does_not_ask(network: RunHoedan, tmp_path: Path) -> None:
    erased = network([], "privacy", "erase", "-m", "bram", "-y")

    assert erased.returncode == 0, erased.stderr
    assert "wissen of loskoppelen?" not in erased.stdout
    assert [m.display_name for m in asyncio.run(_members(tmp_path / "hoedan.db"))] == [
        "Anna",
        "oud-lid",
    ]
