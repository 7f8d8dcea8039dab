"""The network's rhythm: every kind of recurring slot, fired together.

One place knows all posters, so the scheduler's job and local mode fire every kind of slot the
same way (:mod:`flows.schedules`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flows import house_rules, house_rules_room, learning_room
from flows.config import FlowConfig
from flows.digest_room import fire_due_digests
from flows.schedules import DEFAULT_GRACE, Poster, fire_due
from storage.store import Store

POSTERS: dict[str, Poster] = {
    learning_room.KIND: learning_room.post_prompt,
    house_rules.RECALL_KIND: house_rules_room.post_recall,
}


async def fire_due_schedules(
    store: Store, config: FlowConfig, *, now: datetime, grace: timedelta = DEFAULT_GRACE
) -> int:
    """Post what every slot due by ``now`` brings, and the coordinators' weekly digests;
    returns how many messages were queued."""
    posted = await fire_due(store, config, POSTERS, now=now, grace=grace)
    return posted + await fire_due_digests(store, config, now=now, grace=grace)
