"""/pepite (/highlight): remarkable messages and moments kept for the gazette, with consent.

Ways in:

- ``/pepite "text" [--auteur @name] [--themes "eau, mobilité"] [--session N] [--image URL]``: a
  typed text. A member records their own words; a coordinator may attribute words to someone
  else with ``--auteur`` (who is then asked for consent).
- ``/pepite --message N`` (a console message number, or a message link): points at a message the
  bot saw in a channel during the last ``[highlights] remember_hours`` hours. A coordinator
  records it at once; for a member it counts as one proposal, like a reaction.
- The reaction ``[highlights] reaction`` (📰 by default) on a message proposes it: it is recorded
  when a coordinator reacts, or when ``threshold`` distinct members did (3 by default).
- On Discord, the message context menu "Ajouter à la gazette" arrives as this command with the
  message's text, author and reference (``message_text``, ``message_author_id``, ``target_id``).

The same message is one highlight (unique platform, channel and message id): recording it again
adds themes, session and images to the existing one.

Consent: the author is asked by direct message (outbox key ``consent:<id>``) with the choices
yes / yes without my name / no / never ask me (actions ``consent:<id>:yes|anon|no|never``). Only
the author may answer; the answer and its time are stored; the author may change it at any time
(the same buttons, or ``/profil retirer N``), which also rebuilds the archived gazettes that
showed it. No answer means not published. Words recorded by their own author are consented to
by that very act. "Never ask me" lives in ``consent_preferences``: later highlights of that
member are not published and nobody asks.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, quote, urlsplit

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.context import Context
from bot.core import (
    Actor,
    Attachment,
    Choice,
    ChoiceStyle,
    CommandEvent,
    DirectTarget,
    MessageEvent,
    ReactionEvent,
    Reply,
    Role,
    UserError,
)
from bot.family import Host
from bot.i18n import N_, Translator, fold
from bot.registry import (
    Args,
    Option,
    OptionType,
    ReplyLike,
    autocompleter,
    command,
    on_choice,
)
from bot.storage.highlights import (
    PUBLISHABLE,
    Consent,
    ConsentPreference,
    Gazette,
    GazetteItem,
    GazetteStatus,
    Highlight,
    HighlightImage,
    HighlightSource,
    HighlightVote,
    RecentMessage,
)
from bot.storage.members import Member, find_member, member_by_identity, upsert_member
from commands.gazette.messages import excerpt, size_text
from digests.fetcher import Fetcher, FetchError, FetchPolicy
from digests.gazette import ImageProblem, ImageRejected, check_image

log = logging.getLogger(__name__)

GROUP = "pepite"
GROUP_ALIAS = "highlight"
GROUP_HELP = N_(
    "Keeps remarkable messages and moments for the gazette, with their author's consent."
)
MAX_THEMES = 6
MAX_THEME_LENGTH = 40
IMAGE_ACCEPT = "image/png, image/jpeg, image/gif, image/webp;q=0.9"
IMAGE_TIMEOUT_SECONDS = 15.0


# --- small helpers -----------------------------------------------------------------------------


def parse_themes(raw: str | None) -> list[str]:
    """``"eau, Mobilité ;#climat"`` -> ``["eau", "Mobilité", "climat"]`` (deduplicated)."""
    if not raw:
        return []
    themes: list[str] = []
    seen: set[str] = set()
    for part in re.split(r"[,;]", raw):
        theme = " ".join(part.strip().lstrip("#").split())[:MAX_THEME_LENGTH]
        if theme and fold(theme) not in seen:
            seen.add(fold(theme))
            themes.append(theme)
    return themes[:MAX_THEMES]


def merge_themes(old: Sequence[str], new: Sequence[str]) -> list[str]:
    merged = list(old)
    known = {fold(t) for t in old}
    for theme in new:
        if fold(theme) not in known:
            known.add(fold(theme))
            merged.append(theme)
    return merged[:MAX_THEMES]


_DIGITS = re.compile(r"^(?:n[°o]\s*|#)?(\d{1,20})$", re.IGNORECASE)


def parse_message_ref(raw: str) -> tuple[str, str | None] | None:
    """The message id named by ``raw`` and the link it came from, if it was one.

    ``12``, ``#12``, ``n°12`` (console numbers); a Discord message link
    (``.../channels/<guild>/<channel>/<message>``); a Rocket.Chat link (``...?msg=<id>``).
    """
    text = raw.strip()
    match = _DIGITS.match(text)
    if match:
        return match.group(1), None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    message = parse_qs(parts.query).get("msg")
    if message and message[0].strip():
        return message[0].strip(), text
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) >= 4 and segments[-4] == "channels" and segments[-1].isdigit():
        return segments[-1], text
    return None


def message_link(
    settings: Settings, platform: str, channel_id: str, channel_name: str, message_id: str
) -> str | None:
    """A link to a platform message, when the configuration says enough to build one."""
    if platform == "discord":
        guilds = (settings.discord or {}).get("guild_ids") or []
        if len(guilds) == 1:
            return f"https://discord.com/channels/{guilds[0]}/{channel_id}/{message_id}"
    if platform == "rocketchat":
        server = str((settings.rocketchat or {}).get("server_url") or "").rstrip("/")
        if server:
            return f"{server}/channel/{quote(channel_name)}?msg={quote(message_id)}"
    return None


def _is(member: Member | None, actor: Actor) -> bool:
    return member is not None and (member.platform, member.user_id) == (
        actor.platform,
        actor.user_id,
    )


def consent_label(t: Translator, consent: str) -> str:
    labels = {
        Consent.PENDING: N_("awaiting the author's answer"),
        Consent.YES: N_("published with the author's name"),
        Consent.ANON: N_("published without the author's name"),
        Consent.NO: N_("not published (the author said no)"),
        Consent.WITHDRAWN: N_("withdrawn by the author"),
        Consent.NEVER_ASK: N_("not published (the author asked never to be asked)"),
    }
    return t.gettext(labels.get(Consent(consent), N_("awaiting the author's answer")))


# --- recording ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Draft:
    """What is known about a highlight before it is stored."""

    platform: str
    quote: str
    author: Member
    said_at: datetime
    source: HighlightSource
    channel_id: str | None = None
    channel_name: str | None = None
    message_id: str | None = None
    link: str | None = None
    themes: list[str] = field(default_factory=list)
    session_id: int | None = None


def existing_highlight(
    db: Session, platform: str, channel_id: str | None, message_id: str | None
) -> Highlight | None:
    if message_id is None:
        return None
    query = select(Highlight).where(
        Highlight.platform == platform, Highlight.message_id == message_id
    )
    if channel_id is not None:
        query = query.where(Highlight.channel_id == channel_id)
    return db.scalars(query.limit(1)).first()


def store_highlight(
    db: Session, draft: Draft, recorded_by: Member, now: datetime
) -> tuple[Highlight, bool]:
    """Insert the highlight, or return the one already kept for that message (created False)."""
    found = existing_highlight(db, draft.platform, draft.channel_id, draft.message_id)
    if found is not None:
        return found, False
    row = Highlight(
        platform=draft.platform,
        channel_id=draft.channel_id,
        channel_name=draft.channel_name,
        message_id=draft.message_id,
        link=draft.link,
        quote=draft.quote,
        author_id=draft.author.id,
        author_name=draft.author.display_name,
        recorded_by_id=recorded_by.id,
        source=draft.source,
        themes=list(draft.themes),
        session_id=draft.session_id,
        said_at=draft.said_at,
        created_at=now,
        consent=Consent.PENDING,
    )
    try:
        with db.begin_nested():
            db.add(row)
    except IntegrityError:
        # Recorded at the same moment by someone else: that one is the highlight.
        found = existing_highlight(db, draft.platform, draft.channel_id, draft.message_id)
        if found is None:
            raise
        return found, False
    if draft.message_id is not None:
        db.execute(
            delete(HighlightVote).where(
                HighlightVote.platform == draft.platform,
                HighlightVote.channel_id == (draft.channel_id or ""),
                HighlightVote.message_id == draft.message_id,
            )
        )
    return row, True


def never_ask(db: Session, member_id: int) -> bool:
    preference = db.get(ConsentPreference, member_id)
    return preference is not None and preference.never_ask


def consent_request(t: Translator, highlight: Highlight) -> Reply:
    where = (
        t.gettext("in #{channel}", channel=highlight.channel_name)
        if highlight.channel_name
        else t.gettext("in the network")
    )
    text = "\n".join(
        [
            t.gettext(
                "Hello {name}! Your words {where} were chosen for the network's gazette "
                "(highlight {number}):",
                name=highlight.author_name,
                where=where,
                number=t.ref(highlight.id),
            ),
            "",
            f"« {excerpt(highlight.quote, 500)} »",
            "",
            t.gettext(
                "May the gazette publish them? Nothing is published without your answer, and "
                "you can change your mind at any time with /profil consentements."
            ),
        ]
    )
    action = f"consent:{highlight.id}"
    return Reply(
        text=text,
        choices=(
            Choice(t.gettext("Yes"), f"{action}:yes", ChoiceStyle.SUCCESS),
            Choice(t.gettext("Yes, without my name"), f"{action}:anon", ChoiceStyle.PRIMARY),
            Choice(t.gettext("No"), f"{action}:no", ChoiceStyle.DANGER),
            Choice(t.gettext("Never ask me"), f"{action}:never", ChoiceStyle.SECONDARY),
        ),
    )


def settle_consent(ctx: Context, highlight: Highlight, author: Member, recorder: Member) -> str:
    """Ask the author, or record what is already known. Returns a sentence for the recorder."""
    now = ctx.now()
    if author.id == recorder.id:
        highlight.consent = Consent.YES
        highlight.consent_at = now
        return ctx._(
            "As you recorded your own words, they may appear in the gazette with your name; "
            "change that at any time with /profil consentements."
        )
    if never_ask(ctx.db, author.id):
        highlight.consent = Consent.NEVER_ASK
        highlight.consent_at = now
        return ctx._(
            "{name} asked never to be asked: this highlight will not be published.",
            name=author.display_name,
        )
    reply = consent_request(ctx.translator_for(author), highlight)
    ctx.send_later(
        f"consent:{highlight.id}",
        reply,
        DirectTarget(platform=author.platform, user_id=author.user_id),
        now,
    )
    highlight.consent_asked_at = now
    return ctx._(
        "I asked {name} by direct message whether the gazette may publish it; nothing is "
        "published without their answer.",
        name=author.display_name,
    )


def record(ctx: Context, draft: Draft, recorder: Member) -> tuple[Highlight, bool, str]:
    """Store ``draft`` and settle consent. Returns (highlight, created, sentence for the actor)."""
    row, created = store_highlight(ctx.db, draft, recorder, ctx.now())
    if not created:
        changed = False
        themes = merge_themes(row.themes, draft.themes)
        if themes != list(row.themes):
            row.themes = themes
            changed = True
        if draft.session_id is not None and row.session_id != draft.session_id:
            row.session_id = draft.session_id
            changed = True
        note = (
            ctx._("I added the new details to it.")
            if changed
            else ctx._("Nothing new to add to it.")
        )
        return row, False, note
    return row, True, settle_consent(ctx, row, draft.author, recorder)


def recorded_text(ctx: Context, row: Highlight, created: bool, note: str) -> str:
    if created:
        head = ctx._("Highlight {number} recorded.", number=ctx.t.ref(row.id))
    else:
        head = ctx._("This message is already highlight {number}.", number=ctx.t.ref(row.id))
    return f"{head} {note}"


# --- proposals (reactions, and members pointing at messages) -----------------------------------


def add_vote(
    db: Session, platform: str, channel_id: str, message_id: str, member: Member, now: datetime
) -> int:
    """Record ``member``'s proposal of a message (idempotent); returns the distinct proposers."""
    vote = HighlightVote(
        platform=platform,
        channel_id=channel_id,
        message_id=message_id,
        member_id=member.id,
        created_at=now,
    )
    try:
        with db.begin_nested():
            db.add(vote)
    except IntegrityError:
        pass  # already proposed by this member
    count = db.scalar(
        select(func.count())
        .select_from(HighlightVote)
        .where(
            HighlightVote.platform == platform,
            HighlightVote.channel_id == channel_id,
            HighlightVote.message_id == message_id,
        )
    )
    return int(count or 0)


def remove_vote(
    db: Session, platform: str, channel_id: str, message_id: str, member: Member
) -> None:
    db.execute(
        delete(HighlightVote).where(
            HighlightVote.platform == platform,
            HighlightVote.channel_id == channel_id,
            HighlightVote.message_id == message_id,
            HighlightVote.member_id == member.id,
        )
    )


def recent_message(
    db: Session, platform: str, message_id: str, channel_id: str | None = None
) -> RecentMessage | None:
    query = select(RecentMessage).where(
        RecentMessage.platform == platform, RecentMessage.message_id == message_id
    )
    if channel_id is not None:
        query = query.where(RecentMessage.channel_id == channel_id)
    return db.scalars(query.order_by(RecentMessage.id.desc()).limit(1)).first()


def _reaction_matches(settings: Settings, emoji: str) -> bool:
    def clean(value: str) -> str:
        return value.replace("\ufe0f", "").strip()

    wanted = {clean(settings.highlights.reaction)} | {
        clean(alias) for alias in settings.highlights.reaction_aliases
    }
    return clean(emoji) in wanted


def _cannot_read(ctx: Context) -> str:
    text = ctx._(
        "I cannot read that message (the platform did not give me its text). Record it by "
        'typing it: /pepite "the words" --auteur @name.'
    )
    if ctx.actor.platform == "discord":
        text += " " + ctx._(
            "On Discord, the message's own menu also works: right-click it (or press and hold), "
            "then Apps › Ajouter à la gazette."
        )
    return text


async def on_reaction(ctx: Context) -> ReplyLike:
    """The listener for reactions: the gazette reaction proposes (or records) a message."""
    event = ctx.event
    if not isinstance(event, ReactionEvent) or not _reaction_matches(ctx.settings, event.emoji):
        return None
    if event.place.is_direct or event.message_author is None or event.message_author.is_bot:
        return None
    ref = event.ref
    if existing_highlight(ctx.db, ref.platform, ref.channel_id, ref.message_id) is not None:
        return None
    if not event.added:
        remove_vote(ctx.db, ref.platform, ref.channel_id, ref.message_id, ctx.member)
        return None
    text = (event.message_text or "").strip()
    said_at = event.at
    if not text:
        seen = recent_message(ctx.db, ref.platform, ref.message_id, ref.channel_id)
        if seen is not None:
            text, said_at = seen.text, seen.said_at
    if not event.actor.is_coordinator:
        count = add_vote(
            ctx.db, ref.platform, ref.channel_id, ref.message_id, ctx.member, ctx.now()
        )
        if count < ctx.settings.highlights.threshold:
            return None
    if not text:
        return Reply(text=_cannot_read(ctx), ephemeral=True)
    author = upsert_member(ctx.db, event.message_author, ctx.now())
    draft = Draft(
        platform=ref.platform,
        quote=_clip_quote(text, ctx.settings.highlights.max_quote_chars),
        author=author,
        said_at=said_at,
        source=HighlightSource.REACTION,
        channel_id=ref.channel_id,
        channel_name=event.place.name,
        message_id=ref.message_id,
        link=message_link(
            ctx.settings, ref.platform, ref.channel_id, event.place.name, ref.message_id
        ),
    )
    row, created, note = record(ctx, draft, ctx.member)
    return Reply(text=recorded_text(ctx, row, created, note), ephemeral=True)


def remember_message(ctx: Context) -> ReplyLike:
    """The listener for channel messages: remembered for ``remember_hours`` to be pointed at."""
    event = ctx.event
    hours = ctx.settings.highlights.remember_hours
    if not isinstance(event, MessageEvent) or hours <= 0 or event.place.is_direct:
        return None
    text = event.text.strip()
    if not text:
        return None
    now = ctx.now()
    ctx.db.execute(
        delete(RecentMessage).where(RecentMessage.said_at < now - timedelta(hours=hours))
    )
    row = RecentMessage(
        platform=event.ref.platform,
        channel_id=event.ref.channel_id,
        channel_name=event.place.name,
        message_id=event.ref.message_id,
        author_id=ctx.member.id,
        text=text[: ctx.settings.highlights.max_quote_chars * 2],
        said_at=event.at,
    )
    try:
        with ctx.db.begin_nested():
            ctx.db.add(row)
    except IntegrityError:
        pass  # the same message seen twice (a platform redelivery)
    return None


def setup(app: Host) -> None:
    app.listen("reaction", on_reaction)
    app.listen("message", remember_message)


def _clip_quote(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- images ------------------------------------------------------------------------------------


@dataclass(slots=True)
class ImageOutcome:
    kept: list[tuple[str, bytes, str | None, str | None]] = field(default_factory=list)
    """(media type, bytes, source URL, file name)"""
    problems: list[str] = field(default_factory=list)


def _image_problem(t: Translator, label: str, error: ImageRejected) -> str:
    if error.code is ImageProblem.TOO_LARGE:
        return t.gettext(
            "Image {image}: larger than {limit}, not kept.",
            image=label,
            limit=size_text(t, error.limit),
        )
    if error.code is ImageProblem.EMPTY:
        return t.gettext("Image {image}: empty, not kept.", image=label)
    return t.gettext("Image {image}: not a PNG, JPEG, GIF or WebP image, not kept.", image=label)


def _fetch_problem(t: Translator, url: str, error: FetchError, limit: int) -> str:
    if error.kind == "too_large":
        return t.gettext(
            "Image {image}: larger than {limit}, not kept.", image=url, limit=size_text(t, limit)
        )
    if error.kind in ("invalid_url", "scheme", "blocked_address"):
        return t.gettext("Image {image}: I may not download from this address.", image=url)
    reason = f"HTTP {error.http_status}" if error.http_status else error.kind
    return t.gettext(
        "Image {image}: could not be downloaded ({reason}), not kept.", image=url, reason=reason
    )


def check_attachments(
    t: Translator, attachments: Sequence[Attachment], max_bytes: int, outcome: ImageOutcome
) -> None:
    for attachment in attachments:
        try:
            media_type = check_image(
                attachment.data, declared=attachment.media_type, max_bytes=max_bytes
            )
        except ImageRejected as error:
            outcome.problems.append(_image_problem(t, attachment.filename, error))
            continue
        outcome.kept.append((media_type, attachment.data, None, attachment.filename[:200]))


async def fetch_images(
    t: Translator, urls: Sequence[str], settings: Settings, outcome: ImageOutcome
) -> None:
    """Download images through the project's fetcher, within the configured limits."""
    if not urls:
        return
    limit = settings.highlights.max_image_bytes
    policy = FetchPolicy(
        max_bytes=limit,
        total_timeout=IMAGE_TIMEOUT_SECONDS,
        read_timeout=IMAGE_TIMEOUT_SECONDS,
        allow_private_networks=settings.feeds.allow_private_networks,
        max_concurrency=4,
    )
    async with Fetcher(policy) as fetcher:
        for url in urls:
            try:
                result = await fetcher.fetch(url, accept=IMAGE_ACCEPT)
            except FetchError as error:
                outcome.problems.append(_fetch_problem(t, url, error, limit))
                continue
            try:
                media_type = check_image(
                    result.content, declared=result.content_type, max_bytes=limit
                )
            except ImageRejected as error:
                outcome.problems.append(_image_problem(t, url, error))
                continue
            outcome.kept.append((media_type, result.content, url[:2000], None))


def attach_images(row: Highlight, outcome: ImageOutcome, max_images: int) -> int:
    """Add the kept images to ``row`` up to ``max_images`` in all; returns how many were added."""
    known = {image.data for image in row.images}
    added = 0
    for media_type, data, url, filename in outcome.kept:
        if len(row.images) >= max_images:
            break
        if data in known:
            continue
        known.add(data)
        row.images.append(
            HighlightImage(
                position=len(row.images),
                media_type=media_type,
                data=data,
                source_url=url,
                filename=filename,
            )
        )
        added += 1
    return added


# --- the command -------------------------------------------------------------------------------


def _check_session(ctx: Context, session_id: int | None) -> int | None:
    if session_id is None:
        return None
    try:
        from bot.storage.sessions import SessionRow
    except ImportError:  # the sessions module is optional for highlights
        return session_id
    if ctx.db.get(SessionRow, session_id) is None:
        raise UserError(
            ctx._(
                "There is no session {number}. Type /sessions to see them.",
                number=ctx.t.ref(session_id),
            )
        )
    return session_id


@dataclass(frozen=True)
class MenuTarget:
    """The message a context menu ("Ajouter à la gazette") was opened on, as the platform gave it."""

    message_id: str
    text: str
    author_id: str
    author_name: str
    link: str | None
    said_at: datetime | None
    images: tuple[str, ...]


def _menu_target(ctx: Context) -> MenuTarget | None:
    """The target message when the command came from a message context menu, else None."""
    event = ctx.event
    if not isinstance(event, CommandEvent) or not event.options or event.ref is None:
        return None
    options = event.options
    if "message_text" not in options:
        return None
    said_at: datetime | None = None
    if options.get("message_at"):
        try:
            said_at = datetime.fromisoformat(str(options["message_at"]))
        except ValueError:
            said_at = None
        if said_at is not None and said_at.tzinfo is None:
            said_at = said_at.replace(tzinfo=UTC)
    raw_images = options.get("message_images") or ()
    images = (raw_images,) if isinstance(raw_images, str) else tuple(map(str, raw_images))
    return MenuTarget(
        message_id=str(options.get("target_id") or event.ref.message_id),
        text=str(options.get("message_text") or ""),
        author_id=str(options.get("message_author_id") or ""),
        author_name=str(options.get("message_author_name") or "").strip(),
        link=str(options["message_link"]) if options.get("message_link") else None,
        said_at=said_at,
        images=tuple(url for url in images if url.strip()),
    )


def _author_for_id(
    db: Session, platform: str, user_id: str, now: datetime, name: str = ""
) -> Member:
    """The member with this platform id; created (named ``name``, else by the id) when new.

    A known member's name is only updated from a real name, never replaced by the id.
    """
    found = member_by_identity(db, platform, user_id)
    if found is not None and not name:
        return found
    return upsert_member(db, Actor(platform, user_id, name or user_id), now)


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
    menu = _menu_target(ctx)
    draft: Draft
    author: Member
    is_message = False
    if menu is not None:
        if ctx.place.is_direct:
            raise UserError(
                ctx._(
                    "Highlights come from the network's channels: open this menu on a message "
                    "in a channel, not in a private conversation."
                )
            )
        if not menu.text.strip() or not menu.author_id:
            raise UserError(_cannot_read(ctx))
        author = _author_for_id(ctx.db, platform, menu.author_id, now, menu.author_name)
        draft = Draft(
            platform=platform,
            quote=_clip_quote(menu.text, settings.max_quote_chars),
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
            raise UserError(
                ctx._(
                    "Give either a message (--message) or a text, not both: the words and the "
                    "author of a message are the message's own."
                )
            )
        parsed = parse_message_ref(args["message"])
        if parsed is None:
            raise UserError(
                ctx._(
                    "“{value}” is neither a message number nor a message link.",
                    value=args["message"],
                )
            )
        message_id, given_link = parsed
        seen = recent_message(ctx.db, platform, message_id)
        if seen is None:
            raise UserError(
                ctx._(
                    "I cannot read message {message}: I only remember messages said in channels "
                    "during the last {hours} hours. React to it with {emoji}, or type its words: "
                    '/pepite "the words" --auteur @name.',
                    message=args["message"],
                    hours=settings.remember_hours,
                    emoji=settings.reaction,
                )
            )
        said_by = ctx.db.get(Member, seen.author_id)
        assert said_by is not None
        draft = Draft(
            platform=platform,
            quote=_clip_quote(seen.text, settings.max_quote_chars),
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
            raise UserError(
                ctx._(
                    "Give the words to keep, or a message with --message.\nUsage: {usage}",
                    usage=usage,
                )
            )
        if len(text) > settings.max_quote_chars:
            raise UserError(
                ctx._(
                    "The text is too long ({length} characters); keep it under {limit}.",
                    length=len(text),
                    limit=settings.max_quote_chars,
                )
            )
        author = ctx.member
        if args["auteur"]:
            if not ctx.actor.is_coordinator:
                raise UserError(
                    ctx._(
                        "Only coordinators may attribute words to someone else; record your own "
                        "words without --auteur."
                    )
                )
            found = find_member(ctx.db, platform, args["auteur"])
            if found is None:
                raise UserError(
                    ctx._(
                        "I do not know @{name}. They must have written in a channel I read.",
                        name=args["auteur"],
                    )
                )
            author = found
        draft = Draft(
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
    for row in rows:
        where = f" · #{row.channel_name}" if row.channel_name else ""
        lines.append(
            f"- {ctx.t.ref(row.id)} — « {excerpt(row.quote, 80)} » — {row.author_name}{where} "
            f"— {consent_label(ctx.t, row.consent)}"
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
    drafts = select(Gazette.id).where(Gazette.status == GazetteStatus.DRAFT)
    ctx.db.execute(
        delete(GazetteItem).where(
            GazetteItem.kind == "highlight",
            GazetteItem.ref_id == number,
            GazetteItem.gazette_id.in_(drafts),
        )
    )
    ctx.db.delete(row)
    ctx.db.flush()
    rebuilt = rebuild_after_change(ctx, number)
    text = ctx._("Highlight {number} deleted.", number=ctx.t.ref(number))
    if rebuilt:
        text += " " + rebuilt_text(ctx, rebuilt)
    return Reply(text=text, ephemeral=True)


def get_highlight(ctx: Context, number: int) -> Highlight:
    row = ctx.db.get(Highlight, number)
    if row is None:
        raise UserError(
            ctx._(
                "There is no highlight {number}. Type /pepite liste to see them.",
                number=ctx.t.ref(number),
            )
        )
    return row


# --- consent -----------------------------------------------------------------------------------


def rebuild_after_change(ctx: Context, highlight_id: int) -> list[int]:
    """Rebuild the archived gazettes that showed ``highlight_id``; returns their numbers."""
    from commands.gazette.publish import rebuild_archives_with

    return rebuild_archives_with(ctx, highlight_id)


def rebuilt_text(ctx: Context, numbers: Sequence[int]) -> str:
    return ctx.t.ngettext(
        "The archived gazette {numbers} was rebuilt accordingly.",
        "The archived gazettes {numbers} were rebuilt accordingly.",
        len(numbers),
        numbers=", ".join(ctx.t.ref(n) for n in numbers),
    )


ANSWERS = {"yes": Consent.YES, "anon": Consent.ANON, "no": Consent.NO}


def set_never_ask(ctx: Context, member: Member, value: bool) -> int:
    """Store the preference; with True, pending highlights of ``member`` become not published.

    Returns how many pending highlights changed.
    """
    now = ctx.now()
    preference = ctx.db.get(ConsentPreference, member.id)
    if preference is None:
        preference = ConsentPreference(member_id=member.id, never_ask=value, updated_at=now)
        ctx.db.add(preference)
    else:
        preference.never_ask = value
        preference.updated_at = now
    if not value:
        return 0
    pending = ctx.db.scalars(
        select(Highlight).where(
            Highlight.author_id == member.id, Highlight.consent == Consent.PENDING
        )
    ).all()
    for row in pending:
        row.consent = Consent.NEVER_ASK
        row.consent_at = now
    return len(pending)


def change_consent(ctx: Context, row: Highlight, answer: Consent) -> list[int]:
    """Apply an answer of the author; rebuilds archives when what they show changes."""
    before = row.consent
    row.consent = answer
    row.consent_at = ctx.now()
    ctx.db.flush()
    if before in PUBLISHABLE and before != answer:
        return rebuild_after_change(ctx, row.id)
    return []


@on_choice("consent", r"(?P<id>\d{1,9}):(?P<answer>" + "|".join([*ANSWERS, "never"]) + ")")
def answer_consent(ctx: Context, match: re.Match[str]) -> Reply:
    answer = match["answer"]
    row = ctx.db.get(Highlight, int(match["id"]))
    if row is None:
        raise UserError(ctx._("This highlight was deleted: there is nothing left to decide."))
    author = ctx.db.get(Member, row.author_id) if row.author_id is not None else None
    if not _is(author, ctx.actor):
        raise UserError(
            ctx._(
                "Only {name} can answer this question: it is about their own words.",
                name=row.author_name,
            )
        )
    assert author is not None
    number = ctx.t.ref(row.id)
    if answer == "never":
        rebuilt = change_consent(ctx, row, Consent.NEVER_ASK)
        set_never_ask(ctx, author, True)
        text = ctx._(
            "Understood: highlight {number} will not be published and I will not ask you again. "
            "Type /profil redemander if you change your mind.",
            number=number,
        )
    else:
        answer = ANSWERS[answer]
        rebuilt = change_consent(ctx, row, answer)
        text = {
            Consent.YES: ctx._(
                "Thank you! Highlight {number} may appear in the gazette with your name.",
                number=number,
            ),
            Consent.ANON: ctx._(
                "Thank you! Highlight {number} may appear in the gazette, without your name.",
                number=number,
            ),
            Consent.NO: ctx._(
                "Understood: highlight {number} will not be published.", number=number
            ),
        }[answer]
    text += "\n" + ctx._(
        "You can change your answer at any time with these buttons or with /profil consentements."
    )
    if rebuilt:
        text += "\n" + rebuilt_text(ctx, rebuilt)
    return Reply(text=text)


def my_consents(ctx: Context) -> Reply:
    """``/profil consentements``: the actor's highlights and their answers."""
    rows = ctx.db.scalars(
        select(Highlight).where(Highlight.author_id == ctx.member.id).order_by(Highlight.id)
    ).all()
    lines = [ctx._("**Your words kept for the gazette**"), ""]
    if not rows:
        lines.append(ctx._("None of your words was kept for the gazette."))
    for row in rows:
        when = ctx.t.date(row.consent_at) if row.consent_at else None
        status = consent_label(ctx.t, row.consent)
        if when:
            status = ctx._("{status} (since {date})", status=status, date=when)
        lines.append(f"- {ctx.t.ref(row.id)} — « {excerpt(row.quote, 80)} » — {status}")
    lines.append("")
    if never_ask(ctx.db, ctx.member.id):
        lines.append(
            ctx._(
                "You asked never to be asked: your new highlights are not published. "
                "/profil redemander undoes it."
            )
        )
    else:
        lines.append(
            ctx._(
                "Withdraw one with /profil retirer N; /profil ne-plus-demander stops the "
                "questions (and the publications)."
            )
        )
    return Reply(text="\n".join(lines), ephemeral=True)


def withdraw(ctx: Context, number: int) -> Reply:
    """``/profil retirer N``: the author withdraws highlight N."""
    row = ctx.db.get(Highlight, number)
    if row is None or row.author_id != ctx.member.id:
        raise UserError(
            ctx._(
                "You have no highlight {number}. Type /profil consentements to see yours.",
                number=ctx.t.ref(number),
            )
        )
    rebuilt = change_consent(ctx, row, Consent.WITHDRAWN)
    lines = [
        ctx._(
            "Highlight {number} is withdrawn: it will not appear in any later gazette.",
            number=ctx.t.ref(row.id),
        )
    ]
    if rebuilt:
        lines.append(rebuilt_text(ctx, rebuilt))
        lines.append(
            ctx._(
                "Copies already downloaded by readers cannot be recalled, but the archive no longer shows it."
            )
        )
    return Reply(text="\n".join(lines), ephemeral=True)


def stop_asking(ctx: Context) -> Reply:
    changed = set_never_ask(ctx, ctx.member, True)
    text = ctx._(
        "Understood: I will not ask you again, and your new highlights will not be published."
    )
    if changed:
        text += " " + ctx.t.ngettext(
            "{n} highlight awaiting your answer will not be published either.",
            "{n} highlights awaiting your answer will not be published either.",
            changed,
        )
    text += " " + ctx._("Your earlier answers stand; /profil retirer N withdraws one.")
    return Reply(text=text, ephemeral=True)


def ask_again(ctx: Context) -> Reply:
    set_never_ask(ctx, ctx.member, False)
    rows = ctx.db.scalars(
        select(Highlight).where(
            Highlight.author_id == ctx.member.id, Highlight.consent == Consent.NEVER_ASK
        )
    ).all()
    now = ctx.now()
    for row in rows:
        row.consent = Consent.PENDING
        row.consent_at = None
        row.consent_asked_at = now
        ctx.send_later(
            f"consent:{row.id}:again:{int(now.timestamp())}",
            consent_request(ctx.t, row),
            DirectTarget(platform=ctx.member.platform, user_id=ctx.member.user_id),
            now,
        )
    text = ctx._("Done: I will ask you again before publishing your words.")
    if rows:
        text += " " + ctx.t.ngettext(
            "I am sending you the question for {n} highlight.",
            "I am sending you the questions for {n} highlights.",
            len(rows),
        )
    return Reply(text=text, ephemeral=True)


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
