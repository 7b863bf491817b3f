"""A set of words that is kept as its sorted, newline-joined text until it is searched.

The dictionary's word lists (300,000 German and 200,000 English words) go from the
dictionary store into every build's lexicon and from there into the database. As
frozensets, each build would split, hash, sort and join them again: more than a second of a
reindex that adds one article. A ``WordSet`` carries the text through unchanged, and builds
its hash set only when a word is first looked up.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Set
from collections.abc import Set as AbstractSet
from typing import Any


class WordSet(Set[str]):
    """An immutable set of words (without newlines), with its text form at hand."""

    __slots__ = ("_set", "_text")

    def __init__(self, words: Iterable[str] = ()) -> None:
        self._set: AbstractSet[str] | None = frozenset(words)
        self._text: str | None = None

    @classmethod
    def from_text(cls, text: str, words: AbstractSet[str] | None = None) -> WordSet:
        """The words of ``text``, as ``text`` gives them (sorted, newline-joined);
        ``words``, when given, are the same words as a set already made (not copied: it
        must not change afterwards)."""
        out = cls.__new__(cls)
        out._set = words
        out._text = text
        return out

    @property
    def text(self) -> str:
        """The words, sorted and joined by newlines."""
        if self._text is None:
            self._text = "\n".join(sorted(self.words))
        return self._text

    @property
    def words(self) -> AbstractSet[str]:
        if self._set is None:
            self._set = frozenset(self._text.split("\n")) if self._text else frozenset()
        return self._set

    def __contains__(self, word: object) -> bool:
        return word in self.words

    def __iter__(self) -> Iterator[str]:
        return iter(self.words)

    def __len__(self) -> int:
        return len(self.words)

    def __hash__(self) -> int:
        return hash(self.words)

    def __repr__(self) -> str:
        return f"WordSet({len(self)} words)"

    def __reduce__(self) -> tuple[Any, ...]:
        return (WordSet.from_text, (self.text,))
