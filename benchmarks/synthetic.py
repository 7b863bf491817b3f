"""A deterministic synthetic German news corpus for benchmarks and load tests.

Passages of 40–120 words drawn from a Zipfian German vocabulary (``wordfreq``'s list when
installed, else the seed articles' own words) mixed with the seed articles' vocabulary, so
that real questions meet realistic posting-list lengths. The real seed articles are part
of every corpus, so real questions still have their real answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.corpus import Article, load_articles, parse_article
from index.text import WORD_RE

PASSAGES_PER_ARTICLE = 10
SEED_SHARE = 0.2  # share of tokens drawn from the seed articles' vocabulary
ZIPF_EXPONENT = 1.07


def _zipf_vocabulary(size: int, fallback: Sequence[str]) -> list[str]:
    try:
        import wordfreq  # optional: only the benchmark needs it
    except ImportError:
        return list(fallback)
    words = [w for w in wordfreq.top_n_list("de", size * 2) if w.isalpha() and len(w) > 1]
    return words[:size]


def synthetic_articles(
    n_passages: int,
    seeds_dir: Path,
    seed: int = 42,
    vocabulary_size: int = 40_000,
) -> list[Article]:
    """About ``n_passages`` passages in articles of ten paragraphs, plus the seed articles."""
    real, _ = load_articles(seeds_dir)
    seed_words = sorted({w for a in real for w in WORD_RE.findall(a.text) if len(w) > 2})
    zipf = _zipf_vocabulary(vocabulary_size, seed_words)
    rng = np.random.default_rng(seed)
    ranks = np.arange(1, len(zipf) + 1, dtype=np.float64)
    probabilities = ranks**-ZIPF_EXPONENT
    probabilities /= probabilities.sum()

    remaining = max(n_passages - sum(len(a.passages) for a in real), 0)
    lengths = rng.integers(40, 121, size=remaining)
    total = int(lengths.sum())
    from_seed = rng.random(total) < SEED_SHARE
    words = np.where(
        from_seed,
        np.asarray(seed_words, dtype=object)[rng.integers(0, len(seed_words), size=total)],
        np.asarray(zipf, dtype=object)[rng.choice(len(zipf), size=total, p=probabilities)],
    )
    sentence_breaks = rng.integers(8, 21, size=total)

    articles = list(real)
    cursor = 0
    for number, start in enumerate(range(0, remaining, PASSAGES_PER_ARTICLE)):
        paragraphs: list[str] = []
        for length in lengths[start : start + PASSAGES_PER_ARTICLE]:
            chunk = words[cursor : cursor + int(length)]
            cursor += int(length)
            paragraphs.append(_sentences(chunk, sentence_breaks[cursor - int(length) :]))
        day = 1 + number % 28
        month = 1 + (number // 28) % 12
        body = "\n\n".join(
            (f"## Abschnitt {i // 3 + 1}\n\n{p}" if i % 3 == 0 and i else p)
            for i, p in enumerate(paragraphs)
        )
        text = (
            f"---\ntitle: Synthetischer Artikel {number + 1}\ndate: 2025-{month:02d}-{day:02d}\n"
            f"source: bench\n---\n{body}\n"
        )
        articles.append(parse_article(f"syn_{number + 1:06d}", text))
    return articles


def _sentences(words: np.ndarray, breaks: np.ndarray) -> str:
    out: list[str] = []
    i = 0
    b = 0
    while i < len(words):
        size = int(breaks[b % len(breaks)]) if len(breaks) else 12
        b += 1
        sentence = [str(w) for w in words[i : i + size]]
        i += size
        sentence[0] = sentence[0][:1].upper() + sentence[0][1:]
        out.append(" ".join(sentence) + ".")
    return " ".join(out)


def write_corpus(articles: Sequence[Article], directory: Path) -> None:
    """Write articles as files (their original text) for a reindex from disk."""
    directory.mkdir(parents=True, exist_ok=True)
    for article in articles:
        suffix = Path(article.path).suffix or ".md"
        (directory / f"{article.id}{suffix}").write_text(article.text, encoding="utf-8")
