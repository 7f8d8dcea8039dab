"""The #hoedan → #zodan exchange in local mode: piped ``hoedan console`` on a real SQLite file.

Anna (Twente) asks with #hoedan in the channel, Bram (Zuid-Limburg) answers with
``/hoedan zodan`` or through the "Ik heb een #zodan" form, Anna's DM is printed, she presses
"Dit helpt"; Sanne (Salland) asks the same thing in other words and is pointed to Anna's
question. Each member sets their region with ``/hoedan regio``.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from tests.conftest import Run, RunHoedan

# A pair from tests/data/question_pairs.toml: the same intent in other words.
IZA_QUESTION = "Hoe betrekken jullie inwoners bij het opstellen van het IZA-plan?"
IZA_PARAPHRASE = (
    "Op welke manier laten jullie bewoners meedenken over de regionale plannen "
    "voor het Integraal Zorgakkoord?"
)
LONELINESS = "Hoe pakken jullie eenzaamheid onder ouderen aan?"
PANEL = "Wij lieten bewoners meepraten in een burgerpanel van 40 mensen."

REGIONS = [
    ":als Anna",
    "/hoedan regio Twente",
    ":als Bram",
    "/hoedan regio Zuid-Limburg",
    ":als Sanne",
    "/hoedan regio Salland",
]


def reply_after(output: str, line: str, occurrence: int = 1) -> str:
    """What was printed after the ``occurrence``-th echo of ``line``, up to the next input."""
    start = -1
    for _ in range(occurrence):
        start = output.index(f"› {line}\n", start + 1)
    start += len(f"› {line}\n")
    following = re.search(r"^\S.* › ", output[start:], re.MULTILINE)
    return output[start : start + following.start()] if following else output[start:]


def rows(tmp_path: Path, query: str) -> list[tuple[Any, ...]]:
    """Rows from the SQLite file the run used (``run_hoedan`` puts it in ``tmp_path``)."""
    with sqlite3.connect(tmp_path / "hoedan.db") as connection:
        return connection.execute(query).fetchall()


def assert_clean(run: Run) -> None:
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stdout + run.stderr


def test_twente_asks_zuid_limburg_answers_and_salland_finds_it_in_other_words(
    run_hoedan: RunHoedan, tmp_path: Path
) -> None:
    ask = f"{IZA_QUESTION} #hoedan"
    answer = f"/hoedan zodan 1 {PANEL}"
    paraphrase = f"/hoedan vraag {IZA_PARAPHRASE}"
    run = run_hoedan(
        [
            *REGIONS,
            ":als Anna",
            ask,
            ":als Bram",
            answer,
            ":als Sanne",
            paraphrase,
            paraphrase,
        ]
    )

    assert_clean(run)
    asked = reply_after(run.stdout, ask)
    assert "Hoedan in het draadje in #algemeen" in asked
    assert "Je vraag is bewaard als #1." in asked
    answered = reply_after(run.stdout, answer)
    assert "Hoedan, alleen voor bram\n  Dank je! Je #zodan bij vraag #1 is bewaard" in answered
    dm = answered.split("Hoedan, privébericht aan anna\n")[1]
    assert dm.startswith("  Een #zodan op je vraag #1, van Bram uit Zuid-Limburg:\n")
    assert f"│ {PANEL}" in dm
    assert "[1] Dit helpt" in dm

    found = reply_after(run.stdout, paraphrase)
    assert "Je vraag is bewaard als #2." in found
    assert "Deze eerdere vraag lijkt op de jouwe:" in found
    assert f"• #1  {IZA_QUESTION}  — Twente, beantwoord" in found
    assert "[1] Bekijk #1" in found
    invitation = found.split("Hoedan, privébericht aan bram\n")[1]
    assert "Uit Salland komt vraag #2." in invitation
    again = reply_after(run.stdout, paraphrase, occurrence=2)
    assert "Deze vraag heb je vandaag al gesteld: #2. Ik heb hem niet nog eens bewaard." in again
    assert "bewaard als" not in again

    assert rows(
        tmp_path,
        "SELECT q.number, q.status, r.name FROM question q JOIN region r ON r.id = q.region_id"
        " ORDER BY q.number",
    ) == [(1, "answered", "Twente"), (2, "open", "Salland")]
    assert rows(
        tmp_path,
        "SELECT q.number, a.text, r.name FROM answer a JOIN question q ON q.id = a.question_id"
        " JOIN region r ON r.id = a.region_id",
    ) == [(1, PANEL, "Zuid-Limburg")]


def test_the_zodan_form_answers_the_asker_says_it_helps_and_the_question_closes(
    run_hoedan: RunHoedan, tmp_path: Path
) -> None:
    ask = f"{LONELINESS} #hoedan"
    late = "/hoedan zodan 1 Bij ons werkt een buurtkamer."
    run = run_hoedan(
        [
            *REGIONS,
            ":als Anna",
            ask,
            ":als Bram",
            ":kies 1",  # "Ik heb een #zodan" under the confirmation in the thread
            "Een belteam van vrijwilligers belt ouderen elke week.",
            "https://example.org/belteam",
            ":als Anna",
            ":kies 1",  # "Dit helpt" in her DM
            ":als Sanne",
            late,
        ]
    )

    assert_clean(run)
    assert "[1] Ik heb een #zodan" in reply_after(run.stdout, ask)
    pressed = reply_after(run.stdout, ":kies 1")
    assert "#zodan\n" in pressed
    assert "Hoe pakten jullie dit aan? (vraag #1)" in pressed
    assert "Link (mag leeg)" in pressed
    sent = reply_after(run.stdout, "https://example.org/belteam")
    assert "Je #zodan bij vraag #1 is bewaard" in sent
    dm = sent.split("Hoedan, privébericht aan anna\n")[1]
    assert "Een #zodan op je vraag #1, van Bram uit Zuid-Limburg:" in dm
    assert "│ Een belteam van vrijwilligers belt ouderen elke week." in dm
    assert "Meer lezen: https://example.org/belteam" in dm

    helped = reply_after(run.stdout, ":kies 1", occurrence=2)
    assert "Hoedan, alleen voor anna\n  Fijn dat het helpt! Vraag #1 is gesloten." in helped
    assert "Hoedan, privébericht aan bram\n  Je #zodan bij vraag #1 hielp Anna." in helped
    refused = reply_after(run.stdout, late)
    assert "Vraag #1 is al gesloten: de vrager is geholpen." in refused
    assert "privébericht" not in refused

    assert rows(tmp_path, "SELECT number, status FROM question") == [(1, "closed")]
    assert rows(tmp_path, "SELECT text, link, helpful FROM answer") == [
        ("Een belteam van vrijwilligers belt ouderen elke week.", "https://example.org/belteam", 1)
    ]


def test_bad_zodan_input_gets_clear_dutch_replies_and_stores_nothing(
    run_hoedan: RunHoedan, tmp_path: Path
) -> None:
    too_long = "/hoedan zodan 1 " + "x" * 5000
    good = f"/hoedan zodan 1 {PANEL}"
    run = run_hoedan(
        [
            *REGIONS,
            ":als Anna",
            f"{LONELINESS} #hoedan",
            ":als Bram",
            "/hoedan zodan",
            "/hoedan zodan Wij werkten met een panel.",
            "/hoedan zodan 999 Wij werkten met een panel.",
            "/hoedan zodan 1",
            too_long,
            ":kies 1",
            "   ",
            ":annuleer",
            good,
        ]
    )

    assert_clean(run)
    expected = {
        "/hoedan zodan": "Zo geef je een #zodan: zodan <nr> <antwoord>",
        "/hoedan zodan Wij werkten met een panel.": "Wij is geen vraagnummer.",
        "/hoedan zodan 999 Wij werkten met een panel.": "Vraag #999 ken ik niet.",
        "/hoedan zodan 1": "Je #zodan bij vraag #1 is nog leeg.",
        too_long: "Je tekst is 5.000 tekens; het maximum is 4.000.",
    }
    for line, text in expected.items():
        reply = reply_after(run.stdout, line)
        assert f"Hoedan, alleen voor bram\n  {text}" in reply, (line, reply)
        assert "privébericht" not in reply
    blank = reply_after(run.stdout, ":kies 1")
    assert "Dit veld is verplicht." in blank
    assert "Formulier gestopt; er is niets opgeslagen." in blank
    stored = reply_after(run.stdout, good)
    assert "Je #zodan bij vraag #1 is bewaard" in stored
    assert "Hoedan, privébericht aan anna" in stored
    assert run.stdout.count("Hoedan, privébericht aan anna") == 1

    assert rows(tmp_path, "SELECT text FROM answer") == [(PANEL,)]
