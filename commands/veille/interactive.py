"""The feed parser of interactive commands (``/veille ajouter``, a proposed feed clicked).

It gets the same hard bound as the scheduled refresh: worker processes with
``[feeds] parse_timeout_seconds``, the worker of a feed that overruns killed with its pool, so a
hostile feed can neither hold the event loop (a parse in a thread holds the GIL whenever it runs
Python code) nor go on burning CPU once the member was told it took too long. It is one
long-lived :class:`~digests.feeds.FeedParser` per application, made on first use and kept in
``App.services`` (closed by ``App.stop``); at most :data:`MAX_PROCESSES` workers, started when
first needed. With ``[feeds] parse_processes = 0`` it parses in a thread, as the refresh does:
then only the bounds of the parse itself (RE2 filters, XML and HTML depth) hold.
"""

from __future__ import annotations

import os
from typing import Any

from bot.config import Settings
from commands.veille.refresh import feed_parser
from digests.feeds import FeedParser

__all__ = ["MAX_PROCESSES", "SERVICE", "interactive_parser"]

SERVICE = "veille.parser"
"""Its name in ``App.services``."""
MAX_PROCESSES = 2
"""Interactive parses are rare: two at once at most, the others wait for a worker."""


def interactive_parser(services: dict[str, Any], settings: Settings) -> FeedParser:
    """The application's interactive parser, made on first use."""
    parser = services.get(SERVICE)
    if not isinstance(parser, FeedParser):
        configured = settings.feeds.parse_processes
        processes = 0 if configured == 0 else min(MAX_PROCESSES, configured or os.cpu_count() or 1)
        parser = services[SERVICE] = feed_parser(settings, processes=processes)
    return parser
