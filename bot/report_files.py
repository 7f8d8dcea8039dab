"""What every report file needs, whatever it reports: texts and dates in the network's language
and time zone, escaping for Markdown and spreadsheets, the template environment and a bar chart.

The knowledge base export (:mod:`bot.knowledge_export`) and the coordinators' digest
(:mod:`bot.digest_report`) both build on these, so a fix to the escaping reaches every file
Hoedan writes.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined

from flows.texts import Texts, texts_for, user

_CHART_LABEL_CHARS = 34
"""Longer labels are shortened in a bar chart, where they share a line with their bar."""


def one_line(text: str) -> str:
    """Whitespace, line breaks included, collapsed: for headings, tables and lists."""
    return " ".join(text.split())


class Dates:
    """Dates as people in the network say them ("3 maart 2026"), in the network's time zone."""

    def __init__(self, texts: Texts, timezone: str) -> None:
        self._months = texts.plain("export.months").split()
        self._short_months = texts.plain("report.months_short").split()
        self._zone = ZoneInfo(timezone)

    def long(self, moment: datetime) -> str:
        local = moment.astimezone(self._zone)
        return f"{local.day} {self._months[local.month - 1]} {local.year}"

    def short(self, moment: datetime) -> str:
        """Day and month ("3 mrt"): a label under a chart's bar, where space is scarce."""
        local = moment.astimezone(self._zone)
        return f"{local.day} {self._short_months[local.month - 1]}"

    def iso(self, moment: datetime | None) -> str:
        """The local date as 2026-03-03: what spreadsheets recognise as a date and sort."""
        return "" if moment is None else moment.astimezone(self._zone).date().isoformat()


class Renderer:
    """Renders report texts in one language and time zone."""

    def __init__(self, *, language: str, timezone: str) -> None:
        self.language = language
        self.texts = texts_for(language)
        self.dates = Dates(self.texts, timezone)

    def text(self, key: str, **values: Any) -> str:
        """A catalogue text; every value but a count is data and stays literal."""
        return self.texts.plain(
            key,
            **{
                name: value if isinstance(value, int) else user(str(value))
                for name, value in values.items()
            },
        )

    def page(self, environment: Environment, name: str, **values: Any) -> bytes:
        """A template as UTF-8, given what every report template uses: ``language`` and the
        catalogue as ``t``."""
        template = environment.get_template(name)
        return template.render(language=self.language, t=self.text, **values).encode("utf-8")


# Markdown


class Markdown(str):
    """Text that is already valid Markdown and must not be escaped again."""

    __slots__ = ()


_MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]<>#|~$&])")
"""Characters that start emphasis, code, links, HTML, headings, tables, strikethrough, math or
entities anywhere in a line."""

_MARKDOWN_LINE_START = re.compile(r"^([-+=]|\d+(?=[.)]))")
"""What starts a list, a setext underline or a numbered list at the beginning of a line."""


def markdown_escape(text: str) -> str:
    """One line of someone's text, shown literally in Markdown.

    Every escaped character is ASCII punctuation, which CommonMark allows to be escaped
    anywhere, so escaping a little too much never shows a stray backslash.
    """
    escaped = _MARKDOWN_INLINE.sub(r"\\\1", one_line(text))
    return _MARKDOWN_LINE_START.sub(_escape_line_start, escaped)


def _escape_line_start(match: re.Match[str]) -> str:
    """``- x`` becomes ``\\- x``; in ``12. x`` the dot is escaped, as the number cannot be."""
    marker = match.group(0)
    return f"{marker}\\" if marker[0].isdigit() else f"\\{marker}"


def _markdown_finalize(value: Any) -> Any:
    """Every ``{{ … }}`` in a Markdown template is escaped unless it is already Markdown."""
    if isinstance(value, str) and not isinstance(value, Markdown):
        return markdown_escape(value)
    return value


def template_environment(
    *, markdown: bool, filters: Mapping[str, Callable[..., Any]]
) -> Environment:
    """A new environment over prompts/templates: HTML autoescaped, Markdown escaped by its own
    finalizer. Each report caches its own, with the filters its templates use."""
    finalize: Callable[[Any], Any] | None = _markdown_finalize if markdown else None
    environment = Environment(
        loader=PackageLoader("prompts", "templates"),
        # Markdown is not HTML: its escaping is the finalizer's job (see _markdown_finalize).
        autoescape=not markdown,  # noqa: S701
        finalize=finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters.update(filters)
    return environment


# Spreadsheets


def spreadsheet_cell(value: object) -> object:
    """A leading quote for text that starts like a formula (=, +, -, @).

    A spreadsheet would otherwise calculate what someone typed (CSV injection); with the quote
    it shows the text as it was written.
    """
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value


def spreadsheet(rows: Iterable[Iterable[object]], *, language: str) -> bytes:
    """Rows as CSV, every cell through :func:`spreadsheet_cell`; UTF-8 with a BOM.

    The BOM makes Excel read the accents right. The separator follows the language's
    spreadsheet habit: a semicolon in Dutch (where the comma is the decimal sign and Dutch
    Excel expects ``;``), a comma in English.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if language == "nl" else ",")
    writer.writerows([spreadsheet_cell(value) for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


# Charts


class Counted(Protocol):
    """Something a bar stands for: a theme with its questions, a coalition with its activity."""

    @property
    def label(self) -> str: ...

    @property
    def count(self) -> int: ...


@dataclass(frozen=True)
class ChartBar:
    label: str
    count: int
    y: int
    width: int


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart, laid out here so a template only draws it."""

    bars: tuple[ChartBar, ...]
    label_width: int
    bar_width: int
    row: int

    @property
    def width(self) -> int:
        return self.label_width + self.bar_width + 60

    @property
    def height(self) -> int:
        return self.row * len(self.bars)


def chart(
    items: Sequence[Counted], *, label_width: int = 290, bar_width: int = 320, row: int = 30
) -> Chart:
    """Bars in the given order, the longest ``bar_width`` wide; even a count of one stays
    visible, and a count of nothing stays nothing."""
    most = max((item.count for item in items), default=0)
    bars = tuple(
        ChartBar(
            label=shorten(item.label, _CHART_LABEL_CHARS),
            count=item.count,
            y=index * row,
            width=max(2, round(item.count / most * bar_width)) if item.count else 0,
        )
        for index, item in enumerate(items)
    )
    return Chart(bars=bars, label_width=label_width, bar_width=bar_width, row=row)


def shorten(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters, with an ellipsis where it was cut."""
    text = one_line(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
