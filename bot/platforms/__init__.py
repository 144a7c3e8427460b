"""Chat platforms: the console, and one package per chat, all speaking the Protocol in :mod:`bot.platforms.base`."""
