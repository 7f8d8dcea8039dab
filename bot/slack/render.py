"""Neutral messages and forms as Slack Block Kit JSON, always within Slack's limits.

Slack rejects a whole message when one block breaks a limit, so a flow that lists 200 questions
would otherwise post nothing at all. Every limit is therefore enforced here, before slack_sdk's
own validation sees the blocks: text is split or shortened visibly ("…"), surplus blocks are
replaced by a visible note, and the ``.to_dict()`` validation of slack_sdk is a safety net that
must never fire. Only values that are data rather than text (button values, option values,
private metadata, ids) are never cut: a longer one is a programming error and raises ValueError.

Lengths are counted on the text as sent, after escaping, because that is what Slack counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    InputInteractiveElement,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.slack.mrkdwn import escape, to_mrkdwn, to_plain
from bot.sparkline import sparkline
from flows.events import FormValue
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

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_CHARS = 3000
MAX_HEADER_CHARS = 150
MAX_BUTTON_LABEL = 75
MAX_BUTTON_VALUE = 2000
MAX_TITLE_CHARS = 24
MAX_ACTION_ID = 255
MAX_FALLBACK_CHARS = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_CHARS = 2000
MAX_ACTIONS_ELEMENTS = 25
MAX_SELECT_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_CONTEXT_CHARS = 3000
MAX_BLOCK_ID = 255
MAX_PRIVATE_METADATA = 3000
MAX_INPUT_LABEL = 2000
MAX_INPUT_HINT = 2000
MAX_INPUT_CHARS = 3000
MAX_SPARKLINE_VALUES = 60

ELLIPSIS = "…"
TRUNCATED_NOTE = "… (ingekort: niet alles past in één Slack-bericht)"
CLOSE_LABEL = "Annuleer"
CHECKBOX_VALUE = "yes"
PROGRESS_CELLS = 10
SCALE = range(1, 6)

_T = TypeVar("_T")
_FILLED = "▰"
_EMPTY = "▱"
_ENTITIES = ("&amp;", "&lt;", "&gt;")
_LONGEST_ENTITY = max(len(entity) for entity in _ENTITIES)


def message_blocks(
    message: Message, *, max_blocks: int = MAX_MESSAGE_BLOCKS, truncated_note: str = TRUNCATED_NOTE
) -> list[dict[str, Any]]:
    """A card as blocks: its parts in order, then its buttons, in at most ``max_blocks`` blocks.

    When the card does not fit, the buttons are kept (they are how the reader goes on, while the
    tail of a long list can be asked for again) and the content is cut, with ``truncated_note``
    in a context block where the cut is, so nobody mistakes a shortened card for the whole.
    """
    if max_blocks < 1:
        raise ValueError(f"max_blocks must be at least 1, not {max_blocks}")
    content = [block for part in message.parts for block in _part_blocks(part)]
    actions = _actions_blocks(message.buttons)
    if len(content) + len(actions) > max_blocks:
        actions = actions[: max_blocks - 1]
        content = [*content[: max_blocks - 1 - len(actions)], _truncation_block(truncated_note)]
    return [block.to_dict() for block in (*content, *actions)]


def fallback_text(message: Message) -> str:
    """The ``text`` of chat.postMessage: what notifications and screen readers show.

    That field is mrkdwn, so it is escaped like any other mrkdwn; it is never empty because Slack
    then warns and some clients show nothing at all.
    """
    first = next(
        (
            part.text.plain.strip()
            for part in message.parts
            if isinstance(part, Heading | Paragraph) and part.text.plain.strip()
        ),
        "",
    )
    text = first or message.summary.strip() or "Hoedan"
    return _shorten_mrkdwn(escape(text), MAX_FALLBACK_CHARS)


def button_action_id(action: str, index: int) -> str:
    """The action_id of a button: Slack wants them unique per message, a flow's action is not
    (two "answer" buttons), so the button's position is appended after a ``#``."""
    action_id = f"{action}#{index}"
    if len(action_id) > MAX_ACTION_ID:
        raise ValueError(f"action_id longer than {MAX_ACTION_ID} characters: {action_id[:40]}…")
    return action_id


def action_from_id(action_id: str) -> str:
    """The flow's action back from an action_id made by ``button_action_id``."""
    action, separator, _ = action_id.rpartition("#")
    return action if separator else action_id


def form_view(
    form: Form, *, private_metadata: str = "", close_label: str = CLOSE_LABEL
) -> dict[str, Any]:
    """A form as a modal; its submission comes back under ``callback_id`` = ``form.form_id``.

    Each input's name is both its block_id and its action_id, which is what ``form_values``
    keys the submitted values by.
    """
    if len(private_metadata) > MAX_PRIVATE_METADATA:
        raise ValueError(
            f"private_metadata is {len(private_metadata)} characters, "
            f"Slack allows {MAX_PRIVATE_METADATA}: keep a reference there, not the data"
        )
    _check_id("callback_id", form.form_id)
    if not form.inputs:
        raise ValueError(f"form {form.form_id!r} has no inputs; Slack shows no empty modal")
    names = [item.name for item in form.inputs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"form {form.form_id!r} repeats input names: {duplicates}")
    submit = _shorten_plain(form.submit_label, MAX_TITLE_CHARS)
    if not submit.strip():
        raise ValueError(f"form {form.form_id!r} has an empty submit label")
    view = View(
        type="modal",
        callback_id=form.form_id,
        title=PlainTextObject(text=_shorten_plain(form.title, MAX_TITLE_CHARS).strip() or "Hoedan"),
        submit=PlainTextObject(text=submit),
        close=PlainTextObject(text=shorten(close_label, MAX_TITLE_CHARS) or CLOSE_LABEL),
        # More than a modal holds is a flow's mistake; the first inputs are what it asks most.
        blocks=[_input_block(item) for item in form.inputs[:MAX_VIEW_BLOCKS]],
        private_metadata=private_metadata or None,
    )
    return view.to_dict()


def form_values(state_values: Mapping[str, Mapping[str, Any]]) -> dict[str, FormValue]:
    """A view_submission's ``view.state.values`` as neutral values keyed by input name.

    The payload comes over the network, so anything unexpected is skipped rather than trusted:
    a missing or odd value yields what can be read, never an exception.
    """
    values: dict[str, FormValue] = {}
    if not isinstance(state_values, Mapping):
        return values
    for block_id, actions in state_values.items():
        if not isinstance(block_id, str) or not isinstance(actions, Mapping):
            continue
        for element in actions.values():
            if not isinstance(element, Mapping):
                continue
            known, value = _element_value(element)
            if known:
                values[block_id] = value
                break
    return values


def home_view(message: Message, *, truncated_note: str = TRUNCATED_NOTE) -> dict[str, Any]:
    """A card as the App Home tab, which holds twice as many blocks as a message."""
    blocks: list[dict[str, Any]] = message_blocks(
        message, max_blocks=MAX_VIEW_BLOCKS, truncated_note=truncated_note
    )
    if not blocks:  # Slack refuses a view without blocks
        blocks = [_context("Hoedan").to_dict()]
    return View(type="home", blocks=blocks).to_dict()


# Message parts


def _part_blocks(part: Part) -> list[Block]:
    """The blocks of one part; none when it has nothing to show, as Slack rejects empty text."""
    if isinstance(part, Heading):
        text = _shorten_plain(part.text, MAX_HEADER_CHARS, single_line=True)
        return [HeaderBlock(text=PlainTextObject(text=text))] if text.strip() else []
    if isinstance(part, Paragraph):
        lines = _split_lines(to_mrkdwn(part.text).split("\n"), MAX_SECTION_CHARS)
        return [_section(text) for text in _pack(lines, MAX_SECTION_CHARS)]
    if isinstance(part, ItemList):
        return _item_list(part)
    if isinstance(part, Fields):
        return _fields(part)
    if isinstance(part, Quote):
        return _quote(part)
    if isinstance(part, Note):
        text = _shorten_mrkdwn(to_mrkdwn(part.text), MAX_CONTEXT_CHARS)
        return [_context(text)] if text.strip() else []
    if isinstance(part, Progress):
        return [_section(_progress(part))]
    if isinstance(part, Sparkline):
        return _sparkline(part)
    raise TypeError(f"no Slack rendering for {type(part).__name__}")


def _item_list(part: ItemList) -> list[Block]:
    """Items packed into as few sections as fit; an item too long for a section is shortened,
    since splitting one item over two sections would look like two items."""
    lines = []
    for number, item in enumerate(part.items, start=1):
        bullet = f"{number}. " if part.numbered else "• "
        lines.append(_shorten_mrkdwn(bullet + to_mrkdwn(item), MAX_SECTION_CHARS))
    return [_section(text) for text in _pack(lines, MAX_SECTION_CHARS)]


def _fields(part: Fields) -> list[Block]:
    """Label/value pairs as section fields, which Slack shows in two columns."""
    texts = []
    for field in part.items:
        label = to_mrkdwn(field.label).replace("\n", " ").strip()
        value = to_mrkdwn(field.value)
        text = "\n".join(item for item in (f"*{label}*" if label else "", value) if item)
        text = _shorten_mrkdwn(text, MAX_FIELD_CHARS)
        if text.strip():
            texts.append(text)
    return [
        SectionBlock(fields=[_mrkdwn(text) for text in chunk])
        for chunk in _chunked(texts, MAX_SECTION_FIELDS)
    ]


def _quote(part: Quote) -> list[Block]:
    """Every line, including the continuation of a split line, starts with "> "."""
    if not part.text.plain.strip():
        return []
    prefix = "> "
    lines = _split_lines(to_mrkdwn(part.text).split("\n"), MAX_SECTION_CHARS - len(prefix))
    return [_section(text) for text in _pack((prefix + line for line in lines), MAX_SECTION_CHARS)]


def _progress(part: Progress) -> str:
    """A ten-cell bar, the count and the label: ``▰▰▰▱▱▱▱▱▱▱  3/10 · label``."""
    total = max(part.total, 0)
    current = min(max(part.current, 0), total)
    # Round half up in integers, so 5 of 10 cells is exact and 1/3 shows 3 cells, not 4.
    filled = (2 * PROGRESS_CELLS * current + total) // (2 * total) if total else 0
    text = f"{_FILLED * filled}{_EMPTY * (PROGRESS_CELLS - filled)}  {current}/{total}"
    label = to_mrkdwn(part.label).strip()
    if label:
        text = _shorten_mrkdwn(f"{text} · {label}", MAX_SECTION_CHARS)
    return text


def _sparkline(part: Sparkline) -> list[Block]:
    bars = sparkline(part.values, limit=MAX_SPARKLINE_VALUES)
    label = _shorten_mrkdwn(
        to_mrkdwn(part.label).strip(), MAX_CONTEXT_CHARS - len(bars) - len("  ")
    )
    text = "  ".join(item for item in (label, bars) if item)
    return [_context(text)] if text else []


def _actions_blocks(buttons: Sequence[Button]) -> list[Block]:
    elements = [_button(button, index) for index, button in enumerate(buttons)]
    return [ActionsBlock(elements=chunk) for chunk in _chunked(elements, MAX_ACTIONS_ELEMENTS)]


def _button(button: Button, index: int) -> ButtonElement:
    if len(button.value) > MAX_BUTTON_VALUE:
        raise ValueError(
            f"button {button.action!r} carries a value of {len(button.value)} characters, "
            f"Slack allows {MAX_BUTTON_VALUE}: pass a reference, not the data"
        )
    label = _shorten_plain(button.label, MAX_BUTTON_LABEL, single_line=True)
    if not label.strip():
        raise ValueError(f"button {button.action!r} has an empty label")
    return ButtonElement(
        text=PlainTextObject(text=label),
        action_id=button_action_id(button.action, index),
        # Slack refuses an empty value; a missing one reads back as "" in the action payload.
        value=button.value or None,
        style=None if button.style == "default" else button.style,
    )


def _truncation_block(truncated_note: str) -> Block:
    text = _shorten_mrkdwn(escape(truncated_note), MAX_CONTEXT_CHARS)
    return _context(text if text.strip() else ELLIPSIS)


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=_mrkdwn(text))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[_mrkdwn(text)])


def _mrkdwn(text: str) -> MarkdownTextObject:
    """Verbatim, so Slack links no bare URLs or channel names we did not mean to link."""
    return MarkdownTextObject(text=text, verbatim=True)


# Forms


def _input_block(item: Input) -> InputBlock:
    _check_id("input name", item.name)
    label = _shorten_plain(item.label, MAX_INPUT_LABEL)
    if not label.strip():
        raise ValueError(f"input {item.name!r} has an empty label")
    hint = _shorten_plain(item.hint, MAX_INPUT_HINT) if item.hint is not None else ""
    return InputBlock(
        block_id=item.name,
        label=PlainTextObject(text=label),
        hint=PlainTextObject(text=hint) if hint.strip() else None,
        optional=not item.required,
        element=_input_element(item),
    )


def _input_element(item: Input) -> InputInteractiveElement:
    if isinstance(item, ShortText | LongText):
        max_length = max(1, min(item.max_length, MAX_INPUT_CHARS))
        return PlainTextInputElement(
            action_id=item.name,
            multiline=isinstance(item, LongText) or None,
            max_length=max_length,
            initial_value=shorten(item.initial, max_length) or None,
        )
    if isinstance(item, Choice):
        if not item.options:
            raise ValueError(f"choice {item.name!r} has no options")
        options = [
            _option(option.value, option.label) for option in item.options[:MAX_SELECT_OPTIONS]
        ]
        chosen = [option for option in options if option.value in item.initial]
        if item.multiple:
            return StaticMultiSelectElement(
                action_id=item.name, options=options, initial_options=chosen or None
            )
        return StaticSelectElement(
            action_id=item.name, options=options, initial_option=chosen[0] if chosen else None
        )
    if isinstance(item, MultiMember):
        return UserMultiSelectElement(action_id=item.name)
    if isinstance(item, Scale):
        ends = {SCALE[0]: item.low_label, SCALE[-1]: item.high_label}
        return RadioButtonsElement(
            action_id=item.name,
            options=[_scale_option(step, ends.get(step)) for step in SCALE],
        )
    if isinstance(item, Checkbox):
        return CheckboxesElement(action_id=item.name, options=[_option(CHECKBOX_VALUE, item.label)])
    raise TypeError(f"no Slack rendering for {type(item).__name__}")


def _option(value: str, label: RichText) -> Option:
    if len(value) > MAX_OPTION_VALUE:
        raise ValueError(
            f"option value of {len(value)} characters, "
            f"Slack allows {MAX_OPTION_VALUE}: {value[:40]}…"
        )
    text = _shorten_plain(label, MAX_OPTION_TEXT, single_line=True)
    if not text.strip():
        text = shorten(value, MAX_OPTION_TEXT) or ELLIPSIS
    return Option(value=value, text=PlainTextObject(text=text))


def _scale_option(step: int, label: RichText | None) -> Option:
    text = str(step)
    if label is not None and label.plain.strip():
        text = f"{step} – {to_plain(label).strip()}"
    return Option(
        value=str(step),
        text=PlainTextObject(text=shorten(text.replace("\n", " "), MAX_OPTION_TEXT)),
    )


def _element_value(element: Mapping[str, Any]) -> tuple[bool, FormValue]:
    """``(True, value)`` for an element type Hoedan uses, ``(False, None)`` for anything else."""
    kind = element.get("type")
    if kind == "plain_text_input":
        value = element.get("value")
        return True, value if isinstance(value, str) else ""
    if kind in ("static_select", "radio_buttons"):
        selected = element.get("selected_option")
        value = selected.get("value") if isinstance(selected, Mapping) else None
        if not isinstance(value, str):
            return True, None
        if kind == "radio_buttons" and value.isascii() and value.isdigit():
            return True, int(value)
        return True, value
    if kind == "multi_static_select":
        chosen = element.get("selected_options")
        if not isinstance(chosen, list):
            return True, []
        picked = [option.get("value") for option in chosen if isinstance(option, Mapping)]
        return True, [value for value in picked if isinstance(value, str)]
    if kind == "multi_users_select":
        users = element.get("selected_users")
        if not isinstance(users, list):
            return True, []
        return True, [user for user in users if isinstance(user, str)]
    if kind == "checkboxes":
        selected = element.get("selected_options")
        return True, bool(selected) if isinstance(selected, list) else False
    return False, None


def _check_id(what: str, value: str) -> None:
    """Ids are data that come back to us: cutting them would break the round trip."""
    if not 1 <= len(value) <= MAX_BLOCK_ID:
        raise ValueError(f"{what} must be 1 to {MAX_BLOCK_ID} characters: {value[:40]!r}")


# Text helpers


def _shorten_plain(text: RichText, limit: int, *, single_line: bool = False) -> str:
    plain = to_plain(text)
    if single_line:
        plain = " ".join(plain.splitlines())
    return shorten(plain, limit)


def _shorten_mrkdwn(text: str, limit: int) -> str:
    """Like ``flows.text.shorten``, but never cuts an ``&amp;`` in half, which would show as a
    stray fragment."""
    if len(text) <= limit:
        return text
    return text[: _safe_cut(text, limit - len(ELLIPSIS))].rstrip() + ELLIPSIS


def _safe_cut(text: str, end: int) -> int:
    """The greatest position ≤ ``end`` that is not inside an entity of escaped text."""
    end = max(0, end)
    amp = text.rfind("&", max(0, end - _LONGEST_ENTITY + 1), end)
    if amp != -1 and ";" not in text[amp:end]:
        return amp
    return end


def _split_lines(lines: Iterable[str], limit: int) -> Iterator[str]:
    """Each line as is, or split at spaces into pieces of at most ``limit`` characters; a word
    longer than that is cut between entities."""
    for line in lines:
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit + 1)
            if cut > 0:
                yield line[:cut]
                line = line[cut + 1 :]
            else:
                cut = _safe_cut(line, limit) or limit
                yield line[:cut]
                line = line[cut:]
        yield line


def _pack(lines: Iterable[str], limit: int) -> list[str]:
    """Lines joined into as few texts of at most ``limit`` characters as possible; every line
    must already fit. Blank texts are dropped, since Slack rejects them."""
    chunks: list[list[str]] = []
    size = 0
    for line in lines:
        if chunks and size + 1 + len(line) <= limit:
            chunks[-1].append(line)
            size += 1 + len(line)
        else:
            chunks.append([line])
            size = len(line)
    return [text for text in ("\n".join(chunk) for chunk in chunks) if text.strip()]


def _chunked(items: Sequence[_T], size: int) -> list[list[_T]]:
    return [list(items[start : start + size]) for start in range(0, len(items), size)]
