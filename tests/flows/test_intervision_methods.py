"""The intervision method library: complete in both languages, framed by case and lessons,
realistic in length, findable by its Dutch names, composable by a coach, and strict about
mistakes in the TOML files."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.intervision_methods import (
    CUSTOM,
    MAX_MINUTES,
    Actor,
    CatalogueError,
    Collects,
    CompositionError,
    Localized,
    Method,
    Phase,
    all_methods,
    building_block,
    building_blocks,
    catalogue,
    compose,
    load_catalogue,
    method,
)

TOTAL_MINUTES = {
    "incident": (45, 60),
    "balint": (45, 60),
    "gossip": (30, 50),
    "quick": (5, 10),
    "socratic": (45, 75),
    "custom": (5, 15),
}
"""The ranges promised in methods.toml."""


def _method(name: str) -> Method:
    found = method(name)
    assert found is not None, name
    return found


def _block(block_id: str) -> Phase:
    found = building_block(block_id)
    assert found is not None, block_id
    return found


def _texts(phase: Phase) -> list[Localized]:
    return [phase.name, phase.purpose, phase.for_group, phase.for_case_owner]


# The catalogue as shipped ------------------------------------------------------------------------


def test_the_catalogue_offers_the_five_methods_and_a_custom_one_in_order() -> None:
    assert [m.id for m in all_methods()] == list(TOTAL_MINUTES)
    assert catalogue() is catalogue()


def test_every_method_and_phase_speaks_dutch_and_english() -> None:
    for m in all_methods():
        texts = [m.name, m.summary, m.when, *(t for p in m.phases for t in _texts(p))]
        for text in texts:
            assert text.nl.strip(), m.id
            assert text.en.strip(), m.id
    for block in building_blocks():
        assert all(text.nl and text.en for text in _texts(block)), block.id


@pytest.mark.parametrize("m", all_methods(), ids=lambda m: m.id)
def test_every_method_opens_with_the_case_owners_case_and_closes_with_lessons(m: Method) -> None:
    first, last = m.phases[0], m.phases[-1]
    assert (first.actor, first.collects) == (Actor.CASE_OWNER, Collects.CASE)
    assert (last.actor, last.collects) == (Actor.EVERYONE, Collects.LESSONS)
    assert first.opens
    assert last.closes


@pytest.mark.parametrize("m", all_methods(), ids=lambda m: m.id)
def test_every_method_takes_a_realistic_time(m: Method) -> None:
    low, high = TOTAL_MINUTES[m.id]
    assert low <= m.total_minutes <= high
    assert all(1 <= phase.minutes <= MAX_MINUTES for phase in m.phases)
    assert len({phase.id for phase in m.phases}) == len(m.phases)


def test_the_quick_method_has_phases_of_one_or_two_minutes() -> None:
    assert all(phase.minutes in (1, 2) for phase in _method("quick").phases)


def test_the_custom_method_has_only_the_frame_a_coach_builds_on() -> None:
    custom = _method(CUSTOM)
    assert custom.is_custom
    assert [phase.id for phase in custom.phases] == ["case", "lessons"]


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        ("incident", "incident"),
        ("Incidentmethode", "incident"),
        ("INCIDENT", "incident"),
        ("balint", "balint"),
        ("Balintmethode", "balint"),
        ("Balint method", "balint"),
        ("roddel", "gossip"),
        ("roddelmethode", "gossip"),
        ("Roddel-methode", "gossip"),
        ("vijfminuten", "quick"),
        ("5min", "quick"),
        ("5 min", "quick"),
        ("Vijfminutenintervisie", "quick"),
        ("socratisch", "socratic"),
        ("Socratisch gesprek", "socratic"),
        ("eigen", "custom"),
        ("Eigen opzet", "custom"),
        ("custom", "custom"),
    ],
)
def test_a_coach_finds_a_method_by_its_dutch_name_or_a_short_word(
    asked: str, expected: str
) -> None:
    assert _method(asked).id == expected


@pytest.mark.parametrize("asked", ["", "  ", "brainstorm", "incidentje"])
def test_an_unknown_method_name_finds_nothing(asked: str) -> None:
    assert method(asked) is None


def test_the_balint_question_round_asks_about_experience_not_facts() -> None:
    incident = _method("incident").phase("clarify")
    balint = _method("balint").phase("clarify")
    assert incident is not None
    assert balint is not None
    assert balint.for_group != incident.for_group
    assert balint.for_group != _block("clarify").for_group
    assert "Wat voelde je" in balint.for_group.nl
    assert (balint.actor, balint.collects) == (_block("clarify").actor, Collects.QUESTIONS)


def test_a_method_keeps_the_block_text_it_does_not_change() -> None:
    incident_case = _method("incident").phase("case")
    assert incident_case is not None
    assert incident_case.name.nl == "Het incident"
    assert incident_case.for_group == _block("case").for_group


def test_texts_are_read_per_language_with_dutch_as_the_fallback() -> None:
    name = _method("gossip").name
    assert name.get("nl") == "Roddelmethode"
    assert name.get("en") == "Gossip method"
    assert name.get("de") == "Roddelmethode"


# Composing a custom method -----------------------------------------------------------------------


def test_a_coach_composes_a_session_and_case_and_lessons_are_added() -> None:
    composed = compose(["clarify", "hypotheses", "advice"])

    assert composed.is_custom
    assert [phase.id for phase in composed.phases] == [
        "case",
        "clarify",
        "hypotheses",
        "advice",
        "lessons",
    ]
    assert composed.total_minutes == sum(
        _block(b).minutes for b in ("case", "clarify", "hypotheses", "advice", "lessons")
    )


def test_case_and_lessons_listed_anywhere_end_up_first_and_last() -> None:
    composed = compose(["lessons", "gossip", "case", "reaction"])
    assert [phase.id for phase in composed.phases] == ["case", "gossip", "reaction", "lessons"]


def test_a_composition_of_nothing_is_just_case_and_lessons() -> None:
    assert [phase.id for phase in compose([]).phases] == ["case", "lessons"]


def test_a_coach_sets_minutes_while_composing() -> None:
    composed = compose(["tips"], {"tips": 4, "case": 2})
    assert [(p.id, p.minutes) for p in composed.phases] == [
        ("case", 2),
        ("tips", 4),
        ("lessons", _block("lessons").minutes),
    ]


def test_an_unknown_building_block_is_refused_by_name() -> None:
    with pytest.raises(CompositionError, match="unknown building block 'brainstorm'"):
        compose(["clarify", "brainstorm"])


def test_a_block_listed_twice_is_refused() -> None:
    with pytest.raises(CompositionError, match="'advice' is listed more than once"):
        compose(["advice", "tips", "advice"])


def test_minutes_for_a_block_not_in_the_composition_are_refused() -> None:
    with pytest.raises(CompositionError, match="no phase 'advice'"):
        compose(["tips"], {"advice": 10})


def test_one_string_instead_of_a_list_is_refused() -> None:
    with pytest.raises(CompositionError, match="list of block ids"):
        compose("advice")


# Changing minutes --------------------------------------------------------------------------------


def test_with_minutes_returns_a_changed_copy() -> None:
    incident = _method("incident")
    longer = incident.with_minutes({"advice": 20, "lessons": 10})

    assert longer.phase("advice") == _replace_minutes(incident, "advice", 20)
    assert longer.total_minutes == incident.total_minutes + 5 + 5
    assert _method("incident") == incident


def _replace_minutes(m: Method, phase_id: str, minutes: int) -> Phase:
    phase = m.phase(phase_id)
    assert phase is not None
    return Phase(**{**phase.__dict__, "minutes": minutes})


@pytest.mark.parametrize("minutes", [0, -5, MAX_MINUTES + 1, True, 2.5, "10"])
def test_with_minutes_refuses_minutes_out_of_range(minutes: object) -> None:
    with pytest.raises(CompositionError, match="whole number from 1 to 120"):
        _method("incident").with_minutes({"advice": minutes})  # type: ignore[dict-item]


def test_with_minutes_accepts_the_limits() -> None:
    m = _method("quick").with_minutes({"case": 1, "tips": MAX_MINUTES})
    assert m.total_minutes == _method("quick").total_minutes - 2 + MAX_MINUTES


def test_with_minutes_refuses_a_phase_the_method_does_not_have() -> None:
    with pytest.raises(CompositionError, match="method 'balint' has no phase 'advice'"):
        _method("balint").with_minutes({"advice": 10})


# Mistakes in the TOML files ----------------------------------------------------------------------

PHASES = """
[[phase]]
id = "case"
name.nl = "Inbreng"
name.en = "The case"
purpose.nl = "Doel"
purpose.en = "Purpose"
for_group.nl = "Luister."
for_group.en = "Listen."
for_case_owner.nl = "Vertel."
for_case_owner.en = "Tell."
minutes = 5
actor = "case_owner"
collects = "case"

[[phase]]
id = "advice"
name.nl = "Advies"
name.en = "Advice"
purpose.nl = "Doel"
purpose.en = "Purpose"
for_group.nl = "Geef advies."
for_group.en = "Give advice."
for_case_owner.nl = "Lees."
for_case_owner.en = "Read."
minutes = 10
actor = "in_turn"
collects = "advice"

[[phase]]
id = "lessons"
name.nl = "Leeropbrengst"
name.en = "Lessons"
purpose.nl = "Doel"
purpose.en = "Purpose"
for_group.nl = "Wat neem je mee?"
for_group.en = "What do you take away?"
for_case_owner.nl = "En jij?"
for_case_owner.en = "And you?"
minutes = 5
actor = "everyone"
collects = "lessons"
"""

METHODS = """
[[method]]
id = "demo"
name.nl = "Demomethode"
name.en = "Demo method"
summary.nl = "Kort."
summary.en = "Short."
when.nl = "Altijd."
when.en = "Always."
aliases = ["demo"]

[[method.phase]]
block = "case"

[[method.phase]]
block = "advice"
minutes = 15

[[method.phase]]
block = "lessons"

[[method]]
id = "custom"
name.nl = "Eigen opzet"
name.en = "Custom"
summary.nl = "Zelf."
summary.en = "Yourself."
when.nl = "Soms."
when.en = "Sometimes."

[[method.phase]]
block = "case"

[[method.phase]]
block = "lessons"
"""


def _edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def _write(folder: Path, phases: str = PHASES, methods: str = METHODS) -> tuple[Path, Path]:
    phases_file, methods_file = folder / "phases.toml", folder / "methods.toml"
    phases_file.write_text(phases, encoding="utf-8")
    methods_file.write_text(methods, encoding="utf-8")
    return phases_file, methods_file


def test_a_small_valid_pair_of_files_loads(tmp_path: Path) -> None:
    loaded = load_catalogue(*_write(tmp_path))

    assert [b.id for b in loaded.blocks] == ["case", "advice", "lessons"]
    demo = loaded.method("Demomethode")
    assert demo is not None
    assert demo.total_minutes == 25
    assert [p.id for p in loaded.compose(["advice"]).phases] == ["case", "advice", "lessons"]


PHASE_MISTAKES = [
    pytest.param(
        'name.en = "Advice"\n', "", "phase 'advice': name.en is missing", id="missing-language"
    ),
    pytest.param(
        'actor = "in_turn"',
        'actor = "all"',
        "actor must be one of everyone, case_owner, in_turn",
        id="bad-actor",
    ),
    pytest.param(
        'collects = "advice"',
        'collects = "tips"',
        "collects must be one of nothing, case",
        id="bad-kind",
    ),
    pytest.param("minutes = 10", "minutes = 0", "phase 'advice': minutes must be", id="zero"),
    pytest.param("minutes = 10", "minutes = 121", "not 121", id="too-long"),
    pytest.param("minutes = 10", 'minutes = "10"', "not '10'", id="minutes-as-text"),
    pytest.param("minutes = 10", "minuten = 10", "unknown key 'minuten'", id="typo"),
    pytest.param('id = "advice"', 'id = "Advies!"', "id must be lower case", id="bad-id"),
    pytest.param('id = "advice"', 'id = "case"', "the id 'case' is used twice", id="same-id"),
    pytest.param(
        'actor = "case_owner"',
        'actor = "everyone"',
        "phase 'case': the first phase must",
        id="case-block-not-by-case-owner",
    ),
    pytest.param('name.nl = "Advies"', 'name.nl = "Advies', "not valid TOML", id="syntax"),
]


@pytest.mark.parametrize(("old", "new", "message"), PHASE_MISTAKES)
def test_a_mistake_in_the_phases_file_is_reported_precisely(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    phases_file, methods_file = _write(tmp_path, phases=_edit(PHASES, old, new))

    with pytest.raises(CatalogueError) as error:
        load_catalogue(phases_file, methods_file)
    assert str(phases_file) in str(error.value)
    assert message in str(error.value)


METHOD_MISTAKES = [
    pytest.param(
        'block = "advice"',
        'block = "advise"',
        "method 'demo', phase 2: unknown building block 'advise'",
        id="unknown-block",
    ),
    pytest.param(
        "minutes = 15",
        "minutes = 0",
        "method 'demo', phase 2 ('advice'): minutes must be a whole number from 1 to 120",
        id="minutes-out-of-range",
    ),
    pytest.param(
        "minutes = 15",
        'for_group.nl = "Alleen Nederlands"',
        "method 'demo', phase 2 ('advice'): for_group.en is missing",
        id="override-in-one-language",
    ),
    pytest.param(
        'summary.en = "Short."\n', "", "method 'demo': summary.en is missing", id="no-english"
    ),
    pytest.param(
        '[[method.phase]]\nblock = "case"\n\n[[method.phase]]\nblock = "advice"',
        '[[method.phase]]\nblock = "advice"',
        "method 'demo', phase 1 ('advice'): the first phase must have actor = 'case_owner'",
        id="no-case-first",
    ),
    pytest.param(
        'minutes = 15\n\n[[method.phase]]\nblock = "lessons"\n',
        "minutes = 15\n",
        "method 'demo', phase 2 ('advice'): the last phase must have actor = 'everyone'",
        id="no-lessons-last",
    ),
    pytest.param(
        'block = "advice"',
        'block = "case"',
        "method 'demo', phase 2 ('case'): the block 'case' is used twice",
        id="block-twice",
    ),
    pytest.param(
        'aliases = ["demo"]',
        'aliases = ["eigen opzet"]',
        "method 'custom': the name or alias 'Eigen opzet' also finds method 'demo'",
        id="alias-taken",
    ),
    pytest.param('aliases = ["demo"]', 'aliases = "demo"', "aliases must be a list", id="alias"),
    pytest.param(
        'when.en = "Always."', 'when.en = "Always."\nsteps = 3', "unknown key 'steps'", id="typo"
    ),
    pytest.param('id = "custom"', 'id = "own"', "the method 'custom' is missing", id="no-custom"),
    pytest.param(
        'when.en = "Sometimes."\n\n[[method.phase]]\nblock = "case"\n',
        'when.en = "Sometimes."\n\n[[method.phase]]\nblock = "case"\n\n'
        '[[method.phase]]\nblock = "advice"\n',
        "method 'custom': a custom method has no fixed phases",
        id="custom-with-phases",
    ),
]


@pytest.mark.parametrize(("old", "new", "message"), METHOD_MISTAKES)
def test_a_mistake_in_the_methods_file_is_reported_precisely(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    phases_file, methods_file = _write(tmp_path, methods=_edit(METHODS, old, new))

    with pytest.raises(CatalogueError) as error:
        load_catalogue(phases_file, methods_file)
    assert str(methods_file) in str(error.value)
    assert message in str(error.value)


def test_a_missing_file_is_reported_by_name(tmp_path: Path) -> None:
    phases_file, _ = _write(tmp_path)

    with pytest.raises(CatalogueError) as error:
        load_catalogue(phases_file, tmp_path / "nowhere.toml")
    assert f"{tmp_path / 'nowhere.toml'}: cannot be read" in str(error.value)
