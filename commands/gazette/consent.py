"""Consent: asking the author, their answers and withdrawals, the archives rebuilt after them.

The author is asked by direct message (outbox key ``consent:<id>``) with the choices
yes / yes without my name / no / never ask me (actions ``consent:<id>:yes|anon|no|never``). Only
the author may answer; the answer and its time are stored; the author may change it at any time
(the same buttons, or ``/profil retirer N``), which also rebuilds the archived gazettes that
showed it. No answer means not published. Words recorded by their own author are consented to
by that very act. "Never ask me" lives in ``consent_preferences``: later highlights of that
member are not published and nobody asks.

The ``/profil`` commands about consent (:mod:`commands.profile`) call the functions at the end.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.context import Context
from bot.core import Actor, Choice, ChoiceStyle, DirectTarget, Reply
from bot.i18n import Translator
from bot.registry import on_choice
from bot.storage.highlights import (
    PUBLISHABLE,
    Consent,
    ConsentPreference,
    Gazette,
    GazetteItem,
    GazetteStatus,
    Highlight,
    ItemKind,
)
from bot.storage.members import Member
from commands.gazette.content import proper_name
from commands.gazette.coordination import tell_coordinators
from commands.gazette.errors import HighlightDeleted, NotTheAuthor, NotYourHighlight
from commands.gazette.messages import consent_label, excerpt, rebuilt_text
from commands.gazette.publish import rebuild_archives_with

ANSWERS = {"yes": Consent.YES, "anon": Consent.ANON, "no": Consent.NO}


def _is(member: Member | None, actor: Actor) -> bool:
    return member is not None and (member.platform, member.user_id) == (
        actor.platform,
        actor.user_id,
    )


def published_highlight_ids(db: Session, ids: Sequence[int]) -> set[int]:
    """Which of these highlights a published gazette shows (items not dropped)."""
    if not ids:
        return set()
    return set(
        db.scalars(
            select(GazetteItem.ref_id)
            .join(Gazette, Gazette.id == GazetteItem.gazette_id)
            .where(
                Gazette.status == GazetteStatus.PUBLISHED,
                GazetteItem.kind == ItemKind.HIGHLIGHT,
                GazetteItem.dropped.is_(False),
                GazetteItem.ref_id.in_(list(ids)),
            )
        ).all()
    )


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
                "you can change your mind at any time with /profile consents."
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
            "change that at any time with /profile consents."
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


def rebuild_after_change(ctx: Context, highlight_id: int) -> list[int]:
    """Rebuild the archived gazettes that showed ``highlight_id``; returns their numbers."""
    return rebuild_archives_with(ctx, highlight_id)


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
        rebuilt = rebuild_after_change(ctx, row.id)
        drafts = _drafts_showing(ctx.db, row.id)
        if rebuilt or drafts:
            _tell_coordinators_of_change(ctx, row, rebuilt, drafts)
        return rebuilt
    return []


def _drafts_showing(db: Session, highlight_id: int) -> list[Gazette]:
    """The drafts whose items include the highlight (not dropped)."""
    return list(
        db.scalars(
            select(Gazette)
            .join(GazetteItem, GazetteItem.gazette_id == Gazette.id)
            .where(
                Gazette.status == GazetteStatus.DRAFT,
                GazetteItem.kind == ItemKind.HIGHLIGHT,
                GazetteItem.ref_id == highlight_id,
                GazetteItem.dropped.is_(False),
            )
        ).all()
    )


def _tell_coordinators_of_change(
    ctx: Context, row: Highlight, rebuilt: list[int], drafts: list[Gazette]
) -> None:
    """A quote of a published gazette or of a draft changed: their compilers (or the
    coordinators' channel) hear it, with the archives rebuilt."""
    t = ctx.translators.get(ctx.settings.network.locale)
    numbers = ", ".join(t.ref(n) for n in rebuilt)
    if row.consent in PUBLISHABLE:  # yes <-> without my name
        head = t.gettext(
            "{author} changed the consent of highlight {number} « {quote} »: now {status}.",
            author=proper_name(row.author_name),
            number=t.ref(row.id),
            quote=excerpt(row.quote, 80),
            status=consent_label(t, row.consent, published=True),
        )
    else:
        head = t.gettext(
            "{author} withdrew highlight {number} « {quote} » from the gazette.",
            author=proper_name(row.author_name),
            number=t.ref(row.id),
            quote=excerpt(row.quote, 80),
        )
    lines = [head]
    if rebuilt:
        lines.append(
            t.ngettext(
                "The archived gazette {numbers} was rebuilt accordingly; copies already sent "
                "cannot be recalled.",
                "The archived gazettes {numbers} were rebuilt accordingly; copies already sent "
                "cannot be recalled.",
                len(rebuilt),
                numbers=numbers,
            )
        )
    if drafts and row.consent in PUBLISHABLE:
        lines.append(t.gettext("The current draft follows the new answer (/gazette)."))
    elif drafts:
        lines.append(t.gettext("It is left out of the current draft (/gazette)."))
    creators = [
        g.created_by_id for g in ctx.db.scalars(select(Gazette).where(Gazette.id.in_(rebuilt)))
    ] + [draft.created_by_id for draft in drafts]
    tell_coordinators(
        ctx,
        f"gazette:consent:{row.id}:{row.consent}:{int(ctx.now().timestamp())}",
        Reply(text="\n".join(lines)),
        creators,
    )


@on_choice("consent", r"(?P<id>\d{1,9}):(?P<answer>" + "|".join([*ANSWERS, "never"]) + ")")
def answer_consent(ctx: Context, match: re.Match[str]) -> Reply:
    answer = match["answer"]
    row = ctx.db.get(Highlight, int(match["id"]))
    if row is None:
        raise HighlightDeleted(ctx.t)
    author = ctx.db.get(Member, row.author_id) if row.author_id is not None else None
    if not _is(author, ctx.actor):
        raise NotTheAuthor(ctx.t, row.author_name)
    assert author is not None
    number = ctx.t.ref(row.id)
    if answer == "never":
        rebuilt = change_consent(ctx, row, Consent.NEVER_ASK)
        set_never_ask(ctx, author, True)
        text = ctx._(
            "Understood: highlight {number} will not be published and I will not ask you again. "
            "Type /profile ask-again if you change your mind.",
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
        "You can change your answer at any time with these buttons or with /profile consents."
    )
    if rebuilt:
        text += "\n" + rebuilt_text(ctx, rebuilt)
    return Reply(text=text)


def my_consents(ctx: Context) -> Reply:
    """``/profile consents``: the actor's highlights and their answers."""
    rows = ctx.db.scalars(
        select(Highlight).where(Highlight.author_id == ctx.member.id).order_by(Highlight.id)
    ).all()
    lines = [ctx._("**Your words kept for the gazette**"), ""]
    if not rows:
        lines.append(ctx._("None of your words was kept for the gazette."))
    shown = published_highlight_ids(ctx.db, [row.id for row in rows])
    for row in rows:
        when = ctx.t.date(row.consent_at) if row.consent_at else None
        status = consent_label(ctx.t, row.consent, published=row.id in shown)
        if when:
            status = ctx._("{status} (since {date})", status=status, date=when)
        lines.append(f"- {ctx.t.ref(row.id)} — « {excerpt(row.quote, 80)} » — {status}")
    lines.append("")
    if never_ask(ctx.db, ctx.member.id):
        lines.append(
            ctx._(
                "You asked never to be asked: your new highlights are not published. "
                "/profile ask-again undoes it."
            )
        )
    elif rows:
        lines.append(
            ctx._(
                "Withdraw one with /profile withdraw N; /profile never-ask stops the "
                "questions (and the publications)."
            )
        )
    else:
        lines.append(
            ctx._("/profile never-ask stops the questions before any of your words is kept.")
        )
    return Reply(text="\n".join(lines), ephemeral=True)


def withdraw(ctx: Context, number: int) -> Reply:
    """``/profile withdraw N``: the author withdraws highlight N."""
    row = ctx.db.get(Highlight, number)
    if row is None or row.author_id != ctx.member.id:
        raise NotYourHighlight(ctx.t, number)
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
    text += " " + ctx._("Your earlier answers stand; /profile withdraw N withdraws one.")
    return Reply(text=text, ephemeral=True)


def ask_pending_again(ctx: Context, rows: Sequence[Highlight]) -> int:
    """Send the consent question once more to the authors of ``rows`` (pending); how many."""
    now = ctx.now()
    asked: set[int] = set()
    for row in rows:
        if row.consent != Consent.PENDING or row.author_id is None:
            continue
        author = ctx.db.get(Member, row.author_id)
        if author is None:
            continue
        row.consent_asked_at = now
        ctx.send_later(
            f"consent:{row.id}:again:{int(now.timestamp())}",
            consent_request(ctx.translator_for(author), row),
            DirectTarget(platform=author.platform, user_id=author.user_id),
            now,
        )
        asked.add(author.id)
    return len(asked)


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
