"""A spelling-tolerant key of names, so that transliterations of one name meet."""

from __future__ import annotations

import re

from index.text import fold

_NAME_RULES = (
    ("tsch", "c"),
    ("sch", "s"),
    ("ch", "c"),
    ("ph", "f"),
    ("ck", "c"),
    ("w", "v"),
    ("z", "s"),
    ("k", "c"),
    ("q", "c"),
    ("y", "i"),
    ("j", "i"),
    ("ie", "i"),
)


_SILENT_H = re.compile(r"(?<=[bcdfgklmnprstv])h")


def name_key(word: str) -> str:
    """A spelling-tolerant key of a name: transliterations of one name share it
    (Zelensky, Selenskyj, Zelenskyy → "selensci"; Wolodymyr, Volodymyr → "volodimir").
    An "h" after a consonant is silent in most romanisations (Ghandi, Gandhi → "gandi";
    Khan, Kan), so it is dropped once the German digraphs are rewritten."""
    key = fold(word)
    for old, new in _NAME_RULES:
        key = key.replace(old, new)
    key = _SILENT_H.sub("", key)
    return re.sub(r"(.)\1+", r"\1", key)
