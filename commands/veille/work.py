"""The veille's scheduled work, derived from the database so that both survive restarts exactly:
``feeds`` (the earliest ``next_fetch_at`` of the sources) and ``digests`` (the next weekly slot
of each channel)."""

from __future__ import annotations

from bot.family import Host
from commands.veille.digest import next_digest_due, send_due_digests
from commands.veille.refresh import next_refresh_due, refresh_all

__all__ = ["setup"]


def setup(app: Host) -> None:
    """Register the refresh of the feeds and the sending of the digests."""

    async def refresh() -> None:
        report = await refresh_all(app)
        metrics = app.services.get("metrics")  # bot.metrics.Metrics when [web] is enabled
        if metrics is not None:
            metrics.feeds_refreshed(
                updated=report.updated,
                not_modified=report.not_modified,
                failed=report.failed,
                disabled=report.disabled,
            )

    async def digests() -> None:
        if await send_due_digests(app):
            await app.after_change({"outbox"})

    app.scheduler.add_due_work("feeds", lambda: next_refresh_due(app.sessions), refresh)
    app.scheduler.add_due_work(
        "digests", lambda: next_digest_due(app.sessions, app.settings), digests
    )
