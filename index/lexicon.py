"""English → German lexicon: the Ding dictionary's translations plus a glossary, compiled
against the indexed vocabulary.

``compile_lexicon`` keeps just the translations whose German side occurs in the indexed
articles (``index.ding`` parses the dictionary); the result, a ``Lexicon``, is stored with
the index build. The glossary adds names and spellings the dictionary lacks.
"""

from __future__ import annotations

import marshal
import zlib
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources

from index.artifacts import ArtifactFormat
from index.concepts import Concept
from index.config import DEFAULT_CONFIG
from index.ding import MAX_PHRASE_WORDS, DingEntries
from index.text import Token, fold, tokenize
from index.wordset import WordSet

# Bump when what ``compile_lexicon`` produces changes meaning: cached lexicons are keyed by it
# (index/lexicon_cache.py).
LEXICON_VERSION = "7"  # 7: name phrases; 6: nounless by capitals inside sentences
# The layout of ``Lexicon.to_bytes`` (stored with each build); bump it when that changes.
LEXICON_FORMAT = ArtifactFormat("lexicon", b"NBLX", 3)  # 3: marshal, not JSON


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


SHIPPED = "index/data/"  # the source of the glossary entries the package ships


def default_glossary() -> list[GlossaryEntry]:
    """The glossary shipped with the package: ``index/data/glossary.txt``, then the
    countries and continents ``scripts/make_countries.py`` took from Ding
    (``index/data/countries.txt``)."""
    entries: list[GlossaryEntry] = []
    for name in ("glossary.txt", "countries.txt"):
        text = resources.files("index.data").joinpath(name).read_text(encoding="utf-8")
        entries += parse_glossary(text, f"{SHIPPED}{name}")
    return entries


def variant_matcher(variant: str) -> tuple[tuple[str, ...], bool]:
    """A glossary variant as match words, and whether case must match exactly.

    Short all-capital variants ("US", "EU") only match in capitals, so that the pronoun
    "us" is not read as the country.
    """
    words = tuple(t.surface for t in tokenize(variant))
    exact = len(variant) <= 4 and variant.isupper()
    return (words if exact else tuple(fold(w) for w in words)), exact


def genitive_term(
    word: str,
    term_of: Callable[[str], str | None],
    vocabulary: Collection[str],
    german_words: Collection[str],
) -> str | None:
    """The index term of a capitalised word's genitive, "Kublais" for "Kublai", where the
    stemmer keeps the -s (Snowball drops it only after b, d, f, g, h, k, l, m, n, r, t:
    "Luthers" meets Luther, "Trumps" and "Melonis" do not).

    Only where the articles write both the word and its genitive (``vocabulary``), so
    that a name they never mention stays unknown ("Andrea" does not become *Andreas* in
    articles that name only Andreas). Never where word + s is a word of its own ("Ei" /
    *Eis*). Where the articles write both names, "Andrea" also meets "Andreas": the
    words cannot tell a genitive from another name, and the question's other words
    decide."""
    folded = fold(word)
    if not word[:1].isupper() or folded.endswith("s") or folded + "s" in german_words:
        return None
    base, term = term_of(word), term_of(word + "s")
    if not base or not term or term == base:
        return None
    return term if term in vocabulary and base in vocabulary else None


# variant words, case-exact → (index terms, label, shipped by the package)
GlossaryTable = dict[tuple[tuple[str, ...], bool], tuple[tuple[str, ...], str, bool]]


def compile_glossary(
    entries: Sequence[GlossaryEntry],
    term_of: Callable[[str], str | None],
    vocabulary: Collection[str],
    genitive: Callable[[str], str | None] | None = None,
) -> GlossaryTable:
    """Glossary variants → (index terms present in the articles, canonical label, whether
    the entry is one the package ships: ``default_glossary``'s, not an admin's). With
    ``genitive`` (``genitive_term``), a name also meets the genitive of its last word
    ("Giorgia Meloni" → *Melonis*).

    Earlier entries win over later ones for the same variant (admins' entries come first).
    """
    table: GlossaryTable = {}
    for entry in reversed(entries):
        terms: list[str] = []
        for german in entry.terms:
            # A multi-word name ("Vereinigte Staaten") is searched by its longest word:
            # its other words ("Staaten") are too common to stand for the name.
            words = [t.surface for t in tokenize(german) if term_of(t.surface)]
            if not words:
                continue
            term = term_of(max(words, key=len))
            if term and term in vocabulary and term not in terms:
                terms.append(term)
            if genitive and (also := genitive(words[-1])) and also not in terms:
                terms.append(also)
        label = ", ".join(entry.terms)
        shipped = entry.source.startswith(SHIPPED)
        for variant in entry.variants:
            table[variant_matcher(variant)] = (tuple(terms), label, shipped)
    return table


def match_glossary(
    table: GlossaryTable,
    tokens: Sequence[Token],
    consumed: list[bool],
    longer: Callable[[Sequence[str], int, int], int] | None = None,
) -> list[Concept]:
    """The glossary names among ``tokens`` (``compile_glossary``'s ``table``), longest
    first, each marked ``consumed``. Where ``longer(words, i, n)`` finds a longer dictionary
    phrase that begins with a shipped name, the phrase's words are left to it, whole:
    "Indian Ocean" is *Indischer Ozean*, no India. An admin's own entries always win."""
    out: list[Concept] = []
    raw = [t.surface for t in tokens]
    folded = [fold(w) for w in raw]
    i = 0
    while i < len(tokens):
        hit = None
        for n in range(min(MAX_PHRASE_WORDS, len(tokens) - i), 0, -1):
            hit = table.get((tuple(raw[i : i + n]), True)) or table.get(
                (tuple(folded[i : i + n]), False)
            )
            if hit is not None:
                break
        if hit is None:
            i += 1
            continue
        terms, label, shipped = hit
        if shipped and longer is not None and (phrase := longer(raw, i, n)):
            i += phrase
            continue
        out.append(Concept(" ".join(raw[i : i + n]), terms, "name", 1.0, entity=True, note=label))
        for j in range(i, i + n):
            consumed[j] = True
        i += n
    return out


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
    english_words: WordSet = field(default_factory=WordSet)
    german_words: WordSet = field(default_factory=WordSet)
    german_names: WordSet = field(default_factory=WordSet)
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
    # the dictionary's English phrases that begin with a one-word glossary name ("indian
    # ocean", "french fries"), translated in the articles or not: the name gives way
    name_phrases: frozenset[str] = frozenset()
    # word (as written, or folded) → folded lemma, where the lemma's term is another one
    # that occurs in the articles: what a loaded index lemmatises with (GermanAnalyzer)
    lemmas: dict[str, str] = field(default_factory=dict)
    # a German word (folded) the articles lack → the indexed terms of its OpenThesaurus
    # synonyms; a question's word looks it up by its lemma
    german_synonyms: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        payload = {
            "translations": self.translations,
            "classes": self.classes,
            "german_names": self.german_names.text,
            "glossary": [[e.variants, e.terms, e.source] for e in self.glossary],
            # Newline-joined, not JSON arrays: splitting one string is several times
            # cheaper than decoding 300k JSON strings (one long GIL-holding call on load).
            "english_words": self.english_words.text,
            "german_words": self.german_words.text,
            "has_dictionary": self.has_dictionary,
            "display": self.display,
            "surfaces": self.surfaces,
            "repair_english": self.repair_english,
            "compound_parts": "\n".join(sorted(self.compound_parts)),
            "names": "\n".join(self.names),
            "hop_keys": "\n".join(sorted(self.hop_keys)),
            "name_phrases": "\n".join(sorted(self.name_phrases)),
            "lemmas": self.lemmas,
            "german_synonyms": self.german_synonyms,
        }
        # marshal, not JSON: every snapshot load (each CLI run, each bot start) reads it,
        # and marshal loads the seed build's 7 MB in a fifth of JSON's time (26 against
        # 127 ms). It holds only str, float, bool, list, tuple and dict, which marshal
        # keeps exactly. zlib level 1: a fifth of level 6's time for a quarter more bytes;
        # every reindex writes one.
        return LEXICON_FORMAT.wrap(zlib.compress(marshal.dumps(payload), 1))

    @classmethod
    def from_bytes(cls, blob: bytes) -> Lexicon:
        """The lexicon ``to_bytes`` wrote; ``ArtifactFormatError`` if another version did."""
        payload = marshal.loads(zlib.decompress(LEXICON_FORMAT.unwrap(blob)))
        return cls(
            translations=payload["translations"],
            classes=payload["classes"],
            german_names=WordSet.from_text(payload["german_names"]),
            glossary=[GlossaryEntry(tuple(v), tuple(t), s) for v, t, s in payload["glossary"]],
            english_words=WordSet.from_text(payload["english_words"]),
            german_words=WordSet.from_text(payload["german_words"]),
            has_dictionary=bool(payload["has_dictionary"]),
            display=payload["display"],
            surfaces=payload["surfaces"],
            repair_english=payload["repair_english"],
            compound_parts=frozenset(_lines(payload["compound_parts"])),
            names=tuple(_lines(payload["names"])),
            hop_keys=frozenset(_lines(payload["hop_keys"])),
            name_phrases=frozenset(_lines(payload.get("name_phrases", ""))),
            lemmas=payload["lemmas"],
            german_synonyms=payload.get("german_synonyms", {}),  # builds before it: none
        )


def _lines(value: str) -> list[str]:
    return value.split("\n") if value else []


def compile_lexicon(
    ding: DingEntries | None,
    glossary: list[GlossaryEntry],
    term_of: Callable[[str], str | None],
    vocabulary: Iterable[str] | set[str],
    synonym_hop: float = DEFAULT_CONFIG.synonym_hop,
    never_nouns: Collection[str] = (),
    class_mismatch: float = DEFAULT_CONFIG.class_mismatch,
) -> Lexicon:
    """Keep the translations whose German side occurs in ``vocabulary`` (index terms).

    An English key none of whose translations occurs goes one hop: the translations of the
    English synonyms of its senses, at ``synonym_hop`` of their boost. Ding's "ceasefire"
    gives *Waffenruhe*; its synonym "truce" gives the article's *Waffenstillstand*.

    A translation is one German word. A multi-word German translation ("mit Luft Gas
    füllen" for "inflate") is not split into its words: each word alone would mean
    something else ("Luft"), so such a translation matches nothing.

    A noun sense whose term the articles never capitalise (``never_nouns``) keeps
    ``class_mismatch`` of its boost: there it is no noun, met only through the stemmer
    (side → *Seite* → "seit").
    """
    vocab = vocabulary if isinstance(vocabulary, set) else set(vocabulary)
    nounless = set(never_nouns)
    translations: dict[str, dict[str, float]] = {}
    classes: dict[str, dict[str, str]] = {}
    if ding is not None:
        for key, counts, kinds, top in ding.senses(term_of, vocab):
            # Relative to the key's most frequent one-word translation in the whole
            # dictionary, not among those the articles happen to contain: a rare sense
            # that alone occurs ("election" → möglich) must not weigh like the main one.
            ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            translations[key] = {
                t: round(
                    n / top * (class_mismatch if kinds.get(t) == "n" and t in nounless else 1), 4
                )
                for t, n in ranked
            }
            if kinds:
                classes[key] = {t: kinds[t] for t, _ in ranked if t in kinds}
    hop_keys: set[str] = set()
    if ding is not None and synonym_hop > 0:
        sources = ding.synonyms_of_any(translations.keys())
        hop_keys = _add_synonym_hops(translations, classes, sources, synonym_hop)
    english_words = ding.word_set("english_words") if ding else WordSet()
    return Lexicon(
        translations=translations,
        classes=classes,
        glossary=list(glossary),
        english_words=english_words,
        german_words=ding.word_set("german_words") if ding else WordSet(),
        german_names=ding.word_set("german_names") if ding else WordSet(),
        has_dictionary=ding is not None,
        hop_keys=frozenset(hop_keys),
        name_phrases=name_phrases(ding, glossary) if ding else frozenset(),
        repair_english=sorted(
            w for w, key in (ding.english_folded() if ding else ()) if key in translations
        ),
    )


def name_phrases(ding: DingEntries, glossary: Sequence[GlossaryEntry]) -> frozenset[str]:
    """The dictionary's English phrases of up to ``MAX_PHRASE_WORDS`` words whose first
    word is a one-word glossary variant: "Indian Ocean" is *Indischer Ozean*, not India,
    whether or not the articles hold its translation."""
    names = {fold(v) for e in glossary for v in e.variants if " " not in v.strip()}
    return frozenset(
        key
        for key in ding.english_keys()
        if " " in key and key.split(" ", 1)[0] in names and key.count(" ") < MAX_PHRASE_WORDS
    )


def _add_synonym_hops(
    translations: dict[str, dict[str, float]],
    classes: dict[str, dict[str, str]],
    synonyms: Iterable[tuple[str, Collection[str]]],
    weight: float,
) -> set[str]:
    """Give untranslated keys their synonyms' translations at ``weight`` (one hop only:
    the hops are computed from the direct translations, never from other hops)."""
    hops: dict[str, dict[str, float]] = {}
    for key, others in synonyms:
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
