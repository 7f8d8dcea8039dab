"""The neutral message: what flows say, before any platform decides how it looks.

A message is a card of simple parts, optional buttons, and forms with typed inputs. It is
serialisable (it waits in the outbox as JSON) and every renderer in bot/ handles every part.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from flows.text import RichText


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True)


class Heading(_Part):
    kind: Literal["heading"] = "heading"
    text: RichText


class Paragraph(_Part):
    kind: Literal["paragraph"] = "paragraph"
    text: RichText


class Field_(_Part):
    """One label/value pair of a Fields part."""

    label: RichText
    value: RichText


class Fields(_Part):
    kind: Literal["fields"] = "fields"
    items: tuple[Field_, ...]


class ItemList(_Part):
    kind: Literal["list"] = "list"
    items: tuple[RichText, ...]
    numbered: bool = False


class Quote(_Part):
    kind: Literal["quote"] = "quote"
    text: RichText


class Note(_Part):
    """Small print: hints, counts, "and 12 more"."""

    kind: Literal["note"] = "note"
    text: RichText


class Progress(_Part):
    kind: Literal["progress"] = "progress"
    current: int
    total: int
    label: RichText


class Sparkline(_Part):
    kind: Literal["sparkline"] = "sparkline"
    values: tuple[float, ...]
    label: RichText


Part = Annotated[
    Heading | Paragraph | Fields | ItemList | Quote | Note | Progress | Sparkline,
    Field(discriminator="kind"),
]


class Button(BaseModel):
    """A choice the reader can press; ``action`` and ``value`` come back in an ActionEvent."""

    model_config = ConfigDict(frozen=True)

    label: RichText
    action: str
    value: str = ""
    style: Literal["default", "primary", "danger"] = "default"


class Option(BaseModel):
    model_config = ConfigDict(frozen=True)

    value: str
    label: RichText


class _Input(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    label: RichText
    required: bool = True
    hint: RichText | None = None


class ShortText(_Input):
    kind: Literal["short_text"] = "short_text"
    max_length: int = 150
    initial: str = ""


class LongText(_Input):
    kind: Literal["long_text"] = "long_text"
    max_length: int = 3000
    initial: str = ""


class Choice(_Input):
    """Pick one option, or several when ``multiple``; ``initial`` holds the values chosen now."""

    kind: Literal["choice"] = "choice"
    options: tuple[Option, ...]
    multiple: bool = False
    initial: tuple[str, ...] = ()


class MultiMember(_Input):
    kind: Literal["multi_member"] = "multi_member"


class Scale(_Input):
    kind: Literal["scale"] = "scale"
    low_label: RichText | None = None
    high_label: RichText | None = None


class Checkbox(_Input):
    kind: Literal["checkbox"] = "checkbox"
    required: bool = False


Input = Annotated[
    ShortText | LongText | Choice | MultiMember | Scale | Checkbox, Field(discriminator="kind")
]


class Form(BaseModel):
    """A dialog; its submission comes back as a FormSubmitted event with the same ``form_id``."""

    model_config = ConfigDict(frozen=True)

    form_id: str
    title: RichText
    submit_label: RichText
    inputs: tuple[Input, ...]
    context: str = ""


class Message(BaseModel):
    """A card: parts top to bottom, then buttons."""

    model_config = ConfigDict(frozen=True)

    parts: tuple[Part, ...] = ()
    buttons: tuple[Button, ...] = ()

    @property
    def summary(self) -> str:
        """A one-line plain summary, for notifications and logs."""
        for part in self.parts:
            text = getattr(part, "text", None)
            if isinstance(text, RichText) and text:
                return text.plain.splitlines()[0] if text.plain else ""
        return ""
