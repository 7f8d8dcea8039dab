"""The knowledge base as a file: HTML for reading and printing, Markdown, and CSV for spreadsheets.

The knowledge base is grouped by theme, in the catalogue's order (prompts/themes.toml), with
questions without a theme last under "Overig". A question with several themes appears under
each of them, because a reader browses one theme and should find everything that belongs there.
Within a theme the newest question (the highest number) comes first: recent questions are the
most relevant ones, and numbers are unique and never change, so the order is stable between
exports even when two questions share a timestamp.

Everything a person typed is escaped for the format it lands in: HTML by Jinja's autoescape,
Markdown by :func:`markdown_escape` (applied to every ``{{ … }}`` unless a filter already made it
safe), CSV by refusing to let a cell start like a spreadsheet formula.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Literal, get_args

from jinja2 import Environment

from bot.report_files import (
    Markdown,
    Renderer,
    chart,
    markdown_escape,
    one_line,
    spreadsheet,
    template_environment,
)
from flows import themes
from flows.texts import texts_for
from storage.repositories.knowledge import KnowledgeEntry

ExportFormat = Literal["html", "md", "csv"]
FORMATS: tuple[ExportFormat, ...] = get_args(ExportFormat)

OTHER_THEME = ""
"""The section of questions without a theme; no catalogue id is empty, so it never clashes."""

SAFE_LINK = re.compile(r"(?i)^(https?://|mailto:)[^\s<>\"]+$")
"""Links shown as links: web and mail addresses only (never ``javascript:``), without spaces."""


@dataclass(frozen=True)
class ThemeSection:
    """One theme with its questions, newest first."""

    theme_id: str
    label: str
    anchor: str
    """The HTML id of the section: stable per theme, so a link to a theme keeps working."""
    entries: tuple[KnowledgeEntry, ...]

    @property
    def count(self) -> int:
        return len(self.entries)


@dataclass(frozen=True)
class Summary:
    questions: int
    answered: int
    """Questions with at least one #zodan, whatever their status."""
    with_outcome: int
    regions: tuple[str, ...]
    """Every region that asked or answered, alphabetically."""
    first: datetime | None
    last: datetime | None
    """The first question and the last activity (question, answer or #zodus)."""


@dataclass(frozen=True)
class KnowledgeBase:
    network_name: str
    generated_at: datetime
    entries: tuple[KnowledgeEntry, ...]
    sections: tuple[ThemeSection, ...]
    summary: Summary


def build(
    entries: Sequence[KnowledgeEntry], *, network_name: str, language: str, generated_at: datetime
) -> KnowledgeBase:
    """Group the entries by theme and add up the summary; nothing here knows about formats."""
    ordered = tuple(sorted(entries, key=lambda entry: -entry.number))
    return KnowledgeBase(
        network_name=network_name,
        generated_at=generated_at,
        entries=ordered,
        sections=_sections(ordered, language),
        summary=_summary(ordered),
    )


def _sections(entries: tuple[KnowledgeEntry, ...], language: str) -> tuple[ThemeSection, ...]:
    """Catalogue themes in catalogue order, then stored ids the catalogue no longer has, then
    the questions without a theme."""
    by_theme: dict[str, list[KnowledgeEntry]] = {}
    for entry in entries:
        for theme_id in entry.themes or (OTHER_THEME,):
            by_theme.setdefault(theme_id, []).append(entry)
    catalogue = [theme.id for theme in themes.all_themes()]
    retired = sorted(set(by_theme) - {*catalogue, OTHER_THEME})
    sections: list[ThemeSection] = []
    anchors: set[str] = set()
    for theme_id in [*catalogue, *retired, OTHER_THEME]:
        if theme_id not in by_theme:
            continue
        if theme_id == OTHER_THEME:
            label = texts_for(language).plain("export.other_theme")
        else:
            label = themes.label(theme_id, language)
        anchor = _unique_anchor(f"thema-{_slug(theme_id or 'overig')}", anchors)
        sections.append(ThemeSection(theme_id, label, anchor, tuple(by_theme[theme_id])))
    return tuple(sections)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def _unique_anchor(anchor: str, taken: set[str]) -> str:
    """A stored theme id outside the catalogue could slug to one already used; never repeat."""
    candidate, suffix = anchor, 1
    while candidate in taken:
        suffix += 1
        candidate = f"{anchor}-{suffix}"
    taken.add(candidate)
    return candidate


def _summary(entries: tuple[KnowledgeEntry, ...]) -> Summary:
    regions = {entry.region_name for entry in entries} | {
        answer.region_name for entry in entries for answer in entry.answers
    }
    moments = [
        moment
        for entry in entries
        for moment in (
            entry.created_at,
            *(answer.created_at for answer in entry.answers),
            *(outcome.created_at for outcome in entry.outcomes),
        )
    ]
    return Summary(
        questions=len(entries),
        answered=sum(1 for entry in entries if entry.answers),
        with_outcome=sum(1 for entry in entries if entry.outcomes),
        regions=tuple(sorted((name for name in regions if name), key=str.casefold)),
        first=min((entry.created_at for entry in entries), default=None),
        last=max(moments, default=None),
    )


def title_and_details(text: str) -> tuple[str, str]:
    """A question's first line as its title and the rest as details.

    Most questions are one line ("Hoe …?"); some carry context below it, which reads better
    as a paragraph than inside a heading.
    """
    lines = text.strip().splitlines()
    if not lines:
        return "", ""
    return one_line(lines[0]), "\n".join(lines[1:]).strip()


def safe_link(url: str | None) -> str | None:
    """The link when it may be shown as one; anything else is shown as text (or not at all)."""
    if url is None:
        return None
    url = url.strip()
    return url if SAFE_LINK.match(url) else None


# Markdown


def markdown_quote(text: str) -> Markdown:
    """Someone's text as a block quote, keeping their line breaks and paragraphs."""
    paragraphs = [
        [markdown_escape(line) for line in block.splitlines() if line.strip()]
        for block in re.split(r"\n\s*\n", text.strip())
    ]
    return Markdown(
        "\n>\n".join("\\\n".join(f"> {line}" for line in lines) for lines in paragraphs if lines)
    )


def markdown_anchor(heading: str) -> Markdown:
    """The anchor GitHub and most Markdown viewers give a heading, for links in the contents."""
    return Markdown(re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-"))


def markdown_link(url: str) -> Markdown:
    """A safe link as an autolink; anything else as escaped text."""
    link = safe_link(url)
    return Markdown(f"<{link}>") if link is not None else Markdown(markdown_escape(url))


# Rendering


class Exporter(Renderer):
    """Renders a knowledge base in one language and time zone."""

    def status(self, entry: KnowledgeEntry) -> str:
        return self.text(f"export.status.{entry.status}")

    def theme_labels(self, theme_ids: Iterable[str]) -> list[str]:
        """Labels in the catalogue's order, the way the sections are ordered too."""
        ids = list(theme_ids)
        known = themes.known(ids)
        ordered = [*known, *sorted(set(ids) - set(known))]
        return [themes.label(theme_id, self.language) for theme_id in ordered]

    def render(self, knowledge: KnowledgeBase, output_format: ExportFormat) -> bytes:
        if output_format == "csv":
            return self.csv(knowledge)
        return self.page(
            _environment(markdown=output_format == "md"),
            f"kennisbank.{output_format}.j2",
            kb=knowledge,
            date=self.dates.long,
            status=self.status,
            theme_labels=self.theme_labels,
            chart=chart(knowledge.sections),
        )

    def csv(self, knowledge: KnowledgeBase) -> bytes:
        """One row per answer, or one per question without answers (see
        :func:`bot.report_files.spreadsheet` for the encoding and separator)."""
        headers = [
            "number",
            "question",
            "status",
            "region",
            "asked_on",
            "closed_on",
            "themes",
            "answer",
            "answer_region",
            "answered_on",
            "link",
            "helpful",
            "outcomes",
        ]
        rows: list[list[object]] = [[self.text(f"export.csv.{header}") for header in headers]]
        yes, no = self.text("export.csv.yes"), self.text("export.csv.no")
        for entry in knowledge.entries:
            question = [
                entry.number,
                entry.text,
                self.status(entry),
                entry.region_name or "",
                self.dates.iso(entry.created_at),
                self.dates.iso(entry.closed_at),
                ", ".join(self.theme_labels(entry.themes)),
            ]
            outcomes = "\n\n".join(
                f"{self.dates.iso(outcome.created_at)}: {outcome.text}"
                for outcome in entry.outcomes
            )
            answers: list[list[object]] = [
                [
                    answer.text,
                    answer.region_name or "",
                    self.dates.iso(answer.created_at),
                    answer.link or "",
                    yes if answer.helpful else no,
                ]
                for answer in entry.answers
            ] or [["", "", "", "", ""]]
            rows.extend([*question, *answer_cells, outcomes] for answer_cells in answers)
        return spreadsheet(rows, language=self.language)


@cache
def _environment(*, markdown: bool) -> Environment:
    """The knowledge base's template environment, with the filters its templates use."""
    return template_environment(
        markdown=markdown,
        filters={
            "title_and_details": title_and_details,
            "safe_link": safe_link,
            "quote": markdown_quote,
            "anchor": markdown_anchor,
            "link": markdown_link,
        },
    )


# Writing


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that the file is either complete or untouched.

    The data goes to a temporary file next to the target (same folder, so same file system)
    and replaces the target in one rename. The temporary file is created with ``os.open`` and
    mode 0o666, so the umask decides the permissions just as for any file the user makes.
    """
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
