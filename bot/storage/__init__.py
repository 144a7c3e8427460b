"""Storage: SQLAlchemy 2 models (one module per domain) and engine helpers.

Importing this package imports every model module, so ``Base.metadata`` is complete for Alembic.
"""

from bot.storage import (
    email,
    highlights,
    ideas,
    meetings,
    members,
    outbox,
    platform_state,
    polls,
    profiles,
    questionnaires,
    sessions,
    veille,
)
from bot.storage.base import Base, UTCDateTime

__all__ = [
    "Base",
    "UTCDateTime",
    "email",
    "highlights",
    "ideas",
    "meetings",
    "members",
    "outbox",
    "platform_state",
    "polls",
    "profiles",
    "questionnaires",
    "sessions",
    "veille",
]
