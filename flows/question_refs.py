"""How messages refer to a question: its number, its buttons, and its outbox subject.

Shared by asking, answering, inviting and browsing, so a button made in one place is understood
in all the others.
"""

from __future__ import annotations

from flows.context import Context
from flows.messages import Button
from storage.models import Question

SHOW = "question.show"
"""The "Bekijk #12" button; its value is the question number."""
ANSWER_FORM_OPEN = "answer.open_form"
"""The "Ik heb een #zodan" button; its value is the question number."""


def subject(question: Question) -> str:
    """The outbox subject of messages about a question, so replies in their threads find it."""
    return f"question:{question.number}"


def number_from_subject(value: str | None) -> int | None:
    if value is None or not value.startswith("question:"):
        return None
    return number_from(value.removeprefix("question:"))


def number_from(value: str) -> int | None:
    """A question number as people type it: ``12`` or ``#12``."""
    cleaned = value.strip().lstrip("#")
    if cleaned.isascii() and cleaned.isdigit() and len(cleaned) < 10:
        return int(cleaned)
    return None


def answer_button(ctx: Context, question: Question) -> Button:
    return Button(
        label=ctx.texts.render("answer.button"),
        action=ANSWER_FORM_OPEN,
        value=str(question.number),
        style="primary",
    )


def show_button(ctx: Context, number: int) -> Button:
    return Button(
        label=ctx.texts.render("question.show_button", number=number),
        action=SHOW,
        value=str(number),
    )
