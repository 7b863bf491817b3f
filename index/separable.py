"""German separable verbs: "fand … statt" is *stattfinden*, "nahm … teil" *teilnehmen*.

In a main clause the particle of a separable verb stands at the clause's end, away from
its verb, so neither word alone is the verb the dictionary lists (and an English question's
"take place" translates to). A clause that ends in a particle gets the verb back: the
particle joined to the lemma of a word before it, where the dictionary knows the result.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from index.concepts import Concept, Query
from index.query import QueryBuilder
from index.text import WORD_RE, fold

# Common separable verb particles: prefixes, and the words that separate like them (klar,
# fest, statt, teil: klarstellen, festlegen, stattfinden, teilnehmen).
PARTICLES = frozenset(
    (  # noqa: SIM905 (a word list reads best as words)
        "ab an auf aus bei dar ein fest fort frei her hin hoch klar los mit nach statt teil vor "
        "weg zu zurück zusammen weiter hervor heraus herein hinaus vorbei entgegen bekannt kennen"
    ).split()
)
# A clause: the text between sentence marks, commas, colons, brackets and quotes (not
# dashes: "lehnt … - zumal aus Nato-Staaten - strikt ab" is one clause around an insertion).
_CLAUSE_RE = re.compile(r"[^.,;:!?…()\[\]„“”\"«»]+")
_CONJUNCTIONS = frozenset({"und", "oder", "aber", "sondern", "denn", "doch"})


@dataclass(frozen=True, slots=True)
class SeparableVerb:
    """A verb split in a clause: its finite part and particle (start offsets), and the
    infinitive they make (folded)."""

    verb: str
    verb_start: int
    particle: str
    particle_start: int
    infinitive: str


def separable_verbs(
    text: str, lemma: Callable[[str], str], known: Collection[str], base: int = 0
) -> list[SeparableVerb]:
    """Each clause of ``text`` that ends in a particle whose verb, joined to it, is a word
    of ``known`` (folded); offsets are shifted by ``base``."""
    out: list[SeparableVerb] = []
    for clause in _CLAUSE_RE.finditer(text):
        offset = base + clause.start()
        words = list(WORD_RE.finditer(clause.group()))
        # a coordinating conjunction begins another main clause ("nahm … teil und ließ …")
        cuts = [
            0,
            *(i for i, w in enumerate(words) if fold(w.group()) in _CONJUNCTIONS),
            len(words),
        ]
        for a, b in itertools.pairwise(cuts):
            found = _split_verb(words[a:b], lemma, known, offset)
            if found is not None:
                out.append(found)
    return out


def _split_verb(
    words: Sequence[re.Match[str]], lemma: Callable[[str], str], known: Collection[str], offset: int
) -> SeparableVerb | None:
    if len(words) < 2 or (particle := fold(words[-1].group())) not in PARTICLES:
        return None
    for i, word in enumerate(words[:-1]):
        surface = word.group()
        if i and surface[:1].isupper():
            continue  # a noun, not the verb
        infinitive = particle + lemma(surface)
        if infinitive in known:
            last = words[-1]
            return SeparableVerb(
                surface, offset + word.start(), last.group(), offset + last.start(), infinitive
            )
    return None


def spelled_infinitive(split: SeparableVerb, lemma: str | None = None) -> str:
    """The infinitive as written, where ``infinitive`` is folded ("ausfuhren"): the
    particle and ``lemma`` (the verb's lemma as a lemmatiser spells it: "trägt" → tragen),
    else the umlauts the verb was written with ("führte … aus" → "ausführen"); letters past
    what the written verb shares with it stay folded (an ablaut: "stieß … auf" →
    "aufstossen"). Only a lemma knows that "trägt … bei" is *beitragen*."""
    if lemma and fold(split.particle) + fold(lemma) == split.infinitive:
        return split.particle.lower() + lemma.lower()
    particle = split.particle.lower()
    rest = split.infinitive[len(fold(particle)) :]
    written = split.verb.lower()
    if len(fold(written)) != len(written):  # folding changed the length (ß → ss)
        return particle + rest
    shared = 0
    while shared < min(len(rest), len(written)) and fold(written[shared]) == rest[shared]:
        shared += 1
    return particle + written[:shared] + rest[shared:]


def with_separable_verbs(query: Query, builder: QueryBuilder) -> Query:
    """A German question with each separable verb it splits as one more concept ("nahm …
    teil" → *teilnehmen*), where the index holds the verb (see ``separable_verbs``).

    The two words stay concepts of their own: a passage that splits the verb the same way
    ("Merz nahm virtuell an den Beratungen teil") says it in those words.
    """
    if query.language != "de":
        return query
    analyzer = builder.analyzer
    found = separable_verbs(query.question, builder.lemma, builder.lexicon.german_words)
    concepts = list(query.concepts)
    for split in found:
        term = analyzer.stem(split.infinitive)
        if term not in builder.vocabulary:
            continue
        source = f"{split.verb} … {split.particle}"
        lemma = builder.lemmatize(split.verb) if builder.lemmatize else None
        note = spelled_infinitive(split, lemma)
        concepts.append(Concept(source, (term,), "verb", note=note))
    if len(concepts) == len(query.concepts):
        return query
    return dataclasses.replace(query, concepts=tuple(concepts))
