"""The profile family: /profil (/profile), what the bot stores about a member and their choices.

Each concern of the profile is a module of this package whose tagged functions are listed in
``FAMILY.handlers``.
"""

from __future__ import annotations

from bot.family import Family
from commands.profile import email, fields, handlers, privacy, retention

FAMILY = Family(
    name="profile",
    handlers=(handlers, fields, email, privacy),
    setup=retention.setup,
    member_data=privacy.MEMBER_DATA,
)
