"""simplemma's German dictionary as a file in ``CACHE_DIR``, so that a reindex does not
decode it again.

simplemma keeps its dictionaries lzma-compressed and front-coded; decoding the German one
takes two to three seconds, every process, before the first word is lemmatised. A reindex
that adds one article lemmatises a few thousand words, so that decoding was most of its
time. Here the dictionary is decoded once into ``lemmas-<key>.bin`` (keyed by simplemma's
version and this file's format): its words sorted, with their lemmas, as flat arrays that
load in milliseconds and are searched by bisection. It is read through simplemma's own
``DictionaryFactory`` interface: its strategies (rules, affixes, prefixes) run unchanged,
only their dictionary comes from the file, so the lemmas are the same
(tests/index/test_lemma_dictionary.py checks it).

The file is written atomically with a checksum (``index.cache_files``): a damaged one reads
as missing and is made again. Without a cache directory, or when the file cannot be made,
simplemma's own dictionary serves: slower, never different.
"""

from __future__ import annotations

import functools
import pickle
import threading
from array import array
from collections.abc import Callable, Iterator, Mapping
from importlib.metadata import version
from pathlib import Path
from typing import TypeVar, overload

from index.artifacts import ArtifactFormat
from index.cache_files import building, digest, prune, read_checked, write_atomic

# simplemma is imported where it is used: importing it compiles hundreds of patterns, and
# builds lemmatise; answering uses the lemmas its build stored, and this file's dictionary
# only for the question words those lack (``lazy_german_lemmatizer``).

FORMAT = ArtifactFormat("lemma dictionary", b"NBLD", 1)
LANG = "de"
KEEP = 2  # files of other simplemma versions kept (worktrees on another version)

Lemmatize = Callable[[str], str]
_T = TypeVar("_T")


class SortedMapping(Mapping[str, str]):
    """A read-only ``str → str`` mapping over sorted UTF-8 keys and their values, each a
    flat byte string cut by an offsets array; looked up by bisection, as simplemma's
    strategies use their dictionaries (``get``, mostly for missing words)."""

    def __init__(self, keys: bytes, key_ptr: bytes, values: bytes, value_ptr: bytes) -> None:
        self._keys, self._values = keys, values
        self._key_ptr, self._value_ptr = array("I"), array("I")
        self._key_ptr.frombytes(key_ptr)
        self._value_ptr.frombytes(value_ptr)
        self._len = len(self._key_ptr) - 1

    def _key(self, i: int) -> bytes:
        return self._keys[self._key_ptr[i] : self._key_ptr[i + 1]]

    def _lookup(self, key: str) -> str | None:
        wanted = key.encode("utf-8")
        lo, hi = 0, self._len
        while lo < hi:
            mid = (lo + hi) // 2
            if self._key(mid) < wanted:
                lo = mid + 1
            else:
                hi = mid
        if lo == self._len or self._key(lo) != wanted:
            return None
        return self._values[self._value_ptr[lo] : self._value_ptr[lo + 1]].decode("utf-8")

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
        return (self._key(i).decode("utf-8") for i in range(self._len))

    def __len__(self) -> int:
        return self._len


class _FileFactory:
    """simplemma's ``DictionaryFactory`` protocol, serving the file."""

    def __init__(self, mapping: SortedMapping) -> None:
        self._mapping = mapping

    def get_dictionary(self, lang: str) -> SortedMapping:
        if lang != LANG:
            raise ValueError(f"only {LANG!r} is stored, not {lang!r}")
        return self._mapping


def dictionary_file(cache_dir: Path) -> Path:
    key = digest(f"format={FORMAT.version}", f"simplemma={version('simplemma')}", f"lang={LANG}")
    return cache_dir / f"lemmas-{key}.bin"


def _payload() -> bytes:
    """simplemma's German dictionary, decoded once, as ``SortedMapping``'s arrays."""
    from simplemma.strategies.dictionaries.dictionary_factory import (
        _load_dictionary_from_disk,  # the bytes → bytes dict itself (simplemma is pinned)
    )

    words = _load_dictionary_from_disk(LANG)
    keys, values = sorted(words), []
    key_ptr, value_ptr = array("I", [0]), array("I", [0])
    for key in keys:
        key_ptr.append(key_ptr[-1] + len(key))
        values.append(words[key])
        value_ptr.append(value_ptr[-1] + len(values[-1]))
    parts = (b"".join(keys), key_ptr.tobytes(), b"".join(values), value_ptr.tobytes())
    return pickle.dumps(parts, protocol=pickle.HIGHEST_PROTOCOL)


def _mapping(cache_dir: Path) -> SortedMapping | None:
    """The file's mapping, made first when it is missing or damaged (and then served from
    memory, if the file cannot be written); None if it cannot be made at all."""
    file = dictionary_file(cache_dir)
    payload: bytes | memoryview | None = read_checked(file, FORMAT)
    if payload is None:
        with building(file):  # another process making it: wait, then read it
            payload = read_checked(file, FORMAT)
            if payload is None:
                try:
                    payload = _payload()
                except Exception:  # simplemma changed inside: its own dictionary serves
                    return None
                if write_atomic(file, payload, FORMAT):
                    prune(cache_dir, "lemmas-*.bin", KEEP)
    try:
        return SortedMapping(*pickle.loads(payload))
    except Exception:  # a cache fails no build
        return None


@functools.cache
def german_lemmatizer(cache_dir: Path | None) -> Lemmatize:
    """``simplemma.lemmatize(word, lang="de")``, with its dictionary read from
    ``cache_dir`` (made there on first use)."""

    import simplemma
    from simplemma.strategies import DefaultStrategy

    def plain(word: str) -> str:
        return str(simplemma.lemmatize(word, lang=LANG))

    mapping = _mapping(cache_dir) if cache_dir is not None else None
    if mapping is None:
        return plain
    lemmatizer = simplemma.Lemmatizer(
        lemmatization_strategy=DefaultStrategy(dictionary_factory=_FileFactory(mapping))
    )

    def from_file(word: str) -> str:
        return str(lemmatizer.lemmatize(word, lang=LANG))

    return from_file


def lazy_german_lemmatizer(cache_dir: Path | None) -> Lemmatize:
    """``german_lemmatizer(cache_dir)``, loaded on its first word, not before (once, also
    when answers in several threads ask at the same time)."""
    loading = threading.Lock()
    loaded: list[Lemmatize] = []

    def lemmatize(word: str) -> str:
        if not loaded:  # the lock only until it is loaded, not on every word
            with loading:
                if not loaded:
                    loaded.append(german_lemmatizer(cache_dir))
        return loaded[0](word)

    return lemmatize
