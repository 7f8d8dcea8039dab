"""A member's answer to a report's file-consent card: the upload on accept, a word on decline.

The adapter answers the ``fileConsent/invoke`` at once; the work is done here, after. Nothing of
it reaches the runtime, whose deduplication therefore does not apply: the activity id is
recorded in ``inbound_delivery`` before anything else, so a repeated invoke never uploads twice.

On accept, the report is made from the request of the card Hoedan sent (its outbox row) and
put into the upload session Teams opened (``bot.teams.upload``); a FileInfoCard then shows it in
the member's 1:1 chat. That card, and every line Hoedan says here, goes through the outbox like
any other reply. Whatever cannot be read (an old or damaged card, an address that is not
https) gets a short answer instead of an upload.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from microsoft_agents.activity.teams import FileUploadInfo
from pydantic import ValidationError

from bot.reports import ReportMaker
from bot.teams.deliver import attachment_payload, queue_direct
from bot.teams.file_cards import file_info_attachment, texts_in
from bot.teams.inbound import answered_card, user_id_of, where
from bot.teams.upload import Uploader, UploadFailed, host_of
from flows.messages import Message, Paragraph
from flows.reports import ReportRequest
from flows.texts import Texts
from storage.enums import DeliveryKind, Platform
from storage.store import Store

log = logging.getLogger(__name__)


def _dict(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


class FileConsents:
    def __init__(
        self, store: Store, uploader: Uploader, *, network_slug: str, language: str
    ) -> None:
        self._store = store
        self._uploader = uploader
        self._reports = ReportMaker(store)
        self._network_slug = network_slug
        self._language = language
        """For an answer whose card names no language Hoedan speaks."""

    async def answer(self, activity: Mapping[str, Any]) -> None:
        activity_id = activity.get("id")
        member = user_id_of(activity)
        if not isinstance(activity_id, str) or member is None:
            return
        async with self._store.transaction() as tx:
            if not await tx.inbound.first_time(platform=Platform.TEAMS, delivery_id=activity_id):
                return
        value = _dict(activity.get("value"))
        texts = texts_in(_dict(value.get("context")).get("language"), self._language)
        reply = f"in:{Platform.TEAMS.value}:{activity_id}:file"
        if value.get("action") == "decline":
            await self._say(reply, member, texts, "teams.file_declined")
            return
        accepted = await self._accepted(activity, member, value)
        if accepted is None:
            await self._say(reply, member, texts, "teams.file_unreadable")
            return
        request, upload = accepted
        try:
            report = await self._reports.make(request)
            await self._uploader.put(upload.upload_url, report.data)
        except Exception as exc:
            # Never the exception's text for other errors: it might quote the upload address.
            why = str(exc) if isinstance(exc, UploadFailed) else type(exc).__name__
            log.warning("a report was not uploaded to %s: %s", host_of(upload.upload_url), why)
            await self._say(reply, member, texts, "teams.file_failed")
            return
        payload = attachment_payload(file_info_attachment(upload))
        await queue_direct(self._store, key=reply, member_ref=member, payload=payload)

    async def _accepted(
        self, activity: Mapping[str, Any], member: str, value: Mapping[str, Any]
    ) -> tuple[ReportRequest, FileUploadInfo] | None:
        """The report asked for and where it goes, when this is an acceptance Hoedan can use.

        Which report it is comes from the consent card as Hoedan sent it to this member (its
        outbox row, found by the 1:1 chat and the card's id), never from the answer's
        ``context``: a changed client could otherwise have any report made and uploaded.
        """
        if value.get("type") != "fileUpload" or value.get("action") != "accept":
            return None
        request = await self._card_sent(activity, member)
        if request is None:
            log.warning("a file-consent answer to no card Hoedan sent to this member")
            return None
        try:
            upload = FileUploadInfo.model_validate(value.get("uploadInfo"))
        except ValidationError:
            log.warning("a file-consent answer without a readable upload address")
            return None
        if request.network_slug != self._network_slug:
            log.warning("a file-consent card of another network was answered")
            return None
        if not self._uploader.allowed(upload.upload_url):
            log.warning("a file-consent answer named %s to upload to", host_of(upload.upload_url))
            return None
        return request, upload

    async def _card_sent(self, activity: Mapping[str, Any], member: str) -> ReportRequest | None:
        spot = where(activity)
        card = answered_card(activity)
        if spot is None or card is None:
            return None
        async with self._store.transaction() as tx:
            row = await tx.outbox.posted(
                platform=Platform.TEAMS, channel_ref=spot.conversation_id, message_ref=card
            )
        if row is None or row.kind != DeliveryKind.FILE or row.member_ref != member:
            return None
        try:
            return ReportRequest.model_validate(row.payload)
        except ValidationError:
            return None

    async def _say(self, reply: str, member: str, texts: Texts, key: str) -> None:
        notice = Message(parts=(Paragraph(text=texts.render(key)),))
        await queue_direct(
            self._store, key=reply, member_ref=member, payload=notice.model_dump(mode="json")
        )
