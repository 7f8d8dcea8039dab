"""Local mode end to end: the real command, piped input, a real SQLite file."""

from __future__ import annotations

import re

from tests.conftest import RunHoedan

TWO_REGIONS = [
    ":als Anna",
    "/hoedan regio Twente",
    "/hoedan vraag Hoe betrekken we inwoners bij het regioplan?",
    ":als Bram",
    ":in zuid-limburg",
    "/hoedan regio Zuid-Limburg",
    "/hoedan Hoe meten we onze gezamenlijke resultaten?",
    "/hoedan vragen alle",
    "/hoedan zoek inwoners betrekken",
]


def _reply_after(output: str, command: str) -> str:
    """The output between the echo of ``command`` and the next echoed input line."""
    start = output.index(f"› {command}\n") + len(f"› {command}\n")
    following = re.search(r"^\S.* › ", output[start:], re.MULTILINE)
    return output[start : start + following.start()] if following else output[start:]


def test_two_members_of_two_regions_ask_list_and_search(run_hoedan: RunHoedan) -> None:
    run = run_hoedan(TWO_REGIONS)

    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert "bewaard als #1" in run.stdout
    assert "bewaard als #2" in run.stdout
    listing = _reply_after(run.stdout, "/hoedan vragen alle")
    assert "Open vragen (2)" in listing
    assert "#1  Hoe betrekken we inwoners bij het regioplan?  — Anna, Twente" in listing
    assert "#2  Hoe meten we onze gezamenlijke resultaten?  — Bram, Zuid-Limburg" in listing
    found = _reply_after(run.stdout, "/hoedan zoek inwoners betrekken")
    assert "#1" in found
    assert "#2" not in found


def test_a_second_run_on_the_same_database_continues(run_hoedan: RunHoedan) -> None:
    assert run_hoedan(TWO_REGIONS).returncode == 0

    again = run_hoedan(
        [":als Carla", "/hoedan vragen", "/hoedan vraag Hoe vinden we structurele financiering?"]
    )

    assert again.returncode == 0, again.stderr
    listing = _reply_after(again.stdout, "/hoedan vragen")
    assert "#1" in listing
    assert "#2" in listing
    assert "bewaard als #3" in again.stdout


def test_bad_input_gets_clear_dutch_answers_and_stores_nothing(run_hoedan: RunHoedan) -> None:
    long_question = "Hoe " + "x" * 9_996
    run = run_hoedan(
        [
            ":als Dirk",
            "/hoedan vraag",
            "/hoedan vraag    ",
            f"/hoedan vraag {long_question}",
            "/hoedan foo",
            "/hoedan zoekk subsidie",
            "/hoedan rol Dirk coach",
            "/hoedan rol Dirk keizer",
            "/hoedan intervisie",
            "/hoedan digest",
            "/hoedan vragen",
        ]
    )

    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert _reply_after(run.stdout, "/hoedan vraag").count("Je vraag is nog leeg") == 1
    too_long = _reply_after(run.stdout, f"/hoedan vraag {long_question}")
    assert "10.000 tekens" in too_long
    assert "maximum is 4.000" in too_long
    assert "Die opdracht ken ik niet: foo" in run.stdout
    assert "Bedoelde je zoek?" in _reply_after(run.stdout, "/hoedan zoekk subsidie")
    assert "Dat mag je niet" in _reply_after(run.stdout, "/hoedan rol Dirk coach")
    assert "De rol keizer ken ik niet" in _reply_after(run.stdout, "/hoedan rol Dirk keizer")
    assert "doen coaches" in _reply_after(run.stdout, "/hoedan intervisie")
    assert "voor coördinatoren" in _reply_after(run.stdout, "/hoedan digest")
    assert "Er staan geen open vragen" in _reply_after(run.stdout, "/hoedan vragen")


def test_a_malformed_database_url_stops_start_up_clearly(run_hoedan: RunHoedan) -> None:
    run = run_hoedan(["/hoedan help"], env={"DATABASE_URL": "sqlite:/:nope::"})

    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert "Hoedan kan niet starten" in run.stderr
    assert "DATABASE_URL" in run.stderr


def test_wrong_timezone_and_language_are_named(run_hoedan: RunHoedan) -> None:
    run = run_hoedan(
        ["/hoedan help"], env={"HOEDAN_TIMEZONE": "Europe/Amsterdan", "HOEDAN_LANGUAGE": "fr"}
    )

    assert run.returncode == 2
    assert "HOEDAN_TIMEZONE: 'Europe/Amsterdan' is geen bekende tijdzone" in run.stderr
    assert "HOEDAN_LANGUAGE: 'fr' kan niet" in run.stderr


def test_an_admin_by_name_grants_roles_and_the_member_is_told(run_hoedan: RunHoedan) -> None:
    run = run_hoedan(
        [
            ":als Anna",
            "/hoedan help",
            ":als Beheer",
            "/hoedan rol anna coordinator",
            ":als Anna",
            "/hoedan rol",
        ],
        env={"HOEDAN_ADMINS": "Beheer, iemand-anders"},
    )

    assert run.returncode == 0, run.stderr
    assert "Gedaan: Anna is nu coördinator." in run.stdout
    assert "Hoedan, privébericht aan anna" in run.stdout
    assert "Beheer heeft je de rol coördinator gegeven." in run.stdout
    assert "Je rol is coördinator." in _reply_after(run.stdout, "/hoedan rol")


def test_a_hashtag_message_becomes_a_question_answered_in_its_thread(
    run_hoedan: RunHoedan,
) -> None:
    run = run_hoedan(
        [":als Eva", "Weet iemand #hoedan we huisartsen aan tafel krijgen?", "/hoedan vragen"]
    )

    assert run.returncode == 0, run.stderr
    assert "Hoedan in het draadje in #algemeen" in run.stdout
    assert "bewaard als #1" in run.stdout
    assert "#1  Weet iemand we huisartsen aan tafel krijgen?  — Eva" in run.stdout


def test_buttons_and_forms_answer_by_number_and_by_line(run_hoedan: RunHoedan) -> None:
    run = run_hoedan(
        [
            ":als Anna",
            "/hoedan regio Zuid-Limburg",
            ":als Bram",
            "/hoedan regio Zuid Limburgg",
            ":kies 1",
            ":als Carla",
            "/hoedan regio",
            "1",
            "",
            ":kies 9",
        ]
    )

    assert run.returncode == 0, run.stderr
    assert "Ik ken Zuid Limburgg nog niet. Bedoel je een van deze?" in run.stdout
    assert "[1] Zuid-Limburg" in run.stdout
    assert "[2] Nieuw: Zuid Limburgg" in run.stdout
    assert "Genoteerd: je hoort bij regio Zuid-Limburg." in _reply_after(run.stdout, ":kies 1")
    assert "Jouw regio" in run.stdout
    assert run.stdout.count("Genoteerd: je hoort bij regio Zuid-Limburg.") == 3
    assert "Kies een nummer van 1 tot en met 2." in _reply_after(run.stdout, ":kies 9")


def test_user_text_is_shown_literally_never_as_markup(run_hoedan: RunHoedan) -> None:
    run = run_hoedan(
        ["/hoedan vraag Hoe [bold red]werkt[/] dit <!channel> *echt*?", "/hoedan vragen"]
    )

    assert run.returncode == 0, run.stderr
    assert "[bold red]werkt[/] dit <!channel> *echt*?" in run.stdout


def test_names_that_do_not_fit_are_refused_with_the_limit(run_hoedan: RunHoedan) -> None:
    run = run_hoedan([":als " + "A" * 100, ":in " + "b" * 100, "/hoedan vraag Hoe dan?"])

    assert run.returncode == 0, run.stderr
    assert run.stdout.count("houd een naam onder de 80 tekens") == 2
    assert "gast in #algemeen › /hoedan vraag Hoe dan?" in run.stdout
