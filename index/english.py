"""English question words: possessives, word classes, and "us" the country.

English questions are matched against Ding's English keys; these helpers make a typed
question's words look like such keys and tell the dictionary which sense is meant (a word
that can be a noun or a verb, "promise", is read by the word before it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

from lemminflect import getAllLemmas as _lemminflect_lemmas

from index.analysis import ENGLISH_STOPWORDS, load_words
from index.text import Token, fold


@lru_cache(maxsize=1 << 16)
def english_lemmas(word: str) -> Mapping[str, tuple[str, ...]]:
    """lemminflect's lemmas of ``word`` by part of speech, looked up once per word (its own
    lookup deep-copies a table each time). Read-only: the result is shared."""
    return {pos: tuple(forms) for pos, forms in _lemminflect_lemmas(word).items()}


_POSSESSIVE_RE = re.compile(r"(?<=\w)(?:['’]s|s['’])$|(?<=\w)['’]$")
_UPOS_CLASS = {"VERB": "v", "AUX": "v", "NOUN": "n", "ADJ": "a", "ADV": "a"}
# Words before an English noun-or-verb that make it a noun, and those that make it a verb.
_DETERMINERS = load_words("english_noun_cues.txt")
_VERB_CUES = load_words("english_verb_cues.txt")


def strip_possessive(word: str) -> str:
    """``Zelensky's`` → ``Zelensky``, ``Panthers'`` → ``Panthers``."""
    return _POSSESSIVE_RE.sub("", word) or word


def english_classes(words: Sequence[str]) -> list[str | None]:
    """A word class ("n", "v", "a") for each English question word where it is clear.

    lemminflect lists the classes a word form can have; where it can be a noun and a
    verb, the word before decides: after a determiner or preposition a noun, after
    "to", an auxiliary or a pronoun a verb, and the first such word after an auxiliary
    ("What did the US promise?") a verb.
    """
    out: list[str | None] = []
    after_auxiliary = False
    verb_seen = False
    for i, word in enumerate(words):
        lower = word.lower()
        classes = {c for u in english_lemmas(lower) if (c := _UPOS_CLASS.get(u))}
        prev = words[i - 1].lower() if i else ""
        cls: str | None = None
        if len(classes) == 1:
            (cls,) = classes
        elif classes:
            if prev in _DETERMINERS:
                cls = "n" if "n" in classes else None
            elif prev in _VERB_CUES or (after_auxiliary and not verb_seen):
                cls = "v" if "v" in classes else None
        if lower in {
            "did",
            "does",
            "do",
            "will",
            "would",
            "can",
            "could",
            "should",
            "has",
            "have",
            "had",
        }:
            after_auxiliary = True
        elif cls == "v" and after_auxiliary:
            verb_seen = True
        out.append(cls)
    return out


def country_us(tokens: list[Token]) -> list[Token]:
    """Lowercase "us" as the country where the context says so: "the us", "us troops"."""
    out = list(tokens)
    for i, tok in enumerate(tokens):
        if tok.surface != "us":
            continue
        prev = tokens[i - 1].surface.lower() if i else ""
        nxt = tokens[i + 1].surface.lower() if i + 1 < len(tokens) else ""
        nxt_classes = set(english_lemmas(nxt)) if nxt else set()
        if prev == "the" or "NOUN" in nxt_classes:
            out[i] = Token("US", tok.start, tok.end)
    return out


def framed_word(words: Sequence[str]) -> int | None:
    """The position of a phrase's one content word when a function word frames it
    ("chair of", "the first", "be used"), else None."""
    if not words or not {fold(words[0]), fold(words[-1])} & ENGLISH_STOPWORDS:
        return None
    content = [i for i, w in enumerate(words) if fold(w) not in ENGLISH_STOPWORDS]
    return content[0] if len(content) == 1 else None
