"""Dutch-aware search terms: lower-cased, accents folded, stop words dropped, Snowball-stemmed.

Questions store their terms next to their text so "samenwerking", "samenwerken" and
"Samenwerkingen" all find each other, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

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


def stems(text: str) -> list[str]:
    """The distinct search stems of a text, in order of first appearance."""
    words = [w for w in _WORD.findall(fold(text)) if w not in STOP_WORDS]
    seen: dict[str, None] = {}
    for stem in _stemmer().stemWords(words):
        if len(stem) > 1:
            seen.setdefault(stem, None)
    return list(seen)


def search_document(text: str) -> str:
    """The stored form of a text's stems: space-separated, with spaces at both ends."""
    return f" {' '.join(stems(text))} "
