"""The quote choice on its own: which sentences of a passage make the quote."""

from __future__ import annotations

import dataclasses

import pytest

from index.config import DEFAULT_CONFIG
from index.quotes import QuoteRules, best_quote, opens_with_reference, passage_words

# Three sentences; the question's words ("Rekord", "Quarterback") are in the second, which
# names its subject only by "Er".
TEXT = (
    "Peyton Manning spielte 2016 für die Broncos. "
    "Er hält den Rekord als ältester Quarterback im Finale. "
    "Das Spiel fand in Kalifornien statt."
)


def quote_of(
    text: str,
    words: list[str],
    antecedent: bool,
    continuation: int = 0,
    neighbour_share: float = 0.0,
    similarity: list[float] | None = None,
    neighbour_gap: float = -1.0,
    max_sentences: int = 2,
    quote_chars: int = 0,
) -> str:
    layout = passage_words(text, 0, len(text), lambda w: [w.lower()])
    concepts = [{w: 1.0} for w in words]
    rules = QuoteRules(
        short_sentence=0,
        similarity_weight=1.0 if similarity else 0.0,
        neighbour_gap=neighbour_gap,
        antecedent=antecedent,
        continuation=continuation,
        neighbour_share=neighbour_share,
        max_sentences=max_sentences,
        quote_chars=quote_chars,
    )
    span = best_quote(text, layout, concepts, [1.0] * len(words), similarity, rules)
    return text[span.start : span.end]


def test_a_best_sentence_that_refers_back_takes_the_sentence_before() -> None:
    alone = quote_of(TEXT, ["rekord", "quarterback"], antecedent=False)
    assert alone == "Er hält den Rekord als ältester Quarterback im Finale."
    quote = quote_of(TEXT, ["rekord", "quarterback"], antecedent=True)
    assert quote == TEXT[: TEXT.index(" Das Spiel")]  # who "Er" is, verbatim


def test_a_sentence_that_refers_to_nothing_stands_alone() -> None:
    quote = quote_of(TEXT, ["spiel", "kalifornien"], antecedent=True)
    assert quote == "Das Spiel fand in Kalifornien statt."


def test_the_first_sentence_has_nothing_before_it() -> None:
    text = "Er kam spät. Danach ging er."
    assert quote_of(text, ["kam", "spät"], antecedent=True) == "Er kam spät."


# The question's words ("Fusion", "Netzwerk") are in the first sentence; the second goes on
# about that merger ("dieses Zusammenschlusses") and holds what was asked for.
MERGER = (
    "Er schlug eine Fusion mit dem Netzwerk vor. "
    "Im Zuge dieses Zusammenschlusses wäre es in ABC-DuMont umbenannt worden. "
    "Die Verhandlungen scheiterten im Jahr 1955."
)


def test_a_next_sentence_that_refers_back_joins_the_quote() -> None:
    words = ["fusion", "netzwerk"]
    assert quote_of(MERGER, words, antecedent=True) == "Er schlug eine Fusion mit dem Netzwerk vor."
    assert quote_of(MERGER, words, antecedent=True, continuation=2) == (
        "Er schlug eine Fusion mit dem Netzwerk vor."
    )  # "dieses" is the third word
    quote = quote_of(MERGER, words, antecedent=True, continuation=3)
    assert quote == MERGER[: MERGER.index(" Die Verhandlungen")]


def test_a_next_sentence_about_something_else_stays_out() -> None:
    quote = quote_of(MERGER, ["umbenannt", "dumont"], antecedent=False, continuation=3)
    assert quote == "Im Zuge dieses Zusammenschlusses wäre es in ABC-DuMont umbenannt worden."


def test_a_neighbour_matching_as_much_joins_the_quote() -> None:
    """Without cosines, two sentences matching the question equally cannot be told apart:
    both are quoted. One matching less than the share stays out."""
    text = "Die Broncos gewannen das Finale. Die Broncos spielten in Kalifornien. Es regnete."
    first = "Die Broncos gewannen das Finale."
    assert quote_of(text, ["broncos"], antecedent=False) == first
    both = "Die Broncos gewannen das Finale. Die Broncos spielten in Kalifornien."
    assert quote_of(text, ["broncos"], antecedent=False, neighbour_share=0.8) == both
    words = ["broncos", "gewannen", "finale"]
    assert quote_of(text, words, antecedent=False, neighbour_share=0.8) == first


def test_with_cosines_the_share_rule_gives_way_to_them() -> None:
    text = "Die Broncos gewannen das Finale. Die Broncos spielten in Kalifornien. Es regnete."
    quote = quote_of(
        text, ["broncos"], antecedent=False, neighbour_share=0.8, similarity=[0.9, 0.2, 0.1]
    )
    assert quote == "Die Broncos gewannen das Finale."


def test_the_sentence_before_wins_over_the_continuation() -> None:
    """A best sentence that opens with "Er" takes the one before; the next one, though it
    opens with "Dabei", does not join as well (a quote is at most two sentences)."""
    text = "Manning spielte für Denver. Er hält den Rekord. Dabei war er schon alt. Es regnete."
    quote = quote_of(text, ["rekord"], antecedent=True, continuation=3)
    assert quote == "Manning spielte für Denver. Er hält den Rekord."
    assert quote_of(text, ["rekord"], antecedent=False, continuation=3) == (
        "Er hält den Rekord. Dabei war er schon alt."
    )


# The answer is told over three sentences; the question's word is in the middle one.
LANDING = (
    "Die Fähre setzte am Morgen auf. "
    "Armstrong stieg als Erster aus. "
    "Aldrin folgte ihm zwanzig Minuten später. "
    "Das Wetter in Houston war schön."
)


@pytest.mark.parametrize(
    ("cosines", "sentences", "chars", "quoted"),
    [
        ([0.80, 0.81, 0.80, 0.2], 3, 700, slice(0, 3)),  # both sides near: the earlier joins
        ([0.80, 0.81, 0.805, 0.795], 3, 700, slice(0, 3)),  # the nearer side joins
        ([0.80, 0.81, 0.80, 0.80], 3, 700, slice(1, 4)),  # a tie: the next sentence joins
        ([0.70, 0.81, 0.80, 0.795], 3, 700, slice(1, 4)),  # the next two are near
        ([0.70, 0.81, 0.80, 0.795], 4, 700, slice(1, 4)),  # the first is too far
        ([0.80, 0.81, 0.80, 0.80], 4, 700, slice(0, 4)),  # every sentence near: all four
        ([0.50, 0.81, 0.80, 0.50], 3, 700, slice(1, 3)),  # nothing else near
        ([float("nan"), 0.81, 0.80, 0.2], 3, 700, slice(1, 3)),  # no vector: no nearness
        ([0.80, 0.81, 0.80, 0.2], 2, 700, slice(1, 3)),  # two sentences at most
        ([0.80, 0.81, 0.80, 0.2], 3, 80, slice(1, 3)),  # three would be over 80 characters
    ],
)
def test_a_quote_grows_by_sentences_as_near_the_question(
    cosines: list[float], sentences: int, chars: int, quoted: slice
) -> None:
    spans = ["Die Fähre", "Armstrong stieg", "Aldrin folgte", "Das Wetter"]
    starts = [LANDING.index(s) for s in spans] + [len(LANDING) + 1]
    want = LANDING[starts[quoted.start] : starts[quoted.stop] - 1]
    quote = quote_of(
        LANDING,
        ["armstrong"],
        antecedent=False,
        similarity=cosines,
        neighbour_gap=0.02,
        max_sentences=sentences,
        quote_chars=chars,
    )
    assert quote == want


def test_a_grown_quote_matches_what_its_third_sentence_adds() -> None:
    """ "Aldrin" makes the pair; the first sentence joins it by its cosine, with "Fähre"."""
    layout = passage_words(LANDING, 0, len(LANDING), lambda w: [w.lower()])
    rules = QuoteRules(
        short_sentence=0,
        similarity_weight=1.0,
        neighbour_gap=0.02,
        max_sentences=3,
        quote_chars=700,
    )
    concepts = [{"armstrong": 1.0}, {"aldrin": 1.0}, {"fähre": 1.0}]
    weights, cosines = [1.0, 0.5, 0.1], [0.80, 0.81, 0.80, 0.2]
    span = best_quote(LANDING, layout, concepts, weights, cosines, rules)
    assert LANDING[span.start : span.end].startswith("Die Fähre")
    assert span.matched == {0, 1, 2}
    rules = dataclasses.replace(rules, neighbour_gap=-1.0)  # no gap, no growth
    span = best_quote(LANDING, layout, concepts, weights, cosines, rules)
    assert LANDING[span.start : span.end].startswith("Armstrong")
    assert span.matched == {0, 1}


def test_without_cosines_a_third_sentence_needs_the_share() -> None:
    text = "Apollo flog. Apollo landete auf dem Mond. Apollo kehrte heim. Es regnete."
    two = "Apollo landete auf dem Mond. Apollo kehrte heim."
    words = ["apollo", "mond"]
    assert quote_of(text, words, antecedent=False, neighbour_share=0.4) == two
    three = "Apollo flog. Apollo landete auf dem Mond. Apollo kehrte heim."
    grown = quote_of(
        text, words, antecedent=False, neighbour_share=0.4, max_sentences=3, quote_chars=700
    )
    assert grown == three
    alone = quote_of(  # the share is of the best sentence's value: 1 of 2 is below 0.6
        text, words, antecedent=False, neighbour_share=0.6, max_sentences=3, quote_chars=700
    )
    assert alone == "Apollo landete auf dem Mond."


def test_without_cosines_or_a_share_a_pair_does_not_grow() -> None:
    """A short best sentence takes a neighbour; without the share rule nothing more joins."""
    text = "Apollo flog. Apollo landete. Apollo kehrte heim. Es regnete."
    layout = passage_words(text, 0, len(text), lambda w: [w.lower()])
    rules = QuoteRules(short_sentence=20, max_sentences=3, quote_chars=700)
    span = best_quote(text, layout, [{"landete": 1.0}, {"apollo": 0.5}], [1.0, 0.5], None, rules)
    assert text[span.start : span.end] == "Apollo landete. Apollo kehrte heim."


def test_a_sentence_still_lacking_its_vector_keeps_its_words() -> None:
    """While vectors are being encoded, a sentence without one loses a tenth of the
    question's weight, however much the cosine weighs: it still beats a sentence that
    holds none of the question's words."""
    text = "Das Wetter war schön. Er hält den Rekord als Quarterback. Es regnete."
    layout = passage_words(text, 0, len(text), lambda w: [w.lower()])
    rules = QuoteRules(short_sentence=0, similarity_weight=10.0)
    concepts = [{"rekord": 1.0}, {"quarterback": 1.0}]
    span = best_quote(text, layout, concepts, [1.0, 1.0], [0.9, float("nan"), 0.2], rules)
    assert text[span.start : span.end] == "Er hält den Rekord als Quarterback."


def test_cosines_of_another_split_are_ignored() -> None:
    quote = quote_of(TEXT, ["rekord"], antecedent=False, similarity=[0.1, 0.9], neighbour_gap=0.5)
    assert quote == "Er hält den Rekord als ältester Quarterback im Finale."


def test_the_config_names_every_quote_rule() -> None:
    named = {"similarity_weight": "quote_similarity", "max_sentences": "quote_sentences"}
    changed = dataclasses.replace(
        DEFAULT_CONFIG,
        short_sentence=71,
        quote_similarity=0.3,
        neighbour_gap=0.04,
        antecedent=False,
        continuation=4,
        neighbour_share=0.6,
        quote_sentences=4,
        quote_chars=333,
    )
    for config in (DEFAULT_CONFIG, changed):
        rules = config.quote_rules
        for field in dataclasses.fields(QuoteRules):
            assert getattr(rules, field.name) == getattr(config, named.get(field.name, field.name))


@pytest.mark.parametrize(
    ("sentence", "within", "refers"),
    [
        ("»Er« sagte nichts.", 1, True),
        ("[Er] kam.", 1, True),
        ("Man nannte »dieses« Ziel.", 3, True),
        ("Man nannte »dieses« Ziel.", 2, False),
        ("Im Zuge dieses Zusammenschlusses.", 3, True),
        ("Im Zuge dieses Zusammenschlusses.", 2, False),
        ("Als solche leistete sie viel.", 2, True),
        ("Das Hauptaugenmerk lag dabei auf Afrika.", 3, False),
        ("Die Stadt liegt am Rhein.", 5, False),
    ],
)
def test_a_referring_word_among_the_first_words(sentence: str, within: int, refers: bool) -> None:
    assert opens_with_reference(sentence, within) is refers


@pytest.mark.parametrize(
    ("sentence", "refers"),
    [
        ("Er sagte, er komme.", True),
        ("„Dies ist falsch“, sagte sie.", True),
        ("Dabei, so hieß es, blieb es.", True),
        ("Seine Regierung trat zurück.", True),
        ("Es gibt keinen Plan.", False),  # expletive "es"
        ("Die Stadt liegt am Rhein.", False),  # an article, not a pronoun
        ("Derzeit ist alles ruhig.", False),
        ("", False),
    ],
)
def test_referring_openers(sentence: str, refers: bool) -> None:
    assert opens_with_reference(sentence) is refers
