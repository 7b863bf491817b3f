"""Who may use the admin commands: checked on our side for every call, and every refusal
recorded in the audit table."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import discord
from discord import app_commands

from bot.app import NewsBot
from bot.checks import NotAdmin


async def is_admin(bot: NewsBot, interaction: discord.Interaction[NewsBot]) -> bool:
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
    role_id = await bot.state.admin_role(guild_id)
    return role_id is not None and any(r.id == role_id for r in member.roles)


T = TypeVar("T")


def admin_only() -> Callable[[T], T]:
    """Refuse non-admins and DMs (and record the refusal in the audit table)."""

    async def predicate(interaction: discord.Interaction[NewsBot]) -> bool:
        bot = interaction.client
        if await is_admin(bot, interaction):
            return True
        name = interaction.command.qualified_name if interaction.command else "unknown"
        if interaction.guild_id is None:
            # ``guild_only`` only hides a command in DMs; a DM interaction still arrives here.
            await bot.state.audit(None, interaction.user.id, name, False, "refused: in a DM")
            raise app_commands.NoPrivateMessage()
        await bot.state.audit(
            interaction.guild_id, interaction.user.id, name, False, "refused: not an admin"
        )
        raise NotAdmin("admin only")

    return app_commands.check(predicate)
