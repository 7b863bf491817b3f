"""The dictionary store: the Ding dictionary parsed once, in ``CACHE_DIR``.

``dictionary-<key>.bin`` holds the dictionary in a form that loads in a fraction of a
second, with indexes made once: from each German *index term* to the senses of the English
keys it translates as one word (their counts and word classes), from each key to the
synonym entries naming it, and from each lemma's term to the dictionary words that have
that lemma. Compiling the lexicon for a vocabulary then reads only what can meet it — a
lookup per vocabulary term instead of a pass over 280,000 entries — so a reindex after
adding an article compiles in a fraction of a second.

The key holds everything the store depends on: the dictionary file, the store's format, and
the source of the modules it is made by (``code_digest``), so editing the analyser or the
parser rebuilds it, whether or not someone remembered to bump a version. Writes are atomic
and checksummed (``index.cache_files``): a file cut short reads as missing and is rebuilt.
"""

from __future__ import annotations

import contextlib
import functools
import marshal
import pickle
from array import array
from bisect import bisect_left
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import index
import index.analysis
import index.config
import index.ding
import index.lexicon
import index.text
from index.analysis import GermanAnalyzer, german_lemmas, part_stems
from index.artifacts import ArtifactFormat
from index.cache_files import building, digest, prune, read_checked, write_atomic
from index.ding import DingEntries, KeySenses, WordList, english_key, load_ding, one_word_senses
from index.wordset import WordSet

# Bump the version when the layout of what the store holds changes (it is part of the
# files' keys too, so code versions that differ in it never share a file).
STORE_FORMAT = ArtifactFormat("dictionary store", b"NBDS", 8)
KEEP_DICTIONARIES = 4  # stores of other dictionary files or code versions (worktrees) kept

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


# --- the dictionary store -----------------------------------------------------------------


def _join(words: Iterable[str]) -> str:
    return "\n".join(sorted(words))


def _split(text: str) -> list[str]:
    return text.split("\n") if text else []


def _packed(records: Iterable[Any]) -> tuple[bytes, bytes]:
    """Records (anything ``marshal`` takes) as one blob and the offsets that cut it."""
    blobs = [marshal.dumps(r) for r in records]
    ptr = array("Q", [0])
    for blob in blobs:
        ptr.append(ptr[-1] + len(blob))
    return b"".join(blobs), ptr.tobytes()


def _position(ordered: Sequence[str], item: str) -> int | None:
    """Where ``item`` is in the sorted ``ordered``, or None."""
    i = bisect_left(ordered, item)
    return i if i < len(ordered) and ordered[i] == item else None


class _Records:
    """The records of ``_packed``, each decoded when asked for."""

    def __init__(self, blob: bytes, ptr: bytes) -> None:
        self._blob = blob
        self._ptr = array("Q")
        self._ptr.frombytes(ptr)

    def __getitem__(self, i: int) -> Any:
        return marshal.loads(self._blob[self._ptr[i] : self._ptr[i + 1]])

    def __len__(self) -> int:
        return len(self._ptr) - 1


class StoredDictionary(DingEntries):
    """The Ding dictionary as the store holds it: a ``DingEntries`` whose parts are decoded
    on first use, plus indexes that answer what compiling asks (``senses``,
    ``synonyms_of_any``, ``english_folded``) by reading only what a vocabulary meets.

    Everything a ``DingEntries`` offers works (``translations`` decodes all entries, which
    takes seconds); the reindex itself never needs it.
    """

    def __init__(self, data: Mapping[str, Any], identity: str) -> None:
        # DingEntries.__init__ is not called: its fields are the properties below.
        self.identity = identity
        self._data = data
        self._parts: dict[str, Any] = {}
        self._assigned: set[str] = set()  # parts set from outside, not decoded from the store

    def __repr__(self) -> str:
        return f"StoredDictionary({self.identity!r})"

    def _words(self, name: str) -> set[str]:
        if name not in self._parts:
            self._parts[name] = set(_split(self._data[name]))
        words: set[str] = self._parts[name]
        return words

    def word_set(self, name: WordList) -> WordSet:
        if name in self._assigned:
            return WordSet(self._parts[name])
        # the store's text as it is, and its set when decoded already (``_words``)
        return WordSet.from_text(self._data[name], self._parts.get(name))

    def _set(self, name: str, value: Any) -> None:
        self._parts[name] = value
        self._assigned.add(name)

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

    def _unpickled(self, name: str) -> Any:
        if name not in self._parts:
            self._parts[name] = pickle.loads(self._data[name])
        return self._parts[name]

    @property
    def classes(self) -> dict[tuple[str, ...], str]:
        found: dict[tuple[str, ...], str] = self._unpickled("classes")
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
        found: dict[str, set[str]] = self._unpickled("synonyms")
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

    def english_keys(self) -> Iterable[str]:
        return self._keys  # no entry decoded

    @functools.cached_property
    def _entry_records(self) -> _Records:
        return _Records(self._data["entries"], self._data["entry_ptr"])

    def _entries(self, key_ids: Iterable[int]) -> dict[str, dict[tuple[str, ...], int]]:
        keys, records = self._keys, self._entry_records
        return {keys[k]: {tuple(p): n for p, n in records[k]} for k in key_ids}

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
        missing = object()

        def lookup(word: str) -> str | None:
            found = self._word_terms.get(word, missing)  # decoded on the first call
            return term_of(word) if found is missing else found  # type: ignore[return-value]

        return lookup

    # What compiling asks (see DingEntries), answered from the store's indexes: a lookup
    # per vocabulary term or translated key instead of a pass over every entry.

    def senses(
        self, term_of: Callable[[str], str | None], vocabulary: Collection[str]
    ) -> Iterator[KeySenses]:
        terms = _split(self._data["sense_terms"])
        records = _Records(self._data["senses"], self._data["sense_ptr"])
        found: dict[int, tuple[dict[str, int], dict[str, str]]] = {}
        for term in vocabulary:
            if (i := _position(terms, term)) is None:
                continue
            for key_id, n, kinds in records[i]:
                counts, classes = found.setdefault(key_id, ({}, {}))
                counts[term] = n
                if kinds:
                    classes[term] = kinds
        top = array("I")
        top.frombytes(self._data["key_top"])
        for key_id in sorted(found):
            counts, classes = found[key_id]
            yield self._keys[key_id], counts, classes, top[key_id]

    def synonyms_of_any(self, keys: Collection[str]) -> Iterator[tuple[str, set[str]]]:
        targets = _split(self._data["synonym_targets"])
        owners = _Records(self._data["synonym_owners"], self._data["synonym_owner_ptr"])
        positions: set[int] = set()
        for key in keys:
            if (i := _position(targets, key)) is not None:
                positions.update(owners[i])
        entry_keys = _split(self._data["synonym_keys"])
        entries = _Records(self._data["synonym_entries"], self._data["synonym_ptr"])
        for pos in sorted(positions):
            if entry_keys[pos] not in keys:
                yield entry_keys[pos], set(entries[pos])

    def english_folded(self) -> Iterator[tuple[str, str]]:
        words = _split(self._data["english_long"])
        return zip(words, _split(self._data["english_long_keys"]), strict=True)

    def lemmas_meeting(
        self, vocabulary: Collection[str], stem: Callable[[str], str]
    ) -> Iterator[tuple[str, str]]:
        terms = _split(self._data["lemma_terms"])
        records = _Records(self._data["lemma_pairs"], self._data["lemma_ptr"])
        found = [
            pair
            for t in vocabulary
            if (i := _position(terms, t)) is not None
            for pair in records[i]
        ]
        return iter(sorted(found))


def store_bytes(
    entries: DingEntries,
    analyzer: GermanAnalyzer,
    progress: Callable[[int, int], None] | None = None,
) -> bytes | None:
    """The dictionary store of ``entries``, with the index terms of ``analyzer``; None when
    the entries do not fit its format."""
    words = (
        entries.english_words,
        entries.german_words,
        entries.german_nouns,
        entries.german_names,
    )
    if any("\n" in w for group in words for w in group):
        return None
    keys = list(entries.translations)
    if any("\n" in k for k in keys) or any("\n" in k for k in entries.synonyms):
        return None
    term_cache: dict[str, str | None] = {}

    def term_of(word: str) -> str | None:
        if word not in term_cache:
            term_cache[word] = analyzer.term_of(word)
        return term_cache[word]

    # term → (key id, sense count, word classes) of the keys it is a one-word translation of
    senses: dict[str, list[tuple[int, int, str]]] = {}
    top = array("I")
    step = max(len(keys) // 50, 1)
    for key_id, key in enumerate(keys):
        every, kinds = one_word_senses(entries.translations[key], entries.classes, term_of)
        top.append(max(every.values(), default=0))
        for term, n in every.items():
            senses.setdefault(term, []).append((key_id, n, kinds.get(term, "")))
        if progress and key_id % step == 0:
            progress(key_id, len(keys))
    sense_terms = sorted(senses)
    if any("\n" in t for t in sense_terms):
        return None
    synonym_keys = list(entries.synonyms)
    owners: dict[str, list[int]] = {}
    for pos, key in enumerate(synonym_keys):
        for other in entries.synonyms[key]:
            owners.setdefault(other, []).append(pos)
    targets = sorted(owners)
    english_long = sorted(w for w in entries.english_words if len(w) >= 3)
    lemmas = german_lemmas(entries.german_words)
    by_lemma_term: dict[str, list[tuple[str, str]]] = {}
    for word, lemma in sorted(lemmas.items()):
        if (term := analyzer.stem(lemma)) != analyzer.stem(word):
            by_lemma_term.setdefault(term, []).append((word, lemma))
    lemma_terms = sorted(by_lemma_term)
    noun_stems = part_stems(entries.german_nouns)  # sorted, as _join sorts
    words_seen = sorted(term_cache)
    packed = {
        "entries": _packed(
            [(list(p), n) for p, n in entries.translations[k].items()] for k in keys
        ),
        "sense": _packed(senses[t] for t in sense_terms),
        "synonym": _packed(sorted(entries.synonyms[k]) for k in synonym_keys),
        "synonym_owner": _packed(owners[t] for t in targets),
        "lemma": _packed(by_lemma_term[t] for t in lemma_terms),
    }
    data = {
        "english_words": _join(entries.english_words),
        "german_words": _join(entries.german_words),
        "german_nouns": _join(entries.german_nouns),
        "german_names": _join(entries.german_names),
        # decoded only when asked for (compiling never asks): a second of unpickling
        "classes": pickle.dumps(dict(entries.classes), protocol=pickle.HIGHEST_PROTOCOL),
        "synonyms": pickle.dumps(dict(entries.synonyms), protocol=pickle.HIGHEST_PROTOCOL),
        # the lemmas of the dictionary's German words, computed once with the store
        "lemmas": lemmas,
        # DingEntries.lemmas_meeting, by the lemma's term
        "lemma_terms": "\n".join(lemma_terms),
        "lemma_pairs": packed["lemma"][0],
        "lemma_ptr": packed["lemma"][1],
        "noun_parts": _join(noun_stems),
        "noun_stems": "\n".join(noun_stems.values()),
        "keys": "\n".join(keys),
        "entries": packed["entries"][0],
        "entry_ptr": packed["entries"][1],
        # DingEntries.senses, by term
        "sense_terms": "\n".join(sense_terms),
        "senses": packed["sense"][0],
        "sense_ptr": packed["sense"][1],
        "key_top": top.tobytes(),
        # DingEntries.synonyms_of_any: the entries in order, and which entries name a key
        "synonym_keys": "\n".join(synonym_keys),
        "synonym_entries": packed["synonym"][0],
        "synonym_ptr": packed["synonym"][1],
        "synonym_targets": "\n".join(targets),
        "synonym_owners": packed["synonym_owner"][0],
        "synonym_owner_ptr": packed["synonym_owner"][1],
        # DingEntries.english_folded
        "english_long": "\n".join(english_long),
        "english_long_keys": "\n".join(english_key([w]) for w in english_long),
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
    if cache_dir is None:
        return load_ding(path, cache_dir, _parsing(progress))
    file = cache_dir / f"dictionary-{key}.bin"
    stored = _stored(file, identity)
    if stored is not None:
        return stored
    with building(file):  # another process making it (a cold cache): wait, then read it
        return _stored(file, identity) or _make_store(path, cache_dir, file, identity, progress)


def _stored(file: Path, identity: str) -> StoredDictionary | None:
    payload = read_checked(file, STORE_FORMAT)
    if payload is not None:
        with contextlib.suppress(Exception):  # unreadable after all: a cache fails no build
            return StoredDictionary(pickle.loads(payload), identity)
    return None


def _parsing(progress: Progress | None) -> Callable[[int, int], None]:
    """Parsing is about 80 % of the work, indexing the terms the rest."""

    def parsing(done: int, total: int) -> None:
        if progress:
            progress("dictionary", done * 80 // total, 100)

    return parsing


def _make_store(
    path: Path, cache_dir: Path, file: Path, identity: str, progress: Progress | None
) -> DingEntries:
    """Parse the dictionary (or read ``load_ding``'s pickle), index its terms, store it."""

    def indexing(done: int, total: int) -> None:
        if progress:
            progress("dictionary", 80 + done * 20 // max(total, 1), 100)

    entries = load_ding(path, cache_dir, _parsing(progress))
    made = store_bytes(entries, GermanAnalyzer(), indexing)
    if made is None:
        return entries
    write_atomic(file, made, STORE_FORMAT)
    prune(file.parent, "dictionary-*.bin", KEEP_DICTIONARIES)
    return StoredDictionary(pickle.loads(made), identity)


def term_function(
    ding: DingEntries | None, term_of: Callable[[str], str | None]
) -> Callable[[str], str | None]:
    """``term_of``, sped up by the store's precomputed terms when ``ding`` is stored."""
    if isinstance(ding, StoredDictionary):
        return ding.term_function(term_of)
    return term_of
