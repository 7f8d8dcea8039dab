"""``hoedan export kennisbank``: the repository, the three formats through the real command, the
escaping of what people typed, failures that leave nothing behind, and the HTML in a real browser.

The seeded network: Twente, Zuid-Limburg and Salland ask and answer; one question is withdrawn
and one belongs to another network, and neither may appear anywhere.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection

import bot.knowledge_export
from bot.knowledge_export import (
    Exporter,
    KnowledgeBase,
    build,
    markdown_escape,
    markdown_quote,
    safe_link,
    write_atomically,
)
from flows.config import FlowConfig
from storage.database import resolve_database_url
from storage.enums import Platform, QuestionStatus
from storage.migrate import upgrade
from storage.models import Answer, Outcome, QuestionTheme
from storage.repositories.knowledge import KnowledgeAnswer, KnowledgeEntry, KnowledgeOutcome
from storage.store import Store, Transaction
from tests.browser import needs_chromium, render
from tests.conftest import RunHoedan

"""Screenshots and PDFs of the browser test, kept for a human to look at (git-ignored)."""

MEMBER_NAMES = ("Anouk de Vries", "Sem Bakker", "Fleur Jansen")
SCRIPT = "<script>alert('hoedan')</script> Hoe meten we het effect op <!channel> eenzaamheid?"
FORMULA = "=SOM(A1:A3) is wat wij gebruiken, met een dashboard per wijk."
WITHDRAWN = "Deze vraag is ingetrokken en mag nergens staan"
ELSEWHERE = "Een vraag uit een ander netwerk"


def at(day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A moment in March 2026 (UTC); Amsterdam is an hour ahead then."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


# Seeding

REGIONS = ("Twente", "Zuid-Limburg", "Salland")


class _Seeder:
    """Adds questions, answers and a #zodus with a member of each region behind them."""

    def __init__(self, tx: Transaction, network_id: int) -> None:
        self.tx = tx
        self.network_id = network_id
        self.regions: dict[str, int] = {}
        self.members: dict[str, int] = {}

    async def people(self) -> None:
        for index, (region_name, member_name) in enumerate(zip(REGIONS, MEMBER_NAMES, strict=True)):
            region = await self.tx.regions.create(network_id=self.network_id, name=region_name)
            member = await self.tx.members.get_or_create(
                network_id=self.network_id,
                platform=Platform.CONSOLE,
                external_id=f"member-{index}",
                display_name=member_name,
            )
            assert region.id is not None
            assert member.id is not None
            self.regions[region_name], self.members[region_name] = region.id, member.id

    async def ask(
        self,
        text: str,
        region: str,
        when: datetime,
        *themes: str,
        status: QuestionStatus = QuestionStatus.OPEN,
        closed_at: datetime | None = None,
        network_id: int | None = None,
    ) -> int:
        question = await self.tx.questions.add(
            network_id=network_id or self.network_id,
            asker_id=self.members[region],
            text=text,
            region_id=self.regions[region],
            space_id=None,
            created_at=when,
        )
        assert question.id is not None
        question.status, question.closed_at = status, closed_at
        self.tx.session.add_all(QuestionTheme(question_id=question.id, theme=t) for t in themes)
        return question.id

    def answer(
        self,
        question_id: int,
        region: str,
        text: str,
        when: datetime,
        *,
        link: str | None = None,
        helpful: bool = False,
    ) -> None:
        self.tx.session.add(
            Answer(
                question_id=question_id,
                answerer_id=self.members[region],
                region_id=self.regions[region],
                text=text,
                link=link,
                helpful=helpful,
                created_at=when,
            )
        )

    def outcome(self, question_id: int, region: str, text: str, when: datetime) -> None:
        self.tx.session.add(
            Outcome(
                question_id=question_id,
                member_id=self.members[region],
                text=text,
                created_at=when,
            )
        )


async def _seed(tx: Transaction, *, slug: str) -> None:
    """Six questions in the configured network (one withdrawn) and one in another network."""
    network = await tx.networks.get_or_create(slug=slug, name="Lerend netwerk")
    other = await tx.networks.get_or_create(slug="elders", name="Elders")
    assert network.id is not None
    assert other.id is not None
    seed = _Seeder(tx, network.id)
    await seed.people()

    # 1: two themes, two answers, a #zodus.
    residents = await seed.ask(
        "Hoe betrekken we inwoners bij ons regioplan?\nWe hebben al een klankbordgroep.",
        "Twente",
        at(3),
        "samenwerking",
        "inwoners",
        status=QuestionStatus.ANSWERED,
    )
    seed.answer(
        residents,
        "Zuid-Limburg",
        "Wij werken met een burgerpanel.\n1. werven via de huisarts\n2. elk kwartaal samen",
        at(4),
        link="https://example.org/burgerpanel",
        helpful=True,
    )
    seed.answer(residents, "Salland", "Wij vragen het de wijkteams.", at(5))
    seed.outcome(
        residents, "Twente", "We zijn gestart met een burgerpanel van 40 inwoners.", at(18)
    )
    # 2: someone's markup and a Slack broadcast, no answers yet.
    await seed.ask(SCRIPT, "Zuid-Limburg", at(10), "meten")
    # 3: asked late on the 12th in UTC, which is the 13th in Amsterdam; closed later.
    funding = await seed.ask(
        "Hoe regelen we de financiering na de pilot?",
        "Salland",
        at(12, 23, 30),
        "governance",
        status=QuestionStatus.CLOSED,
        closed_at=at(20),
    )
    seed.answer(funding, "Twente", FORMULA, at(14), link="javascript:alert(1)")
    # 4: withdrawn, with a theme and an answer: it must vanish with everything attached.
    withdrawn = await seed.ask(
        WITHDRAWN, "Twente", at(15), "inwoners", status=QuestionStatus.WITHDRAWN
    )
    seed.answer(withdrawn, "Salland", "Antwoord op een ingetrokken vraag", at(16))
    # 5: no theme at all.
    await seed.ask("Waar houden we de regiodag?", "Salland", at(16))
    # 6: a second question in "meten", newer than number 2.
    await seed.ask("Welke indicatoren gebruiken jullie?", "Twente", at(17), "meten")
    await seed.ask(ELSEWHERE, "Twente", at(17), "meten", network_id=other.id)


NETWORK_SLUG = FlowConfig().network_slug


@pytest.fixture
async def seeded(store: Store) -> Store:
    async with store.transaction() as tx:
        await _seed(tx, slug=NETWORK_SLUG)
    return store


@pytest.fixture
async def seeded_sqlite(sqlite_url: str) -> str:
    """A seeded SQLite file, for the tests about files and browsers rather than databases."""
    urls = resolve_database_url(sqlite_url)
    upgrade(urls)
    store = Store(urls)
    try:
        async with store.transaction() as tx:
            await _seed(tx, slug=NETWORK_SLUG)
    finally:
        await store.close()
    return sqlite_url


async def _entries(store: Store) -> list[KnowledgeEntry]:
    async with store.transaction() as tx:
        network = await tx.networks.by_slug(NETWORK_SLUG)
        assert network is not None
        assert network.id is not None
        return await tx.knowledge.entries(network_id=network.id)


def _exported(run_hoedan: RunHoedan, database_url: str, output_format: str, out: Path) -> str:
    """Export through the real command and return the file's text (seeded: five questions)."""
    result = run_hoedan(
        [],
        "export",
        "kennisbank",
        "--format",
        output_format,
        "--out",
        str(out),
        env={"DATABASE_URL": database_url},
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.strip() == f"Klaar: 5 vragen in {out}."
    assert [path.name for path in out.parent.iterdir() if path.name.endswith(".tmp")] == []
    return out.read_text(encoding="utf-8-sig" if output_format == "csv" else "utf-8")


def _assert_no_people_and_nothing_withdrawn(text: str) -> None:
    for name in MEMBER_NAMES:
        assert name not in text
        assert name.split()[0] not in text
    assert WITHDRAWN not in text
    assert "ingetrokken vraag" not in text
    assert ELSEWHERE not in text


# The repository


async def test_entries_are_the_networks_questions_newest_first_without_withdrawn_ones(
    seeded: Store,
) -> None:
    entries = await _entries(seeded)

    assert [entry.number for entry in entries] == [6, 5, 3, 2, 1]
    first = entries[-1]
    assert first.region_name == "Twente"
    assert first.status is QuestionStatus.ANSWERED
    assert first.themes == ("inwoners", "samenwerking")
    assert [(a.region_name, a.helpful, a.link) for a in first.answers] == [
        ("Zuid-Limburg", True, "https://example.org/burgerpanel"),
        ("Salland", False, None),
    ]
    assert [outcome.created_at for outcome in first.outcomes] == [at(18)]
    closed = entries[2]
    assert (closed.status, closed.closed_at, closed.created_at) == (
        QuestionStatus.CLOSED,
        at(20),
        at(12, 23, 30),
    )
    assert entries[1].themes == ()
    assert entries[1].answers == ()


def test_entries_carry_regions_and_never_people() -> None:
    """The knowledge base is shared outside the chat: no field may point at a member."""
    fields = {
        field.name
        for kind in (KnowledgeEntry, KnowledgeAnswer, KnowledgeOutcome)
        for field in dataclasses.fields(kind)
    }

    assert {name for name in fields if re.search(r"member|asker|answerer|name", name)} == {
        "region_name"
    }


async def _selects_for_entries(store: Store) -> tuple[int, int]:
    """How many entries the knowledge base has, and how many SELECTs reading it took."""
    selects: list[str] = []

    def count(_conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    async with store.transaction() as tx:
        network = await tx.networks.by_slug(NETWORK_SLUG)
        assert network is not None
        assert network.id is not None
        event.listen(store.engine.sync_engine, "before_cursor_execute", count)
        try:
            entries = await tx.knowledge.entries(network_id=network.id)
        finally:
            event.remove(store.engine.sync_engine, "before_cursor_execute", count)
    return len(entries), len(selects)


async def test_entries_take_four_queries_however_many_questions_there_are(seeded: Store) -> None:
    before = await _selects_for_entries(seeded)
    async with seeded.transaction() as tx:
        network = await tx.networks.by_slug(NETWORK_SLUG)
        member = await tx.members.by_external_id(platform=Platform.CONSOLE, external_id="member-0")
        assert network is not None
        assert network.id is not None
        assert member is not None
        assert member.id is not None
        for index in range(30):
            question = await tx.questions.add(
                network_id=network.id,
                asker_id=member.id,
                text=f"Vraag {index}",
                region_id=None,
                space_id=None,
                created_at=at(21),
            )
            assert question.id is not None
            tx.session.add(QuestionTheme(question_id=question.id, theme="meten"))
            tx.session.add(Answer(question_id=question.id, answerer_id=member.id, text="Zo."))
            tx.session.add(Outcome(question_id=question.id, member_id=member.id, text="Gedaan."))

    after = await _selects_for_entries(seeded)

    assert before == (5, 4)  # questions, themes, answers and outcomes
    assert after == (35, 4)


# HTML


async def test_html_is_grouped_by_theme_with_dutch_dates_and_escaped_text(
    seeded: Store, database_url: str, run_hoedan: RunHoedan, tmp_path: Path
) -> None:
    html = _exported(run_hoedan, database_url, "html", tmp_path / "kennisbank.html")

    _assert_no_people_and_nothing_withdrawn(html)
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="nl">' in html
    sections = re.findall(r'<section class="theme" id="thema-([a-z-]+)">', html)
    assert sections == ["governance", "samenwerking", "inwoners", "meten", "overig"]
    assert re.findall(r'<article class="question" id="thema-meten-(\d+)">', html) == ["6", "2"]
    assert html.count('id="thema-samenwerking-1"') == html.count('id="thema-inwoners-1"') == 1
    assert "<h2>Overig" in html
    assert "gesteld op 3 maart 2026" in html
    assert "gesteld op 13 maart 2026" in html  # 23:30 UTC on the 12th is the 13th in Amsterdam
    assert "afgerond op 20 maart 2026" in html
    assert "5 vragen" in html
    assert "2 met een #zodan" in html
    assert "1 met een #zodus" in html
    assert "3 regio&#39;s: Salland, Twente, Zuid-Limburg" in html
    assert "van 3 maart 2026 tot en met 18 maart 2026" in html
    assert "We zijn gestart met een burgerpanel van 40 inwoners." in html
    assert "nuttig gevonden" in html
    assert "&lt;script&gt;alert(&#39;hoedan&#39;)&lt;/script&gt;" in html
    assert "&lt;!channel&gt;" in html
    assert "<!channel>" not in html
    assert html.count("<rect") == len(sections)


def test_html_is_self_contained_and_links_only_what_people_shared(
    seeded_sqlite: str, run_hoedan: RunHoedan, tmp_path: Path
) -> None:
    html = _exported(run_hoedan, seeded_sqlite, "html", tmp_path / "kennisbank.html")

    for outside in ("<script", "<link", "<img", "<iframe", "@import", "url(", "src=", "@font-face"):
        assert outside not in html.lower()
    assert re.findall(r"https?://[^\s\"<]+", html) == [
        "https://example.org/burgerpanel",
        "https://example.org/burgerpanel",
        "https://example.org/burgerpanel",
        "https://example.org/burgerpanel",
    ]  # twice per appearance (href and text), under two themes
    assert 'href="javascript' not in html
    assert "javascript:alert(1)" in html  # shown as text
    assert "@media print" in html
    assert "break-before: page" in html


# Markdown


async def test_markdown_has_one_section_per_theme_and_escapes_what_people_typed(
    seeded: Store, database_url: str, run_hoedan: RunHoedan, tmp_path: Path
) -> None:
    markdown = _exported(run_hoedan, database_url, "md", tmp_path / "kennisbank.md")
    lines = markdown.splitlines()

    _assert_no_people_and_nothing_withdrawn(markdown)
    assert lines[0] == "# Kennisbank van Lerend netwerk"
    assert [line for line in lines if line.startswith("## ")] == [
        "## In het kort",
        "## Inhoud",
        "## Governance en financiering",
        "## Samenwerking en netwerkvorming",
        "## Inwoners betrekken",
        "## Meten en monitoren",
        "## Overig",
    ]
    assert [line for line in lines if line.startswith("### ")] == [
        "### #3 Hoe regelen we de financiering na de pilot?",
        "### #1 Hoe betrekken we inwoners bij ons regioplan?",
        "### #1 Hoe betrekken we inwoners bij ons regioplan?",
        "### #6 Welke indicatoren gebruiken jullie?",
        "### #2 \\<script\\>alert('hoedan')\\</script\\> Hoe meten we het effect op "
        "\\<!channel\\> eenzaamheid?",
        "### #5 Waar houden we de regiodag?",
    ]
    assert all(re.match(r"#{1,4} ", line) for line in lines if line.startswith("#"))
    assert "- [Inwoners betrekken](#inwoners-betrekken) (1)" in lines
    assert "- [Meten en monitoren](#meten-en-monitoren) (2)" in lines
    assert "- 3 regio's: Salland, Twente, Zuid-Limburg" in lines
    assert "> We hebben al een klankbordgroep." in lines
    assert "> 1\\. werven via de huisarts\\" in lines  # a line of theirs, not a Markdown list
    assert "> \\=SOM(A1:A3) is wat wij gebruiken, met een dashboard per wijk." in lines
    assert "> <https://example.org/burgerpanel>" in lines
    assert "> javascript:alert(1)" in lines
    assert "Twente · gesteld op 3 maart 2026 · beantwoord" in lines
    assert "<script>" not in markdown
    assert "<!channel>" not in markdown


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("# kop", "\\# kop"),
        ("- lijst", "\\- lijst"),
        ("+ lijst", "\\+ lijst"),
        ("12. punt", "12\\. punt"),
        ("3) punt", "3\\) punt"),
        ("=== onderstreept", "\\=== onderstreept"),
        ("> citaat", "\\> citaat"),
        ("*vet* en _schuin_ en `code`", "\\*vet\\* en \\_schuin\\_ en \\`code\\`"),
        ("[klik](https://x.nl) ![b](c)", "\\[klik\\](https://x.nl) !\\[b\\](c)"),
        ("<b>html</b> &amp;", "\\<b\\>html\\</b\\> \\&amp;"),
        ("a | b ~~weg~~ $x$", "a \\| b \\~\\~weg\\~\\~ \\$x\\$"),
        ("back\\slash", "back\\\\slash"),
        ("  ingesprongen\n   code", "ingesprongen code"),
        ("gewoon: 3 - 2 = 1.", "gewoon: 3 - 2 = 1."),
    ],
)
def test_markdown_escape_keeps_text_literal(typed: str, shown: str) -> None:
    assert markdown_escape(typed) == shown


def test_a_markdown_quote_keeps_lines_and_paragraphs() -> None:
    assert markdown_quote("Eerst\n- dan\n\n\n    # toen") == "> Eerst\\\n> \\- dan\n>\n> \\# toen"


@pytest.mark.parametrize(
    ("url", "link"),
    [
        ("https://example.org/a?b=1&c=2", "https://example.org/a?b=1&c=2"),
        ("  http://example.org  ", "http://example.org"),
        ("mailto:info@example.org", "mailto:info@example.org"),
        ("javascript:alert(1)", None),
        ("JaVaScRiPt:alert(1)", None),
        ("https://example.org/a b", None),
        ('https://example.org/"onmouseover=', None),
        ("data:text/html,<b>", None),
        (None, None),
    ],
)
def test_only_web_and_mail_links_become_links(url: str | None, link: str | None) -> None:
    assert safe_link(url) == link


# CSV


async def test_csv_has_a_row_per_answer_or_unanswered_question(
    seeded: Store, database_url: str, run_hoedan: RunHoedan, tmp_path: Path
) -> None:
    out = tmp_path / "kennisbank.csv"
    text = _exported(run_hoedan, database_url, "csv", out)
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))

    _assert_no_people_and_nothing_withdrawn(text)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    assert list(rows[0]) == [
        "Vraagnummer",
        "Vraag",
        "Status",
        "Regio van de vraag",
        "Gesteld op",
        "Afgerond op",
        "Thema's",
        "Antwoord (#zodan)",
        "Regio van het antwoord",
        "Beantwoord op",
        "Link",
        "Nuttig gevonden",
        "Wat ermee gedaan is (#zodus)",
    ]
    assert [row["Vraagnummer"] for row in rows] == ["6", "5", "3", "2", "1", "1"]
    by_answer = {row["Regio van het antwoord"]: row for row in rows if row["Antwoord (#zodan)"]}
    assert set(by_answer) == {"Twente", "Zuid-Limburg", "Salland"}
    panel = by_answer["Zuid-Limburg"]
    assert panel["Vraag"].startswith("Hoe betrekken we inwoners bij ons regioplan?\nWe hebben")
    assert panel["Thema's"] == "Samenwerking en netwerkvorming, Inwoners betrekken"
    assert panel["Status"] == "beantwoord"
    assert (panel["Gesteld op"], panel["Beantwoord op"]) == ("2026-03-03", "2026-03-04")
    assert (panel["Link"], panel["Nuttig gevonden"]) == ("https://example.org/burgerpanel", "ja")
    assert panel["Wat ermee gedaan is (#zodus)"] == (
        "2026-03-18: We zijn gestart met een burgerpanel van 40 inwoners."
    )
    assert by_answer["Salland"]["Nuttig gevonden"] == "nee"
    funding = by_answer["Twente"]
    assert funding["Antwoord (#zodan)"] == "'" + FORMULA  # shown, never calculated
    assert (funding["Gesteld op"], funding["Afgerond op"]) == ("2026-03-13", "2026-03-20")
    unanswered = {row["Vraagnummer"]: row for row in rows if not row["Antwoord (#zodan)"]}
    assert unanswered["5"]["Thema's"] == ""
    assert unanswered["2"]["Vraag"] == SCRIPT
    assert unanswered["2"]["Nuttig gevonden"] == ""


# The command: help, empty knowledge bases and failures


@pytest.mark.parametrize("command", [("export",), ("export", "kennisbank")])
def test_export_commands_have_help_and_touch_nothing(
    command: tuple[str, ...], run_hoedan: RunHoedan, tmp_path: Path
) -> None:
    result = run_hoedan([], *command, "--help")

    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("output_format", ["html", "md", "csv"])
def test_an_empty_knowledge_base_is_still_a_valid_file(
    output_format: str, run_hoedan: RunHoedan, tmp_path: Path
) -> None:
    out = tmp_path / f"leeg.{output_format}"

    result = run_hoedan([], "export", "kennisbank", "--format", output_format, "--out", str(out))

    assert result.returncode == 0, result.stderr
    assert "nog geen vragen" in result.stdout
    content = out.read_text(encoding="utf-8-sig")
    if output_format == "csv":
        assert [row[0] for row in csv.reader(io.StringIO(content), delimiter=";")] == [
            "Vraagnummer"
        ]
    else:
        assert "Er zijn nog geen vragen." in content
    if output_format == "html":
        assert content.rstrip().endswith("</html>")


def test_without_options_it_writes_html_in_the_current_folder(
    run_hoedan: RunHoedan, tmp_path: Path
) -> None:
    result = run_hoedan([], "export", "kennisbank")

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "kennisbank.html").read_text(encoding="utf-8").startswith("<!DOCTYPE")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--format", "pdf"), "Het formaat pdf ken ik niet. Kies html, md of csv."),
        (("--out", "{tmp}/bestaat-niet/kb.html"), "De map {tmp}/bestaat-niet bestaat niet."),
        (("--out", "{tmp}"), "{tmp} is een map. Geef met --out een bestandsnaam"),
        (("--out", "{tmp}/bestand.txt/kb.html"), "De map {tmp}/bestand.txt bestaat niet."),
    ],
    ids=["unknown format", "missing folder", "a folder", "a file as folder"],
)
def test_bad_usage_is_one_dutch_sentence_and_exit_code_2(
    arguments: tuple[str, ...], message: str, run_hoedan: RunHoedan, tmp_path: Path
) -> None:
    (tmp_path / "bestand.txt").write_text("", encoding="utf-8")
    before = sorted(path.name for path in tmp_path.iterdir())

    result = run_hoedan([], "export", "kennisbank", *(a.format(tmp=tmp_path) for a in arguments))

    assert result.returncode == 2
    assert message.format(tmp=tmp_path) in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == before


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="root (and Windows) can write in a read-only folder",
)
def test_a_folder_without_write_permission_is_refused(
    run_hoedan: RunHoedan, tmp_path: Path
) -> None:
    locked = tmp_path / "alleen-lezen"
    locked.mkdir(mode=0o500)
    try:
        result = run_hoedan([], "export", "kennisbank", "--out", str(locked / "kb.html"))
    finally:
        locked.chmod(0o700)

    assert result.returncode == 2
    assert f"Ik mag niet schrijven in {locked}." in result.stderr


def test_a_failed_write_leaves_the_old_file_and_no_half_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "kennisbank.html"
    target.write_text("de vorige export", encoding="utf-8")

    def broken_rename(source: Any, destination: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(bot.knowledge_export.os, "replace", broken_rename)
    with pytest.raises(OSError, match="No space left"):
        write_atomically(target, b"<!DOCTYPE html> nieuw")

    assert target.read_text(encoding="utf-8") == "de vorige export"
    assert [path.name for path in tmp_path.iterdir()] == ["kennisbank.html"]


def test_an_atomic_write_replaces_the_file_with_ordinary_permissions(tmp_path: Path) -> None:
    target = tmp_path / "kennisbank.md"
    target.write_text("oud", encoding="utf-8")
    umask = os.umask(0o022)
    try:
        write_atomically(target, "nieuw én goed".encode())
    finally:
        os.umask(umask)

    assert target.read_text(encoding="utf-8") == "nieuw én goed"
    assert target.stat().st_mode & 0o777 == 0o644


# Rendering without the command


def _knowledge(entries: list[KnowledgeEntry]) -> KnowledgeBase:
    return build(entries, network_name="Lerend netwerk", language="en", generated_at=at(1))


def test_english_exports_use_english_texts_dates_and_commas() -> None:
    entry = KnowledgeEntry(
        number=1,
        text="How do we involve residents?",
        status=QuestionStatus.OPEN,
        created_at=at(3),
        closed_at=None,
        region_name="Twente",
        themes=("inwoners", "niet-in-de-catalogus"),
        answers=(),
        outcomes=(),
    )
    exporter = Exporter(language="en", timezone="Europe/Amsterdam")

    html = exporter.render(_knowledge([entry]), "html").decode()
    rows = list(
        csv.reader(io.StringIO(exporter.render(_knowledge([entry]), "csv").decode("utf-8-sig")))
    )

    assert '<html lang="en">' in html
    assert "asked on 3 March 2026" in html
    assert "Involving residents" in html
    assert re.findall(r'<section class="theme" id="thema-([a-z-]+)">', html) == [
        "inwoners",
        "niet-in-de-catalogus",
    ]
    assert rows[0][:2] == ["Question number", "Question"]
    assert rows[1][6] == "Involving residents, niet-in-de-catalogus"


def test_the_newest_question_comes_first_within_a_theme_whatever_the_input_order() -> None:
    def entry(number: int) -> KnowledgeEntry:
        return KnowledgeEntry(
            number=number,
            text=f"Vraag {number}",
            status=QuestionStatus.OPEN,
            created_at=at(1) + timedelta(hours=number),
            closed_at=None,
            region_name=None,
            themes=("meten",),
            answers=(),
            outcomes=(),
        )

    knowledge = _knowledge([entry(2), entry(7), entry(4)])

    assert [e.number for e in knowledge.sections[0].entries] == [7, 4, 2]
    assert knowledge.summary.regions == ()


def test_a_stored_theme_outside_the_catalogue_gets_its_own_section_and_anchor() -> None:
    entry = KnowledgeEntry(
        number=1,
        text="Vraag",
        status=QuestionStatus.OPEN,
        created_at=at(1),
        closed_at=None,
        region_name=None,
        themes=("Meten", "meten"),
        answers=(),
        outcomes=(),
    )

    sections = _knowledge([entry]).sections

    assert [(s.theme_id, s.anchor) for s in sections] == [
        ("meten", "thema-meten"),
        ("Meten", "thema-meten-2"),
    ]


@needs_chromium
def test_the_html_renders_and_prints_in_headless_chromium(
    seeded_sqlite: str, run_hoedan: RunHoedan, tmp_path: Path
) -> None:
    page = tmp_path / "kennisbank.html"
    _exported(run_hoedan, seeded_sqlite, "html", page)

    seen = render(page, "kennisbank", tmp_path, rows=700)

    assert (seen.width, seen.height) == (1200, 1600)
    assert len(seen.pixels) > 50  # text, tinted panels and chart bars, not a blank page
    assert seen.shows_accent()
    assert seen.pdf_pages >= 6  # summary and contents, then each of the five themes on a page
