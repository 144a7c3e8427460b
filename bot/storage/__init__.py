"""Storage: SQLAlchemy 2 models (one module per domain) and engine helpers.

Importing this package imports every model module, so ``Base.metadata`` is complete for Alembic.
"""

from bot.storage import (
    highlights,
    ideas,
    members,
    outbox,
    platform_state,
    polls,
    questionnaires,
    sessions,
    veille,
)
from bot.storage.base import Base, UTCDateTime

__all__ = [
    "Base",
    "UTCDateTime",
    "highlights",
    "ideas",
    "members",
    "outbox",
    "platform_state",
    "polls",
    "questionnaires",
    "sessions",
    "veille",
]
