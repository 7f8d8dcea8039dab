"""Intervision in local mode, end to end: piped ``hoedan console`` on a real SQLite file.

Carla (a coach, made so by the admin Beheer) starts an incident-method session for Anna (the
case owner) with Bram, Dirk and Eva. Anna writes her case from the button in her DM; the group
talks in ``intervisie-1``; ``:wacht`` lets phases run out by the console's clock; Carla steers
with the buttons; lessons come in through the private forms; the group gets the summary and
Anna the full record. One session also survives a restart: a second process on the same
database goes on where the first stopped.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import HOEDAN, Run, RunHoedan

ADMIN = {"HOEDAN_ADMINS": "Beheer"}
CASE = "Onze wethouder wil snel resultaat, de partners willen eerst vertrouwen opbouwen."
INCIDENT = "Het liep vast aan de regiotafel van maart."
QUESTION = "Wie zaten er aan de regiotafel?"
KEY_QUESTION = "Hoe krijg ik de wethouder en de partners op één lijn?"
ADVICE = {
    "Bram": "Begin met één gezamenlijk succes.",
    "Dirk": "Laat de wethouder een partner bezoeken.",
    "Eva": "Dit is vertrouwelijk: de GGD-directeur overweegt te stoppen.",
}
REACTION = "Ik ga eerst het bezoek proberen."
LESSONS = {
    "Bram": ("Vertrouwen is ook resultaat.", "ja"),
    "Dirk": ("Vaker vragen stellen.", "nee"),
    "Eva": ("Kleine stappen.", "nee"),
}
TAKEAWAY = "Ik plan een bezoek aan de wethouder."
SECRETS = (
    CASE,
    INCIDENT,
    QUESTION,
    KEY_QUESTION,
    *ADVICE.values(),
    REACTION,
    *(text for text, _ in LESSONS.values()),
    TAKEAWAY,
)

COACH_AND_START = [
    ":als Carla",
    "/hoedan help",
    ":als Beheer",
    "/hoedan rol Carla coach",
    ":als Carla",
    "/hoedan intervisie incident",
    "Anna",  # case owner
    "Bram, Dirk, Eva",  # participants
    "",  # minutes per phase: the method's own
    "1",  # a private group conversation
]
SHARE_CASE = [":als Anna", ":kies 1", CASE, ":in intervisie-1", INCIDENT]
"""Anna presses "Schrijf je casus" in her DM, writes it, and says more in the group."""

FULL_SESSION = [
    *COACH_AND_START,
    *SHARE_CASE,
    ":wacht 4",  # the one-minute warning of phase 1
    ":wacht 1",  # phase 1 ends by the clock
    ":als Bram",
    QUESTION,
    ":kies 1",  # Bram tries "Volgende fase"
    ":als Carla",
    ":kies 1",  # Carla may: phase 3
    ":als Anna",
    KEY_QUESTION,
    ":als Carla",
    ":kies 1",  # phase 4
    ":kies 1",  # phase 5: advice, in turn
    ":als Bram",
    ADVICE["Bram"],
    ":als Dirk",
    ADVICE["Dirk"],
    ":als Eva",
    ADVICE["Eva"],
    ":als Carla",
    ":kies 1",  # phase 6: Anna's reaction
    ":als Anna",
    REACTION,
    ":wacht 5",  # phase 6 runs out: phase 7, lessons asked privately
    *(
        line
        for name, (lesson, shared) in LESSONS.items()
        for line in (f":als {name}", ":kies 1", lesson, shared)
    ),
    ":als Anna",
    ":kies 1",  # "Wat neem ik mee?"
    TAKEAWAY,
    # Afterwards, ordinary life in #algemeen goes on.
    ":in algemeen",
    "Weet iemand #hoedan hoe je een wethouder meekrijgt?",
    "/hoedan zoek wethouder",
    "/hoedan vragen alle",
]


@dataclass(frozen=True)
class Block:
    """One message Hoedan printed: its title line ("Hoedan in …") and its lines."""

    title: str
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        """Without the bold marks, which the console prints literally around names."""
        return "\n".join(self.lines).replace("*", "")


_ECHO = re.compile(r"^(\S.* › |  \S.* › )")
"""An input line echoed with its prompt (a form field's prompt is indented)."""


def blocks(output: str) -> list[Block]:
    found: list[tuple[str, list[str]]] = []
    current: list[str] | None = None
    for line in output.splitlines():
        if line.startswith(("Hoedan ", "Hoedan,")) and not _ECHO.match(line):
            current = []
            found.append((line, current))
        elif current is not None and line.startswith("  ") and not _ECHO.match(line):
            current.append(line[2:])
        else:
            current = None
    return [Block(title, tuple(lines)) for title, lines in found]


def after(output: str, line: str, occurrence: int = 1) -> list[Block]:
    """The messages printed after the ``occurrence``-th echo of ``line``, up to the next input."""
    start = -1
    for _ in range(occurrence):
        start = output.index(f"› {line}\n", start + 1)
    start += len(f"› {line}\n")
    following = re.search(r"^\S.* › ", output[start:], re.MULTILINE)
    return blocks(output[start : start + following.start()] if following else output[start:])


def said_after(output: str, line: str, occurrence: int = 1) -> str:
    """Everything printed after an input line (console notes included), bold marks removed."""
    start = -1
    for _ in range(occurrence):
        start = output.index(f"› {line}\n", start + 1)
    start += len(f"› {line}\n")
    following = re.search(r"^\S.* › ", output[start:], re.MULTILINE)
    end = start + following.start() if following else len(output)
    return output[start:end].replace("*", "")


GROUP = "Hoedan in groepsgesprek intervisie-1"


def dm(name: str) -> str:
    return f"Hoedan, privébericht aan {name.lower()}"


def only_for(name: str) -> str:
    return f"Hoedan, alleen voor {name.lower()}"


def rows(database: Path, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(query).fetchall()


def assert_clean(run: Run) -> None:
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert run.stderr == ""


# The full session runs once; two tests read it. -------------------------------------------------


@dataclass(frozen=True)
class Session:
    run: Run
    database: Path


@pytest.fixture(scope="module")
def full_session(tmp_path_factory: pytest.TempPathFactory) -> Session:
    """``FULL_SESSION`` piped into ``hoedan console``, as ``run_hoedan`` runs it."""
    folder = tmp_path_factory.mktemp("intervision")
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HOEDAN_", "DATABASE_URL", "SLACK_"))
    }
    environment.update(DATABASE_URL=f"sqlite:///{folder / 'hoedan.db'}", COLUMNS="200", **ADMIN)
    completed = subprocess.run(
        [str(HOEDAN), "console"],
        input="\n".join(FULL_SESSION) + "\n",
        capture_output=True,
        text=True,
        cwd=folder,
        env=environment,
        timeout=60,
        check=False,
    )
    return Session(
        Run(completed.returncode, completed.stdout, completed.stderr), folder / "hoedan.db"
    )


def test_a_full_incident_session_in_local_mode(full_session: Session) -> None:
    run, database = full_session.run, full_session.database
    out = run.stdout
    assert_clean(run)

    # Carla starts it; the group hears who and how, Anna is asked privately for her case.
    started = after(out, "1")
    titles = [block.title for block in started]
    assert titles == [GROUP, dm("Anna"), only_for("Carla")]
    opening, ask, confirmation = started
    assert opening.lines[0] == "Intervisie: Incidentmethode"
    assert "Inbrenger: Anna. Begeleider: Carla. Deelnemers: Bram, Dirk, Eva." in opening.text
    assert "5. Hoe zou jij het aanpakken? (15 min)" in opening.text
    assert "Samen ongeveer 48 minuten." in opening.text
    assert "Wat hier gezegd wordt, blijft hier." in opening.text
    assert "We beginnen zodra Anna de casus heeft gedeeld." in opening.text
    assert (
        "Je bent inbrenger in een intervisie (Incidentmethode) met Carla als begeleider."
        in ask.text
    )
    assert "[1] Schrijf je casus" in ask.text
    assert "privé groepsgesprek met de deelnemers" in confirmation.text

    # The case: a form from the DM's button; only once sent does the group see it.
    form = said_after(out, ":kies 1")
    assert form.startswith("Je casus\n")
    assert "Wat speelt er, en wat is je vraag?" in form
    shared, first_phase, thanks = after(out, CASE)
    assert (shared.title, shared.lines) == (GROUP, ("De casus van Anna:", f"│ {CASE}"))
    assert first_phase.title == GROUP
    assert first_phase.lines[0] == "Fase 1 van 7: Het incident"
    assert "Aan de beurt: Anna (de inbrenger)" in first_phase.text
    assert re.search(r"Tot: \d\d:\d\d \(5 min\)", first_phase.text)
    assert "[1] Volgende fase   [2] +5 minuten   [3] Pauzeer   [4] Vorige fase   [5] Stop" in (
        first_phase.text
    )
    assert (thanks.title, thanks.text) == (
        only_for("Anna"),
        "Dank je, je casus staat in de sessie.",
    )
    assert out.index(CASE) > out.index("› :kies 1")

    # Time passes: four minutes bring the warning, one more the next phase.
    warned = said_after(out, ":wacht 4")
    assert warned.startswith("⏩ 4 minuten later: het is nu ")
    [warning] = after(out, ":wacht 4")
    assert warning.title == GROUP
    assert re.fullmatch(
        r"⏳ Nog één minuut voor Het incident \(tot \d\d:\d\d\)\. Rond maar vast af\.",
        warning.text,
    )
    assert said_after(out, ":wacht 1").startswith("⏩ 1 minuut later: het is nu ")
    [second] = after(out, ":wacht 1")
    assert (second.title, second.lines[0]) == (GROUP, "Fase 2 van 7: Informatieronde")
    assert "Aan de beurt: iedereen" in second.text
    assert re.search(r"Tot: \d\d:\d\d \(10 min\)", second.text)

    # Only the facilitator steers; a participant is told so, privately.
    [refused] = after(out, ":kies 1", occurrence=2)
    assert refused.title == only_for("Bram")
    assert refused.text == "Alleen de begeleider (Carla) of een coördinator kan de sessie sturen."
    [third] = after(out, ":kies 1", occurrence=3)
    assert (third.title, third.lines[0]) == (GROUP, "Fase 3 van 7: Kernvraag")
    [fourth] = after(out, ":kies 1", occurrence=4)
    assert fourth.lines[0] == "Fase 4 van 7: Eerst zelf nadenken"
    [fifth] = after(out, ":kies 1", occurrence=5)
    assert fifth.lines[0] == "Fase 5 van 7: Hoe zou jij het aanpakken?"
    assert "Aan de beurt: om de beurt: Bram, Dirk, Eva" in fifth.text
    assert "Eerst aan de beurt: Bram." in fifth.text

    # In turn: each contribution names the next one.
    [next_dirk] = after(out, ADVICE["Bram"])
    assert next_dirk.title == GROUP
    assert next_dirk.text.startswith("Dank je. Nu Dirk.")
    [next_eva] = after(out, ADVICE["Dirk"])
    assert next_eva.text.startswith("Dank je. Nu Eva.")
    [everyone] = after(out, ADVICE["Eva"])
    assert everyone.text == "Iedereen is aan de beurt geweest."
    [sixth] = after(out, ":kies 1", occurrence=6)
    assert sixth.lines[0] == "Fase 6 van 7: Reactie van de inbrenger"

    # Phase 6 runs out by the clock: phase 7, and everyone is asked privately.
    closing = after(out, ":wacht 5")
    assert [block.title for block in closing] == [
        GROUP,
        GROUP,
        dm("Bram"),
        dm("Dirk"),
        dm("Eva"),
        dm("Anna"),
    ]
    assert closing[0].text.startswith("⏳ Nog één minuut voor Reactie van de inbrenger")
    assert closing[1].lines[0] == "Fase 7 van 7: Leeropbrengst"
    for request in closing[2:5]:
        assert request.text.startswith("De intervisie loopt af. Wat neem jij mee?")
        assert request.lines[-1] == "[1] Schrijf je leeropbrengst"
    assert "Wat neem jij als inbrenger mee uit deze sessie?" in closing[5].text
    assert closing[5].lines[-1] == "[1] Wat neem ik mee?"

    # Lessons: a form with the "may be shared" checkbox; the owner's takeaway without it.
    lesson_form = said_after(out, ":kies 1", occurrence=7)
    assert lesson_form.startswith("Je leeropbrengst\n")
    assert "Wat neem je mee uit deze intervisie?" in lesson_form
    shareable = said_after(out, LESSONS["Bram"][0])
    assert "Antwoord met ja of nee." in shareable
    assert "Mag gedeeld worden, zonder mijn naam" in shareable
    [bram_thanks] = after(out, "ja")
    assert (bram_thanks.title, bram_thanks.text) == (
        only_for("Bram"),
        "Dank je, je leeropbrengst is bewaard en mag zonder naam gedeeld worden.",
    )
    [dirk_thanks] = after(out, "nee")
    assert (dirk_thanks.title, dirk_thanks.text) == (
        only_for("Dirk"),
        "Dank je, je leeropbrengst is bewaard.",
    )
    takeaway_form = said_after(out, ":kies 1", occurrence=10)
    assert takeaway_form.startswith("Wat neem je mee?\n")
    assert "Mag gedeeld worden" not in takeaway_form

    # The end: a summary for the group, the full record for Anna alone.
    ended = after(out, TAKEAWAY)
    summary = ended[0]
    assert summary.title == GROUP
    assert summary.lines[0] == "Intervisie afgerond: Incidentmethode"
    for line in (
        "• Informatieronde: 1 bijdrage",
        "• Kernvraag: 1 bijdrage",
        "• Hoe zou jij het aanpakken?: 3 bijdragen",
        "• Reactie van de inbrenger: 1 bijdrage",
        "De adviezen:",
        *(f"• {advice}" for advice in ADVICE.values()),
        "De leeropbrengsten:",
        *(f"• {lesson}" for lesson, _ in LESSONS.values()),
        "Anna krijgt het volledige verslag in een privébericht. Dank jullie wel!",
    ):
        assert line in summary.lines, line
    assert TAKEAWAY not in summary.text
    record = [block for block in ended if block.title == dm("Anna")]
    assert {block.title for block in ended} == {GROUP, dm("Anna"), only_for("Anna")}
    assert record[0].text.startswith("Het verslag van je intervisie (Incidentmethode)")
    everything = "\n".join(block.text for block in record)
    for line in (
        f"• Anna: {CASE}",
        f"• Anna: {INCIDENT}",
        f"• Bram: {QUESTION}",
        f"• Anna: {KEY_QUESTION}",
        *(f"• {name}: {advice}" for name, advice in ADVICE.items()),
        f"• Anna: {REACTION}",
        *(f"• {name}: {lesson}" for name, (lesson, _) in LESSONS.items()),
        f"• Anna: {TAKEAWAY}",
    ):
        assert line in everything.splitlines(), line
    assert everything.index("Informatieronde") < everything.index("Kernvraag")

    assert rows(database, "SELECT state FROM flow_instance") == [("finished",)]
    assert rows(
        database, "SELECT COUNT(*) FROM intervision_session WHERE ended_at IS NOT NULL"
    ) == [(1,)]
    assert rows(
        database,
        "SELECT phase, COUNT(*) FROM intervision_contribution GROUP BY phase ORDER BY MIN(id)",
    ) == [("case", 2), ("clarify", 1), ("key_question", 1), ("advice", 3), ("reaction", 1)]
    assert rows(database, "SELECT text, shareable FROM lesson ORDER BY id") == [
        (LESSONS["Bram"][0], 1),
        (LESSONS["Dirk"][0], 0),
        (LESSONS["Eva"][0], 0),
        (TAKEAWAY, 0),
    ]


def test_what_is_said_in_the_session_stays_in_the_group_and_with_the_case_owner(
    full_session: Session,
) -> None:
    printed = blocks(full_session.run.stdout)
    assert_clean(full_session.run)

    in_channel = [
        block
        for block in printed
        if block.title in {"Hoedan in #algemeen", "Hoedan in het draadje in #algemeen"}
    ]
    assert in_channel, "the run should print something in #algemeen to check"
    for block in in_channel:
        for secret in SECRETS:
            assert secret not in block.text, (secret, block)
    # The search and the list in #algemeen show the new question, nothing from the session.
    search = after(full_session.run.stdout, "/hoedan zoek wethouder")
    assert "1 vraag over wethouder" in search[0].text
    for block in search + after(full_session.run.stdout, "/hoedan vragen alle"):
        for secret in SECRETS:
            assert secret not in block.text, (secret, block)

    # Every message that carries anything said in the session went to the group or to Anna.
    carriers = {block.title for block in printed if any(s in block.text for s in SECRETS)}
    assert carriers == {GROUP, dm("Anna")}


# A participant may not start or steer -----------------------------------------------------------


def test_a_participant_can_neither_start_nor_steer_a_session(
    run_hoedan: RunHoedan, tmp_path: Path
) -> None:
    run = run_hoedan(
        [
            ":als Bram",
            "/hoedan intervisie incident",
            "/hoedan intervisie",
            *COACH_AND_START[:-4],
            "Anna",
            "Bram, Dirk",
            "",
            "1",
            ":als Bram",
            ":kies 1",  # Anna's "Schrijf je casus"
            *SHARE_CASE,
            ":als Bram",
            ":kies 1",  # Volgende fase
            ":kies 3",  # Pauzeer
            ":kies 5",  # Stop
            ":wacht 1",
        ],
        env=ADMIN,
    )

    assert_clean(run)
    out = run.stdout
    not_coach = (
        "Een intervisie starten en begeleiden doen coaches. Vraag een coördinator of je coach "
        "kunt worden, of vraag een coach in je regio."
    )
    for line in ("/hoedan intervisie incident", "/hoedan intervisie"):
        [refused] = after(out, line)
        assert (refused.title, refused.text) == (only_for("Bram"), not_coach)
        assert "Intervisie starten" not in said_after(out, line)
    [not_owner] = after(out, ":kies 1", occurrence=1)
    assert (not_owner.title, not_owner.text) == (
        only_for("Bram"),
        "Alleen de inbrenger (Anna) schrijft de casus.",
    )
    steering = "Alleen de begeleider (Carla) of een coördinator kan de sessie sturen."
    for line, occurrence in ((":kies 1", 3), (":kies 3", 1), (":kies 5", 1)):
        assert [(b.title, b.text) for b in after(out, line, occurrence)] == [
            (only_for("Bram"), steering)
        ]
    assert "Fase 2 van 7" not in out
    assert "Intervisie gestopt" not in out
    assert "⏸" not in out

    database = tmp_path / "hoedan.db"
    assert rows(
        database,
        "SELECT m.display_name FROM intervision_session s JOIN member m ON m.id = s.facilitator_id",
    ) == [("Carla",)]
    assert rows(database, "SELECT state, json_extract(data, '$.index') FROM flow_instance") == [
        ("running", 0)
    ]


# A restart in the middle of a session -----------------------------------------------------------


def test_a_second_process_on_the_same_database_goes_on_with_the_session(
    run_hoedan: RunHoedan, tmp_path: Path
) -> None:
    first = run_hoedan(
        [*COACH_AND_START, *SHARE_CASE, ":wacht 5", ":als Bram", QUESTION], env=ADMIN
    )
    assert_clean(first)
    assert "Fase 2 van 7: Informatieronde" in first.stdout

    dirk = "Is er al eerder met de wethouder gesproken?"
    second = run_hoedan(
        [
            ":als Dirk",
            ":in intervisie-1",
            dirk,
            ":wacht 15",
            ":als Anna",
            KEY_QUESTION,
            ":als Carla",
            ":kies 5",  # Stop
        ],
        env=ADMIN,
    )

    assert_clean(second)
    out = second.stdout
    assert "Je bent nu in het groepsgesprek intervisie-1." in said_after(out, ":in intervisie-1")
    moved = after(out, ":wacht 15")
    assert [block.title for block in moved] == [GROUP, GROUP]
    assert moved[0].text.startswith("⏳ Nog één minuut voor Informatieronde")
    assert moved[1].lines[0] == "Fase 3 van 7: Kernvraag"
    assert out.count("Fase 3 van 7") == 1
    assert "Fase 2 van 7" not in out
    assert "Fase 4 van 7" not in out

    ended = after(out, ":kies 5")
    assert ended[0].title == GROUP
    assert ended[0].lines[0] == "Intervisie gestopt: Incidentmethode"
    assert "• Informatieronde: 2 bijdragen" in ended[0].lines
    assert "• Kernvraag: 1 bijdrage" in ended[0].lines
    record = "\n".join(block.text for block in ended if block.title == dm("Anna")).splitlines()
    for line in (
        f"• Anna: {CASE}",
        f"• Bram: {QUESTION}",  # said in the first process
        f"• Dirk: {dirk}",  # said in the second, in the same phase
        f"• Anna: {KEY_QUESTION}",
    ):
        assert line in record, line
    assert record.count(f"• Bram: {QUESTION}") == 1

    database = tmp_path / "hoedan.db"
    assert rows(
        database,
        "SELECT phase, COUNT(*) FROM intervision_contribution GROUP BY phase ORDER BY MIN(id)",
    ) == [("case", 2), ("clarify", 2), ("key_question", 1)]
    assert rows(database, "SELECT state FROM flow_instance") == [("stopped",)]
    third_phase = "SELECT COUNT(*) FROM outbox_message WHERE payload LIKE '%Fase 3 van 7%'"
    assert rows(database, third_phase) == [(1,)]
    assert rows(database, "SELECT COUNT(*) FROM outbox_message WHERE status != 'sent'") == [(0,)]
