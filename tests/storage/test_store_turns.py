"""Transactions take turns: many concurrent writers all succeed; nesting is refused loudly."""

from __future__ import annotations

import asyncio

import pytest

from storage.enums import Platform
from storage.store import NestedTransactionError, Store


async def test_a_burst_of_concurrent_writers_all_get_their_turn(store: Store) -> None:
    async def first_time(number: int) -> bool:
        async with store.transaction() as tx:
            return await tx.inbound.first_time(platform=Platform.SLACK, delivery_id=f"Ev{number}")

    results = await asyncio.gather(*(first_time(n) for n in range(300)))

    assert results == [True] * 300


async def test_a_transaction_inside_a_transaction_is_refused(store: Store) -> None:
    async with store.transaction():
        with pytest.raises(NestedTransactionError):
            async with store.transaction():
                pass

    async with store.transaction() as tx:  # the store is usable afterwards
        assert await tx.inbound.first_time(platform=Platform.SLACK, delivery_id="after")
