"""/pepite (/highlight): remarkable messages and moments kept for the gazette, with consent.

Ways in:

- ``/pepite "text" [--auteur @name] [--themes "eau, mobilité"] [--session N] [--image URL]``: a
  typed text. A member records their own words; a coordinator may attribute words to someone
  else with ``--auteur`` (who is then asked for consent).
- ``/pepite --message N`` (a console message number, or a message link): points at a message the
  bot saw in a channel during the last ``[highlights] remember_hours`` hours. A coordinator
  records it at once; for a member it counts as one proposal, like a reaction.
- The reaction ``[highlights] reaction`` (📰 by default) on a message proposes it
  (:mod:`commands.gazette.listeners`).
- On Discord, the message context menu "Ajouter à la gazette" arrives as this command with the
  message's text, author and reference (``message_text``, ``message_author_id``, ``target_id``).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.context import Context
from bot.core import Actor, CommandEvent, Reply, Role
from bot.i18n import N_, Translator, fold
from bot.registry import Args, Option, OptionType, autocompleter, command
from bot.storage.highlights import Consent, Highlight, HighlightSource
from bot.storage.members import Member, find_member, member_by_identity
from commands.gazette.consent import published_highlight_ids
from commands.gazette.errors import (
    AttributionReserved,
    CannotReadMessage,
    MenuInPrivate,
    MessageAndText,
    MessageNotRemembered,
    NoSuchHighlight,
    NoSuchSession,
    NotAMessageReference,
    NothingToKeep,
    QuoteTooLong,
    UnknownAuthor,
)
from commands.gazette.highlights import (
    HighlightDraft,
    add_vote,
    author_for_id,
    clip_quote,
    existing_highlight,
    message_link,
    recent_message,
    record,
    remove_highlight,
)
from commands.gazette.images import ImageOutcome, attach_images, check_attachments, fetch_images
from commands.gazette.messages import consent_label, excerpt, rebuilt_text, recorded_text
from commands.gazette.parsing import menu_target, parse_message_ref, parse_themes

GROUP = "pepite"
GROUP_ALIAS = "highlight"
GROUP_HELP = N_(
    "Keeps remarkable messages and moments for the gazette, with their author's consent."
)


def _check_session(ctx: Context, session_id: int | None) -> int | None:
    if session_id is None:
        return None
    try:
        from bot.storage.sessions import SessionRow
    except ImportError:  # the sessions module is optional for highlights
        return session_id
    if ctx.db.get(SessionRow, session_id) is None:
        raise NoSuchSession(ctx.t, session_id)
    return session_id


@command(
    "ajouter",
    "add",
    N_(
        "Records a highlight for the gazette: a text, or a message given by its number or its link."
    ),
    options=[
        Option(
            "texte",
            "text",
            N_("The words to keep (leave out when you give --message)."),
            type=OptionType.TEXT,
            positional=True,
        ),
        Option(
            "message",
            "message",
            N_("The message to keep: its number on the console, or its link."),
            type=OptionType.STRING,
        ),
        Option(
            "auteur",
            "author",
            N_("Who said these words (coordinators only; default: you)."),
            type=OptionType.USER,
        ),
        Option(
            "themes",
            "themes",
            N_('Themes separated by commas, for example "eau, mobilité".'),
            type=OptionType.STRING,
        ),
        Option(
            "session",
            "session",
            N_("The number of the session it relates to."),
            type=OptionType.INTEGER,
            autocomplete="session",
        ),
        Option(
            "image",
            "image",
            N_("The address of an image to add (PNG, JPEG, GIF or WebP)."),
            type=OptionType.STRING,
        ),
    ],
    group=GROUP,
    group_alias=GROUP_ALIAS,
    group_help=GROUP_HELP,
    default=True,
    examples=(
        '/pepite "La fresque du climat a réuni 40 élus !" --themes "climat, élus"',
        "/pepite --message 12 --session 3",
        '/pepite "On a planté 300 arbres" --auteur @alice --image https://exemple.org/arbres.jpg',
    ),
)
async def add_highlight(ctx: Context, args: Args) -> Reply:
    settings = ctx.settings.highlights
    themes = parse_themes(args["themes"])
    session_id = _check_session(ctx, args["session"])
    platform = ctx.actor.platform
    now = ctx.now()
    menu = menu_target(ctx)
    draft: HighlightDraft
    author: Member
    is_message = False
    if menu is not None:
        if ctx.place.is_direct:
            raise MenuInPrivate(ctx.t)
        if not menu.text.strip() or not menu.author_id:
            raise CannotReadMessage(ctx.t, ctx.actor.platform)
        author = author_for_id(ctx.db, platform, menu.author_id, now, menu.author_name)
        draft = HighlightDraft(
            platform=platform,
            quote=clip_quote(menu.text, settings.max_quote_chars),
            author=author,
            said_at=menu.said_at or now,
            source=HighlightSource.MENU,
            channel_id=ctx.place.channel_id,
            channel_name=ctx.place.name,
            message_id=menu.message_id,
            link=menu.link
            or message_link(
                ctx.settings, platform, ctx.place.channel_id, ctx.place.name, menu.message_id
            ),
            themes=themes,
            session_id=session_id,
        )
        is_message = True
    elif args["message"]:
        if args["texte"] or args["auteur"]:
            raise MessageAndText(ctx.t)
        parsed = parse_message_ref(args["message"])
        if parsed is None:
            raise NotAMessageReference(ctx.t, args["message"])
        message_id, given_link = parsed
        seen = recent_message(ctx.db, platform, message_id)
        if seen is None:
            raise MessageNotRemembered(
                ctx.t, args["message"], settings.remember_hours, settings.reaction
            )
        said_by = ctx.db.get(Member, seen.author_id)
        assert said_by is not None
        draft = HighlightDraft(
            platform=platform,
            quote=clip_quote(seen.text, settings.max_quote_chars),
            author=said_by,
            said_at=seen.said_at,
            source=HighlightSource.COMMAND,
            channel_id=seen.channel_id,
            channel_name=seen.channel_name,
            message_id=seen.message_id,
            link=given_link
            or message_link(
                ctx.settings, platform, seen.channel_id, seen.channel_name, seen.message_id
            ),
            themes=themes,
            session_id=session_id,
        )
        is_message = True
    else:
        text = (args["texte"] or "").strip()
        if not text:
            spec = ctx.registry.find(GROUP)
            usage = spec.usage(ctx.t) if spec else "/pepite"
            raise NothingToKeep(ctx.t, usage)
        if len(text) > settings.max_quote_chars:
            raise QuoteTooLong(ctx.t, len(text), settings.max_quote_chars)
        author = ctx.member
        if args["auteur"]:
            if not ctx.actor.is_coordinator:
                raise AttributionReserved(ctx.t)
            found = find_member(ctx.db, platform, args["auteur"])
            if found is None:
                raise UnknownAuthor(ctx.t, args["auteur"])
            author = found
        draft = HighlightDraft(
            platform=platform,
            quote=text,
            author=author,
            said_at=now,
            source=HighlightSource.COMMAND,
            channel_id=None if ctx.place.is_direct else ctx.place.channel_id,
            channel_name=None if ctx.place.is_direct else ctx.place.name,
            themes=themes,
            session_id=session_id,
        )

    if is_message and not ctx.actor.is_coordinator:
        existing = existing_highlight(ctx.db, platform, draft.channel_id, draft.message_id)
        if existing is not None:
            return Reply(
                text=ctx._(
                    "This message is already highlight {number}.", number=ctx.t.ref(existing.id)
                ),
                ephemeral=True,
            )
        assert draft.channel_id is not None and draft.message_id is not None
        count = add_vote(ctx.db, platform, draft.channel_id, draft.message_id, ctx.member, now)
        if count < settings.threshold:
            return Reply(
                text=ctx._(
                    "Thank you, your proposal is noted ({count} of {threshold}): the message is "
                    "kept when {threshold} members propose it, or a coordinator does.",
                    count=count,
                    threshold=settings.threshold,
                ),
                ephemeral=True,
            )

    images = ImageOutcome()
    event = ctx.event
    if isinstance(event, CommandEvent) and event.attachments:
        check_attachments(ctx.t, event.attachments, settings.max_image_bytes, images)
    if menu is not None and menu.images:
        urls = list(menu.images[: settings.max_images])
    else:
        urls = [args["image"].strip()] if args["image"] and args["image"].strip() else []
    if urls:
        # Release the database (SQLite holds its write lock for the whole transaction) while
        # the images download; what was written so far is only the member's own row.
        ctx.db.commit()
        await fetch_images(ctx.t, urls, ctx.settings, images)

    row, created, note = record(ctx, draft, ctx.member)
    lines = [recorded_text(ctx, row, created, note)]
    if images.kept or images.problems:
        added = attach_images(row, images, settings.max_images)
        if added:
            lines.append(ctx.t.ngettext("{n} image kept.", "{n} images kept.", added))
        if added < len(images.kept):
            lines.append(
                ctx._(
                    "A highlight keeps at most {limit} images; the others were left out.",
                    limit=settings.max_images,
                )
            )
        lines.extend(images.problems)
    return Reply(text="\n".join(lines), ephemeral=True)


@command(
    "liste",
    "list",
    N_("Lists the latest highlights and where their consent stands."),
    options=[
        Option(
            "attente",
            "pending",
            N_("Only the highlights still awaiting their author's answer."),
            type=OptionType.FLAG,
        )
    ],
    permission=Role.COORDINATOR,
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=("/pepite liste", "/pepite liste --attente"),
)
def list_highlights(ctx: Context, args: Args) -> Reply:
    query = select(Highlight).order_by(Highlight.id.desc()).limit(30)
    if args["attente"]:
        query = query.where(Highlight.consent == Consent.PENDING)
    rows = ctx.db.scalars(query).all()
    if not rows:
        return Reply(text=ctx._("No highlight yet."), ephemeral=True)
    lines = [ctx._("**Latest highlights**"), ""]
    shown = published_highlight_ids(ctx.db, [row.id for row in rows])
    for row in rows:
        where = f" · #{row.channel_name}" if row.channel_name else ""
        status = consent_label(ctx.t, row.consent, published=row.id in shown)
        lines.append(
            f"- {ctx.t.ref(row.id)} — « {excerpt(row.quote, 80)} » — {row.author_name}{where} "
            f"— {status}"
        )
    return Reply(text="\n".join(lines), ephemeral=True)


@command(
    "supprimer",
    "delete",
    N_("Deletes a highlight (and rebuilds the archived gazettes that showed it)."),
    options=[
        Option(
            "numero",
            "number",
            N_("The number of the highlight."),
            type=OptionType.INTEGER,
            positional=True,
            required=True,
            autocomplete="highlight",
        )
    ],
    permission=Role.COORDINATOR,
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=("/pepite supprimer 4",),
)
def delete_highlight(ctx: Context, args: Args) -> Reply:
    row = get_highlight(ctx, args["numero"])
    number = row.id
    rebuilt = remove_highlight(ctx, row)
    text = ctx._("Highlight {number} deleted.", number=ctx.t.ref(number))
    if rebuilt:
        text += " " + rebuilt_text(ctx, rebuilt)
    return Reply(text=text, ephemeral=True)


def get_highlight(ctx: Context, number: int) -> Highlight:
    row = ctx.db.get(Highlight, number)
    if row is None:
        raise NoSuchHighlight(ctx.t, number)
    return row


@autocompleter("highlight")
def suggest_highlights(
    db: Session, typed: str, actor: Actor, t: Translator
) -> list[tuple[str, str]]:
    """Recent highlights for coordinators; the actor's own for members (``/profil retirer``)."""
    query = select(Highlight.id, Highlight.quote, Highlight.author_name).where(
        Highlight.platform == actor.platform
    )
    if not actor.is_coordinator:
        member = member_by_identity(db, actor.platform, actor.user_id)
        if member is None:
            return []
        query = query.where(Highlight.author_id == member.id)
    wanted = fold(typed.strip().lstrip("#"))
    suggestions: list[tuple[str, str]] = []
    for number, quote_text, author in db.execute(query.order_by(Highlight.id.desc()).limit(200)):
        label = f"{t.ref(number)} · {author} · {excerpt(quote_text, 60)}"
        if not wanted or wanted in fold(label):
            suggestions.append((label, str(number)))
    return suggestions[:25]
