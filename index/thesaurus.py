"""German–German synonyms from OpenThesaurus (Debian's ``openthesaurus-de-text``).

A German question's word that the articles never use ("schicken") may name what they say
another way ("entsenden"). Ding only links German words through their English senses;
OpenThesaurus lists German synonym sets, one per line (``schicken;senden;entsenden``),
with usage notes in parentheses (``schmeißen (ugs., fig.)``). Its coverage is patchy, so
it is one hop at a lower weight (``EngineConfig.synonym_hop``), and only for a word that
matches nothing itself.

The file is optional: without it German questions are analysed as before.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from index.config import DEFAULT_CONFIG
from index.text import fold

THESAURUS_DEFAULT_PATH = Path("/usr/share/openthesaurus-de/openthesaurus.txt")
_NOTE = re.compile(r"\([^)]*\)")  # "(ugs.)", "(sich)", "(an)"


@dataclass(frozen=True, slots=True)
class Thesaurus:
    """The synonym sets of single words, and what identifies the file they came from."""

    identity: str
    synsets: tuple[tuple[str, ...], ...]


def parse_thesaurus(text: str) -> tuple[tuple[str, ...], ...]:
    """The sets of ``text`` (one ``a;b;c`` line each, ``#`` comments), as their one-word
    members with the usage notes removed; sets with fewer than two such members are left
    out (a phrase like "in Rente schicken" is no synonym of one word)."""
    out: list[tuple[str, ...]] = []
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        words = dict.fromkeys(
            w for member in line.split(";") if (w := _NOTE.sub("", member).strip()).isalpha()
        )
        if len(words) >= 2:
            out.append(tuple(words))
    return tuple(out)


def load_thesaurus(path: Path | None) -> Thesaurus | None:
    """The thesaurus at ``path``; None when there is none (or it cannot be read)."""
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return Thesaurus(_identity(data), parse_thesaurus(data.decode("utf-8", errors="replace")))


def thesaurus_identity(path: Path | None) -> str:
    """What a build made with the thesaurus at ``path`` depends on: its content."""
    try:
        return _identity(path.read_bytes()) if path is not None else "none"
    except OSError:
        return "none"


def _identity(data: bytes) -> str:
    return f"openthesaurus-{hashlib.sha256(data).hexdigest()[:16]}"


def written_forms(
    term_of_surface: Mapping[str, str], lemma: Callable[[str], str]
) -> dict[str, set[str]]:
    """Each index term's words as the articles write them, and their lemmas, in lower case
    with their umlauts (*forderte*: forderte, fordern; never *fördern*); for
    ``synonym_terms``."""
    forms: dict[str, set[str]] = {}
    for surface, term in term_of_surface.items():
        forms.setdefault(term, set()).update((surface.casefold(), lemma(surface).casefold()))
    return forms


def synonym_terms(
    thesaurus: Thesaurus | None,
    term_of: Callable[[str], str | None],
    vocabulary: Collection[str],
    sense_power: float = DEFAULT_CONFIG.synonym_sense_power,
    never_nouns: Collection[str] = (),
    class_mismatch: float = DEFAULT_CONFIG.class_mismatch,
    written: Mapping[str, Collection[str]] | None = None,
) -> dict[str, dict[str, float]]:
    """For each word (folded) of a synonym set that the articles lack, the indexed terms of
    its sets, each with a boost.

    Only sets that hold an indexed word are read, and only their words that are not
    indexed get an entry: a word the articles use is matched as itself. The entries are
    keyed by the word, not its index term: a question's "Inder" must not take the synonyms
    of *indes* (however), though Snowball stems both to "ind". A question's word looks its
    synonyms up by its lemma (``QueryBuilder.lemma``).

    A word in n sets has n senses, and each set is one: its terms get (1/n)^``sense_power``
    each, summed over the word's sets, at most 1 ("Annahme", in eight sets, no longer
    means each of its 18 indexed synonyms fully). A noun of a set whose term the articles
    never capitalise (``never_nouns``, see ``index.build``) is another word there and
    gives ``class_mismatch`` of that, as a Ding noun sense does.

    ``written`` holds each index term's words as the articles write them (with their
    lemmas, ``written_forms``): a synonym whose term the articles write only as other
    words means none of them. The stem alone joins *fördern* (gewinnen, to mine) with the
    articles' *forderte* (demanded), and *vergeben* (entschuldigen) with *vergeblich*. It
    costs what the stem joined rightly across word classes (the verb *gewinnen* no longer
    meets articles that write only the noun *Gewinne*), and a term the articles write only
    inside compounds has no forms, so is not checked; on the dev sets no hybrid figure moved.
    """
    out: dict[str, dict[str, float]] = {}
    if thesaurus is None:
        return out
    nounless = set(never_nouns)
    # a set counts once for a word, though it may spell it twice (ausnutzen, ausnützen)
    senses = Counter(key for synset in thesaurus.synsets for key in {fold(w) for w in synset})
    for synset in thesaurus.synsets:
        terms = {w: t for w in synset if (t := term_of(w)) is not None}
        indexed: dict[str, float] = {}
        for word, term in terms.items():
            forms = written.get(term) if written is not None else None
            if term in vocabulary and (forms is None or word.casefold() in forms):
                weaker = word[:1].isupper() and term in nounless
                indexed[term] = max(indexed.get(term, 0.0), class_mismatch if weaker else 1.0)
        if not indexed:
            continue
        for key in sorted({fold(w) for w, term in terms.items() if term not in vocabulary}):
            share = (1.0 / senses[key]) ** sense_power
            found = out.setdefault(key, {})
            for t, factor in sorted(indexed.items()):
                found[t] = round(min(1.0, found.get(t, 0.0) + share * factor), 4)
    return out
