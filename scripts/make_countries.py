"""Write ``index/data/countries.txt``: the world's countries and continents as glossary
entries, from the Ding dictionary alone.

    python scripts/make_countries.py [DING_PATH] > index/data/countries.txt

Ding marks a country with its ISO 3166 code (``Indien {n} /IN/ [geogr.] :: India``), a
place adjective with ``{adj} [geogr.]`` (``indisch {adj} [geogr.] :: Indian``) and a
people's noun with ``{m}; …in {f} [soc.]`` (``Inder {m}; Inderin {f} [soc.] :: Indian``),
but it does not link them. An adjective belongs to a country when its stem (``ind-isch``)
begins the country's German name and what is left of it is a country ending (*Ind-ien*,
*Griech-enland*, *Türk-ei*); a people's noun belongs to the adjective when its English is
the adjective's ("Indian") or it is the stem with a people's ending (*Span-ier*).

A name that is also an ordinary word is no variant ("Turkey", "Chad", *Island* for
Iceland is the English "island", *Finne* also a fin, "Réunion" a reunion), nor is an
adjective whose stem is a common noun's (*ozean-isch*): a question using the word would
seem to name a country the articles lack, and be declined. Such countries are translated by
the dictionary as before. A name of several words is searched by its most distinctive one
(*Emirate*, not *Vereinigte*), or left out when it has none. Countries the hand-written
glossary has are skipped. What is left out is listed on standard error.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import Stemmer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.ding import DING_DEFAULT_PATH  # noqa: E402
from index.lexicon import parse_glossary  # noqa: E402
from index.text import fold  # noqa: E402

GLOSSARY = ROOT / "index" / "data" / "glossary.txt"
HEADER = """\
# The world's countries and continents, their adjectives and peoples, as glossary entries
# (variants = German terms; see glossary.txt, whose entries come first). Generated from the
# Ding dictionary ({version}) by scripts/make_countries.py: do not edit by hand."""
# Places Ding gives no country code: the continents, and the nations of the United Kingdom.
REGIONS = frozenset(
    {
        "Africa",
        "Asia",
        "America",
        "North America",
        "South America",
        "Oceania",
        "Arctic",
        "England",
        "Scotland",
        "Wales",
    }
)
_ISO_CODE = re.compile(r" /[A-Z]{2}/")
_ADJ_ENDINGS = (
    "isch",
    "erisch",
    "esisch",
    "iesisch",
    "enisch",
    "anisch",
    "ianisch",
    "atisch",
    "ländisch",
)
_COUNTRY_ENDINGS = (
    "",
    "ien",
    "en",
    "n",
    "a",
    "ia",
    "e",
    "o",
    "on",
    "al",
    "ei",
    "land",
    "lande",
    "enland",
    "emark",
    "istan",
)
_PEOPLE_ENDINGS = ("er", "ier", "e", "")
_BRACKETS = re.compile(r"\{[^}]*\}|\[[^\]]*\]|\([^)]*\)|<[^>]*>|/[^/]*/")
_STEM = Stemmer.Stemmer("german").stemWord


def clean(side: str) -> list[str]:
    """The synonyms of a sense, without tags, brackets, abbreviations and double spaces."""
    return [s for s in (" ".join(_BRACKETS.sub("", x).split()) for x in side.split(";")) if s]


@dataclass
class Ding:
    """What this script reads of the dictionary."""

    version: str = ""
    common: set[str] = field(default_factory=set)  # folded one-word synonyms, lowercase
    noun_stems: dict[str, set[str]] = field(default_factory=dict)  # other nouns by stem
    english_names: set[str] = field(default_factory=set)  # capitalised English words
    genders: dict[str, set[str]] = field(default_factory=dict)  # other nouns' genders
    place_stems: set[str] = field(default_factory=set)  # those nouns', places', adjectives'
    countries: list[tuple[str, list[str]]] = field(default_factory=list)  # German, English
    adjectives: dict[str, list[str]] = field(default_factory=dict)  # German → English
    people: list[tuple[str, list[str], list[str]]] = field(default_factory=list)  # + plural


def read(path: Path) -> Ding:
    """The countries, place adjectives and peoples of the Ding file at ``path``, and the
    words that tell a name from an ordinary word, in one pass."""
    ding = Ding()
    regions: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# Version"):
            ding.version = line.split("::", 1)[1].strip()
        if " :: " not in line or line.startswith("#"):
            continue
        german, english = line.split(" :: ", 1)
        de_senses, en_senses = german.split(" | "), english.split(" | ")
        for side in (*de_senses, *en_senses):
            for word in clean(side):
                word = word.removeprefix("to ")
                if word.isalpha() and word.islower():
                    ding.common.add(fold(word))
        ding.english_names.update(re.findall(r"\b[A-Z][a-z]+\b", _BRACKETS.sub(" ", english)))
        head, en_head = de_senses[0], clean(en_senses[0])
        geographic, social = "[geogr.]" in head, "[soc.]" in head
        name = re.sub(r"^(die|der|das) ", "", head)  # "die Niederlande {f} /NL/"
        if geographic and _ISO_CODE.search(name) and name[:1].isupper() and "Kanton" not in name:
            # "Romania, Rumania", "Moldova, Republic of": the name before the comma
            names = [re.sub(r"^the ", "", e).split(",")[0] for e in en_head]
            ding.countries.append((clean(name)[0], names))
        elif geographic and en_head[:1] and en_head[0] in REGIONS:
            regions.setdefault(en_head[0], clean(head)[0])
        elif geographic and re.match(r"^[a-zäöü]+ \{adj\}", head):
            ding.adjectives[head.split(" ", 1)[0]] = en_head
        elif social and "in {f}" in head and re.match(r"^[A-ZÄÖÜ]\w+ \{m\};", head):
            plural = clean(en_senses[1]) if len(en_senses) > 1 else []
            ding.people.append((head.split(" {")[0], en_head, plural))
        if not (geographic or social):
            for noun, gender in re.findall(r"(?:^|; )([A-ZÄÖÜ]\w+) \{([mfn])\}", de_senses[0]):
                ding.noun_stems.setdefault(_STEM(fold(noun)), set()).add(noun)
                ding.genders.setdefault(noun, set()).add(gender)
    ding.countries += [(german, [name]) for name, german in sorted(regions.items())]
    places = (*ding.adjectives, *(german for german, _ in ding.countries))
    ding.place_stems = set(ding.noun_stems) | {_STEM(fold(w)) for w in places}
    return ding


def owners(ding: Ding) -> dict[str, str]:
    """Each place adjective's country: the one its longest stem begins ("nigerian-isch"
    is Nigeria's, "nigeri-a", not Niger's, "niger")."""
    best: dict[str, tuple[int, str]] = {}
    for german, _ in ding.countries:
        base = fold(german)
        for adj in ding.adjectives:
            for end in _ADJ_ENDINGS:
                stem = fold(adj[: -len(end)])
                if (
                    adj.endswith(end)
                    and len(stem) >= 2
                    and any(base == stem + tail for tail in _COUNTRY_ENDINGS)
                    and len(stem) > best.get(adj, (0, ""))[0]
                ):
                    best[adj] = (len(stem), german)
    return {adj: country for adj, (_, country) in best.items()}


def ordinary(ding: Ding, word: str) -> bool:
    """Whether a name is also an ordinary word: a lowercase word of either language (folded,
    as a question is matched: "Réunion", *Island*), or a German noun of another gender
    (*Finne* {f}, a fin, for the Finn {m})."""
    return fold(word) in ding.common or bool(ding.genders.get(word, set()) - {"m"})


def distinctive(ding: Ding, name: str) -> str | None:
    """The word a German name is searched by: itself, or of a name of several words the
    longest that is neither an ordinary word nor another noun's ("Saudi-Arabien" →
    *Arabien*; "Cook Inseln" has none)."""
    words = [w for w in re.findall(r"\w+", name) if len(w) > 3]  # not "und", "El"
    if len(words) == 1:
        return words[0] if words[0] == name or not ordinary(ding, words[0]) else None
    if len(words) > 2:
        return None  # "Heard und Mc Donald-Inseln", "Britisches Territorium im …"
    kept = [  # nor a place's ("Niederländische Antillen" → *Antillen*)
        w for w in words if not ordinary(ding, w) and _STEM(fold(w)) not in ding.place_stems
    ]
    return max(kept, key=len) if kept else None


def entry(ding: Ding, german: str, english: list[str], adjectives: list[str]) -> str | None:
    """The glossary line of one country, or None when no variant is safe to match."""
    term = distinctive(ding, german)
    if term is None:
        return None
    # no adjective whose stem is another noun's (*ozean-isch*; the language *Albanisch* is
    # the adjective's own), or whose English is lowercase (Ding's "oceanic")
    adjectives = [
        a
        for a in adjectives
        if not ding.noun_stems.get(_STEM(fold(a)), set()) - {a.capitalize()}
        and all(e[:1].isupper() for e in ding.adjectives[a])
    ]
    adj_en = list(dict.fromkeys(e for a in adjectives for e in ding.adjectives[a]))
    stems = {fold(a.removesuffix("isch")) for a in adjectives}  # "ind-", "brasilian-"
    variants = dict.fromkeys((*english, *adj_en, german))
    terms = dict.fromkeys([term])
    for noun, en, plural in ding.people:
        if (
            not (
                any(e in adj_en or e.split(" ")[0] in adj_en for e in en[:1])
                or any(fold(noun) == s + tail for s in stems for tail in _PEOPLE_ENDINGS)
            )
            or ordinary(ding, noun)
            or noun in ding.english_names
        ):  # Ding's "George", a Georgian
            continue
        # the English person only where it is the adjective ("Indian", "Indians"): "Finn",
        # "Swede", "Pole" are names and things too
        people = [e for e in (*en[:1], *plural[:1]) if e.removesuffix("s") in adj_en]
        variants.update(dict.fromkeys((noun, *people)))
        terms[noun] = None
    variants.update(dict.fromkeys(adjectives))
    terms.update(dict.fromkeys(adjectives))
    # a place the articles write in English ("Georgia"), unless an ordinary word
    terms.update(dict.fromkeys(e for e in english if " " not in e and not ordinary(ding, e)))
    kept = [
        v
        for v in variants
        if "," not in v
        and len(v) > 2
        and not (" " in v and v[:1].islower())  # "from Luxembourg", "the Swiss"
        and (v in adjectives or not any(ordinary(ding, w) for w in v.split()[-1:]))
    ]
    return f"{', '.join(kept)} = {', '.join(terms)}" if kept else None


def main() -> None:
    """Print the glossary file; what is left out goes to standard error."""
    ding = read(Path(sys.argv[1]) if len(sys.argv) > 1 else DING_DEFAULT_PATH)
    curated = parse_glossary(GLOSSARY.read_text(encoding="utf-8"))
    known = {fold(v) for e in curated for v in (*e.variants, *e.terms)}
    owner = owners(ding)
    print(HEADER.format(version=ding.version))
    made: list[tuple[str, str, str]] = []  # the term searched, the German name, the line
    for german, english in sorted(ding.countries):
        base = fold(german)
        if (
            base in known
            or any(fold(e) in known for e in english)
            or any(" " in k and base.startswith(k) for k in known)  # "Vereinigte Staaten …"
        ):
            continue
        adjectives = [a for a in ding.adjectives if owner.get(a) == german]
        line = entry(ding, german, english, adjectives)
        if line is None:
            print(f"left out: {german} ({', '.join(english)})", file=sys.stderr)
        else:
            made.append((line.split(" = ")[1].split(", ")[0], german, line))
    # One line per term searched: the place of that name, not the one that contains it
    # (*Ozeanien*, not *Amerikanisch-Ozeanien*); Ding lists the Congo twice.
    chosen: dict[str, tuple[str, str]] = {}
    for term, german, line in made:
        if term not in chosen or (german == term and chosen[term][0] != term):
            if term in chosen:
                print(f"left out: {chosen[term][0]}", file=sys.stderr)
            chosen[term] = (german, line)
    for _, line in chosen.values():
        print(line)
    unlinked = sorted(a for a in ding.adjectives if a not in owner)
    print(f"place adjectives of no country: {len(unlinked)}", file=sys.stderr)


if __name__ == "__main__":
    main()
