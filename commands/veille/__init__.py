"""The veille: feed sources (/veille), members' shares (/partager) and weekly digests (/digest).

A source belongs to the channel where it was added, a share to the channel where it was shared:
that channel's weekly digest gathers them. The parts:

- ``sources_handlers``, ``share_handlers``, ``digest_handlers``: the chat commands; ``parsing``
  reads what members typed, ``messages`` words the answers, ``fetching`` fetches for a handler
  (the dispatcher's transaction committed first, so no database lock is held while a remote
  server takes its time);
- ``store``: the queries on the family's tables (``feed_sources``, ``feed_entries``,
  ``feed_proposals``, ``digest_schedules``);
- ``refresh``: the periodic refresh of the sources, and how each outcome is recorded
  (``error_codes``: the codes stored on a failing source);
- ``digest``: what goes in a channel's digest, when it is due, sending it through the outbox
  (``schedule``: the weekly slots);
- ``opml``: OPML import and export against the database;
- ``work``: the scheduled work ``feeds`` and ``digests``, derived from the database so that
  both survive restarts exactly;
- ``gazette``: what the family gives the gazette.

The libraries it stands on are in ``digests/``: fetching (:mod:`digests.fetcher`), parsing and
sanitising (:mod:`digests.feeds`), reading and writing OPML (:mod:`digests.opml`), rendering a
digest from plain data (:mod:`digests.digest` and its templates).
"""

from __future__ import annotations

from bot.family import Family, GazetteSection, ReportSection
from commands.veille import (
    data,
    digest_handlers,
    share_handlers,
    sources_handlers,
    theme_handlers,
)
from commands.veille.digest import preview_digest
from commands.veille.gazette import gazette_best_veille
from commands.veille.opml import ImportReport, export_opml, import_opml
from commands.veille.refresh import RefreshReport, feed_parser, refresh_all
from commands.veille.report import report_veille
from commands.veille.store import add_source_row
from commands.veille.work import setup
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
    handlers=(sources_handlers, share_handlers, digest_handlers, theme_handlers),
    setup=setup,
    outbox_topics=("digest", "feed-disabled"),
    gazette=(GazetteSection("veille", gazette_best_veille),),
    report=(ReportSection("veille", report_veille),),
    member_data=data.MEMBER_DATA,
)
