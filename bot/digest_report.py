"""The coordinators' digest as a file: HTML for reading and printing, Markdown, and CSV.

:func:`flows.digest.build` decides what the digest says; this module only lays it out. Every
section becomes a :class:`Table` here, once, so the HTML and the Markdown show the same rows and
the templates only draw them; the CSV is one filterable sheet with a kind column (network,
coalition, region, open question, signal).

Nothing confidential can reach a file through this module, because the :class:`Digest` holds
none of it: no intervision contributions, no lessons their authors kept to themselves, no
reflection answers or who gave them. Shared lessons come without their authors' names; only a
newcomer who has not acknowledged the house rules is named, so a coordinator can welcome them.

Everything people typed (questions, lessons, channel names, error messages) is escaped for the
format it lands in, exactly as in the knowledge base export (:mod:`bot.report_files`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from math import ceil
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment

from bot.knowledge_export import ExportFormat
from bot.report_files import (
    Chart,
    Markdown,
    Renderer,
    chart,
    markdown_escape,
    shorten,
    spreadsheet,
    template_environment,
)
from flows import intervision_methods, reflection_templates
from flows.digest import SCALE, CoalitionLine, Digest, RoundLine, Signal
from flows.reflection_templates import QuestionKind
from storage.repositories.digest import Window

DEFAULT_DAYS = 7
"""Without --since, the period is the week before its end."""

ERROR_CHARS = 160
"""A platform's error message is cut here: the place and the count say enough to act on."""


def window(since: date | None, until: date | None, *, timezone: str, now: datetime) -> Window:
    """The period as whole local days, in UTC: ``since`` from its first moment, ``until`` up
    to and including its last. Without ``until`` the period ends now, without ``since`` it
    starts :data:`DEFAULT_DAYS` days before its end; it never ends after now, because signals
    are judged at the end and the future has nothing to count yet.
    """
    zone = ZoneInfo(timezone)
    end = now
    if until is not None:
        end = min(now, datetime.combine(until + timedelta(days=1), time(), zone).astimezone(UTC))
    if since is None:
        return Window(end - timedelta(days=DEFAULT_DAYS), end)
    return Window(datetime.combine(since, time(), zone).astimezone(UTC), end)


def last_moment(window: Window) -> datetime:
    """The last moment inside the half-open window, so its date is the period's last day."""
    return window.end - timedelta(microseconds=1)


# Layout


Cell = str | int


@dataclass(frozen=True)
class Column:
    """One bar of a column chart."""

    label: str
    """Shown under the bar; empty where labels would crowd."""
    title: str
    """The tooltip, and what a screen reader says."""
    count: int
    x: int
    y: int
    height: int


@dataclass(frozen=True)
class ColumnChart:
    """Vertical bars over a base line, laid out here so a template only draws it."""

    title: str
    columns: tuple[Column, ...]
    slot: int
    """The horizontal room of one column; its bar is a little narrower."""
    plot: int
    """The height of the tallest bar."""
    counts: bool
    """Whether each bar has its count above it (when there is room)."""

    TOP = 16
    BOTTOM = 18

    @property
    def bar(self) -> int:
        return max(4, self.slot - max(2, self.slot // 4))

    @property
    def base(self) -> int:
        return self.TOP + self.plot

    @property
    def width(self) -> int:
        return self.slot * len(self.columns)

    @property
    def height(self) -> int:
        return self.base + self.BOTTOM


def column_chart(
    title: str,
    counts: Sequence[int],
    labels: Sequence[str],
    titles: Sequence[str],
    *,
    plot: int = 120,
    width: int = 720,
    slot: int | None = None,
    label_room: int = 48,
) -> ColumnChart:
    """Columns in the given order, the tallest ``plot`` high; a count of nothing is no bar.

    Labels go under every column while they fit, else under every n-th one, so a year of
    weeks stays readable; counts go above the bars only when there is room for them.
    """
    slot = slot or max(12, min(64, width // max(1, len(counts))))
    every = ceil(label_room / slot)
    most = max(counts, default=0)
    columns = []
    for index, (count, label, hover) in enumerate(zip(counts, labels, titles, strict=True)):
        height = max(2, round(count / most * plot)) if count else 0
        columns.append(
            Column(
                label=label if index % every == 0 else "",
                title=hover,
                count=count,
                x=index * slot,
                y=ColumnChart.TOP + plot - height,
                height=height,
            )
        )
    return ColumnChart(title=title, columns=tuple(columns), slot=slot, plot=plot, counts=slot >= 22)


@dataclass(frozen=True)
class Scale:
    """One scale question of a reflection round: its label and how often each score was given."""

    label: str
    counts: tuple[int, ...]
    mean: str
    chart: ColumnChart

    @property
    def text(self) -> str:
        """The distribution in words, for Markdown."""
        scores = " · ".join(
            f"{score}: {count}" for score, count in zip(SCALE, self.counts, strict=True)
        )
        return f"{self.label}: {scores}" + (f" ({self.mean})" if self.mean else "")


@dataclass(frozen=True)
class Scores:
    """The scores cell of a reflection round: a small chart per scale question in HTML."""

    scales: tuple[Scale, ...]
    empty: str

    @property
    def text(self) -> str:
        """Every scale in words, for Markdown."""
        return "; ".join(scale.text for scale in self.scales) or self.empty


@dataclass(frozen=True)
class Table:
    """One section of the report: a heading, a line saying what it shows, and its rows."""

    anchor: str
    title: str
    note: str
    headers: tuple[str, ...]
    numeric: tuple[bool, ...]
    """Columns of numbers, aligned right."""
    rows: tuple[tuple[Cell | Scores, ...], ...]
    empty: str
    """Said instead of the table when there are no rows: a section never silently vanishes."""
    chart: Chart | ColumnChart | None = None
    chart_title: str = ""
    folded: bool = False
    """The chart shows every number of the table, so the HTML folds the table away."""


@dataclass(frozen=True)
class Figure:
    label: str
    value: str


@dataclass(frozen=True)
class _Bar:
    """A coalition as the shared bar chart wants it."""

    label: str
    count: int


# Rendering


class DigestReport(Renderer):
    """Renders a :class:`Digest` in one language and time zone."""

    def render(
        self, digest: Digest, output_format: ExportFormat, *, generated_at: datetime
    ) -> bytes:
        if output_format == "csv":
            return self.csv(digest)
        return self.page(
            _environment(markdown=output_format == "md"),
            f"digest.{output_format}.j2",
            digest=digest,
            period=self.period(digest),
            made_on=self.dates.long(generated_at),
            figures=self.figures(digest),
            tables=self.tables(digest),
        )

    # Words and numbers

    def period(self, digest: Digest) -> str:
        first = self.dates.long(digest.start)
        last = self.dates.long(last_moment(Window(digest.start, digest.end)))
        if first == last:
            return self.text("report.period_one_day", date=first)
        return self.text("report.period", first=first, last=last)

    def percent(self, rate: float | None) -> str:
        return self.text("report.unknown") if rate is None else f"{round(rate * 100)}%"

    def decimal(self, value: float) -> str:
        """One decimal, with the decimal sign of the language (3,4 in Dutch)."""
        shown = f"{value:.1f}"
        return shown.replace(".", ",") if self.language == "nl" else shown

    def days(self, days: int) -> str:
        return self.text("report.days", days=days)

    def method(self, method_id: str) -> str:
        found = intervision_methods.method(method_id)
        return found.name.get(self.language) if found is not None else method_id

    def template_name(self, template_id: str) -> str:
        found = reflection_templates.template(template_id)
        return found.name.get(self.language) if found is not None else template_id

    def scale_label(self, template_id: str, index: int) -> str:
        """The catalogue's wording of a scale question; "Vraag 2" when the catalogue has
        changed since the round (or the coach wrote the question)."""
        found = reflection_templates.template(template_id)
        if found is not None and not found.free and index < len(found.questions):
            question = found.questions[index]
            if question.kind is QuestionKind.SCALE:
                return question.label.get(self.language)
        return self.text("report.rounds.question", number=index + 1)

    def signal(self, signal: Signal) -> tuple[str, str, str]:
        """The signal's name, what is going on, and what a coordinator can do about it."""
        key = f"report.signal.{signal.kind}"
        rates = " → ".join(self.percent(rate) for rate in signal.rates)
        what = self.text(
            f"{key}.what", subject=signal.subject, days=signal.days, rates=rates, count=signal.count
        )
        return self.text(f"{key}.label"), what, self.text(f"{key}.action")

    # Sections

    def figures(self, digest: Digest) -> tuple[Figure, ...]:
        totals = digest.totals
        counts = {
            "questions": totals.questions,
            "answered": totals.answered,
            "still_open": totals.still_open,
            "answers": totals.answers,
            "connections": totals.connections,
            "sessions": totals.sessions,
            "lessons": totals.lessons,
            "prompts": totals.prompts,
            "prompt_answer_rate": self.percent(totals.prompt_answer_rate),
            "rounds": totals.rounds,
            "rules_adopted": totals.rules_adopted,
            "failed_deliveries": totals.failed_deliveries,
        }
        return tuple(
            Figure(self.text(f"report.totals.{key}"), str(value)) for key, value in counts.items()
        )

    def tables(self, digest: Digest) -> tuple[Table, ...]:
        return (
            self._activity(digest),
            self._signals(digest),
            self._coalitions(digest),
            self._regions(digest),
            self._open(digest),
            self._sessions(digest),
            self._lessons(digest),
            self._rounds(digest),
            self._rules(digest),
            self._failed(digest),
        )

    def _table(
        self,
        anchor: str,
        section: str,
        headers: Iterable[tuple[str, bool]],
        rows: Iterable[tuple[Cell | Scores, ...]],
        *,
        count: int = 0,
        chart: Chart | None = None,
        chart_title: str = "",
    ) -> Table:
        """A section with its texts from ``report.<section>``: title, note, column headings
        (which may mention ``count``) and the line said when it is empty."""
        names, numeric = zip(*headers, strict=True)
        prefix = f"report.{section}"
        return Table(
            anchor=anchor,
            title=self.text(f"{prefix}.title"),
            note=self.text(f"{prefix}.note"),
            headers=tuple(self.text(f"{prefix}.{name}", count=count) for name in names),
            numeric=tuple(numeric),
            rows=tuple(rows),
            empty=self.text(f"{prefix}.empty"),
            chart=chart,
            chart_title=chart_title,
        )

    def _activity(self, digest: Digest) -> Table:
        weeks = [self.dates.long(week) for week in digest.activity_weeks]
        titles = [
            self.text("report.activity.week", date=week, count=count)
            for week, count in zip(weeks, digest.activity, strict=True)
        ]
        title = self.text("report.activity.chart", count=len(digest.activity))
        columns = column_chart(
            title,
            digest.activity,
            [self.dates.short(week) for week in digest.activity_weeks],
            titles,
        )
        return Table(
            anchor="activiteit",
            title=self.text("report.activity.title"),
            note=self.text("report.activity.note"),
            headers=(
                self.text("report.activity.week_column"),
                self.text("report.activity.count_column"),
            ),
            numeric=(False, True),
            rows=tuple(zip(weeks, digest.activity, strict=True)),
            empty="",
            chart=columns,
            chart_title=title,
            folded=True,
        )

    def _signals(self, digest: Digest) -> Table:
        rows = []
        for signal in digest.signals:
            label, what, action = self.signal(signal)
            rows.append((label, signal.coalition or "", what, action))
        headers = [(name, False) for name in ("kind", "coalition", "what", "action")]
        return self._table("signalen", "signals", headers, rows)

    def _coalitions(self, digest: Digest) -> Table:
        bars = [_Bar(line.name, sum(line.activity)) for line in digest.coalitions]
        headers = [
            ("coalition", False),
            *((name, True) for name in ("members", "questions", "answers", "sessions")),
            ("prompts", True),
            ("answer_rate", True),
            ("activity", True),
            ("last_activity", False),
        ]
        return self._table(
            "coalities",
            "coalitions",
            headers,
            (self._coalition(line) for line in digest.coalitions),
            count=len(digest.activity),
            chart=chart(bars) if bars else None,
            chart_title=self.text("report.coalitions.chart", count=len(digest.activity)),
        )

    def _coalition(self, line: CoalitionLine) -> tuple[Cell, ...]:
        last = (
            self.dates.long(line.last_activity)
            if line.last_activity is not None
            else self.text("report.coalitions.never")
        )
        return (
            line.name,
            line.members,
            line.questions,
            line.answers,
            line.sessions,
            line.prompts,
            self.percent(line.prompt_answer_rate),
            sum(line.activity),
            last,
        )

    def _regions(self, digest: Digest) -> Table:
        headers = [("region", False)] + [
            (name, True) for name in ("asked", "answered", "answers_given", "connections")
        ]
        rows = (
            (line.name, line.asked, line.answered_questions, line.answers_given, line.connections)
            for line in digest.regions
        )
        return self._table("regios", "regions", headers, rows)

    def _open(self, digest: Digest) -> Table:
        headers = [
            ("number", True),
            ("question", False),
            ("region", False),
            ("coalition", False),
            ("asked_on", False),
            ("waiting", False),
        ]
        rows = (
            (
                f"#{line.number}",
                line.text,
                line.region or self.text("report.no_region"),
                line.coalition or self.text("report.no_coalition"),
                self.dates.long(line.asked_at),
                self.days(line.waiting_days),
            )
            for line in digest.longest_open
        )
        return self._table("open-vragen", "open", headers, rows)

    def _sessions(self, digest: Digest) -> Table:
        headers = [
            ("method", False),
            ("coalition", False),
            ("group_size", True),
            ("held_on", False),
        ]
        rows = (
            (
                self.method(line.method),
                line.coalition,
                line.group_size,
                self.dates.long(line.held_at),
            )
            for line in digest.sessions
        )
        return self._table("intervisies", "sessions", headers, rows)

    def _lessons(self, digest: Digest) -> Table:
        headers = [("lesson", False), ("method", False), ("coalition", False)]
        rows = ((line.text, self.method(line.method), line.coalition) for line in digest.lessons)
        return self._table("lessen", "lessons", headers, rows)

    def _rounds(self, digest: Digest) -> Table:
        headers = [
            ("template", False),
            ("coalition", False),
            ("respondents", True),
            ("anonymous", False),
            ("closed_on", False),
            ("scores", False),
        ]
        rows = (
            (
                self.template_name(line.template),
                line.coalition,
                line.respondents,
                self.text("report.yes" if line.anonymous else "report.no"),
                self.dates.long(line.closed_at),
                self._scores(line),
            )
            for line in digest.rounds
        )
        return self._table("reflectie", "rounds", headers, rows)

    def _scores(self, line: RoundLine) -> Scores:
        scales = []
        for scale in line.scales:
            label = self.scale_label(line.template, scale.question_index)
            mean = scale.mean
            shown = "" if mean is None else self.text("report.rounds.mean", mean=self.decimal(mean))
            scales.append(
                Scale(
                    label=label,
                    counts=scale.counts,
                    mean=shown,
                    chart=column_chart(
                        self.text("report.rounds.chart", question=label),
                        scale.counts,
                        [str(score) for score in SCALE],
                        [
                            self.text("report.rounds.score", number=score, count=count)
                            for score, count in zip(SCALE, scale.counts, strict=True)
                        ],
                        plot=36,
                        slot=22,
                        label_room=1,
                    ),
                )
            )
        return Scores(tuple(scales), self.text("report.rounds.no_scores"))

    def _rules(self, digest: Digest) -> Table:
        headers = [
            ("coalition", False),
            ("version", True),
            ("adopted_on", False),
            ("acknowledged", False),
        ]
        rows = (
            (
                line.coalition,
                line.version,
                self.dates.long(line.adopted_at),
                self.text("report.of", count=line.acknowledged, members=line.members)
                + (f" ({self.percent(line.rate)})" if line.rate is not None else ""),
            )
            for line in digest.rules
        )
        return self._table("spelregels", "rules", headers, rows)

    def _failed(self, digest: Digest) -> Table:
        headers = [("place", False), ("error", False), ("count", True), ("last", False)]
        rows = (
            (
                line.place,
                shorten(line.error, ERROR_CHARS),
                line.count,
                self.dates.long(line.last_at),
            )
            for line in digest.failed
        )
        return self._table("niet-afgeleverd", "failed", headers, rows)

    # CSV

    def csv(self, digest: Digest) -> bytes:
        """One sheet to filter on its first column: the network's totals, then a row per
        coalition, region, open question and signal (see :func:`bot.report_files.spreadsheet`
        for the encoding and separator)."""
        weeks = len(digest.activity)
        headers = [
            "kind",
            "name",
            "coalition",
            "region",
            "members",
            "questions",
            "answered",
            "answers",
            "connections",
            "sessions",
            "prompts",
            "answer_rate",
            "activity",
            "last_activity",
            "asked_on",
            "days",
            "description",
            "action",
        ]
        rows: list[list[object]] = [
            [self.text(f"report.csv.{header}", count=weeks) for header in headers]
        ]

        def row(kind: str, name: str, **cells: object) -> None:
            rows.append(
                [
                    self.text(f"report.csv.kinds.{kind}"),
                    name,
                    *(cells.get(h, "") for h in headers[2:]),
                ]
            )

        totals = digest.totals
        row(
            "network",
            digest.network,
            questions=totals.questions,
            answered=totals.answered,
            answers=totals.answers,
            connections=totals.connections,
            sessions=totals.sessions,
            prompts=totals.prompts,
            answer_rate=_whole_percent(totals.prompt_answer_rate),
            activity=sum(digest.activity),
        )
        for line in digest.coalitions:
            row(
                "coalition",
                line.name,
                members=line.members,
                questions=line.questions,
                answers=line.answers,
                sessions=line.sessions,
                prompts=line.prompts,
                answer_rate=_whole_percent(line.prompt_answer_rate),
                activity=sum(line.activity),
                last_activity=self.dates.iso(line.last_activity),
            )
        for region in digest.regions:
            row(
                "region",
                region.name,
                questions=region.asked,
                answered=region.answered_questions,
                answers=region.answers_given,
                connections=region.connections,
            )
        for question in digest.longest_open:
            row(
                "open_question",
                f"#{question.number}",
                coalition=question.coalition or "",
                region=question.region or "",
                asked_on=self.dates.iso(question.asked_at),
                days=question.waiting_days,
                description=question.text,
            )
        for signal in digest.signals:
            label, what, action = self.signal(signal)
            row(
                "signal",
                label,
                coalition=signal.coalition or "",
                days=signal.days,
                description=what,
                action=action,
            )
        return spreadsheet(rows, language=self.language)


def _whole_percent(rate: float | None) -> int | str:
    """A rate as a whole percentage a spreadsheet can sort and filter; empty when unknown."""
    return "" if rate is None else round(rate * 100)


# Markdown


def markdown_table(table: Table) -> Markdown:
    """The table as a pipe table, every cell escaped (a ``|`` someone typed stays a ``|``)."""
    lines = [
        _markdown_row(table.headers),
        "| " + " | ".join("---:" if number else "---" for number in table.numeric) + " |",
        *(_markdown_row(row) for row in table.rows),
    ]
    return Markdown("\n".join(lines))


def _markdown_row(cells: Iterable[Cell | Scores]) -> str:
    shown = (cell.text if isinstance(cell, Scores) else str(cell) for cell in cells)
    return "| " + " | ".join(markdown_escape(text) or " " for text in shown) + " |"


@cache
def _environment(*, markdown: bool) -> Environment:
    """The digest's template environment, with the filters its templates use."""
    filters: dict[str, Callable[..., Any]] = {"table": markdown_table}
    return template_environment(markdown=markdown, filters=filters)
