"""Write ``index/data/countries.txt``: the world's countries and continents as glossary
entries, from the Ding dictionary alone.

    python scripts/make_countries.py [DING_PATH] > index/data/countries.txt

Ding marks a country with its ISO 3166 code (``Indien {n} /IN/ [geogr.] :: India``), a
place adjective with ``{adj} [geogr.]`` (``indisch {adj} [geogr.] :: Indian``) and a
people's noun with ``{m}; …in {f} [soc.]`` (``Inder {m}; Inderin {f} [soc.] :: Indian``),
but it does not link them. An adjective belongs to a country when its stem (``ind-isch``)
begins the country's German name and what is left of it is a country ending (*Ind-ien*,
*Schwed-en*, *Griechen-land*, *Türk-ei*); a people's noun belongs to the adjective when its
English is the adjective's ("Indian") or it is the stem with a people's ending (*Span-ier*).

Names that are also ordinary words in either language are left out as variants ("Turkey",
"Chad", German *Island* for Iceland is the English "island"): the dictionary translates
them as it always has. Countries the hand-written glossary already has are skipped.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from index.ding import DING_DEFAULT_PATH
from index.lexicon import parse_glossary
from index.text import fold

GLOSSARY = Path(__file__).resolve().parent.parent / "index" / "data" / "glossary.txt"
HEADER = """\
# The world's countries and continents, their adjectives and peoples, as glossary entries
# (variants = German terms; see glossary.txt, whose entries come first). Generated from the
# Ding dictionary by scripts/make_countries.py: do not edit by hand."""
# Places Ding gives no country code: the continents, and the nations of the United Kingdom.
REGIONS = (
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
)
_ISO_CODE = re.compile(r" /[A-Z]{2}/")
_ADJ_ENDINGS = ("isch", "erisch", "esisch", "anisch", "ianisch", "atisch", "ländisch")
_COUNTRY_ENDINGS = ("", "ien", "en", "n", "a", "e", "o", "ei", "land", "lande")
_PEOPLE_ENDINGS = ("er", "ier", "e", "")
_BRACKETS = re.compile(r"\{[^}]*\}|\[[^\]]*\]|\([^)]*\)|<[^>]*>|/[^/]*/")


def clean(side: str) -> list[str]:
    """The synonyms of a sense, without tags, brackets and abbreviations."""
    return [s for s in (_BRACKETS.sub("", x).strip() for x in side.split(";")) if s]


@dataclass
class Ding:
    """What this script reads of the dictionary."""

    common: set[str] = field(default_factory=set)  # lowercase one-word synonyms
    english_names: set[str] = field(default_factory=set)  # capitalised English words
    countries: list[tuple[str, list[str]]] = field(default_factory=list)  # German, English
    adjectives: list[tuple[str, list[str]]] = field(default_factory=list)  # German, English
    people: list[tuple[str, list[str], list[str]]] = field(default_factory=list)  # + plural


def read(path: Path) -> Ding:
    ding = Ding()
    lines = [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if " :: " in line and not line.startswith("#")
    ]
    for line in lines:
        german, english = line.split(" :: ", 1)
        de_senses, en_senses = german.split(" | "), english.split(" | ")
        for side in (*de_senses, *en_senses):
            for word in clean(side):
                word = word.removeprefix("to ")
                if word.isalpha() and word.islower():
                    ding.common.add(word)
        ding.english_names.update(re.findall(r"\b[A-Z][a-z]+\b", _BRACKETS.sub(" ", english)))
        head, en_head = de_senses[0], clean(en_senses[0])
        if (
            "[geogr.]" in head
            and _ISO_CODE.search(head)
            and head[:1].isupper()
            and "Kanton" not in head  # a Swiss canton's code is no country's
        ):
            name = re.sub(r"^(die|der|das) ", "", clean(head)[0])
            # "Romania, Rumania", "Moldova, Republic of": the name before the comma
            names = [re.sub(r"^the ", "", e).split(",")[0] for e in en_head]
            ding.countries.append((name, names))
        elif "[geogr.]" in head and re.match(r"^[a-zäöü]+ \{adj\}", head):
            ding.adjectives.append((head.split(" ", 1)[0], en_head))
        elif "[soc.]" in head and "in {f}" in head and re.match(r"^[A-ZÄÖÜ]\w+ \{m\};", head):
            plural = clean(en_senses[1]) if len(en_senses) > 1 else []
            ding.people.append((head.split(" {")[0], en_head, plural))
    for name in REGIONS:
        for line in lines:
            german, english = line.split(" :: ", 1)
            first = clean(english.split(" | ")[0])[:1]
            if "[geogr.]" in german.split(" | ")[0] and first == [name]:
                ding.countries.append((german.split(" {")[0], [name]))
                break
    return ding


def owners(ding: Ding) -> dict[str, str]:
    """Each place adjective's country: the one its longest stem begins ("nigerian-isch"
    is Nigeria's, "nigeri-a", not Niger's, "niger")."""
    best: dict[str, tuple[int, str]] = {}
    for german, _ in ding.countries:
        base = fold(german)
        for adj, _ in ding.adjectives:
            for end in _ADJ_ENDINGS:
                stem = fold(adj[: -len(end)])
                if (
                    adj.endswith(end)
                    and len(stem) >= 3
                    and any(base == stem + tail for tail in _COUNTRY_ENDINGS)
                    and len(stem) > best.get(adj, (0, ""))[0]
                ):
                    best[adj] = (len(stem), german)
    return {adj: country for adj, (_, country) in best.items()}


def entry(ding: Ding, german: str, english: list[str], adjectives: list[str]) -> str | None:
    """The glossary line of one country, or None when no variant is safe to match."""
    adj_en = list(dict.fromkeys(e for adj, en in ding.adjectives if adj in adjectives for e in en))
    stems = {fold(adj.removesuffix("isch")) for adj in adjectives}  # "ind-", "brasilian-"
    folk = [
        (noun, en, plural)
        for noun, en, plural in ding.people
        if any(e in adj_en or e.split(" ")[0] in adj_en for e in en[:1])
        or any(fold(noun) == s + tail for s in stems for tail in _PEOPLE_ENDINGS)
    ]
    variants = dict.fromkeys((*english, *adj_en, german))
    terms = dict.fromkeys([german])
    for noun, en, plural in folk:
        if noun in ding.english_names:
            continue  # Ding's "George" for a Georgian is an English name too
        variants.update(dict.fromkeys((noun, *en[:1], *plural[:1])))
        terms[noun] = None
    variants.update(dict.fromkeys(adjectives))
    terms.update(dict.fromkeys(adjectives))
    terms.update(dict.fromkeys(e for e in english if " " not in e))  # "Georgia" as written
    kept = [
        v
        for v in variants
        if "," not in v
        and (v.islower() or v.lower() not in ding.common)
        and len(v) > 2
        and not (" " in v and v[:1].islower())  # "from Luxembourg", "the Swiss"
    ]
    words = [t for t in terms if "," not in t]
    return f"{', '.join(kept)} = {', '.join(words)}" if kept and words else None


def main() -> None:
    ding = read(Path(sys.argv[1]) if len(sys.argv) > 1 else DING_DEFAULT_PATH)
    curated = parse_glossary(GLOSSARY.read_text(encoding="utf-8"))
    known = {fold(v) for e in curated for v in (*e.variants, *e.terms)}
    owner = owners(ding)
    print(HEADER)
    for german, english in sorted(ding.countries):
        base = fold(german)
        if (
            base in known
            or any(fold(e) in known for e in english)
            or any(" " in k and base.startswith(k) for k in known)  # "Vereinigte Staaten …"
        ):
            continue
        adjectives = [adj for adj, _ in ding.adjectives if owner.get(adj) == german]
        if (line := entry(ding, german, english, adjectives)) is not None:
            print(line)


if __name__ == "__main__":
    main()
