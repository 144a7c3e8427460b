"""What ``/profil`` shows: one section per kind of thing Tisserand stores about a member.

Each section is a function of the context returning its lines (a title, then its entries; an
empty list when it has nothing to say); :data:`SECTIONS` lists them in blocks, in the order
shown (the lines of one block together, blocks apart). Adding a kind (profile fields, say) is one
function and one entry in :data:`SECTIONS` (the profile fields of :mod:`commands.profile.fields`
and the email address of :mod:`commands.profile.email` are such sections).

Sections read the storage models, or ask the family that owns the data through its package
(``commands.gazette``, ``commands.sessions``), never its modules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import select

from bot.context import Context
from bot.i18n import N_
from bot.storage.sessions import Registration, RegistrationStatus, SessionRow, SessionStatus
from bot.storage.veille import ENTRY_SHARE, FeedEntry
from commands import gazette, sessions
from commands.profile import email
from commands.profile.fields import profile_lines

__all__ = ["SECTIONS", "Section", "render_profile"]

Section = Callable[[Context], list[str]]

MAX_LISTED = 20
"""Registrations and shares listed per section (the newest); the count says how many in all."""


def identity(ctx: Context) -> list[str]:
    member = ctx.member
    return [
        ctx._("**What Tisserand stores about you**"),
        "",
        ctx._("- Name: {name}", name=member.display_name),
        ctx._(
            "- Platform: {platform} (identifier {user_id})",
            platform=member.platform,
            user_id=member.user_id,
        ),
        ctx._("- Known since: {date}", date=ctx.t.datetime(member.created_at)),
    ]


def language(ctx: Context) -> list[str]:
    chosen = {
        None: ctx._(
            "not chosen (following the network: {default})", default=ctx.settings.network.locale
        ),
        "fr": ctx._("French"),
        "en": ctx._("English"),
    }[ctx.member.locale]
    return [ctx._("- Language: {language}", language=chosen)]


def category(ctx: Context) -> list[str]:
    return [
        ctx._(
            "- Category: {category} (it counts for the quotas of sessions; change it with "
            "/category)",
            category=sessions.category_label(ctx.t, ctx.member.category),
        )
    ]


def language_hint(ctx: Context) -> list[str]:
    return [
        "",
        ctx._("Change your language with /profile language fr or /profile language en."),
    ]


_STATUS_TEXT = {
    RegistrationStatus.CONFIRMED: N_("registered"),
    RegistrationStatus.WAITLISTED: N_("on the waiting list"),
    RegistrationStatus.CANCELLED: N_("registration cancelled"),
    RegistrationStatus.WALK_IN: N_("present without registration"),
}


def registrations(ctx: Context) -> list[str]:
    rows = ctx.db.execute(
        select(Registration, SessionRow)
        .join(SessionRow, SessionRow.id == Registration.session_id)
        .where(Registration.member_id == ctx.member.id)
        .order_by(SessionRow.starts_at.desc(), SessionRow.id.desc())
    ).all()
    title = ctx.t.ngettext(
        "**Your sessions ({n} registration)**", "**Your sessions ({n} registrations)**", len(rows)
    )
    if not rows:
        return [title, ctx._("You never registered for a session.")]
    now = ctx.now()
    upcoming = [(r, s) for r, s in rows if s.ends_at > now]
    past = [(r, s) for r, s in rows if s.ends_at <= now]
    lines = [title]
    for heading, group in (
        (ctx._("Upcoming:"), list(reversed(upcoming))),
        (ctx._("Past:"), past),
    ):
        if not group:
            continue
        lines.append(heading)
        for registration, session in group[:MAX_LISTED]:
            lines.append(_registration_line(ctx, registration, session))
        if len(group) > MAX_LISTED:
            more = len(group) - MAX_LISTED
            lines.append(ctx.t.ngettext("… and {n} more.", "… and {n} more.", more))
    return lines


def _registration_line(ctx: Context, registration: Registration, session: SessionRow) -> str:
    status = ctx._(_STATUS_TEXT.get(RegistrationStatus(registration.status), "registered"))
    if registration.attended_at is not None:
        status = ctx._("{status}, present", status=status)
    if session.status == SessionStatus.CANCELLED:
        status = ctx._("{status} (the session was cancelled)", status=status)
    return ctx._(
        "- {ref} “{title}”, {date}: {status}",
        ref=ctx.t.ref(session.id),
        title=session.title,
        date=ctx.t.datetime(session.starts_at, "short"),
        status=status,
    )


def consents(ctx: Context) -> list[str]:
    return gazette.my_consents(ctx).text.splitlines()


def shares(ctx: Context) -> list[str]:
    rows = ctx.db.scalars(
        select(FeedEntry)
        .where(FeedEntry.kind == ENTRY_SHARE, FeedEntry.shared_by == ctx.member.id)
        .order_by(FeedEntry.id.desc())
    ).all()
    title = ctx.t.ngettext(
        "**Your shares for the digest ({n})**", "**Your shares for the digest ({n})**", len(rows)
    )
    if not rows:
        return [title, ctx._("You shared no link for the digest.")]
    lines = [title]
    for entry in rows[:MAX_LISTED]:
        state = (
            ctx._("sent in a digest")
            if entry.digest_id is not None
            else ctx._("left out by a coordinator")
            if entry.dropped
            else ctx._("waiting for the next digest")
        )
        lines.append(
            ctx._(
                "- {ref} “{title}” ({date}): {state}",
                ref=ctx.t.ref(entry.id),
                title=entry.title,
                date=ctx.t.date(entry.created_at),
                state=state,
            )
        )
    if len(rows) > MAX_LISTED:
        more = len(rows) - MAX_LISTED
        lines.append(ctx.t.ngettext("… and {n} more.", "… and {n} more.", more))
    return lines


def email_lines(ctx: Context) -> list[str]:
    return email.status_lines(ctx)


SECTIONS: tuple[tuple[Section, ...], ...] = (
    (identity, language, category, profile_lines, email_lines, language_hint),
    (registrations,),
    (consents,),
    (shares,),
)
"""The sections of ``/profil`` in blocks, in the order shown."""


def render_profile(ctx: Context, sections: Sequence[Sequence[Section]] = SECTIONS) -> str:
    """The whole profile: each block's lines together, blocks separated by an empty line."""
    blocks = ["\n".join(line for section in block for line in section(ctx)) for block in sections]
    return "\n\n".join(block for block in blocks if block)
