"""Forgetting on a schedule: intervisions past their retention period, and farewells delivered.

What was said in an intervision is meant for the session; the case owner took the record home
by direct message. ``intervision_retention_days`` after a session ended (90 by default,
``HOEDAN_RETENTION_INTERVISION_DAYS``; 0 keeps everything), Hoedan deletes what was said in it,
the lessons not marked "mag gedeeld worden", its running state with the names in it, and the
messages it sent about it. Kept: that the session took place (method, place, group size) and
the shared lessons, without their author.

The same job removes the last message to erased members once it was delivered (see
:mod:`flows.privacy`), and the ids of platform deliveries older than :data:`INBOUND_KEPT`
(kept only to recognise a retry). Each session is forgotten in its own transaction; a job that
runs twice, or in two processes, finds nothing left the second time.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flows import intervision
from flows.config import FlowConfig
from storage.store import Store

log = logging.getLogger(__name__)

INBOUND_KEPT = timedelta(days=7)
"""How long a platform delivery's id is remembered. Slack retries for about an hour and the
Bot Connector for minutes; a week leaves room for an outage on either side."""


async def apply_retention(store: Store, config: FlowConfig, *, now: datetime) -> int:
    """Forget what is due by ``now``; returns how many sessions and farewells were handled."""
    async with store.transaction() as tx:
        handled = await tx.erasure.finish_farewells()
        pruned = await tx.inbound.forget_before(now - INBOUND_KEPT)
    if pruned:
        log.info("forgot %s platform delivery ids older than %s", pruned, INBOUND_KEPT)
    if config.intervision_retention_days <= 0:
        return handled
    cutoff = now - timedelta(days=config.intervision_retention_days)
    async with store.transaction() as tx:
        due = [row.id for row in await tx.erasure.sessions_past(cutoff) if row.id is not None]
    for session_id in due:
        async with store.transaction() as tx:
            row = await tx.intervision.get(session_id)
            if row is None:
                continue
            forgotten = await tx.erasure.forget_session(
                row, subject=intervision.subject(session_id)
            )
        log.info("intervision %s is past its retention period: forgot %s", session_id, forgotten)
        handled += 1
    return handled
