"""The veille: feed sources (/veille), members' shares (/partager) and weekly digests (/digest).

A source belongs to the channel where it was added, a share to the channel where it was shared:
that channel's weekly digest gathers them (see :mod:`commands.veille.digest`). Fetching goes
through the one outbound fetcher (:mod:`digests.fetcher`), parsing through :mod:`digests.feeds`,
the periodic refresh through :mod:`commands.veille.refresh`.

:func:`setup` registers two due-work providers derived from the database: ``feeds`` (the earliest
``next_fetch_at`` of the sources) and ``digests`` (the next weekly slot of each channel), so both
survive restarts exactly.

Handlers that fetch commit the dispatcher's transaction before awaiting the network, so that no
database lock is held while a remote server takes its time.
"""

from __future__ import annotations

from bot.family import Family, GazetteSection
from commands.veille import sources_handlers
from commands.veille.digest import preview_digest
from commands.veille.opml import ImportReport, add_source_row, export_opml, import_opml
from commands.veille.refresh import RefreshReport, feed_parser, refresh_all
from commands.veille.sources_handlers import gazette_best_veille, setup
from digests.opml import OpmlError

__all__ = [
    "FAMILY",
    "ImportReport",
    "OpmlError",
    "RefreshReport",
    "add_source_row",
    "export_opml",
    "feed_parser",
    "import_opml",
    "preview_digest",
    "refresh_all",
]

FAMILY = Family(
    name="veille",
    handlers=(sources_handlers,),
    setup=setup,
    outbox_topics=("digest", "feed-disabled"),
    gazette=(GazetteSection("veille", gazette_best_veille),),
)
