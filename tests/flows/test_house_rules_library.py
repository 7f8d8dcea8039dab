"""The house-rule starter sets: a handful of concrete sets in both languages that a coalition
finds by its own words, numbered as a first proposal, and a loader that names every mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.house_rules_library import (
    MAX_RULES,
    MIN_RULES,
    HouseRulesLibraryError,
    StarterSet,
    library,
    load_starter_sets,
    starter_set,
    starter_sets,
)


def _set(name: str) -> StarterSet:
    found = starter_set(name)
    assert found is not None, name
    return found


def _all_rules(language: str) -> str:
    return "\n".join(rule.get(language) for s in starter_sets() for rule in s.rules).lower()


# The sets as shipped -----------------------------------------------------------------------------


def test_there_are_starter_sets_for_any_coalition_a_board_residents_and_a_working_group() -> None:
    ids = [s.id for s in starter_sets()]

    assert len(ids) >= 4
    assert ids[0] == "basis"
    assert {"basis", "bestuurlijk_overleg", "inwoners_aan_tafel", "werkgroep"} <= set(ids)
    assert library() is library()


@pytest.mark.parametrize("s", starter_sets(), ids=lambda s: s.id)
def test_every_set_has_five_to_nine_rules_and_speaks_both_languages(s: StarterSet) -> None:
    assert MIN_RULES <= len(s.rules) <= MAX_RULES
    for text in (s.name, s.description, *s.rules):
        assert text.nl.strip()
        assert text.en.strip()
        assert text.nl != text.en
    assert "\n" not in s.description.nl + s.description.en
    for rule in s.rules:
        assert len(rule.nl) <= 220, rule.nl
        assert len(rule.en) <= 220, rule.en


@pytest.mark.parametrize(
    ("dutch", "english"),
    [
        pytest.param("consent", "consent", id="deciding"),
        pytest.param("stukken", "papers", id="preparing"),
        pytest.param("vertrouwelijk", "confidential", id="confidentiality"),
        pytest.param("inwoner", "resident", id="residents-voices"),
        pytest.param("spreken we", "we raise it", id="addressing-each-other"),
        pytest.param("wie doet het", "who does it", id="following-up"),
    ],
)
def test_the_sets_say_how_we_decide_prepare_keep_confidences_include_residents_and_follow_up(
    dutch: str, english: str
) -> None:
    assert dutch in _all_rules("nl")
    assert english in _all_rules("en")


def test_the_basic_set_decides_by_consent_and_follows_up_on_agreements() -> None:
    basics = _set("basis")

    assert "consent" in basics.rules[0].nl
    assert any("wie doet het" in rule.nl for rule in basics.rules)


def test_residents_at_the_table_take_part_in_decisions() -> None:
    residents = _set("inwoners_aan_tafel")

    assert any("beslissen mee" in rule.nl for rule in residents.rules)
    assert any("gewone taal" in rule.nl for rule in residents.rules)


def test_a_set_reads_as_numbered_rules_in_either_language() -> None:
    board = _set("bestuurlijk_overleg")

    dutch = board.numbered("nl")
    english = board.text("en").splitlines()

    assert [line.split(".", 1)[0] for line in dutch] == [
        str(n) for n in range(1, len(board.rules) + 1)
    ]
    assert dutch[0] == f"1. {board.rules[0].nl}"
    assert english[-1] == f"{len(board.rules)}. {board.rules[-1].en}"
    assert board.text("fr") == board.text("nl")


# Lookups -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        ("basis", "basis"),
        ("Basics", "basis"),
        ("Bestuurlijk overleg", "bestuurlijk_overleg"),
        ("BESTUURLIJK-OVERLEG", "bestuurlijk_overleg"),
        ("steering group", "bestuurlijk_overleg"),
        ("stuurgroep", "bestuurlijk_overleg"),
        ("Inwoners aan tafel", "inwoners_aan_tafel"),
        ("ínwoners", "inwoners_aan_tafel"),
        ("Residents at the table", "inwoners_aan_tafel"),
        ("werkgroep", "werkgroep"),
        ("Working group", "werkgroep"),
        ("Lerend netwerk", "lerend_netwerk"),
    ],
)
def test_a_set_is_found_by_id_name_or_alias_whatever_the_case_or_accents(
    asked: str, expected: str
) -> None:
    assert _set(asked).id == expected


@pytest.mark.parametrize("asked", ["", "  ", "-", "gemeenteraad", "basis2"])
def test_an_unknown_name_finds_no_set(asked: str) -> None:
    assert starter_set(asked) is None


# Loading and checking ----------------------------------------------------------------------------


def _rules(count: int, word: str) -> str:
    return "".join(
        f'\n[[starter_set.rule]]\nnl = "{word} regel {n}."\nen = "{word} rule {n}."\n'
        for n in range(1, count + 1)
    )


SMALL = (
    """
[[starter_set]]
id = "basis"
name.nl = "Basis"
name.en = "Basics"
description.nl = "Voor iedereen."
description.en = "For everyone."
aliases = ["standaard"]
"""
    + _rules(5, "Basis")
    + """
[[starter_set]]
id = "raad"
name.nl = "Raad"
name.en = "Council"
description.nl = "Voor een raad."
description.en = "For a council."
"""
    + _rules(6, "Raad")
)


def _load(folder: Path, text: str) -> list[StarterSet]:
    path = folder / "house_rules.toml"
    path.write_text(text, encoding="utf-8")
    return list(load_starter_sets(path).sets)


def _edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def test_a_small_valid_file_loads(tmp_path: Path) -> None:
    basics, council = _load(tmp_path, SMALL)

    assert (basics.id, len(basics.rules), basics.aliases) == ("basis", 5, ("standaard",))
    assert (council.id, len(council.rules), council.aliases) == ("raad", 6, ())
    assert council.numbered("en")[0] == "1. Raad rule 1."


MISTAKES = [
    pytest.param(
        '[[starter_set.rule]]\nnl = "Basis regel 5."\nen = "Basis rule 5."\n',
        "",
        "starter set 'basis': a starter set has 5 to 9 rules, not 4",
        id="too-few-rules",
    ),
    pytest.param(
        'en = "Raad rule 6."\n',
        'en = "Raad rule 6."\n' + _rules(4, "Extra"),
        "starter set 'raad': a starter set has 5 to 9 rules, not 10",
        id="too-many-rules",
    ),
    pytest.param(
        'en = "Raad rule 2."\n',
        "",
        "starter set 'raad', rule 2: en is missing",
        id="rule-without-english",
    ),
    pytest.param(
        'nl = "Basis regel 3."',
        'nl = " "',
        "starter set 'basis', rule 3: nl must be a text that is not empty",
        id="empty-rule",
    ),
    pytest.param(
        'nl = "Basis regel 3."',
        'nl = "Basis regel 3."\nde = "Regel 3."',
        "starter set 'basis', rule 3: unknown key 'de'",
        id="third-language",
    ),
    pytest.param(
        'name.en = "Council"\n',
        "",
        "starter set 'raad': name.en is missing",
        id="name-without-english",
    ),
    pytest.param(
        'description.nl = "Voor een raad."\ndescription.en = "For a council."',
        'description = "Voor een raad."',
        "starter set 'raad': description needs a Dutch and an English text",
        id="description-not-localized",
    ),
    pytest.param('id = "raad"', 'id = "basis"', "the id 'basis' is used twice", id="same-id"),
    pytest.param('id = "raad"', 'id = "Raad!"', "starter set 2: id must be lower", id="bad-id"),
    pytest.param(
        'name.en = "Council"',
        'name.en = "Standaard"',
        "starter set 'raad': the name or alias 'Standaard' also finds starter set 'basis'",
        id="name-taken",
    ),
    pytest.param(
        'aliases = ["standaard"]',
        'aliases = "standaard"',
        "starter set 'basis': aliases must be a list of words",
        id="aliases-text",
    ),
    pytest.param(
        'id = "raad"', 'id = "raad"\nregels = 6', "unknown key 'regels'", id="unknown-key"
    ),
    pytest.param('name.nl = "Raad"', 'name.nl = "Raad', "not valid TOML", id="toml"),
]


@pytest.mark.parametrize(("old", "new", "message"), MISTAKES)
def test_a_mistake_in_the_file_is_reported_with_file_set_and_rule(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    with pytest.raises(HouseRulesLibraryError) as error:
        _load(tmp_path, _edit(SMALL, old, new))

    assert str(tmp_path / "house_rules.toml") in str(error.value)
    assert message in str(error.value)


def test_a_set_without_rules_is_refused(tmp_path: Path) -> None:
    without_rules = SMALL[: SMALL.index("[[starter_set.rule]]")]

    with pytest.raises(HouseRulesLibraryError, match=r"needs one or more \[\[starter_set.rule\]\]"):
        _load(tmp_path, without_rules)


def test_a_missing_file_is_reported_by_name(tmp_path: Path) -> None:
    with pytest.raises(HouseRulesLibraryError) as error:
        load_starter_sets(tmp_path / "nowhere.toml")

    assert f"{tmp_path / 'nowhere.toml'}: cannot be read" in str(error.value)
