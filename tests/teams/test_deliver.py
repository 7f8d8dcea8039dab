"""The Teams deliverer's decisions that need no running server."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.outbox import Failed, RetryLater
from bot.teams.deliver import ConnectorError, TeamsDeliverer, classify
from bot.teams.references import CONVERSATION, Reference, References
from bot.teams.render import FormTexts
from flows.messages import Message, Paragraph
from flows.text import ours
from storage.enums import DeliveryKind, Platform
from storage.models import OutboxMessage
from storage.store import Store

FORM_TEXTS = FormTexts(required="Vul dit in.", members_placeholder="Namen")


async def _no_token() -> str | None:
    return None


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [
        (429, "7", RetryLater(error="429 429 busy", after=timedelta(seconds=7))),
        (429, "soon", RetryLater(error="429 429 busy", after=timedelta(seconds=1))),
        (429, None, RetryLater(error="429 429 busy", after=timedelta(seconds=1))),
        (500, None, RetryLater(error="500 busy")),
        (503, None, RetryLater(error="503 busy")),
        (403, None, Failed(error="403 busy")),
        (404, None, Failed(error="404 busy")),
    ],
)
def test_connector_errors_are_classified(
    status: int, retry_after: str | None, expected: object
) -> None:
    assert classify(ConnectorError(status, retry_after, "busy")) == expected


def test_a_huge_retry_after_is_capped() -> None:
    result = classify(ConnectorError(429, "999999", ""))

    assert isinstance(result, RetryLater)
    assert result.after == timedelta(hours=1)


async def test_no_token_goes_to_a_host_the_validator_refuses(store: Store) -> None:
    references = References(store)
    await references.remember(
        [
            Reference(
                kind=CONVERSATION,
                ref="19:kanaal@thread.tacv2",
                service_url="https://evil.example/",
                bot_id="28:bot",
            )
        ]
    )
    asked: list[str] = []

    def allowed(url: str) -> bool:
        asked.append(url)
        return False

    deliverer = TeamsDeliverer(
        store, references, _no_token, allowed=allowed, truncated_note="…", form_texts=FORM_TEXTS
    )
    message = OutboxMessage(
        id=1,
        idempotency_key="k",
        platform=Platform.TEAMS,
        kind=DeliveryKind.POST,
        channel_ref="19:kanaal@thread.tacv2",
        payload=Message(parts=(Paragraph(text=ours("Hoi")),)).model_dump(mode="json"),
    )

    result = await deliverer.deliver(message)
    await deliverer.close()

    assert isinstance(result, Failed)
    assert "evil.example" in result.error
    assert asked == ["https://evil.example/"]


async def test_a_conversation_hoedan_never_saw_fails_for_good(store: Store) -> None:
    deliverer = TeamsDeliverer(
        store,
        References(store),
        _no_token,
        allowed=lambda _url: True,
        truncated_note="…",
        form_texts=FORM_TEXTS,
    )
    message = OutboxMessage(
        id=2,
        idempotency_key="k2",
        platform=Platform.TEAMS,
        kind=DeliveryKind.DIRECT,
        member_ref="29:nobody",
        payload=Message(parts=(Paragraph(text=ours("Hoi")),)).model_dump(mode="json"),
    )

    result = await deliverer.deliver(message)

    assert isinstance(result, Failed)
    assert "29:nobody" in result.error


async def test_references_keep_a_known_personal_chat(store: Store) -> None:
    references = References(store)
    user = Reference(
        kind="user", ref="29:anna", service_url="https://a/", bot_id="28:b", tenant_id="t"
    )
    await references.set_personal(user, "a:1anna")
    # Seen again later in a channel (by another process: nothing cached), without a 1:1 chat.
    await References(store).remember([user])

    stored = await references.get("user", "29:anna")

    assert stored is not None
    assert stored.conversation_id == "a:1anna"
    assert stored.tenant_id == "t"


async def test_a_token_that_cannot_be_had_is_tried_again(store: Store) -> None:
    references = References(store)
    await references.remember(
        [Reference(kind=CONVERSATION, ref="19:k", service_url="https://a/", bot_id="28:b")]
    )

    async def failing_token() -> str | None:
        raise RuntimeError("AADSTS7000215: invalid client secret")

    deliverer = TeamsDeliverer(
        store,
        references,
        failing_token,
        allowed=lambda _url: True,
        truncated_note="…",
        form_texts=FORM_TEXTS,
    )
    message = OutboxMessage(
        id=3,
        idempotency_key="k3",
        platform=Platform.TEAMS,
        kind=DeliveryKind.POST,
        channel_ref="19:k",
        payload=Message(parts=(Paragraph(text=ours("Hoi")),)).model_dump(mode="json"),
    )

    result = await deliverer.deliver(message)

    assert result == RetryLater(error="no Bot Connector token: RuntimeError")
