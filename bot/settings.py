"""All configuration, read once from the environment and ``.env`` (see ``.env.example``).

Every key can be left empty, as ``.env.example`` does: an empty value means "not set", so
the default applies (and an empty value in the environment still wins over ``.env``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

from index.database import is_postgres_url
from index.ding import DING_DEFAULT_PATH
from index.encoder import DEFAULT_ENCODER
from index.thesaurus import THESAURUS_DEFAULT_PATH
from index.vector_cache import default_cache_path

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_ID_LIST_SEPARATORS = re.compile(r"[\s,\[\]]+")
_SECRET_FIELDS = frozenset({"discord_token", "database_url"})


class SettingsProblem(ValueError):
    """A setting that cannot be used; the message names the key, in one line."""


class Settings(BaseSettings):
    """Typed settings; every key is documented in ``.env.example``."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    discord_token: SecretStr | None = Field(default=None, description="Bot token")
    dev_guild_id: int | None = None
    database_path: Path = Path("data/newsbot.sqlite3")
    # postgresql://user:password@host:port/db: PostgreSQL instead of the SQLite file, for
    # several bot processes sharing one index and one state.
    database_url: str | None = None
    articles_dir: Path = Path("seeds")
    dictionary_path: Path = DING_DEFAULT_PATH
    glossary_path: Path | None = None
    # German synonyms (Debian's openthesaurus-de-text); a missing file is no error
    thesaurus_path: Path | None = THESAURUS_DEFAULT_PATH
    cache_dir: Path = Path("data/cache")
    encoder: str = DEFAULT_ENCODER
    embedding_cache: Path | None = Field(default_factory=default_cache_path)
    # NoDecode: the value is "123,456" (or "123 456"), not JSON; parsed by the validator.
    ask_channel_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    message_content_intent: bool = False
    max_upload_bytes: int = Field(default=1_000_000, ge=1)
    ask_cooldown_seconds: float = Field(default=10.0, ge=0)
    max_question_chars: int = Field(default=500, ge=10)
    busy_timeout_ms: int = Field(default=5_000, ge=0)
    sync_poll_seconds: float = Field(default=5.0, gt=0)
    log_level: str = "INFO"
    # Sharding: None asks Discord for the recommended count (GET /gateway/bot).
    shard_count: int | None = Field(default=None, ge=1)
    # The shards this process runs ("0,1", parsed like ask_channel_ids); None: all of them.
    shard_ids: Annotated[list[int] | None, NoDecode] = None

    @model_validator(mode="before")
    @classmethod
    def _empty_is_unset(cls, values: Any) -> Any:
        if isinstance(values, dict):
            return {k: v for k, v in values.items() if not (isinstance(v, str) and not v.strip())}
        return values

    @field_validator("ask_channel_ids", "shard_ids", mode="before")
    @classmethod
    def _id_list(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, str):
            parts = [p for p in _ID_LIST_SEPARATORS.split(value) if p]
            if not all(p.isdigit() for p in parts):
                example = "0,1" if info.field_name == "shard_ids" else "123,456"
                what = "shard" if info.field_name == "shard_ids" else "channel"
                raise ValueError(f"expected {what} ids separated by commas, like {example}")
            return [int(p) for p in parts]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is not None and not is_postgres_url(value.strip()):
            raise ValueError("expected a postgresql:// URL (or nothing, for the SQLite file)")
        return value.strip() if value else value

    @property
    def database(self) -> str | Path:
        """The project database: DATABASE_URL when set, else the file DATABASE_PATH."""
        return self.database_url or self.database_path

    @property
    def uses_postgres(self) -> bool:
        return self.database_url is not None

    @field_validator("shard_ids")
    @classmethod
    def _shards_of_the_count(cls, value: list[int] | None, info: ValidationInfo) -> object:
        """Each id once, each one of the ``SHARD_COUNT`` shards; none listed means all."""
        if not value:
            return None
        count = info.data.get("shard_count")
        if count is None:
            raise ValueError("needs SHARD_COUNT, the number of shards of the whole bot")
        for shard in value:
            if shard >= count:
                shards = f"SHARD_COUNT={count} has 0 to {count - 1}"
                raise ValueError(f"shard {shard} is out of range: {shards}")
        twice = sorted({shard for shard in value if value.count(shard) > 1})
        if twice:
            raise ValueError(f"shard {twice[0]} is listed twice")
        return sorted(value)

    @field_validator("embedding_cache", mode="before")
    @classmethod
    def _cache_off(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in {"off", "none"}:
            return None
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _known_level(cls, value: object) -> object:
        if isinstance(value, str):
            if value.strip().upper() not in LOG_LEVELS:
                raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}")
            return value.strip().upper()
        return value


def load_settings(env_file: Path | str | None = ".env") -> Settings:
    """The settings from the environment and ``env_file``; a bad value raises
    :class:`SettingsProblem` with one line that names the key (never a secret's value)."""
    try:
        return Settings(_env_file=env_file)  # type: ignore[call-arg]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "?"
        message = str(first["msg"]).removeprefix("Value error, ")
        shown = "" if name in _SECRET_FIELDS else f"={first.get('input')!s}"
        raise SettingsProblem(f"bad setting {name.upper()}{shown}: {message}") from None
    except SettingsError as exc:
        raise SettingsProblem(f"bad settings: {exc}") from None
