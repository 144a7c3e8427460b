"""The members' commands and buttons: see and list sessions, register and unregister (through
the registrar), set one's category, check in and give feedback."""

from __future__ import annotations

import re
from typing import cast

from bot.context import Context
from bot.core import Reply, UserError
from bot.i18n import N_
from bot.registry import Args, Option, OptionType, StaleChoice, command, on_choice
from bot.storage.sessions import RegistrationStatus, SessionRow, SessionStage, SessionStatus
from commands.questionnaires import comment_prompt
from commands.sessions import live
from commands.sessions.errors import (
    FeedbackNotAttended,
    NotAttending,
    RegistrarClosed,
    SessionError,
)
from commands.sessions.history import past_reply
from commands.sessions.messages import (
    FEEDBACK_LABELS,
    FEEDBACK_VALUES,
    category_label,
    describe,
    heading,
    kind_label,
    registration_choices,
    seats_text,
    title_text,
)
from commands.sessions.notify import notifier_for
from commands.sessions.parsing import GROUP_HELP, NUMBER, read_category
from commands.sessions.registrar import REGISTRAR_SERVICE, Registrar
from commands.sessions.service import (
    RegisterResult,
    check_in,
    record_feedback,
    register_and_notify,
    unregister_and_notify,
)
from commands.sessions.store import (
    feedback_counts,
    find_registration,
    get_session,
    member_registrations,
    present_count,
    quota_rows,
    upcoming_sessions,
    waitlist_counts,
    waitlist_position,
)


@command(
    "voir",
    "show",
    N_("Shows a session: date, place, seats left and your registration."),
    options=[
        Option(
            "numero",
            "number",
            N_("The number of the session (without it: the upcoming sessions)."),
            type=OptionType.INTEGER,
            positional=True,
        )
    ],
    default=True,
    group="session",
    group_alias="session",
    group_help=GROUP_HELP,
    examples=("/session 12", "/session voir 12"),
)
def show(ctx: Context, args: Args) -> Reply:
    if args["numero"] is None:
        return _upcoming(ctx)
    try:
        session = get_session(ctx.db, args["numero"])
    except SessionError as error:
        raise UserError(error.message(ctx.t)) from None
    t = ctx.t
    over = session.status != SessionStatus.CANCELLED and (
        session.stage >= SessionStage.CHECKIN_CLOSED or session.ends_at <= ctx.now()
    )
    if over:  # no seats left to tell once it took place (issue 15: messages stay true)
        present = present_count(ctx.db, session.id)
        lines = [
            *heading(t, session),
            "",
            t.ngettext("✅ Over — {n} person present.", "✅ Over — {n} people present.", present),
        ]
    else:
        waiting = waitlist_counts(ctx.db, [session.id]).get(session.id, 0)
        lines = describe(t, session, waiting, quota_rows(ctx.db, session.id))
    lines.append("")
    registration = find_registration(ctx.db, session.id, ctx.member.id)
    if session.status == SessionStatus.CANCELLED:
        lines.append(t.gettext("❌ This session has been cancelled."))
    elif over:
        if registration is not None and registration.attended_at is not None:
            lines.append(t.gettext("You took part in it."))
        elif registration is not None and registration.status == RegistrationStatus.CONFIRMED:
            lines.append(t.gettext("You were registered."))
    elif registration is not None and registration.status == RegistrationStatus.CONFIRMED:
        lines.append(t.gettext("✅ You are registered."))
    elif registration is not None and registration.status == RegistrationStatus.WAITLISTED:
        lines.append(
            t.gettext(
                "⏳ You are on the waiting list, in position {position}.",
                position=waitlist_position(ctx.db, registration),
            )
        )
    elif session.status == SessionStatus.SCHEDULED and session.starts_at > ctx.now():
        lines.append(t.gettext("Register with the button below or /register {n}.", n=session.id))
    if ctx.actor.is_coordinator:
        lines.append(_coordinator_summary(ctx, session))
    open_ = session.status == SessionStatus.SCHEDULED and session.starts_at > ctx.now()
    return Reply(
        text="\n".join(lines),
        choices=registration_choices(t, session.id) if open_ else (),
        ephemeral=True,  # it tells the actor's own registration
    )


def _coordinator_summary(ctx: Context, session: SessionRow) -> str:
    counts = feedback_counts(ctx.db, session.id)
    feedback = ", ".join(
        f"{ctx._(FEEDBACK_LABELS[value])} {counts.get(value, 0)}" for value in FEEDBACK_VALUES
    )
    return ctx._(
        "For coordinators: present: {present}; feedback: {feedback}. Details: /participants {n}.",
        present=present_count(ctx.db, session.id),
        feedback=feedback,
        n=session.id,
    )


@command(
    "sessions",
    "sessions",
    N_("Lists the upcoming sessions and the seats left (or the past ones, with --past)."),
    options=[
        Option(
            "passees",
            "past",
            N_("The sessions held, newest first, with their attendance."),
            type=OptionType.FLAG,
        ),
        Option(
            "annee",
            "year",
            N_("With --past: every session of that year."),
            type=OptionType.INTEGER,
        ),
    ],
    examples=("/sessions", "/sessions --passees", "/sessions --passees --annee 2026"),
)
def list_sessions(ctx: Context, args: Args) -> Reply:
    if args["passees"] or args["annee"] is not None:
        return past_reply(ctx, args["annee"])
    return _upcoming(ctx)


def _upcoming(ctx: Context) -> Reply:
    t = ctx.t
    now = ctx.now()
    rows = upcoming_sessions(ctx.db, now)
    if not rows:
        return Reply(text=t.gettext("No session is planned for now."), ephemeral=True)
    waiting = waitlist_counts(ctx.db, [s.id for s in rows])
    mine = member_registrations(ctx.db, ctx.member.id, [s.id for s in rows])
    lines = [t.gettext("**Upcoming sessions**"), ""]
    for session in rows:
        line = t.gettext(
            "- {title} — {kind}, {date} — {seats}",
            title=title_text(t, session),
            kind=kind_label(t, session.kind),
            date=t.datetime(session.starts_at, "long"),
            seats=seats_text(t, session, waiting.get(session.id, 0)),
        )
        registration = mine.get(session.id)
        if registration is not None and registration.status == RegistrationStatus.CONFIRMED:
            line += t.gettext(" — ✅ registered")
        elif registration is not None and registration.status == RegistrationStatus.WAITLISTED:
            line += t.gettext(" — ⏳ waiting list")
        lines.append(line)
    lines.extend(["", t.gettext("Details: /session {n} — register: /register {n}.", n=rows[0].id)])
    return Reply(text="\n".join(lines), ephemeral=True)  # marks the actor's registrations


def _registered_reply(
    ctx: Context, session: SessionRow, result: RegisterResult, *, clicked: bool
) -> Reply | None:
    title = title_text(ctx.t, session)
    if result.status == RegistrationStatus.CONFIRMED:
        # One private message per registration: the confirmation with its .ics, sent by the
        # outbox (an ephemeral answer besides would be a second direct message on Rocket.Chat).
        # A click, or a command typed in the direct conversation, gets nothing else; a command
        # typed in a channel gets a public line, in the network's language, saying only that
        # the confirmation was sent.
        if clicked or ctx.place.is_direct:
            return None
        public = ctx.public_t
        return Reply(
            text=public.gettext(
                "Registration recorded for {title}: the confirmation and the calendar file were "
                "sent by direct message.",
                title=title_text(public, session),
            )
        )
    if result.quota_full:
        text = ctx._(
            "The seats for the category “{category}” are all taken for {title}: you are on the "
            "waiting list, in position {position}. If one frees up, it is yours and I will tell "
            "you by direct message.",
            category=category_label(ctx.t, result.registration.category),
            title=title,
            position=result.position,
        )
    else:
        text = ctx._(
            "{title} is full: you are on the waiting list, in position {position}. If a seat "
            "frees up, it is yours and I will tell you by direct message.",
            title=title,
            position=result.position,
        )
    return Reply(text=text, ephemeral=True)


def _registrar(ctx: Context) -> Registrar | None:
    registrar = ctx.services.get(REGISTRAR_SERVICE)
    return cast("Registrar | None", registrar)


def _stopping(ctx: Context) -> UserError:
    return UserError(
        ctx._("I am restarting: your request was not recorded. Please try again in a minute.")
    )


async def _register(ctx: Context, session_id: int, *, clicked: bool = False) -> Reply | None:
    now = ctx.now()
    registrar = _registrar(ctx)
    try:
        if registrar is None:  # a context built without the app (the registrar is its service)
            result = register_and_notify(ctx.db, notifier_for(ctx), session_id, ctx.member, now)
        else:
            member_id = ctx.member.id
            ctx.db.commit()  # no transaction (nor SQLite's write lock) held across the await
            result = await registrar.register(session_id, member_id, now)
    except SessionError as error:
        raise UserError(error.message(ctx.t)) from None
    except RegistrarClosed:
        raise _stopping(ctx) from None
    ctx.changed.add("outbox")
    live.after_change(ctx)
    return _registered_reply(ctx, result.session, result, clicked=clicked)


async def _unregister(ctx: Context, session_id: int) -> Reply:
    now = ctx.now()
    registrar = _registrar(ctx)
    try:
        if registrar is None:
            result = unregister_and_notify(ctx.db, notifier_for(ctx), session_id, ctx.member, now)
        else:
            member_id = ctx.member.id
            ctx.db.commit()  # as in _register
            result = await registrar.unregister(session_id, member_id, now)
    except SessionError as error:
        raise UserError(error.message(ctx.t)) from None
    except RegistrarClosed:
        raise _stopping(ctx) from None
    ctx.changed.add("outbox")
    live.after_change(ctx)
    title = title_text(ctx.t, result.session)
    if result.previous == RegistrationStatus.WAITLISTED:
        text = ctx._("You left the waiting list for {title}.", title=title)
    elif result.promoted:
        text = ctx._(
            "Your registration for {title} is cancelled; your seat went to the next person on "
            "the waiting list.",
            title=title,
        )
    else:
        text = ctx._("Your registration for {title} is cancelled.", title=title)
    return Reply(text=text, ephemeral=True)


@command(
    "inscription",
    "register",
    N_("Registers you for a session (or puts you on its waiting list)."),
    options=[NUMBER],
    examples=("/inscription 12",),
)
async def register_command(ctx: Context, args: Args) -> Reply | None:
    return await _register(ctx, args["numero"])


@command(
    "desinscription",
    "unregister",
    N_("Cancels your registration for a session, or takes you off its waiting list."),
    options=[NUMBER],
    examples=("/desinscription 12",),
)
async def unregister_command(ctx: Context, args: Args) -> Reply:
    return await _unregister(ctx, args["numero"])


@command(
    "categorie",
    "category",
    N_(
        "Sets your member category (elected, agent, association, partner, or none), used by "
        "the quotas of sessions."
    ),
    options=[
        Option(
            "categorie",
            "category",
            N_("elected, agent, association, partner, or none to remove it."),
            type=OptionType.TEXT,
            positional=True,
        )
    ],
    examples=("/categorie", "/categorie elu", "/category partner"),
)
def category(ctx: Context, args: Args) -> Reply:
    if args["categorie"] is None:  # alone: the current one
        current = ctx.member.category
        if current is None:
            text = ctx._("You have no category. Set one with /category followed by its name.")
        else:
            text = ctx._(
                "Your category is “{category}”. Change it with /category followed by another.",
                category=category_label(ctx.t, current),
            )
        return Reply(text=text, ephemeral=True)
    value = read_category(ctx, args["categorie"])
    ctx.member.category = value
    ctx.member.updated_at = ctx.now()
    if value is None:
        return Reply(text=ctx._("Done: you no longer have a category."), ephemeral=True)
    return Reply(
        text=ctx._(
            "Done: your category is now “{category}”. It counts for the quotas of the sessions "
            "you register for from now on.",
            category=category_label(ctx.t, value),
        ),
        ephemeral=True,
    )


@on_choice(
    "session",
    r"(?P<id>\d{1,9}):(?:(?P<verb>register|unregister|checkin)"
    r"|feedback:(?P<feedback>" + "|".join(FEEDBACK_VALUES) + "))",
)
async def session_choice(ctx: Context, match: re.Match[str]) -> Reply | list[Reply] | None:
    session_id = int(match["id"])
    verb = match["verb"] or "feedback"
    answer = match["feedback"]
    if verb == "register":
        return await _register(ctx, session_id, clicked=True)
    if verb == "unregister":
        return await _unregister(ctx, session_id)
    now = ctx.now()
    try:
        if verb == "checkin":
            first = check_in(ctx.db, session_id, ctx.member, now)
            live.after_change(ctx)
            session = get_session(ctx.db, session_id)
            if not first:
                return Reply(
                    text=ctx._(
                        "Your presence at {title} was already recorded.",
                        title=title_text(ctx.t, session),
                    ),
                    ephemeral=True,
                )
            return Reply(
                text=ctx._(
                    "Thank you, your presence at {title} is recorded.",
                    title=title_text(ctx.t, session),
                ),
                ephemeral=True,
            )
        if verb == "feedback" and answer in FEEDBACK_VALUES:
            try:
                record_feedback(ctx.db, session_id, ctx.member, answer, now)
            except NotAttending as error:
                raise FeedbackNotAttended(error.session, number=error.number) from None
            thanks = Reply(
                text=ctx._(
                    "Thank you! Your answer (“{answer}”) is recorded.",
                    answer=ctx._(FEEDBACK_LABELS[answer]),
                ),
                ephemeral=True,
            )
            # The optional comment, through the questionnaires' machinery.
            prompt = comment_prompt(ctx, session_id, get_session(ctx.db, session_id).title)
            return thanks if prompt is None else [thanks, prompt]
    except SessionError as error:
        raise UserError(error.message(ctx.t)) from None
    raise StaleChoice(match.string)
