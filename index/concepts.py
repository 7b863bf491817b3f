"""What a question is understood as: its concepts, each with the German index terms that
express it (``index.query`` builds them)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from index.text import fold

Language = Literal["de", "en", "mixed"]
ConceptKind = Literal["name", "phrase", "word", "verb", "part", "typo", "cognate", "context"]


@dataclass(frozen=True, slots=True)
class Concept:
    """One idea of the question and the German index terms that express it."""

    source: str  # the words of the question, as typed
    terms: tuple[str, ...]  # index terms (stems) that occur in the articles
    kind: ConceptKind
    weight: float = 1.0
    boosts: tuple[float, ...] = ()  # per term (translation probability); empty: all 1
    entity: bool = False  # a name: matching nothing is a strong sign of "not covered"
    note: str = ""  # e.g. the corrected spelling of a typo
    known: bool = False  # a dictionary word whose translations the articles lack

    def term_boosts(self) -> dict[str, float]:
        """Each term with its boost (1 where none is given)."""
        return dict(zip(self.terms, self.boosts or (1.0,) * len(self.terms), strict=True))


@dataclass(frozen=True, slots=True)
class Query:
    """A question turned into concepts, with what was dropped and why."""

    question: str
    language: Language
    concepts: tuple[Concept, ...]
    truncated: bool = False
    ignored: tuple[str, ...] = field(default=())
    wants_number: bool = False  # "how many …?" / "wie viele …?"
    # two adjacent words that are names the articles never mention ("Jens Stoltenberg"):
    # a person or thing they do not cover, whatever the similarities
    absent_name: str = ""

    @property
    def searchable(self) -> bool:
        return any(c.terms for c in self.concepts)


def distinct(concepts: Iterable[Concept]) -> tuple[Concept, ...]:
    """The concepts without repeats (same terms), so an idea asked twice counts once."""
    seen: set[tuple[str, ...]] = set()
    out: list[Concept] = []
    for c in concepts:
        key = c.terms or (f"\0{fold(c.source)}",)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return tuple(out)
