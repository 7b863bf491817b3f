"""Cooldowns and the errors a command can end in, shared by the bot and its cogs."""

from __future__ import annotations

import time

from discord import app_commands


class UserFacingError(app_commands.AppCommandError):
    """An error whose message is shown to the user as is (ephemeral)."""


class NotAdmin(app_commands.CheckFailure):
    """The member lacks Manage Server and the configured admin role."""


class Cooldowns:
    """One question per user per ``seconds``, across slash commands and mentions."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._last: dict[int, float] = {}

    def retry_after(self, user_id: int, now: float | None = None) -> float:
        """0 when the user may ask now (and records the question), else seconds to wait."""
        now = time.monotonic() if now is None else now
        last = self._last.get(user_id)
        if last is not None and now - last < self.seconds:
            return self.seconds - (now - last)
        self._last[user_id] = now
        if len(self._last) > 10_000:  # forget users who asked long ago
            cutoff = now - self.seconds
            self._last = {u: t for u, t in self._last.items() if t >= cutoff}
        return 0.0
