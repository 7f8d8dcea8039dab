"""Text that knows which parts came from a user.

Every renderer escapes the user's parts for its platform (Slack mrkdwn, Teams markdown, terminal
markup), while Hoedan's own parts may carry light formatting: ``*bold*``, ``_italic_`` and
``\u0060code\u0060``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import BaseModel, ConfigDict


class Span(BaseModel):
    """A piece of text; ``user`` marks text someone typed, which must never be interpreted."""

    model_config = ConfigDict(frozen=True)

    text: str
    user: bool = False


class RichText(BaseModel):
    """A sequence of spans; most texts are one span, templates with user values have several."""

    model_config = ConfigDict(frozen=True)

    spans: tuple[Span, ...] = ()

    @property
    def plain(self) -> str:
        """The text without any distinction, for logs, notifications and length checks."""
        return "".join(span.text for span in self.spans)

    def __add__(self, other: RichText) -> RichText:
        return RichText(spans=self.spans + other.spans)

    def __bool__(self) -> bool:
        return any(span.text for span in self.spans)


def ours(text: str) -> RichText:
    """Hoedan's own text (may use light formatting)."""
    return RichText(spans=(Span(text=text),))


def theirs(text: str) -> RichText:
    """Text a user typed: always shown literally."""
    return RichText(spans=(Span(text=text, user=True),))


def join(parts: Iterable[RichText], separator: str = "") -> RichText:
    spans: list[Span] = []
    for index, part in enumerate(parts):
        if index and separator:
            spans.append(Span(text=separator))
        spans.extend(part.spans)
    return RichText(spans=tuple(spans))


def shorten(text: str, limit: int, marker: str = "…") -> str:
    """Cut ``text`` to at most ``limit`` characters, marking visibly that it was cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(marker))].rstrip() + marker


def in_chunks(lines: Sequence[RichText], limit: int) -> list[tuple[RichText, ...]]:
    """Lines grouped so that each group holds at most ``limit`` characters (a longer line stands
    alone): a long list is split over several messages instead of being cut short."""
    chunks: list[tuple[RichText, ...]] = []
    current: list[RichText] = []
    size = 0
    for line in lines:
        if current and size + len(line.plain) > limit:
            chunks.append(tuple(current))
            current, size = [], 0
        current.append(line)
        size += len(line.plain)
    if current:
        chunks.append(tuple(current))
    return chunks
