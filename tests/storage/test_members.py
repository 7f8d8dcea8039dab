"""Members and spaces: created on first contact, found by name, never too wide for a column."""

from __future__ import annotations

from datetime import timedelta

from storage.enums import Platform, Role, SpaceKind
from storage.repositories.members import LAST_SEEN_PRECISION, NAME_CHARS
from storage.store import Store
from storage.types import utcnow

LAST_SEEN_PRECISION_MINUTES = int(LAST_SEEN_PRECISION.total_seconds() // 60)


async def test_a_platform_name_longer_than_the_column_is_cut_visibly(store: Store) -> None:
    long_name = "Anna " + "van " * 100 + "Dijk"

    async with store.transaction() as tx:
        network = await tx.networks.get_or_create(slug="n", name="N")
        assert network.id is not None
        member = await tx.members.get_or_create(
            network_id=network.id, platform=Platform.SLACK, external_id="U1", display_name=long_name
        )
        space = await tx.spaces.get_or_create(
            network_id=network.id,
            platform=Platform.SLACK,
            external_id="C1",
            name="#" + "x" * 400,
            kind=SpaceKind.CHANNEL,
        )

    async with store.transaction() as tx:
        stored = await tx.members.by_external_id(platform=Platform.SLACK, external_id="U1")
        stored_space = await tx.spaces.get(space.id or 0)
    assert stored is not None
    assert stored_space is not None
    assert len(stored.display_name) == NAME_CHARS
    assert stored.display_name.endswith("…")
    assert len(stored_space.name) == NAME_CHARS
    assert member.role == Role.PARTICIPANT


async def test_members_are_found_by_name_regardless_of_case_and_accents(store: Store) -> None:
    async with store.transaction() as tx:
        network = await tx.networks.get_or_create(slug="n", name="N")
        assert network.id is not None
        await tx.members.get_or_create(
            network_id=network.id,
            platform=Platform.CONSOLE,
            external_id="zoe",
            display_name="Zoë Jansen",
        )

    async with store.transaction() as tx:
        found = await tx.members.find(
            network_id=network.id, platform=Platform.CONSOLE, reference="@zoe jansen"
        )
    assert [member.display_name for member in found] == ["Zoë Jansen"]


async def test_a_region_name_whose_folded_form_is_longer_still_fits(store: Store) -> None:
    name = "\ufdfa" * 20  # one character that unfolds into eighteen

    async with store.transaction() as tx:
        network = await tx.networks.get_or_create(slug="n", name="N")
        assert network.id is not None
        region = await tx.regions.create(network_id=network.id, name=name)

    async with store.transaction() as tx:
        assert (await tx.regions.by_name(network_id=network.id, name=name)) == region


async def test_last_seen_is_written_only_when_it_has_gone_stale(store: Store) -> None:
    """A busy member costs no write per message; an absent one is still dated correctly."""

    async def seen_after(minutes_ago: int) -> timedelta:
        async with store.transaction() as tx:
            member = await tx.members.by_external_id(platform=Platform.SLACK, external_id="U9")
            assert member is not None
            member.last_seen_at = earlier = utcnow() - timedelta(minutes=minutes_ago)
        async with store.transaction() as tx:
            again = await tx.members.get_or_create(
                network_id=network_id, platform=Platform.SLACK, external_id="U9", display_name="B"
            )
        assert again.last_seen_at >= earlier
        return again.last_seen_at - earlier

    async with store.transaction() as tx:
        network = await tx.networks.get_or_create(slug="n", name="N")
        assert network.id is not None
        network_id = network.id
        await tx.members.get_or_create(
            network_id=network_id, platform=Platform.SLACK, external_id="U9", display_name="B"
        )

    assert await seen_after(LAST_SEEN_PRECISION_MINUTES - 1) == timedelta(0)
    assert await seen_after(LAST_SEEN_PRECISION_MINUTES + 1) > timedelta(minutes=10)
