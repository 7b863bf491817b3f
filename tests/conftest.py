"""Shared fixtures: the real seed articles, the real Ding dictionary, a built snapshot."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from index.corpus import Article, load_articles
from index.engine import Engine, Snapshot, build_snapshot
from index.lexicon import DING_DEFAULT_PATH, DingEntries, default_glossary, load_ding

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
DEV_SET = REPO.parent / "shared" / "eval" / "questions.jsonl"
DATA = Path(__file__).resolve().parent / "data"

settings.register_profile(
    "ci", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.register_profile(
    "long", max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# CI runs 2,000 examples per property; `pytest --hypothesis-profile=long` runs 10,000 and
# `--hypothesis-profile=dev` a quick 200.
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def dictionary_path() -> Path:
    return Path(os.environ.get("DICTIONARY_PATH", str(DING_DEFAULT_PATH)))


def cache_dir() -> Path:
    return Path(os.environ.get("NEWSBOT_TEST_CACHE", str(Path.home() / ".cache" / "newsbot-tests")))


@pytest.fixture(scope="session")
def ding() -> DingEntries:
    """The real Ding dictionary. Its absence fails the tests that need it, loudly."""
    path = dictionary_path()
    if not path.is_file():
        pytest.fail(
            f"the Ding dictionary is missing at {path}: install it with "
            "`apt-get install trans-de-en` (make test does this when apt is usable)"
        )
    return load_ding(path, cache_dir())


@pytest.fixture(scope="session")
def seed_articles() -> list[Article]:
    articles, skipped = load_articles(SEEDS)
    assert not skipped
    return articles


@pytest.fixture(scope="session")
def seed_snapshot(ding: DingEntries, seed_articles: list[Article]) -> Snapshot:
    return build_snapshot(seed_articles, ding, default_glossary())


@pytest.fixture(scope="session")
def seed_engine(seed_snapshot: Snapshot) -> Engine:
    return Engine(seed_snapshot)
