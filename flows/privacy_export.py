"""What ``mijngegevens`` gives a member: a readable summary in chat, and the whole record as
JSON (the same for ``hoedan privacy export``).

The file is versioned (``schema_version``) so that someone who keeps it, or a tool that reads
it, knows what the fields mean; every moment in it is ISO 8601 in UTC. The summary is made from
the same record, so the two never disagree.

Messages Hoedan sent the member are listed by their first line only: a message can quote what
others said (the record of an intervision the member brought a case to), and the export shows
other people only where they answered the member's question in public.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from flows.messages import Field_, Fields, Heading, ItemList, Message, Note, Paragraph
from flows.reports import ReportRequest
from flows.text import shorten
from flows.texts import Texts, UserValue, user
from storage.enums import DeliveryKind
from storage.repositories.privacy import DeliveryToMember, MemberRecord

SCHEMA = "hoedan/mijngegevens"
SCHEMA_VERSION = 1
SHOWN = 5
"""Items per list in the chat summary; the file has them all."""
LINE_CHARS = 100

COUNTED = (
    "questions",
    "answers",
    "outcomes",
    "prompt_answers",
    "reflections",
    "rounds_answered",
    "sessions",
    "contributions",
    "lessons",
    "rules_acknowledged",
    "spaces",
)
"""The sections counted in the summary, in this order (``privacy.summary.count.<name>``)."""


def filename(now: datetime) -> str:
    return f"mijngegevens-{now.date().isoformat()}.json"


def document(
    texts: Texts, record: MemberRecord, *, network: str, generated_at: datetime
) -> dict[str, Any]:
    """The whole record as a JSON-ready document."""
    sections = {
        field.name: _plain(getattr(record, field.name))
        for field in dataclasses.fields(record)
        if field.name != "deliveries"
    }
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "generated_at": generated_at.isoformat(),
        "network": network,
        "notes": [
            texts.plain(f"privacy.export.note.{name}")
            for name in ("anonymous", "intervision", "deliveries", "others")
        ],
        **sections,
        "deliveries": [_delivery(item) for item in record.deliveries],
    }


def as_json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def _plain(value: Any) -> Any:
    """Dataclasses as dicts and moments as ISO text, all the way down."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)
        }
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _delivery(item: DeliveryToMember) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "status": item.status,
        "created_at": item.created_at.isoformat(),
        "sent_at": item.sent_at.isoformat() if item.sent_at else None,
        "first_line": _first_line(item),
    }


def _first_line(item: DeliveryToMember) -> str:
    try:
        if item.kind == DeliveryKind.FILE:
            return ReportRequest.model_validate(item.payload).filename
        return Message.model_validate(item.payload).summary
    except ValidationError:
        return ""


def summary(texts: Texts, record: MemberRecord, *, timezone: str, attached: str | None) -> Message:
    """The chat version: who Hoedan thinks the member is, counts, and the newest items.

    ``attached`` is the name of the file that follows the message, or None where the platform
    cannot receive it yet.
    """
    profile = record.profile
    zone = ZoneInfo(timezone)

    def day(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%d-%m-%Y")

    parts: list[Heading | Paragraph | Fields | ItemList | Note] = [
        Heading(text=texts.render("privacy.summary.heading")),
        Paragraph(
            text=texts.render(
                "privacy.summary.profile",
                name=user(profile.display_name),
                region=user(profile.region or texts.plain("privacy.summary.no_region")),
                role=texts.plain(f"role.names.{profile.role}"),
                since=day(profile.created_at),
            )
        ),
        Fields(
            items=tuple(
                Field_(
                    label=texts.render(f"privacy.summary.count.{name}"),
                    value=texts.render("privacy.summary.number", count=len(getattr(record, name))),
                )
                for name in COUNTED
            )
        ),
    ]
    questions = [
        texts.render("privacy.summary.question", number=q.number, text=_short(q.text))
        for q in record.questions
    ]
    answers = [
        texts.render("privacy.summary.answer", number=a.question_number, text=_short(a.text))
        for a in record.answers
    ]
    sessions = [
        texts.render(
            "privacy.summary.session", method=s.method, space=user(s.space), day=day(s.created_at)
        )
        for s in record.sessions
    ]
    for key, lines in (
        ("questions", questions),
        ("answers", answers),
        ("sessions", sessions),
    ):
        if lines:
            parts.append(Paragraph(text=texts.render(f"privacy.summary.latest.{key}")))
            parts.append(ItemList(items=tuple(lines[-SHOWN:])))
    parts.append(Note(text=texts.render("privacy.summary.anonymous")))
    if attached is not None:
        parts.append(Note(text=texts.render("privacy.summary.file", filename=attached)))
    else:
        parts.append(Note(text=texts.render("privacy.summary.no_file")))
    parts.append(Note(text=texts.render("privacy.summary.forget_hint")))
    return Message(parts=tuple(parts))


def _short(text: str) -> UserValue:
    return user(shorten(" ".join(text.split()), LINE_CHARS))
