"""What a build is made from: the articles directory, the dictionary, thesaurus and
glossary, and the BM25 parameters (``Sources``); building a snapshot from them; and their
fingerprint, by which a reindex tells that nothing changed.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from index.bm25 import BM25Params
from index.build import DEFAULT_PARAMS, build_snapshot
from index.cache_files import digest
from index.corpus import (
    SkippedFile,
    article_files,
    load_articles,
    require_directory,
    require_usable,
)
from index.crashpoints import crash_point
from index.dictionary_store import dictionary_identity, open_dictionary
from index.diff import ReindexDiff
from index.ding import DingEntries
from index.lexicon import GlossaryEntry, default_glossary, parse_glossary
from index.records import Snapshot
from index.thesaurus import thesaurus_identity

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class Sources:
    """Where the index's inputs come from."""

    articles_dir: Path
    dictionary_path: Path | None
    glossary_path: Path | None = None
    cache_dir: Path | None = None
    params: BM25Params = DEFAULT_PARAMS
    thesaurus_path: Path | None = None  # OpenThesaurus (``index.thesaurus``); optional


@dataclass(frozen=True, slots=True)
class ReindexReport:
    """What a reindex did."""

    build_id: str
    articles: int
    passages: int
    skipped: tuple[SkippedFile, ...]
    seconds: float
    has_dictionary: bool
    warnings: tuple[str, ...] = field(default=())
    diff: ReindexDiff | None = None
    unchanged: bool = False  # nothing changed since build ``build_id``: nothing was rebuilt
    built_at: str = ""


def load_glossary(path: Path | None) -> list[GlossaryEntry]:
    """The packaged glossary plus an admin's own file, when configured."""
    entries = default_glossary()
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"cannot read glossary {path}: {exc.strerror or exc}") from exc
        # An admin's entries come first so that they win over the packaged ones.
        entries = parse_glossary(text, str(path)) + entries
    return entries


def dictionary_warning(path: Path | None) -> str | None:
    if path is not None and path.is_file():
        return None
    return (
        f"dictionary not found at {path}: English questions will only match names, "
        "glossary terms and words spelled alike in German "
        "(install it with `apt-get install trans-de-en`)"
    )


def build_from_sources(sources: Sources, progress: Progress | None = None) -> Snapshot:
    """Parse, analyse and compile everything into a new snapshot (blocking).

    Each step reports progress when it begins (``done`` 0) and when it ends, and the long
    ones in between, so that a progress bar appears as soon as its step starts.
    """
    if progress:
        progress("parse", 0, 1)
    articles, skipped = load_articles(sources.articles_dir)
    require_usable(sources.articles_dir, articles, skipped)
    if progress:
        progress("parse", len(articles), len(articles) + len(skipped))
    crash_point("after_parse")
    if progress:
        progress("dictionary", 0, 1)
    ding: DingEntries | None = None
    if dictionary_warning(sources.dictionary_path) is None:
        assert sources.dictionary_path is not None
        ding = open_dictionary(sources.dictionary_path, sources.cache_dir, progress)
    if progress:
        progress("dictionary", 1, 1)
    return build_snapshot(
        articles,
        ding,
        load_glossary(sources.glossary_path),
        sources.params,
        skipped,
        progress,
        cache_dir=sources.cache_dir,
        thesaurus_path=sources.thesaurus_path,
    )


@functools.cache
def _code_digest() -> str:
    """The engine's source and data files: another version of them may index differently."""
    package = Path(__file__).parent
    files = sorted(package.glob("*.py")) + sorted((package / "data").glob("*.txt"))
    return digest(*(part for f in files for part in (f.name, f.read_bytes())))


def inputs_fingerprint(sources: Sources) -> str:
    """A hash of everything a build is made from: the article files (names and contents,
    also of files that would be skipped), the dictionary and thesaurus files, the glossary,
    the BM25 parameters and the engine's code. Equal fingerprints mean an equal index.

    Raises OSError (or ValueError) when an input cannot be read; the reindex then runs and
    reports the problem as usual.
    """
    directory = sources.articles_dir
    require_directory(directory)
    glossary = sources.glossary_path.read_bytes() if sources.glossary_path is not None else b"none"
    files = [
        f"{path.name}:{hashlib.sha256(path.read_bytes()).hexdigest()}"
        for path in article_files(directory)
    ]
    return digest(
        _code_digest(),
        json.dumps(asdict(sources.params), sort_keys=True),
        dictionary_identity(sources.dictionary_path),
        thesaurus_identity(sources.thesaurus_path),
        glossary,
        str(directory),
        *files,
    )
