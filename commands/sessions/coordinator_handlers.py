"""The coordinators' commands: create, change and cancel a session, list its participants,
record attendance."""

from __future__ import annotations

from bot.context import Context
from bot.core import Attachment, Reply, Role, UserError
from bot.i18n import N_
from bot.registry import Args, Option, OptionType, command
from bot.storage.members import Member, find_member
from bot.storage.sessions import RegistrationStatus, SessionKind
from commands.sessions import live
from commands.sessions.errors import SessionCancelled, SessionError
from commands.sessions.messages import (
    STATUS_LABELS,
    category_label,
    participants_csv,
    quota_text,
    title_text,
)
from commands.sessions.notify import (
    announce,
    notifier_for,
    notify_promoted,
    tell_cancelled,
    tell_changed,
)
from commands.sessions.parsing import (
    DEFAULT_DURATION,
    GROUP_HELP,
    MAX_DESCRIPTION,
    MAX_LOCATION,
    MAX_TITLE,
    NUMBER,
    check_capacity,
    check_length,
    check_link,
    read_deadline,
    read_kind,
    read_length,
    read_quotas,
    read_start,
    start_of_creation,
)
from commands.sessions.service import (
    SessionChanges,
    SessionDraft,
    cancel_session,
    create_session,
    record_attendance,
    update_session,
)
from commands.sessions.store import get_session, ordered_participants, quota_rows

_WHEN_HELP = N_('When it starts, for example "jeudi 3 décembre 14h" or "2026-12-03 14:00".')
_DURATION = Option(
    "duree", "duration", N_("How long it lasts, for example 2h or 1h30 (default: 1h).")
)
_KIND = Option(
    "type",
    "type",
    N_("webinaire, pleniere, rencontre, formation or visite (default: rencontre)."),
)
_PLACE = Option("lieu", "place", N_("Where it happens (an address, a room)."))
_LINK_OPTION = Option("lien", "link", N_("The link to join online (http:// or https://)."))
_DEADLINE = Option(
    "inscriptions-jusqu-au",
    "registration-deadline",
    N_('Registrations close then, for example "mardi 1 décembre" (default: at the start).'),
)
_DESCRIPTION = Option("description", "description", N_("A short description."))


@command(
    "creer",
    "create",
    N_("Creates a session members can register for, and announces it in this channel."),
    options=[
        Option(
            "titre",
            "title",
            N_("The title of the session."),
            type=OptionType.STRING,
            positional=True,
            required=True,
        ),
        Option("quand", "when", _WHEN_HELP),
        Option(
            "depuis-sondage",
            "from-poll",
            N_("Instead of --when: the best slot of this date poll, for example 7."),
            type=OptionType.INTEGER,
        ),
        _DURATION,
        _KIND,
        _PLACE,
        _LINK_OPTION,
        Option(
            "places",
            "seats",
            N_("How many seats (at least 1); past that, members join a waiting list."),
            type=OptionType.INTEGER,
            required=True,
        ),
        _DEADLINE,
        _DESCRIPTION,
        Option(
            "quotas",
            "quotas",
            N_("Seats at most per member category, for example elu=10,agent=5."),
        ),
    ],
    permission=Role.COORDINATOR,
    group="session",
    group_alias="session",
    group_help=GROUP_HELP,
    examples=(
        '/session creer "Webinaire mobilités" --quand "jeudi 3 décembre 14h" --duree 2h '
        "--type webinaire --lien https://visio.example.org/mobilites --places 30",
        '/session creer "Visite de la ressourcerie" --quand "2026-12-10 9h30" --duree 3h '
        '--type visite --lieu "12 rue des Lilas, Nantes" --places 15 --quotas elu=5',
    ),
)
def create(ctx: Context, args: Args) -> Reply:
    title = check_length(ctx, "title", args["titre"], MAX_TITLE)
    assert title is not None
    starts_at = start_of_creation(ctx, args["quand"], args["depuis-sondage"])
    length = read_length(ctx, args["duree"]) or DEFAULT_DURATION
    capacity = check_capacity(ctx, args["places"])
    deadline = None
    if args["inscriptions-jusqu-au"]:
        deadline = read_deadline(ctx, args["inscriptions-jusqu-au"], starts_at)
    draft = SessionDraft(
        title=title,
        kind=read_kind(ctx, args["type"]) or SessionKind.MEETING.value,
        starts_at=starts_at,
        ends_at=starts_at + length,
        capacity=capacity,
        location=check_length(ctx, "place", args["lieu"], MAX_LOCATION),
        link=check_link(ctx, args["lien"]),
        description=check_length(ctx, "description", args["description"], MAX_DESCRIPTION),
        registration_deadline=deadline,
        quotas=read_quotas(ctx, args["quotas"], capacity),
    )
    now = ctx.now()
    session = create_session(
        ctx.db,
        draft,
        platform=ctx.place.platform,
        channel_id=ctx.place.channel_id,
        created_by=ctx.member.id,
        network_name=ctx.settings.network.name,
        now=now,
    )
    announce(ctx.db, notifier_for(ctx), session, now)
    ctx.changed.update({"outbox", "sessions", live.WORK_NAME})
    return Reply(
        text=ctx._(
            "Session {ref} created and announced here. Members register with /register {n}; "
            "follow them with /participants {n}.",
            ref=ctx.t.ref(session.id),
            n=session.id,
        ),
        ephemeral=True,
    )


@command(
    "modifier",
    "edit",
    N_("Changes a session; registrants are told and get the updated calendar file."),
    options=[
        NUMBER,
        Option("titre", "title", N_("The new title.")),
        Option("quand", "when", _WHEN_HELP),
        _DURATION,
        _KIND,
        _PLACE,
        _LINK_OPTION,
        Option(
            "places",
            "seats",
            N_("The new number of seats; never below the seats already taken."),
            type=OptionType.INTEGER,
        ),
        _DEADLINE,
        _DESCRIPTION,
        Option(
            "quotas",
            "quotas",
            N_(
                "The new quotas, replacing the old ones, for example elu=8,partenaire=6; "
                "aucun (none) removes them."
            ),
        ),
    ],
    permission=Role.COORDINATOR,
    group="session",
    group_alias="session",
    examples=(
        '/session modifier 12 --quand "vendredi 4 décembre 10h"',
        "/session modifier 12 --places 40",
        "/session modifier 12 --quotas elu=8,partenaire=6",
    ),
)
def edit(ctx: Context, args: Args) -> Reply:
    session_id: int = args["numero"]
    try:
        session = get_session(ctx.db, session_id)
    except SessionError as error:
        raise UserError(error.message(ctx.t)) from None
    keys = (
        "titre",
        "quand",
        "duree",
        "type",
        "lieu",
        "lien",
        "places",
        "inscriptions-jusqu-au",
        "description",
        "quotas",
    )
    if all(args[key] is None for key in keys):
        raise UserError(
            ctx._(
                "Say what to change, for example --when, --duration, --place or --seats.\n"
                "Usage: /session edit <number> [--when ...] [--seats ...]"
            )
        )
    starts_at = read_start(ctx, args["quand"]) if args["quand"] else None
    length = read_length(ctx, args["duree"])
    ends_at = None
    if starts_at is not None or length is not None:
        start = starts_at or session.starts_at
        ends_at = start + (length or (session.ends_at - session.starts_at))
    deadline = None
    if args["inscriptions-jusqu-au"]:
        deadline = read_deadline(ctx, args["inscriptions-jusqu-au"], starts_at or session.starts_at)
    elif (
        starts_at is not None
        and session.registration_deadline is not None
        and session.registration_deadline > starts_at
    ):
        deadline = starts_at
    changes = SessionChanges(
        title=check_length(ctx, "title", args["titre"], MAX_TITLE),
        kind=read_kind(ctx, args["type"]),
        starts_at=starts_at,
        ends_at=ends_at,
        location=check_length(ctx, "place", args["lieu"], MAX_LOCATION),
        link=check_link(ctx, args["lien"]),
        description=check_length(ctx, "description", args["description"], MAX_DESCRIPTION),
        capacity=check_capacity(ctx, args["places"]) if args["places"] is not None else None,
        registration_deadline=deadline,
        quotas=read_quotas(ctx, args["quotas"], None) if args["quotas"] is not None else None,
    )
    now = ctx.now()
    notifier = notifier_for(ctx)
    try:
        result = update_session(ctx.db, session_id, changes, now)
    except SessionCancelled as error:
        raise UserError(
            error.message(ctx.t) + " " + ctx._("It can no longer be changed; nothing was changed.")
        ) from None
    except SessionError as error:
        raise UserError(error.message(ctx.t)) from None
    session = get_session(ctx.db, session_id)
    told = 0
    if result.calendar_changed:
        told = tell_changed(ctx.db, notifier, session, now)
    if result.promoted:
        notify_promoted(ctx.db, notifier, session, result.promoted, now)
    ctx.changed.update({"outbox", "sessions", live.WORK_NAME})
    lines = [
        ctx.t.ngettext(
            "Session {ref} updated; {n} registrant told.",
            "Session {ref} updated; {n} registrants told.",
            told,
            ref=ctx.t.ref(session_id),
        )
    ]
    if result.promoted:
        lines.append(
            ctx.t.ngettext(
                "{n} person moved from the waiting list to a seat (told by direct message).",
                "{n} people moved from the waiting list to a seat (told by direct message).",
                len(result.promoted),
            )
        )
    if result.empty_seats:
        lines.append(
            ctx.t.ngettext(
                "{n} seat stays empty although people wait: their categories are full ({full}).",
                "{n} seats stay empty although people wait: their categories are full ({full}).",
                result.empty_seats,
                full=", ".join(category_label(ctx.t, c) for c in result.blocked),
            )
        )
    return Reply(text="\n".join(lines), ephemeral=True)


@command(
    "annuler",
    "cancel",
    N_("Cancels a session; registrants are told and get a cancelling calendar file."),
    options=[
        NUMBER,
        Option("raison", "reason", N_("Why it is cancelled (told to the registrants).")),
    ],
    permission=Role.COORDINATOR,
    group="session",
    group_alias="session",
    examples=('/session annuler 12 --raison "Intervenant malade, report en janvier"',),
)
def cancel(ctx: Context, args: Args) -> Reply:
    now = ctx.now()
    reason = check_length(ctx, "reason", args["raison"], MAX_DESCRIPTION)
    try:
        session = cancel_session(ctx.db, args["numero"], now)
    except SessionError as error:
        raise UserError(error.message(ctx.t)) from None
    told = tell_cancelled(ctx.db, notifier_for(ctx), session, reason, now)
    ctx.changed.update({"outbox", "sessions", live.WORK_NAME})
    return Reply(
        text=ctx.t.ngettext(
            "Session {ref} cancelled; {n} registrant told.",
            "Session {ref} cancelled; {n} registrants told.",
            told,
            ref=ctx.t.ref(session.id),
        ),
        ephemeral=True,
    )


@command(
    "participants",
    "participants",
    N_("Lists the registrants of a session with their status and category (--csv: as a file)."),
    options=[
        NUMBER,
        Option("csv", "csv", N_("Send the list as a CSV file."), type=OptionType.FLAG),
    ],
    permission=Role.COORDINATOR,
    examples=("/participants 12", "/participants 12 --csv"),
)
def participants(ctx: Context, args: Args) -> Reply:
    try:
        session = get_session(ctx.db, args["numero"])
    except SessionError as error:
        raise UserError(error.message(ctx.t)) from None
    t = ctx.t
    rows, positions = ordered_participants(ctx.db, session.id)
    if args["csv"]:
        return Reply(
            text=t.gettext(
                "Participants of {title}: {n} rows.", title=title_text(t, session), n=len(rows)
            ),
            attachments=(
                Attachment(
                    f"participants-session-{session.id}.csv",
                    "text/csv",
                    participants_csv(t, rows, positions),
                ),
            ),
            ephemeral=True,
        )
    lines = [
        t.gettext("**Participants — {title} ({ref})**", title=session.title, ref=t.ref(session.id)),
        t.gettext(
            "{confirmed} confirmed out of {capacity} seats, {waiting} on the waiting list.",
            confirmed=session.confirmed,
            capacity=session.capacity,
            waiting=len(positions),
        ),
    ]
    quotas = quota_rows(ctx.db, session.id)
    if quotas:
        lines.append(
            t.gettext("Quotas: {quotas}.", quotas="; ".join(quota_text(t, q) for q in quotas))
        )
    lines.append("")
    counter = 0
    cancelled = 0
    for registration, member in rows:
        status = RegistrationStatus(registration.status)
        if status == RegistrationStatus.CANCELLED:
            cancelled += 1
            continue
        counter += 1
        label = t.gettext(STATUS_LABELS[status])
        if status == RegistrationStatus.WAITLISTED:
            label = t.gettext(
                "waiting list, position {position}", position=positions[registration.id]
            )
        line = f"{counter}. {member.display_name} — {category_label(t, registration.category)} — {label}"
        if registration.attended_at is not None:
            line += t.gettext(" — present")
        lines.append(line)
    if counter == 0:
        lines.append(t.gettext("Nobody has registered yet."))
    if cancelled:
        lines.extend(
            [
                "",
                t.ngettext(
                    "{n} registration cancelled.", "{n} registrations cancelled.", cancelled
                ),
            ]
        )
    return Reply(text="\n".join(lines), ephemeral=True)


@command(
    "presence",
    "attendance",
    N_("Records who attended a session (once it has started)."),
    options=[
        NUMBER,
        Option(
            "membres",
            "members",
            N_("The members present, for example @alice @bob."),
            type=OptionType.USER,
            positional=True,
            variadic=True,
            min_count=1,
        ),
    ],
    permission=Role.COORDINATOR,
    examples=("/presence 12 @alice @bob",),
)
def attendance(ctx: Context, args: Args) -> Reply:
    names: list[str] = args["membres"]
    found: list[Member] = []
    unknown: list[str] = []
    for name in names:
        member = find_member(ctx.db, ctx.actor.platform, name)
        if member is None:
            unknown.append("@" + name.lstrip("@"))
        elif member not in found:
            found.append(member)
    if unknown:
        raise UserError(
            ctx._(
                "I do not know {names} (a member must have written once where I can see it). "
                "Nothing was recorded.",
                names=", ".join(unknown),
            )
        )
    try:
        marked = record_attendance(ctx.db, args["numero"], found, ctx.now())
    except SessionError as error:
        raise UserError(error.message(ctx.t)) from None
    ctx.changed.add(live.WORK_NAME)
    session = get_session(ctx.db, args["numero"])
    lines = []
    if marked:
        lines.append(
            ctx._(
                "Attendance at {title} recorded for {names}.",
                title=title_text(ctx.t, session),
                names=", ".join(m.display_name for m in marked),
            )
        )
    already = [m for m in found if m not in marked]
    if already:
        lines.append(
            ctx._("Already recorded: {names}.", names=", ".join(m.display_name for m in already))
        )
    return Reply(text="\n".join(lines), ephemeral=True)
