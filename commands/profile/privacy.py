"""The member's rights over their data: /profil exporter (a JSON file and a readable HTML file
of everything Tisserand stores about them) and /profile erase (after a confirmation button).

Every family declares what it holds (:attr:`bot.family.Family.member_data`). Erasing first
turns the member row into an anonymous shell (same id, no name, no platform identifier, no
language or category: their ballots and registrations still count, attached to nobody), then
lets every family erase its part, then deletes the direct messages addressed to them from the
outbox and blanks their name and profile texts in the other rows, and records that an erasure
happened, with the counts (``member_erasures``). What remains is listed in docs/privacy.md.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.context import Context
from bot.core import Attachment, Choice, ChoiceStyle, Reply
from bot.family import MEMBER_DATA_SERVICE, ErasedMember, MemberData
from bot.i18n import N_, Translator
from bot.registry import Args, Option, OptionType, StaleChoice, command, on_choice
from bot.storage.base import changed_rows
from bot.storage.members import Member, PlaceRow, find_member
from bot.storage.outbox import OutboxMessage
from bot.storage.profiles import MemberErasure, MemberProfile
from commands.profile.errors import ConfirmationStale, ProfileError

ERASED_NAME = "—"
"""The display name of the shell an erasure leaves."""
REDACTED = "[…]"
CONFIRM_FOR = timedelta(minutes=15)


class OthersData(ProfileError):
    msgid = N_(
        "You may export only your own data. A coordinator answers a request about someone else "
        "from the command line (tisserand member export)."
    )


class NothingToErase(ProfileError):
    msgid = N_("There is nothing left to erase: your data was already erased.")


# --- what the profile family holds ---------------------------------------------------------------


def _export_profile(db: Session, member: Member) -> Mapping[str, Any]:
    profile = db.get(MemberProfile, member.id)
    return {
        "member": {
            "platform": member.platform,
            "identifier": member.user_id,
            "name": member.display_name,
            "language": member.locale,
            "category": member.category,
            "known_since": member.created_at.isoformat(),
        },
        "profile": (
            {
                "organisation": profile.organisation,
                "territory": profile.territory,
                "interests": list(profile.interests or ()),
                "presentation": profile.presentation,
                "visibility": profile.visibility,
                "updated_at": profile.updated_at.isoformat(),
            }
            if profile is not None
            else None
        ),
    }


def _erase_profile(ctx: Context, who: ErasedMember) -> Mapping[str, int]:
    deleted = changed_rows(
        ctx.db.execute(delete(MemberProfile).where(MemberProfile.member_id == who.id))
    )
    return {"profile_deleted": deleted}


MEMBER_DATA = MemberData(
    export=_export_profile,
    erase=_erase_profile,
    holds=(
        "your name and identifier on the platform, your language, your category",
        "your profile: organisation, territory, interests, presentation, visibility",
    ),
)


# --- export --------------------------------------------------------------------------------------


def families_data(ctx: Context) -> Mapping[str, MemberData]:
    found: Mapping[str, MemberData] = ctx.services.get(MEMBER_DATA_SERVICE, {})
    return found


def _outbox_to(db: Session, member: Member) -> list[OutboxMessage]:
    return list(
        db.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.platform == member.platform,
                OutboxMessage.target_kind == "direct",
                OutboxMessage.target_id == member.user_id,
            )
            .order_by(OutboxMessage.id)
        )
    )


def export_member(
    db: Session, member: Member, data: Mapping[str, MemberData], now: datetime
) -> dict[str, Any]:
    """Everything Tisserand stores about ``member``, by family, as JSON-able values."""
    return {
        "generated_at": now.isoformat(),
        "families": {name: dict(declared.export(db, member)) for name, declared in data.items()},
        "messages_to_you": [
            {
                "about": row.key.split(":", 1)[0],
                "status": row.status,
                "created_at": row.created_at.isoformat(),
                "text": (row.payload or {}).get("text", ""),
            }
            for row in _outbox_to(db, member)
        ],
        "what_each_family_holds": {name: list(d.holds) for name, d in data.items()},
    }


def _html_value(value: Any) -> str:
    if isinstance(value, Mapping):
        if not value:
            return "<em>—</em>"
        rows = "".join(
            f"<tr><th>{html.escape(str(key))}</th><td>{_html_value(item)}</td></tr>"
            for key, item in value.items()
        )
        return f"<table>{rows}</table>"
    if isinstance(value, list | tuple):
        if not value:
            return "<em>—</em>"
        return "<ul>" + "".join(f"<li>{_html_value(item)}</li>" for item in value) + "</ul>"
    if value is None:
        return "<em>—</em>"
    return html.escape(str(value)).replace("\n", "<br>")


def export_html(t: Translator, network: str, exported: Mapping[str, Any]) -> str:
    """The export as one readable HTML page."""
    title = t.gettext("What {network} stores about you", network=network)
    sections = "".join(
        f"<section><h2>{html.escape(name)}</h2>{_html_value(value)}</section>"
        for name, value in exported["families"].items()
    )
    messages = _html_value(exported["messages_to_you"])
    generated = t.gettext("Generated on {date}.", date=exported["generated_at"])
    messages_title = t.gettext("Messages to you")
    return (
        f'<!doctype html><html lang="{t.locale}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:50rem;margin:auto;padding:1rem}"
        "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.25rem .5rem;"
        "text-align:left;vertical-align:top}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(generated)}</p>"
        f"{sections}<section><h2>{html.escape(messages_title)}</h2>{messages}"
        "</section></body></html>"
    )


@command(
    "exporter",
    "export",
    N_("Sends you a file of everything Tisserand stores about you (JSON and readable HTML)."),
    options=[
        Option(
            "membre",
            "member",
            N_("Yourself (you may export only your own data)."),
            type=OptionType.USER,
            positional=True,
        )
    ],
    examples=("/profil exporter",),
    group="profil",
    group_alias="profile",
)
def export_command(ctx: Context, args: Args) -> Reply:
    wanted: str | None = args["membre"]
    if wanted:
        other = find_member(ctx.db, ctx.actor.platform, wanted)
        if other is None or other.id != ctx.member.id:
            raise OthersData(ctx.t)
    exported = export_member(ctx.db, ctx.member, families_data(ctx), ctx.now())
    day = ctx.now().date().isoformat()
    return Reply(
        text=ctx._(
            "Here is everything Tisserand stores about you, as data (JSON) and as a page to "
            "read (HTML). /profile erase erases it."
        ),
        attachments=(
            Attachment(
                f"tisserand-{day}.json",
                "application/json",
                json.dumps(exported, ensure_ascii=False, indent=2).encode(),
            ),
            Attachment(
                f"tisserand-{day}.html",
                "text/html",
                export_html(ctx.t, ctx.settings.network.name, exported).encode(),
            ),
        ),
        ephemeral=True,
    )


# --- erasure -------------------------------------------------------------------------------------


def _stamp(moment: datetime) -> int:
    return int(moment.timestamp())


@command(
    "effacer",
    "erase",
    N_("Erases what Tisserand stores about you, after a confirmation."),
    examples=("/profil effacer",),
    group="profil",
    group_alias="profile",
)
def erase_command(ctx: Context, args: Args) -> Reply:
    if ctx.member.user_id.startswith("erased:"):
        raise NothingToErase(ctx.t)
    stamp = _stamp(ctx.now())
    return Reply(
        text=ctx._(
            "Erase everything Tisserand stores about you? Your name, profile, consents and "
            "words kept for the gazette (archived gazettes are rebuilt), share comments, "
            "meeting history and referent roles are erased; your ballots and registrations "
            "stay as anonymous counts. This cannot be undone; the button is valid 15 minutes."
        ),
        choices=(
            Choice(
                ctx._("Yes, erase my data"),
                f"privacy:erase:{ctx.member.id}:{stamp}",
                ChoiceStyle.DANGER,
            ),
            Choice(ctx._("No, keep it"), "privacy:keep"),
        ),
        ephemeral=True,
    )


def _redact(value: Any, needles: list[str]) -> Any:
    if isinstance(value, str):
        for needle in needles:
            value = value.replace(needle, REDACTED)
        return value
    if isinstance(value, list):
        return [_redact(item, needles) for item in value]
    if isinstance(value, dict):
        return {key: _redact(item, needles) for key, item in value.items()}
    return value


def _scrub_outbox(db: Session, who: ErasedMember) -> dict[str, int]:
    """Delete the messages to the member; blank their name and texts in the others."""
    deleted = changed_rows(
        db.execute(
            delete(OutboxMessage).where(
                OutboxMessage.platform == who.platform,
                OutboxMessage.target_kind == "direct",
                OutboxMessage.target_id == who.user_id,
            )
        )
    )
    needles = sorted(
        {n for n in (who.display_name, who.user_id, *who.texts) if len(n) >= 3},
        key=len,
        reverse=True,
    )
    patterns = [re.escape(n) for n in needles]
    if not patterns:
        return {"messages_to_them_deleted": deleted, "messages_redacted": 0}
    finder = re.compile("|".join(patterns))
    redacted = 0
    for row in db.scalars(select(OutboxMessage)).yield_per(500):
        payload = row.payload or {}
        if finder.search(json.dumps(payload, ensure_ascii=False)):
            row.payload = _redact(payload, needles)
            redacted += 1
    return {"messages_to_them_deleted": deleted, "messages_redacted": redacted}


def _forget_direct_places(db: Session, who: ErasedMember) -> int:
    """The direct conversations with the member the bot saw (their name or identifier)."""
    names = {who.user_id, f"@{who.user_id}", who.display_name, f"@{who.display_name}"}
    rows = db.scalars(
        select(PlaceRow).where(
            PlaceRow.platform == who.platform,
            PlaceRow.is_direct.is_(True),
            PlaceRow.channel_id.in_(names) | PlaceRow.name.in_(names),
        )
    ).all()
    forgotten = 0
    for row in rows:
        try:
            with db.begin_nested():  # a place something still points to is renamed instead
                db.delete(row)
            forgotten += 1
        except IntegrityError:
            row.name = ERASED_NAME
    return forgotten


def erase_member(ctx: Context, member: Member, requested_by: str) -> dict[str, int]:
    """Erase ``member`` (see the module's documentation); returns the counts recorded."""
    profile = ctx.db.get(MemberProfile, member.id)
    texts = tuple(
        text
        for text in (
            (profile.organisation, profile.territory, profile.presentation) if profile else ()
        )
        if text
    )
    who = ErasedMember(member.id, member.platform, member.user_id, member.display_name, texts)
    now = ctx.now()
    member.display_name = ERASED_NAME
    member.user_id = f"erased:{member.id}"
    member.locale = None
    member.category = None
    member.updated_at = now
    ctx.db.flush()
    counts: dict[str, int] = {}
    for name, declared in families_data(ctx).items():
        for key, value in declared.erase(ctx, who).items():
            counts[f"{name}.{key}"] = int(value)
    counts.update({f"outbox.{k}": v for k, v in _scrub_outbox(ctx.db, who).items()})
    counts["places.direct_conversations_deleted"] = _forget_direct_places(ctx.db, who)
    ctx.db.add(
        MemberErasure(member_id=member.id, requested_by=requested_by, counts=counts, erased_at=now)
    )
    ctx.changed.add("outbox")
    return counts


@on_choice("privacy", r"(?:erase:(?P<member>\d{1,9}):(?P<stamp>\d{1,12})|keep)")
def erase_choice(ctx: Context, match: re.Match[str]) -> Reply:
    if match["member"] is None:
        return Reply(text=ctx._("Nothing was erased."), ephemeral=True)
    if int(match["member"]) != ctx.member.id:
        raise StaleChoice()
    asked = datetime.fromtimestamp(int(match["stamp"]), tz=ctx.now().tzinfo)
    if ctx.now() - asked > CONFIRM_FOR:
        raise ConfirmationStale(ctx.t)
    erase_member(ctx, ctx.member, "member")
    return Reply(
        text=ctx._(
            "Done: your data is erased. What remains (anonymous counts and the record that an "
            "erasure happened) is described in the network's privacy notice."
        ),
        ephemeral=True,
    )
