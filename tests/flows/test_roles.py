"""Roles: who counts as what, and who may hand out which role."""

from __future__ import annotations

import pytest

from flows.errors import NotAllowed
from flows.roles import effective_role, has_role, may_grant, parse_role, require
from storage.enums import Platform, Role
from storage.models import Member
from storage.repositories.members import name_key

P, C, K, A = Role.PARTICIPANT, Role.COACH, Role.COORDINATOR, Role.ADMIN


def member(
    name: str,
    *,
    role: Role = Role.PARTICIPANT,
    platform: Platform = Platform.CONSOLE,
    external_id: str | None = None,
) -> Member:
    return Member(
        network_id=1,
        platform=platform,
        external_id=external_id or name_key(name),
        display_name=name,
        name_key=name_key(name),
        role=role,
    )


def test_roles_are_ordered_from_participant_to_admin() -> None:
    assert [role.rank for role in (P, C, K, A)] == [0, 1, 2, 3]
    assert has_role(A, K)
    assert has_role(K, C)
    assert has_role(C, C)
    assert not has_role(C, K)
    assert not has_role(P, C)


def test_require_refuses_a_role_that_is_too_low_and_names_the_needed_role() -> None:
    require(K, C)
    with pytest.raises(NotAllowed) as refused:
        require(P, K)
    assert refused.value.key == "roles.needed"
    assert refused.value.values == {"needed": "coordinator"}


def test_a_member_who_is_not_a_configured_admin_has_their_stored_role() -> None:
    assert effective_role(member("Anna", role=C), frozenset({"Beheer"})) is C
    assert effective_role(member("Anna"), frozenset()) is P


def test_a_platform_admin_is_recognised_by_platform_id() -> None:
    slack_admin = member("Ilse", platform=Platform.SLACK, external_id="U0ADMIN")
    assert effective_role(slack_admin, frozenset({"U0ADMIN"})) is A


def test_on_a_chat_platform_a_display_name_does_not_make_someone_admin() -> None:
    impostor = member("Beheer", platform=Platform.SLACK, external_id="U0IMPOSTOR")
    assert effective_role(impostor, frozenset({"Beheer"})) is P


@pytest.mark.parametrize("typed_name", ["José Peña", "jose pena", "JOSÉ  PEÑA", " Jose Pena "])
def test_in_console_mode_admins_are_names_compared_without_case_or_accents(
    typed_name: str,
) -> None:
    assert effective_role(member("Jose Peña"), frozenset({typed_name})) is A


def test_in_console_mode_a_different_name_is_no_admin() -> None:
    assert effective_role(member("Josefien"), frozenset({"José"})) is P


def test_a_configured_admin_is_admin_whatever_role_is_stored() -> None:
    assert effective_role(member("Beheer", role=C), frozenset({"Beheer"})) is A


@pytest.mark.parametrize("target", [P, C, K, A])
@pytest.mark.parametrize("new_role", [P, C, K, A])
def test_an_admin_may_grant_any_role_to_anyone(target: Role, new_role: Role) -> None:
    assert may_grant(A, target, new_role)


@pytest.mark.parametrize(
    ("target", "new_role"),
    [(P, C), (C, P), (P, P), (C, C)],
)
def test_a_coordinator_may_make_participants_and_coaches_coach_or_participant(
    target: Role, new_role: Role
) -> None:
    assert may_grant(K, target, new_role)


@pytest.mark.parametrize("target", [P, C])
@pytest.mark.parametrize("new_role", [K, A])
def test_a_coordinator_cannot_make_someone_coordinator_or_admin(
    target: Role, new_role: Role
) -> None:
    assert not may_grant(K, target, new_role)


@pytest.mark.parametrize("target", [K, A])
@pytest.mark.parametrize("new_role", [P, C])
def test_a_coordinator_cannot_demote_another_coordinator_or_an_admin(
    target: Role, new_role: Role
) -> None:
    assert not may_grant(K, target, new_role)


@pytest.mark.parametrize("granter", [P, C])
@pytest.mark.parametrize("new_role", [P, C, K, A])
def test_participants_and_coaches_grant_nothing(granter: Role, new_role: Role) -> None:
    assert not may_grant(granter, P, new_role)


@pytest.mark.parametrize(
    ("word", "role"),
    [
        ("deelnemer", P),
        ("participant", P),
        ("coach", C),
        ("coordinator", K),
        ("coördinator", K),
        ("Coördinator", K),
        ("admin", A),
        ("beheerder", A),
        ("  BEHEERDER ", A),
    ],
)
def test_role_words_in_dutch_and_english_are_understood(word: str, role: Role) -> None:
    assert parse_role(word) is role


@pytest.mark.parametrize("word", ["chef", "", "co", "admins"])
def test_unknown_role_words_are_not_guessed(word: str) -> None:
    assert parse_role(word) is None
