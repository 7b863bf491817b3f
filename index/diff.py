"""What a reindex changed: articles and passages added, removed or changed.

A passage's stable id is a hash of its article id and its text, so it survives reindexes
that do not touch it, whatever its position in the index.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from index.records import IndexedArticle, IndexedPassage

SAMPLE = 3


class Texts(Protocol):
    """What a diff reads of a build: its articles (with their text) and its passages. A
    ``Snapshot`` has them, and so has ``BuildTexts``, which loads without the index."""

    @property
    def articles(self) -> Mapping[str, IndexedArticle]: ...

    @property
    def passages(self) -> Sequence[IndexedPassage]: ...


@dataclass(frozen=True, slots=True)
class BuildTexts:
    """A stored build's articles and passages, without its index."""

    articles: dict[str, IndexedArticle]
    passages: list[IndexedPassage]


def passage_key(article_id: str, text: str) -> str:
    """The stable id of a passage: its article and its exact text."""
    return hashlib.sha1(f"{article_id}\0{text}".encode()).hexdigest()[:16]


def passage_keys(build: Texts) -> dict[tuple[str, int], str]:
    """(article id, paragraph) → stable id, for every passage of ``build``."""
    articles = build.articles
    return {
        (p.article_id, p.ordinal): passage_key(
            p.article_id, articles[p.article_id].text[p.start : p.end]
        )
        for p in build.passages
    }


@dataclass(frozen=True, slots=True)
class ReindexDiff:
    articles_added: tuple[str, ...] = ()
    articles_removed: tuple[str, ...] = ()
    articles_changed: tuple[str, ...] = ()
    passages_added: int = 0
    passages_removed: int = 0
    passages_changed: int = 0
    samples: tuple[str, ...] = field(default=())

    @property
    def unchanged(self) -> bool:
        return not (self.articles_added or self.articles_removed or self.articles_changed)


def diff_snapshots(old: Texts | None, new: Texts) -> ReindexDiff:
    """Compare two builds by article hashes and passage stable ids."""
    before = {} if old is None else {a.id: a for a in old.articles.values()}
    after = {a.id: a for a in new.articles.values()}
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(a for a in set(after) & set(before) if after[a].sha256 != before[a].sha256)
    old_keys = passage_keys(old) if old is not None else {}
    new_keys = passage_keys(new)
    old_ids, new_ids = set(old_keys.values()), set(new_keys.values())
    rewritten = [
        slot
        for slot, key in new_keys.items()
        if slot in old_keys and old_keys[slot] != key and key not in old_ids
    ]
    samples = [f"+ {after[a].title}" for a in added[:SAMPLE]] + _more(added)
    samples += [f"− {before[a].title}" for a in removed[:SAMPLE]] + _more(removed, "−")
    samples += [f"~ {after[a].title}, paragraph {n}" for a, n in rewritten[:SAMPLE]]
    samples += _more(rewritten, "~")
    return ReindexDiff(
        articles_added=tuple(added),
        articles_removed=tuple(removed),
        articles_changed=tuple(changed),
        passages_added=len(new_ids - old_ids) - len(rewritten),
        passages_removed=len(old_ids - new_ids) - len(rewritten),
        passages_changed=len(rewritten),
        samples=tuple(samples),
    )


def _more(listed: Sequence[object], sign: str = "+") -> list[str]:
    """The line after a sample that does not list them all: "+ … and 3 more"."""
    rest = len(listed) - SAMPLE
    return [f"{sign} … and {rest} more"] if rest > 0 else []
