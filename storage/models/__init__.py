"""All tables of Hoedan's domain; importing this package registers them on ``SQLModel.metadata``."""

from storage.models.delivery import FlowInstance, InboundDelivery, OutboxMessage
from storage.models.exchange import Answer, Invitation, Outcome, Question, QuestionTheme
from storage.models.house_rules import (
    HouseRuleAcknowledgement,
    HouseRuleObjection,
    HouseRuleSet,
    HouseRuleVersion,
)
from storage.models.intervision import (
    IntervisionContribution,
    IntervisionParticipant,
    IntervisionSession,
    Lesson,
)
from storage.models.network import (
    Coalition,
    Member,
    Network,
    Region,
    RoleChange,
    Space,
    SpaceMember,
)
from storage.models.rhythm import (
    Digest,
    DigestPreference,
    LearningPrompt,
    Post,
    ReflectionAnswer,
    ReflectionParticipation,
    ReflectionRound,
    Response,
    Schedule,
)
from storage.models.teams import TeamsReference

__all__ = [
    "Answer",
    "Coalition",
    "Digest",
    "DigestPreference",
    "FlowInstance",
    "HouseRuleAcknowledgement",
    "HouseRuleObjection",
    "HouseRuleSet",
    "HouseRuleVersion",
    "InboundDelivery",
    "IntervisionContribution",
    "IntervisionParticipant",
    "IntervisionSession",
    "Invitation",
    "LearningPrompt",
    "Lesson",
    "Member",
    "Network",
    "OutboxMessage",
    "Outcome",
    "Post",
    "Question",
    "QuestionTheme",
    "ReflectionAnswer",
    "ReflectionParticipation",
    "ReflectionRound",
    "Region",
    "Response",
    "RoleChange",
    "Schedule",
    "Space",
    "SpaceMember",
    "TeamsReference",
]
