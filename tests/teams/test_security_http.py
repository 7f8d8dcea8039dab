"""Teams threats from docs/security.md that need the real server: tokens, hosts, body size.

A genuine Bot Connector token cannot be made in a test (Microsoft signs it), so where a test
needs one the SDK's token check is replaced by one that accepts the request with the claims a
real token would carry; everything after it (the SDK's service URL check, Hoedan's own checks,
the outbox, delivery) is the real code.
"""

from __future__ import annotations

import base64
import io
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from microsoft_agents.hosting.core.authorization import ClaimsIdentity
from pydantic import ValidationError
from sqlmodel import select

from bot.service import MAX_BODY_BYTES
from bot.settings import Settings
from bot.teams.render import escape as render_escape
from flows.reports import ReportRequest
from storage.models import InboundDelivery, TeamsReference
from storage.types import utcnow
from tests.teams.conftest import (
    ANNA,
    Running,
    channel_message,
    next_id,
    personal_message,
    running,
    teams_settings,
)
from tests.teams.fake_connector import FakeConnector

CLIENT_ID = "00000000-0000-0000-0000-00000000c1d0"
TENANT_ID = "00000000-0000-0000-0000-0000000000a1"
CLIENT_SECRET = "not-a-real-secret-but-long-enough"  # noqa: S105 (a test value)
STOLEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.stolen-bot-connector-token"
"""What MSAL would hand Hoedan for the Bot Connector; a test cannot ask Entra ID for one."""


def registered(database_url: str, **overrides: Any) -> Settings:
    """Teams with an app registration, as in production."""
    values: dict[str, Any] = {
        "teams_anonymous_allowed": False,
        "teams_client_id": CLIENT_ID,
        "teams_client_secret": CLIENT_SECRET,
        "teams_tenant_id": TENANT_ID,
    }
    values.update(overrides)
    return teams_settings(database_url, **values)


def _b64(value: dict[str, Any]) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unsigned_jwt(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """A token that looks like a JWT and is signed by nobody."""
    return f"{_b64(header)}.{_b64(claims)}.c2lnbmF0dXJl"


async def nothing_kept(hoedan: Running) -> None:
    """Not a delivery id, not a conversation reference: the request left no trace."""
    async with hoedan.store.transaction() as tx:
        assert (await tx.session.exec(select(InboundDelivery))).all() == []
        assert (await tx.session.exec(select(TeamsReference))).all() == []
    assert await hoedan.questions() == []


# Forged requests -------------------------------------------------------------------------


async def test_tokens_that_cannot_be_read_are_refused_with_401(
    sqlite_url: str, connector: FakeConnector
) -> None:
    async with running(registered(sqlite_url), connector) as hoedan:
        body = personal_message(connector, ANNA, "help")
        not_an_object = base64.urlsafe_b64encode(b"[1]").decode().rstrip("=")
        tokens = [
            "a.b.c",
            f"{_b64({'alg': 'RS256', 'kid': 'k1'})}.{not_an_object}.c2ln",
            "Bearer",
        ]
        statuses = []
        for token in tokens:
            async with hoedan.http.post(
                hoedan.messages_url, json=body, headers={"Authorization": f"Bearer {token}"}
            ) as response:
                statuses.append(response.status)
        await hoedan.settle()

        assert statuses == [401] * len(tokens)
        assert connector.requests == []
        await nothing_kept(hoedan)


async def test_a_token_without_a_key_id_is_refused_with_401_not_a_server_error(
    sqlite_url: str, connector: FakeConnector
) -> None:
    """Anyone can send such a token: it must be a 401 like every other bad token."""
    async with running(registered(sqlite_url), connector) as hoedan:
        body = personal_message(connector, ANNA, "help")
        claims = {"aud": CLIENT_ID, "iss": "https://api.botframework.com"}
        statuses = []
        for header in ({"alg": "RS256", "typ": "JWT"}, {"alg": "none"}):
            token = unsigned_jwt(header, claims)
            async with hoedan.http.post(
                hoedan.messages_url, json=body, headers={"Authorization": f"Bearer {token}"}
            ) as response:
                statuses.append(response.status)
        await hoedan.settle()

        assert connector.requests == []
        await nothing_kept(hoedan)
        assert statuses == [401, 401]


async def test_an_oversized_activity_is_refused_and_leaves_no_trace(hoedan: Running) -> None:
    """Over ``MAX_BODY_BYTES`` the body is not parsed (413); the server keeps answering."""
    body = channel_message(hoedan.connector, ANNA, "#hoedan " + "x" * (MAX_BODY_BYTES + 1))
    async with hoedan.http.post(
        hoedan.messages_url,
        data=io.BytesIO(json.dumps(body).encode()),
        headers={"Content-Type": "application/json"},
    ) as response:
        status = response.status
    await hoedan.settle()

    assert status == 413
    assert hoedan.connector.requests == []
    await nothing_kept(hoedan)
    assert (await hoedan.send(personal_message(hoedan.connector, ANNA, "help")))[0] == 202


# Markup injection --------------------------------------------------------------------------


async def test_typed_links_mentions_and_html_come_back_inert_in_a_card(hoedan: Running) -> None:
    """What Teams sends for typed markup (HTML-escaped) is kept literally, mentions nobody, and
    every card that shows it again escapes it; no card carries mention entities."""
    typed = (
        "#hoedan Hoe [klik hier](https://evil.example) &lt;at&gt;Bram&lt;/at&gt; "
        "&lt;b&gt;vet&lt;/b&gt; regelen jullie dat?"
    )
    literal = "Hoe [klik hier](https://evil.example) <at>Bram</at> <b>vet</b> regelen jullie dat?"
    await hoedan.send(channel_message(hoedan.connector, ANNA, typed))
    await hoedan.settle()
    [question] = await hoedan.questions()
    assert question.text == literal

    await hoedan.send(personal_message(hoedan.connector, ANNA, "bekijk 1"))
    await hoedan.settle()

    [shown] = [p for p in hoedan.connector.to(ANNA.personal) if "klik hier" in p.text]
    [block] = [text for text in shown.texts if "klik hier" in text]
    assert block == render_escape(literal)
    assert re.search(r"(?<!\\)[\[\]<>]", block) is None
    for posted in hoedan.connector.delivered:
        assert "entities" not in posted.body
        assert "<at>" not in json.dumps(posted.body["attachments"])


# Role escalation through a report's file-consent answer ----------------------------------


async def test_a_participant_cannot_have_the_digest_uploaded_by_a_made_up_consent_answer(
    sqlite_url: str, connector: FakeConnector
) -> None:
    """The digest is for coordinators. A changed client can send any ``fileConsent/invoke``:
    its context and upload address must be read against a consent card Hoedan sent to this
    member, as form submissions are (``TeamsAdapter._as_sent``)."""
    async with running(teams_settings(sqlite_url), connector) as hoedan:
        await hoedan.send(personal_message(connector, ANNA, "#hoedan Hoe doen jullie dat?"))
        await hoedan.settle()
        refused = await hoedan.send(personal_message(connector, ANNA, "digest"))
        await hoedan.settle()
        assert refused[0] == 202
        assert "coördinatoren" in connector.to(ANNA.personal)[-1].text
        end = utcnow()
        request = ReportRequest(
            network_slug=hoedan.service.hoedan.runtime.config.network_slug,
            start=end - timedelta(days=7),
            end=end,
            language="nl",
            timezone="Europe/Amsterdam",
            filename="digest.html",
        )
        invoke = personal_message(connector, ANNA, "", activity_id=f"f:{next_id()}")
        del invoke["text"]
        invoke.update(
            type="invoke",
            name="fileConsent/invoke",
            replyToId="1:never-sent",
            value={
                "type": "fileUpload",
                "action": "accept",
                "context": request.model_dump(mode="json"),
                "uploadInfo": {
                    "contentUrl": "https://contoso-my.sharepoint.com/personal/anna/digest.html",
                    "name": "digest.html",
                    "uploadUrl": connector.upload_url("digest.html"),
                    "uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C8C",
                    "fileType": "html",
                },
            },
        )

        status, _ = await hoedan.send(invoke)
        await hoedan.settle()

        assert status == 200
        assert connector.uploads == []


# Token exfiltration through serviceUrl -------------------------------------------------------


def accept_any_token(monkeypatch: pytest.MonkeyPatch, claims: dict[str, Any]) -> None:
    """Stand in for Microsoft's signature: every bearer token is valid with ``claims``."""

    async def validate(_self: object, token: str) -> ClaimsIdentity:
        return ClaimsIdentity(dict(claims), authentication_type="Bearer", security_token=token)

    monkeypatch.setattr(
        "bot.teams.adapter.JwtTokenValidator.validate_token", validate, raising=True
    )


async def test_a_genuine_token_naming_a_foreign_service_url_is_refused(
    sqlite_url: str,
    connector: FakeConnector,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An activity names its ``serviceUrl``, and replies (with Hoedan's Bot Connector token)
    go there. With an app registration only Microsoft's https hosts are accepted, so an
    activity naming another host is refused before anything is kept or sent."""
    accept_any_token(monkeypatch, {"aud": CLIENT_ID, "iss": "https://api.botframework.com"})
    async with running(registered(sqlite_url), connector) as hoedan:
        foreign = [
            channel_message(connector, ANNA, "#hoedan Hoe bereiken we jongeren?"),
            {**personal_message(connector, ANNA, "help"), "serviceUrl": "https://evil.example/"},
        ]
        statuses = []
        for body in foreign:
            async with hoedan.http.post(
                hoedan.messages_url, json=body, headers={"Authorization": "Bearer token"}
            ) as response:
                statuses.append(response.status)
        await hoedan.settle()

        assert statuses == [401, 401]
        assert connector.requests == []
        await nothing_kept(hoedan)

    # It was the host that was refused, not the (accepted) token.
    refusals = capsys.readouterr().err.count("is not allowed by the host validator")
    assert refusals == len(foreign)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://smba.trafficmanager.net/emea/", True),
        ("https://smba.trafficmanager.net/amer/", True),
        ("http://smba.trafficmanager.net/emea/", False),
        ("https://evil.example/", False),
        ("https://smba.trafficmanager.net.evil.example/", False),
        ("https://evilsmba.trafficmanager.net/", False),
        ("https://user:pw@smba.trafficmanager.net/", False),
        ("https://127.0.0.1/", False),
        ("https://10.0.0.5/", False),
        ("https://169.254.169.254/latest/", False),
        ("not a url", False),
    ],
)
async def test_with_an_app_registration_only_microsofts_https_hosts_may_be_called(
    sqlite_url: str, connector: FakeConnector, url: str, allowed: bool
) -> None:
    async with running(registered(sqlite_url), connector) as hoedan:
        adapter = hoedan.service.teams
        assert adapter is not None

        assert adapter.hosts.is_allowed(url) is allowed


async def test_anonymous_access_beside_an_app_registration_never_sends_the_token_elsewhere(
    sqlite_url: str, connector: FakeConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A development setting left on in production: anyone may then post activities, but the
    token must still only go to Microsoft's hosts (or the combination must be refused)."""
    try:
        settings = registered(sqlite_url, teams_anonymous_allowed=True)
    except ValidationError:
        return  # refusing the combination at start-up is a defence too
    async with running(settings, connector) as hoedan:
        adapter = hoedan.service.teams
        assert adapter is not None

        async def token() -> str:
            return STOLEN

        monkeypatch.setattr(adapter.deliverer, "_token", token)
        # No Authorization header at all; the serviceUrl is the attacker's (here: the fake).
        status, _ = await hoedan.send(personal_message(connector, ANNA, "help"))
        await hoedan.settle()

        assert status in (202, 401)
        assert [p.authorization for p in connector.requests if p.authorization] == []
