"""Terminal rendering of Hoedan's light formatting around what people typed."""

from __future__ import annotations

from bot.console.render import to_text
from flows.text import join, ours, theirs


def bold_parts(text: object) -> list[str]:
    rendered = to_text(text)  # type: ignore[arg-type]
    return [rendered.plain[s.start : s.end] for s in rendered.spans if "bold" in str(s.style)]


def test_a_bold_pair_around_a_name_makes_the_name_bold_without_stars() -> None:
    text = join((ours("Nu *"), theirs("Dirk"), ours("*. Daarna Eva.")))
    assert to_text(text).plain == "Nu Dirk. Daarna Eva."
    assert bold_parts(text) == ["Dirk"]


def test_stars_typed_by_a_user_stay_literal() -> None:
    text = join((ours("*Vraag:* "), theirs("*niet* vet *")))
    assert to_text(text).plain == "Vraag: *niet* vet *"
    assert bold_parts(text) == ["Vraag:"]
