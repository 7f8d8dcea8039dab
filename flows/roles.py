"""Roles, checked in one place: who may do what, and who may grant which role."""

from __future__ import annotations

from flows.errors import NotAllowed
from storage.enums import Platform, Role
from storage.models import Member
from storage.repositories.members import name_key

ROLE_WORDS: dict[str, Role] = {
    "deelnemer": Role.PARTICIPANT,
    "participant": Role.PARTICIPANT,
    "coach": Role.COACH,
    "coordinator": Role.COORDINATOR,
    "coördinator": Role.COORDINATOR,
    "coordinater": Role.COORDINATOR,
    "admin": Role.ADMIN,
    "beheerder": Role.ADMIN,
}


def parse_role(word: str) -> Role | None:
    return ROLE_WORDS.get(word.strip().lower())


def is_configured_admin(member: Member, admins: frozenset[str]) -> bool:
    """Admins come from HOEDAN_ADMINS: platform user ids, or member names in local mode."""
    if member.external_id in admins:
        return True
    if member.platform == Platform.CONSOLE:
        return member.name_key in {name_key(admin) for admin in admins}
    return False


def effective_role(member: Member, admins: frozenset[str]) -> Role:
    if is_configured_admin(member, admins):
        return Role.ADMIN
    return Role(member.role)


def has_role(actual: Role, needed: Role) -> bool:
    """Each role includes the powers of the roles below it."""
    return actual.rank >= needed.rank


def require(actual: Role, needed: Role, *, key: str = "roles.needed") -> None:
    if not has_role(actual, needed):
        raise NotAllowed(key, needed=needed.value)


def may_steer(actual: Role, *, is_facilitator: bool) -> bool:
    """An intervision is steered by its facilitator; a coordinator may step in (a facilitator
    who dropped out should not leave a session stuck)."""
    return is_facilitator or has_role(actual, Role.COORDINATOR)


def may_grant(granter: Role, target_current: Role, new_role: Role) -> bool:
    """Admins grant any role; coordinators grant coach and participant to those below them."""
    if granter is Role.ADMIN:
        return True
    if granter is Role.COORDINATOR:
        return new_role.rank < Role.COORDINATOR.rank and target_current.rank < granter.rank
    return False


def may_erase(actor_id: int, member_id: int) -> bool:
    """In chat, only members themselves confirm that Hoedan forgets them: no role reaches into
    someone else's erasure. An admin erases on the machine (``hoedan privacy erase``), where
    access to the machine is the permission."""
    return actor_id == member_id
