"""Report files that travel with a message: what to make, not the made file.

A coordinator's digest in chat comes with the full report as a file, and ``mijngegevens`` with
everything Hoedan holds about the member as JSON. The outbox stores a :class:`ReportRequest`
(a few hundred bytes) instead of the file itself; the platform adapter makes the file from the
database when it delivers it (``bot.reports``), in the reader's language and time zone. So the
outbox never keeps a copy of a member's personal data. A digest's period is fixed in the
request, so a retry makes the same report; a privacy export shows what is held when it is made.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from storage.enums import Platform

RECEIVE_FILES = frozenset({Platform.SLACK, Platform.CONSOLE, Platform.TEAMS})
"""Where a report file can be delivered. On Teams it comes as a file-consent card: the member
accepts and the file lands in their OneDrive. A platform not listed gets the message without
the file (which then says where the report comes from) rather than a failed delivery."""


class ReportRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    report: Literal["digest", "privacy"] = "digest"
    network_slug: str
    start: datetime
    end: datetime
    """The period reported on; for a privacy export, from the member's first contact until
    it was asked for (informative: the file holds what is stored when it is made)."""
    language: str
    timezone: str
    filename: str
    """What the file is called where it lands, e.g. ``digest-2026-11-16-2026-11-22.html``."""
    member_id: int | None = None
    """Whose data a privacy export holds (always the member it is delivered to)."""
