"""The text catalogue: both languages complete, every text renders, user input stays literal."""

from __future__ import annotations

from typing import Any

import pytest
from jinja2 import Environment, UndefinedError, meta

import flows.texts
from flows.text import Span
from flows.texts import LANGUAGES, Texts, load_catalogue, user

NUMBERS = {"count", "length", "limit", "number"}
"""Variables that are counts; every other variable gets text someone could have typed."""


_ANALYSER = Environment(autoescape=True)
_ANALYSER.filters["getal"] = str
"""Only parses the templates; it knows the catalogue's filters by name."""


def _variables(source: str) -> set[str]:
    return meta.find_undeclared_variables(_ANALYSER.parse(source))


def _dummy_values(source: str) -> dict[str, Any]:
    return {name: 12345 if name in NUMBERS else user(f"‹{name}›") for name in _variables(source)}


def _all_keys() -> list[str]:
    return sorted(load_catalogue("nl"))


def test_dutch_and_english_have_exactly_the_same_texts() -> None:
    dutch, english = set(load_catalogue("nl")), set(load_catalogue("en"))
    assert sorted(dutch - english) == []
    assert sorted(english - dutch) == []


def test_the_catalogue_is_not_empty() -> None:
    assert len(_all_keys()) > 50
    assert "question.stored" in _all_keys()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("key", _all_keys())
def test_every_text_renders_with_its_variables(language: str, key: str) -> None:
    source = load_catalogue(language)[key]
    values = _dummy_values(source)
    rendered = Texts(language).render(key, **values)
    assert rendered.plain.strip()
    assert "{{" not in rendered.plain
    assert "{%" not in rendered.plain
    user_spans = {span.text for span in rendered.spans if span.user}
    expected = {value.text for value in values.values() if not isinstance(value, int)}
    assert user_spans == expected


def test_the_same_variables_are_used_in_both_languages() -> None:
    dutch, english = load_catalogue("nl"), load_catalogue("en")
    differing = {
        key for key in dutch if _variables(dutch[key]) != _variables(english.get(key, dutch[key]))
    }
    assert differing == set()


@pytest.mark.parametrize(
    "typed",
    [
        "<!channel>",
        "*bold*",
        "{{ x }}",
        "<!channel> *vet* _schuin_ `code` {{ 7 * 7 }} {% if true %}ja{% endif %} <@U123>",
    ],
)
def test_what_a_user_typed_stays_one_literal_user_span(typed: str) -> None:
    rendered = Texts("nl").render("command.unknown", word=user(typed))
    user_spans = [span for span in rendered.spans if span.user]
    assert user_spans == [Span(text=typed, user=True)]
    assert all(typed not in span.text for span in rendered.spans if not span.user)
    assert rendered.plain == f"Die opdracht ken ik niet: {typed}. Typ `help` voor wat ik wel kan."


def test_several_user_values_each_become_their_own_span_in_order() -> None:
    rendered = Texts("nl").render("role.notice", granter=user("*Anna*"), role="coach")
    assert rendered.spans == (
        Span(text="*Anna*", user=True),
        Span(text=" heeft je de rol coach gegeven."),
    )


def test_a_plain_value_becomes_part_of_hoedans_own_text() -> None:
    rendered = Texts("nl").render("questions.heading", count=3)
    assert rendered.spans == (Span(text="Open vragen (3)"),)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0, "0"), (999, "999"), (4000, "4.000"), (10_000, "10.000"), (1_234_567, "1.234.567")],
)
def test_numbers_are_written_the_dutch_way(value: int, shown: str) -> None:
    text = Texts("nl").plain("question.too_long", length=value, limit=4000)
    assert text.startswith(f"Je vraag is {shown} tekens lang; het maximum is 4.000.")


def test_english_texts_are_english() -> None:
    assert Texts("en").plain("help.heading") == "What can Hoedan do for you?"
    assert Texts("nl").plain("help.heading") == "Wat kan Hoedan voor je doen?"


def test_a_text_missing_in_english_falls_back_to_dutch(monkeypatch: pytest.MonkeyPatch) -> None:
    real = flows.texts.load_catalogue

    def english_without_help_heading(language: str) -> dict[str, str]:
        catalogue = real(language)
        if language == "en":
            del catalogue["help.heading"]
        return catalogue

    monkeypatch.setattr(flows.texts, "load_catalogue", english_without_help_heading)
    english = Texts("en")
    assert english.plain("help.heading") == "Wat kan Hoedan voor je doen?"
    assert english.plain("help.footer").startswith("Put #hoedan in a channel message")


def test_an_unsupported_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported language"):
        Texts("de")


def test_a_missing_variable_fails_loudly() -> None:
    with pytest.raises(UndefinedError, match="number"):
        Texts("nl").render("question.stored")
