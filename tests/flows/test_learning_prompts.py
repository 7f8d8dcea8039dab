"""The learning-prompt library: enough short, warm questions in both languages for every theme
and source, the coalition's name filled in and kept literal, a rotation that never repeats a
prompt before the channel has had them all, and a loader that names every mistake precisely."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from flows.learning_prompts import (
    MAX_THEMES,
    Prompt,
    PromptLibrary,
    PromptLibraryError,
    all_prompts,
    for_themes,
    library,
    load_library,
    next_prompt,
    prompt,
    render,
    render_follow_up,
    render_follow_up_rich,
    render_rich,
    sources,
)
from flows.text import Span
from flows.themes import all_themes

COALITION = "Gezond Zuid-Limburg"
SENTENCE_END = re.compile(r"[.?!](\s|$)")
ADDRESSED_NL = re.compile(r"\b(jullie|je|jij|jou|jouw)\b", re.IGNORECASE)
ADDRESSED_EN = re.compile(r"\b(you|your|yourself|yourselves)\b", re.IGNORECASE)


def _prompt(prompt_id: str) -> Prompt:
    found = prompt(prompt_id)
    assert found is not None, prompt_id
    return found


def _with_coalition() -> list[Prompt]:
    return [p for p in all_prompts() if "coalitie" in p.text.nl]


def _cycle(themes: list[str], weeks: int, history: list[str] | None = None) -> list[str]:
    """The ids a channel with these themes gets over ``weeks`` weekly posts."""
    posted = list(history or [])
    for _ in range(weeks):
        posted.append(next_prompt(themes, posted).id)
    return posted[len(history or []) :]


# The library as shipped --------------------------------------------------------------------------


def test_the_library_holds_at_least_44_prompts_with_unique_ids() -> None:
    ids = [p.id for p in all_prompts()]

    assert len(ids) >= 44
    assert len(set(ids)) == len(ids)
    assert library() is library()


def test_every_source_grounds_at_least_five_prompts() -> None:
    per_source = Counter(p.source for p in all_prompts())

    assert {s.id for s in sources()} >= {
        "reis",
        "transitie",
        "bouwstenen",
        "voorwaarden",
        "valkuilen",
        "positieve_gezondheid",
        "hoedan",
    }
    for source in sources():
        assert per_source[source.id] >= 5, source.id
        assert source.label.nl
        assert source.label.en


def test_every_theme_of_the_catalogue_has_at_least_two_prompts() -> None:
    per_theme = Counter(theme for p in all_prompts() for theme in p.themes)

    for theme in all_themes():
        assert per_theme[theme.id] >= 2, theme.id


def test_every_prompt_has_one_to_three_themes_in_catalogue_order() -> None:
    order = [theme.id for theme in all_themes()]
    for p in all_prompts():
        assert 1 <= len(p.themes) <= MAX_THEMES, p.id
        assert list(p.themes) == sorted(p.themes, key=order.index), p.id


@pytest.mark.parametrize("p", all_prompts(), ids=lambda p: p.id)
def test_a_prompt_is_a_short_question_to_the_coalition_in_both_languages(p: Prompt) -> None:
    for text in (p.text.nl, p.text.en):
        assert "?" in text
        assert 1 <= len(SENTENCE_END.findall(text)) <= 2, text
        assert len(text) <= 280, text
    assert ADDRESSED_NL.search(p.text.nl), p.text.nl
    assert ADDRESSED_EN.search(p.text.en), p.text.en
    assert p.text.nl != p.text.en


def test_follow_ups_are_single_questions_in_both_languages() -> None:
    with_follow_up = [p for p in all_prompts() if p.follow_up is not None]

    assert len(with_follow_up) >= 10
    for p in with_follow_up:
        assert p.follow_up is not None
        for text in (p.follow_up.nl, p.follow_up.en):
            assert text.endswith(("?", ".")), p.id
            assert len(SENTENCE_END.findall(text)) == 1, text


def test_some_prompts_name_the_coalition_and_always_in_both_languages() -> None:
    assert len(_with_coalition()) >= 5
    for p in all_prompts():
        assert ("coalitie" in p.text.nl) == ("coalitie" in p.text.en), p.id


# Rendering ---------------------------------------------------------------------------------------


def test_a_prompt_is_rendered_with_the_coalitions_name() -> None:
    relation = _prompt("voorwaarde_relatie")

    dutch = render(relation, "nl", COALITION)
    english = render(relation, "en", COALITION)

    assert dutch.startswith(f"Met wie in {COALITION} heb je")
    assert english.startswith(f"Who in {COALITION} have you")
    assert "{{" not in dutch + english


@pytest.mark.parametrize("p", all_prompts(), ids=lambda p: p.id)
def test_every_prompt_and_follow_up_renders_in_both_languages(p: Prompt) -> None:
    for language in ("nl", "en"):
        text = render(p, language, COALITION)
        assert text
        assert "{" not in text
        assert (COALITION in text) == (p in _with_coalition())
        follow_up = render_follow_up(p, language, COALITION)
        assert (follow_up is None) == (p.follow_up is None)


def test_another_language_falls_back_to_dutch() -> None:
    roots = _prompt("reis_roep")

    assert render(roots, "de", COALITION) == render(roots, "nl", COALITION)
    assert render(roots, "en", COALITION) != render(roots, "nl", COALITION)


def test_the_coalitions_name_is_marked_as_a_users_text() -> None:
    name = "{{ regio }} *Zuid* <!channel>"
    relation = _prompt("voorwaarde_relatie")

    rich = render_rich(relation, "nl", name)

    assert rich.plain == render(relation, "nl", name)
    assert Span(text=name, user=True) in rich.spans
    assert [span.user for span in rich.spans] == [False, True, False]


def test_a_prompt_without_the_name_is_one_span_of_our_own() -> None:
    rich = render_rich(_prompt("reis_roep"), "en", COALITION)

    assert len(rich.spans) == 1
    assert not rich.spans[0].user
    assert COALITION not in rich.plain


def test_a_follow_up_is_rendered_and_marked_like_the_prompt() -> None:
    first_result = _prompt("reis_eerste_resultaat")

    text = render_follow_up(first_result, "nl", COALITION)
    rich = render_follow_up_rich(first_result, "nl", COALITION)

    assert text is not None
    assert COALITION in text
    assert rich is not None
    assert rich.plain == text
    assert Span(text=COALITION, user=True) in rich.spans


def test_a_prompt_without_follow_up_renders_none() -> None:
    pause = _prompt("transitie_schuilplek")

    assert pause.follow_up is None
    assert render_follow_up(pause, "nl", COALITION) is None
    assert render_follow_up_rich(pause, "en", COALITION) is None


# Lookups -----------------------------------------------------------------------------------------


def test_a_prompt_is_found_by_id_and_an_unknown_id_finds_nothing() -> None:
    assert _prompt("hoedan_governance").source == "hoedan"
    assert prompt("bestaat_niet") is None
    assert prompt("") is None


def test_prompts_for_themes_come_in_catalogue_order() -> None:
    catalogue = list(all_prompts())

    youth = for_themes(["jeugd"])
    youth_or_older = for_themes(["ouderen", "jeugd"])

    assert youth == tuple(p for p in catalogue if "jeugd" in p.themes)
    assert youth_or_older == tuple(
        p for p in catalogue if {"jeugd", "ouderen"}.intersection(p.themes)
    )
    positions = [catalogue.index(p) for p in youth_or_older]
    assert positions == sorted(positions)


def test_unknown_or_no_themes_find_no_prompts() -> None:
    assert for_themes(["jongeren"]) == ()
    assert for_themes([]) == ()


def test_one_string_instead_of_a_list_of_themes_is_refused() -> None:
    with pytest.raises(TypeError, match="not one string"):
        for_themes("jeugd")
    with pytest.raises(TypeError, match="not one string"):
        next_prompt("jeugd", [])
    with pytest.raises(TypeError, match="not one string"):
        next_prompt(["jeugd"], "pg_jongeren")


# Rotation ----------------------------------------------------------------------------------------


def test_a_channel_gets_every_prompt_of_its_themes_before_any_repeats() -> None:
    themes = ["samenwerking", "inwoners"]
    pool = [p.id for p in for_themes(themes)]

    posted = _cycle(themes, len(pool))

    assert posted == pool
    assert len(set(posted)) == len(posted)


def test_after_a_full_cycle_the_channel_starts_again_in_the_same_order() -> None:
    themes = ["preventie"]
    pool = [p.id for p in for_themes(themes)]

    posted = _cycle(themes, 3 * len(pool))

    assert posted == pool * 3


def test_a_theme_with_few_prompts_cycles_through_just_those() -> None:
    pool = [p.id for p in for_themes(["digitalisering"])]
    assert 2 <= len(pool) <= 4

    posted = _cycle(["digitalisering"], 2 * len(pool) + 1)

    assert posted == [*pool, *pool, pool[0]]


def test_without_themes_a_channel_goes_through_the_whole_library() -> None:
    everything = [p.id for p in all_prompts()]

    assert _cycle([], len(everything)) == everything
    assert next_prompt(["bestaat_niet"], []).id == everything[0]


def test_the_order_of_the_history_does_not_matter() -> None:
    themes = ["ouderen"]
    pool = [p.id for p in for_themes(themes)]
    history = [pool[2], pool[0]]

    assert next_prompt(themes, history).id == pool[1]
    assert next_prompt(themes, list(reversed(history))).id == pool[1]
    assert next_prompt(themes, set(history)).id == pool[1]


def test_prompts_posted_for_other_themes_do_not_count_for_this_cycle() -> None:
    youth = [p.id for p in for_themes(["jeugd"])]
    older = [p.id for p in for_themes(["ouderen"])]
    history = [p for p in older if p not in youth] * 3

    assert _cycle(["jeugd"], len(youth), history) == youth


def test_a_channel_that_adds_a_theme_first_gets_the_prompts_it_has_not_had() -> None:
    before = _cycle(["digitalisering"], 3)
    pool = [p.id for p in for_themes(["digitalisering", "jeugd"])]

    fresh = [p for p in pool if p not in before]
    assert fresh

    after = _cycle(["digitalisering", "jeugd"], len(fresh) + 1, before)

    assert after == [*fresh, pool[0]]


def test_a_cycle_passed_as_a_set_starts_over_at_the_top_when_complete() -> None:
    pool = [p.id for p in for_themes(["mentale_gezondheid"])]

    assert next_prompt(["mentale_gezondheid"], set(pool)).id == pool[0]


def test_a_prompt_added_to_the_library_later_comes_next(tmp_path: Path) -> None:
    old = _load(tmp_path, SMALL)
    history = [old.next_prompt(["jeugd"], [])]
    history.append(old.next_prompt(["jeugd"], [p.id for p in history]))
    posted = [p.id for p in history]
    assert posted == ["a", "c"]

    grown = _load(tmp_path, SMALL + NEW_PROMPT)

    assert grown.next_prompt(["jeugd"], posted).id == "d"
    assert grown.next_prompt(["jeugd"], [*posted, "d"]).id == "a"


# Loading and checking ----------------------------------------------------------------------------

SMALL = """
[[source]]
id = "reis"
nl = "De reis"
en = "The journey"

[[source]]
id = "hoedan"
nl = "Vragen van regio's"
en = "The regions' questions"

[[prompt]]
id = "a"
themes = ["jeugd", "inwoners"]
source = "reis"
nl = "Wat leerde {{ coalitie }} deze week?"
en = "What did {{ coalitie }} learn this week?"
follow_up_nl = "En wat doen jullie ermee?"
follow_up_en = "And what will you do with it?"

[[prompt]]
id = "b"
themes = ["ouderen"]
source = "hoedan"
nl = "Wie hielp jullie verder?"
en = "Who helped you along?"

[[prompt]]
id = "c"
themes = ["jeugd"]
source = "reis"
nl = "Wat verraste je?"
en = "What surprised you?"
"""

NEW_PROMPT = """
[[prompt]]
id = "d"
themes = ["jeugd"]
source = "hoedan"
nl = "Wat vroegen de jongeren zelf?"
en = "What did the young people ask themselves?"
"""


def _load(folder: Path, text: str) -> PromptLibrary:
    path = folder / "learning_prompts.toml"
    path.write_text(text, encoding="utf-8")
    return load_library(path)


def _edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def test_a_small_valid_file_loads(tmp_path: Path) -> None:
    loaded = _load(tmp_path, SMALL)

    assert [p.id for p in loaded.prompts] == ["a", "b", "c"]
    assert [s.id for s in loaded.sources] == ["reis", "hoedan"]
    first = loaded.prompt("a")
    assert first is not None
    assert first.themes == ("inwoners", "jeugd")
    assert render(first, "en", "Twente") == "What did Twente learn this week?"
    assert render_follow_up(first, "nl", "Twente") == "En wat doen jullie ermee?"
    assert [p.id for p in loaded.for_themes(["jeugd"])] == ["a", "c"]


MISTAKES = [
    pytest.param(
        'themes = ["ouderen"]',
        'themes = ["ouderenzorg"]',
        "prompt 'b': unknown theme 'ouderenzorg'",
        id="unknown-theme",
    ),
    pytest.param('id = "b"', 'id = "a"', "prompt 'a': the id 'a' is used twice", id="same-id"),
    pytest.param(
        'en = "Who helped you along?"\n', "", "prompt 'b': en is missing", id="missing-language"
    ),
    pytest.param(
        'nl = "Wie hielp jullie verder?"',
        'nl = "   "',
        "prompt 'b': nl must be a text that is not empty",
        id="empty-text",
    ),
    pytest.param(
        'nl = "Wat verraste je?"',
        'nl = "Wat verraste {{ coalitie ?"',
        "prompt 'c': nl is not a valid template",
        id="does-not-compile",
    ),
    pytest.param(
        'nl = "Wat verraste je?"',
        'nl = "Wat verraste {{ coalitie | schreeuw }}?"',
        "prompt 'c': nl is not a valid template: No filter named 'schreeuw'",
        id="unknown-filter",
    ),
    pytest.param(
        'en = "What surprised you?"',
        'en = "What surprised {{ regio }} and {{ coalitie }}?"',
        "prompt 'c': en uses {{ regio }}; the only value a prompt can use is {{ coalitie }}",
        id="other-variable",
    ),
    pytest.param(
        'en = "What surprised you?"',
        'en = "What surprised {{ coalitie | upper }}?"',
        "prompt 'c': en must show the name as it is",
        id="name-changed-by-a-filter",
    ),
    pytest.param(
        'en = "What surprised you?"',
        'en = "What surprised {{ coalitie + 1 }}?"',
        "prompt 'c': en cannot be rendered",
        id="fails-when-rendered",
    ),
    pytest.param(
        'en = "What surprised you?"',
        'en = "{# nothing to ask #}"',
        "prompt 'c': en renders as an empty text",
        id="renders-empty",
    ),
    pytest.param(
        'follow_up_en = "And what will you do with it?"\n',
        "",
        "prompt 'a': follow_up_en is missing; a follow-up needs every language",
        id="follow-up-in-one-language",
    ),
    pytest.param(
        'follow_up_nl = "En wat doen jullie ermee?"',
        'follow_up_nl = "En wat doet {{ wie }} ermee?"',
        "prompt 'a': follow_up_nl uses {{ wie }}",
        id="follow-up-variable",
    ),
    pytest.param(
        'themes = ["ouderen"]',
        'themes = ["ouderen", "jeugd", "meten", "arbeidsmarkt"]',
        "prompt 'b': give 1 to 3 themes, not 4",
        id="too-many-themes",
    ),
    pytest.param('themes = ["ouderen"]', "themes = []", "give 1 to 3 themes, not 0", id="none"),
    pytest.param(
        'themes = ["ouderen"]',
        'themes = ["ouderen", "ouderen"]',
        "prompt 'b': the theme 'ouderen' is listed twice",
        id="theme-twice",
    ),
    pytest.param(
        'themes = ["ouderen"]', 'themes = "ouderen"', "themes must be a list", id="theme-text"
    ),
    pytest.param(
        'source = "hoedan"',
        'source = "hoe_dan"',
        "prompt 'b': source must be one of reis, hoedan, not 'hoe_dan'",
        id="unknown-source",
    ),
    pytest.param('id = "c"', 'id = "Vraag-3"', "prompt 3: id must be lower case", id="bad-id"),
    pytest.param(
        'source = "hoedan"',
        'source = "hoedan"\ntema = "x"',
        "prompt 'b': unknown key 'tema'",
        id="typo",
    ),
    pytest.param(
        'id = "hoedan"\nnl = "Vragen van regio\'s"',
        'id = "reis"\nnl = "Vragen van regio\'s"',
        "source 'reis': the id 'reis' is used twice",
        id="same-source",
    ),
    pytest.param(
        'en = "The journey"', 'en = ""', "source 'reis': en must be a text", id="source-label"
    ),
    pytest.param('nl = "Wat verraste je?"', 'nl = "Wat verraste je?', "not valid TOML", id="toml"),
]


@pytest.mark.parametrize(("old", "new", "message"), MISTAKES)
def test_a_mistake_in_the_file_is_reported_with_file_prompt_and_field(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    with pytest.raises(PromptLibraryError) as error:
        _load(tmp_path, _edit(SMALL, old, new))

    assert str(tmp_path / "learning_prompts.toml") in str(error.value)
    assert message in str(error.value)


def test_a_file_without_prompts_is_refused(tmp_path: Path) -> None:
    sources_only = SMALL[: SMALL.index("[[prompt]]")]

    with pytest.raises(PromptLibraryError, match=r"needs one or more \[\[prompt\]\] tables"):
        _load(tmp_path, sources_only)


def test_a_missing_file_is_reported_by_name(tmp_path: Path) -> None:
    with pytest.raises(PromptLibraryError) as error:
        load_library(tmp_path / "nowhere.toml")

    assert f"{tmp_path / 'nowhere.toml'}: cannot be read" in str(error.value)
