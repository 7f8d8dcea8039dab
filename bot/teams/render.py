"""Neutral messages as Adaptive Cards, within Teams' limits, with user text made inert.

Teams renders a card's TextBlocks with a small Markdown subset (bold, italic, lists, links). The
danger in what people typed is not looks but deception and reach: ``[klik hier](https://…)``
disguises a link, ``<https://…>`` and HTML are markup, and ``<at>…</at>`` is how Teams marks a
mention. Cards carry no mention entities, so Teams never turns ``<at>`` in a card into a ping,
but the text is escaped anyway so that it stays literal wherever it is shown.

Decision, as for Slack: only the characters that build links, tags and entities (``[ ] < > &``
and the backslash itself) get a backslash, which Markdown shows as the bare character. ``*`` and
``_`` in user text are left alone: the worst they do is make words bold or italic, which is what
the person gets when typing the same in Teams, while escaping every period and hyphen would
litter ordinary sentences with backslashes on any client that shows escapes literally.

Hoedan's own spans use the catalogue's light formatting: ``*vet*`` becomes ``**vet**`` (single
asterisks are italic in Markdown) and backticks are dropped (cards have no code style).

Buttons become ``Action.Submit`` with ``data = {"verb": action, "value": value}``; the inbound
side maps that, and an ``Action.Execute`` with the same verb and data, back to an ActionEvent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from bot.sparkline import sparkline
from flows.messages import (
    Button,
    Fields,
    Heading,
    ItemList,
    Message,
    Note,
    Paragraph,
    Part,
    Progress,
    Quote,
    Sparkline,
)
from flows.text import RichText, shorten

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.4"
"""1.4 is the first version with Action.Execute, and every Teams client renders it."""

MAX_CARD_CHARS = 24_000
"""Teams refuses a message of more than about 28 KB; the card JSON stays well below that."""
MAX_TEXT_CHARS = 5_000
"""One TextBlock; longer texts are cut (nobody reads more in a chat card)."""
MAX_BUTTON_TITLE = 80
MAX_ACTIONS_PER_SET = 5
"""Teams shows at most six actions side by side; more go in the next row."""
MAX_SPARKLINE_VALUES = 30
PROGRESS_CELLS = 10
TRUNCATED_NOTE = "… (ingekort: niet alles past in één Teams-bericht)"

_FILLED = "▰"
_EMPTY = "▱"

_MARKUP = re.compile(r"([\\\[\]<>&])")
"""Characters that build links, mention tags, HTML and entities."""
_OWN_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")

Element = dict[str, Any]


def escape(text: str) -> str:
    """``text`` made inert: no links, no mention tags, no HTML, no entities."""
    return _MARKUP.sub(r"\\\1", text)


def _own(text: str) -> str:
    """Hoedan's own light formatting in Teams' dialect; stray brackets still escaped."""
    text = text.replace("`", "")
    text = text.replace("[", "\\[").replace("]", "\\]").replace("<", "\\<").replace(">", "\\>")
    return _OWN_BOLD.sub(r"**\1**", text)


def to_markdown(text: RichText) -> str:
    """A rich text for a TextBlock: user spans escaped, own spans lightly formatted."""
    return "".join(escape(span.text) if span.user else _own(span.text) for span in text.spans)


def _block(text: str, **options: Any) -> Element:
    return {"type": "TextBlock", "text": text, "wrap": True, **options}


def _text(text: RichText, limit: int = MAX_TEXT_CHARS) -> str:
    """Markdown for ``text``, shortened on the plain text so an escape is never cut in half."""
    if len(text.plain) <= limit:
        return to_markdown(text)
    return escape(shorten(text.plain, limit))


def part_elements(part: Part) -> list[Element]:
    if isinstance(part, Heading):
        return [_block(_text(part.text, 300), size="Medium", weight="Bolder")]
    if isinstance(part, Paragraph):
        return [_block(_text(part.text))] if part.text else []
    if isinstance(part, Fields):
        facts = [
            {"title": escape(shorten(item.label.plain, 200)), "value": _text(item.value, 1000)}
            for item in part.items
        ]
        return [{"type": "FactSet", "facts": facts}] if facts else []
    if isinstance(part, ItemList):
        lines = [
            (f"{index}. " if part.numbered else "- ") + _text(item, 1000)
            for index, item in enumerate(part.items, start=1)
        ]
        return [_block("\n".join(lines))] if lines else []
    if isinstance(part, Quote):
        return [
            {
                "type": "Container",
                "style": "emphasis",
                "items": [_block(_text(part.text), isSubtle=True)],
            }
        ]
    if isinstance(part, Note):
        return [_block(_text(part.text), isSubtle=True, size="Small")]
    if isinstance(part, Progress):
        return [_block(_progress(part))]
    if isinstance(part, Sparkline):
        bars = sparkline(part.values, limit=MAX_SPARKLINE_VALUES)
        text = "  ".join(item for item in (_text(part.label, 200), bars) if item)
        return [_block(text, isSubtle=True, size="Small")] if text else []
    raise TypeError(f"no Teams rendering for {type(part).__name__}")


def _progress(part: Progress) -> str:
    """A ten-cell bar, the count and the label: ``▰▰▰▱▱▱▱▱▱▱  3/10 · label``."""
    total = max(part.total, 0)
    current = min(max(part.current, 0), total)
    filled = (2 * PROGRESS_CELLS * current + total) // (2 * total) if total else 0
    text = f"{_FILLED * filled}{_EMPTY * (PROGRESS_CELLS - filled)}  {current}/{total}"
    label = _text(part.label, 200)
    return f"{text} · {label}" if label else text


def button_action(button: Button) -> Element:
    action: Element = {
        "type": "Action.Submit",
        "title": shorten(button.label.plain, MAX_BUTTON_TITLE),
        "data": {"verb": button.action, "value": button.value},
    }
    if button.style == "primary":
        action["style"] = "positive"
    elif button.style == "danger":
        action["style"] = "destructive"
    return action


def _action_sets(buttons: Sequence[Button]) -> list[Element]:
    return [
        {
            "type": "ActionSet",
            "actions": [button_action(b) for b in buttons[start : start + MAX_ACTIONS_PER_SET]],
        }
        for start in range(0, len(buttons), MAX_ACTIONS_PER_SET)
    ]


def adaptive_card(message: Message, *, truncated_note: str = TRUNCATED_NOTE) -> dict[str, Any]:
    """The card for a message; cut at the end of its content when it would be too big.

    Buttons are kept when the content is cut: they are how the reader goes on, while the tail of
    a long list can be asked for again. Where the cut is, a note says so.
    """
    body = [element for part in message.parts for element in part_elements(part)]
    actions = _action_sets(message.buttons)
    card = _card(body + actions, fallback=summary_text(message))
    if _size(card) <= MAX_CARD_CHARS:
        return card
    note = _block(escape(truncated_note), isSubtle=True, size="Small")
    while body:
        body.pop()
        card = _card([*body, note, *actions], fallback=summary_text(message))
        if _size(card) <= MAX_CARD_CHARS:
            return card
    return _card([note], fallback=summary_text(message))


def _card(body: list[Element], *, fallback: str) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "fallbackText": fallback,
        "body": body,
        "msteams": {"width": "Full"},
    }


def _size(card: dict[str, Any]) -> int:
    return len(json.dumps(card, ensure_ascii=False))


def summary_text(message: Message) -> str:
    """One plain line for notifications and clients that show no cards; never empty."""
    return shorten(message.summary, 200) or "Hoedan"


def message_activity(message: Message, *, truncated_note: str = TRUNCATED_NOTE) -> dict[str, Any]:
    """The Bot Connector activity that carries a message as one Adaptive Card."""
    return {
        "type": "message",
        "summary": summary_text(message),
        "attachments": [
            {
                "contentType": CARD_CONTENT_TYPE,
                "content": adaptive_card(message, truncated_note=truncated_note),
            }
        ],
    }
