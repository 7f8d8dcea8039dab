"""One year of a busy network for ``bench.digest``, bulk-loaded into a fresh database.

:func:`load` writes what a network of 50 coalitions (Slack channels, each a ``Space`` of kind
channel with its ``Coalition``) in 12 regions with 1,500 members records in a year: who has
been seen in which channel, questions and their answers (many from another region), the
weekly learning prompt of most coalitions with the members' responses, intervision sessions
with their participants, contributions and lessons (some shareable), closed reflection rounds
with participations and scored answers (anonymous rounds without a member), house-rule sets
whose versions were adopted and acknowledged, and the outbox messages all of this sent, a few
of which failed for good: about 230,000 rows. :data:`QUICK` (10 coalitions in 4 regions,
300 members) makes about 32,000.

Activity varies as it does in a real network: every coalition has its own level, summer and
Christmas are quiet, some coalitions start during the year, one falls silent early in the year
and a few in its last months (the digest's *silent* signal; the channel of one of those is
archived later, so posts to it fail), and in a few the learning-prompt answer rate falls in
each of the last four weeks (*falling answers*). Unanswered questions pile up (*waiting*), and
some members first seen in the last weeks of a coalition with house rules have not
acknowledged them (*newcomers*).

Rows go in with SQLAlchemy Core ``insert()`` and lists of a few thousand dicts, in one
transaction, parents before children. Ids are assigned here (the database is fresh), and
everything comes from one seeded ``random.Random``: a seed gives the same rows every time. The
question search index (``question_search``) stays empty, as the digest does not read it. On
PostgreSQL the id sequences are moved past the loaded ids and the tables are vacuumed and
analysed afterwards, as autovacuum soon would; SQLite is left as Hoedan leaves it (no
``ANALYZE``).
"""

from __future__ import annotations

import bisect
import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, create_engine, insert, text
from sqlmodel import SQLModel

from bench._matcher_data import ANSWER_DETAILS, Generator
from flows.intervision_methods import all_methods
from flows.learning_prompts import all_prompts
from flows.reflection_templates import QuestionKind, Template, template
from storage.database import DatabaseUrls, create_sync_db_engine
from storage.enums import (
    DeliveryKind,
    HouseRuleStatus,
    OutboxStatus,
    Platform,
    QuestionStatus,
    Role,
    SpaceKind,
)
from storage.search import search_document

END = datetime(2026, 1, 5, tzinfo=UTC)
"""The end of the generated year (a Monday, midnight UTC); fixed, so runs compare."""
YEAR = timedelta(days=365)
WEEK = timedelta(days=7)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
BATCH = 5000
"""Rows per ``insert()``."""

TABLES = (
    "network",
    "region",
    "coalition",
    "space",
    "member",
    "space_member",
    "question",
    "answer",
    "schedule",
    "post",
    "response",
    "intervision_session",
    "intervision_participant",
    "intervision_contribution",
    "lesson",
    "reflection_round",
    "reflection_participation",
    "reflection_answer",
    "house_rule_set",
    "house_rule_version",
    "house_rule_acknowledgement",
    "outbox_message",
)
"""The tables filled, parents before children (the order rows are inserted in)."""


@dataclass(frozen=True)
class Shape:
    """How big the network is and how busy an average coalition is."""

    coalitions: int
    regions: int
    members: int
    questions_per_week: float = 6.0
    """New questions a week in a coalition of average activity."""
    loose_share: float = 0.08
    """Share of questions asked outside any channel (to Hoedan directly)."""
    sessions_per_week: float = 0.6
    """Intervision sessions a week in an average coalition that holds them."""


FULL = Shape(coalitions=50, regions=12, members=1500)
QUICK = Shape(coalitions=10, regions=4, members=300)


@dataclass
class Year:
    """What was loaded: where, for which period, how many rows per table."""

    network_id: int
    network: str
    start: datetime
    end: datetime
    counts: dict[str, int]
    seconds: float
    silent: list[str]
    """The coalitions made to fall silent (the digest should find them, and maybe more)."""
    falling: list[str]
    """The coalitions whose prompt answer rate was made to fall in each of the last weeks."""

    @property
    def total(self) -> int:
        return sum(self.counts.values())


REGION_NAMES = (
    "Twente",
    "Zuid-Limburg",
    "Drenthe",
    "Friesland",
    "Groningen",
    "Achterhoek",
    "West-Brabant",
    "Zeeland",
    "Amsterdam-Amstelland",
    "Rotterdam Rijnmond",
    "Utrecht Stad",
    "Noord-Holland Noord",
)
THEMES = (
    "valpreventie",
    "eenzaamheid",
    "kansrijke-start",
    "mantelzorg",
    "ggz-in-de-wijk",
    "dementie",
    "gezonde-school",
    "leefstijl",
    "armoede-en-gezondheid",
    "jeugd",
    "wijkverpleging",
    "langer-thuis",
    "welzijn-op-recept",
    "positieve-gezondheid",
    "eerste-lijn",
    "sport-en-bewegen",
    "laaggeletterdheid",
    "schulden",
    "wonen-en-zorg",
    "palliatieve-zorg",
)
FIRST_NAMES = (
    "Anna", "Bram", "Carla", "Daan", "Eva", "Fatima", "Gert", "Hanneke", "Ilse", "Jeroen",
    "Karin", "Lars", "Mirjam", "Noor", "Omar", "Petra", "Quinten", "Rianne", "Sven", "Tamara",
    "Ugur", "Vera", "Willem", "Yasmina", "Zoë", "Bas", "Ellen", "Joost", "Marloes", "Sanne",
)  # fmt: skip
LAST_NAMES = (
    "de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot",
    "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker", "Brouwer", "de Wit", "Dijkstra",
    "Smits", "de Graaf", "van der Meer", "Kok", "Yilmaz", "El Amrani", "Postma", "Hoekstra",
)  # fmt: skip
RESPONSES = (
    "Bij ons werkte het pas toen de wijkverpleging vanaf het begin aan tafel zat.",
    "We merken dat inwoners vooral via de huisarts binnenkomen, niet via het loket.",
    "Eerlijk gezegd lopen we hier vast op de financiering na dit jaar.",
    "Een vaste contactpersoon per organisatie maakt het verschil.",
    "We hebben de werkgroep kleiner gemaakt en dat gaf meer vaart.",
    "Het helpt om elke maand één concreet verhaal uit de wijk te bespreken.",
    "Onze wethouder kwam langs bij de bijeenkomst; dat gaf energie.",
    "De ervaringsdeskundigen zien dingen die wij als professionals missen.",
    "We hebben nog geen goed antwoord; benieuwd hoe anderen dit doen.",
    "Kleine successen delen in de nieuwsbrief houdt mensen betrokken.",
    "Het gesprek ging vooral over rolverdeling, niet over de inhoud.",
    "Door de zomer lag het even stil, nu pakken we het weer op.",
)
CONTRIBUTIONS = (
    "Wat was precies je rol in dat overleg?",
    "Hoe reageerde de huisarts toen je dat voorstelde?",
    "Ik herken dit: bij ons speelde hetzelfde met de gemeente.",
    "Misschien helpt het om het eerst klein te houden, met één wijk.",
    "Welk belang heeft de zorgverzekeraar hierbij, denk je?",
    "Mijn kernvraag zou zijn: wie is eigenaar van dit probleem?",
    "Wat zou er gebeuren als je het gewoon niet doet?",
    "Ik hoor vooral dat je je alleen voelt staan in dit proces.",
    "Tip: nodig de wijkverpleging uit voor het volgende overleg.",
    "Dank, dit geeft me een andere kijk op de situatie.",
    "Kun je een voorbeeld geven van zo'n lastig moment?",
    "Ik zou het mandaat eerst op papier zetten voordat je verder gaat.",
)
LESSONS = (
    "Eerst de belangen op tafel, dan pas de plannen.",
    "Een vaste kartrekker per wijk voorkomt dat alles blijft liggen.",
    "Ik ga vaker om hulp vragen in plaats van alles zelf te regelen.",
    "Het mandaat van de werkgroep moet helder zijn voor we beginnen.",
    "Klein beginnen en laten zien wat het oplevert werkt beter dan een groot plan.",
    "Inwoners vroeg betrekken scheelt later veel uitleg.",
    "Ik neem me voor de huisarts persoonlijk te bellen in plaats van te mailen.",
    "Doorvragen op wat iemand echt bedoelt levert meer op dan adviseren.",
    "Frustratie benoemen helpt het gesprek verder.",
    "We moeten vaker vieren wat al goed gaat.",
)
REFLECTIONS = (
    "Veel energie, wel weinig tijd.",
    "De samenwerking met het sociaal domein groeit.",
    "Ik mis nog een duidelijke trekker.",
    "Goede gesprekken, nu de vertaling naar actie.",
    "Meer zicht op elkaars belangen dan een jaar geleden.",
    "Het tempo ligt laag door personeelstekort.",
    "Ik wil vooral leren van andere regio's.",
    "Helder wie wat doet, dat werkt.",
)
POST_ERRORS = ("not_in_channel", "channel_not_found")
DIRECT_ERRORS = ("cannot_dm_bot", "user_not_found", "account_inactive")
METHOD_WEIGHTS = {"incident": 30, "balint": 12, "gossip": 10, "quick": 28, "socratic": 10}
TEMPLATE_WEIGHTS = {"check-in": 25, "check-out": 20, "reis": 15, "voorwaarden": 30, "vrij": 10}
FALL = (0.35, 0.7, 1.1, 1.5)
"""A falling coalition's prompt answer rate in its last four weeks, the last week first."""


def load(
    urls: DatabaseUrls,
    *,
    seed: int,
    shape: Shape = FULL,
    end: datetime = END,
    progress: Callable[[str], None] | None = None,
) -> Year:
    """A year of activity ending at ``end``, written into the (migrated, empty) database."""
    started = time.monotonic()
    engine = create_sync_db_engine(urls)
    try:
        with engine.begin() as connection:
            writer = _Writer(connection)
            builder = _Builder(random.Random(seed), shape, end, writer, progress)  # noqa: S311  (test data)
            builder.run()
            writer.close()
            connection.execute(
                text("UPDATE network SET question_counter = :n WHERE id = :id"),
                {"n": writer.counts["question"], "id": builder.network_id},
            )
    finally:
        engine.dispose()
    if not urls.is_sqlite:
        _settle_postgres(urls, writer.counts)
    return Year(
        network_id=builder.network_id,
        network=builder.network_name,
        start=end - YEAR,
        end=end,
        counts=dict(writer.counts),
        seconds=time.monotonic() - started,
        silent=sorted(c.name for c in builder.channels if c.stops_at is not None),
        falling=sorted(c.name for c in builder.channels if c.falling),
    )


def _settle_postgres(urls: DatabaseUrls, counts: dict[str, int]) -> None:
    """Sequences past the ids given here, and what autovacuum does to fresh tables before
    long: planner statistics and the visibility map."""
    engine = create_engine(urls.sync_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            for name in TABLES:
                if "id" in SQLModel.metadata.tables[name].c and counts[name]:
                    connection.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608  (fixed names)
                            f"(SELECT max(id) FROM {name}))"
                        )
                    )
                connection.execute(text(f"VACUUM ANALYZE {name}"))
    finally:
        engine.dispose()


class _Writer:
    """Rows buffered per table and inserted a batch at a time; before a table's rows go in,
    those of the tables before it in :data:`TABLES` do, so foreign keys always hold."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._buffers: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
        self.counts: dict[str, int] = dict.fromkeys(TABLES, 0)
        self._next: dict[str, int] = dict.fromkeys(TABLES, 1)

    def new_id(self, table: str) -> int:
        value = self._next[table]
        self._next[table] = value + 1
        return value

    def add(self, table: str, row: dict[str, Any]) -> None:
        buffer = self._buffers[table]
        buffer.append(row)
        if len(buffer) >= BATCH:
            self._flush_through(table)

    def close(self) -> None:
        self._flush_through(TABLES[-1])

    def _flush_through(self, table: str) -> None:
        for name in TABLES[: TABLES.index(table) + 1]:
            rows = self._buffers[name]
            if rows:
                self._connection.execute(insert(SQLModel.metadata.tables[name]), rows)
                self.counts[name] += len(rows)
                self._buffers[name] = []


@dataclass
class _Person:
    id: int
    region_id: int | None
    external_id: str
    name: str
    role: Role
    erased_at: datetime | None
    seen: list[datetime] = field(default_factory=list)


@dataclass
class _Channel:
    id: int
    name: str
    external_id: str
    region_id: int
    created_at: datetime
    level: float
    """How busy it is, 1 on average."""
    prompts: bool
    intervision: bool
    rounds: bool
    rules: bool
    answer_rate: float
    """The usual share of members that answers a learning prompt."""
    score_mean: float
    stops_at: datetime | None = None
    """Nothing is contributed from then on (the schedule keeps posting unless ``dormant``)."""
    dormant: bool = False
    archived_at: datetime | None = None
    falling: bool = False
    members: list[int] = field(default_factory=list)
    seen: list[datetime] = field(default_factory=list)
    """When each of ``members`` was first seen here, ascending."""

    def present(self, at: datetime) -> int:
        """How many members had been seen here by ``at``: the first that many of ``members``."""
        return bisect.bisect_right(self.seen, at)

    def active(self, at: datetime) -> bool:
        return at >= self.created_at and (self.stops_at is None or at < self.stops_at)

    def limit(self, end: datetime) -> datetime:
        """Until when something can be contributed here."""
        return end if self.stops_at is None else min(end, self.stops_at)


def _season(at: datetime) -> float:
    """Summer holidays and the Christmas weeks are quiet."""
    if at.month == 7 or (at.month == 8 and at.day < 20):
        return 0.5
    if (at.month == 12 and at.day >= 22) or (at.month == 1 and at.day <= 3):
        return 0.3
    return 1.0


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _payload(message: str) -> dict[str, Any]:
    """What a delivered message's payload looks like: the text and one block of it."""
    return {
        "text": message,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": message}}],
    }


class _Builder:
    def __init__(
        self,
        rng: random.Random,
        shape: Shape,
        end: datetime,
        writer: _Writer,
        progress: Callable[[str], None] | None,
    ) -> None:
        self.rng = rng
        self.shape = shape
        self.end = end
        self.start = end - YEAR
        self.writer = writer
        self.progress = progress or (lambda _: None)
        self.network_id = 1
        self.network_name = "Benchmarknetwerk"
        self.people: list[_Person] = []
        self.channels: list[_Channel] = []
        self.regions: list[int] = []

    def run(self) -> None:
        steps = (
            ("network, members, channels", self._network),
            ("questions and answers", self._questions),
            ("learning prompts and responses", self._prompts),
            ("intervision", self._intervision),
            ("reflection rounds", self._reflection),
            ("house rules", self._house_rules),
        )
        for label, step in steps:
            self.progress(label)
            step()

    def _at(self, low: datetime, high: datetime) -> datetime:
        """A moment in ``[low, high)``."""
        return low + (high - low) * self.rng.random()

    def _weeks(self, channel: _Channel) -> Iterator[tuple[datetime, float]]:
        """Each week of the year and how busy the channel was in it (before its start or
        after it fell silent too: the caller checks the moment)."""
        week = self.start
        while week < self.end:
            noise = max(0.2, self.rng.gauss(1.0, 0.25))
            yield week, channel.level * _season(week + 3 * DAY) * noise
            week += WEEK

    # ------------------------------------------------------------------ people and places

    def _network(self) -> None:
        rng, shape, add = self.rng, self.shape, self.writer.add
        created = self.start - 3 * YEAR
        add(
            "network",
            {
                "id": self.network_id,
                "slug": "bench-digest",
                "name": self.network_name,
                "question_counter": 0,
                "created_at": created,
            },
        )
        for name in REGION_NAMES[: shape.regions]:
            region_id = self.writer.new_id("region")
            self.regions.append(region_id)
            add(
                "region",
                {
                    "id": region_id,
                    "network_id": self.network_id,
                    "name": name,
                    "key": name.lower(),
                    "created_at": created,
                },
            )
        self._make_people()
        self._make_channels()
        self._memberships()
        for person in self.people:
            joined = min(person.seen) if person.seen else self._at(self.start - YEAR, self.end)
            add(
                "member",
                {
                    "id": person.id,
                    "network_id": self.network_id,
                    "platform": Platform.SLACK,
                    "external_id": person.external_id,
                    "display_name": person.name,
                    "name_key": person.name.lower(),
                    "region_id": person.region_id,
                    "role": person.role,
                    "timezone": None,
                    "locale": "nl",
                    "created_at": joined,
                    "last_seen_at": max(person.seen) if person.seen else joined,
                    "erased_at": person.erased_at,
                    "invitations_off": rng.random() < 0.05,
                },
            )
        for channel in self.channels:
            for member_id, seen in zip(channel.members, channel.seen, strict=True):
                add(
                    "space_member",
                    {"space_id": channel.id, "member_id": member_id, "first_seen_at": seen},
                )

    def _make_people(self) -> None:
        rng = self.rng
        weights = [rng.uniform(0.5, 1.5) for _ in self.regions]
        roles = (Role.PARTICIPANT, Role.COACH, Role.COORDINATOR, Role.ADMIN)
        for _ in range(self.shape.members):
            member_id = self.writer.new_id("member")
            region = None if rng.random() < 0.03 else rng.choices(self.regions, weights)[0]
            erased = self._at(self.start, self.end) if rng.random() < 0.01 else None
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            self.people.append(
                _Person(
                    id=member_id,
                    region_id=region,
                    external_id=f"U{member_id:07d}BENCH",
                    name="Verwijderd lid" if erased else name,
                    role=rng.choices(roles, (85, 10, 4, 1))[0],
                    erased_at=erased,
                )
            )

    def _make_channels(self) -> None:
        rng, shape = self.rng, self.shape
        names: set[str] = set()
        for number in range(shape.coalitions):
            region_id = self.regions[number % len(self.regions)]
            region = REGION_NAMES[region_id - 1].lower().replace(" ", "-")
            base = name = f"coalitie-{rng.choice(THEMES)}-{region}"
            suffix = 1
            while name in names:
                suffix += 1
                name = f"{base}-{suffix}"
            names.add(name)
            is_new = number % 5 == 4
            created = (
                self._at(self.start, self.start + 40 * WEEK)
                if is_new
                else self._at(self.start - 2.5 * YEAR, self.start - 8 * WEEK)
            )
            coalition_id = self.writer.new_id("coalition")
            self.writer.add(
                "coalition",
                {
                    "id": coalition_id,
                    "network_id": self.network_id,
                    "region_id": region_id,
                    "name": name.removeprefix("coalitie-").replace("-", " ").capitalize(),
                    "created_at": created,
                },
            )
            channel = _Channel(
                id=self.writer.new_id("space"),
                name=name,
                external_id=f"C{number + 1:06d}BENCH",
                region_id=region_id,
                created_at=created,
                level=rng.lognormvariate(0, 0.5),
                prompts=rng.random() < 0.8,
                intervision=rng.random() < 0.7,
                rounds=rng.random() < 0.6,
                rules=rng.random() < 0.7,
                answer_rate=rng.uniform(0.12, 0.4),
                score_mean=rng.uniform(2.8, 4.3),
            )
            self.channels.append(channel)
            self.writer.add(
                "space",
                {
                    "id": channel.id,
                    "network_id": self.network_id,
                    "platform": Platform.SLACK,
                    "external_id": channel.external_id,
                    "name": name,
                    "kind": SpaceKind.CHANNEL,
                    "coalition_id": coalition_id,
                    "timezone": "Europe/Amsterdam",
                    "created_at": created,
                },
            )
        self._pick_quiet_ones()

    def _pick_quiet_ones(self) -> None:
        """One coalition goes dormant early in the year, a few fall silent in its last months
        (the first of those gets its channel archived), a few see their answer rates fall."""
        rng = self.rng
        old = [c for c in self.channels if c.created_at < self.start]
        quiet = rng.sample(old, 1 + max(1, len(self.channels) // 12))
        dormant, fading = quiet[0], quiet[1:]
        dormant.dormant = True
        dormant.stops_at = self._at(self.start + 3 * WEEK, self.start + 10 * WEEK)
        for channel in fading:
            channel.stops_at = self.end - rng.uniform(15, 70) * DAY
            channel.archived_at = None
        archived = fading[0]
        archived.prompts = True
        archived.archived_at = min(archived.limit(self.end) + WEEK, self.end - 4 * DAY)
        others = [c for c in self.channels if c.stops_at is None]
        for channel in rng.sample(others, max(1, len(self.channels) // 12)):
            channel.falling = True
            channel.prompts = True

    def _memberships(self) -> None:
        """Each channel's members, mostly from its own region, and when each was first seen."""
        rng = self.rng
        by_region: dict[int | None, list[_Person]] = {}
        for person in self.people:
            by_region.setdefault(person.region_id, []).append(person)
        for channel in self.channels:
            size = int(min(max(rng.lognormvariate(math.log(65), 0.55), 12), len(self.people) / 3))
            local = by_region.get(channel.region_id, [])
            chosen: dict[int, _Person] = {}
            while len(chosen) < size:
                pool = local if local and rng.random() < 0.6 else self.people
                person = rng.choice(pool)
                chosen[person.id] = person
            founded = max(channel.created_at, self.start - YEAR)
            seen: list[tuple[datetime, int]] = []
            for person in chosen.values():
                if rng.random() < 0.65:
                    at = self._at(channel.created_at, min(founded + 2 * WEEK, self.end))
                else:
                    at = self._at(max(channel.created_at, self.start), self.end)
                if channel.dormant and channel.stops_at is not None:
                    at = min(at, channel.stops_at - DAY)
                person.seen.append(at)
                seen.append((at, person.id))
            seen.sort()
            channel.seen = [at for at, _ in seen]
            channel.members = [member for _, member in seen]

    def _person(self, member_id: int) -> _Person:
        return self.people[member_id - 1]

    def _someone(self, channel: _Channel, at: datetime, *, besides: int | None = None) -> int:
        """A member who had been seen in the channel by ``at`` (the first one if nobody was)."""
        present = max(1, channel.present(at))
        for _ in range(4):
            member = channel.members[self.rng.randrange(present)]
            if member != besides:
                return member
        return channel.members[0]

    # ------------------------------------------------------------------ the exchange

    def _questions(self) -> None:
        rng, shape = self.rng, self.shape
        asked: list[tuple[datetime, _Channel | None, int]] = []
        for channel in self.channels:
            for week, busy in self._weeks(channel):
                for _ in range(_poisson(rng, shape.questions_per_week * busy)):
                    at = week + WEEK * rng.random()
                    if at < self.end and channel.active(at) and channel.present(at):
                        asked.append((at, channel, self._someone(channel, at)))
        loose = round(len(asked) * shape.loose_share / (1 - shape.loose_share))
        for _ in range(loose):
            at = self._at(self.start, self.end)
            asked.append((at, None, rng.choice(self.people).id))
        asked.sort(key=lambda item: item[0])
        texts = Generator(rng.randrange(2**31), regions=len(self.regions), members=len(asked))
        for number, (at, place, asker) in enumerate(asked, start=1):
            self._question(number, at, place, asker, texts.question(number, len(asked)).text)

    def _question(
        self, number: int, at: datetime, channel: _Channel | None, asker: int, question: str
    ) -> None:
        rng, add = self.rng, self.writer.add
        limit = self.end if channel is None else channel.limit(self.end)
        withdrawn = rng.random() < 0.03
        wanted = 0 if withdrawn else rng.choices((0, 1, 2, 3, 4), (12, 38, 28, 14, 8))[0]
        moments = sorted(at + timedelta(hours=rng.expovariate(1 / 30)) for _ in range(wanted))
        moments = [moment for moment in moments if moment < limit]
        status = QuestionStatus.WITHDRAWN if withdrawn else QuestionStatus.OPEN
        closed_at = None
        if moments:
            status = QuestionStatus.ANSWERED
            if rng.random() < 0.35:
                closing = moments[-1] + rng.uniform(0.5, 10) * DAY
                if closing < self.end:
                    status, closed_at = QuestionStatus.CLOSED, closing
        elif not withdrawn and self.end - at > 4 * WEEK and rng.random() < 0.5:
            status, closed_at = QuestionStatus.WITHDRAWN, at + rng.uniform(7, 28) * DAY
        person = self._person(asker)
        add(
            "question",
            {
                "id": number,
                "network_id": self.network_id,
                "number": number,
                "asker_id": asker,
                "region_id": person.region_id,
                "space_id": None if channel is None else channel.id,
                "source_ref": None if channel is None else f"{channel.external_id}:{number}",
                "thread_ref": None if channel is None else f"{channel.external_id}:{number}",
                "text": question,
                "search_terms": f" {search_document(question)} ",
                "status": status,
                "created_at": at,
                "updated_at": closed_at or (moments[-1] if moments else at),
                "closed_at": closed_at,
            },
        )
        if channel is not None:
            self._outbox(
                DeliveryKind.POST,
                at + timedelta(seconds=2),
                channel=channel,
                subject=f"question:{number}",
                message=f"#{number} staat genoteerd: {question}",
            )
        for moment in moments:
            if channel is None:
                answerer = rng.choice(self.people).id
            else:
                answerer = self._someone(channel, moment, besides=asker)
            detail = " ".join(rng.sample(ANSWER_DETAILS, rng.randint(1, 3)))
            add(
                "answer",
                {
                    "id": self.writer.new_id("answer"),
                    "question_id": number,
                    "answerer_id": answerer,
                    "region_id": self._person(answerer).region_id,
                    "text": f"Bij ons: {detail}",
                    "link": "https://example.org/aanpak" if rng.random() < 0.1 else None,
                    "helpful": rng.random() < 0.3,
                    "source_ref": None,
                    "created_at": moment,
                },
            )

    # ------------------------------------------------------------------ learning prompts

    def _prompts(self) -> None:
        keys = [prompt.id for prompt in all_prompts()]
        for channel in self.channels:
            if channel.prompts:
                self._prompt_channel(channel, keys)

    def _prompt_channel(self, channel: _Channel, keys: list[str]) -> None:
        rng, add = self.rng, self.writer.add
        schedule_id = self.writer.new_id("schedule")
        scheduled = channel.created_at + rng.uniform(1, 20) * DAY
        add(
            "schedule",
            {
                "id": schedule_id,
                "space_id": channel.id,
                "kind": "learning_prompt",
                "weekday": 1,
                "time_of_day": "09:00",
                "timezone": "Europe/Amsterdam",
                "themes": [],
                "active": not channel.dormant,
                "created_by_id": channel.members[0],
                "created_at": scheduled,
            },
        )
        planned = self.start + timedelta(days=2, hours=8)  # Tuesdays, 09:00 in Amsterdam
        earlier: int | None = None
        while planned < self.end:
            if channel.dormant and channel.stops_at is not None and planned >= channel.stops_at:
                break
            if planned >= scheduled:
                earlier = self._post(channel, schedule_id, planned, rng.choice(keys), earlier)
            planned += WEEK

    def _post(
        self,
        channel: _Channel,
        schedule_id: int,
        planned: datetime,
        key: str,
        earlier: int | None,
    ) -> int:
        """A prompt and its responses; how many members were meant to answer it (``earlier``
        is that number for the week before)."""
        rng, add = self.rng, self.writer.add
        post_id = self.writer.new_id("post")
        at = planned + timedelta(seconds=rng.uniform(1, 30))
        add(
            "post",
            {
                "id": post_id,
                "space_id": channel.id,
                "kind": "learning_prompt",
                "schedule_id": schedule_id,
                "prompt_key": key,
                "planned_for": planned,
                "message_ref": f"{channel.external_id}:p{post_id}",
                "created_at": at,
            },
        )
        self._outbox(
            DeliveryKind.POST,
            at,
            channel=channel,
            subject=f"post:{post_id}",
            message=f"Leervraag van de week ({key})",
        )
        present = channel.present(at)
        age = int((self.end - at) // WEEK)
        falling = channel.falling and age < len(FALL)
        if falling:
            rate = channel.answer_rate * FALL[age]
        else:
            rate = channel.answer_rate * _season(at) * max(0.3, rng.gauss(1.0, 0.25))
        wanted = min(present, round(present * rate))
        if falling and earlier is not None and age < len(FALL) - 1:
            wanted = max(0, min(wanted, earlier - 1))
        if not channel.active(at):
            wanted = 0
        limit = channel.limit(self.end)
        for member in rng.sample(channel.members[:present], wanted):
            delay = rng.uniform(1, 48) if falling else rng.expovariate(1 / 20)
            answered = at + timedelta(hours=delay)
            times = [answered]
            if rng.random() < 0.05:
                times.append(answered + rng.uniform(1, 48) * HOUR)
            for moment in times:
                if moment < limit:
                    add(
                        "response",
                        {
                            "id": self.writer.new_id("response"),
                            "post_id": post_id,
                            "member_id": member,
                            "text": rng.choice(RESPONSES),
                            "created_at": moment,
                        },
                    )
        return wanted

    # ------------------------------------------------------------------ intervision

    def _intervision(self) -> None:
        rng, shape = self.rng, self.shape
        phases = {method.id: [phase.id for phase in method.phases] for method in all_methods()}
        methods = [name for name in METHOD_WEIGHTS if name in phases]
        weights = [METHOD_WEIGHTS[name] for name in methods]
        for channel in self.channels:
            if not channel.intervision:
                continue
            for week, busy in self._weeks(channel):
                for _ in range(_poisson(rng, shape.sessions_per_week * busy)):
                    at = week + WEEK * rng.random()
                    done = at + 3 * HOUR
                    if done >= channel.limit(self.end) or not channel.active(at):
                        continue
                    present = channel.present(at)
                    if present < 3:
                        continue
                    method = rng.choices(methods, weights)[0]
                    group = rng.sample(channel.members[:present], min(present, rng.randint(3, 8)))
                    self._session(channel, at, method, phases[method], group)

    def _session(
        self, channel: _Channel, at: datetime, method: str, phases: list[str], group: list[int]
    ) -> None:
        rng, add = self.rng, self.writer.add
        session_id = self.writer.new_id("intervision_session")
        step = timedelta(minutes=12)
        add(
            "intervision_session",
            {
                "id": session_id,
                "space_id": channel.id,
                "flow_id": None,
                "method": method,
                "facilitator_id": group[0],
                "case_owner_id": group[1],
                "venue": "private" if rng.random() < 0.7 else "thread",
                "created_at": at,
                "ended_at": at + step * len(phases) + timedelta(minutes=10),
            },
        )
        for member in group:
            add("intervision_participant", {"session_id": session_id, "member_id": member})
        members = ",".join(self._person(member).external_id for member in group)
        for index, phase in enumerate(phases):
            begins = at + step * index
            self._outbox(
                DeliveryKind.GROUP,
                begins,
                channel_ref=f"G{session_id:07d}BENCH",
                member_ref=members,
                subject=f"intervision:{session_id}",
                message=f"Fase {index + 1}: {phase}",
            )
            for member in group:
                if phase == "lessons":
                    if rng.random() < 0.75:
                        add(
                            "lesson",
                            {
                                "id": self.writer.new_id("lesson"),
                                "session_id": session_id,
                                "author_id": member,
                                "text": rng.choice(LESSONS),
                                "shareable": rng.random() < 0.45,
                                "created_at": begins + step * rng.random(),
                            },
                        )
                    continue
                for _ in range(rng.choices((0, 1, 2, 3), (25, 45, 20, 10))[0]):
                    contribution_id = self.writer.new_id("intervision_contribution")
                    add(
                        "intervision_contribution",
                        {
                            "id": contribution_id,
                            "session_id": session_id,
                            "phase": phase,
                            "author_id": member,
                            "kind": "message",
                            "text": rng.choice(CONTRIBUTIONS),
                            "source_ref": f"G{session_id:07d}BENCH:{contribution_id}",
                            "created_at": begins + step * rng.random(),
                        },
                    )

    # ------------------------------------------------------------------ reflection

    def _reflection(self) -> None:
        rng = self.rng
        templates = [found for name in TEMPLATE_WEIGHTS if (found := template(name))]
        weights = [TEMPLATE_WEIGHTS[chosen.id] for chosen in templates]
        for channel in self.channels:
            if not channel.rounds:
                continue
            at = max(channel.created_at, self.start) + rng.uniform(7, 35) * DAY
            while at < self.end:
                if channel.stops_at is not None and at + 8 * DAY >= channel.stops_at:
                    break
                present = channel.present(at)
                if present >= 3:
                    self._round(channel, at, present, rng.choices(templates, weights)[0])
                at += rng.uniform(21, 42) * DAY

    def _round(self, channel: _Channel, at: datetime, present: int, chosen: Template) -> None:
        rng, add = self.rng, self.writer.add
        round_id = self.writer.new_id("reflection_round")
        questions = [
            {
                "kind": question.kind.value,
                "label": "Wat neem je mee uit deze periode?"
                if chosen.free and index == 0
                else question.label.get("nl"),
                "typed": chosen.free and index == 0,
                "low": question.low.get("nl") if question.low else None,
                "high": question.high.get("nl") if question.high else None,
                "comment": question.comment,
                "required": question.required,
            }
            for index, question in enumerate(chosen.questions)
        ]
        anonymous = rng.random() < 0.5
        closes_at = at + rng.choice((2, 2, 3, 7)) * DAY
        closed_at: datetime | None = closes_at + timedelta(seconds=rng.uniform(1, 60))
        if closed_at is not None and closed_at >= self.end:
            closed_at = None
        add(
            "reflection_round",
            {
                "id": round_id,
                "space_id": channel.id,
                "coach_id": channel.members[0],
                "template": chosen.id,
                "questions": questions,
                "anonymous": anonymous,
                "closes_at": closes_at,
                "closed_at": closed_at,
                "created_at": at,
            },
        )
        invited = channel.members[:present][:200]
        for member in invited:
            self._outbox(
                DeliveryKind.DIRECT,
                at + timedelta(seconds=5),
                member=member,
                subject=f"reflection:{round_id}",
                message=f"Reflectieronde in #{channel.name}",
            )
        stamp = closed_at or at + (self.end - at) / 2
        deadline = min(closes_at, self.end)
        for member in rng.sample(invited, round(len(invited) * rng.uniform(0.25, 0.6))):
            add("reflection_participation", {"round_id": round_id, "member_id": member})
            answered = stamp if anonymous else self._at(at, deadline)
            for index, question in enumerate(chosen.questions):
                score = None
                answer: str | None = rng.choice(REFLECTIONS)
                if question.kind == QuestionKind.SCALE:
                    score = min(5, max(1, round(rng.gauss(channel.score_mean, 0.9))))
                    if not (question.comment and rng.random() < 0.25):
                        answer = None
                elif not question.required and rng.random() < 0.25:
                    continue
                add(
                    "reflection_answer",
                    {
                        "id": self.writer.new_id("reflection_answer"),
                        "round_id": round_id,
                        "member_id": None if anonymous else member,
                        "question_index": index,
                        "text": answer,
                        "score": score,
                        "created_at": answered,
                    },
                )

    # ------------------------------------------------------------------ house rules

    def _house_rules(self) -> None:
        for channel in self.channels:
            if channel.rules:
                self._rule_set(channel)

    def _rule_set(self, channel: _Channel) -> None:
        rng, add = self.rng, self.writer.add
        created = channel.created_at + rng.uniform(3, 40) * DAY
        if created >= min(self.end - 10 * DAY, channel.limit(self.end)):
            return
        set_id = self.writer.new_id("house_rule_set")
        add(
            "house_rule_set",
            {
                "id": set_id,
                "space_id": channel.id,
                "title": f"Spelregels {channel.name}",
                "created_by_id": channel.members[0],
                "created_at": created,
            },
        )
        # (version, proposed, adopted, withdrawn): up to three, each adopted a week after it
        # was proposed unless withdrawn or too late.
        versions: list[tuple[int, datetime, datetime | None, bool]] = []
        proposed = created
        while len(versions) < 3 and proposed < channel.limit(self.end):
            due = proposed + 7 * DAY + rng.uniform(0, 2) * HOUR
            withdrawn = bool(versions) and rng.random() < 0.08
            adopted = None if withdrawn or due >= channel.limit(self.end) else due
            versions.append((len(versions) + 1, proposed, adopted, withdrawn))
            if adopted is None:
                break
            proposed = adopted + rng.uniform(60, 240) * DAY
        adoptions = [adopted for _, _, adopted, _ in versions if adopted is not None]
        for version, proposed, adopted, withdrawn in versions:
            if adopted is None:
                status = HouseRuleStatus.WITHDRAWN if withdrawn else HouseRuleStatus.PROPOSED
            elif adopted == adoptions[-1]:
                status = HouseRuleStatus.ADOPTED
            else:
                status = HouseRuleStatus.SUPERSEDED
            version_id = self.writer.new_id("house_rule_version")
            add(
                "house_rule_version",
                {
                    "id": version_id,
                    "rule_set_id": set_id,
                    "version": version,
                    "text": "1. We delen wat we leren.\n2. Wat hier besproken wordt, blijft hier."
                    f"\n3. We reageren binnen een week. (versie {version})",
                    "status": status,
                    "proposed_by_id": channel.members[0],
                    "consent_deadline": proposed + 7 * DAY,
                    "adopted_at": adopted,
                    "created_at": proposed,
                },
            )
            if adopted is not None:
                later = [at for at in adoptions if at > adopted]
                until = min(later[0] if later else self.end, channel.limit(self.end))
                self._acknowledgements(channel, version_id, adopted, until)

    def _acknowledgements(
        self, channel: _Channel, version_id: int, adopted: datetime, until: datetime
    ) -> None:
        """Members there at adoption mostly acknowledge within days; later ones when they
        arrive, though not all of them."""
        rng = self.rng
        for member, seen in zip(channel.members, channel.seen, strict=True):
            if seen <= adopted:
                if rng.random() >= 0.8:
                    continue
                at = adopted + rng.expovariate(1 / 36) * HOUR
            elif seen < until:
                if rng.random() >= 0.65:
                    continue
                at = seen + rng.expovariate(1 / 20) * HOUR
            else:
                continue
            if at < until:
                self.writer.add(
                    "house_rule_acknowledgement",
                    {"version_id": version_id, "member_id": member, "created_at": at},
                )

    # ------------------------------------------------------------------ the outbox

    def _outbox(
        self,
        kind: DeliveryKind,
        at: datetime,
        *,
        message: str,
        subject: str,
        channel: _Channel | None = None,
        channel_ref: str | None = None,
        member: int | None = None,
        member_ref: str | None = None,
    ) -> None:
        """A message Hoedan sent; to an archived channel or an erased member it failed, and
        now and then something else went wrong for good."""
        rng = self.rng
        error = None
        if channel is not None:
            channel_ref = channel.external_id
            if channel.archived_at is not None and at >= channel.archived_at:
                error = "is_archived"
            elif rng.random() < 0.003:
                error = rng.choice(POST_ERRORS)
        if member is not None:
            person = self._person(member)
            member_ref = person.external_id
            if person.erased_at is not None and at >= person.erased_at:
                error = "user_not_found"
            elif rng.random() < 0.004:
                error = rng.choice(DIRECT_ERRORS)
        if kind == DeliveryKind.GROUP and rng.random() < 0.002:
            error = "not_in_channel"
        outbox_id = self.writer.new_id("outbox_message")
        self.writer.add(
            "outbox_message",
            {
                "id": outbox_id,
                "idempotency_key": f"{subject}:{kind}:{outbox_id}",
                "platform": Platform.SLACK,
                "kind": kind,
                "channel_ref": channel_ref,
                "thread_ref": None,
                "member_ref": member_ref,
                "payload": _payload(message),
                "status": OutboxStatus.SENT if error is None else OutboxStatus.FAILED,
                "attempts": 1 if error is None else rng.randint(1, 5),
                "next_attempt_at": at,
                "last_error": error,
                "external_ref": None if error else f"{at.timestamp():.6f}",
                "subject": subject,
                "created_at": at,
                "sent_at": None if error else at + timedelta(seconds=rng.uniform(0.2, 2)),
            },
        )
