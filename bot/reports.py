"""Making the report files that the outbox delivers (:class:`flows.reports.ReportRequest`).

A platform's deliverer asks for the file when it delivers it: the outbox keeps only the request,
so a week of digests does not fill the database with copies of HTML pages, and a member's
privacy export exists only in the file they receive.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.digest_report import DigestReport
from flows import house_rules, privacy_export
from flows.digest import build
from flows.reports import ReportRequest
from flows.texts import texts_for
from storage.repositories.digest import Window
from storage.store import Store
from storage.types import utcnow


@dataclass(frozen=True)
class ReportFile:
    filename: str
    title: str
    data: bytes


class ReportMaker:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def make(self, request: ReportRequest) -> ReportFile:
        """The file a request asks for; a network that does not exist (any more) still gives
        a valid, empty report rather than an error the coordinator cannot act on."""
        if request.report == "privacy":
            return await self._privacy(request)
        renderer = DigestReport(language=request.language, timezone=request.timezone)
        window = Window(request.start, request.end)
        async with self._store.transaction() as tx:
            network = await tx.networks.by_slug(request.network_slug)
            network_id = network.id if network is not None and network.id is not None else -1
            name = network.name if network is not None else request.network_slug
            digest = await build(tx, network_id=network_id, network=name, window=window)
        data = renderer.render(digest, "html", generated_at=utcnow())
        title = f"{renderer.text('report.title', network=name)}, {renderer.period(digest)}"
        return ReportFile(filename=request.filename, title=title, data=data)

    async def _privacy(self, request: ReportRequest) -> ReportFile:
        """Everything held about the member, as it is now; none for a member who is gone or
        erased (a ValueError: the deliverer records the file as undeliverable)."""
        texts = texts_for(request.language)
        async with self._store.transaction() as tx:
            member = await tx.members.get(request.member_id) if request.member_id else None
            if member is None or member.erased_at is not None:
                raise ValueError("the member of this privacy export is no longer known")
            network = await tx.networks.by_slug(request.network_slug)
            record = await tx.privacy.record(member, consent_flow_kind=house_rules.KIND)
        name = network.name if network is not None else request.network_slug
        document = privacy_export.document(texts, record, network=name, generated_at=utcnow())
        return ReportFile(
            filename=request.filename,
            title=texts.plain("privacy.export.title"),
            data=privacy_export.as_json(document),
        )
