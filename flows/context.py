"""What a handler works with: the transaction, who and where, and a way to answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flows.config import FlowConfig
from flows.engine import FlowEngine
from flows.events import FormSubmitted, InboundEvent
from flows.messages import Form, Message, Paragraph
from flows.outbound import Home, Outbound, Privately, ToMember, ToSpace
from flows.texts import Texts
from storage.enums import Role
from storage.models import Member, Network, Space
from storage.store import Transaction


def _id(value: int | None) -> int:
    if value is None:
        raise ValueError("row has not been stored yet")
    return value


@dataclass
class Context:
    tx: Transaction
    texts: Texts
    config: FlowConfig
    network: Network
    member: Member
    role: Role
    space: Space
    event: InboundEvent
    now: datetime
    flows: FlowEngine
    """Starts and feeds the long-running flows (intervision sessions)."""
    outbound: list[Outbound] = field(default_factory=list)
    form: Form | None = None

    @property
    def network_id(self) -> int:
        return _id(self.network.id)

    @property
    def form_context(self) -> str:
        """What a form carried from where it was opened (for example the question number)."""
        return self.event.context if isinstance(self.event, FormSubmitted) else ""

    @property
    def member_id(self) -> int:
        return _id(self.member.id)

    @property
    def space_id(self) -> int:
        return _id(self.space.id)

    def reply(self, message: Message) -> None:
        """Answer the person who acted, visible only to them, where they are."""
        self.outbound.append(
            Outbound(Privately(self.space_id, self.member_id, self.event.place.thread_ref), message)
        )

    def say(self, key: str, **values: Any) -> None:
        """Reply with one catalogue text."""
        self.reply(Message(parts=(Paragraph(text=self.texts.render(key, **values)),)))

    def post(
        self, message: Message, *, thread_ref: str | None = None, subject: str | None = None
    ) -> None:
        """Say something everyone in the space sees."""
        self.outbound.append(Outbound(ToSpace(self.space_id, thread_ref), message, subject))

    def direct(self, member: Member, message: Message, *, subject: str | None = None) -> None:
        self.outbound.append(Outbound(ToMember(_id(member.id)), message, subject))

    def show_home(self, message: Message) -> None:
        """Replace the acting member's personal overview page."""
        self.outbound.append(Outbound(Home(self.member_id), message))

    def open_form(self, form: Form) -> None:
        """Ask the adapter to open a dialog for the person who acted, straight away."""
        self.form = form
