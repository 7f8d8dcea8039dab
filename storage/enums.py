"""Closed sets of values that are stored as text.

Stored as plain strings (not database enum types) so that adding a value never needs a schema
migration on PostgreSQL.
"""

from __future__ import annotations

from enum import StrEnum


class Platform(StrEnum):
    CONSOLE = "console"
    SLACK = "slack"
    TEAMS = "teams"


class Role(StrEnum):
    """A member's role; each role includes the powers of the ones before it."""

    PARTICIPANT = "participant"
    COACH = "coach"
    COORDINATOR = "coordinator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)


class SpaceKind(StrEnum):
    CHANNEL = "channel"
    GROUP = "group"
    DIRECT = "direct"


class QuestionStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class HouseRuleStatus(StrEnum):
    PROPOSED = "proposed"
    ADOPTED = "adopted"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    """Claimed by one dispatcher until ``next_attempt_at`` (its lease); then anyone's again."""
    SENT = "sent"
    FAILED = "failed"


class DeliveryKind(StrEnum):
    """How an outbound message reaches people."""

    POST = "post"
    DIRECT = "direct"
    GROUP = "group"
    """A private group conversation of some members (Slack's multi-person DM).

    ``member_ref`` lists the members' platform ids joined by ","; ``channel_ref`` starts as the
    group's stable name and becomes the platform's own conversation id once delivered.
    """
    EPHEMERAL = "ephemeral"
    HOME = "home"
    """A member's personal overview page (Slack's App Home tab); replaced, never appended."""
    FILE = "file"
    """A report file for one member (``member_ref``), made only when it is delivered: the
    payload says which report (:class:`flows.reports.ReportRequest`), not what is in it."""
