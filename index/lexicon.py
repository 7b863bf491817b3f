"""English → German lexicon: the Ding dictionary (Debian ``trans-de-en``) plus a glossary.

Ding lines look like ``GERMAN :: ENGLISH``; both sides split by `` | `` into parallel
senses, and senses by ``; `` into synonyms. The first senses of an entry are usually the
headword and its inflected forms (``versprechen | versprochen :: to promise | promised``).
Keys are *stemmed* English phrases, so "promise" and "promised" share one key and with it
every German form of the entry, which is what lets "What did they promise?" meet
"hatte … versprochen".

Parsing all of Ding takes seconds, so it happens at reindex time only: ``compile_lexicon``
keeps just the translations whose German side occurs in the indexed articles, and the
result is stored with the index build.
"""

from __future__ import annotations

import json
import pickle
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from lemminflect import getAllLemmas

from index.artifacts import ArtifactFormat
from index.text import fold, tokenize

DING_DEFAULT_PATH = Path("/usr/share/trans/de-en")
MAX_PHRASE_WORDS = 4
_PARSER_VERSION = "ding-10"
# Bump when what ``compile_lexicon`` produces changes meaning: cached lexicons are keyed by it
# (index/lexicon_cache.py).
LEXICON_VERSION = "2"
# The layout of ``Lexicon.to_bytes`` (stored with each build); bump it when that changes.
LEXICON_FORMAT = ArtifactFormat("lexicon", b"NBLX", 2)

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
        lemmas = getAllLemmas(word.lower())
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


def _clean_english(synonym: str) -> tuple[str, ...]:
    text = _BRACKETS_RE.sub(" ", synonym).strip()
    kept = " ".join(w for w in text.replace(",", " ").split() if w.lower() not in _EN_NOISE)
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


# --- glossary -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GlossaryEntry:
    """Variants (English or German spellings, names) that mean the German ``terms``."""

    variants: tuple[str, ...]
    terms: tuple[str, ...]
    source: str = "glossary"


def parse_glossary(text: str, source: str = "glossary") -> list[GlossaryEntry]:
    """Parse ``variant, variant = German term, German term`` lines (``#`` comments)."""
    entries: list[GlossaryEntry] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        left, sep, right = line.partition("=")
        variants = tuple(v.strip() for v in left.split(",") if v.strip())
        terms = tuple(t.strip() for t in right.split(",") if t.strip())
        if not sep or not variants or not terms:
            raise ValueError(f"{source}:{number}: expected 'variants = German terms': {raw!r}")
        entries.append(GlossaryEntry(variants, terms, source))
    return entries


def default_glossary() -> list[GlossaryEntry]:
    """The glossary shipped with the package (``index/data/glossary.txt``)."""
    text = resources.files("index.data").joinpath("glossary.txt").read_text(encoding="utf-8")
    return parse_glossary(text, "index/data/glossary.txt")


def variant_matcher(variant: str) -> tuple[tuple[str, ...], bool]:
    """A glossary variant as match words, and whether case must match exactly.

    Short all-capital variants ("US", "EU") only match in capitals, so that the pronoun
    "us" is not read as the country.
    """
    words = tuple(t.surface for t in tokenize(variant))
    exact = len(variant) <= 4 and variant.isupper()
    return (words if exact else tuple(fold(w) for w in words)), exact


# --- compiled lexicon ----------------------------------------------------------------


@dataclass
class Lexicon:
    """What query translation needs at answer time, restricted to the indexed vocabulary.

    ``translations`` maps an English key to German index terms, each with a boost: the
    share of the dictionary's senses for that key that give the term (the most frequent
    translation has boost 1), a translation probability estimated from the dictionary
    itself. ``glossary`` maps glossary
    variants to index terms (and also keeps entries that match nothing, so a question
    about a known name absent from the articles can be recognised); ``english_words`` and
    ``german_words`` tell real words from typos and guide language detection.
    """

    translations: dict[str, dict[str, float]] = field(default_factory=dict)
    # English key → German term → its word classes in the dictionary ("n", "v", "a")
    classes: dict[str, dict[str, str]] = field(default_factory=dict)
    glossary: list[GlossaryEntry] = field(default_factory=list)
    english_words: frozenset[str] = frozenset()
    german_words: frozenset[str] = frozenset()
    german_names: frozenset[str] = frozenset()
    has_dictionary: bool = False
    display: dict[str, str] = field(default_factory=dict)  # index term → article spelling
    surfaces: dict[str, str] = field(default_factory=dict)  # folded article word → term
    # English words whose translations occur in the articles: typo repair candidates
    repair_english: list[str] = field(default_factory=list)
    # Words compounds may be split into (folded), those whose stems the index holds
    compound_parts: frozenset[str] = frozenset()
    # the articles' proper nouns (capitalised words no dictionary lists as common words),
    # as written: what a misspelt or transliterated name in a question is matched to
    names: tuple[str, ...] = ()
    # English keys whose translations come from a synonym hop (see compile_lexicon)
    hop_keys: frozenset[str] = frozenset()
    # word (as written, or folded) → folded lemma, where the lemma's term is another one
    # that occurs in the articles: what a loaded index lemmatises with (GermanAnalyzer)
    lemmas: dict[str, str] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        payload = {
            "translations": self.translations,
            "classes": self.classes,
            "german_names": "\n".join(sorted(self.german_names)),
            "glossary": [[e.variants, e.terms, e.source] for e in self.glossary],
            # Newline-joined, not JSON arrays: splitting one string is several times
            # cheaper than decoding 300k JSON strings (one long GIL-holding call on load).
            "english_words": "\n".join(sorted(self.english_words)),
            "german_words": "\n".join(sorted(self.german_words)),
            "has_dictionary": self.has_dictionary,
            "display": self.display,
            "surfaces": self.surfaces,
            "repair_english": self.repair_english,
            "compound_parts": "\n".join(sorted(self.compound_parts)),
            "names": "\n".join(self.names),
            "hop_keys": "\n".join(sorted(self.hop_keys)),
            "lemmas": self.lemmas,
        }
        compressed = zlib.compress(json.dumps(payload, ensure_ascii=False).encode("utf-8"), 6)
        return LEXICON_FORMAT.wrap(compressed)

    @classmethod
    def from_bytes(cls, blob: bytes) -> Lexicon:
        """The lexicon ``to_bytes`` wrote; ``ArtifactFormatError`` if another version did."""
        payload = json.loads(zlib.decompress(LEXICON_FORMAT.unwrap(blob)).decode("utf-8"))
        return cls(
            translations=payload["translations"],
            classes=payload["classes"],
            german_names=frozenset(_lines(payload["german_names"])),
            glossary=[GlossaryEntry(tuple(v), tuple(t), s) for v, t, s in payload["glossary"]],
            english_words=frozenset(_lines(payload["english_words"])),
            german_words=frozenset(_lines(payload["german_words"])),
            has_dictionary=bool(payload["has_dictionary"]),
            display=payload["display"],
            surfaces=payload["surfaces"],
            repair_english=payload["repair_english"],
            compound_parts=frozenset(_lines(payload["compound_parts"])),
            names=tuple(_lines(payload["names"])),
            hop_keys=frozenset(_lines(payload["hop_keys"])),
            lemmas=payload["lemmas"],
        )


def _lines(value: str) -> list[str]:
    return value.split("\n") if value else []


def compile_lexicon(
    ding: DingEntries | None,
    glossary: list[GlossaryEntry],
    term_of: Callable[[str], str | None],
    vocabulary: Iterable[str] | set[str],
    synonym_hop: float = 0.5,
) -> Lexicon:
    """Keep the translations whose German side occurs in ``vocabulary`` (index terms).

    An English key none of whose translations occurs goes one hop: the translations of the
    English synonyms of its senses, at ``synonym_hop`` of their boost. Ding's "ceasefire"
    gives *Waffenruhe*; its synonym "truce" gives the article's *Waffenstillstand*.

    A translation is one German word. A multi-word German translation ("mit Luft Gas
    füllen" for "inflate") is not split into its words: each word alone would mean
    something else ("Luft"), so such a translation matches nothing.
    """
    vocab = vocabulary if isinstance(vocabulary, set) else set(vocabulary)
    translations: dict[str, dict[str, float]] = {}
    classes: dict[str, dict[str, str]] = {}
    if ding is not None:
        for key, phrases in ding.translations.items():
            counts, kinds, top = _term_counts(phrases, ding.classes, term_of, vocab)
            if counts:
                # Relative to the key's most frequent one-word translation in the whole
                # dictionary, not among those the articles happen to contain: a rare sense
                # that alone occurs ("election" → möglich) must not weigh like the main one.
                ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
                translations[key] = {t: round(n / top, 4) for t, n in ranked}
                if kinds:
                    classes[key] = kinds
    hop_keys: set[str] = set()
    if ding is not None and synonym_hop > 0:
        hop_keys = _add_synonym_hops(translations, classes, ding.synonyms, synonym_hop)
    english_words = frozenset(ding.english_words) if ding else frozenset()
    return Lexicon(
        translations=translations,
        classes=classes,
        glossary=list(glossary),
        english_words=english_words,
        german_words=frozenset(ding.german_words) if ding else frozenset(),
        german_names=frozenset(ding.german_names) if ding else frozenset(),
        has_dictionary=ding is not None,
        hop_keys=frozenset(hop_keys),
        repair_english=sorted(
            w for w in english_words if len(w) >= 3 and english_key([w]) in translations
        ),
    )


def _add_synonym_hops(
    translations: dict[str, dict[str, float]],
    classes: dict[str, dict[str, str]],
    synonyms: dict[str, set[str]],
    weight: float,
) -> set[str]:
    """Give untranslated keys their synonyms' translations at ``weight`` (one hop only:
    the hops are computed from the direct translations, never from other hops)."""
    hops: dict[str, dict[str, float]] = {}
    for key, others in synonyms.items():
        if key in translations:
            continue
        merged: dict[str, float] = {}
        kinds: dict[str, str] = {}
        for other in sorted(others):
            for term, boost in translations.get(other, {}).items():
                merged[term] = max(merged.get(term, 0.0), round(boost * weight, 4))
                if cls := classes.get(other, {}).get(term):
                    kinds[term] = "".join(sorted(set(kinds.get(term, "") + cls)))
        if merged:
            hops[key] = dict(sorted(merged.items(), key=lambda kv: (-kv[1], kv[0])))
            if kinds:
                classes[key] = kinds
    translations.update(hops)
    return set(hops)


def _term_counts(
    phrases: dict[tuple[str, ...], int],
    phrase_classes: dict[tuple[str, ...], str],
    term_of: Callable[[str], str | None],
    vocab: set[str],
) -> tuple[dict[str, int], dict[str, str], int]:
    """Sense counts of the key's one-word translations that occur in ``vocab``, their word
    classes, and the largest count of any one-word translation, occurring or not."""
    counts: dict[str, int] = {}
    every: dict[str, int] = {}
    kinds: dict[str, str] = {}
    for phrase, n in phrases.items():
        content = {t for w in phrase if (t := term_of(w))}
        if len(content) != 1:
            continue  # a phrase, not a word: see compile_lexicon
        (term,) = content
        every[term] = every.get(term, 0) + n
        if term not in vocab:
            continue
        counts[term] = counts.get(term, 0) + n
        cls = phrase_classes.get(phrase, "")
        if cls:
            kinds[term] = "".join(sorted(set(kinds.get(term, "") + cls)))
    return counts, kinds, max(every.values(), default=0)
