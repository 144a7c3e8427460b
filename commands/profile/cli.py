"""``tisserand member export NAME`` and ``tisserand member erase NAME``: a coordinator answers
a request about someone's data that arrived by email, with the same export and erasure as
``/profil exporter`` and ``/profile erase``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.context import Context
from bot.core import Actor, CommandEvent, MessageRef, Place, Role, UserError
from bot.i18n import Translator
from bot.storage.members import Member, find_member
from commands.profile.privacy import erase_member, export_html, export_member, families_data

CLI_USER = "tisserand-cli"


def find_for_cli(db: Session, t: Translator, name: str, platform: str | None = None) -> Member:
    """The member named ``name`` (identifier, @mention or display name) on ``platform``, or on
    the only platform where one has it; a clear error otherwise."""
    platforms = [platform] if platform else list(db.scalars(select(Member.platform).distinct()))
    found = [m for p in platforms if (m := find_member(db, p, name)) is not None]
    found = [m for m in found if not m.user_id.startswith("erased:")]
    if not found:
        raise UserError(t.gettext("No member is called “{name}”.", name=name))
    if len(found) > 1:
        raise UserError(
            t.gettext(
                "Several members are called “{name}” ({platforms}): say which platform with "
                "--platform.",
                name=name,
                platforms=", ".join(m.platform for m in found),
            )
        )
    return found[0]


def cli_context(app: Any, db: Session, member: Member, t: Translator) -> Context:
    """A context for the command line acting on ``member`` (what the families' erasers read)."""
    now = app.clock.now()
    actor = Actor(
        member.platform,
        CLI_USER,
        "command line",
        roles=frozenset({Role.MEMBER, Role.COORDINATOR}),
    )
    place = Place(member.platform, CLI_USER, CLI_USER, is_direct=True)
    event = CommandEvent(
        actor=actor,
        place=place,
        at=now,
        text="member",
        ref=MessageRef(member.platform, CLI_USER, "cli"),
    )
    return Context(
        actor=actor,
        place=place,
        event=event,
        db=db,
        clock=app.clock,
        t=t,
        translators=app.translators,
        settings=app.settings,
        registry=app.registry,
        member=member,
        templates=app.templates,
        services=app.services,
        gazette_sources=app.gazette_sources,
    )


@dataclass(frozen=True, slots=True)
class Exported:
    json_path: Path
    html_path: Path


def export_to_files(
    app: Any, t: Translator, name: str, out: Path, platform: str | None = None
) -> Exported:
    """Write the export of ``name`` as ``<out>/<identifier>.json`` and ``.html``."""
    with app.sessions() as db:
        member = find_for_cli(db, t, name, platform)
        ctx = cli_context(app, db, member, t)
        exported = export_member(db, member, families_data(ctx), app.clock.now())
        page = export_html(t, app.settings.network.name, exported)
    out.mkdir(parents=True, exist_ok=True)
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in member.user_id)
    json_path = out / f"tisserand-{member.platform}-{stem}.json"
    html_path = json_path.with_suffix(".html")
    json_path.write_text(json.dumps(exported, ensure_ascii=False, indent=2), encoding="utf-8")
    html_path.write_text(page, encoding="utf-8")
    return Exported(json_path, html_path)


def erase_from_cli(
    app: Any, t: Translator, name: str, platform: str | None = None
) -> dict[str, int]:
    """Erase ``name`` as ``/profile erase`` does (recorded as asked by a coordinator)."""
    with app.sessions() as db:
        member = find_for_cli(db, t, name, platform)
        ctx = cli_context(app, db, member, t)
        counts = erase_member(ctx, member, "coordinator")
        db.commit()
    return counts


OpenApp = Callable[[click.Context, str | None, str | None], Any]
"""``(click context, --config, --database) -> the app`` (migrated, not started)."""


def member_group(t: Translator, common: Callable[[Any], Any], open_app: OpenApp) -> click.Group:
    """``tisserand member export|erase NAME`` (added to the command line by :mod:`bot.cli`)."""
    _ = t.gettext

    @click.group("member", help=_("A member's data: export or erase it (requests by email)."))
    def member() -> None:
        pass

    @member.command("export", help=_("Write everything stored about a member (JSON and HTML)."))
    @common
    @click.argument("name")
    @click.option("--out", "out", default=".", type=click.Path(file_okay=False))
    @click.option("--platform", "platform", help=_("The member's platform, if several."))
    @click.pass_context
    def member_export(
        ctx: click.Context,
        config: str | None,
        database: str | None,
        name: str,
        out: str,
        platform: str | None,
    ) -> None:
        app = open_app(ctx, config, database)
        try:
            done = export_to_files(app, t, name, Path(out), platform)
        except UserError as exc:
            click.echo(exc.message, err=True)
            sys.exit(1)
        finally:
            app.engine.dispose()
        click.echo(_("Written: {json} and {html}", json=done.json_path, html=done.html_path))

    @member.command("erase", help=_("Erase a member's data, as /profile erase does."))
    @common
    @click.argument("name")
    @click.option("--platform", "platform", help=_("The member's platform, if several."))
    @click.option("--yes", "yes", is_flag=True, help=_("Do not ask for confirmation."))
    @click.pass_context
    def member_erase(
        ctx: click.Context,
        config: str | None,
        database: str | None,
        name: str,
        platform: str | None,
        yes: bool,
    ) -> None:
        if not yes:
            click.confirm(
                _("Erase the data of {name}? This cannot be undone.", name=name), abort=True
            )
        app = open_app(ctx, config, database)
        try:
            counts = erase_from_cli(app, t, name, platform)
        except UserError as exc:
            click.echo(exc.message, err=True)
            sys.exit(1)
        finally:
            app.engine.dispose()
        total = sum(counts.values())
        click.echo(t.ngettext("Erased: {n} row handled.", "Erased: {n} rows handled.", total))

    return member
