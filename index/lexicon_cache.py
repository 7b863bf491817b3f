"""On-disk caches that make a reindex cheap when little has changed.

Two kinds of files live in ``CACHE_DIR``:

* The **dictionary store** (``dictionary-<key>.bin``, ``index.dictionary_store``): the
  Ding dictionary parsed once, with indexes that let compiling read only what a vocabulary
  meets.
* **Compiled lexicons** (``lexicon-<key>.pickle``), keyed by everything a compiled lexicon
  depends on: the dictionary file, the glossary, the analyser and lexicon code (their
  version constants and their source, the build's and the thesaurus's included), the
  thesaurus file, the vocabulary, the terms the articles never capitalise, and each term's
  words as the articles write them (a thesaurus synonym must be one of them). A reindex
  whose vocabulary did not change compiles nothing.

``cached_lexicon`` is generic: it takes the inputs and a compile callable and knows nothing
of how compiling works. Bump ``index.lexicon.LEXICON_VERSION`` when the compiled lexicon
changes meaning; editing the modules it is built by invalidates the caches as well.

Every write is atomic and every file carries a checksum (``index.cache_files``), so a file
cut short by a kill or a full disk reads as missing and is rebuilt. Caching is an
optimisation only: without a usable cache directory everything still works, only slower.
"""

from __future__ import annotations

import contextlib
import json
import pickle
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from index.analysis import ANALYZER_VERSION
from index.artifacts import ArtifactFormat
from index.cache_files import building, digest, prune, read_checked, write_atomic
from index.dictionary_store import StoredDictionary, code_digest
from index.ding import DingEntries
from index.lexicon import LEXICON_VERSION, GlossaryEntry, Lexicon

# Bump the version when the layout of what the file holds changes (it is part of the
# files' keys too, so code versions that differ in it never share a file).
LEXICON_CACHE_FORMAT = ArtifactFormat("compiled lexicon", b"NBCL", 6)
KEEP_LEXICONS = 16


# --- keys -------------------------------------------------------------------------------


def vocabulary_digest(vocabulary: Iterable[str]) -> str:
    return digest("\n".join(sorted(vocabulary)))


def glossary_digest(glossary: Sequence[GlossaryEntry]) -> str:
    entries = [[list(e.variants), list(e.terms), e.source] for e in glossary]
    return digest(json.dumps(entries, ensure_ascii=False))


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


# What compiles a lexicon beyond the modules ``code_digest`` reads (those the dictionary
# store is keyed by): the build's compile step, the thesaurus's synonym terms, and the
# store's reading of senses and word sets.
COMPILER_SOURCES = ("build.py", "thesaurus.py", "dictionary_store.py", "wordset.py")


def compiler_digest(directory: Path = Path(__file__).parent) -> str:
    """The source of ``COMPILER_SOURCES`` in ``directory``, read, not imported
    (``index.build`` imports this module)."""
    return digest(*((directory / name).read_bytes() for name in COMPILER_SOURCES))


def lexicon_inputs(
    ding: DingEntries | None,
    glossary: Sequence[GlossaryEntry],
    vocabulary: Iterable[str],
    thesaurus: str,
    never_nouns: Iterable[str],
    written: Mapping[str, Iterable[str]] | None = None,
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
        "compiler": compiler_digest(),
        "dictionary": ding.identity if ding is not None else "none",
        "glossary": glossary_digest(glossary),
        "vocabulary": vocabulary_digest(vocabulary),
        "thesaurus": thesaurus,  # thesaurus_identity of the file
        "never_nouns": vocabulary_digest(never_nouns),
        "written": vocabulary_digest(
            f"{term} {form}" for term, forms in (written or {}).items() for form in forms
        ),
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
    cached = _cached(file)
    if cached is not None:
        return cached
    with building(file):  # another process compiling the same lexicon: wait, then read it
        cached = _cached(file)
        if cached is not None:
            return cached
        lexicon = compile()
        blob = pickle.dumps(lexicon, protocol=pickle.HIGHEST_PROTOCOL)
        if write_atomic(file, blob, LEXICON_CACHE_FORMAT):
            prune(cache_dir, "lexicon-*.pickle", KEEP_LEXICONS)
        return lexicon


def _cached(file: Path) -> Lexicon | None:
    payload = read_checked(file, LEXICON_CACHE_FORMAT)
    if payload is not None:
        with contextlib.suppress(Exception):  # unreadable after all: a cache fails no build
            loaded: Lexicon = pickle.loads(payload)
            return loaded
    return None
