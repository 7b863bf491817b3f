"""Question understanding: language detection and translation into weighted German concepts.

A question becomes a list of *concepts*. A concept is one idea of the question ("commit
to", "US", "troops") with the German index terms that express it. BM25 scores each
concept as one pseudo-term whose frequency is summed over its terms (Lucene's
SynonymQuery), so a word with thirty translations weighs like one word, not thirty.

Order of matching, longest first: glossary names → dictionary phrases → single words
(German analysis, dictionary translation, compound parts, typo repair).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from functools import partial

from index.analysis import (
    ENGLISH_STOPWORDS,
    GERMAN_STOPWORDS,
    Decompounder,
    GermanAnalyzer,
)
from index.concepts import Concept, Language, Query, distinct
from index.config import DEFAULT_CONFIG, EngineConfig
from index.ding import MAX_PHRASE_WORDS, english_key, english_lemma_keys, english_plural_keys
from index.english import (
    country_us,
    english_classes,
    english_lemmas,
    framed_word,
    strip_possessive,
)
from index.language import detect, stop_word_typo
from index.lexicon import (
    GlossaryEntry,
    Lexicon,
    compile_glossary,
    genitive_term,
    match_glossary,
)
from index.names import Spellings, nearest_word
from index.text import Token, clean_question, fold, tokenize

MAX_QUESTION_CHARS = 500
_QUANTITY_RE = re.compile(
    r"\b(how\s+many|how\s+much|number\s+of|wie\s*viele?|wie\s+hoch|anzahl)\b", re.I
)


class QueryBuilder:
    """Turns questions into ``Query`` objects against one index's vocabulary."""

    def __init__(
        self,
        lexicon: Lexicon,
        analyzer: GermanAnalyzer,
        vocabulary: Collection[str],
    ) -> None:
        self.lexicon = lexicon
        self.analyzer = analyzer
        self.config: EngineConfig = DEFAULT_CONFIG  # the engine sets its own
        self.vocabulary = vocabulary
        # Typo repair candidates: English words that translate into the articles, and the
        # articles' own (folded) words.
        self.english_candidates = lexicon.repair_english
        self.german_candidates = sorted(lexicon.surfaces)
        # The index's own splitter, so a question's compound splits as the articles' do.
        self._query_splitter = analyzer.decompounder or Decompounder(
            lexicon.compound_parts, lexicon.german_words, lexicon.english_words
        )
        self._genitive = partial(
            genitive_term,
            term_of=analyzer.term_of,
            vocabulary=vocabulary,
            german_words=lexicon.german_words,
        )
        self._glossary = compile_glossary(
            lexicon.glossary, analyzer.term_of, vocabulary, self._genitive
        )
        self.spellings = Spellings(lexicon.names, lexicon.surfaces)
        # The lemmas of a German question's words its build stored none for (a verb form
        # no article uses: "schickt" → schicken); the engine sets it (None: stored only).
        self.lemmatize: Callable[[str], str] | None = None

    def set_user_glossary(self, entries: Sequence[GlossaryEntry]) -> None:
        """Glossary entries added at run time (``/synonym``); they win over the others."""
        self._glossary = compile_glossary(
            [*entries, *self.lexicon.glossary],
            self.analyzer.term_of,
            self.vocabulary,
            self._genitive,
        )

    def lemma(self, word: str) -> str:
        """The folded lemma of a German question's word: the one its build stored, else
        ``lemmatize``'s (the same lemmatiser the build uses, so never another lemma)."""
        stored = self.analyzer.lemmas
        if self.lemmatize is None or stored is None or word in stored or fold(word) in stored:
            return self.analyzer.lemma(word)
        return fold(self.lemmatize(word)) if word.isalpha() else fold(word)

    def german_term(self, word: str) -> str | None:
        """A German question word's index term: as the articles were analysed, or, when
        that term is not indexed, its lemma's term where that one is."""
        term = self.analyzer.term_of(word)
        if term is None or term in self.vocabulary:
            return term
        lemma = self.lemma(word)
        if lemma in GERMAN_STOPWORDS or len(lemma) < 2:
            return term
        better = self.analyzer.stem(lemma)
        return better if better in self.vocabulary else term

    # -- language ------------------------------------------------------------------

    def detect_language(self, tokens: list[Token]) -> Language:
        """German, English, or mixed (``index.language.detect``)."""
        lexicon, stem = self.lexicon, self.analyzer.stem
        return detect(tokens, lexicon.english_words, lexicon.german_words, stem, self.vocabulary)

    # -- building ----------------------------------------------------------------

    def build(self, question: str, max_chars: int = MAX_QUESTION_CHARS) -> Query:
        """Understand ``question`` (its first ``max_chars`` characters) as weighted German
        concepts."""
        text = clean_question(question)
        truncated = len(text) > max_chars
        if truncated:
            cut = text.rfind(" ", 0, max_chars)
            text = text[: cut if cut > 0 else max_chars]
        tokens = [Token(strip_possessive(t.surface), t.start, t.end) for t in tokenize(text)]
        tokens = country_us(tokens)
        language = self.detect_language(tokens)
        classes = english_classes([t.surface for t in tokens]) if language != "de" else []
        consumed = [False] * len(tokens)
        concepts: list[Concept] = []
        # an English name gives way to a longer dictionary phrase ("Indian Ocean")
        longer = self._longer_phrase if language != "de" else None
        concepts += match_glossary(self._glossary, tokens, consumed, longer)
        if language != "de":
            concepts += self._match_phrases(tokens, consumed, classes)
        ignored: list[str] = []
        cased = any(t.surface[:1].isupper() for t in tokens[1:])  # not typed all lowercase
        unmatched = [False] * len(tokens)  # a name that matches nothing
        common = [False] * len(tokens)  # a word of the English dictionary
        for i, tok in enumerate(tokens):
            if consumed[i]:
                continue
            cls = classes[i] if classes else None
            made = self._word_concepts(tok, i, language, cls, cased)
            if made:
                concepts.extend(made)
                unmatched[i] = len(made) == 1 and made[0].entity and not made[0].terms
                common[i] = fold(tok.surface) in self.lexicon.english_words
            else:
                ignored.append(tok.surface)
        wants_number = bool(_QUANTITY_RE.search(text))
        # two such names side by side are a person's ("Jens Stoltenberg"), unless both are
        # English words, a phrase more likely than a name ("White House")
        absent = next(
            (
                f"{tokens[i].surface} {tokens[i + 1].surface}"
                for i in range(len(tokens) - 1)
                if unmatched[i] and unmatched[i + 1] and not (common[i] and common[i + 1])
            ),
            "",
        )
        return Query(
            text,
            language,
            distinct(concepts),
            truncated,
            tuple(ignored),
            wants_number,
            absent_name=absent,
        )

    def translate(self, words: Sequence[str], cls: str | None = None) -> dict[str, float]:
        """German terms for English ``words``: the dictionary's own form first, else
        the lemma's ("promised" → "promise"); terms of the word class ``cls`` preferred."""
        return self.lookup(words, cls)[0]

    def lookup(self, words: Sequence[str], cls: str | None = None) -> tuple[dict[str, float], bool]:
        """``translate``, and whether its terms came the weaker way: through a synonym hop,
        or the plural (often another sense: "arms", "goods")."""
        key = english_key(words)
        found = self.lexicon.translations.get(key)
        plural = False
        if not found:
            upos = {"v": "VERB", "n": "NOUN", "a": "ADJ"}.get(cls or "")
            lemmas = english_lemma_keys(words, upos) or english_lemma_keys(words)
            plurals = english_plural_keys(words) if cls in (None, "n") else []
            for key in [*lemmas, *plurals]:
                if found := self.lexicon.translations.get(key):
                    plural = key in plurals
                    break
        if not found:
            return {}, False
        weak = plural or key in self.lexicon.hop_keys
        kinds = self.lexicon.classes.get(key, {})
        if cls is None or not any(cls in kinds.get(t, cls) for t in found):
            return dict(found), weak
        weaker = self.config.class_mismatch
        return {t: b if cls in kinds.get(t, cls) else b * weaker for t, b in found.items()}, weak

    def _longer_phrase(self, words: Sequence[str], i: int, n: int) -> int:
        """The length of the longest dictionary phrase of more than ``n`` words that begins
        at ``words[i]``, or 0."""
        for m in range(min(MAX_PHRASE_WORDS, len(words) - i), n, -1):
            span = words[i : i + m]
            if english_key(span) in self.lexicon.name_phrases or self.translate(span):
                return m
        return 0

    def _match_phrases(
        self, tokens: list[Token], consumed: list[bool], classes: Sequence[str | None]
    ) -> list[Concept]:
        """Dictionary phrases of the question. A phrase with a function word at its edge
        ("chair of", "be used") may be an idiom or just its content word in a frame; its
        content words' own translations stay in the concept at ``phrase_word_share``."""
        out: list[Concept] = []
        i = 0
        while i < len(tokens):
            best = None
            for n in range(min(MAX_PHRASE_WORDS, len(tokens) - i), 1, -1):
                if any(consumed[i : i + n]):
                    continue
                words = [t.surface for t in tokens[i : i + n]]
                if all(fold(w) in ENGLISH_STOPWORDS for w in words):
                    continue
                if i > 0 and self._written_as_is(words):
                    continue  # "General Manager" as the articles write it: its own words
                found = self.translate(words)
                if found:
                    best = (n, found, " ".join(words))
                    break
            if best is None:
                i += 1
                continue
            n, found, source = best
            j = framed_word([t.surface for t in tokens[i : i + n]])
            if j is not None and (share := self.config.phrase_word_share):
                cls = classes[i + j] if classes else None
                for t, b in self.translate([tokens[i + j].surface], cls).items():
                    found[t] = max(found.get(t, 0.0), b * share)
            out.append(Concept(source, tuple(found), "phrase", boosts=tuple(found.values())))
            for j in range(i, i + n):
                consumed[j] = True
            i += n
        return out

    def _written_as_is(self, words: Sequence[str]) -> bool:
        """Whether capitalised English words are the articles' own words, each (a name or
        a loan the German text writes in English, "General Manager"): they then match as
        themselves, as a single such word does, not through the phrase's translations.
        Each word is looked up alone, not the two side by side; and a question's first
        word is capitalised anyway, so a phrase there keeps its translations."""
        return all(
            w[:1].isupper() and (t := self.analyzer.term_of(w)) is not None and t in self.vocabulary
            for w in words
        )

    def _word_concepts(
        self,
        tok: Token,
        position: int,
        language: Language,
        cls: str | None = None,
        cased: bool = True,
    ) -> list[Concept]:
        word = tok.surface
        folded = fold(word)
        is_en_stop = folded in ENGLISH_STOPWORDS
        is_de_stop = folded in GERMAN_STOPWORDS
        if (language == "en" and is_en_stop) or (language == "de" and is_de_stop):
            return []
        if language == "mixed" and (is_en_stop or is_de_stop):
            return []
        # A German function word inside an English question ("… Und was sagten die …")
        # is no topic, unless it is an English word too.
        if language == "en" and is_de_stop and not english_lemmas(folded):
            return []
        if len(folded) < 2 and not folded.isdigit():
            return []

        german = self.german_term(word) if language == "de" else self.analyzer.term_of(word)
        terms: dict[str, float] = {}
        if german and german in self.vocabulary:
            terms[german] = 1.0
        if german and position > 0 and (genitive := self._genitive(word)):
            terms[genitive] = 1.0
        weight = 1.0
        if (
            language == "de"
            and german
            and not terms
            and self.config.synonym_hop
            and (synonyms := self._german_synonyms(word))
        ):
            # a German word the articles never use: its thesaurus synonyms they do use
            # ("schicken" → entsenden), one hop, weaker in scoring and coverage
            terms = dict(synonyms)
            weight = self.config.synonym_hop
        # A German question's word is looked up in English only when it is no German word
        # (a loanword, a name spelled the English way).
        if language != "de" or (not terms and folded not in self.lexicon.german_words):
            translated, weak = self.lookup([word], cls)
            if translated and not terms and weak:  # weaker in scoring and coverage too
                weight = self.config.synonym_hop
            for t, boost in translated.items():
                terms.setdefault(t, boost)
        # A capitalised word that matches nothing is most likely a name: inside an English
        # sentence any such word, in German (where every noun is capitalised) a word the
        # dictionary does not know, or knows as the name of a place or a people.
        capitalised = position > 0 and word[:1].isupper()
        if language == "de":
            entity = (
                capitalised
                and not terms
                and (folded in self.lexicon.german_names or folded not in self.lexicon.german_words)
            )
        else:
            entity = capitalised and not terms
        if terms:
            return [
                Concept(
                    word, tuple(terms), "word", weight, entity=entity, boosts=tuple(terms.values())
                )
            ]

        if word[:1].isupper() and (named := self._match_name(word)) is not None:
            return [named]

        parts = (
            self._known_parts(folded)
            if german and self._splittable(word, position, language, cased)
            else ()
        )
        if parts:
            # a part the articles lack stays, matching nothing: "Weltmeisterschaft" is not
            # covered by a passage about the *Welt*
            found = [(p, self.analyzer.stem(p)) for p in parts]
            if not any(term in self.vocabulary for _, term in found):
                return [Concept(word, (), "word")]
            weight = self.config.part_weight
            return [
                Concept(f"{word} ({p})", (t,) if t in self.vocabulary else (), "part", weight)
                for p, t in found
            ]

        known = self.is_known_word(folded, language)
        if not known and not word[:1].isupper() and stop_word_typo(folded, language):
            return []  # "waht", "teh", "wehn": a function word mistyped is still none
        # Typo repair is for words; a capitalised word in an English question is a name,
        # repaired only to a name of the articles (above), never to a dictionary word. An
        # English word may instead be a German word's cognate: the likelier spelling wins
        # ("clades" is nearer *Kladen* than "blades", "aggresion" nearer "aggression").
        if not known and not (entity and language != "de"):
            fixed = self._repair(folded, language)
            cognate = self._cognate(word) if language != "de" else None
            if cognate is not None and (
                fixed is None
                or Spellings.likeness(folded, cognate.note) > Spellings.likeness(folded, fixed.note)
            ):
                return [cognate]
            # a German noun or name is repaired to a word the articles capitalise, not to
            # an adjective or a verb ("Scholz" ↛ *stolz*)
            shown = self.lexicon.display.get(fixed.terms[0], "") if fixed else ""
            if fixed is not None and not (language == "de" and capitalised and shown.islower()):
                return [fixed]
        # Only a missing *noun* the dictionary knows ("inflation") is strong evidence that
        # the articles do not cover the question; adjectives and verbs are often paraphrased.
        noun = (
            cls == "n" if language != "de" else word[:1].isupper() and self._noun_at(position, word)
        )
        return [Concept(word, (), "word", entity=entity, known=known and noun and not entity)]

    def _german_synonyms(self, word: str) -> dict[str, float] | None:
        """The thesaurus synonyms of a German question's word the articles lack: of the
        word as written, else of its lemma ("schickt" → schicken)."""
        found = self.lexicon.german_synonyms
        return found.get(fold(word)) or found.get(self.lemma(word))

    def _noun_at(self, position: int, word: str) -> bool:
        """Whether a capitalised word of a German question is a noun. A question's first
        word is capitalised whatever it is: there, a noun is one whose lemma is a noun
        ("Truppen" → Truppe), not a verb's form ("Kommt" → kommen)."""
        if position > 0:
            return True
        if self.lemmatize is not None:
            return self.lemmatize(word)[:1].isupper()
        return self.lemma(word) == fold(word)

    def _splittable(self, word: str, position: int, language: Language, cased: bool) -> bool:
        """Whether a question's word may be a compound. In German text only a noun is, and
        the index splits only capitalised words (``GermanAnalyzer.surface_terms``): never
        "protestieren". A question's first word is capitalised anyway, so there only a
        word the dictionary does not know; a question typed in lowercase gives no sign."""
        if language != "de" or not cased:
            return True
        if position > 0:
            return word[:1].isupper()
        return fold(word) not in self.lexicon.german_words

    def _match_name(self, word: str) -> Concept | None:
        """A capitalised question word that is a name of the articles spelled another way
        (``Spellings.name``)."""
        found = self.spellings.name(word)
        term = self.analyzer.term_of(found) if found else None
        if found is None or term is None or term not in self.vocabulary:
            return None
        return Concept(word, (term,), "name", entity=True, note=found)

    def _cognate(self, word: str) -> Concept | None:
        """An English word no dictionary entry translates, met by its German cognate in
        the articles (``Spellings.cognate``: clades ↔ Kladen), as weak as a typo."""
        if not self.config.cognate_similarity:
            return None
        surface = self.spellings.cognate(word, self.config.cognate_similarity)
        term = self.lexicon.surfaces[surface] if surface else None
        if surface is None or term is None or term not in self.vocabulary:
            return None
        spelled = self.lexicon.display.get(term, surface)
        return Concept(word, (term,), "cognate", self.config.typo_weight, note=spelled)

    def _known_parts(self, folded: str) -> tuple[str, ...]:
        """Parts of a compound the articles know: a full split, else the longest known
        head and modifier ("luftabwehrtruppen" → "luft", "truppen")."""
        parts = self._query_splitter.split(folded)
        if parts or len(folded) < 8:
            return parts
        stem = self.analyzer.stem
        words, surfaces = self.lexicon.german_words, self.lexicon.surfaces

        def known(part: str) -> bool:  # a word of the dictionary or the articles, indexed
            return (part in words or part in surfaces) and stem(part) in self.vocabulary

        head = next((folded[i:] for i in range(4, len(folded) - 3) if known(folded[i:])), "")
        rest = folded[: len(folded) - len(head)]
        modifier = next((rest[:i] for i in range(len(rest), 3, -1) if known(rest[:i])), "")
        # what lies between stays a part, one the articles lack ("welt|meisterschaft"),
        # unless it is a linking letter or two
        middle = rest[len(modifier) :]
        middle = middle if (modifier or head) and len(middle) >= 4 else ""
        return tuple(p for p in (modifier, middle, head) if p)

    def is_known_word(self, folded: str, language: Language) -> bool:
        if language == "en":
            return folded in self.lexicon.english_words
        if language == "de":
            return folded in self.lexicon.german_words
        return folded in self.lexicon.english_words or folded in self.lexicon.german_words

    def _repair(self, folded: str, language: Language) -> Concept | None:
        """Map an unknown word to the nearest vocabulary word (Levenshtein ≤ 1 or 2).

        A word of a question not plainly German (English or mixed) meets an article's
        German word one slip away at most ("stattdesen"): two slips from a German word,
        it is more likely an English word the dictionary lacks, or a name, than a typo.
        """
        if len(folded) < 4 or not folded.isalpha():
            return None
        pools = [(self.german_candidates, False, 2 if language == "de" else 1)]
        if language != "de":
            pools.insert(0, (self.english_candidates, True, 2))
        best = nearest_word(folded, pools)
        if best is None:
            return None
        fixed, english = best
        if english:
            terms = self.translate([fixed])
        else:
            term = self.analyzer.term_of(fixed)
            terms = {term: 1.0} if term and term in self.vocabulary else {}
        if not terms:
            return None
        return Concept(
            folded,
            tuple(terms),
            "typo",
            self.config.typo_weight,
            note=fixed,
            boosts=tuple(terms.values()),
        )
