"""The Ding dictionary (Debian ``trans-de-en``): parsing it into English keys and German phrases.

Ding lines look like ``GERMAN :: ENGLISH``; both sides split by `` | `` into parallel
senses, and senses by ``; `` into synonyms. The first senses of an entry are usually the
headword and its inflected forms (``versprechen | versprochen :: to promise | promised``).
Keys are the folded English words (``english_key``); a question's inflected words reach
them through their lemmas (``english_lemma_keys``), so "promised" meets the key "promise"
and with it every German form of the entry, which is what lets "What did they promise?"
meet "hatte … versprochen".

Parsing all of Ding takes seconds, so it happens at reindex time only (and ``load_ding``
keeps a pickled copy); ``index.lexicon`` compiles what the indexed articles need of it.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from lemminflect import getInflection

from index.english import english_lemmas
from index.text import fold, tokenize
from index.wordset import WordSet

DING_DEFAULT_PATH = Path("/usr/share/trans/de-en")
MAX_PHRASE_WORDS = 4
_PARSER_VERSION = "ding-14"

# Abbreviations between slashes ("government /Gov.; Govt./", "Spanien /ES/"); their "; "
# would otherwise split a synonym in two.
_ABBREVIATIONS_RE = re.compile(r"(?<=\s)/[^/|:]*/(?=[\s;|]|$)")
_BRACKETS_RE = re.compile(r"\{[^}]*\}|\[[^\]]*\]|\([^)]*\)|<[^>]*>")
_DE_NOISE = frozenset(
    [
        "etw.",
        "jdn.",
        "jdm.",
        "jds.",
        "etw",
        "jdn",
        "jdm",
        "jds",
        "sich",
        "er/sie",
        "ich/er/sie",
        "es/sie",
        "hat/hatte",
        "ist/war",
        "wir/sie",
        "ihr",
        "sie/sie",
        "…",
        "~",
    ]
)
_EN_NOISE = frozenset(
    [
        "sth.",
        "sb.",
        "sb.'s",
        "sth.'s",
        "sb's",
        "sth's",
        "yourself",
        "oneself",
        "himself",
        "herself",
        "itself",
        "themselves",
        "one's",
        "i/he/she",
        "he/she/it",
        "he/she",
        "has/had",
        "have/has",
        "is/was",
        "was/were",
        "we/they",
        "you/they",
        "…",
        "~",
    ]
)


def english_key(words: Iterable[str]) -> str:
    """The lookup key of an English word sequence: the folded words, joined.

    Keys are words, not Snowball stems, so that unrelated words stay apart
    (position/positive, election/elective); inflected question words reach their
    dictionary form through ``english_lemma_keys``.
    """
    return " ".join(fold(w) for w in words)


def english_lemma_keys(words: Sequence[str], pos: str | None = None) -> list[str]:
    """Keys of ``words`` with the last word lemmatised (lemminflect), by part of speech.

    "promised" → "promise", "elections" → "election", "committed to" → "commit to".
    With ``pos`` ("VERB", "NOUN", "ADJ") only that part of speech's lemmas are used.
    """
    out: list[str] = []
    for i in range(len(words) - 1, -1, -1):
        word = words[i]
        if not word.isalpha():
            continue
        lemmas = english_lemmas(word.lower())
        for upos, forms in lemmas.items():
            if pos is not None and upos != pos:
                continue
            for form in forms:
                if form == word.lower():
                    continue
                key = english_key([*words[:i], form, *words[i + 1 :]])
                if key not in out:
                    out.append(key)
        if out:
            break
    return out


def english_plural_keys(words: Sequence[str]) -> list[str]:
    """Keys of ``words`` with the last word, a noun, in the plural (lemminflect): Ding lists
    some nouns in the plural only ("porcupines" → *Stachelschweine*)."""
    if not words or not words[-1].isalpha():
        return []
    word = words[-1].lower()
    singulars = english_lemmas(word).get("NOUN", ())
    out: list[str] = []
    for singular in singulars:
        for form in getInflection(singular, tag="NNS"):
            key = english_key([*words[:-1], form])
            if form != word and key not in out:
                out.append(key)
    return out


@dataclass
class DingEntries:
    """The parsed dictionary: English key → German phrases (each a tuple of words)."""

    # English key → German phrase → how many senses of the dictionary give it
    translations: dict[str, dict[tuple[str, ...], int]] = field(default_factory=dict)
    # German phrase → its word classes in the dictionary ("n", "v", "a"; see WORD_CLASSES)
    classes: dict[tuple[str, ...], str] = field(default_factory=dict)
    # German words the dictionary gives for English proper nouns only ("Spanien" → Spain)
    german_names: set[str] = field(default_factory=set)
    # English key → the other English keys of the same senses ("ceasefire" → "truce")
    synonyms: dict[str, set[str]] = field(default_factory=dict)
    # folded German word → its folded lemma, where they differ (None: not computed yet)
    lemmas: dict[str, str] | None = None
    english_words: set[str] = field(default_factory=set)
    german_words: set[str] = field(default_factory=set)
    german_nouns: set[str] = field(default_factory=set)

    def word_set(self, name: WordList) -> WordSet:
        """One of the word lists (``english_words`` …) as a ``WordSet``."""
        words: set[str] = getattr(self, name)
        return WordSet(words)

    def english_keys(self) -> Iterable[str]:
        """Every English key of the dictionary (folded words, space-joined)."""
        return self.translations.keys()

    # What compiling a lexicon asks of the dictionary. These go over every entry; the
    # dictionary store (``index.dictionary_store.StoredDictionary``) answers the same from
    # indexes made once, reading only what a vocabulary can meet.

    def senses(
        self, term_of: Callable[[str], str | None], vocabulary: Collection[str]
    ) -> Iterator[KeySenses]:
        """Every key with a one-word translation whose term is in ``vocabulary``, in
        dictionary order: those terms' sense counts, their word classes, and the largest
        count of any of the key's one-word translations, in the vocabulary or not."""
        for key, phrases in self.translations.items():
            every, kinds = one_word_senses(phrases, self.classes, term_of)
            counts = {t: n for t, n in every.items() if t in vocabulary}
            if counts:
                yield (
                    key,
                    counts,
                    {t: k for t, k in kinds.items() if t in counts},
                    max(every.values()),
                )

    def synonyms_of_any(self, keys: Collection[str]) -> Iterator[tuple[str, set[str]]]:
        """The synonym entries (in dictionary order) of keys other than ``keys`` that name
        one of ``keys``."""
        for key, others in self.synonyms.items():
            if key not in keys and any(other in keys for other in others):
                yield key, others

    def lemmas_meeting(
        self, vocabulary: Collection[str], stem: Callable[[str], str]
    ) -> Iterator[tuple[str, str]]:
        """The dictionary's (word, lemma) pairs, sorted, whose lemma stems to a term in
        ``vocabulary`` and whose word stems to another term (``lemmas`` must be known)."""
        for word, lemma in sorted((self.lemmas or {}).items()):
            if (term := stem(lemma)) in vocabulary and stem(word) != term:
                yield word, lemma

    def english_folded(self) -> Iterator[tuple[str, str]]:
        """Each English word of three letters or more, with its key."""
        for word in self.english_words:
            if len(word) >= 3:
                yield word, english_key([word])


WordList = Literal["english_words", "german_words", "german_nouns", "german_names"]

# A key, the sense counts of its one-word translations' terms (those a vocabulary holds),
# their word classes, and the largest count of any of its one-word translations.
KeySenses = tuple[str, dict[str, int], dict[str, str], int]


def one_word_senses(
    phrases: dict[tuple[str, ...], int],
    phrase_classes: dict[tuple[str, ...], str],
    term_of: Callable[[str], str | None],
) -> tuple[dict[str, int], dict[str, str]]:
    """The sense counts of a key's one-word translations by index term, and their word
    classes. A phrase whose words give more than one term is no one-word translation."""
    every: dict[str, int] = {}
    kinds: dict[str, str] = {}
    for phrase, n in phrases.items():
        content = {t for w in phrase if (t := term_of(w))}
        if len(content) != 1:
            continue
        (term,) = content
        every[term] = every.get(term, 0) + n
        if cls := phrase_classes.get(phrase, ""):
            kinds[term] = "".join(sorted(set(kinds.get(term, "") + cls)))
    return every, kinds


_DE_OBJECT_RE = re.compile(r"\b(?:etw|jdn|jdm|jds)\. zu (?:tun|machen)\b")


WORD_CLASSES = {
    "m": "n",
    "f": "n",
    "n": "n",
    "pl": "n",
    "vt": "v",
    "vi": "v",
    "vr": "v",
    "v": "v",
    "adj": "a",
    "adv": "a",
}
_CLASS_RE = re.compile(r"\{([a-z]+)(?:[;,] ?[a-z]+)*\}")


def _word_class(synonym: str) -> str:
    """The word classes Ding marks on one German synonym (``{vt}`` → "v", ``{f}`` → "n")."""
    found = {
        WORD_CLASSES[t]
        for t in re.findall(r"[a-z]+", " ".join(_CLASS_RE.findall(synonym)))
        if t in WORD_CLASSES
    }
    return "".join(sorted(found))


def _clean_german(synonym: str) -> tuple[str, ...]:
    text = _DE_OBJECT_RE.sub(" ", synonym)
    text = _BRACKETS_RE.sub(" ", text).replace(",", " ")
    words = [w for w in text.split() if w not in _DE_NOISE]
    return tuple(
        part
        for w in words
        for part in w.split("/")
        if part and not part.endswith(".") and not any(c in part for c in "()[]{}<>…")
    )


def _is_placeholder(word: str) -> bool:
    return word.lower().replace("’", "'") in _EN_NOISE  # "sb.’s" is "sb.'s"


def _without_placeholders(word: str) -> str:
    """``word`` without its placeholders ("sb.", "sth.'s", "sb.’s"), also where a slash
    joins several or joins one to a word: "sb./sth." → "", "sth./doing" → "doing"."""
    if _is_placeholder(word):  # as a whole: "he/she/it"
        return ""
    return "/".join(p for p in word.split("/") if p and not _is_placeholder(p))


def _clean_english(synonym: str) -> tuple[str, ...]:
    text = _BRACKETS_RE.sub(" ", synonym).strip()
    kept = " ".join(filter(None, map(_without_placeholders, text.replace(",", " ").split())))
    words = [t.surface for t in tokenize(kept)]
    if words and words[0] == "to" and len(words) > 1:
        words = words[1:]  # infinitive marker of a verb entry
    return tuple(words)


def _is_example(synonym: str) -> bool:
    """Example sentences and long explanations are no translation pairs."""
    stripped = _BRACKETS_RE.sub("", synonym).strip()
    return (
        len(stripped.split()) > 6
        or stripped.endswith(("!", "?"))
        or (
            stripped.endswith(".")
            and not stripped.endswith(("sth.", "sb.", "etw.", "jdn.", "jdm."))
        )
    )


_NOUN_RE = re.compile(r"([^\s;|(){}\[\]]+) \{(?:m|f|n|pl)\}")


def parse_ding(lines: Iterable[str]) -> DingEntries:
    """Parse Ding dictionary lines into English keys and German phrases."""
    out = DingEntries()
    for line in lines:
        if not line or line.startswith("#") or " :: " not in line:
            continue
        german, english = _ABBREVIATIONS_RE.sub("", line.rstrip("\n")).split(" :: ", 1)
        for noun in _NOUN_RE.findall(german):
            out.german_nouns.add(fold(noun))
        for de_sense, en_sense in zip(german.split(" | "), english.split(" | "), strict=False):
            de_phrases: dict[tuple[str, ...], str] = {}
            for syn in de_sense.split("; "):
                if not _is_example(syn) and (p := _clean_german(syn)):
                    de_phrases[p] = de_phrases.get(p, "") + _word_class(syn)
            if not de_phrases:
                continue
            english_is_verb = any(e.strip().startswith("to ") for e in en_sense.split("; "))
            for phrase, cls in de_phrases.items():
                out.german_words.update(fold(w) for w in phrase)
                if english_is_verb and not cls:
                    cls = "v"
                if cls:
                    known = out.classes.get(phrase, "")
                    out.classes[phrase] = "".join(sorted(set(known + cls)))
            english_syns = [e for e in en_sense.split("; ") if not _is_example(e)]
            cleaned = [w for e in english_syns if (w := _clean_english(e))]
            # A sense whose English side is only proper nouns ("Spain") names a place, a
            # people or a person: its German headwords are names too ("Spanien").
            if cleaned and all(w[0][:1].isupper() and len(w) <= 2 for w in cleaned):
                out.german_names.update(
                    fold(p[0]) for p in de_phrases if p[0][:1].isupper() and p[0].isalpha()
                )
            sense_keys = {english_key(w) for w in cleaned if len(w) <= MAX_PHRASE_WORDS}
            if len(sense_keys) > 1:
                for key in sense_keys:
                    out.synonyms.setdefault(key, set()).update(sense_keys - {key})
            for words in cleaned:
                if len(words) > MAX_PHRASE_WORDS:
                    continue
                out.english_words.update(fold(w) for w in words if w.isalpha())
                for key in _keys(words):
                    counts = out.translations.setdefault(key, {})
                    for phrase in de_phrases:
                        counts[phrase] = counts.get(phrase, 0) + 1
    return out


_OBJECT_TAILS = (("to", "do"), ("doing",), ("to",))


def _keys(words: tuple[str, ...]) -> Iterator[str]:
    """The entry's key, and for "ask sb. to do sth." also the bare verb "ask" (and
    "commit to" for "commit to do"): questions rarely repeat the object pattern."""
    yield english_key(words)
    lowered = tuple(w.lower() for w in words)
    for tail in _OBJECT_TAILS:
        if len(words) > len(tail) and lowered[-len(tail) :] == tail:
            yield english_key(words[: -len(tail)])
            if tail == ("to", "do"):
                yield english_key(words[:-1])
            break


def load_ding(
    path: Path,
    cache_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DingEntries:
    """Parse the Ding file, reusing a pickled copy in ``cache_dir`` when it is current.

    ``progress(done, total)`` is told how far parsing has come (bytes read of the file).
    """
    stat = path.stat()
    cache = None
    if cache_dir is not None:
        tag = f"{_PARSER_VERSION}-{stat.st_size}-{int(stat.st_mtime)}"
        cache = cache_dir / f"ding-{tag}.pickle"
        if cache.exists():
            try:
                with cache.open("rb") as fh:
                    loaded = pickle.load(fh)
                if isinstance(loaded, DingEntries):
                    return loaded
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
                pass  # a stale or broken cache is simply rebuilt
    with path.open(encoding="utf-8", errors="replace") as fh:
        entries = parse_ding(_reporting(fh, stat.st_size, progress))
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".tmp")
            with tmp.open("wb") as fh:
                pickle.dump(entries, fh, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(cache)
        except OSError:
            pass  # caching is an optimisation only
    return entries


def _reporting(
    lines: Iterable[str], size: int, progress: Callable[[int, int], None] | None
) -> Iterator[str]:
    """``lines``, telling ``progress`` every 2,000 lines how much of ``size`` was read."""
    read = 0
    for number, line in enumerate(lines):
        read += len(line)  # characters, not bytes: close enough for a progress bar
        if progress is not None and number % 2_000 == 0:
            progress(min(read, size), max(size, 1))
        yield line
    if progress is not None:
        progress(max(size, 1), max(size, 1))
