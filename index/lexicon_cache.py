"""On-disk caches that make a reindex cheap when little has changed.

Two kinds of files live in ``CACHE_DIR``:

* The **dictionary store** (``dictionary-<key>.bin``): the Ding dictionary parsed once, in a
  form that loads in a fraction of a second, with an index from each German *index term* to
  the dictionary entries whose German side contains it. Compiling the lexicon for a
  vocabulary then reads only the entries that can meet it — a lookup per vocabulary term
  instead of a pass over 280,000 entries — so a reindex after adding an article compiles in
  milliseconds.
* **Compiled lexicons** (``lexicon-<key>.pickle``), keyed by everything a compiled lexicon
  depends on: the dictionary file, the glossary, the analyser and lexicon code (their
  version constants and their source), and the vocabulary. A reindex whose vocabulary did not
  change compiles nothing.

``cached_lexicon`` is generic: it takes the inputs and a compile callable and knows nothing
of how compiling works. Bump ``index.lexicon.LEXICON_VERSION`` when the compiled lexicon
changes meaning; editing the modules it is built by invalidates the caches as well.

Every write is atomic and every file carries a checksum (``index.cache_files``), so a file
cut short by a kill or a full disk reads as missing and is rebuilt. Caching is an
optimisation only: without a usable cache directory everything still works, only slower.
"""

from __future__ import annotations

import contextlib
import functools
import json
import marshal
import pickle
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import index
import index.analysis
import index.config
import index.ding
import index.lexicon
import index.text
from index.analysis import ANALYZER_VERSION, GermanAnalyzer, german_lemmas, part_stems
from index.artifacts import ArtifactFormat
from index.cache_files import digest, prune, read_checked, write_atomic
from index.ding import DingEntries, load_ding
from index.lexicon import LEXICON_VERSION, GlossaryEntry, Lexicon

# The files below; bump a version when the layout of what it holds changes (the version is
# part of the files' keys too, so code versions that differ in it never share a file).
STORE_FORMAT = ArtifactFormat("dictionary store", b"NBDS", 6)
LEXICON_CACHE_FORMAT = ArtifactFormat("compiled lexicon", b"NBCL", 5)
KEEP_DICTIONARIES = 4  # stores of other dictionary files or code versions (worktrees) kept
KEEP_LEXICONS = 16

Progress = Callable[[str, int, int], None]


# --- keys -------------------------------------------------------------------------------


@functools.cache
def code_digest() -> str:
    """The source of the modules a compiled lexicon is made by, and their data files.

    A compiled lexicon depends on the Ding parser, the glossary matcher and the analyser's
    ``term_of`` (folding, stop words, stemming); editing any of them must invalidate the
    caches, whether or not someone remembered to bump a version constant.
    """
    modules = (index.analysis, index.config, index.ding, index.lexicon, index.text)
    files = [Path(str(m.__file__)) for m in modules]
    files += sorted((Path(str(index.__file__)).parent / "data").glob("*.txt"))
    return digest(*(f.read_bytes() for f in files))


def dictionary_identity(path: Path | None) -> str:
    """Which dictionary file (path, size, modification time), or ``none``."""
    if path is None or not path.is_file():
        return "none"
    stat = path.stat()
    return f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


def vocabulary_digest(vocabulary: Iterable[str]) -> str:
    return digest("\n".join(sorted(vocabulary)))


def glossary_digest(glossary: Sequence[GlossaryEntry]) -> str:
    entries = [[list(e.variants), list(e.terms), e.source] for e in glossary]
    return digest(json.dumps(entries, ensure_ascii=False))


# --- the dictionary store -----------------------------------------------------------------


def _join(words: Iterable[str]) -> str:
    return "\n".join(sorted(words))


def _split(text: str) -> list[str]:
    return text.split("\n") if text else []


class StoredDictionary(DingEntries):
    """The Ding dictionary as the store holds it: a ``DingEntries`` whose parts are decoded
    on first use, plus ``restricted``, the entries that can meet a vocabulary.

    Everything a ``DingEntries`` offers works (``translations`` decodes all entries, which
    takes a second); the reindex itself only ever needs ``restricted``.
    """

    def __init__(self, data: Mapping[str, Any], identity: str) -> None:
        # DingEntries.__init__ is not called: its fields are the properties below.
        self.identity = identity
        self._data = data
        self._parts: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"StoredDictionary({self.identity!r})"

    def _words(self, name: str) -> set[str]:
        if name not in self._parts:
            self._parts[name] = set(_split(self._data[name]))
        words: set[str] = self._parts[name]
        return words

    def _set(self, name: str, value: Any) -> None:
        self._parts[name] = value

    @property
    def english_words(self) -> set[str]:
        return self._words("english_words")

    @english_words.setter
    def english_words(self, value: set[str]) -> None:
        self._set("english_words", value)

    @property
    def german_words(self) -> set[str]:
        return self._words("german_words")

    @german_words.setter
    def german_words(self, value: set[str]) -> None:
        self._set("german_words", value)

    @property
    def german_nouns(self) -> set[str]:
        return self._words("german_nouns")

    @german_nouns.setter
    def german_nouns(self, value: set[str]) -> None:
        self._set("german_nouns", value)

    @property
    def german_names(self) -> set[str]:
        return self._words("german_names")

    @german_names.setter
    def german_names(self, value: set[str]) -> None:
        self._set("german_names", value)

    @property
    def classes(self) -> dict[tuple[str, ...], str]:
        found: dict[tuple[str, ...], str] = self._parts.get("classes", self._data["classes"])
        return found

    @classes.setter
    def classes(self, value: dict[tuple[str, ...], str]) -> None:
        self._set("classes", value)

    @property
    def noun_part_stems(self) -> dict[str, str]:
        """``part_stems`` of the dictionary's nouns, made with the store (a second's work
        that every build's decompounder would otherwise repeat)."""
        if "noun_part_stems" not in self._parts:
            parts, stems = _split(self._data["noun_parts"]), _split(self._data["noun_stems"])
            self._parts["noun_part_stems"] = dict(zip(parts, stems, strict=True))
        found: dict[str, str] = self._parts["noun_part_stems"]
        return found

    @property
    def lemmas(self) -> dict[str, str] | None:
        found: dict[str, str] | None = self._parts.get("lemmas", self._data.get("lemmas"))
        return found

    @lemmas.setter
    def lemmas(self, value: dict[str, str] | None) -> None:
        self._set("lemmas", value)

    @property
    def synonyms(self) -> dict[str, set[str]]:
        found: dict[str, set[str]] = self._parts.get("synonyms", self._data["synonyms"])
        return found

    @synonyms.setter
    def synonyms(self, value: dict[str, set[str]]) -> None:
        self._set("synonyms", value)

    @property
    def translations(self) -> dict[str, dict[tuple[str, ...], int]]:
        if "translations" not in self._parts:
            self._parts["translations"] = self._entries(range(len(self._keys)))
        found: dict[str, dict[tuple[str, ...], int]] = self._parts["translations"]
        return found

    @translations.setter
    def translations(self, value: dict[str, dict[tuple[str, ...], int]]) -> None:
        self._set("translations", value)

    @functools.cached_property
    def _keys(self) -> list[str]:
        return _split(self._data["keys"])

    @functools.cached_property
    def _term_ids(self) -> dict[str, int]:
        return {t: i for i, t in enumerate(_split(self._data["terms"]))}

    def _entries(self, key_ids: Iterable[int]) -> dict[str, dict[tuple[str, ...], int]]:
        entries: bytes = self._data["entries"]
        ptr = array("Q")
        ptr.frombytes(self._data["entry_ptr"])
        keys = self._keys
        return {
            keys[k]: {tuple(p): n for p, n in marshal.loads(entries[ptr[k] : ptr[k + 1]])}
            for k in key_ids
        }

    @functools.cached_property
    def _word_terms(self) -> dict[str, str | None]:
        terms = _split(self._data["word_terms"])
        return {w: t or None for w, t in zip(_split(self._data["words"]), terms, strict=True)}

    def term_function(self, term_of: Callable[[str], str | None]) -> Callable[[str], str | None]:
        """``term_of``, answered from the store for the dictionary's own words.

        The store was made with the analyser's ``term_of`` of the same code (the store's
        key includes it), so the answers are the same, only without folding and stemming
        hundreds of thousands of words again.
        """
        known = self._word_terms
        missing = object()

        def lookup(word: str) -> str | None:
            found = known.get(word, missing)
            return term_of(word) if found is missing else found  # type: ignore[return-value]

        return lookup

    def restricted(self, vocabulary: Iterable[str]) -> DingEntries:
        """The entries whose German side contains a word whose index term is in
        ``vocabulary`` (in dictionary order), and all of the word lists.

        This is every entry a lexicon compiled against ``vocabulary`` can use, as long as
        compiling keeps only translations whose German words' terms occur in the index,
        which is what ``compile_lexicon`` is for (tests/index/test_lexicon_cache.py
        checks that both give the same lexicon).
        """
        term_ptr, term_keys = array("Q"), array("I")
        term_ptr.frombytes(self._data["term_ptr"])
        term_keys.frombytes(self._data["term_keys"])
        ids: set[int] = set()
        for term in vocabulary:
            i = self._term_ids.get(term)
            if i is not None:
                ids.update(term_keys[term_ptr[i] : term_ptr[i + 1]])
        return DingEntries(
            translations=self._entries(sorted(ids)),
            english_words=self.english_words,
            german_words=self.german_words,
            german_nouns=self.german_nouns,
            classes=self.classes,
            german_names=self.german_names,
            synonyms=self.synonyms,
            lemmas=self.lemmas,
        )


def store_bytes(
    entries: DingEntries,
    analyzer: GermanAnalyzer,
    progress: Callable[[int, int], None] | None = None,
) -> bytes | None:
    """The dictionary store of ``entries``, with the index terms of ``analyzer``; None when
    the entries do not fit its format."""
    term_of = analyzer.term_of
    words = (
        entries.english_words,
        entries.german_words,
        entries.german_nouns,
        entries.german_names,
    )
    if any("\n" in w for group in words for w in group):
        return None
    keys = list(entries.translations)
    terms: dict[str, list[int]] = {}
    term_cache: dict[str, str | None] = {}
    blobs: list[bytes] = []
    entry_ptr = array("Q", [0])
    step = max(len(keys) // 50, 1)
    for key_id, key in enumerate(keys):
        if "\n" in key:
            return None
        phrases = entries.translations[key]
        blob = marshal.dumps([(list(p), n) for p, n in phrases.items()])
        blobs.append(blob)
        entry_ptr.append(entry_ptr[-1] + len(blob))
        met: set[str] = set()
        for phrase in phrases:
            for word in phrase:
                if word not in term_cache:
                    term_cache[word] = term_of(word)
                term = term_cache[word]
                if term is not None:
                    met.add(term)
        for term in met:
            terms.setdefault(term, []).append(key_id)
        if progress and key_id % step == 0:
            progress(key_id, len(keys))
    if any("\n" in t for t in terms):
        return None
    words_seen = sorted(term_cache)
    ordered = sorted(terms)
    term_ptr, term_keys = array("Q", [0]), array("I")
    for term in ordered:
        term_keys.extend(terms[term])
        term_ptr.append(len(term_keys))
    noun_stems = part_stems(entries.german_nouns)  # sorted, as _join sorts
    data = {
        "english_words": _join(entries.english_words),
        "german_words": _join(entries.german_words),
        "german_nouns": _join(entries.german_nouns),
        "german_names": _join(entries.german_names),
        "classes": dict(entries.classes),
        "synonyms": dict(entries.synonyms),
        # the lemmas of the dictionary's German words, computed once with the store
        "lemmas": german_lemmas(entries.german_words),
        "noun_parts": _join(noun_stems),
        "noun_stems": "\n".join(noun_stems.values()),
        "keys": "\n".join(keys),
        "entries": b"".join(blobs),
        "entry_ptr": entry_ptr.tobytes(),
        "terms": "\n".join(ordered),
        "term_ptr": term_ptr.tobytes(),
        "term_keys": term_keys.tobytes(),
        # term_of of every German word of the dictionary ("" for none): compiling then
        # looks a word's term up instead of folding and stemming it again
        "words": "\n".join(words_seen),
        "word_terms": "\n".join(term_cache[w] or "" for w in words_seen),
    }
    if progress:
        progress(len(keys), len(keys))
    return pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)


def open_dictionary(
    path: Path, cache_dir: Path | None, progress: Progress | None = None
) -> DingEntries:
    """The Ding dictionary at ``path``: the store in ``cache_dir`` when it is current, else
    parsed (and stored). Reports ``dictionary`` progress: parsing, then indexing terms.

    Parsing reuses ``load_ding``'s pickle, which depends on the parser's version only; the
    store also on the analyser (its term index), so editing the analyser costs an indexing
    pass (seconds), not a parse.
    """
    identity = dictionary_identity(path)
    version = f"{STORE_FORMAT.name}-{STORE_FORMAT.version}"
    key = digest(version, identity, code_digest(), str(marshal.version))
    file = cache_dir / f"dictionary-{key}.bin" if cache_dir is not None else None
    if file is not None and (payload := read_checked(file, STORE_FORMAT)) is not None:
        with contextlib.suppress(Exception):  # unreadable after all: a cache fails no build
            return StoredDictionary(pickle.loads(payload), identity)

    # Parsing is about 80 % of the work, indexing the terms the rest.
    def parsing(done: int, total: int) -> None:
        if progress:
            progress("dictionary", done * 80 // total, 100)

    def indexing(done: int, total: int) -> None:
        if progress:
            progress("dictionary", 80 + done * 20 // max(total, 1), 100)

    entries = load_ding(path, cache_dir, parsing)
    if file is None:
        return entries
    payload = store_bytes(entries, GermanAnalyzer(), indexing)
    if payload is None:
        return entries
    write_atomic(file, payload, STORE_FORMAT)
    prune(file.parent, "dictionary-*.bin", KEEP_DICTIONARIES)
    return StoredDictionary(pickle.loads(payload), identity)


def restricted(ding: DingEntries | None, vocabulary: Iterable[str]) -> DingEntries | None:
    """What compiling against ``vocabulary`` needs of ``ding`` (all of it, unless stored)."""
    if isinstance(ding, StoredDictionary):
        return ding.restricted(vocabulary)
    return ding


def term_function(
    ding: DingEntries | None, term_of: Callable[[str], str | None]
) -> Callable[[str], str | None]:
    """``term_of``, sped up by the store's precomputed terms when ``ding`` is stored."""
    if isinstance(ding, StoredDictionary):
        return ding.term_function(term_of)
    return term_of


def phrase_words(ding: DingEntries | None) -> int:
    """How many German words the entries' phrases hold (with repeats)."""
    if ding is None:
        return 0
    return sum(len(p) for phrases in ding.translations.values() for p in phrases)


def reporting_calls(
    function: Callable[[str], str | None],
    expected: int,
    progress: Callable[[int, int], None],
) -> Callable[[str], str | None]:
    """``function``, telling ``progress`` every 2 % of ``expected`` calls how many were made
    (never more than ``expected - 1``: the caller reports the end)."""
    if expected < 2:
        return function
    step = max(expected // 50, 1)
    calls = 0

    def counted(word: str) -> str | None:
        nonlocal calls
        calls += 1
        if calls % step == 0:
            progress(min(calls, expected - 1), expected)
        return function(word)

    return counted


# --- compiled lexicons --------------------------------------------------------------------


def lexicon_inputs(
    ding: DingEntries | None, glossary: Sequence[GlossaryEntry], vocabulary: Iterable[str]
) -> dict[str, str] | None:
    """Everything a lexicon compiled from these depends on, or None when that cannot be
    told (a dictionary that did not come from a file, as in tests): then do not cache."""
    if ding is not None and not isinstance(ding, StoredDictionary):
        return None
    return {
        "cache": f"{LEXICON_CACHE_FORMAT.name}-{LEXICON_CACHE_FORMAT.version}",
        "lexicon": LEXICON_VERSION,
        "analyzer": ANALYZER_VERSION,
        "code": code_digest(),
        "dictionary": ding.identity if ding is not None else "none",
        "glossary": glossary_digest(glossary),
        "vocabulary": vocabulary_digest(vocabulary),
    }


def cached_lexicon(
    cache_dir: Path | None,
    inputs: Mapping[str, str] | None,
    compile: Callable[[], Lexicon],
) -> Lexicon:
    """``compile()``, unless a lexicon compiled from the same ``inputs`` is in ``cache_dir``.

    ``inputs`` names everything the result depends on (any text per name); None, or no
    cache directory, means compile and do not cache. A damaged or unreadable file is
    compiled afresh and replaced. Each call returns a new object, so a caller may change it.
    """
    if cache_dir is None or inputs is None:
        return compile()
    key = digest(*(f"{name}={value}" for name, value in sorted(inputs.items())))
    file = cache_dir / f"lexicon-{key}.pickle"
    payload = read_checked(file, LEXICON_CACHE_FORMAT)
    if payload is not None:
        with contextlib.suppress(Exception):  # unreadable after all: a cache fails no build
            loaded: Lexicon = pickle.loads(payload)
            return loaded
    lexicon = compile()
    blob = pickle.dumps(lexicon, protocol=pickle.HIGHEST_PROTOCOL)
    if write_atomic(file, blob, LEXICON_CACHE_FORMAT):
        prune(cache_dir, "lexicon-*.pickle", KEEP_LEXICONS)
    return lexicon
