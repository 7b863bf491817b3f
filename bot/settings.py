"""All configuration, read once from the environment and ``.env`` (see ``.env.example``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.lexicon import DING_DEFAULT_PATH


class Settings(BaseSettings):
    """Typed settings; every key is documented in ``.env.example``."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    discord_token: SecretStr | None = Field(default=None, description="Bot token")
    dev_guild_id: int | None = None
    database_path: Path = Path("data/newsbot.sqlite3")
    articles_dir: Path = Path("seeds")
    dictionary_path: Path = DING_DEFAULT_PATH
    glossary_path: Path | None = None
    cache_dir: Path = Path("data/cache")
    ask_channel_ids: list[int] = Field(default_factory=list)
    message_content_intent: bool = False
    max_upload_bytes: int = 1_000_000
    ask_cooldown_seconds: float = 10.0
    max_question_chars: int = 500
    busy_timeout_ms: int = 5_000
    log_level: str = "INFO"

    @field_validator("dev_guild_id", "glossary_path", "discord_token", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("ask_channel_ids", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(v) for v in value.replace(",", " ").split()]
        if isinstance(value, int):
            return [value]
        return value


def load_settings() -> Settings:
    return Settings()
