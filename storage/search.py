"""Dutch-aware search terms: lower-cased, accents folded, stop words dropped, Snowball-stemmed.

Questions store their terms next to their text so "samenwerking", "samenwerken" and
"Samenwerkingen" all find each other, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

import snowballstemmer

_WORD = re.compile(r"[a-z0-9]+")

STOP_WORDS = frozenset(
    """
    de het een en of maar dat die dit deze er is zijn was waren wordt worden werd kan kunnen
    we wij ik jij je u hij zij ze ons onze mijn jouw hun hen van voor met op in aan uit bij naar
    om over tot door als dan ook nog wel niet geen al meer zo te hoe wat wie waar wanneer waarom
    welke welk heeft hebben had hadden doen doet deed moet moeten zou zouden gaan gaat the a an
    of to and or how do we what is are
    """.split()
)


@lru_cache(maxsize=1)
def _stemmer() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("dutch")


def fold(text: str) -> str:
    """Lower-case and strip accents, so "één" and "een" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=65_536)
def _stem(word: str) -> str:
    """One word's stem, remembered: the pure-Python stemmer costs about 0.1 ms a word, and a
    network's vocabulary is small, so most words of a new question were stemmed before."""
    return str(_stemmer().stemWord(word))


def stems(text: str) -> list[str]:
    """The distinct search stems of a text, in order of first appearance."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(fold(text)):
        if word in STOP_WORDS:
            continue
        stem = _stem(word)
        if len(stem) > 1:
            seen.setdefault(stem, None)
    return list(seen)


def search_document(text: str) -> str:
    """The stored form of a text's stems: space-separated, with spaces at both ends."""
    return f" {' '.join(stems(text))} "


# ---------------------------------------------------------------------- matching questions
#
# Everything below is for finding earlier questions like a new one (storage/repositories/
# matching.py): the stems a question's search entry holds, and a query broken into concepts,
# each with the related words from prompts/synonyms.toml that may stand for it.

SEARCH_INDEX_TABLE = "question_search"
"""The full-text index of questions (migration 0003): an FTS5 table on SQLite, a plain table
on PostgreSQL, there with ``question_search_stem`` beside it (migration 0004). No model
describes them, so schema comparisons leave out this table and every table whose name starts
with it and an underscore."""

PREFIX_MIN = 4
"""A query stem this long also finds longer words that begin with it: Dutch glues words into
compounds and plurals stem differently, so "mantelzorg" should find "mantelzorgers" and
"huisarts" "huisartsenpraktijk". Shorter stems ("ggd", "zon") would find far too much. The
matcher uses prefixes only for rare concepts (see storage/repositories/matching.py)."""

MAX_QUERY_CONCEPTS = 32
"""Only a text's first concepts count: a question is rarely longer, and a pasted essay must
not turn into a query of hundreds of terms."""

QUERY_FILLER = frozenset(
    """
    jullie iemand ervaring ervaringen tip tips idee ideeen weet weten zoek zoeken graag
    manier welke andere anderen elkaar zorgen zorgt precies eigenlijk misschien vraag vragen
    benieuwd iets alle hierbij hiermee daarbij daarvoor waarmee waarbij waarvoor zelf toch
    goed goede beter beste lukt lukken kunnen mogelijk laten laat tussen samen
    maken maakt gemaakt houden houdt gehouden regelen regelt geregeld organiseren organiseert
    georganiseerd pakken pakt aanpakken aangepakt zetten zet gezet opzetten opgezet richten
    richt inrichten ingericht krijgen krijgt gekregen geven geeft gegeven brengen brengt
    gebracht komen komt gekomen staan staat werkt gewerkt helpen helpt geholpen omgaan
    gebruiken gebruikt gebruikten vorm vormgeven onder tegen via per rond rondom na sinds
    tijdens vanuit langs volgens dus omdat zodat terwijl ondanks zoals bijvoorbeeld heel erg
    echt vaak soms nu zich hier daar hierover daarover waarover
    """.split()
)
"""Words that say "this is a question" rather than what it is about ("Hoe zorgen jullie
dat…", "Wie heeft ervaring met…", "Hoe pakken jullie … aan?"). They are left out of queries,
not of the index: the verbs that frame a #hoedan question ("maken", "regelen", "organiseren")
say nothing about its subject, and in a network of a few hundred questions they are not yet
common enough for their rarity weight alone to silence them. "zorgen" is the verb ("zorgen
dat", "zorgen voor"); "zorg" (care) still counts."""

GENERIC_WORDS = frozenset(
    """
    regio regios regionaal regionale netwerk netwerken samenwerking samenwerken samenwerkt
    partner partners partij partijen organisatie organisaties zorg aanpak mensen project
    projecten gemeente gemeenten gemeentes gebied gebieden
    """.split()
)
"""Words nearly every question in this field could contain. They still count, but for
``GENERIC_WEIGHT`` of a concept's rarity weight, so sharing "het netwerk" or "de regio" alone
never makes two questions similar, however rare such words are in a young network."""

GENERIC_WEIGHT = 0.3
"""What a generic word's concept weighs, as a share of its rarity weight."""

Term = tuple[str, ...]
"""One way to say something, as stems: a document contains it when it has every stem."""


@dataclass(frozen=True)
class Alternative:
    """Terms that may stand for a concept, and how much a match on them is worth (0..1)."""

    terms: tuple[Term, ...]
    weight: float


@dataclass(frozen=True)
class Concept:
    """One idea in a query: the asker's own words first, then related words, if any."""

    own: Term
    alternatives: tuple[Alternative, ...]
    """The asker's own term (weight 1.0) first, then related terms from synonyms.toml."""
    salience: float = 1.0
    """How much the concept says about a question: ``GENERIC_WEIGHT`` for generic words."""


@dataclass(frozen=True)
class SearchEntry:
    """A question's row in the search index: its stems, and the stems of all its answers."""

    question: str
    answers: str


@lru_cache(maxsize=65536)
def stem_word(word: str) -> str:
    """One word's stem; cached, because Snowball in pure Python costs ~50 µs a word."""
    stem: str = _stemmer().stemWord(word)
    return stem


def _stem_sequence(text: str, *, skip: frozenset[str] = frozenset()) -> list[str]:
    """The stems of a text in order, repeats kept, exactly as ``stems`` makes them."""
    out: list[str] = []
    for word in _WORD.findall(fold(text)):
        if word in STOP_WORDS or word in skip:
            continue
        stem = stem_word(word)
        if len(stem) > 1:
            out.append(stem)
    return out


def _distinct(stems_in_order: list[str]) -> list[str]:
    return list(dict.fromkeys(stems_in_order))


def search_entry(question_text: str, answer_texts: list[str]) -> SearchEntry:
    """What the search index holds for a question: the same stems as ``search_document``
    (without its outer spaces) and, separately, the distinct stems of all its answers."""
    answers: list[str] = []
    for text in answer_texts:
        answers.extend(_stem_sequence(text))
    return SearchEntry(
        question=" ".join(_distinct(_stem_sequence(question_text))),
        answers=" ".join(_distinct(answers)),
    )


def is_search_stem(value: str) -> bool:
    """True for what ``stems`` can produce: lower-case ASCII letters and digits only.

    Queries are built from stems, so this is what keeps user text from ever reaching a
    full-text query as syntax; anything else is dropped before it gets there.
    """
    return _WORD.fullmatch(value) is not None


@dataclass(frozen=True)
class _Synonyms:
    groups: tuple[tuple[tuple[Term, ...], float], ...]
    by_term: dict[Term, tuple[int, ...]]
    longest: int


@lru_cache(maxsize=1)
def _synonyms() -> _Synonyms:
    """prompts/synonyms.toml, stemmed: which groups each term belongs to."""
    raw = tomllib.loads(files("prompts").joinpath("synonyms.toml").read_text(encoding="utf-8"))
    default = float(raw.get("weight", 0.7))
    groups: list[tuple[tuple[Term, ...], float]] = []
    by_term: dict[Term, list[int]] = {}
    for entry in raw.get("group", []):
        terms = _distinct_terms(entry["words"])
        if len(terms) < 2:
            continue
        for term in terms:
            by_term.setdefault(term, []).append(len(groups))
        groups.append((terms, float(entry.get("weight", default))))
    return _Synonyms(
        groups=tuple(groups),
        by_term={term: tuple(indexes) for term, indexes in by_term.items()},
        longest=max((len(term) for term in by_term), default=1),
    )


def _distinct_terms(words: list[str]) -> tuple[Term, ...]:
    terms: dict[Term, None] = {}
    for word in words:
        term = tuple(_distinct(_stem_sequence(word, skip=QUERY_FILLER)))
        if term:
            terms.setdefault(term, None)
    return tuple(terms)


def query_concepts(text: str) -> list[Concept]:
    """The concepts of a question or search text, in order, each once.

    Stop words and question filler are skipped; a run of stems that is a multi-word entry of
    synonyms.toml ("sociaal team", "integraal zorgakkoord") is one concept; every concept gets
    the other entries of its synonym groups as alternatives, worth the group's weight.
    """
    sequence = _stem_sequence(text, skip=QUERY_FILLER)
    synonyms = _synonyms()
    concepts: dict[Term, Concept] = {}
    position = 0
    while position < len(sequence) and len(concepts) < MAX_QUERY_CONCEPTS:
        term: Term = (sequence[position],)
        for length in range(min(synonyms.longest, len(sequence) - position), 1, -1):
            candidate = tuple(sequence[position : position + length])
            if candidate in synonyms.by_term:
                term = candidate
                break
        position += len(term)
        if term not in concepts:
            concepts[term] = _concept(term)
    return list(concepts.values())


@lru_cache(maxsize=8192)
def _concept(own: Term) -> Concept:
    """A concept with its alternatives; cached, as the synonyms never change while running."""
    synonyms = _synonyms()
    related: dict[float, dict[Term, None]] = {}
    for index in synonyms.by_term.get(own, ()):
        terms, weight = synonyms.groups[index]
        for term in terms:
            if term != own:
                related.setdefault(weight, {}).setdefault(term, None)
    alternatives = [Alternative(terms=(own,), weight=1.0)]
    seen = {own}
    for weight in sorted(related, reverse=True):
        fresh = tuple(term for term in related[weight] if term not in seen)
        seen.update(fresh)
        if fresh:
            alternatives.append(Alternative(terms=fresh, weight=weight))
    generic = len(own) == 1 and own[0] in generic_stems()
    return Concept(
        own=own,
        alternatives=tuple(alternatives),
        salience=GENERIC_WEIGHT if generic else 1.0,
    )


@lru_cache(maxsize=1)
def generic_stems() -> frozenset[str]:
    """The stems of ``GENERIC_WORDS``."""
    return frozenset(stem_word(word) for word in GENERIC_WORDS)


def include_in_schema_comparison(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic ``include_name`` hook: leave out the search index (SQLite also adds shadow
    tables ``question_search_data``, ``_idx``, ``_content``, ``_config``; PostgreSQL has
    ``question_search_stem``), which no model describes because an FTS5 table cannot be one;
    everything else is compared."""
    if type_ != "table" or name is None:
        return True
    return name != SEARCH_INDEX_TABLE and not name.startswith(f"{SEARCH_INDEX_TABLE}_")
