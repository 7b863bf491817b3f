"""Article files → articles and passages with character offsets into the original text.

Three layouts are understood (see README, "Adding articles"):

* **Front matter**: a ``---`` block with ``title:``, ``date:`` and ``source:``, then
  paragraphs separated by blank lines; ``## Heading`` lines start a section.
* **Dated feed export** (``000_…``): a first line ``date YYYY-MM-DD`` followed by the
  photo caption and credit, then blank-line separated paragraphs; a lone short line
  ending in ``?`` is a section heading.
* **Plain headline + lines** (``001_…``): the first line is the title, each following
  line a paragraph; short lines without final punctuation are section headings.

A passage is one paragraph. Headings and the caption are never passages: they are kept as
context (``section``) of the paragraphs that follow them.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ARTICLE_SUFFIXES = (".txt", ".md")
MAX_FILE_BYTES = 2_000_000
MAX_PARAGRAPH_CHARS = 20_000
FRONT_MATTER_KEYS = ("title", "date", "source")  # what front matter may say; others warn
FRONT_MATTER_ALIASES = {"titel": "title", "datum": "date", "quelle": "source"}  # in German
_HEADING_MAX_WORDS = 12
_TITLE_MAX_CHARS = 60  # a derived title; a caption subject longer than this is no title

_DATE_LINE_RE = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\b[ \t]*(.*)$")
_FRONT_MATTER_RE = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_FRONT_MATTER_OPEN_RE = re.compile(r"\A\ufeff?---[ \t]*(?:\r?\n|\Z)")
_SENTENCE_END = tuple(".!:;\"'“”«»…)")


class ArticleError(ValueError):
    """An article file that cannot be used; the message says why in one line."""


class NoArticlesError(ValueError):
    """An articles directory with nothing to index; the message names it, in one line."""


class ArticlesDirectoryMissing(FileNotFoundError):
    """The articles directory does not exist, or is no directory; the message names it,
    resolved if relative."""

    def __init__(self, directory: Path) -> None:
        where = f"{directory} ({directory.resolve()})" if not directory.is_absolute() else directory
        if directory.exists():  # a file (or a device), not a folder of files
            super().__init__(f"the articles directory is not a directory: {where}")
        else:
            super().__init__(f"articles directory not found: {where}")
        self.directory = directory


@dataclass(frozen=True, slots=True)
class Passage:
    """One paragraph of an article. ``start``/``end`` index into ``Article.text``."""

    article_id: str
    ordinal: int  # 1-based paragraph number within the article
    section: str | None
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Article:
    """A parsed article: its whole original text and its passages."""

    id: str
    title: str
    date: dt.date | None
    source: str | None
    path: str
    text: str
    caption: str | None = None
    passages: tuple[Passage, ...] = field(default=())
    notes: tuple[str, ...] = ()  # read with a warning: "unknown front matter key 'titel' …"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A file left out of the index, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"skipped {self.path}: {self.reason}"


@dataclass(frozen=True, slots=True)
class _Block:
    start: int
    end: int
    heading: bool


def decode_article(data: bytes, name: str = "article") -> str:
    """Decode an article file, refusing what is not a usable UTF-8 text file."""
    if len(data) > MAX_FILE_BYTES:
        raise ArticleError(f"file is {len(data):,} bytes; the limit is {MAX_FILE_BYTES:,}")
    if b"\x00" in data:
        raise ArticleError("file contains NUL bytes; it looks binary, not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArticleError(f"not valid UTF-8 (byte {exc.start}); save the file as UTF-8") from exc
    # The byte-order mark is not text: dropped here, before offsets are taken, so the
    # offsets index the text as stored (the text quotes are cut from).
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise ArticleError("file is empty")
    return text


def parse_article(article_id: str, text: str, path: str = "") -> Article:
    """Parse one article's text. Raises ArticleError with a one-line reason."""
    title: str | None = None
    date: dt.date | None = None
    source: str | None = None
    caption: str | None = None
    body_start = 0

    notes: list[str] = []
    if fm := _FRONT_MATTER_RE.match(text):
        meta = _parse_front_matter(fm.group(1))
        for german, key in FRONT_MATTER_ALIASES.items():
            if german in meta:
                meta.setdefault(key, meta.pop(german))
        notes = [_unknown_key(key) for key in meta if key not in FRONT_MATTER_KEYS]
        title = meta.get("title") or None
        source = meta.get("source") or None
        if raw_date := meta.get("date"):
            date = _parse_date(raw_date)
        body_start = fm.end()
    elif _FRONT_MATTER_OPEN_RE.match(text):
        raise ArticleError(
            "front matter opened by '---' on line 1 never closes; "
            "add a line '---' after its last 'key: value' line"
        )
    else:
        first_end = _line_end(text, 0)
        first_line = text[:first_end]
        if m := _DATE_LINE_RE.match(first_line):
            date = _parse_date(m.group(1))
            caption = m.group(2).strip() or None
            body_start = first_end
        elif "\n" in text.strip() and _looks_like_heading(first_line):
            title = first_line.strip()
            body_start = first_end

    blocks = list(_blocks(text, body_start))
    passages: list[Passage] = []
    section: str | None = None
    for block in blocks:
        chunk = text[block.start : block.end]
        if block.heading:
            section = chunk.lstrip("#").strip()
            continue
        if len(chunk) > MAX_PARAGRAPH_CHARS:
            raise ArticleError(
                f"paragraph {len(passages) + 1} has {len(chunk):,} characters; "
                f"the limit is {MAX_PARAGRAPH_CHARS:,} (split it with blank lines)"
            )
        passages.append(
            Passage(article_id, len(passages) + 1, section, block.start, block.end, chunk)
        )
    if not passages:
        raise ArticleError("no paragraphs found (only a title, headings or blank lines)")
    if title is None:
        body = " ".join(p.text for p in passages)
        title = derive_title(article_id, body, date, caption)
    return Article(
        article_id, title, date, source, path, text, caption, tuple(passages), tuple(notes)
    )


def load_article(path: Path) -> Article:
    """Read and parse one file; the article id is the file stem."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ArticleError(f"cannot read: {exc.strerror or exc}") from exc
    return parse_article(path.stem, decode_article(data, path.name), str(path))


def article_files(directory: Path) -> list[Path]:
    """The article files of ``directory`` in a stable order."""
    return sorted(p for p in directory.iterdir() if _is_article_file(p))


def _is_article_file(path: Path) -> bool:
    return path.suffix.lower() in ARTICLE_SUFFIXES and path.is_file()


def require_directory(directory: Path) -> None:
    """Refuse an articles directory that does not exist (``ArticlesDirectoryMissing``)."""
    if not directory.is_dir():
        raise ArticlesDirectoryMissing(directory)


def require_article_files(directory: Path) -> None:
    """Refuse at once an articles directory that is missing or holds no article files.

    It stops at the first article file: a reindex calls it on the event loop, and listing
    and checking 10,000 files there kept the loop from running for about 60 ms."""
    require_directory(directory)
    if not any(_is_article_file(p) for p in directory.iterdir()):
        suffixes = " or ".join(ARTICLE_SUFFIXES)
        raise NoArticlesError(
            f"no articles in {directory}: put {suffixes} files there; the index is unchanged"
        )


def require_usable(directory: Path, articles: list[Article], skipped: list[SkippedFile]) -> None:
    """Refuse an index of nothing: every article file of ``directory`` was skipped."""
    if not articles:
        first = f"; {skipped[0]}" if skipped else ""
        more = f" (and {len(skipped) - 1} more)" if len(skipped) > 1 else ""
        raise NoArticlesError(
            f"no usable articles in {directory}: all {len(skipped)} files were skipped{first}{more}"
        )


def load_articles(directory: Path) -> tuple[list[Article], list[SkippedFile]]:
    """Parse every article file; unusable files are reported, the rest still load."""
    require_directory(directory)
    articles: list[Article] = []
    skipped: list[SkippedFile] = []
    seen: set[str] = set()
    for path in article_files(directory):
        if path.stem in seen:
            skipped.append(SkippedFile(str(path), f"duplicate article id {path.stem!r}"))
            continue
        try:
            article = load_article(path)
        except ArticleError as exc:
            skipped.append(SkippedFile(str(path), str(exc)))
            continue
        seen.add(article.id)
        articles.append(article)
    return articles, skipped


def _unknown_key(key: str) -> str:
    """The warning for a front-matter key the parser does not read (it is ignored)."""
    near = difflib.get_close_matches(key, FRONT_MATTER_KEYS, n=1)
    hint = f"did you mean '{near[0]}'?" if near else "known: " + ", ".join(FRONT_MATTER_KEYS)
    return f"unknown front matter key {key!r}, ignored ({hint})"


def _parse_front_matter(block: str) -> dict[str, str]:
    meta: dict[str, str] = {}
    for number, line in enumerate(block.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise ArticleError(f"front matter line {number} is not 'key: value': {line!r}")
        meta[key.strip().lower()] = value.strip().strip("\"'")
    return meta


def _parse_date(raw: str) -> dt.date:
    text = raw.strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):  # the form is right, the day is not
            raise ArticleError(f"bad date {text!r}: no such date") from None
        raise ArticleError(f"bad date {text!r}; use YYYY-MM-DD") from None


def _line_end(text: str, start: int) -> int:
    end = text.find("\n", start)
    return len(text) if end < 0 else end


def _looks_like_heading(line: str) -> bool:
    stripped = line.strip()
    if not stripped:
        return False
    if stripped.startswith("#"):
        return True
    if len(stripped.split()) > _HEADING_MAX_WORDS:
        return False
    return stripped.endswith("?") or not stripped.endswith(_SENTENCE_END)


def _lines(text: str, start: int) -> Iterator[tuple[int, int]]:
    pos = start
    while pos < len(text):
        end = _line_end(text, pos)
        yield pos, end
        pos = end + 1


def _blocks(text: str, start: int) -> Iterator[_Block]:
    """Paragraph and heading blocks of the body, as trimmed spans.

    With blank lines in the body, blank lines separate paragraphs (a paragraph may wrap
    over several lines); without, every line is its own block.
    """
    lines = list(_lines(text, start))
    filled = [i for i, (a, b) in enumerate(lines) if text[a:b].strip()]
    blank_separated = bool(filled) and any(
        not text[a:b].strip() for a, b in lines[filled[0] : filled[-1]]
    )
    group: list[tuple[int, int]] = []

    def flush() -> Iterator[_Block]:
        if not group:
            return
        a, b = _trim(text, group[0][0], group[-1][1])
        if a < b:
            single_line = len(group) == 1
            yield _Block(a, b, single_line and _looks_like_heading(text[a:b]))
        group.clear()

    for a, b in lines:
        if not text[a:b].strip():
            yield from flush()
        elif text[a:b].lstrip().startswith("#") or not blank_separated:
            yield from flush()
            group.append((a, b))
            yield from flush()
        else:
            group.append((a, b))
    yield from flush()


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


_MONTHS_DE = (
    "Januar", "Februar", "März", "April", "Mai", "Juni",
    "Juli", "August", "September", "Oktober", "November", "Dezember",
)  # fmt: skip
# News agencies as the German press names them; case matters ("AP", not "ap").
_AGENCY = r"AFP|dpa|Reuters|AP|epd|KNA|APA|SDA|Keystone-SDA|ANSA|Bloomberg|Interfax|Tass|TASS"
_AGENCY_NAMED_RE = re.compile(rf"\b(?:Nachrichtenagentur|Agentur)\s+({_AGENCY})\b")
_AGENCY_RE = re.compile(rf"(?<![\w-])({_AGENCY})(?![\w-])")
# A photo credit closing a caption, "(Yoan Valat / Pool EPA / AP / dpa)"; a position marker
# inside it, "Selenskyj (r)", "(l.)", "(M)", "(v.l.)".
_CREDIT_RE = re.compile(r"\s*\([^()]*\)\s*$")
_POSITION_RE = re.compile(r"\s*\((?:[lrmLRM]|li|re|Mitte|v\.\s?l\.?|v\.\s?r\.?)\.?\)")
# Where a caption's subject ends: the occasion or place ("… beim Treffen", "… in Paris").
_SUBJECT_END_RE = re.compile(
    r"\s(?:beim|bei|im|in|am|an|auf|während|nach|vor|mit|neben|vom|zum|zur)\s|[,.:;]"
)


def german_date(day: dt.date) -> str:
    """``6. Januar 2026``."""
    return f"{day.day}. {_MONTHS_DE[day.month - 1]} {day.year}"


def derive_title(
    article_id: str, body: str, date: dt.date | None, caption: str | None = None
) -> str:
    """A short, honest title for an article that has none.

    The lead sentence is no title: cited under a quote from it, it repeats the quote, and it
    lengthens every list of searched articles. In order: the agency the text reports and
    the date ("AFP-Meldung vom 6. Januar 2026"); the photo caption's subject, when short;
    the date alone; the article id.
    """
    named = _AGENCY_NAMED_RE.search(body) or _AGENCY_RE.search(body)
    if named and date:
        return f"{named.group(1)}-Meldung vom {german_date(date)}"
    if subject := caption_subject(caption):
        return subject
    if named:
        return f"{named.group(1)}-Meldung"
    if date:
        return f"Artikel vom {german_date(date)}"
    return f"Artikel {article_id}"


def caption_subject(caption: str | None) -> str | None:
    """Who or what a photo caption shows, when that is short: "Bundeskanzler Merz" from
    "Bundeskanzler Merz (M) bei einer Pressekonferenz in Berlin. (dpa)"; else None."""
    if not caption:
        return None
    text = _POSITION_RE.sub("", _CREDIT_RE.sub("", caption)).strip()
    end = _SUBJECT_END_RE.search(text)
    subject = " ".join((text[: end.start()] if end else text).split())
    if not subject or len(subject) > _TITLE_MAX_CHARS:
        return None
    return subject
