"""Rocket.Chat: the bot as a member of a self-hosted Rocket.Chat, over REST and the realtime API."""

from bot.platforms.rocketchat.platform import (
    CHOICE_KEYWORD,
    NUMBER_EMOJIS,
    PLATFORM,
    RestError,
    RocketChatError,
    RocketChatPlatform,
    RocketChatSettings,
    check_online,
    message_id_for,
    websocket_url,
)

__all__ = [
    "CHOICE_KEYWORD",
    "NUMBER_EMOJIS",
    "PLATFORM",
    "RestError",
    "RocketChatError",
    "RocketChatPlatform",
    "RocketChatSettings",
    "check_online",
    "message_id_for",
    "websocket_url",
]
