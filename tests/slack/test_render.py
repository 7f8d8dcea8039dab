"""Neutral messages and forms as Block Kit: shapes, escaping, and every Slack limit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.slack import render
from bot.slack.render import (
    MAX_MESSAGE_BLOCKS,
    MAX_VIEW_BLOCKS,
    action_from_id,
    button_action_id,
    fallback_text,
    form_values,
    form_view,
    home_view,
    message_blocks,
)
from flows.messages import (
    Button,
    Checkbox,
    Choice,
    Field_,
    Fields,
    Form,
    Heading,
    Input,
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

WJ = "\u2060"
MARKER = "… (ingekort: niet alles past in één Slack-bericht)"


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in ``node``, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def assert_valid(blocks: list[dict[str, Any]], max_blocks: int = MAX_MESSAGE_BLOCKS) -> None:
    """Slack's limits, checked both by slack_sdk and directly where slack_sdk does not check."""
    assert 0 < len(blocks) <= max_blocks
    assert [block.to_dict() for block in Block.parse_all(blocks)] == blocks
    for node in walk(blocks):
        if node.get("type") == "mrkdwn":
            assert node.get("verbatim") is True, node
        if node.get("type") in ("mrkdwn", "plain_text"):
            assert node["text"].strip(), node
            assert len(node["text"]) <= 3000
    for block in blocks:
        if block["type"] == "section":
            assert len(block.get("fields", [])) <= 10
            assert all(len(field["text"]) <= 2000 for field in block.get("fields", []))
        elif block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        elif block["type"] == "context":
            assert len(block["elements"]) <= 10
        elif block["type"] == "actions":
            assert len(block["elements"]) <= 25
            for button in block["elements"]:
                assert len(button["text"]["text"]) <= 75
                assert len(button.get("value", "")) <= 2000
                assert len(button["action_id"]) <= 255


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [
        block["text"]["text"] for block in blocks if "text" in block and block["type"] == "section"
    ]


def is_marker(block: dict[str, Any], note: str = MARKER) -> bool:
    return bool(block["type"] == "context" and block["elements"][0]["text"] == note)


# Parts


def test_a_card_renders_every_part_in_order() -> None:
    message = Message(
        parts=(
            Heading(text=ours("Nieuwe vraag")),
            Paragraph(text=ours("*Van* ") + theirs("Jan")),
            ItemList(items=(ours("een"), theirs("twee"))),
            Fields(items=(Field_(label=ours("Regio"), value=theirs("Noord")),)),
            Quote(text=theirs("regel 1\nregel 2")),
            Note(text=ours("nog 3 vragen")),
            Progress(current=3, total=6, label=ours("stap")),
            Sparkline(values=(0, 7), label=ours("trend")),
        ),
        buttons=(Button(label=ours("Antwoord"), action="answer", value="q1", style="primary"),),
    )

    blocks = message_blocks(message)

    assert_valid(blocks)
    assert blocks == [
        {"type": "header", "text": {"type": "plain_text", "text": "Nieuwe vraag"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Van* Jan", "verbatim": True}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "• een\n• twee", "verbatim": True}},
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": "*Regio*\nNoord", "verbatim": True}],
        },
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "> regel 1\n> regel 2", "verbatim": True},
        },
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "nog 3 vragen", "verbatim": True}],
        },
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "▰▰▰▰▰▱▱▱▱▱  3/6 · stap", "verbatim": True},
        },
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "trend  ▁█", "verbatim": True}],
        },
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Antwoord"},
                    "action_id": "answer#0",
                    "value": "q1",
                    "style": "primary",
                }
            ],
        },
    ]


def test_user_spans_are_escaped_in_every_mrkdwn_part() -> None:
    hostile = theirs("<!channel> <@U1> & <script>")
    escaped = "&lt;!channel&gt; &lt;@U1&gt; &amp; &lt;script&gt;"
    message = Message(
        parts=(
            Paragraph(text=hostile),
            ItemList(items=(hostile,)),
            Fields(items=(Field_(label=hostile, value=hostile),)),
            Quote(text=hostile),
            Note(text=hostile),
        )
    )

    blocks = message_blocks(message)

    assert_valid(blocks)
    assert texts(blocks) == [escaped, f"• {escaped}", f"> {escaped}"]
    assert blocks[2]["fields"][0]["text"] == f"*{escaped}*\n{escaped}"
    assert blocks[4]["elements"][0]["text"] == escaped


def test_a_typed_broadcast_gets_a_word_joiner_in_plain_and_mrkdwn_text() -> None:
    message = Message(
        parts=(Heading(text=theirs("@here")), Paragraph(text=theirs("@channel"))),
        buttons=(Button(label=theirs("@everyone"), action="a"),),
    )

    blocks = message_blocks(message)

    assert blocks[0]["text"]["text"] == f"@{WJ}here"
    assert blocks[1]["text"]["text"] == f"@{WJ}channel"
    assert blocks[2]["elements"][0]["text"]["text"] == f"@{WJ}everyone"


def test_empty_texts_are_skipped() -> None:
    message = Message(
        parts=(
            Heading(text=ours("")),
            Paragraph(text=theirs("   ")),
            Note(text=ours("")),
            Quote(text=ours("\n")),
            Fields(items=(Field_(label=ours(""), value=ours("")),)),
            Sparkline(values=(), label=ours("")),
            Paragraph(text=ours("over")),
        )
    )

    assert texts(message_blocks(message)) == ["over"]


def test_a_long_heading_is_shortened_visibly() -> None:
    blocks = message_blocks(Message(parts=(Heading(text=theirs("k" * 400)),)))

    assert_valid(blocks)
    assert blocks[0]["text"]["text"] == "k" * 149 + "…"


def test_a_long_paragraph_is_split_at_word_boundaries_without_losing_words() -> None:
    words = [f"woord{number}" for number in range(2000)]
    blocks = message_blocks(Message(parts=(Paragraph(text=theirs(" ".join(words))),)))

    assert_valid(blocks)
    assert len(blocks) == 7  # 18,889 characters
    assert " ".join(texts(blocks)).split(" ") == words


def test_a_paragraph_splits_at_line_boundaries_first() -> None:
    lines = ["r" * 1000] * 5
    blocks = message_blocks(Message(parts=(Paragraph(text=ours("\n".join(lines))),)))

    assert_valid(blocks)
    assert texts(blocks) == ["\n".join(lines[:2]), "\n".join(lines[2:4]), lines[4]]


def test_a_word_longer_than_a_section_is_cut_between_entities() -> None:
    blocks = message_blocks(Message(parts=(Paragraph(text=theirs("a&" * 2000)),)))

    assert_valid(blocks)
    joined = "".join(texts(blocks))
    assert joined == "a&amp;" * 2000
    assert all(text.startswith(("a", "&amp;")) for text in texts(blocks))


def test_two_hundred_long_items_are_packed_into_few_sections() -> None:
    items = tuple(theirs(f"{number:03d}" + "x" * 297) for number in range(200))

    blocks = message_blocks(Message(parts=(ItemList(items=items),)))

    assert_valid(blocks)
    assert len(blocks) == 23  # nine lines of 302 characters fit in a section of 3000
    lines = "\n".join(texts(blocks)).split("\n")
    assert lines == [f"• {item.plain}" for item in items]
    assert not any(is_marker(block) for block in blocks)


def test_an_item_list_too_long_for_one_message_ends_with_the_marker() -> None:
    items = tuple(theirs(f"{number:03d}" + "x" * 2897) for number in range(200))

    blocks = message_blocks(Message(parts=(ItemList(items=items),)))

    assert_valid(blocks)
    assert len(blocks) == MAX_MESSAGE_BLOCKS
    assert texts(blocks)[0] == f"• {items[0].plain}"
    assert texts(blocks)[-1] == f"• {items[48].plain}"
    assert is_marker(blocks[-1])


def test_a_numbered_list_counts_and_an_overlong_item_is_shortened() -> None:
    blocks = message_blocks(
        Message(parts=(ItemList(items=(ours("kort"), theirs("l" * 5000)), numbered=True),))
    )

    assert_valid(blocks)
    assert texts(blocks) == ["1. kort", "2. " + "l" * 2996 + "…"]


def test_fields_are_grouped_by_ten_and_shortened_to_two_thousand() -> None:
    fields = tuple(
        Field_(label=ours(f"Veld {number}"), value=theirs("w" * 2500)) for number in range(23)
    )

    blocks = message_blocks(Message(parts=(Fields(items=fields),)))

    assert_valid(blocks)
    assert [len(block["fields"]) for block in blocks] == [10, 10, 3]
    first = blocks[0]["fields"][0]["text"]
    assert first.startswith("*Veld 0*\nwww")
    assert len(first) == 2000
    assert first.endswith("…")


def test_a_long_quote_keeps_the_prefix_on_every_line() -> None:
    blocks = message_blocks(Message(parts=(Quote(text=theirs(" ".join(["citaat"] * 1500))),)))

    assert_valid(blocks)
    assert len(blocks) == 4
    for text in texts(blocks):
        assert all(line.startswith("> citaat") for line in text.split("\n"))


def test_a_long_note_is_shortened() -> None:
    blocks = message_blocks(Message(parts=(Note(text=theirs("n" * 4000)),)))

    assert_valid(blocks)
    assert blocks[0]["elements"][0]["text"] == "n" * 2999 + "…"


def test_shortening_never_leaves_half_an_entity() -> None:
    blocks = message_blocks(Message(parts=(Note(text=theirs("<" * 1000)),)))

    text = blocks[0]["elements"][0]["text"]
    assert text.endswith("&lt;…")
    assert text[:-1].replace("&lt;", "") == ""


@pytest.mark.parametrize(
    ("current", "total", "text"),
    [
        (3, 6, "▰▰▰▰▰▱▱▱▱▱  3/6"),
        (1, 3, "▰▰▰▱▱▱▱▱▱▱  1/3"),
        (9, 6, "▰▰▰▰▰▰▰▰▰▰  6/6"),
        (-2, 6, "▱▱▱▱▱▱▱▱▱▱  0/6"),
        (0, 0, "▱▱▱▱▱▱▱▱▱▱  0/0"),
        (4, -1, "▱▱▱▱▱▱▱▱▱▱  0/0"),
    ],
)
def test_progress_is_a_clamped_ten_cell_bar(current: int, total: int, text: str) -> None:
    message = Message(parts=(Progress(current=current, total=total, label=ours("")),))

    assert texts(message_blocks(message)) == [text]


@pytest.mark.parametrize(
    ("values", "text"),
    [
        ((0, 1, 2, 3, 4, 5, 6, 7), "groei  ▁▂▃▄▅▆▇█"),
        ((5, 5, 5), "groei  ▄▄▄"),
        ((), "groei"),
        ((1.0, float("nan"), 3.0, float("inf")), "groei  ▁█"),
    ],
)
def test_sparkline_scales_from_minimum_to_maximum(values: tuple[float, ...], text: str) -> None:
    blocks = message_blocks(Message(parts=(Sparkline(values=values, label=ours("groei")),)))

    assert blocks[0]["elements"][0]["text"] == text


def test_a_sparkline_shows_only_the_last_sixty_values() -> None:
    values = (100.0,) * 40 + tuple(float(number % 2) for number in range(60))

    blocks = message_blocks(Message(parts=(Sparkline(values=values, label=ours("x")),)))

    assert blocks[0]["elements"][0]["text"] == "x  " + "▁█" * 30


# Buttons and truncation


def test_many_buttons_are_split_over_actions_blocks_with_unique_ids() -> None:
    buttons = tuple(Button(label=ours(f"Knop {number}"), action="pick") for number in range(60))

    blocks = message_blocks(Message(buttons=buttons))

    assert_valid(blocks)
    assert [len(block["elements"]) for block in blocks] == [25, 25, 10]
    ids = [button["action_id"] for block in blocks for button in block["elements"]]
    assert ids == [f"pick#{number}" for number in range(60)]
    assert {action_from_id(action_id) for action_id in ids} == {"pick"}


def test_a_button_label_is_shortened_and_styles_pass_through() -> None:
    buttons = (
        Button(label=theirs("b" * 100), action="a"),
        Button(label=ours("Weg"), action="d", value="v", style="danger"),
    )

    elements = message_blocks(Message(buttons=buttons))[0]["elements"]

    assert elements[0]["text"]["text"] == "b" * 74 + "…"
    assert "style" not in elements[0]
    assert "value" not in elements[0]
    assert elements[1]["style"] == "danger"
    assert elements[1]["value"] == "v"


def test_a_button_value_of_exactly_the_limit_passes() -> None:
    blocks = message_blocks(
        Message(buttons=(Button(label=ours("a"), action="a", value="v" * 2000),))
    )

    assert_valid(blocks)
    assert blocks[0]["elements"][0]["value"] == "v" * 2000


def test_a_button_value_over_the_limit_is_a_programming_error() -> None:
    message = Message(buttons=(Button(label=ours("a"), action="a", value="v" * 2001),))

    with pytest.raises(ValueError, match="2001"):
        message_blocks(message)


def test_buttons_survive_when_content_is_cut() -> None:
    paragraphs = tuple(Paragraph(text=ours(f"alinea {number}")) for number in range(100))
    buttons = tuple(Button(label=ours(f"k{number}"), action="k") for number in range(30))

    blocks = message_blocks(Message(parts=paragraphs, buttons=buttons))

    assert_valid(blocks)
    assert len(blocks) == MAX_MESSAGE_BLOCKS
    assert texts(blocks) == [f"alinea {number}" for number in range(47)]
    assert is_marker(blocks[47])
    assert [block["type"] for block in blocks[48:]] == ["actions", "actions"]


def test_the_marker_text_and_block_budget_are_parameters() -> None:
    paragraphs = tuple(Paragraph(text=ours(f"p{number}")) for number in range(10))

    blocks = message_blocks(Message(parts=paragraphs), max_blocks=4, truncated_note="<meer>")

    assert texts(blocks) == ["p0", "p1", "p2"]
    assert is_marker(blocks[3], "&lt;meer&gt;")


def test_a_message_that_fits_exactly_has_no_marker() -> None:
    paragraphs = tuple(Paragraph(text=ours(f"p{number}")) for number in range(50))

    blocks = message_blocks(Message(parts=paragraphs))

    assert len(blocks) == 50
    assert not any(is_marker(block) for block in blocks)


def test_too_many_buttons_are_cut_too_rather_than_break_the_message() -> None:
    buttons = tuple(Button(label=ours("k"), action="k") for number in range(2000))

    blocks = message_blocks(Message(parts=(Paragraph(text=ours("p")),), buttons=buttons))

    assert_valid(blocks)
    assert is_marker(blocks[0])
    assert [block["type"] for block in blocks[1:]] == ["actions"] * 49


def test_every_mrkdwn_object_is_verbatim() -> None:
    message = Message(
        parts=(
            Paragraph(text=ours("https://x.nl #algemeen")),
            ItemList(items=(ours("i"),) * 500),
            Fields(items=(Field_(label=ours("l"), value=ours("v")),)),
            Quote(text=ours("q")),
            Note(text=ours("n")),
            Progress(current=1, total=2, label=ours("p")),
            Sparkline(values=(1, 2), label=ours("s")),
        )
    )

    mrkdwn = [node for node in walk(message_blocks(message)) if node.get("type") == "mrkdwn"]

    assert len(mrkdwn) == 7
    assert all(node["verbatim"] is True for node in mrkdwn)


# Fallback text and action ids


def test_fallback_text_is_the_first_heading_or_paragraph_escaped() -> None:
    message = Message(
        parts=(
            Note(text=ours("klein")),
            Paragraph(text=theirs("<@U1> & @here")),
            Heading(text=ours("k")),
        )
    )

    assert fallback_text(message) == f"&lt;@U1&gt; &amp; @{WJ}here"


def test_fallback_text_is_shortened_and_never_empty() -> None:
    long = fallback_text(Message(parts=(Heading(text=theirs("&" * 1000)),)))

    assert len(long) <= render.MAX_FALLBACK_CHARS
    assert long.endswith("&amp;…")
    assert fallback_text(Message()) == "Hoedan"
    assert fallback_text(Message(parts=(Note(text=ours("alleen klein")),))) == "alleen klein"


def test_action_ids_round_trip() -> None:
    assert button_action_id("answer", 3) == "answer#3"
    assert action_from_id("answer#3") == "answer"
    assert action_from_id("flow#sub#12") == "flow#sub"
    assert action_from_id("plain") == "plain"


def test_an_action_id_over_the_limit_raises() -> None:
    assert len(button_action_id("a" * 253, 9)) == 255
    with pytest.raises(ValueError, match="255"):
        button_action_id("a" * 253, 10)


# Forms


def every_kind_of_form() -> Form:
    inputs: tuple[Input, ...] = (
        ShortText(name="title", label=ours("Titel"), initial="concept"),
        LongText(name="body", label=ours("Vraag"), hint=ours("Wees concreet")),
        Choice(
            name="region",
            label=ours("Regio"),
            options=(
                Option(value="1", label=theirs("Noord")),
                Option(value="2", label=ours("Zuid")),
            ),
        ),
        MultiMember(name="people", label=ours("Wie"), required=False),
        Scale(name="score", label=ours("Hoe"), low_label=ours("slecht"), high_label=ours("goed")),
        Checkbox(name="agree", label=ours("Akkoord")),
    )
    return Form(
        form_id="ask", title=ours("Stel een vraag"), submit_label=ours("Verstuur"), inputs=inputs
    )


def test_a_form_becomes_a_modal_with_one_input_block_per_input() -> None:
    view = form_view(every_kind_of_form(), private_metadata='{"q": 1}')

    assert View(**view).to_dict() == view
    assert view["type"] == "modal"
    assert view["callback_id"] == "ask"
    assert view["title"] == {"type": "plain_text", "text": "Stel een vraag"}
    assert view["submit"] == {"type": "plain_text", "text": "Verstuur"}
    assert view["close"] == {"type": "plain_text", "text": "Annuleer"}
    assert view["private_metadata"] == '{"q": 1}'
    blocks = view["blocks"]
    assert [block["block_id"] for block in blocks] == [
        "title", "body", "region", "people", "score", "agree"
    ]  # fmt: skip
    assert [block["element"]["action_id"] for block in blocks] == [
        "title", "body", "region", "people", "score", "agree"
    ]  # fmt: skip
    assert [block["element"]["type"] for block in blocks] == [
        "plain_text_input",
        "plain_text_input",
        "static_select",
        "multi_users_select",
        "radio_buttons",
        "checkboxes",
    ]
    assert [block["optional"] for block in blocks] == [False, False, False, True, False, True]
    assert blocks[0]["element"] == {
        "type": "plain_text_input",
        "action_id": "title",
        "initial_value": "concept",
        "max_length": 150,
    }
    assert blocks[1]["element"]["multiline"] is True
    assert blocks[1]["hint"] == {"type": "plain_text", "text": "Wees concreet"}
    assert blocks[2]["element"]["options"] == [
        {"text": {"type": "plain_text", "text": "Noord"}, "value": "1"},
        {"text": {"type": "plain_text", "text": "Zuid"}, "value": "2"},
    ]
    assert [option["text"]["text"] for option in blocks[4]["element"]["options"]] == [
        "1 – slecht", "2", "3", "4", "5 – goed"
    ]  # fmt: skip
    assert blocks[5]["element"]["options"] == [
        {"text": {"type": "plain_text", "text": "Akkoord"}, "value": "yes"}
    ]


def test_form_texts_are_shortened_to_slack_limits() -> None:
    form = Form(
        form_id="f",
        title=theirs("Een titel die veel te lang is"),
        submit_label=ours("Verstuur het nu meteen maar"),
        inputs=(
            ShortText(name="a", label=theirs("l" * 2500), hint=theirs("h" * 2500), max_length=9000),
            Choice(
                name="c",
                label=ours("Kies"),
                options=tuple(
                    Option(value=str(number), label=theirs("o" * 100)) for number in range(150)
                ),
            ),
        ),
    )

    view = form_view(form, close_label="Annuleer deze hele vraag nu")

    assert View(**view).to_dict() == view
    assert view["title"]["text"] == "Een titel die veel te l…"
    assert len(view["submit"]["text"]) <= 24
    assert len(view["close"]["text"]) <= 24
    short = view["blocks"][0]
    assert short["label"]["text"] == "l" * 1999 + "…"
    assert short["hint"]["text"] == "h" * 1999 + "…"
    assert short["element"]["max_length"] == 3000
    options = view["blocks"][1]["element"]["options"]
    assert len(options) == 100
    assert options[0]["text"]["text"] == "o" * 74 + "…"


def test_a_long_initial_value_is_shortened_to_the_inputs_maximum() -> None:
    form = Form(
        form_id="f",
        title=ours("t"),
        submit_label=ours("ok"),
        inputs=(ShortText(name="a", label=ours("a"), max_length=10, initial="abcdefghijklmnop"),),
    )

    element = form_view(form)["blocks"][0]["element"]

    assert element["initial_value"] == "abcdefghi…"


def test_a_modal_holds_at_most_a_hundred_inputs() -> None:
    inputs = tuple(ShortText(name=f"i{number}", label=ours("x")) for number in range(130))
    form = Form(form_id="f", title=ours("t"), submit_label=ours("ok"), inputs=inputs)

    view = form_view(form)

    assert len(view["blocks"]) == MAX_VIEW_BLOCKS
    assert view["blocks"][-1]["block_id"] == "i99"


def test_private_metadata_over_the_limit_raises() -> None:
    form = every_kind_of_form()

    assert form_view(form, private_metadata="m" * 3000)["private_metadata"] == "m" * 3000
    with pytest.raises(ValueError, match="private_metadata"):
        form_view(form, private_metadata="m" * 3001)


def test_an_option_value_over_the_limit_raises() -> None:
    form = Form(
        form_id="f",
        title=ours("t"),
        submit_label=ours("ok"),
        inputs=(
            Choice(name="c", label=ours("c"), options=(Option(value="v" * 151, label=ours("x")),)),
        ),
    )

    with pytest.raises(ValueError, match="151"):
        form_view(form)


@pytest.mark.parametrize(
    "inputs",
    [
        (),
        (ShortText(name="a", label=ours("a")), ShortText(name="a", label=ours("b"))),
        (ShortText(name="n" * 256, label=ours("a")),),
        (ShortText(name="a", label=ours("")),),
    ],
)
def test_malformed_forms_raise(inputs: tuple[Input, ...]) -> None:
    form = Form(form_id="f", title=ours("t"), submit_label=ours("ok"), inputs=inputs)

    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        form_view(form)


def submitted(view: dict[str, Any], answers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``view.state.values`` as Slack sends it for ``view`` with ``answers`` per block."""
    return {
        block["block_id"]: {
            block["element"]["action_id"]: {
                "type": block["element"]["type"],
                **answers.get(block["block_id"], {}),
            }
        }
        for block in view["blocks"]
    }


def test_submitted_values_round_trip_for_every_input_kind() -> None:
    view = form_view(every_kind_of_form())
    options = {block["block_id"]: block["element"].get("options") for block in view["blocks"]}
    state = submitted(
        view,
        {
            "title": {"value": "Mijn vraag"},
            "body": {"value": None},
            "region": {"selected_option": options["region"][1]},
            "people": {"selected_users": ["U1", "U2"]},
            "score": {"selected_option": options["score"][3]},
            "agree": {"selected_options": options["agree"]},
        },
    )

    assert form_values(state) == {
        "title": "Mijn vraag",
        "body": "",
        "region": "2",
        "people": ["U1", "U2"],
        "score": 4,
        "agree": True,
    }


def test_nothing_chosen_reads_as_empty_values() -> None:
    view = form_view(every_kind_of_form())
    state = submitted(
        view,
        {
            "region": {"selected_option": None},
            "people": {"selected_users": []},
            "score": {"selected_option": None},
            "agree": {"selected_options": []},
        },
    )

    assert form_values(state) == {
        "title": "",
        "body": "",
        "region": None,
        "people": [],
        "score": None,
        "agree": False,
    }


def test_malformed_state_yields_what_can_be_read() -> None:
    state: Any = {
        "ok": {"a": {"type": "plain_text_input", "value": "ja"}},
        "not_a_mapping": "x",
        "element_not_a_mapping": {"a": 3},
        "no_type": {"a": {"value": "x"}},
        "unknown": {"a": {"type": "datepicker", "selected_date": "2024-01-01"}},
        "odd_value": {"a": {"type": "plain_text_input", "value": 5}},
        "odd_option": {"a": {"type": "static_select", "selected_option": "1"}},
        "odd_option_value": {"a": {"type": "static_select", "selected_option": {"value": 1}}},
        "odd_users": {"a": {"type": "multi_users_select", "selected_users": "U1"}},
        "mixed_users": {"a": {"type": "multi_users_select", "selected_users": ["U1", None]}},
        "odd_boxes": {"a": {"type": "checkboxes", "selected_options": "yes"}},
        "superscript": {"a": {"type": "radio_buttons", "selected_option": {"value": "²"}}},
        "text_radio": {"a": {"type": "radio_buttons", "selected_option": {"value": "ja"}}},
        7: {"a": {"type": "plain_text_input", "value": "x"}},
    }

    assert form_values(state) == {
        "ok": "ja",
        "odd_value": "",
        "odd_option": None,
        "odd_option_value": None,
        "odd_users": [],
        "mixed_users": ["U1"],
        "odd_boxes": False,
        "superscript": "²",
        "text_radio": "ja",
    }
    assert form_values(None) == {}  # type: ignore[arg-type]
    assert form_values({}) == {}


# Home tab


def test_the_home_tab_holds_a_hundred_blocks_with_the_marker() -> None:
    paragraphs = tuple(Paragraph(text=ours(f"p{number}")) for number in range(150))

    view = home_view(Message(parts=paragraphs, buttons=(Button(label=ours("k"), action="k"),)))

    assert View(**view).to_dict() == view
    assert view["type"] == "home"
    assert_valid(view["blocks"], max_blocks=MAX_VIEW_BLOCKS)
    assert len(view["blocks"]) == 100
    assert is_marker(view["blocks"][98])
    assert view["blocks"][99]["type"] == "actions"


def test_an_empty_home_tab_is_still_a_valid_view() -> None:
    view = home_view(Message())

    assert View(**view).to_dict() == view
    assert len(view["blocks"]) == 1
