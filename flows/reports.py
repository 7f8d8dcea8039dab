"""Report files that travel with a message: what to make, not the made file.

A coordinator's digest in chat comes with the full report as a file. The outbox stores a
:class:`ReportRequest` (a few hundred bytes) instead of the file itself; the platform adapter
makes the file from the database when it delivers it (``bot.reports``), in the coordinator's
language and time zone. The period is fixed in the request, so a retry makes the same report.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from storage.enums import Platform

RECEIVE_FILES = frozenset({Platform.SLACK, Platform.CONSOLE})
"""Where a report file can be delivered. Teams needs its file-consent card first (not built
yet); its members get the message without the file rather than a failed delivery every week."""


class ReportRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    report: Literal["digest"] = "digest"
    network_slug: str
    start: datetime
    end: datetime
    language: str
    timezone: str
    filename: str
    """What the file is called where it lands, e.g. ``digest-2026-11-16-2026-11-22.html``."""
