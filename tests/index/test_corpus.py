from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from index.corpus import ArticleError, load_articles, parse_article
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
    assert "Yoan Valat" not in feed.title  # the caption is not the title
    assert feed.title.startswith("Wie die Nachrichtenagentur AFP berichtet")
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
