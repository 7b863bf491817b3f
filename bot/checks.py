"""Cooldowns and admin permission checks, shared by the cogs."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import discord
from discord import app_commands

if TYPE_CHECKING:
    from bot.app import NewsBot


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


async def is_admin(bot: NewsBot, interaction: discord.Interaction) -> bool:
    """Manage Server, or the server's configured admin role — checked on our side.

    ``default_permissions`` only hides commands in the client; a forged or stale
    interaction must still be refused here. The member's permissions and roles come with
    the interaction itself, so a role removed a moment ago is already gone.
    """
    guild_id = interaction.guild_id
    member = interaction.user
    if guild_id is None or not isinstance(member, discord.Member):
        return False
    if bot.get_guild(guild_id) is None:  # a server the bot is not in: forged or stale
        return False
    if member.guild.id != guild_id:
        return False
    if interaction.permissions.manage_guild:
        return True
    role_id = await bot.storage.admin_role(guild_id)
    return role_id is not None and any(r.id == role_id for r in member.roles)


T = TypeVar("T")


def admin_only() -> Callable[[T], T]:
    """Refuse non-admins and DMs (and record the refusal in the audit table)."""

    async def predicate(interaction: discord.Interaction) -> bool:
        bot: NewsBot = interaction.client  # type: ignore[assignment]
        if await is_admin(bot, interaction):
            return True
        name = interaction.command.qualified_name if interaction.command else "unknown"
        if interaction.guild_id is None:
            # ``guild_only`` only hides a command in DMs; a DM interaction still arrives here.
            await bot.storage.audit(None, interaction.user.id, name, False, "refused: in a DM")
            raise app_commands.NoPrivateMessage()
        await bot.storage.audit(
            interaction.guild_id, interaction.user.id, name, False, "refused: not an admin"
        )
        raise NotAdmin("admin only")

    return app_commands.check(predicate)
