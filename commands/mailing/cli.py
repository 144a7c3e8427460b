"""``tisserand subscribers import | add | remove | list``: the coordinators' list of people who
receive the network's news by email (built by :func:`subscribers_group`, added by ``bot.cli``)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from bot.clock import SystemClock
from bot.i18n import Translator
from commands.mailing.subscribers import (
    SubscriberError,
    add_one,
    import_csv,
    listing,
    remove,
    state,
)

Open = Callable[[click.Context, str | None, str | None], Any]
"""(settings, sessionmaker) of a migrated database, from the CLI's options."""


def subscribers_group(t: Translator, common: Callable[[Any], Any], open_db: Open) -> click.Group:
    _ = t.gettext

    @click.group(
        "subscribers",
        help=_("People who receive the network's news by email (outside the chat too)."),
    )
    def subscribers() -> None:
        pass

    @subscribers.command("import", help=_("Add the people of a CSV file (name, email, ...)."))
    @common
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--by", "who", required=True, help=_("Who adds them (named in the welcome)."))
    @click.pass_context
    def subscribers_import(
        ctx: click.Context, config: str | None, database: str | None, file: str, who: str
    ) -> None:
        settings, sessions = open_db(ctx, config, database)
        text = Path(file).read_text(encoding="utf-8-sig", errors="replace")
        try:
            with sessions.begin() as db:
                report = import_csv(
                    db,
                    settings,
                    t,
                    text,
                    filename=Path(file).name,
                    who=who,
                    now=SystemClock().now(),
                )
        except SubscriberError as exc:
            click.echo(str(exc), err=True)
            sys.exit(1)
        for problem in report.problems:
            click.echo(f"  - {problem}", err=True)
        n = len(report.added)
        click.echo(
            t.ngettext(
                "{n} address added; its welcome email is queued.",
                "{n} addresses added; their welcome emails are queued.",
                n,
            )
        )

    @subscribers.command("add", help=_("Add one person."))
    @common
    @click.argument("address")
    @click.option("--name", default="", help=_("Their name."))
    @click.option("--category", default=None, help=_("Their category."))
    @click.option(
        "--receives",
        default="tout",
        show_default=True,
        help=_("digest, gazette, sessions or tout."),
    )
    @click.option("--by", "who", required=True, help=_("Who adds them (named in the welcome)."))
    @click.pass_context
    def subscribers_add(
        ctx: click.Context,
        config: str | None,
        database: str | None,
        address: str,
        name: str,
        category: str | None,
        receives: str,
        who: str,
    ) -> None:
        settings, sessions = open_db(ctx, config, database)
        try:
            with sessions.begin() as db:
                added = add_one(
                    db,
                    settings,
                    t,
                    address,
                    name=name,
                    category=category,
                    receives=receives,
                    who=who,
                    now=SystemClock().now(),
                )
        except SubscriberError as exc:
            click.echo(str(exc), err=True)
            sys.exit(1)
        click.echo(_("Added: {address}; the welcome email is queued.", address=added))

    @subscribers.command(
        "remove", help=_("Forget an address (or the token of an unsubscribe request).")
    )
    @common
    @click.argument("address")
    @click.pass_context
    def subscribers_remove(
        ctx: click.Context, config: str | None, database: str | None, address: str
    ) -> None:
        _settings, sessions = open_db(ctx, config, database)
        with sessions.begin() as db:
            removed = remove(db, address)
        if removed is None:
            click.echo(
                _("No subscriber has this address or token: {value}", value=address), err=True
            )
            sys.exit(1)
        click.echo(_("Removed: {address}; nothing more will be sent to it.", address=removed))

    @subscribers.command("list", help=_("List the addresses, what they receive and why."))
    @common
    @click.pass_context
    def subscribers_list(ctx: click.Context, config: str | None, database: str | None) -> None:
        _settings, sessions = open_db(ctx, config, database)
        with sessions() as db:
            rows = listing(db)
            for row in rows:
                click.echo(
                    "\t".join((row.address, row.name, row.category or "", state(t, row), row.basis))
                )
            click.echo(t.ngettext("{n} address.", "{n} addresses.", len(rows)))

    return subscribers
