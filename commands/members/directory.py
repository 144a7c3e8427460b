"""/annuaire [thème|territoire|catégorie] (/directory): who is who in the network, answered
privately, ten members a page.

Listed: the members of the actor's platform who filled a profile visible to members (a profile
visible to the coordination only is listed for coordinators). A filter naming a category
(``élus``, ``agents``) keeps that category; otherwise it keeps the members whose interests or
referent themes include it (accents, case and plurals forgiven) or whose territory contains it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.context import Context
from bot.core import Reply
from bot.i18n import N_, fold
from bot.registry import Args, Option, OptionType, command
from bot.storage.members import Member
from bot.storage.profiles import (
    VISIBLE_TO_MEMBERS,
    MemberProfile,
    Referent,
    referent_themes,
    theme_key,
)
from commands.members.errors import PageOutOfRange
from commands.members.messages import category_label, category_of_word, member_card

PAGE_SIZE = 10


@dataclass(frozen=True, slots=True)
class Listed:
    member: Member
    profile: MemberProfile | None
    referent_for: tuple[str, ...]

    @property
    def interests(self) -> list[str]:
        return list(self.profile.interests or ()) if self.profile is not None else []

    @property
    def territory(self) -> str | None:
        return self.profile.territory if self.profile is not None else None


def directory(
    db: Session, platform: str, *, coordinator: bool, wanted: str | None = None
) -> list[Listed]:
    """The members the directory shows, sorted by name, kept by ``wanted`` when given."""
    referents = select(Referent.member_id)
    query = (
        select(Member, MemberProfile)
        .outerjoin(MemberProfile, MemberProfile.member_id == Member.id)
        .where(
            Member.platform == platform,
            MemberProfile.member_id.is_not(None) | Member.id.in_(referents),
        )
    )
    if not coordinator:  # a referent without a profile is listed: the role is public
        query = query.where(
            MemberProfile.member_id.is_(None) | (MemberProfile.visibility == VISIBLE_TO_MEMBERS)
        )
    rows = db.execute(query).all()
    roles = referent_themes(db, (member.id for member, _ in rows))
    listed = [
        Listed(member, profile, tuple(roles.get(member.id, ())))
        for member, profile in rows
        if (profile is not None and _has_content(profile)) or member.id in roles
    ]
    if wanted:
        category = category_of_word(wanted)
        key = theme_key(wanted)
        place = fold(" ".join(wanted.split()))
        if category is not None:
            listed = [entry for entry in listed if entry.member.category == category]
        else:
            listed = [
                entry
                for entry in listed
                if key in {theme_key(theme) for theme in (*entry.interests, *entry.referent_for)}
                or (entry.territory and place in fold(entry.territory))
            ]
    return sorted(listed, key=lambda entry: (fold(entry.member.display_name), entry.member.id))


def _has_content(profile: MemberProfile) -> bool:
    return bool(
        profile.organisation or profile.territory or profile.interests or profile.presentation
    )


@command(
    "annuaire",
    "directory",
    N_("Lists the members of the network, by theme, territory or category (answered privately)."),
    options=[
        Option(
            "filtre",
            "filter",
            N_("A theme, a territory or a category (élus, agents, associations, partenaires)."),
            type=OptionType.TEXT,
            positional=True,
        ),
        Option(
            "page", "page", N_("The page to show (10 members a page)."), type=OptionType.INTEGER
        ),
    ],
    examples=("/annuaire", "/annuaire mobilité", '/annuaire "Pays de Lons"', "/annuaire élus"),
)
def show_directory(ctx: Context, args: Args) -> Reply:
    wanted: str | None = (args["filtre"] or "").strip() or None
    page: int = args["page"] or 1
    listed = directory(
        ctx.db, ctx.actor.platform, coordinator=ctx.actor.is_coordinator, wanted=wanted
    )
    if not listed:
        if wanted:
            text = ctx._(
                "Nobody in the directory matches “{wanted}”. Try a theme, a territory or a "
                "category, or /directory alone.",
                wanted=wanted,
            )
        else:
            text = ctx._(
                "The directory is empty so far. Fill your profile so that others find you: "
                "/profile organisation, /profile territory, /profile interests."
            )
        return Reply(text=text, ephemeral=True)
    pages = (len(listed) + PAGE_SIZE - 1) // PAGE_SIZE
    if not 1 <= page <= pages:
        raise PageOutOfRange(ctx.t, page=page, pages=pages)
    shown = listed[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    if wanted and (category := category_of_word(wanted)) is not None:
        title = ctx.t.ngettext(
            "**Directory — {what}: {n} member**",
            "**Directory — {what}: {n} members**",
            len(listed),
            what=category_label(ctx.t, category),
        )
    elif wanted:
        title = ctx.t.ngettext(
            "**Directory — {what}: {n} member**",
            "**Directory — {what}: {n} members**",
            len(listed),
            what=wanted,
        )
    else:
        title = ctx.t.ngettext(
            "**Directory: {n} member**", "**Directory: {n} members**", len(listed)
        )
    lines = [title, ""]
    lines.extend(member_card(ctx.t, e.member, e.profile, e.referent_for) for e in shown)
    if pages > 1:
        lines.append("")
        lines.append(ctx._("Page {page} of {pages}.", page=page, pages=pages))
        if page < pages:
            following = (
                f'/annuaire "{wanted}" --page {page + 1}'
                if wanted
                else f"/annuaire --page {page + 1}"
            )
            lines.append(ctx._("Next page: {command}", command=following))
    return Reply(text="\n".join(lines), ephemeral=True)
