"""``hoedan privacy export|erase --member …``: a member's data, for an admin on the machine.

For requests that do not come through the chat (a letter, an e-mail to the coordinator, a
member who left the workspace). Access to the machine and its database is the permission; the
chat's roles do not apply here. The member is named as ``platform:id`` (``slack:U01ABCDEF``) or
by name; a name that fits several members, or none, stops with the candidates and exit code 1,
so a script never erases the wrong person.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer

from bot.app import create_app
from bot.cli import _check_writable, _in_network, _report_file, _settings, _start, err
from bot.settings import Settings
from flows import house_rules, privacy, privacy_export
from flows.errors import UserError
from flows.texts import Texts, texts_for
from storage.enums import Platform
from storage.models import Member
from storage.store import Transaction
from storage.types import utcnow

T = TypeVar("T")

YES = frozenset({"j", "ja", "y", "yes"})
CLI_REFUSALS = {
    "privacy.forget.in_session": "privacy.cli.in_session",
    "privacy.forget.already": "privacy.cli.already",
}
"""Every refusal of :func:`flows.privacy.erase` (worded for the member in chat), as the admin
on the machine hears it."""


class MemberNotFound(Exception):
    """The reference names nobody, or more than one member; ``lines`` say which."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__(lines[0])
        self.lines = lines


async def find_member(
    tx: Transaction, network_id: int | None, reference: str, texts: Texts
) -> Member:
    """The one member ``reference`` names: ``platform:id``, else a name on any platform."""
    platform, _, external_id = reference.strip().partition(":")
    found: list[Member] = []
    if external_id and platform.lower() in {p.value for p in Platform}:
        member = await tx.members.by_external_id(
            platform=Platform(platform.lower()), external_id=external_id.strip()
        )
        found = [member] if member is not None and member.erased_at is None else []
    elif network_id is not None:
        found = await tx.members.named(network_id=network_id, name=reference)
    if len(found) == 1:
        return found[0]
    if not found:
        raise MemberNotFound([texts.plain("privacy.cli.unknown_member", member=reference)])
    raise MemberNotFound(
        [
            texts.plain("privacy.cli.ambiguous", member=reference),
            *(
                texts.plain("privacy.cli.candidate", ref=_ref(m), name=m.display_name)
                for m in found
            ),
        ]
    )


def _ref(member: Member) -> str:
    return f"{member.platform}:{member.external_id}"


def export_member(reference: str, out: Path | None) -> None:
    settings = _settings()
    texts = texts_for(settings.language)
    now = utcnow()
    path = out if out is not None else Path(privacy_export.filename(now))
    _check_writable(path, privacy_export.filename(now), texts)

    async def read(tx: Transaction, network_id: int | None) -> tuple[str, dict[str, Any]]:
        member = await find_member(tx, network_id, reference, texts)
        record = await tx.privacy.record(member, consent_flow_kind=house_rules.KIND)
        document = privacy_export.document(
            texts, record, network=settings.network_name, generated_at=now
        )
        return member.display_name, document

    try:
        name, _ = _report_file(
            settings,
            path,
            read,
            lambda found: privacy_export.as_json(found[1]),
            steps=("privacy.cli.reading", "privacy.cli.building", "export.cli.writing"),
        )
    except MemberNotFound as problem:
        _fail(problem.lines)
    typer.echo(texts.plain("privacy.cli.written", name=name, path=str(path)))


def erase_member(reference: str, *, yes: bool) -> None:
    settings = _settings()
    texts = texts_for(settings.language)

    async def look_up(tx: Transaction, network_id: int | None) -> Member:
        return await find_member(tx, network_id, reference, texts)

    try:
        member = _in_database(settings, look_up)
    except MemberNotFound as problem:
        _fail(problem.lines)
    ref = _ref(member)
    if not yes:
        answer = typer.prompt(
            texts.plain("privacy.cli.confirm", name=member.display_name, ref=ref) + " [j/N]",
            default="n",
            show_default=False,
        )
        if answer.strip().lower() not in YES:
            _fail([texts.plain("privacy.cli.declined")])
    config = settings.flow_config()

    async def forget(tx: Transaction, _network_id: int | None) -> None:
        current = await tx.members.get(member.id or 0)
        if current is None:
            raise UserError("privacy.forget.already")
        await privacy.erase(tx, config, current, now=utcnow(), by_admin=True)

    try:
        _in_database(settings, forget)
    except UserError as problem:
        _fail([texts.plain(CLI_REFUSALS[problem.key], ref=ref)])
    typer.echo(texts.plain("privacy.cli.erased", ref=ref))


def _in_database(settings: Settings, work: Callable[[Transaction, int | None], Awaitable[T]]) -> T:
    """``work`` in one transaction of the configured database (see ``bot.cli._in_network``)."""
    hoedan = _start(lambda: create_app(settings, default_log_level="WARNING"))
    return _start(lambda: asyncio.run(_in_network(hoedan, work)))


def _fail(lines: list[str]) -> NoReturn:
    for line in lines:
        err.print(line, markup=False, soft_wrap=True)
    raise typer.Exit(code=1)
