"""The reindex caches: the dictionary store and compiled lexicons
(index/dictionary_store.py, index/lexicon_cache.py).

The store must give exactly what the parsed dictionary gives, and a lexicon compiled from
the store's entries for a vocabulary must equal one compiled from the whole dictionary;
a damaged cache file is rebuilt, never trusted.
"""

from __future__ import annotations

import multiprocessing
import pickle
import shutil
import time
from pathlib import Path

import pytest

from index.analysis import GermanAnalyzer
from index.artifacts import HEADER_SIZE
from index.build import build_snapshot
from index.cache_files import building, write_atomic
from index.corpus import Article, parse_article
from index.dictionary_store import STORE_FORMAT, StoredDictionary, open_dictionary, store_bytes
from index.ding import DingEntries, parse_ding
from index.lexicon import Lexicon, default_glossary
from index.lexicon_cache import (
    COMPILER_SOURCES,
    LEXICON_CACHE_FORMAT,
    cached_lexicon,
    compiler_digest,
    lexicon_inputs,
)
from tests.conftest import DATA

SAMPLE = DATA / "ding-sample.txt"


@pytest.fixture(scope="module")
def parsed() -> DingEntries:
    return parse_ding(SAMPLE.read_text(encoding="utf-8").splitlines())


@pytest.fixture(scope="module")
def stored(parsed: DingEntries) -> StoredDictionary:
    payload = store_bytes(parsed, GermanAnalyzer())
    assert payload is not None
    return StoredDictionary(pickle.loads(payload), "sample")


def comparable(lexicon: Lexicon) -> dict[str, object]:
    return {
        "translations": lexicon.translations,
        "order": list(lexicon.translations),
        "classes": lexicon.classes,
        "hop_keys": lexicon.hop_keys,
        "lemmas": lexicon.lemmas,
        "compound_parts": lexicon.compound_parts,
        "glossary": lexicon.glossary,
        "english_words": lexicon.english_words,
        "german_words": lexicon.german_words,
        "repair_english": lexicon.repair_english,
        "display": lexicon.display,
        "surfaces": lexicon.surfaces,
    }


def test_the_store_gives_what_parsing_gives(parsed: DingEntries, stored: StoredDictionary) -> None:
    assert stored.translations == parsed.translations
    assert list(stored.translations) == list(parsed.translations)
    assert stored.english_words == parsed.english_words
    assert stored.german_words == parsed.german_words
    assert stored.german_nouns == parsed.german_nouns
    analyzer = GermanAnalyzer()
    assert stored.german_names == parsed.german_names
    assert stored.classes == parsed.classes
    term_of = stored.term_function(analyzer.term_of)
    for word in [*parsed.german_words, "Wörter", "die", "x"]:
        assert term_of(word) == analyzer.term_of(word), word


def test_a_lexicon_from_the_store_equals_one_from_the_whole_dictionary(
    parsed: DingEntries, stored: StoredDictionary, seed_articles: list[Article]
) -> None:
    """The store hands compiling only the entries that can meet the vocabulary: this
    holds as long as compiling keeps only translations whose German side occurs in the
    index. A change to ``compile_lexicon`` that breaks that fails here."""
    rome = parse_article(
        "rom",
        "---\ntitle: Rom\n---\n"
        "Die Luftverteidigung verpflichtet sich zu Zusagen. Ein Waffenstillstand gilt.\n",
    )
    for articles in (seed_articles, [*seed_articles, rome], [rome]):
        whole = build_snapshot(articles, parsed, default_glossary())
        from_store = build_snapshot(articles, stored, default_glossary())
        assert comparable(from_store.lexicon) == comparable(whole.lexicon)
        assert from_store.bm25.terms == whole.bm25.terms  # same analysis (compound splits)
    assert whole.lexicon.translations, "the sample must meet the vocabulary"
    assert whole.lexicon.hop_keys and whole.lexicon.classes and whole.lexicon.repair_english


def test_open_dictionary_stores_once_and_rebuilds_a_damaged_store(tmp_path: Path) -> None:
    dictionary = tmp_path / "de-en"
    shutil.copyfile(SAMPLE, dictionary)
    cache = tmp_path / "cache"
    events: list[tuple[str, int, int]] = []
    first = open_dictionary(dictionary, cache, lambda *e: events.append(e))
    assert isinstance(first, StoredDictionary)
    assert events and {stage for stage, _, _ in events} == {"dictionary"}
    assert events[-1][1] == events[-1][2]
    (store,) = cache.glob("dictionary-*.bin")

    events.clear()
    again = open_dictionary(dictionary, cache, lambda *e: events.append(e))
    assert isinstance(again, StoredDictionary) and not events  # read, not parsed
    assert again.translations == first.translations

    store.write_bytes(store.read_bytes()[:1000])  # cut short, as by a full disk
    rebuilt = open_dictionary(dictionary, cache, lambda *e: events.append(e))
    assert events  # parsed and stored again
    assert rebuilt.translations == first.translations
    assert len(store.read_bytes()) > 1000

    payload = store.read_bytes()[HEADER_SIZE:]  # a store of another format version
    store.write_bytes(STORE_FORMAT.magic + (STORE_FORMAT.version + 1).to_bytes(4, "big") + payload)
    events.clear()
    assert open_dictionary(dictionary, cache, lambda *e: events.append(e)).translations
    assert events  # not read: parsed and stored again
    assert store.read_bytes()[:HEADER_SIZE] == STORE_FORMAT.wrap(b"")

    dictionary.write_text(SAMPLE.read_text(encoding="utf-8") + "neu {adj} :: new\n")
    changed = open_dictionary(dictionary, cache)
    assert "new" in changed.translations
    assert len(list(cache.glob("dictionary-*.bin"))) == 2


def test_cached_lexicon_compiles_once_per_inputs(tmp_path: Path) -> None:
    calls: list[str] = []

    def compile(name: str) -> Lexicon:
        calls.append(name)
        return Lexicon(translations={"peace": {"fried": 1.0}}, english_words=frozenset([name]))

    inputs = {"vocabulary": "a", "dictionary": "d"}
    first = cached_lexicon(tmp_path, inputs, lambda: compile("first"))
    again = cached_lexicon(tmp_path, dict(inputs), lambda: compile("again"))
    assert calls == ["first"]
    assert again == first and again is not first  # a fresh object: callers may change it

    other = cached_lexicon(tmp_path, {**inputs, "vocabulary": "b"}, lambda: compile("other"))
    assert calls == ["first", "other"] and other.english_words == {"other"}
    # One lock for every lexicon, not one per key: lock files do not pile up.
    assert [p.name for p in tmp_path.glob("*.lock")] == ["lexicon.lock"]

    assert cached_lexicon(tmp_path, None, lambda: compile("unknown")).english_words == {
        "unknown"
    }  # inputs that cannot be told: compiled, not cached
    assert cached_lexicon(None, inputs, lambda: compile("no dir")).english_words == {"no dir"}


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        LEXICON_CACHE_FORMAT.wrap(b"\x00\x00\x00\x00garbage"),
        b"not a cache file at all",
        b"NBC1\x00\x00\x00\x00garbage",  # the header before cache files had a version
        b"NBCL\x00\x00\x00\x04\x00\x00\x00\x00garbage",  # another version
    ],
    ids=["empty", "bad-checksum", "garbage", "unversioned", "other-version"],
)
def test_a_damaged_lexicon_file_is_compiled_again(tmp_path: Path, damage: bytes) -> None:
    inputs = {"vocabulary": "a"}
    lexicon = Lexicon(translations={"peace": {"fried": 1.0}})
    cached_lexicon(tmp_path, inputs, lambda: lexicon)
    (file,) = tmp_path.glob("lexicon-*.pickle")
    file.write_bytes(damage)
    calls: list[int] = []
    result = cached_lexicon(tmp_path, inputs, lambda: calls.append(1) or lexicon)
    assert calls == [1] and result == lexicon
    assert cached_lexicon(tmp_path, inputs, lambda: calls.append(2) or lexicon) == lexicon
    assert calls == [1]  # the rewritten file is good again


def test_an_unusable_cache_directory_only_costs_time(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache directory should be")
    lexicon = Lexicon(translations={"peace": {"fried": 1.0}})
    assert cached_lexicon(blocker, {"vocabulary": "a"}, lambda: lexicon) == lexicon
    assert blocker.read_text() == "a file where the cache directory should be"


# --- two processes, one cache file -----------------------------------------------------------

LOCKED_INPUTS = {"vocabulary": "locked"}
HOLDERS = Lexicon(translations={"peace": {"fried": 1.0}}, english_words=frozenset(["holder"]))


def _must_not_compile() -> Lexicon:
    raise AssertionError("compiled although another process was making the same file")


def _open_in_child(cache: Path) -> None:
    lexicon = cached_lexicon(cache, LOCKED_INPUTS, _must_not_compile)
    raise SystemExit(0 if lexicon.english_words == {"holder"} else 3)


def _waits_on_a_lock(pid: int) -> bool:
    # A blocked flock shows in /proc/locks as "N: -> FLOCK ADVISORY WRITE <pid> …".
    lines = Path("/proc/locks").read_text().splitlines()
    return any("->" in line and f" {pid} " in line for line in lines)


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="needs Linux's /proc/locks")
def test_a_process_waits_for_the_one_making_the_file_and_reads_it(tmp_path: Path) -> None:
    probe = tmp_path / "probe"
    cached_lexicon(probe, LOCKED_INPUTS, lambda: HOLDERS)
    (made,) = probe.glob("lexicon-*.pickle")
    cache = tmp_path / "cache"
    file = cache / made.name  # the file the child will look for

    child = multiprocessing.get_context("spawn").Process(target=_open_in_child, args=(cache,))
    with building(file):  # this process is "making" it
        child.start()
        deadline = time.monotonic() + 120
        while not _waits_on_a_lock(child.pid or 0):
            assert child.is_alive(), f"the child ended ({child.exitcode}) instead of waiting"
            assert time.monotonic() < deadline, "the child never waited for the lock"
            time.sleep(0.05)
        blob = pickle.dumps(HOLDERS, protocol=pickle.HIGHEST_PROTOCOL)
        assert write_atomic(file, blob, LEXICON_CACHE_FORMAT)
    child.join(120)
    assert child.exitcode == 0  # it read the file made meanwhile, and compiled nothing


def test_the_cache_key_holds_the_code_that_compiles_beyond_the_store(
    stored: StoredDictionary, tmp_path: Path
) -> None:
    """The build's compile step and the thesaurus's synonym terms shape a lexicon too: an
    edit to any of them misses the cache (it was served the old lexicon once)."""
    inputs = lexicon_inputs(stored, [], {"trupp"}, "none", {"seit"})
    assert inputs is not None and inputs["compiler"] == compiler_digest()
    index_dir = Path(__file__).resolve().parents[2] / "index"
    for name in COMPILER_SOURCES:
        shutil.copy(index_dir / name, tmp_path / name)
    assert compiler_digest(tmp_path) == compiler_digest()
    for name in COMPILER_SOURCES:
        edited = tmp_path / name
        original = edited.read_bytes()
        edited.write_bytes(original + b"\n# an edit\n")
        assert compiler_digest(tmp_path) != compiler_digest(), name
        edited.write_bytes(original)
    without = lexicon_inputs(stored, [], {"trupp"}, "none", ())
    assert without is not None and inputs["never_nouns"] != without["never_nouns"]
    written = lexicon_inputs(stored, [], {"trupp"}, "none", {"seit"}, {"trupp": {"truppen"}})
    assert written is not None and written["written"] != inputs["written"]
    assert {k: v for k, v in written.items() if k != "written"} == {
        k: v for k, v in inputs.items() if k != "written"
    }
