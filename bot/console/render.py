"""Neutral messages as terminal text with rich: cards readable, buttons as numbered choices."""

from __future__ import annotations

import re

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from bot.sparkline import sparkline
from flows.messages import (
    Button,
    Fields,
    Heading,
    ItemList,
    Message,
    Note,
    Paragraph,
    Progress,
    Quote,
    Sparkline,
)
from flows.text import RichText

_INLINE = re.compile(r"\*(?P<bold>[^*\n]+)\*|_(?P<italic>[^_\n]+)_|`(?P<code>[^`\n]+)`")


def to_text(rich_text: RichText, style: str = "") -> Text:
    """Hoedan's own spans may use *bold*, _italic_ and `code`; user spans are taken literally.

    A bold pair may also wrap a user's text (``*{{ name }}*``): the opening and closing marks
    are then in two of Hoedan's spans, and the user's text between them is shown bold, never
    parsed.
    """
    out = Text(style=style)
    bold = False
    for span in rich_text.spans:
        if span.user:
            out.append(span.text, style="bold" if bold else "")
            continue
        position = 0
        for match in _INLINE.finditer(span.text):
            bold = _append_toggling(out, span.text[position : match.start()], bold)
            if match.group("bold"):
                out.append(match.group("bold"), style="bold")
            elif match.group("italic"):
                out.append(match.group("italic"), style="bold italic" if bold else "italic")
            else:
                out.append(match.group("code"), style="bold cyan" if bold else "cyan")
            position = match.end()
        bold = _append_toggling(out, span.text[position:], bold)
    return out


def _append_toggling(out: Text, text: str, bold: bool) -> bool:
    """Append Hoedan's text in which a lone ``*`` opens or closes bold across spans."""
    for index, piece in enumerate(text.split("*")):
        if index:
            bold = not bold
        out.append(piece, style="bold" if bold else "")
    return bold


def _part(part: object) -> RenderableType:
    if isinstance(part, Heading):
        return to_text(part.text, style="bold")
    if isinstance(part, Paragraph):
        return to_text(part.text)
    if isinstance(part, Note):
        return to_text(part.text, style="dim")
    if isinstance(part, Quote):
        return Text("│ ", style="dim") + to_text(part.text, style="italic")
    if isinstance(part, ItemList):
        lines = Text()
        for index, item in enumerate(part.items, start=1):
            bullet = f"{index}. " if part.numbered else "• "
            if index > 1:
                lines.append("\n")
            lines.append(bullet)
            lines.append_text(to_text(item))
        return lines
    if isinstance(part, Fields):
        lines = Text()
        for index, field in enumerate(part.items):
            if index:
                lines.append("\n")
            lines.append_text(to_text(field.label, style="bold"))
            lines.append(": ")
            lines.append_text(to_text(field.value))
        return lines
    if isinstance(part, Progress):
        filled = round(10 * part.current / part.total) if part.total else 0
        return to_text(part.label) + Text(f"  {'■' * filled}{'□' * (10 - filled)}")
    if isinstance(part, Sparkline):
        return to_text(part.label) + Text(f"  {sparkline(part.values)}")
    raise TypeError(f"no console rendering for {type(part).__name__}")


def button_row(buttons: tuple[Button, ...]) -> Text:
    row = Text()
    for index, button in enumerate(buttons, start=1):
        if index > 1:
            row.append("   ")
        row.append(f"[{index}] ", style="bold magenta")
        row.append_text(to_text(button.label))
    return row


def render(message: Message, *, title: str, boxed: bool) -> RenderableType:
    """A card as a panel in a terminal, or as plain lines when output is piped."""
    body: list[RenderableType] = [_part(part) for part in message.parts]
    if message.buttons:
        body.append(button_row(message.buttons))
    if boxed:
        return Panel(Group(*body), title=Text(title), title_align="left", expand=False)
    lines = Text(title, style="bold")
    for renderable in body:
        assert isinstance(renderable, Text)
        for line in renderable.split("\n"):
            lines.append("\n  ")
            lines.append_text(line)
    return lines
