"""Escaping outgoing mrkdwn and reading incoming Slack markup."""

from __future__ import annotations

import random

import pytest

from bot.slack.mrkdwn import SlackText, escape, from_slack, to_mrkdwn, to_plain
from flows.text import ours, theirs

WJ = "\u2060"


def test_a_user_span_cannot_form_control_sequences() -> None:
    assert (
        to_mrkdwn(theirs("<!channel> <@U1> & <script>"))
        == "&lt;!channel&gt; &lt;@U1&gt; &amp; &lt;script&gt;"
    )


def test_a_disguised_link_is_shown_literally() -> None:
    assert to_mrkdwn(theirs("<https://evil.example|bank>")) == "&lt;https://evil.example|bank&gt;"


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("@channel", f"@{WJ}channel"),
        ("hey @HERE!", f"hey @{WJ}HERE!"),
        ("@Everyone kom", f"@{WJ}Everyone kom"),
        ("@channels", f"@{WJ}channels"),
        ("@jan en @hier", "@jan en @hier"),
    ],
)
def test_typed_broadcast_words_get_a_word_joiner(typed: str, shown: str) -> None:
    assert escape(typed) == shown
    assert to_mrkdwn(theirs(typed)) == shown


def test_a_broadcast_word_assembled_from_two_spans_is_neutralised() -> None:
    assert to_mrkdwn(theirs("@") + theirs("here")) == f"@{WJ}here"


def test_own_spans_keep_their_formatting_but_are_escaped() -> None:
    text = ours("*Vraag* van _Jan_ over `code` & ") + theirs("x")
    assert to_mrkdwn(text) == "*Vraag* van _Jan_ over `code` &amp; x"


def test_formatting_characters_in_user_spans_are_left_alone() -> None:
    # Documented decision: bold or struck text from a user is harmless, so it stays as typed.
    assert to_mrkdwn(theirs("*vet* _schuin_ ~weg~ `x`")) == "*vet* _schuin_ ~weg~ `x`"


def test_plain_text_is_not_escaped_but_broadcasts_are_neutralised() -> None:
    assert to_plain(theirs("a < b & @channel")) == f"a < b & @{WJ}channel"


def test_escaping_ampersand_first_keeps_entities_intact() -> None:
    assert escape("&lt;") == "&amp;lt;"


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("hoi <@U123|jan>!", "hoi @jan!"),
        ("<#C123|algemeen> en <#C9>", "#algemeen en #C9"),
        ("<!channel> <!here> <!everyone>", "@channel @here @everyone"),
        ("<!here|here>", "@here"),
        ("<!subteam^S1|@zorgteam> kijk", "@zorgteam kijk"),
        ("<!subteam^S1>", "@S1"),
        ("om <!date^1392734382^{date_short}|19 feb 2014>", "om 19 feb 2014"),
        ("<https://x.nl|de site>", "de site (https://x.nl)"),
        ("<https://x.nl>", "https://x.nl"),
        ("<https://x.nl|https://x.nl>", "https://x.nl"),
        ("<mailto:a@b.nl|a@b.nl>", "a@b.nl"),
        ("a &lt; b &gt; c &amp; d", "a < b > c & d"),
        ("&amp;lt; blijft", "&lt; blijft"),
        ("<https://x.nl?a=1&amp;b=2|a &amp; b>", "a & b (https://x.nl?a=1&b=2)"),
        ("<!unknown>", ""),
        ("", ""),
        ("geen markup", "geen markup"),
    ],
)
def test_from_slack_reads_markup_as_plain_text(markup: str, text: str) -> None:
    assert from_slack(markup).text == text


def test_from_slack_collects_mentions_in_order_without_duplicates() -> None:
    result = from_slack(
        "<@U2> vraagt <@U1|jan> en <@U2|piet>, cc <@U3>", names={"U2": "Piet", "U1": "Jantje"}
    )

    assert result == SlackText(
        text="@Piet vraagt @jan en @piet, cc @U3",
        mentions=(("U2", "Piet"), ("U1", "jan"), ("U3", "U3")),
    )


def test_from_slack_has_no_mentions_for_broadcasts_or_channels() -> None:
    assert from_slack("<!channel> <#C1|x>").mentions == ()


def test_from_slack_never_raises_on_arbitrary_input() -> None:
    alphabet = "<>|@#!^&;:/ ampltgUCS12\n\u2060é"
    generator = random.Random(20240611)  # noqa: S311 - fuzzing, not secrets
    for _ in range(5000):
        markup = "".join(generator.choice(alphabet) for _ in range(generator.randint(0, 40)))
        result = from_slack(markup, names={"U1": "jan"})
        assert isinstance(result.text, str)
        assert all(
            isinstance(user, str) and isinstance(name, str) for user, name in result.mentions
        )


def test_from_slack_tolerates_an_odd_names_mapping() -> None:
    odd: dict[str, str] = {"U1": 42}  # type: ignore[dict-item]
    assert from_slack("<@U1>", names=odd).text == "@U1"
