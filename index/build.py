"""Building an index: parsed articles in, an immutable ``Snapshot`` out.

``analyse_articles`` turns every passage into index terms; ``build_snapshot`` indexes them
(BM25 postings), compiles the lexicon against the vocabulary (reusing a cached one), and
stores with the build what a loaded index needs to analyse questions as the build did:
display spellings, proper nouns, lemmas and compound parts.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from index.analysis import ANALYZER_VERSION, Decompounder, GermanAnalyzer, german_lemmas
from index.bm25 import BM25Index, BM25Params
from index.config import DEFAULT_CONFIG
from index.corpus import Article, SkippedFile
from index.dictionary_store import StoredDictionary, term_function
from index.ding import DingEntries
from index.lemma_dictionary import Lemmatize, german_lemmatizer
from index.lexicon import GlossaryEntry, Lexicon, compile_lexicon
from index.lexicon_cache import cached_lexicon, lexicon_inputs, phrase_words, reporting_calls
from index.records import BuildInfo, IndexedArticle, IndexedPassage, Snapshot
from index.separable import separable_verbs
from index.text import WORD_RE, fold
from index.thesaurus import load_thesaurus, synonym_terms, thesaurus_identity, written_forms

DEFAULT_PARAMS = BM25Params(variant="okapi", k1=DEFAULT_CONFIG.k1, b=DEFAULT_CONFIG.b)


def _index_decompounder(ding: DingEntries | None, articles: Sequence[Article]) -> Decompounder:
    """Known words for splitting: Ding's nouns plus the capitalised words of the corpus
    that Ding lacks (names, new words); the capitals Ding has as another word class
    ("Normalerweise" starting a sentence) are no parts."""
    german = ding.german_words if ding else set()
    corpus: set[str] = set()
    for article in articles:
        corpus.update(
            w for m in _CAPITALISED_RE.findall(article.text) if (w := fold(m)) not in german
        )
    if ding is None:
        return Decompounder(corpus)
    if isinstance(ding, StoredDictionary):  # the store's stems of the nouns stand for them
        stems = ding.noun_part_stems
        return Decompounder(corpus, ding.german_words, ding.english_words, stems=stems)
    return Decompounder(corpus | ding.german_nouns, ding.german_words, ding.english_words)


def stored_lemmas(
    surfaces: Iterable[str],
    ding: DingEntries | None,
    analyzer: GermanAnalyzer,
    vocabulary: Collection[str],
) -> dict[str, str]:
    """The lemmas a loaded index needs to analyse as the build did: of every article word
    whose lemma changes its term, and of every dictionary word whose lemma's term occurs in
    the articles (a question's "zugesagt" meets the articles' "zusagen")."""
    out: dict[str, str] = {}
    if ding is not None:
        dictionary_lemmas(ding)  # computed, if the store did not hold them
        out.update(ding.lemmas_meeting(vocabulary, analyzer.stem))
    for surface in surfaces:
        folded = fold(surface)
        lemma = analyzer.lemma(surface)
        # The article's own word as the build analysed it, also where that is no change
        # but the dictionary's folded entry would change it.
        if lemma != folded or folded in out:
            out[surface] = lemma
    return out


def dictionary_lemmas(ding: DingEntries | None) -> dict[str, str]:
    """``ding.lemmas``; computed and kept on ``ding`` when its store did not hold them."""
    if ding is None:
        return {}
    if ding.lemmas is None:
        ding.lemmas = german_lemmas(ding.german_words)
    return ding.lemmas


def part_as_written(compound: str, part: str) -> str:
    """A compound's (folded) part with the compound's own letters where they spell it
    ("Kommissionspräsidentin", "prasidentin" → "Präsidentin"), capitalised as a noun."""
    folded, origin = "", []  # each folded letter's place in the compound (ß → ss)
    for i, letter in enumerate(compound):
        f = fold(letter)
        folded += f
        origin += [i] * len(f)
    at = folded.find(part)
    written = compound[origin[at] : origin[at + len(part) - 1] + 1] if at >= 0 else part
    if fold(written) != part:  # the part begins or ends inside a folded ß
        written = part
    return written[:1].upper() + written[1:].lower()


def proper_nouns(surfaces: Counter[str], lexicon: Lexicon) -> tuple[str, ...]:
    """The articles' capitalised words that no dictionary lists as a common German word
    (names; German words Ding knows as names, such as *Spanien*), most frequent first."""
    out = [
        s
        for s, _ in surfaces.most_common()
        if len(s) >= 3
        and s[:1].isupper()
        and s.isalpha()
        and ((f := fold(s)) not in lexicon.german_words or f in lexicon.german_names)
    ]
    return tuple(out)


_CAPITALISED_RE = re.compile(r"\b[^\W\d_a-zß][^\W\d_]{2,}", re.UNICODE)


@dataclass
class Analysed:
    """Articles turned into index documents (one term list per passage)."""

    articles: dict[str, IndexedArticle]
    passages: list[IndexedPassage]
    documents: list[list[str]]
    surface_counts: Counter[str]  # every word form as written, for display and typo repair
    term_of_surface: dict[str, str]
    decompounder: Decompounder
    inside_capitals: set[str]  # word forms capitalised inside a sentence (see never_nouns)


def analyse_articles(
    articles: Sequence[Article],
    ding: DingEntries | None,
    progress: Callable[[str, int, int], None] | None = None,
    lemmatize: Lemmatize | None = None,
) -> Analysed:
    """Analyse every passage (its section heading included as context)."""
    if progress:
        progress("analyse", 0, len(articles))
    decompounder = _index_decompounder(ding, articles)
    analyzer = GermanAnalyzer(decompounder, lemmatize=lemmatize or german_lemmatizer(None))
    index_terms = analyzer.index_terms
    known = ding.german_words if ding else frozenset()
    indexed: dict[str, IndexedArticle] = {}
    passages: list[IndexedPassage] = []
    documents: list[list[str]] = []
    surfaces: Counter[str] = Counter()
    inside: set[str] = set()
    step = max(len(articles) // 100, 1)
    for n, article in enumerate(articles, 1):
        ids: list[int] = []
        section = None
        for p in article.passages:
            words = WORD_RE.findall(p.text)
            surfaces.update(words)
            inside.update(_INSIDE_CAPITAL_RE.findall(p.text))
            heading = WORD_RE.findall(p.section) if p.section else []
            if p.section != section:  # a heading's words, once per heading, are the
                section = p.section  # article's words too ("Deutschlands")
                surfaces.update(heading)
                inside.update(_INSIDE_CAPITAL_RE.findall(p.section or ""))
            doc = index_terms(heading)
            doc += index_terms(words)
            # "fand … statt" is indexed as stattfinden too; the infinitive counts as a word
            # of the articles, so the verb is shown as it ("take place → stattfinden")
            verbs = [v.infinitive for v in separable_verbs(p.text, analyzer.lemma, known)]
            doc += [analyzer.stem(v) for v in verbs]
            surfaces.update(verbs)
            documents.append(doc)
            pid = len(passages)
            passages.append(IndexedPassage(pid, article.id, p.ordinal, p.section, p.start, p.end))
            ids.append(pid)
        indexed[article.id] = IndexedArticle(
            article.id,
            article.title,
            article.date.isoformat() if article.date else None,
            article.source,
            article.path,
            article.caption,
            article.text,
            article.sha256,
            tuple(ids),
        )
        if progress and (n % step == 0 or n == len(articles)):
            progress("analyse", n, len(articles))
    term_of_surface = {w: t for w in surfaces if (t := analyzer.term_of(w)) is not None}
    return Analysed(indexed, passages, documents, surfaces, term_of_surface, decompounder, inside)


# A capitalised word after a lowercase word, a digit or a comma and one space: inside a
# sentence, where German capitalises only nouns and names.
_INSIDE_CAPITAL_RE = re.compile(r"(?<=[a-zäöüß\d,;] )[A-ZÄÖÜ]\w*(?:['’]\w+)*")


def never_nouns(term_of_surface: dict[str, str], inside_capitals: Collection[str]) -> set[str]:
    """The index terms the articles write in small letters and never capitalise inside a
    sentence (``inside_capitals``; a sentence's first word is capitalised whatever it is).
    German capitalises every noun, so no word of such a term is a noun there, and a noun
    sense of the dictionary meets it only through the stemmer (side → *Seite* → "seit").
    A compound's parts are no evidence either way: counting them as nouns (the *Stahl* of
    *Stahlwerk*) lost a question on xquad-dev EN."""
    small = {term for surface, term in term_of_surface.items() if surface[:1].islower()}
    capital = {term_of_surface[s] for s in inside_capitals if s in term_of_surface}
    return small - capital


def build_snapshot(
    articles: Sequence[Article],
    ding: DingEntries | None,
    glossary: Sequence[GlossaryEntry],
    params: BM25Params = DEFAULT_PARAMS,
    skipped: Sequence[SkippedFile] = (),
    progress: Callable[[str, int, int], None] | None = None,
    cache_dir: Path | None = None,
    thesaurus_path: Path | None = None,
) -> Snapshot:
    """Analyse ``articles`` into a new snapshot (CPU-bound; run it off the event loop).

    With ``cache_dir``, a lexicon compiled earlier from the same inputs is reused
    (``index.lexicon_cache``); a dictionary opened by ``open_dictionary`` is only read for
    the entries the vocabulary can meet.
    """
    began = time.perf_counter()
    lemmatize = german_lemmatizer(cache_dir)
    analysed = analyse_articles(articles, ding, progress, lemmatize)
    if progress:
        progress("index", 0, 1)
    bm25 = BM25Index.from_documents(analysed.documents, params)
    if progress:
        progress("index", 1, 1)
        progress("lexicon", 0, 1)
    analyzer = GermanAnalyzer(lemmatize=lemmatize)
    vocabulary = bm25.vocabulary

    nounless = never_nouns(analysed.term_of_surface, analysed.inside_capitals)
    written = written_forms(analysed.term_of_surface, lemmatize)

    def compile() -> Lexicon:
        plain_term_of = term_function(ding, analyzer.term_of)
        term_of = plain_term_of
        if progress is not None and not isinstance(ding, StoredDictionary):
            # A pass over the whole dictionary (the store reads only what the vocabulary
            # meets, in a blink): the bar moves as compiling looks the German words up.
            term_of = reporting_calls(
                term_of, phrase_words(ding), lambda d, t: progress("lexicon", d, t)
            )
        lexicon = compile_lexicon(
            ding,
            list(glossary),
            term_of,
            vocabulary,
            synonym_hop=DEFAULT_CONFIG.synonym_hop,
            never_nouns=nounless,
            class_mismatch=DEFAULT_CONFIG.class_mismatch,
        )
        # Read and parsed only here, when no compiled lexicon is cached (a quarter second).
        thesaurus = load_thesaurus(thesaurus_path)
        lexicon.german_synonyms = synonym_terms(
            thesaurus,
            plain_term_of,
            vocabulary,
            sense_power=DEFAULT_CONFIG.synonym_sense_power,
            never_nouns=nounless,
            class_mismatch=DEFAULT_CONFIG.class_mismatch,
            written=written,
        )
        return lexicon

    inputs = lexicon_inputs(
        ding, glossary, vocabulary, thesaurus_identity(thesaurus_path), nounless, written
    )
    lexicon = cached_lexicon(cache_dir, inputs, compile)
    display: dict[str, tuple[int, str]] = {}
    for surface, count in analysed.surface_counts.items():
        term = analysed.term_of_surface.get(surface)
        if term is not None and count > display.get(term, (0, ""))[0]:
            display[term] = (count, surface)
    # Terms seen only inside compounds ("regier" of "Bundesregierung") are shown as the
    # part, capitalised like the noun it came from, never as a stem.
    for surface in analysed.surface_counts:
        if not surface[:1].isupper():
            continue
        for part in analysed.decompounder.split(fold(surface)):
            term = analyzer.stem(part)
            if term not in display:
                display[term] = (0, part_as_written(surface, part))
    lexicon.display = {t: s for t, (_, s) in display.items()}
    lexicon.surfaces = {fold(s): t for s, t in analysed.term_of_surface.items() if len(s) >= 3}
    lexicon.names = proper_nouns(analysed.surface_counts, lexicon)
    # Stored with the build, so that a loaded snapshot splits words as the build did.
    words = {w for article in analysed.articles.values() for w in WORD_RE.findall(article.text)}
    # every word of the articles, headings and captions included
    lexicon.lemmas = stored_lemmas(words, ding, analyzer, vocabulary)
    word_stems = {analyzer.stem(fold(w)) for w in words}
    lexicon.compound_parts = analysed.decompounder.kept_parts(word_stems | set(vocabulary))
    info = BuildInfo(
        build_id=uuid.uuid4().hex[:12],
        built_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        analyzer=ANALYZER_VERSION,
        params=asdict(params),
        articles=len(analysed.articles),
        passages=len(analysed.passages),
        seconds=round(time.perf_counter() - began, 3),
        skipped=tuple(skipped),
        has_dictionary=ding is not None,
        notes=tuple(f"{a.path or a.id}: {note}" for a in articles for note in a.notes),
    )
    if progress:
        progress("lexicon", 1, 1)
    return Snapshot(info, analysed.articles, analysed.passages, bm25, lexicon)
