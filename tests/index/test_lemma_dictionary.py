"""simplemma's German dictionary read from a file in the cache directory: the same lemmas
as simplemma's own, made once, and never a failed build when the file is unusable."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import simplemma
from simplemma.strategies.dictionaries import DEFAULT_DICTIONARY_FACTORY

from index import lemma_dictionary
from index.lemma_dictionary import SortedMapping, _mapping, dictionary_file, german_lemmatizer

from ..conftest import cache_dir

# Inflected verbs and participles, plural and case forms, compounds, words simplemma's
# rules (not its dictionary) lemmatise, unknown words, names, and non-words.
WORDS = [
    "zugesagt", "begann", "zusammengesetzt", "Truppen", "Staaten", "Häuser", "gingen",
    "Regierungen", "Sicherheitsgarantien", "Waffenstillstands", "versprochen", "entsendet",
    "Koalitionen", "Friedensverhandlungen", "Selenskyj", "Élysée", "xyzzyq", "unterstützten",
    "Gründen", "gründen", "Bundeskanzlers", "Rüstungsunternehmen", "ASDF", "a",
]  # fmt: skip


@pytest.fixture(scope="module")
def from_file() -> lemma_dictionary.Lemmatize:
    # The tests' shared cache: made once per machine, as for a user.
    return german_lemmatizer(cache_dir())


def test_the_file_gives_simplemma_s_lemmas(from_file: lemma_dictionary.Lemmatize) -> None:
    words = list(WORDS)
    dictionary = list(DEFAULT_DICTIONARY_FACTORY.get_dictionary("de"))
    rng = random.Random(20261202)
    words += rng.sample(dictionary, 2000)  # dictionary words, as written …
    words += [w.capitalize() for w in rng.sample(dictionary, 500)]  # … and capitalised
    words += [w + "en" for w in rng.sample(dictionary, 500)]  # and forms it does not list
    for word in words:
        assert from_file(word) == simplemma.lemmatize(word, lang="de"), word


def test_the_file_is_made_once_and_holds_the_whole_dictionary(
    from_file: lemma_dictionary.Lemmatize,
) -> None:
    assert dictionary_file(cache_dir()).is_file()
    mapping = _mapping(cache_dir())
    assert isinstance(mapping, SortedMapping)
    assert len(mapping) == len(DEFAULT_DICTIONARY_FACTORY.get_dictionary("de"))
    assert mapping.get("zugesagt") == DEFAULT_DICTIONARY_FACTORY.get_dictionary("de")["zugesagt"]
    assert mapping.get("no such word", "none") == "none"
    with pytest.raises(KeyError):
        mapping["no such word"]


def test_a_damaged_file_is_made_again_and_no_directory_costs_only_time(tmp_path: Path) -> None:
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    dictionary_file(damaged).write_bytes(b"NBLD cut short by a full disk")
    lemmatize = german_lemmatizer(damaged)
    assert lemmatize("zugesagt") == simplemma.lemmatize("zugesagt", lang="de")
    assert isinstance(_mapping(damaged), SortedMapping)  # made again, whole

    not_a_directory = tmp_path / "a file"
    not_a_directory.write_text("x")
    assert german_lemmatizer(not_a_directory)("begann") == "beginnen"
    assert german_lemmatizer(None)("begann") == "beginnen"
