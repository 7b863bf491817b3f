"""Low-level text handling: tokens with character offsets, folding, sentence spans.

Everything here works on offsets into the original text, so that anything shown to a
user can be cut from the article verbatim.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# A word is a run of letters/digits; an apostrophe inside a word ("don't") is kept.
WORD_RE = re.compile(r"\w+(?:['’]\w+)*", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a text: its surface form and where it sits in that text."""

    surface: str
    start: int
    end: int


def tokenize(text: str, base: int = 0) -> list[Token]:
    """Split ``text`` into word tokens; offsets are shifted by ``base``."""
    return [Token(m.group(), m.start() + base, m.end() + base) for m in WORD_RE.finditer(text)]


def fold(word: str) -> str:
    """Case-fold and strip diacritics: ``Präsident`` → ``prasident``, ``Élysée`` → ``elysee``.

    ``ß`` becomes ``ss`` through ``casefold``. Umlauts lose their dots, which is what the
    Snowball German stemmer does at its end anyway; folding first also lets questions
    typed without umlauts (``Prasident``) meet the articles.
    """
    if word.isascii():  # most words: nothing to decompose (ASCII casefold is lower)
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_INVISIBLE = dict.fromkeys(
    [
        0x200B,
        0x200C,
        0x200D,
        0x200E,
        0x200F,
        0x2060,
        0xFEFF,
        0x202A,
        0x202B,
        0x202C,
        0x202D,
        0x202E,
        0x2066,
        0x2067,
        0x2068,
        0x2069,
        0x00AD,
        0x0000,
    ],
)


def clean_question(text: str) -> str:
    """Normalise user input: NFC, no zero-width/bidi/NUL characters, single spaces."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    text = "".join(" " if unicodedata.category(c) in {"Cc", "Zl", "Zp"} else c for c in text)
    return " ".join(text.split())


# Sentence boundaries. A boundary follows ., ! or ? (plus any closing quotes or brackets),
# and is followed by whitespace, an opening quote, or directly by an upper-case letter
# (the source has "einzubringen.Macron"). Numbers ("26.") and common abbreviations are no
# boundary.
_CLOSERS = "\"'“”‘’«»‹›)]"
_BOUNDARY_RE = re.compile(r"[.!?…]+[" + re.escape(_CLOSERS) + r"]*")
_ABBREVIATIONS = frozenset(
    [
        "bzw",
        "ca",
        "dr",
        "etc",
        "evtl",
        "ggf",
        "inkl",
        "mio",
        "mrd",
        "nr",
        "prof",
        "sog",
        "st",
        "str",
        "usw",
        "vgl",
        "z.b",
        "zb",
        "u.a",
        "ua",
        "d.h",
        "dh",
        "jan",
        "feb",
        "mär",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "okt",
        "nov",
        "dez",
        "mr",
        "mrs",
        "ms",
        "vs",
        "al",  # "Jones et al. 1998"
        "jh",  # "im 12. Jh. wurde"
        "jhd",
        "hrsg",
    ]
)


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Return ``(start, end)`` spans of the sentences in ``text[start:end]``.

    Spans are trimmed of surrounding whitespace and never empty; together they cover every
    non-space character of the range.
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cursor = start
    for m in _BOUNDARY_RE.finditer(text, start, end):
        stop = m.end()
        nxt = text[stop] if stop < end else ""
        if nxt and not (nxt.isspace() or nxt in "„“\"'‚«»" or nxt.isupper()):
            continue
        if nxt.isupper() and not nxt.isspace() and m.group().startswith("."):
            # "einzubringen.Macron" is a boundary, "U.S.A" is not: require a lower-case
            # letter before the period.
            before = text[m.start() - 1] if m.start() > start else ""
            if not before.islower():
                continue
        if m.group() == "." and _is_abbreviation_or_number(text, cursor, m.start(), end):
            continue
        if _next_visible(text, stop, end).islower():
            continue  # "U.S.A. sind", "usw. und": sentences do not start in lower case
        _append_trimmed(text, cursor, stop, spans)
        cursor = stop
    _append_trimmed(text, cursor, end, spans)
    return spans


def _next_visible(text: str, pos: int, end: int) -> str:
    while pos < end and text[pos].isspace():
        pos += 1
    return text[pos] if pos < end else ""


# Quote marks, brackets and clause marks around a word ("„Er“", "[Dabei]", "»dieses«").
ENCLOSING = "\"'„“”‚‘’»«()[],;:"

# What makes "6." an ordinal rather than a number ending a sentence: the word after it
# ("6. Januar", "6. Jan.", "19. Jahrhunderts"), a number after it ("1. 2. 2025"), or the
# determiner before it ("am 6.", "„Der 3. Platz“", "unser 2. Kind").
_ORDINAL_NOUNS = frozenset(
    """januar jänner februar märz april mai juni juli august september oktober november
    dezember jan feb mär apr jun jul aug sep sept okt nov dez jahrhundert jahrtausend jh
    jhd jhs""".split()  # noqa: SIM905
)
_ORDINAL_DETERMINERS = frozenset(
    """am im zum zur vom beim der die das den dem des ein eine einem einen einer eines kein
    keine keinem keinen keiner keines mein meine meinem meinen meiner meines dein deine
    deinem deinen deiner deines sein seine seinem seinen seiner seines ihr ihre ihrem ihren
    ihrer ihres unser unsere unserem unseren unserer unseres euer eure eurem euren eurer
    eures dieser diese diesem diesen dieses jener jene jenem jenen jenes jeder jede jedem
    jeden jedes welcher welche welchem welchen welches""".split()  # noqa: SIM905
)
_ROMAN = re.compile(r"[IVXLCDM]{2,}")
_WORD_AFTER = re.compile(r"\s*(\S+)")


def _is_abbreviation_or_number(text: str, floor: int, dot: int, end: int) -> bool:
    """Whether the period at ``dot`` ends an abbreviation or an ordinal rather than a
    sentence; ``floor`` is where the current sentence starts."""
    i = dot
    while i > floor and not text[i - 1].isspace():
        i -= 1
    written = text[i:dot].lstrip(ENCLOSING)
    word = written.lower()
    if not word:
        return False
    if word.isdigit():
        return _is_ordinal(text, floor, i, dot, end)
    if _ROMAN.fullmatch(written):  # "XIX. Jahrhundert"; "eine CD. Dann" ends a sentence
        return _is_ordinal_noun(_word_after(text, dot, end))
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()) or "." in word


def _is_ordinal(text: str, floor: int, start: int, dot: int, end: int) -> bool:
    """Whether the number ``text[start:dot]`` followed by a period is an ordinal ("am 6.
    Januar", "der 3. Platz") or a list number opening a sentence or a line, rather
    than a number ending a sentence ("Super Bowl 50. Der Sieger", "im Jahr 1955. Die")."""
    following = _word_after(text, dot, end)
    if following[:1].isdigit() or _is_ordinal_noun(following):  # "1. 2. 2025", "6. Jan."
        return True
    j = start
    while j > floor and text[j - 1] in " \t":
        j -= 1
    if j == floor or text[j - 1] == "\n":
        return True  # nothing before it in its sentence or line: a list number
    k = j
    while k > floor and not text[k - 1].isspace():
        k -= 1
    return text[k:j].strip(ENCLOSING).lower() in _ORDINAL_DETERMINERS


def _word_after(text: str, dot: int, end: int) -> str:
    """The word after the period at ``dot``, folded, without marks around it."""
    after = _WORD_AFTER.match(text, dot + 1, end)
    return after.group(1).strip(ENCLOSING + ".").lower() if after else ""


def _is_ordinal_noun(following: str) -> bool:
    """Whether a word is a month or a century ("Januars", "Jahrhunderts" too)."""
    return following in _ORDINAL_NOUNS or (
        following.endswith("s") and following.removesuffix("s") in _ORDINAL_NOUNS
    )


def _append_trimmed(text: str, a: int, b: int, out: list[tuple[int, int]]) -> None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if a < b:
        out.append((a, b))
