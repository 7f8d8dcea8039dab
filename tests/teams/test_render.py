"""Adaptive Cards from neutral messages: every part, Teams' limits, and inert user text."""

from __future__ import annotations

import json
import re

from bot.teams.render import (
    CARD_CONTENT_TYPE,
    FORM_VERB,
    MAX_CARD_CHARS,
    FormTexts,
    adaptive_card,
    escape,
    form_card,
    message_activity,
    to_markdown,
)
from flows.messages import (
    Button,
    Checkbox,
    Choice,
    Field_,
    Fields,
    Form,
    Heading,
    ItemList,
    LongText,
    Message,
    MultiMember,
    Note,
    Option,
    Paragraph,
    Progress,
    Quote,
    Scale,
    ShortText,
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


FORM_TEXTS = FormTexts(required="Vul dit in.", members_placeholder="Namen, met komma's")


def _every_input_form() -> Form:
    return Form(
        form_id="test.form",
        title=theirs("Over [jou](https://evil.example)"),
        submit_label=ours("Versturen"),
        context="42",
        inputs=(
            ShortText(name="name", label=ours("Naam & <plaats>"), max_length=80, initial="Anna"),
            LongText(name="story", label=ours("Verhaal"), hint=theirs("<b>vet</b>")),
            Choice(
                name="one",
                label=ours("Eén"),
                options=(
                    Option(value="a", label=theirs("[A](https://evil.example)")),
                    Option(value="b", label=ours("B")),
                ),
                initial=("b",),
            ),
            Choice(
                name="many",
                label=ours("Meer"),
                options=tuple(Option(value=str(i), label=theirs(f"Optie <{i}>")) for i in range(8)),
                multiple=True,
                initial=("1", "3"),
                required=False,
            ),
            Scale(
                name="score", label=ours("Cijfer"), low_label=ours("slecht"), high_label=ours("top")
            ),
            Checkbox(name="ok", label=ours("Akkoord")),
            MultiMember(name="who", label=ours("Wie")),
        ),
    )


def test_a_form_card_has_the_matching_input_for_every_kind() -> None:
    card = form_card(_every_input_form(), texts=FORM_TEXTS)

    title, *elements = card["body"]
    assert title["text"] == "Over \\[jou\\](https://evil.example)"
    assert title["weight"] == "Bolder"
    inputs = {e["id"]: e for e in elements if e["type"].startswith("Input.")}
    assert inputs["input.name"] == {
        "id": "input.name",
        "type": "Input.Text",
        "label": "Naam & <plaats>",
        "maxLength": 80,
        "value": "Anna",
        "isRequired": True,
        "errorMessage": "Vul dit in.",
    }
    assert inputs["input.story"]["isMultiline"] is True
    assert inputs["input.story"]["maxLength"] == 3000
    assert {
        "type": "TextBlock",
        "text": "\\<b\\>vet\\</b\\>",
        "wrap": True,
        "isSubtle": True,
        "size": "Small",
    } in elements
    assert inputs["input.one"]["style"] == "expanded"
    assert inputs["input.one"]["choices"][0]["title"] == "\\[A\\](https://evil.example)"
    assert inputs["input.many"]["choices"][0]["title"] == "Optie <0>"  # a drop-down is plain
    assert inputs["input.one"]["value"] == "b"
    assert "isMultiSelect" not in inputs["input.one"]
    assert inputs["input.many"]["isMultiSelect"] is True
    assert inputs["input.many"]["style"] == "compact"
    assert inputs["input.many"]["value"] == "1,3"
    assert "isRequired" not in inputs["input.many"]
    assert [c["title"] for c in inputs["input.score"]["choices"]] == [
        "1 – slecht",
        "2",
        "3",
        "4",
        "5 – top",
    ]
    assert inputs["input.ok"]["type"] == "Input.Toggle"
    assert inputs["input.ok"]["title"] == "Akkoord"
    assert "isRequired" not in inputs["input.ok"]
    assert inputs["input.who"]["type"] == "Input.Text"
    assert inputs["input.who"]["placeholder"] == "Namen, met komma's"
    [submit] = card["actions"]
    assert submit["type"] == "Action.Submit"
    assert submit["title"] == "Versturen"
    assert submit["data"] == {
        "verb": FORM_VERB,
        "form": "test.form",
        "kinds": {
            "name": "t",
            "story": "t",
            "one": "c",
            "many": "m",
            "score": "s",
            "ok": "b",
            "who": "p",
        },
        "required": ["name", "story", "one", "score", "who"],
    }


def test_a_form_too_big_for_a_card_says_so_instead_of_being_refused() -> None:
    huge = Form(
        form_id="huge.form",
        title=ours("Veel"),
        submit_label=ours("OK"),
        inputs=(
            Choice(
                name="pick",
                label=ours("Kies"),
                options=tuple(Option(value=str(i), label=ours("x" * 200)) for i in range(200)),
            ),
        ),
    )

    card = form_card(huge, texts=FORM_TEXTS)

    assert len(json.dumps(card, ensure_ascii=False)) <= MAX_CARD_CHARS
    assert "actions" not in card
    assert "ingekort" in card["body"][-1]["text"]
