"""Adaptive Cards from neutral messages: every part, Teams' limits, and inert user text."""

from __future__ import annotations

import json
import re

from bot.teams.render import (
    CARD_CONTENT_TYPE,
    MAX_CARD_CHARS,
    adaptive_card,
    escape,
    message_activity,
    to_markdown,
)
from flows.messages import (
    Button,
    Field_,
    Fields,
    Heading,
    ItemList,
    Message,
    Note,
    Paragraph,
    Progress,
    Quote,
    Sparkline,
)
from flows.text import ours, theirs


def _texts(card: dict[str, object]) -> str:
    return json.dumps(card, ensure_ascii=False)


def test_user_text_cannot_link_mention_or_inject_html() -> None:
    typed = "[klik hier](https://evil.example) <at>Anna</at> <https://x> <b>html</b> &lt;at&gt;"

    rendered = to_markdown(theirs(typed))

    assert re.search(r"(?<!\\)[\[\]<>&]", rendered) is None  # each one escaped
    assert rendered == escape(typed)
    assert rendered.replace("\\", "") == typed


def test_ordinary_sentences_stay_readable() -> None:
    typed = "Wij (team 3) doen het zo: 1. bellen - 2. *samen* eten. Klaar!"

    assert to_markdown(theirs(typed)) == typed


def test_own_text_keeps_light_formatting_in_teams_dialect() -> None:
    assert to_markdown(ours("Je vraag is *#12*, zie `help`")) == "Je vraag is **#12**, zie help"
    mixed = ours("Van ") + theirs("*Bram*") + ours(" *dank*")
    assert to_markdown(mixed) == "Van *Bram* **dank**"  # theirs: only italic, as typed


def test_every_part_is_rendered() -> None:
    message = Message(
        parts=(
            Heading(text=ours("Kop")),
            Paragraph(text=ours("Alinea")),
            Fields(items=(Field_(label=ours("Regio"), value=theirs("Twente")),)),
            ItemList(items=(ours("een"), ours("twee")), numbered=True),
            Quote(text=theirs("citaat")),
            Note(text=ours("klein")),
            Progress(current=3, total=10, label=ours("fasen")),
            Sparkline(values=(1, 2, 3), label=ours("trend")),
        ),
        buttons=(Button(label=ours("Ja"), action="house_rules.agree", value="7", style="primary"),),
    )

    card = adaptive_card(message)
    text = _texts(card)

    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.4"
    for expected in ("Kop", "Alinea", "Twente", "1. een", "citaat", "klein", "3/10", "▁▅█"):
        assert expected in text
    [action_set] = [e for e in card["body"] if e["type"] == "ActionSet"]
    [action] = action_set["actions"]
    assert action == {
        "type": "Action.Submit",
        "title": "Ja",
        "data": {"verb": "house_rules.agree", "value": "7"},
        "style": "positive",
    }


def test_many_buttons_go_in_rows_teams_can_show() -> None:
    buttons = tuple(Button(label=ours(f"Knop {i}"), action="x", value=str(i)) for i in range(12))

    card = adaptive_card(Message(parts=(Paragraph(text=ours("Kies")),), buttons=buttons))

    sets = [e for e in card["body"] if e["type"] == "ActionSet"]
    assert [len(s["actions"]) for s in sets] == [5, 5, 2]


def test_a_card_too_big_for_teams_is_cut_with_a_note_and_keeps_its_buttons() -> None:
    parts = tuple(Paragraph(text=theirs("woord " * 800)) for _ in range(20))
    message = Message(parts=parts, buttons=(Button(label=ours("Verder"), action="more"),))

    card = adaptive_card(message, truncated_note="ingekort")

    assert len(_texts(card)) <= MAX_CARD_CHARS
    texts = [e.get("text") for e in card["body"]]
    assert "ingekort" in texts
    assert card["body"][-1]["type"] == "ActionSet"


def test_the_activity_carries_one_card_and_a_plain_summary() -> None:
    message = Message(parts=(Paragraph(text=theirs("<at>Bram</at> [x](y)")),))

    activity = message_activity(message)

    assert activity["type"] == "message"
    assert activity["summary"] == "<at>Bram</at> [x](y)"[:200]
    [attachment] = activity["attachments"]
    assert attachment["contentType"] == CARD_CONTENT_TYPE
    assert "entities" not in activity  # without mention entities Teams pings nobody
