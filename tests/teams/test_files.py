"""Report files in Teams without a server: the cards' shape and which upload addresses are used."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from microsoft_agents.activity.teams import FileUploadInfo

from bot.reports import ReportFile
from bot.teams.file_cards import CONSENT_CARD, INFO_CARD, consent_activity, file_info_attachment
from bot.teams.upload import host_of, upload_allowed
from flows.reports import ReportRequest

REQUEST = ReportRequest(
    network_slug="landelijk",
    start=datetime(2026, 11, 13, 15, tzinfo=UTC),
    end=datetime(2026, 11, 20, 15, tzinfo=UTC),
    language="en",
    timezone="Europe/Amsterdam",
    filename="digest-2026-11-13-2026-11-20.html",
)
REPORT = ReportFile(
    filename=REQUEST.filename, title="Digest of Zorgnetwerk", data=b"<!DOCTYPE html>\n<p>x</p>"
)


def test_the_consent_card_names_the_file_its_size_and_carries_the_request() -> None:
    activity = consent_activity(REQUEST, REPORT)

    [attachment] = activity["attachments"]
    assert activity["type"] == "message"
    assert attachment["contentType"] == CONSENT_CARD
    assert attachment["name"] == "digest-2026-11-13-2026-11-20.html"
    content = attachment["content"]
    assert content["sizeInBytes"] == len(REPORT.data)
    assert content["description"] == (
        "Digest of Zorgnetwerk: if you allow it, I will put this file in your OneDrive."
    )
    assert ReportRequest.model_validate(content["acceptContext"]) == REQUEST
    assert set(content) == {"description", "sizeInBytes", "acceptContext", "declineContext"}


def test_a_request_in_a_language_hoedan_does_not_speak_gets_a_dutch_card() -> None:
    activity = consent_activity(REQUEST.model_copy(update={"language": "fr"}), REPORT)

    description = activity["attachments"][0]["content"]["description"]
    assert description.endswith("dan zet ik dit bestand in je OneDrive.")


def test_the_file_info_card_points_at_the_uploaded_file() -> None:
    upload = FileUploadInfo(
        name="digest 1.html",
        upload_url="https://contoso-my.sharepoint.com/upload?tempauth=x",
        content_url="https://contoso-my.sharepoint.com/personal/a/Documents/digest 1.html",
        unique_id="ABC",
        file_type="html",
    )

    assert file_info_attachment(upload) == {
        "contentType": INFO_CARD,
        "contentUrl": "https://contoso-my.sharepoint.com/personal/a/Documents/digest 1.html",
        "name": "digest 1.html",
        "content": {"uniqueId": "ABC", "fileType": "html"},
    }


@pytest.mark.parametrize(
    ("url", "anonymous", "allowed"),
    [
        ("https://contoso-my.sharepoint.com/_api/v2.0/uploadSession?tempauth=x", False, True),
        ("https://contoso-my.sharepoint.com/_api/v2.0/uploadSession?tempauth=x", True, True),
        ("http://127.0.0.1:8080/upload/x.html", True, True),
        ("http://localhost/upload/x.html", True, True),
        ("http://127.0.0.1:8080/upload/x.html", False, False),
        ("http://contoso-my.sharepoint.com/upload", True, False),
        ("ftp://127.0.0.1/upload", True, False),
        ("https:///no-host", False, False),
        ("/upload/x.html", True, False),
        ("http://[::1/broken", True, False),
    ],
)
def test_only_https_or_loopback_in_local_development_is_uploaded_to(
    url: str, anonymous: bool, allowed: bool
) -> None:
    assert upload_allowed(url, anonymous=anonymous) is allowed


def test_only_the_host_of_an_upload_address_is_shown() -> None:
    assert host_of("https://contoso-my.sharepoint.com/p/x?tempauth=secret") == (
        "contoso-my.sharepoint.com"
    )
    assert host_of("http://[::1/broken") == "?"
