"""``hoedan digest``: the coordinators' digest as HTML, Markdown and CSV, from a seeded network
through the real command; what people typed stays text, and what was said in confidence never
reaches a file.

The seeded network, in February 2026 (the period asked for: 2 February up to and including
1 March, four whole weeks in Amsterdam):

- three coalitions: *ouderenzorg* (four members, busy, with learning prompts answered ever less,
  house rules adopted and a newcomer who has not acknowledged them), *jeugd-en-gezin* (a closed
  anonymous reflection round) and *stille-coalitie* (nothing since 6 January);
- Twente, Salland and Zuid-Limburg ask and answer, two answers cross a region;
- an intervision session with a confidential contribution, a private lesson and a shared one;
- two failed deliveries, and a question in another network that must not appear.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.digest_report import (
    DigestReport,
    Scores,
    Table,
    column_chart,
    last_moment,
    markdown_table,
    window,
)
from bot.knowledge_export import ExportFormat
from flows import digest
from flows.config import FlowConfig
from storage.database import resolve_database_url
from storage.enums import DeliveryKind, OutboxStatus, Platform, QuestionStatus, SpaceKind
from storage.migrate import upgrade
from storage.models import HouseRuleAcknowledgement, OutboxMessage, Post, Response, SpaceMember
from storage.repositories.digest import Window
from storage.store import Store, Transaction
from tests.browser import needs_chromium, render
from tests.conftest import RunHoedan

NETWORK_SLUG = FlowConfig().network_slug
TIMEZONE = "Europe/Amsterdam"

SINCE, UNTIL = "2026-02-02", "2026-03-01"
PERIOD = Window(
    datetime(2026, 2, 1, 23, tzinfo=UTC),  # midnight in Amsterdam (UTC+1 in winter)
    datetime(2026, 3, 1, 23, tzinfo=UTC),
)
GENERATED = datetime(2026, 3, 2, 9, tzinfo=UTC)

MEMBERS = {"Anouk de Vries": "Twente", "Sem Bakker": "Salland", "Fleur Jansen": "Zuid-Limburg"}
"""Members who asked, answered, reflected or wrote lessons: none of them may be named."""
NEWCOMER = "Noor Nieuwenhuis"
"""The one name a digest shows: the newcomer a coordinator should welcome."""

TYPED = "<!channel> *vet* [x](javascript:alert(1))"
SCRIPT = f"<script>alert('hoedan')</script> Hoe houden we vrijwilligers vast? {TYPED}"
FORMULA = "=SOM(A1:A3) als monitor: hoe doen jullie dat?"
SHARED_LESSON = "Deelbare les: vraag eerst door voordat je advies geeft."
SECRETS = (
    "GEHEIM-INHOUD",
    "GEHEIM-LES",
    "GEHEIM-REFLECTIE",
    "Een vraag uit een ander netwerk",
)
"""An intervision contribution, a lesson kept private, anonymous reflection answers, and a
question of another network: none may appear in any format."""

WEEKS = (1, 0, 0, 0, 6, 7, 5, 0)
"""Contributions per week from Monday 5 January to Sunday 1 March (see :func:`_seed`); a
reflection answer counts once, however many questions it answers."""


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


# Seeding


async def _seed(tx: Transaction) -> None:
    """The network described above, written through the repositories where they have a method
    and as rows where they do not (or where a time in the past has to be set)."""
    network = await tx.networks.get_or_create(slug=NETWORK_SLUG, name="Lerend netwerk")
    other = await tx.networks.get_or_create(slug="elders", name="Elders")
    assert network.id is not None
    assert other.id is not None

    people: dict[str, int] = {}
    regions: dict[str, int] = {}
    for index, (name, region_name) in enumerate([*MEMBERS.items(), (NEWCOMER, "Twente")]):
        if region_name not in regions:
            region = await tx.regions.create(network_id=network.id, name=region_name)
            assert region.id is not None
            regions[region_name] = region.id
        member = await tx.members.get_or_create(
            network_id=network.id,
            platform=Platform.CONSOLE,
            external_id=f"member-{index}",
            display_name=name,
        )
        assert member.id is not None
        people[name] = member.id
    anouk, sem, fleur, noor = people.values()
    twente, salland, limburg = regions.values()

    spaces: dict[str, int] = {}
    for name in ("ouderenzorg", "jeugd-en-gezin", "stille-coalitie"):
        space = await tx.spaces.get_or_create(
            network_id=network.id,
            platform=Platform.CONSOLE,
            external_id=f"C-{name}",
            name=name,
            kind=SpaceKind.CHANNEL,
        )
        assert space.id is not None
        space.created_at = datetime(2025, 12, 1, tzinfo=UTC)
        spaces[name] = space.id
    care, youth, silent = spaces.values()
    seen = {care: (anouk, sem, fleur), youth: (sem, fleur), silent: (anouk,)}
    for space_id, members in seen.items():
        tx.session.add_all(
            SpaceMember(space_id=space_id, member_id=m, first_seen_at=at(1, 2)) for m in members
        )
    tx.session.add(SpaceMember(space_id=care, member_id=noor, first_seen_at=at(2, 20)))

    async def ask(
        text: str,
        asker: int,
        region: int,
        space: int | None,
        when: datetime,
        status: QuestionStatus = QuestionStatus.OPEN,
        network_id: int = network.id,
    ) -> int:
        question = await tx.questions.add(
            network_id=network_id,
            asker_id=asker,
            text=text,
            region_id=region,
            space_id=space,
            created_at=when,
        )
        question.status = status
        assert question.id is not None
        return question.id

    async def answer(question: int, answerer: int, region: int, when: datetime) -> None:
        await tx.answers.add(
            question_id=question,
            answerer_id=answerer,
            region_id=region,
            text="Zo doen wij het.",
            link=None,
            source_ref=None,
            created_at=when,
        )

    # 1: Twente asks, Salland answers (a connection). 2: Salland asks, Salland itself and
    # Zuid-Limburg answer. 3: waits since 5 February. 4: no coalition, a formula. 5: the silent
    # coalition's last contribution, before the period.
    answered = QuestionStatus.ANSWERED
    first = await ask("Hoe organiseren we mantelzorg?", anouk, twente, care, at(2, 3), answered)
    await answer(first, sem, salland, at(2, 4))
    second = await ask("Wie heeft een jongerenpanel?", sem, salland, youth, at(2, 10), answered)
    await answer(second, sem, salland, at(2, 11))
    await answer(second, fleur, limburg, at(2, 12))
    await ask(SCRIPT, fleur, limburg, care, at(2, 5))
    await ask(FORMULA, anouk, twente, None, at(2, 24))
    await ask("Oude vraag", sem, salland, silent, at(1, 6), QuestionStatus.CLOSED)
    await ask(SECRETS[3], anouk, twente, None, at(2, 6), network_id=other.id)

    # Learning prompts in ouderenzorg: three of four members answer, then two, one, none.
    for week, responders in enumerate([(anouk, sem, fleur), (anouk, sem), (anouk,), ()]):
        posted = at(2, 3 + 7 * week)
        post = Post(space_id=care, kind=digest.LEARNING_PROMPT_KIND, created_at=posted)
        tx.session.add(post)
        await tx.session.flush()
        assert post.id is not None
        tx.session.add_all(
            Response(post_id=post.id, member_id=m, text="Mijn antwoord", created_at=posted)
            for m in responders
        )

    # House rules in ouderenzorg, adopted on 9 February; Anouk and Sem acknowledge them.
    rules = await tx.house_rules.ensure_rule_set(
        space_id=care, title="Spelregels", created_by_id=anouk
    )
    version = await tx.house_rules.propose(
        rule_set=rules,
        text="We delen geen namen van cliënten.",
        proposed_by_id=anouk,
        deadline=at(2, 9),
    )
    await tx.house_rules.adopt(version, now=at(2, 9))
    assert version.id is not None
    tx.session.add_all(
        HouseRuleAcknowledgement(version_id=version.id, member_id=m, created_at=at(2, 10))
        for m in (anouk, sem)
    )

    # An intervision session of three in ouderenzorg: what was said stays there.
    session = await tx.intervision.create(
        space_id=care,
        method="incident",
        facilitator_id=anouk,
        case_owner_id=sem,
        venue="private",
        participant_ids=[anouk, sem, fleur],
    )
    session.created_at = at(2, 17)
    assert session.id is not None
    await tx.intervision.contribute(
        session_id=session.id,
        phase="incident",
        author_id=sem,
        kind="message",
        text=f"{SECRETS[0]}: een cliënt van Sem Bakker",
    )
    private = await tx.intervision.add_lesson(
        session_id=session.id, author_id=anouk, text=SECRETS[1], shareable=False
    )
    shared = await tx.intervision.add_lesson(
        session_id=session.id, author_id=sem, text=SHARED_LESSON, shareable=True
    )
    private.created_at = shared.created_at = at(2, 17, 11)

    # An anonymous check-in in jeugd-en-gezin, closed on 20 February: scores 4, 5 and 4.
    round_row = await tx.reflection.create(
        space_id=youth,
        coach_id=sem,
        template="check-in",
        questions=[],
        anonymous=True,
        closes_at=at(2, 20),
    )
    round_row.created_at = at(2, 18)
    assert round_row.id is not None
    answers: list[list[tuple[int, str | None, int | None]]] = [
        [(0, f"{SECRETS[2]}-1", 4), (1, f"{SECRETS[2]}-2", None)],
        [(0, None, 5)],
        [(0, None, 4)],
    ]
    for respondent, given in zip((sem, fleur, anouk), answers, strict=True):
        await tx.reflection.participate(round_id=round_row.id, member_id=respondent)
        await tx.reflection.add_anonymous(
            round_id=round_row.id, answers=given, replacing=[], stamped=at(2, 18)
        )
    await tx.reflection.close(round_row, now=at(2, 20))

    # Two messages to ouderenzorg that could not be delivered.
    tx.session.add_all(
        OutboxMessage(
            idempotency_key=f"mislukt-{index}",
            platform=Platform.CONSOLE,
            kind=DeliveryKind.POST,
            channel_ref="C-ouderenzorg",
            payload={},
            status=OutboxStatus.FAILED,
            last_error="channel_not_found",
            created_at=at(2, 14 + index),
        )
        for index in range(2)
    )


@pytest.fixture
async def seeded(store: Store) -> Store:
    async with store.transaction() as tx:
        await _seed(tx)
    return store


@pytest.fixture
async def seeded_sqlite(sqlite_url: str) -> str:
    """A seeded SQLite file, for the tests about files and browsers rather than databases."""
    urls = resolve_database_url(sqlite_url)
    upgrade(urls)
    store = Store(urls)
    try:
        async with store.transaction() as tx:
            await _seed(tx)
    finally:
        await store.close()
    return sqlite_url


async def _digest(store: Store) -> digest.Digest:
    async with store.transaction() as tx:
        network = await tx.networks.by_slug(NETWORK_SLUG)
        assert network is not None
        assert network.id is not None
        return await digest.build(
            tx, network_id=network.id, network="Lerend netwerk", window=PERIOD
        )


def _rendered(found: digest.Digest, output_format: ExportFormat, language: str = "nl") -> str:
    report = DigestReport(language=language, timezone=TIMEZONE)
    data = report.render(found, output_format, generated_at=GENERATED)
    return data.decode("utf-8-sig" if output_format == "csv" else "utf-8")


def _written(run_hoedan: RunHoedan, database_url: str, output_format: str, out: Path) -> str:
    """The digest of the seeded period through the real command, as text."""
    result = run_hoedan(
        [],
        "digest",
        "--since",
        SINCE,
        "--until",
        UNTIL,
        "--format",
        output_format,
        "--out",
        str(out),
        env={"DATABASE_URL": database_url},
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == (
        f"Klaar: de digest van 2 februari 2026 tot en met 1 maart 2026 staat in {out}.\n"
    )
    assert [path.name for path in out.parent.iterdir() if path.name.endswith(".tmp")] == []
    return out.read_text(encoding="utf-8-sig" if output_format == "csv" else "utf-8")


def _assert_confidential(text: str, *, lessons: bool = True) -> None:
    """Nothing said in confidence, and nobody but the newcomer by name; the shared lesson is
    there (in the formats that show lessons), without its author."""
    for secret in SECRETS:
        assert secret not in text
    for name in MEMBERS:
        assert name.split()[0] not in text
    assert NEWCOMER in text
    if lessons:
        assert "vraag eerst door voordat je advies geeft" in text


# The digest's figures, on both databases


async def test_the_digest_counts_the_seeded_network(seeded: Store) -> None:
    found = await _digest(seeded)

    assert found.activity == WEEKS
    assert [(c.name, sum(c.activity)) for c in found.coalitions] == [
        ("jeugd-en-gezin", 6),
        ("ouderenzorg", 12),
        ("stille-coalitie", 1),
    ]
    assert [(s.kind.value, s.subject, s.days) for s in found.signals] == [
        ("silent", "stille-coalitie", 54),
        ("falling_answers", "ouderenzorg", 28),
        ("waiting_question", "#3", 24),
        ("newcomer_unacknowledged", NEWCOMER, 9),
    ]


# HTML


async def test_html_has_every_section_with_dutch_dates_charts_and_escaped_text(
    seeded: Store, database_url: str, run_hoedan: RunHoedan, tmp_path: Path
) -> None:
    html = _written(run_hoedan, database_url, "html", tmp_path / "digest.html")

    _assert_confidential(html)
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="nl">' in html
    assert "<title>Digest van Lerend netwerk</title>" in html
    assert "Over de periode van 2 februari 2026 tot en met 1 maart 2026." in html
    sections = re.findall(r'<section id="([a-z-]+)">', html)
    assert sections == [
        "in-het-kort",
        "activiteit",
        "signalen",
        "coalities",
        "regios",
        "open-vragen",
        "intervisies",
        "lessen",
        "reflectie",
        "spelregels",
        "niet-afgeleverd",
    ]
    # One column a week, one bar a coalition, five columns a scale question.
    assert html.count('<rect class="activiteit"') == len(WEEKS) == 8
    heights = re.findall(r'<rect class="activiteit"[^>]* height="(\d+)"', html)
    assert [int(h) > 0 for h in heights] == [bool(count) for count in WEEKS]
    assert max(int(h) for h in heights) == int(heights[5])  # the busiest week is the tallest
    assert html.count('<rect class="coalities"') == 3
    assert html.count('<rect class="score"') == 5
    assert "<title>Week van 9 februari 2026: 7 bijdragen</title>" in html
    assert ">5 jan</text>" in html
    assert ">stille-coalitie</text>" in html
    # Figures and tables.
    assert "<dt>Nieuwe vragen</dt><dd>4</dd>" in html
    assert "<dt>Leden die de leervraag beantwoordden</dt><dd>38%</dd>" in html
    assert (
        '<tr><td>ouderenzorg</td><td class="num">4</td><td class="num">2</td>'
        '<td class="num">1</td><td class="num">1</td><td class="num">4</td>'
        '<td class="num">38%</td><td class="num">12</td><td>17 februari 2026</td></tr>'
    ) in html
    assert (
        '<tr><td>Salland</td><td class="num">1</td><td class="num">1</td>'
        '<td class="num">2</td><td class="num">1</td></tr>'
    ) in html
    assert '<td>Incidentmethode</td><td>ouderenzorg</td><td class="num">3</td>' in html
    assert "<td>2 van 4 (50%)</td>" in html
    assert '<td>ouderenzorg</td><td>channel_not_found</td><td class="num">2</td>' in html
    assert "Met hoeveel energie begin je aan deze periode?" in html
    assert "gemiddeld 4,3" in html
    assert "75% → 50% → 25% → 0%" in html
    assert "Al 54 dagen geen bijdragen in stille-coalitie." in html
    assert "Bel of app de trekker van de coalitie" in html
    assert "Vraag #3 wacht al 24 dagen op een #zodan." in html
    assert "Zet de vraag in de nieuwsbrief" in html
    assert "Heet het nieuwe lid persoonlijk welkom" in html
    assert "<td>5 februari 2026</td><td>24 dagen</td>" in html
    # What people typed is text.
    assert "&lt;script&gt;alert(&#39;hoedan&#39;)&lt;/script&gt;" in html
    assert "&lt;!channel&gt;" in html
    assert "<script" not in html
    assert "<!channel>" not in html


def test_html_is_self_contained_and_printable(
    seeded_sqlite: str, run_hoedan: RunHoedan, tmp_path: Path
) -> None:
    html = _written(run_hoedan, seeded_sqlite, "html", tmp_path / "digest.html")

    for outside in ("<script", "<link", "<img", "<iframe", "@import", "url(", "src=", "@font-face"):
        assert outside not in html.lower()
    assert re.findall(r"(?:href|src)=\"(?!#)[^\"]*\"", html) == []
    assert re.findall(r"https?://", html) == []
    assert "@media print" in html
    assert "@page" in html


# Markdown


async def test_markdown_has_the_same_sections_and_escapes_what_people_typed(
    seeded: Store, database_url: str, run_hoedan: RunHoedan, tmp_path: Path
) -> None:
    markdown = _written(run_hoedan, database_url, "md", tmp_path / "digest.md")
    lines = markdown.splitlines()

    _assert_confidential(markdown)
    assert lines[0] == "# Digest van Lerend netwerk"
    assert [line for line in lines if line.startswith("## ")] == [
        "## In het kort",
        "## Activiteit per week",
        "## Signalen",
        "## Per coalitie",
        "## Per regio",
        "## Langst wachtende vragen",
        "## Intervisies",
        "## Gedeelde lessen",
        "## Reflectierondes",
        "## Aangenomen spelregels",
        "## Niet afgeleverde berichten",
    ]
    assert "- Nieuwe vragen: 4" in lines
    assert "| 9 februari 2026 | 7 |" in lines
    assert "| ouderenzorg | 4 | 2 | 1 | 1 | 4 | 38% | 12 | 17 februari 2026 |" in lines
    escaped = "\\<!channel\\> \\*vet\\* \\[x\\](javascript:alert(1))"
    assert any(line.startswith("| \\#3 | \\<script\\>") and escaped in line for line in lines)
    assert "| \\#4 | \\=SOM(A1:A3) als monitor: hoe doen jullie dat? |" in markdown
    assert (
        "| Met hoeveel energie begin je aan deze periode?: 1: 0 · 2: 0 · 3: 0 · 4: 2 · 5: 1 "
        "(gemiddeld 4,3) |"
    ) in markdown
    assert "<script>" not in markdown
    assert "<!channel>" not in markdown
    assert re.search(r"(?<!\\)\]\(javascript", markdown) is None  # never a link
    for table in re.findall(r"(?m)(?:^\|.*\n)+", markdown):
        widths = {len(re.findall(r"(?<!\\)\|", line)) for line in table.splitlines()}
        assert len(widths) == 1, table  # a | someone typed never adds a column


def test_a_markdown_table_escapes_every_cell_and_keeps_its_columns() -> None:
    table = Table(
        anchor="x",
        title="Lessen",
        note="",
        headers=("Les", "Methode", "Aantal"),
        numeric=(False, False, True),
        rows=((f"a | b {TYPED}", "- lijst", 3), ("# kop", "", 0)),
        empty="",
    )

    lines = markdown_table(table).splitlines()

    assert lines == [
        "| Les | Methode | Aantal |",
        "| --- | --- | ---: |",
        "| a \\| b \\<!channel\\> \\*vet\\* \\[x\\](javascript:alert(1)) | \\- lijst | 3 |",
        "| \\# kop |   | 0 |",
    ]


# CSV


async def test_csv_is_one_filterable_sheet_with_the_exact_figures(
    seeded: Store, database_url: str, run_hoedan: RunHoedan, tmp_path: Path
) -> None:
    out = tmp_path / "digest.csv"
    text = _written(run_hoedan, database_url, "csv", out)
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))

    _assert_confidential(text, lessons=False)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    assert list(rows[0]) == [
        "Soort",
        "Naam",
        "Coalitie",
        "Regio",
        "Leden",
        "Vragen",
        "Beantwoord",
        "Antwoorden",
        "Antwoorden aan andere regio's",
        "Intervisies",
        "Leervragen",
        "Leervraag beantwoord (%)",
        "Bijdragen laatste 8 weken",
        "Laatste bijdrage",
        "Gesteld op",
        "Dagen",
        "Omschrijving",
        "Wat je kunt doen",
    ]
    assert [(row["Soort"], row["Naam"]) for row in rows] == [
        ("netwerk", "Lerend netwerk"),
        ("coalitie", "jeugd-en-gezin"),
        ("coalitie", "ouderenzorg"),
        ("coalitie", "stille-coalitie"),
        ("regio", "Salland"),
        ("regio", "Twente"),
        ("regio", "Zuid-Limburg"),
        ("open vraag", "#3"),
        ("open vraag", "#4"),
        ("signaal", "Stille coalitie"),
        ("signaal", "Minder antwoorden op leervragen"),
        ("signaal", "Wachtende vraag"),
        ("signaal", "Nieuw lid zonder spelregels"),
    ]

    def figures(row: dict[str, str], *columns: str) -> list[str]:
        return [row[column] for column in columns]

    network, youth, care, silent, salland, twente, limburg, waiting, formula = rows[:9]
    counted = ("Vragen", "Beantwoord", "Antwoorden", "Antwoorden aan andere regio's")
    assert figures(network, *counted, "Intervisies", "Leervragen") == ["4", "2", "3", "2", "1", "4"]
    assert figures(network, "Leervraag beantwoord (%)", "Bijdragen laatste 8 weken") == ["38", "19"]
    coalition = ("Leden", "Vragen", "Antwoorden", "Intervisies", "Leervragen")
    assert figures(care, *coalition) == ["4", "2", "1", "1", "4"]
    assert figures(care, "Leervraag beantwoord (%)", "Bijdragen laatste 8 weken") == ["38", "12"]
    assert care["Laatste bijdrage"] == "2026-02-17"
    assert figures(youth, *coalition, "Leervraag beantwoord (%)") == ["2", "1", "2", "0", "0", ""]
    assert figures(silent, "Leden", "Bijdragen laatste 8 weken") == ["1", "1"]
    assert silent["Laatste bijdrage"] == "2026-01-06"
    assert figures(salland, *counted) == ["1", "1", "2", "1"]
    assert figures(twente, *counted) == ["2", "1", "0", "0"]
    assert figures(limburg, *counted) == ["1", "0", "1", "1"]
    assert figures(waiting, "Coalitie", "Regio", "Gesteld op", "Dagen") == [
        "ouderenzorg",
        "Zuid-Limburg",
        "2026-02-05",
        "24",
    ]
    assert waiting["Omschrijving"] == SCRIPT
    assert formula["Omschrijving"] == "'" + FORMULA  # shown, never calculated
    assert formula["Coalitie"] == ""
    newcomer = rows[-1]
    assert figures(newcomer, "Coalitie", "Dagen") == ["ouderenzorg", "9"]
    assert newcomer["Omschrijving"].startswith(NEWCOMER)
    assert newcomer["Wat je kunt doen"].startswith("Heet het nieuwe lid")


# Confidentiality, whatever the format


@pytest.mark.parametrize("output_format", ["html", "md", "csv"])
async def test_no_format_shows_what_was_said_in_confidence(
    seeded: Store, output_format: ExportFormat
) -> None:
    text = _rendered(await _digest(seeded), output_format)

    _assert_confidential(text, lessons=output_format != "csv")


async def test_the_digest_itself_carries_no_confidential_text(seeded: Store) -> None:
    """Whatever a future layout shows, the data it is given holds no secrets."""
    found = await _digest(seeded)

    assert [lesson.text for lesson in found.lessons] == [SHARED_LESSON]
    assert not any(secret in repr(found) for secret in SECRETS)
    assert not any(name in repr(found) for name in MEMBERS)


# Empty networks and other languages


@pytest.mark.parametrize("output_format", ["html", "md", "csv"])
def test_an_empty_network_is_still_a_valid_report(
    output_format: str, run_hoedan: RunHoedan, tmp_path: Path
) -> None:
    out = tmp_path / f"leeg.{output_format}"

    result = run_hoedan([], "digest", "--format", output_format, "--out", str(out))

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Klaar: de digest van ")
    content = out.read_text(encoding="utf-8-sig")
    if output_format == "csv":
        rows = list(csv.reader(io.StringIO(content), delimiter=";"))
        assert [row[:2] for row in rows] == [["Soort", "Naam"], ["netwerk", "Lerend netwerk"]]
    else:
        for empty in (
            "Geen signalen: nergens loopt de betrokkenheid terug.",
            "Het netwerk heeft nog geen coalities",
            "Er staan geen vragen open.",
            "Geen intervisies in deze periode.",
            "Geen gedeelde lessen in deze periode.",
            "Geen reflectierondes afgesloten in deze periode.",
            "Geen spelregels aangenomen in deze periode.",
            "Alle berichten zijn afgeleverd.",
        ):
            assert empty in content
    if output_format == "html":
        assert content.rstrip().endswith("</html>")
        assert content.count('<rect class="activiteit"') == 8


async def test_english_reports_use_english_texts_dates_and_commas(seeded: Store) -> None:
    found = await _digest(seeded)

    html = _rendered(found, "html", language="en")
    rows = list(csv.reader(io.StringIO(_rendered(found, "csv", language="en"))))

    assert '<html lang="en">' in html
    assert "Covering the period from 2 February 2026 up to and including 1 March 2026." in html
    assert ">5 Jan</text>" in html
    assert "average 4.3" in html
    assert "Incident method" in html
    assert rows[0][:2] == ["Kind", "Name"]
    assert rows[3][:5] == ["coalition", "ouderenzorg", "", "", "4"]


# The period


@pytest.mark.parametrize(
    ("since", "until", "start", "end"),
    [
        (date(2026, 2, 2), date(2026, 3, 1), PERIOD.start, PERIOD.end),
        # Summer time: midnight in Amsterdam is 22:00 UTC.
        (
            date(2026, 7, 1),
            date(2026, 7, 31),
            datetime(2026, 6, 30, 22, tzinfo=UTC),
            datetime(2026, 7, 31, 22, tzinfo=UTC),
        ),
        # A period that has not ended stops now; without --since it is the week before.
        (date(2026, 11, 1), None, datetime(2026, 10, 31, 23, tzinfo=UTC), at(11, 24, 9)),
        (None, None, at(11, 17, 9), at(11, 24, 9)),
        (
            date(2026, 11, 1),
            date(2026, 12, 31),
            datetime(2026, 10, 31, 23, tzinfo=UTC),
            at(11, 24, 9),
        ),
        (None, date(2026, 3, 1), PERIOD.end - timedelta(days=7), PERIOD.end),
    ],
)
def test_a_period_is_whole_local_days_and_never_ends_after_now(
    since: date | None, until: date | None, start: datetime, end: datetime
) -> None:
    period = window(since, until, timezone=TIMEZONE, now=at(11, 24, 9))

    assert (period.start, period.end) == (start, end)
    assert last_moment(period) < period.end


def test_a_column_chart_labels_what_fits_and_draws_nothing_for_nothing() -> None:
    year = column_chart("t", [0, 3, 6] * 18, [str(i) for i in range(54)], ["x"] * 54)
    scores = column_chart("t", [0, 1, 2, 0, 4], list("12345"), ["x"] * 5, slot=22, label_room=1)

    assert len(year.columns) == 54
    assert [c.label for c in year.columns[:9]] == ["0", "", "", "", "4", "", "", "", "8"]
    assert [c.height for c in year.columns[:3]] == [0, 60, 120]
    assert not year.counts
    assert [c.label for c in scores.columns] == ["1", "2", "3", "4", "5"]
    assert scores.counts


def test_scores_read_as_text_when_there_is_no_chart() -> None:
    assert Scores((), "Geen scores gegeven.").text == "Geen scores gegeven."


# The command


def test_digest_has_help_and_touches_nothing(run_hoedan: RunHoedan, tmp_path: Path) -> None:
    result = run_hoedan([], "digest", "--help")

    assert result.returncode == 0, result.stderr
    assert "--since" in result.stdout
    assert "--until" in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_without_options_it_writes_the_last_week_as_html_in_the_current_folder(
    run_hoedan: RunHoedan, tmp_path: Path
) -> None:
    result = run_hoedan([], "digest")

    assert result.returncode == 0, result.stderr
    written = [path for path in tmp_path.iterdir() if path.name.startswith("digest-")]
    assert len(written) == 1
    assert re.fullmatch(r"digest-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.html", written[0].name)
    assert written[0].read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert result.stdout.count("\n") == 1
    assert result.stdout.endswith(f"staat in {written[0].name}.\n")


def test_the_default_name_follows_the_days_asked_for(run_hoedan: RunHoedan, tmp_path: Path) -> None:
    result = run_hoedan([], "digest", "--since", "2026-01-01", "--until", "2026-12-31", "-f", "MD")

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "digest-2026-01-01-2026-12-31.md").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--since", "24-11-2026"), "--since 24-11-2026: die datum ken ik niet."),
        (("--until", "2026-02-30"), "--until 2026-02-30: die datum ken ik niet."),
        (
            ("--since", "2026-03-01", "--until", "2026-02-01"),
            "De periode houdt op (2026-02-01) voordat hij begint (2026-03-01).",
        ),
        (("--since", "2999-01-01"), "De periode begint op 2999-01-01, en die dag moet nog komen."),
        (("--format", "pdf"), "Het formaat pdf ken ik niet. Kies html, md of csv."),
        (("--out", "{tmp}/bestaat-niet/d.html"), "De map {tmp}/bestaat-niet bestaat niet."),
        (("--out", "{tmp}"), "{tmp} is een map. Geef met --out een bestandsnaam"),
    ],
    ids=["bad date", "no such day", "until before since", "future", "format", "folder", "a folder"],
)
def test_bad_usage_is_one_dutch_sentence_exit_code_2_and_no_file(
    arguments: tuple[str, ...], message: str, run_hoedan: RunHoedan, tmp_path: Path
) -> None:
    before = sorted(path.name for path in tmp_path.iterdir())

    result = run_hoedan([], "digest", *(a.format(tmp=tmp_path) for a in arguments))

    assert result.returncode == 2
    assert message.format(tmp=tmp_path) in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert sorted(path.name for path in tmp_path.iterdir()) == before


# A real browser


@needs_chromium
def test_the_html_renders_and_prints_in_headless_chromium(
    seeded_sqlite: str, run_hoedan: RunHoedan, tmp_path: Path
) -> None:
    page = tmp_path / "digest.html"
    _written(run_hoedan, seeded_sqlite, "html", page)

    seen = render(page, "digest", tmp_path, rows=1600)

    assert (seen.width, seen.height) == (1200, 1600)
    assert len(seen.pixels) > 50  # text, tinted panels and chart bars, not a blank page
    assert seen.shows_accent()
    assert seen.pdf_pages >= 2
