"""#hoedan questions: numbering per network, duplicates, Dutch search, listing and timestamps."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func
from sqlalchemy.exc import StatementError
from sqlmodel import select

from storage.database import DatabaseUrls
from storage.enums import Platform, QuestionStatus
from storage.models import Question
from storage.store import Store, Transaction

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


@dataclass(frozen=True)
class People:
    network_id: int
    asker_id: int
    other_id: int
    region_id: int


async def _people(tx: Transaction, *, slug: str = "zorgnetwerk") -> People:
    network = await tx.networks.get_or_create(slug=slug, name=slug.title())
    assert network.id is not None
    region = await tx.regions.create(network_id=network.id, name="Zuid-Limburg")
    asker = await tx.members.get_or_create(
        network_id=network.id,
        platform=Platform.SLACK,
        external_id=f"{slug}-U1",
        display_name="Anouk de Vries",
    )
    other = await tx.members.get_or_create(
        network_id=network.id,
        platform=Platform.SLACK,
        external_id=f"{slug}-U2",
        display_name="Sem Bakker",
    )
    assert region.id is not None
    assert asker.id is not None
    assert other.id is not None
    return People(network.id, asker.id, other.id, region.id)


async def _ask(
    tx: Transaction,
    people: People,
    text: str,
    *,
    at: datetime = NOW,
    asker_id: int | None = None,
    region_id: int | None = None,
) -> Question:
    return await tx.questions.add(
        network_id=people.network_id,
        asker_id=asker_id if asker_id is not None else people.asker_id,
        text=text,
        region_id=region_id,
        space_id=None,
        created_at=at,
    )


async def _numbers(store: Store, network_id: int) -> list[int]:
    async with store.transaction() as tx:
        statement = select(Question.number).where(Question.network_id == network_id)
        return sorted((await tx.session.exec(statement)).all())


# Numbering


async def test_questions_in_a_network_are_numbered_one_two_three(store: Store) -> None:
    async with store.transaction() as tx:
        people = await _people(tx)
        first = await _ask(tx, people, "Hoe regelen jullie de overdracht?")
        second = await _ask(tx, people, "Hoe plannen jullie de wijkzorg?")
    async with store.transaction() as tx:
        third = await _ask(tx, people, "Hoe werven jullie vrijwilligers?")

    assert [first.number, second.number, third.number] == [1, 2, 3]


async def test_a_second_store_on_the_same_database_continues_the_numbering(
    database: DatabaseUrls,
) -> None:
    store = Store(database)
    try:
        async with store.transaction() as tx:
            people = await _people(tx)
            for text in ("Eerste vraag", "Tweede vraag", "Derde vraag"):
                await _ask(tx, people, text)
    finally:
        await store.close()

    reopened = Store(database)
    try:
        async with reopened.transaction() as tx:
            fourth = await _ask(tx, people, "Vierde vraag")
        assert fourth.number == 4
        assert await _numbers(reopened, people.network_id) == [1, 2, 3, 4]
    finally:
        await reopened.close()


async def test_two_networks_number_their_questions_independently(store: Store) -> None:
    async with store.transaction() as tx:
        north = await _people(tx, slug="noord")
        south = await _people(tx, slug="zuid")
        north_numbers = [(await _ask(tx, north, f"Noord {i}")).number for i in range(3)]
        south_numbers = [(await _ask(tx, south, f"Zuid {i}")).number for i in range(2)]
        another_north = await _ask(tx, north, "Noord nog een")

    assert north_numbers == [1, 2, 3]
    assert south_numbers == [1, 2]
    assert another_north.number == 4


async def test_a_question_that_is_rolled_back_gives_its_number_back(store: Store) -> None:
    async with store.transaction() as tx:
        people = await _people(tx)
        await _ask(tx, people, "Eerste vraag")

    async def ask_and_abort() -> None:
        async with store.transaction() as tx:
            await _ask(tx, people, "Vraag die niet doorgaat")
            raise RuntimeError("afgebroken")

    with pytest.raises(RuntimeError, match="afgebroken"):
        await ask_and_abort()

    async with store.transaction() as tx:
        second = await _ask(tx, people, "Tweede vraag")
    assert second.number == 2


async def test_twenty_people_asking_at_once_through_two_stores_get_distinct_consecutive_numbers(
    database: DatabaseUrls,
) -> None:
    stores = [Store(database), Store(database)]
    try:
        async with stores[0].transaction() as tx:
            people = await _people(tx)

        async def ask(index: int) -> int:
            async with stores[index % 2].transaction() as tx:
                question = await _ask(tx, people, f"Vraag nummer {index}")
                return question.number

        numbers = await asyncio.gather(*(ask(index) for index in range(20)))

        assert sorted(numbers) == list(range(1, 21))
        assert await _numbers(stores[1], people.network_id) == list(range(1, 21))
        async with stores[0].transaction() as tx:
            network = await tx.networks.get_or_create(slug="zorgnetwerk", name="Zorgnetwerk")
            assert network.question_counter == 20
    finally:
        for store in stores:
            await store.close()


# Duplicates


async def test_the_same_question_asked_again_within_the_window_is_found(store: Store) -> None:
    async with store.transaction() as tx:
        people = await _people(tx)
        original = await _ask(tx, people, "Hoe regelen jullie de overdracht?", at=NOW)

    async with store.transaction() as tx:
        found = await tx.questions.same_recent(
            asker_id=people.asker_id,
            text="Hoe regelen jullie de overdracht?",
            since=NOW - timedelta(minutes=10),
        )

    assert found is not None
    assert found.id == original.id


async def test_the_same_question_from_before_the_window_is_not_a_duplicate(store: Store) -> None:
    async with store.transaction() as tx:
        people = await _people(tx)
        await _ask(tx, people, "Hoe regelen jullie de overdracht?", at=NOW - timedelta(hours=2))

    async with store.transaction() as tx:
        found = await tx.questions.same_recent(
            asker_id=people.asker_id,
            text="Hoe regelen jullie de overdracht?",
            since=NOW - timedelta(minutes=10),
        )

    assert found is None


async def test_a_different_text_or_a_different_asker_is_not_a_duplicate(store: Store) -> None:
    async with store.transaction() as tx:
        people = await _people(tx)
        await _ask(tx, people, "Hoe regelen jullie de overdracht?", at=NOW)

    async with store.transaction() as tx:
        since = NOW - timedelta(minutes=10)
        other_text = await tx.questions.same_recent(
            asker_id=people.asker_id, text="Hoe regelen jullie de nachtzorg?", since=since
        )
        other_asker = await tx.questions.same_recent(
            asker_id=people.other_id, text="Hoe regelen jullie de overdracht?", since=since
        )

    assert other_text is None
    assert other_asker is None


async def test_a_withdrawn_question_may_be_asked_again(store: Store) -> None:
    async with store.transaction() as tx:
        people = await _people(tx)
        question = await _ask(tx, people, "Hoe regelen jullie de overdracht?", at=NOW)
        question.status = QuestionStatus.WITHDRAWN

    async with store.transaction() as tx:
        found = await tx.questions.same_recent(
            asker_id=people.asker_id,
            text="Hoe regelen jullie de overdracht?",
            since=NOW - timedelta(minutes=10),
        )

    assert found is None


# Search


async def _search(store: Store, people: People, query: str) -> list[int]:
    async with store.transaction() as tx:
        views = await tx.questions.search(network_id=people.network_id, query=query, limit=10)
    return [view.question.number for view in views]


async def test_search_finds_other_forms_of_a_dutch_word(store: Store) -> None:
    async with store.transaction() as tx:
        people = await _people(tx)
        await _ask(tx, people, "Hoe organiseren jullie de samenwerking met huisartsen?")
        await _ask(tx, people, "Wie heeft een goed rooster voor de nachtdienst?")

    assert await _search(store, people, "samenwerken") == [1]
    assert await _search(store, people, "Samenwerkingen") == [1]
    assert await _search(store, people, "huisarts") == [1]


async def test_search_ignores_accents_and_case(store: Store) -> None:
    async with store.transaction() as tx:
        people = await _people(tx)
        await _ask(tx, people, "Wie doet bij jullie de coördinatie van de wijkteams?")

    assert await _search(store, people, "coordinatie") == [1]
    assert await _search(store, people, "COÖRDINATIE") == [1]


async def test_search_finds_compounds_that_start_with_the_searched_word(store: Store) -> None:
    async with store.transaction() as tx:
        people = await _people(tx)
        await _ask(tx, people, "Hoe onderhandelen jullie met de zorgverzekeraar?")

    assert await _search(store, people, "zorg") == [1]


async def test_search_ignores_stop_words(store: Store) -> None:
    async with store.transaction() as tx:
        people = await _people(tx)
        await _ask(tx, people, "Hoe organiseren jullie de samenwerking met huisartsen?")
        await _ask(tx, people, "Wat is de beste aanpak voor de wachtlijst?")

    assert await _search(store, people, "Wat is de samenwerking?") == [1]


async def test_a_query_of_only_stop_words_finds_nothing(store: Store) -> None:
    async with store.transaction() as tx:
        people = await _people(tx)
        await _ask(tx, people, "Hoe doen we dat met de overdracht?")

    assert await _search(store, people, "hoe doen we dat") == []
    assert await _search(store, people, "  ?! ") == []


async def test_questions_sharing_more_stems_come_first_then_the_newest(store: Store) -> None:
    async with store.transaction() as tx:
        people = await _people(tx)
        await _ask(tx, people, "Hoe organiseren jullie de samenwerking met huisartsen?")
        await _ask(tx, people, "Samenwerking met de gemeente, hoe pakken jullie dat aan?")
        await _ask(tx, people, "Werken jullie al samen met de gemeente aan valpreventie?")
        await _ask(tx, people, "Samenwerken in de wijk: wie heeft tips?")

    # 1 shares "samenwerk" and "huisarts"; 2 and 4 share only "samenwerk"; 3 shares neither.
    assert await _search(store, people, "samenwerken met huisartsen") == [1, 4, 2]


async def test_search_skips_withdrawn_questions_but_keeps_answered_ones(store: Store) -> None:
    async with store.transaction() as tx:
        people = await _people(tx)
        withdrawn = await _ask(tx, people, "Hoe regelen jullie de overdracht?")
        answered = await _ask(tx, people, "Overdracht in het weekend, hoe doen jullie dat?")
        await _ask(tx, people, "Overdracht naar de thuiszorg")
        withdrawn.status = QuestionStatus.WITHDRAWN
        answered.status = QuestionStatus.ANSWERED

    assert await _search(store, people, "overdracht") == [3, 2]


async def test_search_stays_within_the_network(store: Store) -> None:
    async with store.transaction() as tx:
        north = await _people(tx, slug="noord")
        south = await _people(tx, slug="zuid")
        await _ask(tx, north, "Hoe regelen jullie de overdracht?")

    assert await _search(store, north, "overdracht") == [1]
    assert await _search(store, south, "overdracht") == []


async def test_search_respects_the_limit(store: Store) -> None:
    async with store.transaction() as tx:
        people = await _people(tx)
        for index in range(5):
            await _ask(tx, people, f"Overdracht variant {index}")

    async with store.transaction() as tx:
        views = await tx.questions.search(network_id=people.network_id, query="overdracht", limit=2)

    assert [view.question.number for view in views] == [5, 4]


# Listing


async def test_open_questions_come_with_the_names_of_asker_and_region_newest_first(
    store: Store,
) -> None:
    async with store.transaction() as tx:
        people = await _people(tx)
        await _ask(tx, people, "Met regio", region_id=people.region_id)
        await _ask(tx, people, "Zonder regio", asker_id=people.other_id)
        closed = await _ask(tx, people, "Al gesloten")
        closed.status = QuestionStatus.CLOSED

    async with store.transaction() as tx:
        views = await tx.questions.open_questions(network_id=people.network_id, limit=10)
        open_count = await tx.questions.count_open(network_id=people.network_id)

    assert [(v.question.text, v.asker_name, v.region_name) for v in views] == [
        ("Zonder regio", "Sem Bakker", None),
        ("Met regio", "Anouk de Vries", "Zuid-Limburg"),
    ]
    assert open_count == 2


# Timestamps


async def test_timestamps_come_back_as_aware_utc_for_the_same_moment(store: Store) -> None:
    amsterdam_summer = timezone(timedelta(hours=2))
    asked_at = datetime(2025, 7, 1, 14, 15, 30, 123456, tzinfo=amsterdam_summer)
    async with store.transaction() as tx:
        people = await _people(tx)
        await _ask(tx, people, "Hoe regelen jullie de overdracht?", at=asked_at)

    async with store.transaction() as tx:
        question = await tx.questions.by_number(network_id=people.network_id, number=1)

    assert question is not None
    assert question.created_at.tzinfo is UTC
    assert question.created_at == asked_at
    assert question.created_at.hour == 12
    assert question.updated_at == asked_at


async def test_comparisons_in_queries_use_the_utc_moment(store: Store) -> None:
    # Asked at 11:00 on a UTC+2 clock, which is 09:00 UTC: inside a window from 08:30 UTC,
    # outside one from 09:30 UTC.
    asked_at = datetime(2025, 7, 1, 11, 0, tzinfo=timezone(timedelta(hours=2)))
    async with store.transaction() as tx:
        people = await _people(tx)
        await _ask(tx, people, "Hoe regelen jullie de overdracht?", at=asked_at)

    async with store.transaction() as tx:
        inside = await tx.questions.same_recent(
            asker_id=people.asker_id,
            text="Hoe regelen jullie de overdracht?",
            since=datetime(2025, 7, 1, 8, 30, tzinfo=UTC),
        )
        outside = await tx.questions.same_recent(
            asker_id=people.asker_id,
            text="Hoe regelen jullie de overdracht?",
            since=datetime(2025, 7, 1, 9, 30, tzinfo=UTC),
        )

    assert inside is not None
    assert outside is None


async def test_a_naive_datetime_is_refused_and_nothing_is_stored(store: Store) -> None:
    async with store.transaction() as tx:
        people = await _people(tx)

    with pytest.raises(StatementError, match="naive datetime"):
        async with store.transaction() as tx:
            await _ask(tx, people, "Hoe laat is het?", at=datetime(2025, 3, 14, 9, 30))

    async with store.transaction() as tx:
        count = (await tx.session.exec(select(func.count()).select_from(Question))).one()
    assert count == 0
