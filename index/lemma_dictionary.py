"""simplemma's German dictionary as a SQLite file in ``CACHE_DIR``, so that a reindex does
not decode it again.

simplemma keeps its dictionaries lzma-compressed and front-coded; decoding the German one
takes two to three seconds, every process, before the first word is lemmatised. A reindex
that adds one article lemmatises a few thousand words, so that decoding was most of its
time. Here the dictionary is decoded once into ``lemmas-<key>.sqlite3`` (keyed by
simplemma's version and this file's format) and then looked up word by word, through
simplemma's own ``DictionaryFactory`` interface: its strategies (rules, affixes, prefixes)
run unchanged, only their dictionary is read from the file, so the lemmas are the same
(tests/index/test_lemma_dictionary.py checks it).

The file is written to a temporary name and renamed into place, so a kill leaves either no
file or a whole one. Without a cache directory, or when the file cannot be made or read,
simplemma's own dictionary serves: slower, never different.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from importlib.metadata import version
from pathlib import Path
from typing import TypeVar, overload

from index.cache_files import digest, prune

# simplemma is imported where it is used: importing it compiles hundreds of patterns, and
# only builds lemmatise (answering uses the lemmas its build stored).

FORMAT = 1
LANG = "de"
KEEP = 2  # files of other simplemma versions kept (worktrees on another version)

Lemmatize = Callable[[str], str]
_T = TypeVar("_T")


class SqliteMapping(Mapping[str, str]):
    """A read-only ``str → str`` mapping over one table of a SQLite file, as simplemma's
    strategies use their dictionaries (``get``, mostly missing words)."""

    def __init__(self, path: Path) -> None:
        # Read-only and immutable: no locking, no journal, safe to share across threads.
        uri = f"file:{path}?mode=ro&immutable=1"
        self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        (self._len,) = self._db.execute("SELECT count(*) FROM lemmas").fetchone()

    def _lookup(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT lemma FROM lemmas WHERE word = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def __getitem__(self, key: str) -> str:
        if (value := self._lookup(key)) is None:
            raise KeyError(key)
        return value

    @overload
    def get(self, key: str) -> str | None: ...
    @overload
    def get(self, key: str, default: str | _T) -> str | _T: ...
    def get(self, key: str, default: str | _T | None = None) -> str | _T | None:
        value = self._lookup(key)
        return default if value is None else value

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            words = [w for (w,) in self._db.execute("SELECT word FROM lemmas ORDER BY word")]
        return iter(words)

    def __len__(self) -> int:
        return int(self._len)


class _FileFactory:
    """simplemma's ``DictionaryFactory`` protocol, serving the file."""

    def __init__(self, mapping: SqliteMapping) -> None:
        self._mapping = mapping

    def get_dictionary(self, lang: str) -> SqliteMapping:
        if lang != LANG:
            raise ValueError(f"only {LANG!r} is stored, not {lang!r}")
        return self._mapping


def dictionary_file(cache_dir: Path) -> Path:
    key = digest(f"format={FORMAT}", f"simplemma={version('simplemma')}", f"lang={LANG}")
    return cache_dir / f"lemmas-{key}.sqlite3"


def _write(file: Path) -> None:
    """Decode simplemma's dictionary into ``file`` (atomically: a temporary file, renamed)."""
    from simplemma.strategies.dictionaries import DEFAULT_DICTIONARY_FACTORY

    words = DEFAULT_DICTIONARY_FACTORY.get_dictionary(LANG)
    file.parent.mkdir(parents=True, exist_ok=True)
    temporary = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    try:
        with contextlib.closing(sqlite3.connect(temporary)) as db:
            db.execute("PRAGMA journal_mode = OFF")
            db.execute("PRAGMA synchronous = OFF")
            db.execute("CREATE TABLE lemmas (word TEXT PRIMARY KEY, lemma TEXT NOT NULL)")
            db.executemany(
                "INSERT INTO lemmas (word, lemma) VALUES (?, ?)",
                sorted((w, words[w]) for w in words),
            )
            db.commit()
        os.replace(temporary, file)
    finally:
        temporary.unlink(missing_ok=True)


@functools.cache
def german_lemmatizer(cache_dir: Path | None) -> Lemmatize:
    """``simplemma.lemmatize(word, lang="de")``, with its dictionary read from
    ``cache_dir`` (made there on first use)."""

    import simplemma
    from simplemma.strategies import DefaultStrategy

    def plain(word: str) -> str:
        return str(simplemma.lemmatize(word, lang=LANG))

    if cache_dir is None:
        return plain
    file = dictionary_file(cache_dir)
    try:
        if not file.is_file():
            _write(file)
            prune(cache_dir, "lemmas-*.sqlite3", KEEP)
        mapping = SqliteMapping(file)
    except (OSError, sqlite3.Error):  # a cache fails no build: simplemma's own serves
        return plain
    lemmatizer = simplemma.Lemmatizer(
        lemmatization_strategy=DefaultStrategy(dictionary_factory=_FileFactory(mapping))
    )

    def from_file(word: str) -> str:
        return str(lemmatizer.lemmatize(word, lang=LANG))

    return from_file
