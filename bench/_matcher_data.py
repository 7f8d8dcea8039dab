"""Realistic #hoedan questions and #zodan answers for ``bench.matcher``, and the dev set.

Questions are built from the field's vocabulary: a question frame ("Hoe pakken jullie … aan?",
"Wie heeft ervaring met …?"), one of ~100 topics, often a context ("in kleine dorpen", "voor
het IZA-plan") or a party ("de zorgverzekeraar"), sometimes a place. Every topic has two
wordings; corpus questions use either, and the timed queries use a topic in a wording and
frame of their own, so they are paraphrases rather than copies. The vocabulary is small next
to a real network's, so words repeat more than they would there: common words match more
questions, which makes the timings pessimistic rather than flattering.
"""

from __future__ import annotations

import random
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

DEV_SET = Path(__file__).resolve().parent.parent / "tests" / "data" / "question_pairs.toml"

TOPICS: list[tuple[str, str]] = [
    (
        "valpreventie voor thuiswonende ouderen",
        "het voorkomen van vallen bij zelfstandig wonende senioren",
    ),
    ("eenzaamheid onder ouderen", "sociaal isolement bij senioren"),
    ("eenzaamheid onder jongeren", "jongeren die zich alleen voelen"),
    ("de financiering van preventie", "structureel geld voor preventieve activiteiten"),
    (
        "afspraken met de zorgverzekeraar over transformatiemiddelen",
        "onderhandelingen met verzekeraars over het geld voor transformatie",
    ),
    ("de Kansrijke Start-coalitie", "de eerste 1000 dagen van kinderen"),
    ("het personeelstekort in de wijkverpleging", "te weinig verpleegkundigen in de thuiszorg"),
    (
        "gegevens delen tussen huisartsen en gemeente",
        "het uitwisselen van informatie tussen eerste lijn en sociaal domein",
    ),
    ("een regionale gezondheidsmonitor", "een gedeeld dashboard met gezondheidscijfers"),
    (
        "de governance van het GALA",
        "de bestuurlijke inrichting van het Gezond en Actief Leven Akkoord",
    ),
    ("ondersteuning van overbelaste mantelzorgers", "hulp voor naasten die de zorg zwaar vinden"),
    (
        "de verbinding tussen wijkteam en huisartsenpraktijk",
        "korte lijnen tussen sociaal team en praktijkondersteuner",
    ),
    (
        "positieve gezondheid in de huisartsenpraktijk",
        "het gesprek met het spinnenweb in de eerste lijn",
    ),
    (
        "het meten van effecten van preventie",
        "indicatoren voor de resultaten van preventieve interventies",
    ),
    ("mentale klachten bij jongeren", "psychische problemen bij de jeugd"),
    ("inwonersinitiatieven rond gezonde voeding", "bewonersprojecten over gezond eten"),
    ("het regiobeeld", "de gezondheidsanalyse van de regio"),
    ("betrokkenheid van wethouders", "bestuurders van gemeenten die aangehaakt blijven"),
    (
        "het werven van vrijwilligers voor maatjesprojecten",
        "mensen vinden die onbetaald maatje willen zijn",
    ),
    ("wachttijden in de GGZ", "wachtlijsten in de geestelijke gezondheidszorg"),
    ("communicatie voor laaggeletterden", "informatie voor mensen die moeite hebben met lezen"),
    ("gezondheidsverschillen tussen wijken", "gezondheidsachterstanden in kwetsbare buurten"),
    ("de overdracht van ziekenhuis naar huis", "ontslag uit het ziekenhuis en opvang thuis"),
    ("een sociale kaart", "een wegwijzer met voorzieningen en welzijnsorganisaties"),
    ("een regionale projectleider", "een kwartiermaker die het netwerk trekt"),
    ("schulden als oorzaak van gezondheidsproblemen", "geldzorgen die inwoners ziek maken"),
    ("meer beweging bij kinderen", "kinderen die vaker sporten en buitenspelen"),
    ("een netwerk van ervaringsdeskundigen", "mensen met eigen ervaring die meepraten over zorg"),
    ("dementiezorg in de wijk", "ondersteuning dichtbij huis voor mensen met geheugenproblemen"),
    (
        "de Samenhangende Preventiestructuur",
        "de preventie-infrastructuur tussen GGD, gemeenten en verzekeraar",
    ),
    ("zorgpaden voor chronisch zieken", "ketenzorg voor mensen met diabetes en COPD"),
    (
        "woningen voor ouderen met een zorgvraag",
        "geschikte woonvormen voor senioren die zorg nodig hebben",
    ),
    ("statushouders die de weg in de zorg zoeken", "nieuwkomers en hun toegang tot de huisarts"),
    ("roken en vapen onder jongeren", "tabak en e-sigaretten bij tieners"),
    ("alcoholgebruik onder jongeren", "drinken door minderjarigen"),
    ("kennismaking tussen zorg en welzijn", "ontmoetingen tussen zorgverleners en welzijnswerkers"),
    ("het behoud van zorgpersoneel", "medewerkers in zorg en welzijn langer vasthouden"),
    ("de inzet van leefstijlcoaches", "de gecombineerde leefstijlinterventie via de huisarts"),
    ("een regionale netwerkconferentie", "een jaarlijkse bijeenkomst met alle partners"),
    (
        "een convenant tussen gemeenten en zorgaanbieders",
        "samenwerkingsafspraken tussen zorgorganisaties en gemeenten",
    ),
    (
        "de apotheker in de eerstelijnssamenwerking",
        "apotheken die aansluiten bij huisartsen en wijkverpleging",
    ),
    ("een subsidieaanvraag bij ZonMw", "het schrijven van een aanvraag voor een ZonMw-programma"),
    ("overgewicht bij kinderen", "obesitas bij de jeugd"),
    ("zorg in de avond, nacht en weekend", "spoedzorg buiten kantooruren"),
    ("mensen met verward gedrag", "personen met onbegrepen gedrag"),
    ("digitale zorg voor ouderen", "senioren die leren beeldbellen en e-health gebruiken"),
    ("verzuim door psychische klachten", "uitval van werknemers door stress en burn-out"),
    ("opschalen van een succesvolle aanpak", "een werkwijze uitrollen over de hele regio"),
    (
        "de rolverdeling tussen regiegroep en werkgroepen",
        "de taakverdeling tussen kernteam en thematafels",
    ),
    ("samenwerking met woningcorporaties", "verhuurders van sociale huurwoningen en gezondheid"),
    (
        "kinderen uit arme gezinnen die willen sporten",
        "sportclubs voor kinderen uit huishoudens met een laag inkomen",
    ),
    ("de toegang tot de Wmo", "het loket voor maatschappelijke ondersteuning"),
    ("hitte en kwetsbare inwoners", "een hitteplan voor ouderen en chronisch zieken"),
    ("welzijn op recept", "huisartsen die doorverwijzen naar welzijnsactiviteiten"),
    (
        "een multidisciplinair gezondheidscentrum",
        "een centrum met huisarts, fysio en maatschappelijk werk",
    ),
    ("jonge mantelzorgers", "kinderen die thuis zorgen voor een ziek gezinslid"),
    ("palliatieve zorg thuis", "zorg in de laatste levensfase thuis"),
    ("huisartsen meekrijgen ondanks de werkdruk", "de eerste lijn motiveren met een volle agenda"),
    ("resultaten laten zien aan de gemeenteraad", "raadsleden tonen wat de samenwerking oplevert"),
    ("een juridische vorm voor het netwerk", "een stichting of coöperatie voor de samenwerking"),
    ("gezondheidsbevordering op scholen", "de Gezonde School in het onderwijs"),
    ("inwoners met een migratieachtergrond bereiken", "contact met bewoners van andere afkomst"),
    (
        "onnodige verwijzingen naar het ziekenhuis",
        "zorg op de juiste plek in plaats van de tweede lijn",
    ),
    ("intervisie tussen organisaties", "leren van elkaars casuïstiek in een vaste groep"),
    (
        "het regioplan afstemmen met lokaal beleid",
        "lokaal gezondheidsbeleid dat aansluit op de regionale aanpak",
    ),
    ("langer thuis wonen voor ouderen", "senioren die zelfstandig in hun eigen huis blijven"),
    ("vroegsignalering van huiselijk geweld", "mishandeling thuis eerder opmerken"),
    ("duurzame zorg", "de CO2-uitstoot van zorginstellingen verminderen"),
    (
        "laagdrempelige inloop bij psychische klachten",
        "een plek om zonder verwijzing binnen te lopen als het mentaal niet gaat",
    ),
    ("een gezamenlijke visie", "een gedeeld toekomstbeeld met alle organisaties"),
    ("prioriteiten kiezen voor de regio", "de speerpunten van het netwerk bepalen"),
    ("zorg voor mensen met een verstandelijke beperking", "ondersteuning van bewoners met een lvb"),
    ("vervoer voor ouderen", "senioren die niet meer zelf kunnen rijden"),
    ("wachttijden in de jeugdhulp", "kinderen die lang wachten op een jeugdzorgaanbieder"),
    ("de evaluatie van de samenwerking", "periodiek terugkijken op hoe partners samenwerken"),
    (
        "een pilot borgen na de subsidie",
        "een proefproject laten doorlopen als het projectgeld op is",
    ),
    ("ondersteuning bij long covid", "hulp voor inwoners met langdurige klachten na corona"),
    ("buurtsportcoaches voor kwetsbare ouderen", "sportcoaches die senioren laten bewegen"),
    ("griepvaccinatie voor zorgmedewerkers", "de griepprik bij personeel in de zorg"),
    ("tekenbeten en de ziekte van Lyme", "voorlichting over teken in natuurgebieden"),
    ("de opkomst bij het bevolkingsonderzoek", "meer deelname aan kankerscreening"),
    ("voorbereiding op een pandemie", "paraatheid bij een grote uitbraak"),
    (
        "medicatiebeoordeling bij polyfarmacie",
        "ouderen die veel verschillende medicijnen gebruiken",
    ),
    ("schuldhulpverlening via de huisarts", "huisartsen die signalen van geldproblemen doorzetten"),
    ("gezond gewicht in de wijk", "een JOGG-aanpak voor buurten"),
    ("mantelzorgwaardering", "erkenning voor mantelzorgers"),
    ("respijtzorg", "tijdelijke overname van mantelzorg"),
    ("de inzet van praktijkondersteuners GGZ", "de POH-GGZ voor jeugd en volwassenen"),
    (
        "een dementievriendelijke gemeente",
        "winkels en verenigingen die weten hoe ze met dementie omgaan",
    ),
    ("ouderen met een migratieachtergrond", "oudere migranten en hun zorgvragen"),
    ("kwetsbare zwangeren", "zwangere vrouwen in moeilijke omstandigheden"),
    ("de jeugdgezondheidszorg en het onderwijs", "JGZ-verpleegkundigen op scholen"),
    ("armoede en gezondheid", "bestaanszekerheid als basis voor gezondheid"),
    ("een leernetwerk voor professionals", "professionals die regionaal van elkaar leren"),
    (
        "de inzet van ervaringsdeskundigen in de GGZ",
        "herstelondersteuning door mensen met eigen ervaring",
    ),
    ("cliëntondersteuning", "onafhankelijke ondersteuners voor inwoners met een zorgvraag"),
    ("de digitale sociale kaart", "een online overzicht van lokale voorzieningen"),
    ("de aanpak van middelengebruik", "preventie van drugs bij jongvolwassenen"),
    ("samenwerking met sportverenigingen", "sportclubs als partner in preventie"),
    ("gezonde kantines", "een gezond voedingsaanbod in sportkantines"),
    ("een valpreventiespreekuur bij de fysiotherapeut", "fysiotherapeuten die valrisico testen"),
]

ACTORS = [
    "de zorgverzekeraar",
    "de GGD",
    "huisartsen",
    "wethouders",
    "het wijkteam",
    "de gemeente",
    "woningcorporaties",
    "welzijnsorganisaties",
    "de wijkverpleging",
    "het ziekenhuis",
    "ervaringsdeskundigen",
    "inwoners",
    "scholen",
    "werkgevers",
    "de apotheek",
    "de GGZ-instelling",
    "vrijwilligersorganisaties",
    "sportverenigingen",
    "de cliëntenraad",
    "de regiegroep",
    "verloskundigen",
    "de jeugdgezondheidszorg",
    "het zorgkantoor",
    "fysiotherapeuten",
    "mantelzorgers",
    "beleidsmedewerkers",
    "de thuiszorg",
    "buurtsportcoaches",
    "de bibliotheek",
    "het maatschappelijk werk",
]

CONTEXTS = [
    "",
    "",
    "",
    "",
    "",
    " in de wijk",
    " in kleine dorpen",
    " voor het IZA-plan",
    " binnen het GALA",
    " met beperkt budget",
    " samen met de gemeente",
    " in een stedelijke regio",
    " zonder extra personeel",
    " voor laaggeletterde inwoners",
    " met inwonersinitiatieven",
    " in de eerste lijn",
    " over gemeentegrenzen heen",
    " voor de komende vier jaar",
    " met de zorgverzekeraar",
    " in een krimpregio",
    " na de coronaperiode",
    " met de transformatiemiddelen",
    " in het sociaal domein",
    " voor de hele regio",
    " met hulp van studenten",
    " in een plattelandsgemeente",
]

PLACES = [
    "Twente",
    "Zuid-Limburg",
    "Drenthe",
    "Fryslân",
    "Zeeland",
    "de Achterhoek",
    "Flevoland",
    "Noord-Holland Noord",
    "Rivierenland",
    "West-Brabant",
    "de Kempen",
    "Groningen",
    "Amsterdam",
    "Rotterdam-Zuid",
    "Utrecht",
    "Nijmegen",
    "Eindhoven",
    "Zwolle",
    "Den Haag",
    "Leiden",
    "Almere",
    "Deventer",
    "Enschede",
    "Heerlen",
    "Venlo",
    "Emmen",
    "Leeuwarden",
    "Middelburg",
    "Amersfoort",
    "Apeldoorn",
]

QUESTION_FRAMES = [
    "Hoe pakken jullie {topic} aan{ctx}?",
    "Wie heeft ervaring met {topic}{ctx}?",
    "Hoe organiseren jullie {topic}{ctx}?",
    "Hebben jullie tips voor {topic}{ctx}?",
    "Wat is jullie aanpak voor {topic}{ctx}?",
    "Hoe krijgen jullie {actor} mee bij {topic}?",
    "Hoe regelen jullie {topic} samen met {actor}?",
    "Waar lopen jullie tegenaan bij {topic}{ctx}?",
    "Hoe financieren jullie {topic}{ctx}?",
    "Hoe meten jullie het effect van {topic}{ctx}?",
    "Weet iemand hoe ze in {place} {topic} hebben aangepakt?",
    "{Topic}{ctx}: hoe doen jullie dat?",
    "Hoe betrekken jullie {actor} bij {topic}?",
    "Hoe houden jullie {topic} vol na de eerste projectperiode?",
    "Wie in de regio werkt al aan {topic}{ctx}?",
    "Wat werkt bij {topic} en wat juist niet?",
    "Is er een regio die {topic} goed heeft georganiseerd{ctx}?",
    "Hoe begin je met {topic} als {actor} nog niet aan tafel zit?",
]

ANSWER_OPENINGS = [
    "Bij ons in {place} hebben we {topic} opgepakt met {actor}.",
    "Wij zijn gestart met een pilot rond {topic}.",
    "In {place} werkt {actor} hier al twee jaar aan.",
    "Wat bij ons werkte voor {topic}:",
    "We hebben {topic} ondergebracht bij {actor}.",
    "Kijk eens naar de aanpak van {place}.",
]

ANSWER_DETAILS = [
    "De GGD levert de cijfers en de gemeente trekt het proces.",
    "We financieren het uit de GALA-middelen en een deel uit het IZA-budget.",
    "Een kwartiermaker heeft het eerste jaar alle partijen gesproken.",
    "Belangrijk was dat de wethouder het echt wilde.",
    "We werken met een vaste contactpersoon per huisartsenpraktijk.",
    "Inwoners zaten vanaf het begin in de werkgroep.",
    "De zorgverzekeraar betaalt mee op basis van een convenant.",
    "We meten het met drie indicatoren uit de gezondheidsmonitor.",
    "Vrijwilligers krijgen een korte training en een vaste coördinator.",
    "Het heeft ongeveer anderhalf jaar gekost voordat het liep.",
    "We hebben het klein gehouden: eerst één wijk, daarna de rest.",
    "De welzijnsorganisatie voert het uit, de gemeente subsidieert.",
    "Het materiaal staat op onze gedeelde omgeving, vraag maar om toegang.",
    "Wij nodigen elk kwartaal alle partners uit voor een terugblik.",
    "De praktijkondersteuner verwijst door naar het wijkteam.",
    "Ervaringsdeskundigen denken mee over elke nieuwe stap.",
    "We hebben het positieve-gezondheidsgesprek als basis gekozen.",
    "Er is een regionale stuurgroep met bestuurders van alle partijen.",
    "Het begon met een bijeenkomst in het buurthuis.",
    "Mail me gerust, dan stuur ik het plan van aanpak.",
    "De bekostiging loopt via de Wmo en een deel via de Zvw.",
    "Het werkte pas toen we de huisartsen per wijk gingen bezoeken.",
    "We gebruiken de sociale kaart om snel door te verwijzen.",
    "Door het personeelstekort doen we het met minder uren dan gepland.",
]


@dataclass(frozen=True)
class GeneratedQuestion:
    text: str
    topic: int
    region: int
    asker: int
    created_at: datetime
    answers: tuple[str, ...]
    withdrawn: bool


class Generator:
    """Deterministic (seeded) questions, answers and paraphrase queries."""

    def __init__(self, seed: int, regions: int, members: int) -> None:
        self._random = random.Random(seed)  # noqa: S311  (test data, not secrets)
        self.regions = regions
        self.members = members
        self._start = datetime(2021, 1, 1, tzinfo=UTC)
        # Some topics are asked about far more often than others (Zipf-like), which ones
        # depends on the seed.
        ranks = list(range(len(TOPICS)))
        self._random.shuffle(ranks)
        weights = [1 / (rank + 1) ** 0.8 for rank in ranks]
        self._cumulative = [sum(weights[: i + 1]) for i in range(len(weights))]

    def _fill(self, frame: str, topic: str) -> str:
        pick = self._random.choice
        return frame.format(
            topic=topic,
            Topic=topic[:1].upper() + topic[1:],
            ctx=pick(CONTEXTS),
            actor=pick(ACTORS),
            place=pick(PLACES),
        )

    def question(self, index: int, total: int) -> GeneratedQuestion:
        """The ``index``-th of ``total`` questions, asked over five years."""
        pick = self._random
        topic = pick.choices(range(len(TOPICS)), cum_weights=self._cumulative)[0]
        wording = TOPICS[topic][pick.randrange(2)]
        text = self._fill(pick.choice(QUESTION_FRAMES), wording)
        answered = pick.random() < 0.65
        answers = tuple(
            f"{self._fill(pick.choice(ANSWER_OPENINGS), wording)} "
            + " ".join(pick.sample(ANSWER_DETAILS, pick.randint(1, 3)))
            for _ in range(pick.choice((1, 1, 1, 2, 2, 3)) if answered else 0)
        )
        return GeneratedQuestion(
            text=text,
            topic=topic,
            region=pick.randrange(self.regions),
            asker=pick.randrange(self.members),
            created_at=self._start + timedelta(minutes=index * 5 * 365 * 24 * 60 // total),
            answers=answers,
            withdrawn=pick.random() < 0.03,
        )

    def questions(self, total: int) -> Iterator[GeneratedQuestion]:
        for index in range(total):
            yield self.question(index, total)

    def paraphrase(self) -> tuple[str, int]:
        """A query about a random topic, in a frame and context of its own, and the topic."""
        topic = self._random.randrange(len(TOPICS))
        wording = TOPICS[topic][self._random.randrange(2)]
        return self._fill(self._random.choice(QUESTION_FRAMES), wording), topic


@dataclass(frozen=True)
class DevSet:
    pairs: list[tuple[str, str]]
    distractors: list[str]
    holdout: list[tuple[str, str]]
    """Pairs nobody tuned the synonyms on (see the file's header)."""


def dev_set() -> DevSet:
    """The hand-written pairs, distractors and held-out pairs of tests/data/question_pairs.toml."""
    data = tomllib.loads(DEV_SET.read_text(encoding="utf-8"))
    return DevSet(
        pairs=[(pair["question"], pair["paraphrase"]) for pair in data["pair"]],
        distractors=[entry["question"] for entry in data["distractor"]],
        holdout=[(pair["question"], pair["paraphrase"]) for pair in data.get("holdout", [])],
    )
