from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from index.corpus import (
    ArticleError,
    NoArticlesError,
    load_articles,
    parse_article,
    require_article_files,
)
from index.pipeline import reindex
from index.sources import Sources
from index.store import IndexStore
from tests.conftest import REPO, SEEDS


def test_the_tests_articles_are_the_seeds_byte_for_byte() -> None:
    shared = REPO.parent / "shared" / "seeds"
    if not shared.is_dir():
        pytest.skip("../shared/seeds is not beside this checkout")
    assert sorted(p.name for p in SEEDS.iterdir()) == sorted(p.name for p in shared.iterdir())
    for path in shared.iterdir():
        assert (SEEDS / path.name).read_bytes() == path.read_bytes()


def test_dated_feed_format() -> None:
    articles, skipped = load_articles(SEEDS)
    assert not skipped
    feed = next(a for a in articles if a.id.startswith("000_"))
    assert feed.date == dt.date(2026, 1, 6)
    assert feed.caption is not None and feed.caption.startswith("Der ukrainische Präsident")
    # No title line: the agency the text reports and the date, not the lead sentence (which
    # would repeat quote [1] in its own citation) nor the photo credit.
    assert feed.title == "AFP-Meldung vom 6. Januar 2026"
    assert len(feed.passages) == 7
    sections = [p.section for p in feed.passages]
    assert sections[:3] == [None, None, None]
    assert sections[3] == "Worauf hat sich die Verbündeten bereits verständigt?"
    assert sections[-1] == "Wie verhält sich Russland?"
    # headings and the caption are never passages
    assert not any(p.text.endswith("?") for p in feed.passages)
    assert not any("Yoan Valat" in p.text for p in feed.passages)


def test_headline_and_lines_format() -> None:
    articles, _ = load_articles(SEEDS)
    lines = next(a for a in articles if a.id.startswith("001_"))
    assert lines.title == "26 Staaten wollen Truppen entsenden"
    assert lines.date is None
    assert len(lines.passages) == 9
    assert [p.section for p in lines.passages][2:4] == ["Mandat und Einsatzrahmen"] * 2
    assert lines.passages[-1].section == "Blick nach Washington"
    assert lines.passages[-1].text.endswith("internationaler Beteiligung basiere.")


def test_offsets_point_into_the_original_text() -> None:
    articles, _ = load_articles(SEEDS)
    for article in articles:
        raw = (SEEDS / f"{article.id}.txt").read_bytes().decode("utf-8")
        assert article.text == raw
        for p in article.passages:
            assert raw[p.start : p.end] == p.text


def test_front_matter_format() -> None:
    text = (
        "---\ntitle: Gipfel in Rom\ndate: 2026-02-01\nsource: Beispielzeitung\n---\n"
        "Erster Absatz über den Gipfel.\nEr geht weiter.\n\n## Ergebnisse\n\n"
        "Zweiter Absatz mit Ergebnissen.\n"
    )
    article = parse_article("rom", text)
    assert (article.title, article.date, article.source) == (
        "Gipfel in Rom",
        dt.date(2026, 2, 1),
        "Beispielzeitung",
    )
    assert [p.text for p in article.passages] == [
        "Erster Absatz über den Gipfel.\nEr geht weiter.",
        "Zweiter Absatz mit Ergebnissen.",
    ]
    assert [p.section for p in article.passages] == [None, "Ergebnisse"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"\xff\xfe Latin-1 \xe4", "UTF-8"),
        (b"abc\x00def", "binary"),
        (b"---\ntitle: X\ndate: 2026-13-45\n---\nText.\n", "bad date"),
        (b"---\ntitle: X\ndate: 2026-02-30\n---\nText.\n", "'2026-02-30': no such date"),
        (b"---\ntitle: X\ndate: 1.2.2026\n---\nText.\n", "use YYYY-MM-DD"),
        (b"Nur ein Titel\n", "no paragraphs"),
    ],
)
def test_bad_files_are_skipped_with_a_reason(tmp_path: Path, data: bytes, reason: str) -> None:
    (tmp_path / "good.txt").write_text("Titel\nEin Absatz mit Inhalt.\n", encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes(data)
    articles, skipped = load_articles(tmp_path)
    assert [a.id for a in articles] == ["good"]
    assert len(skipped) == 1 and skipped[0].path.endswith("bad.txt")
    assert reason in skipped[0].reason
    assert "\n" not in str(skipped[0])


def test_duplicate_ids_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("Titel\nEin Absatz.\n", encoding="utf-8")
    (tmp_path / "a.txt").write_text("Titel\nNoch ein Absatz.\n", encoding="utf-8")
    articles, skipped = load_articles(tmp_path)
    assert len(articles) == 1 and "duplicate" in skipped[0].reason


def test_missing_directory() -> None:
    with pytest.raises(FileNotFoundError):
        load_articles(Path("/nonexistent/articles"))


def test_parse_error_is_article_error() -> None:
    with pytest.raises(ArticleError):
        parse_article("x", "---\ntitle X without colon\n---\nText.\n")


@given(
    st.lists(
        st.text(
            alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
            min_size=1,
            max_size=60,
        ),
        min_size=1,
        max_size=6,
    )
)
def test_any_text_round_trips_offsets(paragraphs: list[str]) -> None:
    text = "Titel\n\n" + "\n\n".join(paragraphs)
    try:
        article = parse_article("prop", text)
    except ArticleError:
        return
    for p in article.passages:
        assert text[p.start : p.end] == p.text
        assert p.text.strip() == p.text and p.text


def test_ten_megabyte_file_and_single_huge_line_are_skipped_with_reasons(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Titel\nEin Absatz mit Inhalt.\n", encoding="utf-8")
    (tmp_path / "huge.txt").write_bytes(b"Wort " * 2_000_000)  # 10 MB
    (tmp_path / "oneline.txt").write_text("Titel\n" + "Wort " * 50_000, encoding="utf-8")
    articles, skipped = load_articles(tmp_path)
    assert [a.id for a in articles] == ["good"]
    reasons = {Path(s.path).name: s.reason for s in skipped}
    assert "limit is 2,000,000" in reasons["huge.txt"]
    assert "paragraph 1 has 249,999 characters" in reasons["oneline.txt"]  # trimmed


# --- an articles directory without articles ------------------------------------------------


@pytest.mark.parametrize("contents", [[], ["notes.pdf", "README"]], ids=["empty", "no-articles"])
def test_a_directory_without_article_files_is_refused_naming_it(
    tmp_path: Path, contents: list[str]
) -> None:
    for name in contents:
        (tmp_path / name).write_text("x", encoding="utf-8")
    with pytest.raises(NoArticlesError) as refused:
        require_article_files(tmp_path)
    message = str(refused.value)
    assert str(tmp_path) in message and "no articles" in message
    assert "\n" not in message


def test_a_directory_with_articles_passes_the_check(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("Titel\nEin Absatz.\n", encoding="utf-8")
    require_article_files(tmp_path)  # does not raise


async def test_reindex_of_an_empty_directory_fails_before_building_and_keeps_the_index(
    tmp_path: Path,
) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "a.md").write_text("Titel\nEin Absatz über Fregatten.\n", encoding="utf-8")
    sources = Sources(articles_dir=articles, dictionary_path=None)
    stages: list[str] = []
    async with await IndexStore.open(tmp_path / "db.sqlite3") as storage:
        first = await reindex(storage, sources)
        (articles / "a.md").unlink()
        with pytest.raises(NoArticlesError, match="no articles"):
            await reindex(storage, sources, progress=lambda stage, *_: stages.append(stage))
        assert stages == []  # refused before the reindex process started to parse
        assert await storage.active_build_id() == first.build_id


async def test_reindex_where_every_file_is_skipped_is_one_clear_error(tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "a.md").write_text("Titel\nEin Absatz über Fregatten.\n", encoding="utf-8")
    sources = Sources(articles_dir=articles, dictionary_path=None)
    async with await IndexStore.open(tmp_path / "db.sqlite3") as storage:
        first = await reindex(storage, sources)
        (articles / "a.md").write_bytes(b"\xff\xfe not UTF-8")
        with pytest.raises(Exception, match="no usable articles") as failed:
            await reindex(storage, sources)
        assert "a.md" in str(failed.value) and "UTF-8" in str(failed.value)
        assert "\n" not in str(failed.value)
        assert await storage.active_build_id() == first.build_id
        (articles / "b.md").write_bytes(b"")
        with pytest.raises(Exception, match="all 2 files were skipped") as failed:
            await reindex(storage, sources)
        assert str(failed.value).endswith("(and 1 more)") and "\n" not in str(failed.value)


# --- front matter ---------------------------------------------------------------------------

FRONT_MATTER = (
    "---\ntitle: Gipfel in Rom\ndate: 2026-02-01\nsource: Beispielzeitung\n---\n"
    "Italien sagte zu, zwei Fregatten zu stellen.\n\nDer zweite Absatz.\n"
)


def test_front_matter_after_a_byte_order_mark(tmp_path: Path) -> None:
    (tmp_path / "rom.md").write_bytes(b"\xef\xbb\xbf" + FRONT_MATTER.encode("utf-8"))
    (article,), skipped = load_articles(tmp_path)
    assert not skipped
    assert (article.title, article.date, article.source) == (
        "Gipfel in Rom",
        dt.date(2026, 2, 1),
        "Beispielzeitung",
    )
    assert "\ufeff" not in article.text
    assert [p.text for p in article.passages] == [
        "Italien sagte zu, zwei Fregatten zu stellen.",
        "Der zweite Absatz.",
    ]
    for p in article.passages:  # offsets index the text as stored, quotes are cut from it
        assert article.text[p.start : p.end] == p.text


def test_a_byte_order_mark_before_plain_text_is_dropped(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"\xef\xbb\xbfTitel\nEin Absatz mit Inhalt.\n")
    (article,), _ = load_articles(tmp_path)
    assert article.title == "Titel"
    assert article.text[article.passages[0].start : article.passages[0].end] == (
        "Ein Absatz mit Inhalt."
    )


@pytest.mark.parametrize(
    "text",
    [
        "---\ntitle: Gipfel in Rom\ndate: 2026-02-01\nItalien sagte zu.\n\nMehr Text.\n",
        "---\ntitle: Gipfel in Rom\n",
        "\ufeff---\ntitle: Gipfel in Rom\n\nText.\n",
    ],
    ids=["no-closing-line", "only-front-matter", "after-a-bom"],
)
def test_front_matter_that_never_closes_is_skipped_with_a_reason(tmp_path: Path, text: str) -> None:
    (tmp_path / "good.txt").write_text("Titel\nEin Absatz mit Inhalt.\n", encoding="utf-8")
    (tmp_path / "open.md").write_text(text, encoding="utf-8")
    articles, skipped = load_articles(tmp_path)
    assert [a.id for a in articles] == ["good"]
    (skip,) = skipped
    assert skip.path.endswith("open.md")
    assert "front matter" in skip.reason and "---" in skip.reason, skip.reason
    assert "\n" not in str(skip)


def test_front_matter_with_windows_line_ends() -> None:
    article = parse_article("rom", FRONT_MATTER.replace("\n", "\r\n"))
    assert (article.title, article.date) == ("Gipfel in Rom", dt.date(2026, 2, 1))
    assert [p.text for p in article.passages] == [
        "Italien sagte zu, zwei Fregatten zu stellen.",
        "Der zweite Absatz.",
    ]


LEAD = "Wie die Nachrichtenagentur AFP berichtet, sagten die USA Hilfe zu. Mehr dazu später."


@pytest.mark.parametrize(
    ("text", "title"),
    [
        # Agency and date: the agency's report of that day.
        (
            f"date 2026-01-06 Ein Foto. (dpa)\n\n{LEAD}\n\nZweiter Absatz.\n",
            "AFP-Meldung vom 6. Januar 2026",
        ),
        # No agency: the photo caption's subject, without position marker and credit.
        (
            "date 2026-03-02 Bundeskanzler Merz (M) bei einer Pressekonferenz in Berlin. "
            "(Kay Nietfeld / dpa)\n\nDer Kanzler sprach lange.\n\nZweiter Absatz.\n",
            "Bundeskanzler Merz",
        ),
        # A caption whose subject is long is no title: the date then.
        (
            "date 2026-03-02 Der ukrainische Präsident Selenskyj und der französische Präsident "
            "Emmanuel Macron beim Treffen. (AP)\n\nEs wurde lange beraten.\n\nMehr.\n",
            "Artikel vom 2. März 2026",
        ),
        # Front matter without a title, no date: the agency alone.
        (f"---\nsource: Beispielzeitung\n---\n{LEAD}\n\nZweiter Absatz.\n", "AFP-Meldung"),
        # Nothing to go by: the article id, never the lead sentence cut off.
        ("Es wurde lange beraten, und am Ende stand ein Ergebnis fest.\n", "Artikel notitle"),
    ],
    ids=["agency-and-date", "caption-subject", "long-caption", "agency-only", "generic"],
)
def test_an_untitled_article_gets_a_short_honest_title(text: str, title: str) -> None:
    article = parse_article("notitle", text)
    assert article.title == title
    assert article.passages[0].text not in article.title


def test_a_front_matter_title_wins_over_a_derived_one() -> None:
    article = parse_article("rom", f"---\ntitle: Gipfel in Rom\ndate: 2026-02-01\n---\n{LEAD}\n")
    assert article.title == "Gipfel in Rom"


def test_checking_for_article_files_stops_at_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reindex asks on the event loop: with 10,000 files, checking each one kept the loop
    from running for a quarter of a second while questions waited."""
    for i in range(200):
        (tmp_path / f"{i:03d}.md").write_text("# Titel\n\nText.\n", encoding="utf-8")
    checked: list[Path] = []
    real = Path.is_file

    def counting(self: Path) -> bool:
        checked.append(self)
        return real(self)

    monkeypatch.setattr(Path, "is_file", counting)
    require_article_files(tmp_path)
    assert len(checked) == 1


def test_a_front_matter_key_nobody_reads_is_noted_not_fatal() -> None:
    text = "---\ntitle: Gipfel\nautor: X\nTitel2: Y\n---\nItalien stellt zwei Fregatten.\n"
    article = parse_article("rom", text)
    assert article.title == "Gipfel" and len(article.passages) == 1
    assert article.notes == (
        "unknown front matter key 'autor', ignored (known: title, date, source)",
        "unknown front matter key 'titel2', ignored (did you mean 'title'?)",
    )
    assert parse_article("rom", FRONT_MATTER).notes == ()
    german = parse_article("rom", "---\ntitel: Gipfel\ndatum: 2026-02-01\nquelle: Z\n---\nText.\n")
    assert (german.title, str(german.date), german.source, german.notes) == (
        "Gipfel",
        "2026-02-01",
        "Z",
        (),
    )
