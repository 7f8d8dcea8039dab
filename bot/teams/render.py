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
from dataclasses import dataclass
from typing import Any

from bot.sparkline import sparkline
from flows.messages import (
    Button,
    Checkbox,
    Choice,
    Fields,
    Form,
    Heading,
    Input,
    ItemList,
    LongText,
    Message,
    MultiMember,
    Note,
    Paragraph,
    Part,
    Progress,
    Quote,
    Scale,
    ShortText,
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


# Forms

FORM_VERB = "hoedan.form"
"""The verb of a form card's submit action; the inbound side reads such a submission back as a
FormSubmitted rather than a button press."""
INPUT_PREFIX = "input."
"""Teams merges a card's input values into the submit action's data by input id, so the ids
carry a prefix that keeps an input named ``verb`` or ``form`` from overwriting the data."""
EXPANDED_CHOICES = 5
"""Up to this many options are shown as radio buttons or checkboxes, more as a drop-down."""
MAX_INPUT_CHARS = 3000
MAX_LABEL_CHARS = 200
SCALE = (1, 2, 3, 4, 5)
KIND_CODES = {
    "short_text": "t",
    "long_text": "t",
    "choice": "c",
    "multi_member": "p",
    "scale": "s",
    "checkbox": "b",
}
"""How each input's value is read back (see ``inbound.form_values``); a multiple choice is
``m``. Kept in the submit data because Teams returns every input value as a string."""


@dataclass(frozen=True)
class FormTexts:
    """Hoedan's own words on a form card, in the configured language."""

    required: str
    """Shown under a required input left empty."""
    members_placeholder: str
    """In a member input: how to type several names."""
    truncated: str = TRUNCATED_NOTE


def _plain(text: RichText, limit: int) -> str:
    """One line of plain text, for what a card shows as typed: input labels and the entries of
    a drop-down list. Escaping there would show the backslashes."""
    return shorten(" ".join(text.plain.split()), limit)


def _marked(text: RichText, limit: int) -> str:
    """One line for radio buttons, checkboxes and toggles, whose titles Teams renders as
    Markdown (the renderer's ``useMarkdownInRadioButtonAndCheckbox``): escaped like user text."""
    return escape(_plain(text, limit))


def _input_element(item: Input, texts: FormTexts) -> list[Element]:
    """The card elements for one input: a hint above it when it has one, then the input."""
    elements: list[Element] = []
    if item.hint is not None and item.hint.plain.strip():
        elements.append(_block(_text(item.hint, 500), isSubtle=True, size="Small"))
    element: Element = {"id": INPUT_PREFIX + item.name}
    label = _plain(item.label, MAX_LABEL_CHARS)
    if isinstance(item, ShortText | LongText):
        max_length = max(1, min(item.max_length, MAX_INPUT_CHARS))
        element.update(type="Input.Text", label=label, maxLength=max_length)
        if isinstance(item, LongText):
            element["isMultiline"] = True
        if item.initial:
            element["value"] = shorten(item.initial, max_length)
    elif isinstance(item, Choice):
        element.update(type="Input.ChoiceSet", label=label, **_choices(item))
    elif isinstance(item, Scale):
        ends = {SCALE[0]: item.low_label, SCALE[-1]: item.high_label}
        choices = []
        for step in SCALE:
            end = ends.get(step)
            title = f"{step} – {_marked(end, 100)}" if end is not None and end.plain else str(step)
            choices.append({"title": title, "value": str(step)})
        element.update(type="Input.ChoiceSet", label=label, choices=choices, style="expanded")
    elif isinstance(item, Checkbox):
        element.update(
            type="Input.Toggle",
            title=_marked(item.label, MAX_LABEL_CHARS),
            valueOn="true",
            valueOff="false",
        )
    elif isinstance(item, MultiMember):
        element.update(
            type="Input.Text",
            label=label,
            maxLength=MAX_INPUT_CHARS,
            placeholder=texts.members_placeholder,
        )
    else:
        raise TypeError(f"no Teams rendering for {type(item).__name__}")
    if item.required and not isinstance(item, Checkbox):
        element.update(isRequired=True, errorMessage=texts.required)
    elements.append(element)
    return elements


def _choices(item: Choice) -> Element:
    """A few options as radio buttons or checkboxes, more as a drop-down list.

    Teams returns a multiple choice as the chosen values joined with commas, so option values
    must not contain one; the flows' values are ids and slugs.
    """
    if not item.options:
        raise ValueError(f"choice {item.name!r} has no options")
    expanded = len(item.options) <= EXPANDED_CHOICES
    title = _marked if expanded else _plain
    found: Element = {
        "choices": [
            {"title": title(option.label, MAX_LABEL_CHARS) or option.value, "value": option.value}
            for option in item.options
        ],
        "style": "expanded" if expanded else "compact",
    }
    chosen = [option.value for option in item.options if option.value in item.initial]
    if item.multiple:
        found["isMultiSelect"] = True
    if chosen:
        found["value"] = ",".join(chosen if item.multiple else chosen[:1])
    return found


def _kind_code(item: Input) -> str:
    if isinstance(item, Choice) and item.multiple:
        return "m"
    return KIND_CODES[item.kind]


def submit_data(form: Form) -> dict[str, Any]:
    """What a form card's submit button sends back besides the inputs: which form it is and
    how to read each input. Hoedan reads these from the card as it sent it (the outbox row),
    never from the client, which a changed client could otherwise make name anything."""
    return {
        "verb": FORM_VERB,
        "form": form.form_id,
        "kinds": {item.name: _kind_code(item) for item in form.inputs},
        "required": [item.name for item in form.inputs if item.required],
    }


def form_card(form: Form, *, texts: FormTexts) -> dict[str, Any]:
    """A form as an Adaptive Card that is submitted in place, in the member's 1:1 chat.

    Teams has no modal a bot can open from a chat message without a task module, so the form
    is a card: heading, inputs, one submit button. Where the form was opened (a question's
    thread, a channel) stays in the outbox row of the card, out of the client's hands.

    A member input is a text field for names separated by commas: Teams' people picker needs
    Microsoft Graph permissions Hoedan's app registration does not ask for.
    """
    if not form.inputs:
        raise ValueError(f"form {form.form_id!r} has no inputs")
    names = [item.name for item in form.inputs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"form {form.form_id!r} repeats input names: {duplicates}")
    title = _block(_text(form.title, 300) or "Hoedan", size="Medium", weight="Bolder")
    inputs = [element for item in form.inputs for element in _input_element(item, texts)]
    submit: Element = {
        "type": "Action.Submit",
        "title": shorten(form.submit_label.plain, MAX_BUTTON_TITLE) or "OK",
        "style": "positive",
        "data": submit_data(form),
    }
    fallback = shorten(form.title.plain, 200) or "Hoedan"
    card = _card([title, *inputs], fallback=fallback)
    card["actions"] = [submit]
    if _size(card) <= MAX_CARD_CHARS:
        return card
    # Inputs cannot be cut like text (the form would be incomplete): a too-large form is a
    # flow's mistake, shown as a note rather than refused by Teams.
    note = _block(escape(texts.truncated), isSubtle=True, size="Small")
    return _card([title, note], fallback=fallback)


def form_activity(form: Form, *, texts: FormTexts) -> dict[str, Any]:
    """The Bot Connector activity that carries a form card."""
    card = form_card(form, texts=texts)
    return {
        "type": "message",
        "summary": card["fallbackText"],
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": card}],
    }
