"""Chat platforms: one module per platform, all speaking the Protocol in :mod:`bot.platforms.base`."""
