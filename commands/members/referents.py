"""/referent (coordinators name a member referent for a theme) and what a referent is told.

A referent appears in the directory with their themes and is told privately, at most once a
day and in one message, of what is new on their themes: links members shared under that theme,
highlights filed under it once their author agreed to publication, ideas proposed under it
(``/idee "…" --theme …``) and members who added it to their interests (profiles visible to
members). Outbox key: ``referent:<member>:<local day>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.context import Context
from bot.core import DirectTarget, Reply, Role
from bot.i18n import N_, Translator, Translators
from bot.outbox import Outgoing, enqueue_many
from bot.registry import Args, Option, OptionType, command
from bot.storage.highlights import Consent, Highlight
from bot.storage.ideas import Idea
from bot.storage.members import Member, find_member
from bot.storage.profiles import (
    VISIBLE_TO_MEMBERS,
    MemberProfile,
    Referent,
    match_theme,
    nearest_theme,
    network_themes,
    theme_key,
)
from bot.storage.veille import ENTRY_SHARE, FeedEntry
from commands.members.errors import (
    AlreadyReferent,
    NotReferent,
    UnknownMember,
    UnknownReferentTheme,
    UnknownReferentThemeNoSuggestion,
)
from commands.members.messages import short

WORK_NAME = "referents"
DIGEST_EVERY = timedelta(days=1)
MAX_ITEMS = 10
"""News items per theme in one message (the rest are counted)."""


def _read_theme(ctx: Context, text: str) -> str:
    themes = network_themes(ctx.db)
    cleaned = " ".join(text.split())
    if not themes:
        return cleaned
    matched = match_theme(cleaned, themes)
    if matched is not None:
        return matched
    nearest = nearest_theme(cleaned, themes)
    listed = ", ".join(themes[:30])
    if nearest is None:
        raise UnknownReferentThemeNoSuggestion(ctx.t, theme=cleaned, themes=listed)
    raise UnknownReferentTheme(ctx.t, theme=cleaned, nearest=nearest, themes=listed)


def _member(ctx: Context, name: str) -> Member:
    member = find_member(ctx.db, ctx.actor.platform, name)
    if member is None:
        raise UnknownMember(ctx.t, name=name.lstrip("@"))
    return member


_OPTIONS = (
    Option(
        "theme",
        "theme",
        N_("One of the network's themes, for example “mobilité”."),
        positional=True,
        required=True,
    ),
    Option(
        "membre",
        "member",
        N_("The member, for example @alice."),
        type=OptionType.USER,
        positional=True,
        required=True,
    ),
)


@command(
    "ajouter",
    "add",
    N_("Names a member referent for a theme: they are told of its news once a day."),
    options=_OPTIONS,
    permission=Role.COORDINATOR,
    group="referent",
    group_alias="referent",
    group_help=N_("The referents of the network's themes."),
    examples=('/referent ajouter "mobilité" @alice',),
)
def add_referent(ctx: Context, args: Args) -> Reply:
    theme = _read_theme(ctx, args["theme"])
    member = _member(ctx, args["membre"])
    key = theme_key(theme)
    exists = ctx.db.scalars(
        select(Referent).where(Referent.theme_key == key, Referent.member_id == member.id)
    ).first()
    if exists is not None:
        raise AlreadyReferent(ctx.t, name=member.display_name, theme=exists.theme)
    now = ctx.now()
    ctx.db.add(
        Referent(
            theme=theme,
            theme_key=key,
            member_id=member.id,
            named_by=ctx.member.id,
            created_at=now,
            notified_through=now,
        )
    )
    ctx.changed.add(WORK_NAME)
    t = ctx.translator_for(member)
    ctx.send_later(
        f"referent:{member.id}:named:{key}",
        Reply(
            text=t.gettext(
                "You are now referent for “{theme}” in the network: you appear in the directory "
                "for it, and once a day at most I will tell you what is new on it.",
                theme=theme,
            )
        ),
        DirectTarget(member.platform, member.user_id),
        now,
    )
    return Reply(
        text=ctx._(
            "Done: {name} is referent for “{theme}”.", name=member.display_name, theme=theme
        ),
        ephemeral=True,
    )


@command(
    "retirer",
    "remove",
    N_("Removes a member from the referents of a theme."),
    options=_OPTIONS,
    permission=Role.COORDINATOR,
    group="referent",
    group_alias="referent",
    examples=('/referent retirer "mobilité" @alice',),
)
def remove_referent(ctx: Context, args: Args) -> Reply:
    member = _member(ctx, args["membre"])
    text = " ".join(args["theme"].split())
    row = ctx.db.scalars(
        select(Referent).where(
            Referent.theme_key == theme_key(text), Referent.member_id == member.id
        )
    ).first()
    if row is None:
        raise NotReferent(ctx.t, name=member.display_name, theme=text)
    ctx.db.delete(row)
    ctx.changed.add(WORK_NAME)
    return Reply(
        text=ctx._(
            "Done: {name} is no longer referent for “{theme}”.",
            name=member.display_name,
            theme=row.theme,
        ),
        ephemeral=True,
    )


@command(
    "liste",
    "list",
    N_("Lists the referents of each theme."),
    default=True,
    group="referent",
    group_alias="referent",
    examples=("/referent",),
)
def list_referents(ctx: Context, args: Args) -> Reply:
    rows = ctx.db.execute(
        select(Referent.theme, Referent.theme_key, Member.display_name)
        .join(Member, Member.id == Referent.member_id)
        .where(Member.platform == ctx.actor.platform)
        .order_by(Referent.theme_key, Member.display_name)
    ).all()
    if not rows:
        return Reply(text=ctx._("No referent is named yet."), ephemeral=True)
    by_theme: dict[str, tuple[str, list[str]]] = {}
    for theme, key, name in rows:
        by_theme.setdefault(key, (theme, []))[1].append(name)
    lines = [ctx._("**Referents**")]
    lines.extend(
        ctx._("- {theme}: {names}", theme=theme, names=", ".join(names))
        for theme, names in by_theme.values()
    )
    return Reply(text="\n".join(lines), ephemeral=True)


# --- the daily news ------------------------------------------------------------------------------


@dataclass
class ThemeNews:
    theme: str
    shares: list[str] = field(default_factory=list)
    highlights: list[str] = field(default_factory=list)
    ideas: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.shares or self.highlights or self.ideas or self.members)


def theme_news(
    db: Session, t: Translator, referent: Member, rows: Sequence[Referent], now: datetime
) -> list[ThemeNews]:
    """What is new on each of ``rows``' themes since it was last told (up to ``now``)."""
    since = min(row.notified_through or row.created_at for row in rows)
    shares = db.execute(
        select(FeedEntry, Member.display_name)
        .outerjoin(Member, Member.id == FeedEntry.shared_by)
        .where(
            FeedEntry.kind == ENTRY_SHARE,
            FeedEntry.platform == referent.platform,
            FeedEntry.theme.is_not(None),
            FeedEntry.created_at > since,
            FeedEntry.created_at <= now,
        )
        .order_by(FeedEntry.created_at)
    ).all()
    highlights = db.scalars(
        select(Highlight)
        .where(
            Highlight.platform == referent.platform,
            Highlight.consent.in_((Consent.YES, Consent.ANON)),
            Highlight.consent_at > since,
            Highlight.consent_at <= now,
        )
        .order_by(Highlight.consent_at)
    ).all()
    ideas = db.execute(
        select(Idea, Member.display_name)
        .outerjoin(Member, Member.id == Idea.author_id)
        .where(
            Idea.platform == referent.platform,
            Idea.theme.is_not(None),
            Idea.author_id != referent.id,
            Idea.created_at > since,
            Idea.created_at <= now,
        )
        .order_by(Idea.created_at)
    ).all()
    profiles = db.execute(
        select(MemberProfile, Member)
        .join(Member, Member.id == MemberProfile.member_id)
        .where(
            Member.platform == referent.platform,
            Member.id != referent.id,
            MemberProfile.visibility == VISIBLE_TO_MEMBERS,
            MemberProfile.updated_at > since,
            MemberProfile.updated_at <= now,
        )
        .order_by(Member.display_name)
    ).all()
    found = []
    for row in rows:
        start = row.notified_through or row.created_at
        news = ThemeNews(row.theme)
        for entry, name in shares:
            if entry.created_at > start and entry.theme and theme_key(entry.theme) == row.theme_key:
                label = entry.title or entry.link or ""
                line = f"{label} — {entry.link}" if entry.link and entry.link != label else label
                if name and entry.shared_by != referent.id:
                    line = t.gettext("{item} (shared by {name})", item=line, name=name)
                if entry.shared_by != referent.id:
                    news.shares.append(line)
        for highlight in highlights:
            if highlight.consent_at is None or highlight.consent_at <= start:
                continue
            if row.theme_key in {theme_key(theme) for theme in highlight.themes or ()}:
                quote = f"« {short(highlight.quote, 200)} »"
                if highlight.consent == Consent.YES:
                    quote = f"{quote} — {highlight.author_name}"
                news.highlights.append(quote)
        for idea, author in ideas:
            if idea.created_at > start and idea.theme and theme_key(idea.theme) == row.theme_key:
                news.ideas.append(
                    t.gettext(
                        "{ref} {text} (proposed by {name}; /idea support {n})",
                        ref=t.ref(idea.id),
                        text=short(idea.text, 200),
                        name=author or "?",
                        n=idea.id,
                    )
                )
        for profile, member in profiles:
            if profile.updated_at > start and row.theme_key in {
                theme_key(theme) for theme in profile.interests or ()
            }:
                details = " · ".join(v for v in (profile.organisation, profile.territory) if v)
                news.members.append(
                    f"{member.display_name} ({details})" if details else member.display_name
                )
        if news:
            found.append(news)
    return found


def news_reply(t: Translator, news: Sequence[ThemeNews]) -> Reply:
    lines = [t.gettext("📌 What is new on the themes you are referent for:")]
    for item in news:
        lines.append("")
        lines.append(f"**{item.theme}**")
        for label, entries in (
            (N_("Shared links:"), item.shares),
            (N_("Highlights:"), item.highlights),
            (N_("Ideas:"), item.ideas),
            (N_("Members who work on it:"), item.members),
        ):
            if not entries:
                continue
            lines.append(t.gettext(label))
            lines.extend(f"- {entry}" for entry in entries[:MAX_ITEMS])
            if len(entries) > MAX_ITEMS:
                lines.append(
                    t.ngettext("… and {n} more.", "… and {n} more.", len(entries) - MAX_ITEMS)
                )
    lines.append("")
    lines.append(t.gettext("Members interested in a theme: /directory followed by the theme."))
    return Reply(text="\n".join(lines))


def tell_referents(
    db: Session, now: datetime, translators: Translators, network_locale: str
) -> bool:
    """Write each referent's daily message when a day passed since their last one and there is
    news; True when outbox rows were written."""
    due = db.scalars(select(Referent).where(Referent.notified_through <= now - DIGEST_EVERY)).all()
    by_member: dict[int, list[Referent]] = {}
    for row in due:
        by_member.setdefault(row.member_id, []).append(row)
    outgoing = []
    for member_id, rows in by_member.items():
        member = db.get(Member, member_id)
        if member is None:
            continue
        t = translators.get(member.locale, network_locale)
        news = theme_news(db, t, member, rows, now)
        for row in rows:
            row.notified_through = now
        if not news:
            continue
        day = now.astimezone(t.tz).date().isoformat()
        outgoing.append(
            Outgoing(
                f"referent:{member_id}:{day}",
                news_reply(t, news),
                DirectTarget(member.platform, member.user_id),
                now,
            )
        )
    enqueue_many(db, outgoing, now)
    db.flush()
    return bool(outgoing)
