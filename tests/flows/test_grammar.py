"""The command grammar: what people type after ``/hoedan`` and what Hoedan makes of it."""

from __future__ import annotations

import pytest

from flows.grammar import (
    ALIASES,
    AskedQuestion,
    CommandName,
    Empty,
    Known,
    Parsed,
    Unknown,
    parse,
)


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_nothing_after_the_command_prefix_is_empty(text: str) -> None:
    assert parse(text) == Empty()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("vraag Hoe betrekken we inwoners?", Known(CommandName.ASK, "Hoe betrekken we inwoners?")),
        ("zoek subsidie", Known(CommandName.SEARCH, "subsidie")),
        ("vragen", Known(CommandName.LIST, "")),
        ("regio Zuid-Limburg", Known(CommandName.REGION, "Zuid-Limburg")),
        ("rol Anna coach", Known(CommandName.ROLE, "Anna coach")),
        ("help", Known(CommandName.HELP, "")),
        ("intervisie", Known(CommandName.INTERVISION, "")),
        ("vergeet-mij", Known(CommandName.FORGET_ME, "")),
    ],
)
def test_dutch_commands_are_recognised_with_their_arguments(text: str, expected: Known) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ask How do you involve residents?", CommandName.ASK),
        ("search subsidy", CommandName.SEARCH),
        ("find subsidy", CommandName.SEARCH),
        ("questions", CommandName.LIST),
        ("region Twente", CommandName.REGION),
        ("role Anna coach", CommandName.ROLE),
        ("hulp", CommandName.HELP),
        ("?", CommandName.HELP),
        ("forget-me", CommandName.FORGET_ME),
    ],
)
def test_english_and_other_aliases_lead_to_the_same_command(
    text: str, expected: CommandName
) -> None:
    parsed = parse(text)
    assert isinstance(parsed, Known)
    assert parsed.name is expected


def test_every_alias_names_a_command() -> None:
    for alias, name in ALIASES.items():
        assert parse(alias) == Known(name, ""), alias


def test_command_words_ignore_case_a_leading_slash_and_extra_spaces() -> None:
    assert parse("  ZOEK   subsidie   wijkteam  ") == Known(
        CommandName.SEARCH, "subsidie   wijkteam"
    )
    assert parse("/vragen") == Known(CommandName.LIST, "")
    assert parse("Regio Twente") == Known(CommandName.REGION, "Twente")


def test_a_command_keeps_its_arguments_even_when_they_contain_a_question_mark() -> None:
    assert parse("zoek wie doet mee?") == Known(CommandName.SEARCH, "wie doet mee?")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "vraag\nHoe plannen jullie de zomer?",
            Known(CommandName.ASK, "Hoe plannen jullie de zomer?"),
        ),
        ("zoek\tsubsidie", Known(CommandName.SEARCH, "subsidie")),
    ],
)
def test_a_command_followed_by_a_new_line_or_tab_is_still_that_command(
    text: str, expected: Known
) -> None:
    assert parse(text) == expected


def test_a_lone_unknown_word_is_not_a_question() -> None:
    assert parse("frobnicate") == Unknown("frobnicate", None)


@pytest.mark.parametrize(
    ("text", "word", "suggestion"),
    [
        ("zoekk", "zoekk", CommandName.SEARCH),
        ("Vragn", "Vragn", CommandName.LIST),
        ("regoi", "regoi", CommandName.REGION),
        ("zoekk subsidie", "zoekk", CommandName.SEARCH),
        ("vraaag Hoe doen jullie dat", "vraaag", CommandName.ASK),
    ],
)
def test_a_near_miss_of_a_command_suggests_the_command(
    text: str, word: str, suggestion: CommandName
) -> None:
    assert parse(text) == Unknown(word, suggestion)


@pytest.mark.parametrize(
    "text",
    [
        "Hoe betrekken jullie inwoners bij het regioplan",
        "Wie heeft ervaring met een wijkteam?",
        "subsidie?",
        "zoekk jij ook naar subsidie?",
    ],
)
def test_other_text_is_a_question(text: str) -> None:
    assert parse(text) == AskedQuestion(text)


def test_a_question_is_stripped_but_otherwise_kept_as_typed() -> None:
    parsed: Parsed = parse("   Hoe  regelen   jullie vervoer?  ")
    assert parsed == AskedQuestion("Hoe  regelen   jullie vervoer?")
