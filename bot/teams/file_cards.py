"""The two cards of a report file in Teams: the question before the upload, the file after it.

A FileConsentCard asks to put a file in the member's OneDrive, and says how big it is; what it
carries as accept context comes back in the ``fileConsent/invoke`` when the member accepts
(see ``bot.teams.files``). A FileInfoCard shows the uploaded file in the chat. Both are plain
attachments built with the Agents SDK's models; neither shows anything a member typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from microsoft_agents.activity import Attachment
from microsoft_agents.activity.teams import FileConsentCard, FileInfoCard, FileUploadInfo

from bot.reports import ReportFile
from flows.reports import ReportRequest
from flows.texts import DEFAULT_LANGUAGE, LANGUAGES, Texts, texts_for

FILE_CONSENT = "fileConsent/invoke"
"""The name of the invoke Teams sends when a member accepts or declines a consent card."""
CONSENT_CARD = "application/vnd.microsoft.teams.card.file.consent"
INFO_CARD = "application/vnd.microsoft.teams.card.file.info"


def texts_in(language: object, default: str = DEFAULT_LANGUAGE) -> Texts:
    """The texts of a language a request or a card names, when Hoedan speaks it."""
    return texts_for(language if isinstance(language, str) and language in LANGUAGES else default)


def consent_activity(request: ReportRequest, report: ReportFile) -> dict[str, Any]:
    """A message with the card that asks to put ``report`` in the member's OneDrive.

    The size is the made report's: the same request made again on acceptance gives the same
    page, up to the figures that changed in between.
    """
    context = request.model_dump(mode="json")
    texts = texts_in(request.language)
    card = FileConsentCard(
        description=texts.plain("teams.file_consent", title=report.title),
        size_in_bytes=len(report.data),
        accept_context=context,
        decline_context=context,
    )
    attachment = Attachment(content_type=CONSENT_CARD, name=report.filename, content=card)
    return {"type": "message", "attachments": [_json(attachment)]}


def file_info_attachment(upload: FileUploadInfo) -> dict[str, Any]:
    """The card that shows an uploaded file in the chat; it opens from the member's OneDrive."""
    attachment = Attachment(
        content_type=INFO_CARD,
        name=upload.name,
        content_url=upload.content_url,
        content=FileInfoCard(unique_id=upload.unique_id, file_type=upload.file_type, etag=None),
    )
    return _json(attachment)


def is_consent(activity: Mapping[str, Any]) -> bool:
    return activity.get("type") == "invoke" and activity.get("name") == FILE_CONSENT


def _json(attachment: Attachment) -> dict[str, Any]:
    return attachment.model_dump(mode="json", by_alias=True, exclude_none=True)
