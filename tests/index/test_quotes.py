"""The quote choice on its own: which sentences of a passage make the quote."""

from __future__ import annotations

import pytest

from index.quotes import best_quote, opens_with_reference, passage_words

# Three sentences; the question's words ("Rekord", "Quarterback") are in the second, which
# names its subject only by "Er".
TEXT = (
    "Peyton Manning spielte 2016 für die Broncos. "
    "Er hält den Rekord als ältester Quarterback im Finale. "
    "Das Spiel fand in Kalifornien statt."
)


def quote_of(text: str, words: list[str], antecedent: bool) -> str:
    layout = passage_words(text, 0, len(text), lambda w: [w.lower()])
    concepts = [{w: 1.0} for w in words]
    span = best_quote(
        text, layout, concepts, [1.0] * len(words), short_sentence=0, antecedent=antecedent
    )
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
