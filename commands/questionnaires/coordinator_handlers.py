"""/questionnaire (/survey) for coordinators: creer, question, apercu, lancer, resultats,
relancer, clore, export."""

from __future__ import annotations

from sqlalchemy import select

from bot.context import Context
from bot.core import Choice, ChoiceStyle, DirectTarget, PlaceTarget, Reply, Role
from bot.dates import DateParseError, parse_deadline
from bot.i18n import N_, Translator
from bot.registry import Args, Option, OptionType, command
from bot.storage.members import Member
from bot.storage.questionnaires import (
    MAX_CHOICE,
    MAX_CHOICES,
    MAX_QUESTION,
    MAX_QUESTIONS,
    MAX_TITLE,
    Audience,
    QuestionKind,
    Questionnaire,
    QuestionnaireQuestion,
    QuestionnaireStatus,
)
from bot.storage.sessions import Registration
from commands.questionnaires.errors import (
    AlreadyClosed,
    AlreadyLaunched,
    AudienceNeeded,
    ChoicesNeeded,
    ChoiceTooLong,
    DeadlineInPast,
    NoChoicesForText,
    NoQuestions,
    NoRecipients,
    NoReminderLeft,
    NotADraft,
    NothingToRemind,
    OneAudienceOnly,
    RemindersRange,
    ScaleLabels,
    TextTooLong,
    TitleMissing,
    TooManyQuestions,
    UnknownKind,
)
from commands.questionnaires.flow import check_open
from commands.questionnaires.render import (
    describe_question,
    heading,
    kind_label,
    kind_words,
    question_reply,
    read_kind,
)
from commands.questionnaires.results import export_csv, questionnaire_results, results_text
from commands.questionnaires.store import (
    add_recipients,
    get_questionnaire,
    participation,
    question_count,
    questions,
    recipient,
    unfinished,
)

GROUP = "questionnaire"
GROUP_ALIAS = "survey"
GROUP_HELP = N_(
    "Questionnaires: coordinators write questions (scales, choices, free text), members "
    "answer privately, one question at a time."
)
NUMBER = Option(
    "numero",
    "number",
    N_("The number of the questionnaire."),
    type=OptionType.INTEGER,
    positional=True,
    required=True,
)
MAX_REMINDERS = 5


def _public_t(ctx: Context) -> Translator:
    return ctx.translators.get(ctx.settings.network.locale)


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def _draft(ctx: Context, number: int) -> Questionnaire:
    questionnaire = get_questionnaire(ctx.db, number, ctx.t)
    if questionnaire.status != QuestionnaireStatus.DRAFT:
        raise NotADraft(ctx.t, number)
    return questionnaire


@command(
    "creer",
    "create",
    N_("Creates a questionnaire (a draft): add its questions, preview it, then launch it."),
    options=[
        Option(
            "titre",
            "title",
            N_("The title, between double quotes."),
            positional=True,
        ),
        Option(
            "anonyme",
            "anonymous",
            N_("Nothing stored links a member to their answers."),
            type=OptionType.FLAG,
        ),
        Option("intro", "intro", N_("A sentence shown before the first question.")),
        Option(
            "relances",
            "reminders",
            N_("How many reminders /survey remind may send (2 unless told)."),
            type=OptionType.INTEGER,
        ),
    ],
    permission=Role.COORDINATOR,
    group=GROUP,
    group_alias=GROUP_ALIAS,
    group_help=GROUP_HELP,
    examples=('/questionnaire creer "Bilan de l\'année 2027" --anonyme',),
)
def create(ctx: Context, args: Args) -> Reply:
    title = _clean(args["titre"])
    if not title:
        raise TitleMissing(ctx.t)
    if len(title) > MAX_TITLE:
        raise TextTooLong(ctx.t, limit=MAX_TITLE, length=len(title))
    intro = _clean(args["intro"]) or None
    if intro is not None and len(intro) > 1000:
        raise TextTooLong(ctx.t, limit=1000, length=len(intro))
    reminders = 2 if args["relances"] is None else args["relances"]
    if not 0 <= reminders <= MAX_REMINDERS:
        raise RemindersRange(ctx.t, limit=MAX_REMINDERS)
    now = ctx.now()
    questionnaire = Questionnaire(
        title=title,
        intro=intro,
        anonymous=bool(args["anonyme"]),
        created_by=ctx.member.id,
        platform=ctx.place.platform,
        channel_id=ctx.place.channel_id,
        max_reminders=reminders,
        created_at=now,
        updated_at=now,
    )
    ctx.db.add(questionnaire)
    ctx.db.flush()
    n = questionnaire.id
    return Reply(
        text=ctx._(
            "Questionnaire {ref} “{title}” is created{anonymous}. Add questions: "
            '/survey question {n} scale "How useful was this year?", /survey question {n} '
            'choice "Which format?" "Webinar" "Visit", /survey question {n} text "Your '
            'suggestions?"; then /survey preview {n} and /survey launch {n} --everyone.',
            ref=ctx.t.ref(n),
            title=title,
            anonymous=ctx._(" (anonymous)") if questionnaire.anonymous else "",
            n=n,
        ),
        ephemeral=True,
    )


@command(
    "question",
    "question",
    N_("Adds a question to a draft: scale (1 to 5, or your labels), choice, multiple, or text."),
    options=[
        NUMBER,
        Option(
            "type",
            "kind",
            N_("echelle, choix, choix-multiple or texte (scale, choice, multiple, text)."),
            positional=True,
            required=True,
        ),
        Option(
            "texte",
            "text",
            N_("The question, between double quotes."),
            positional=True,
            required=True,
        ),
        Option(
            "choix",
            "choices",
            N_("The options of a choice, or the steps of a labelled scale, each between quotes."),
            positional=True,
            variadic=True,
        ),
    ],
    permission=Role.COORDINATOR,
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=(
        '/questionnaire question 1 echelle "Les sessions vous ont-elles été utiles ?"',
        '/questionnaire question 1 choix "Quel format ?" "Webinaire" "Visite"',
        '/questionnaire question 1 texte "Vos propositions ?"',
    ),
)
def add_question(ctx: Context, args: Args) -> Reply:
    t = ctx.t
    questionnaire = _draft(ctx, args["numero"])
    kind = read_kind(args["type"])
    if kind is None:
        raise UnknownKind(t, text=args["type"], kinds=kind_words(t))
    text = _clean(args["texte"])
    if not text:
        raise TextTooLong(t, limit=MAX_QUESTION, length=0)
    if len(text) > MAX_QUESTION:
        raise TextTooLong(t, limit=MAX_QUESTION, length=len(text))
    choices = [_clean(c) for c in (args["choix"] or []) if _clean(c)]
    for choice in choices:
        if len(choice) > MAX_CHOICE:
            raise ChoiceTooLong(t, limit=MAX_CHOICE, text=choice)
    if kind == QuestionKind.TEXT and choices:
        raise NoChoicesForText(t)
    if (
        kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE)
        and not 2 <= len(choices) <= MAX_CHOICES
    ):
        raise ChoicesNeeded(t, limit=MAX_CHOICES, n=questionnaire.id)
    if kind == QuestionKind.SCALE and choices and not 2 <= len(choices) <= 7:
        raise ScaleLabels(t)
    position = question_count(ctx.db, questionnaire.id)
    if position >= MAX_QUESTIONS:
        raise TooManyQuestions(t, questionnaire.id, limit=MAX_QUESTIONS)
    ctx.db.add(
        QuestionnaireQuestion(
            questionnaire_id=questionnaire.id,
            position=position,
            kind=kind,
            text=text,
            choices="\n".join(choices),
        )
    )
    questionnaire.updated_at = ctx.now()
    return Reply(
        text=ctx._(
            "Question {number} ({kind}) added to questionnaire {ref}. Preview: /survey preview {n}.",
            number=position + 1,
            kind=kind_label(t, kind),
            ref=t.ref(questionnaire.id),
            n=questionnaire.id,
        ),
        ephemeral=True,
    )


@command(
    "apercu",
    "preview",
    N_("Shows a questionnaire as members will see it, with its first question."),
    options=[NUMBER],
    permission=Role.COORDINATOR,
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=("/questionnaire apercu 1",),
)
def preview(ctx: Context, args: Args) -> list[Reply]:
    t = ctx.t
    questionnaire = get_questionnaire(ctx.db, args["numero"], t)
    found = questions(ctx.db, questionnaire.id)
    if not found:
        raise NoQuestions(t, questionnaire.id)
    lines = [heading(t, questionnaire)]
    if questionnaire.anonymous:
        lines.append(t.gettext("🔒 Anonymous: nothing stored links your answers to you."))
    if questionnaire.intro:
        lines.append(questionnaire.intro)
    lines.append("")
    for question in found:
        lines.extend(describe_question(t, question))
    first = question_reply(t, questionnaire, found[0], len(found))
    # The preview's buttons answer nothing: only the text is shown.
    return [
        Reply(text="\n".join(lines), ephemeral=True),
        Reply(text=first.text, ephemeral=True),
    ]


def _audience(ctx: Context, args: Args) -> tuple[Audience, str | None, list[int], str]:
    """The audience asked for, its reference, the members to invite and why none, if none."""
    given = [args["canal"] is not None, args["session"] is not None, bool(args["tous"])]
    if sum(given) == 0:
        raise AudienceNeeded(ctx.t)
    if sum(given) > 1:
        raise OneAudienceOnly(ctx.t)
    if args["canal"] is not None:
        place = ctx.find_channel(args["canal"])
        return Audience.CHANNEL, place.channel_id, [], ""
    if args["session"] is not None:
        number = args["session"]
        members = list(
            ctx.db.scalars(
                select(Registration.member_id)
                .where(Registration.session_id == number, Registration.attended_at.is_not(None))
                .order_by(Registration.member_id)
            )
        )
        why = ctx._("nobody is recorded as present at session {ref}.", ref=ctx.t.ref(number))
        return Audience.SESSION, str(number), members, why
    members = list(
        ctx.db.scalars(
            select(Member.id).where(Member.platform == ctx.place.platform).order_by(Member.id)
        )
    )
    return Audience.EVERYONE, None, members, ctx._("no member is known yet.")


@command(
    "lancer",
    "launch",
    N_("Sends a questionnaire: announced in a channel, or to a session's attendees, or to all."),
    options=[
        NUMBER,
        Option("canal", "channel", N_("Announce it in this channel."), type=OptionType.CHANNEL),
        Option(
            "session",
            "session",
            N_("Send it to the attendees of this session."),
            type=OptionType.INTEGER,
        ),
        Option("tous", "everyone", N_("Send it to every member."), type=OptionType.FLAG),
        Option("fin", "end", N_('The deadline: 2w, or a date such as "31 janvier 18h".')),
    ],
    permission=Role.COORDINATOR,
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=(
        "/questionnaire lancer 1 --tous --fin 2sem",
        "/questionnaire lancer 1 --session 12",
        "/questionnaire lancer 1 --canal #general",
    ),
)
def launch(ctx: Context, args: Args) -> Reply:
    t = ctx.t
    questionnaire = get_questionnaire(ctx.db, args["numero"], t)
    if questionnaire.launched_at is not None:
        raise AlreadyLaunched(t, questionnaire.id, date=t.datetime(questionnaire.launched_at))
    found = questions(ctx.db, questionnaire.id)
    if not found:
        raise NoQuestions(t, questionnaire.id)
    now = ctx.now()
    deadline = None
    if args["fin"]:
        try:
            deadline = parse_deadline(args["fin"], now=now, tz=t.tz)
        except DateParseError:
            raise ctx.unreadable_date(args["fin"]) from None
        if deadline <= now:
            raise DeadlineInPast(t, date=t.datetime(deadline))
    audience, reference, members, why = _audience(ctx, args)
    if audience != Audience.CHANNEL and not members:
        raise NoRecipients(t, why=why)
    questionnaire.audience = audience
    questionnaire.audience_ref = reference
    questionnaire.deadline = deadline
    questionnaire.status = QuestionnaireStatus.OPEN
    questionnaire.launched_at = now
    questionnaire.updated_at = now
    if audience == Audience.CHANNEL:
        assert reference is not None
        ctx.send_later(
            f"survey:{questionnaire.id}:announce",
            announcement(_public_t(ctx), questionnaire, len(found)),
            PlaceTarget(ctx.place.platform, reference),
            now,
        )
        text = ctx._(
            "Questionnaire {ref} is announced in #{channel}; whoever answers from there is "
            "counted. Results: /survey results {n}.",
            ref=t.ref(questionnaire.id),
            channel=args["canal"].lstrip("#"),
            n=questionnaire.id,
        )
    else:
        added = add_recipients(ctx.db, questionnaire.id, members, now)
        _invite(ctx, questionnaire, found[0], len(found), added, key="invite")
        text = ctx.t.ngettext(
            "Questionnaire {ref} is sent to {n} member by direct message. Results: "
            "/survey results {number}.",
            "Questionnaire {ref} is sent to {n} members by direct message. Results: "
            "/survey results {number}.",
            len(added),
            ref=t.ref(questionnaire.id),
            number=questionnaire.id,
        )
    if deadline is not None:
        text += " " + ctx._("Answers are accepted until {date}.", date=t.datetime(deadline))
    return Reply(text=text, ephemeral=True)


def announcement(t: Translator, questionnaire: Questionnaire, total: int) -> Reply:
    lines = [heading(t, questionnaire)]
    if questionnaire.intro:
        lines.append(questionnaire.intro)
    lines.append(
        t.ngettext(
            "{n} question, answered privately, one at a time; you may stop and resume.",
            "{n} questions, answered privately, one at a time; you may stop and resume.",
            total,
        )
    )
    if questionnaire.anonymous:
        lines.append(t.gettext("🔒 Anonymous: nothing stored links your answers to you."))
    if questionnaire.deadline is not None:
        lines.append(t.gettext("Until {date}.", date=t.datetime(questionnaire.deadline)))
    return Reply(
        text="\n".join(lines),
        choices=(
            Choice(t.gettext("Answer"), f"survey:{questionnaire.id}:start", ChoiceStyle.PRIMARY),
        ),
    )


def _invite(
    ctx: Context,
    questionnaire: Questionnaire,
    first: QuestionnaireQuestion,
    total: int,
    member_ids: list[int],
    *,
    key: str,
) -> None:
    """Each member gets the questionnaire's first (or current) question by direct message."""
    members: list[Member] = (
        list(ctx.db.scalars(select(Member).where(Member.id.in_(member_ids)))) if member_ids else []
    )
    found = questions(ctx.db, questionnaire.id)
    for member in members:
        t = ctx.translator_for(member)
        # the question below starts with the questionnaire's heading: not twice
        intro = [questionnaire.intro] if questionnaire.intro else []
        question = first
        if key != "invite":
            row = recipient(ctx.db, questionnaire.id, member.id)
            if row is not None and row.answered < len(found):
                question = found[row.answered]
            intro.insert(0, t.gettext("⏰ A reminder: your answers are awaited."))
        if questionnaire.deadline is not None:
            intro.append(t.gettext("Until {date}.", date=t.datetime(questionnaire.deadline)))
        reply = question_reply(t, questionnaire, question, total, before="\n".join(intro))
        ctx.send_later(
            f"survey:{questionnaire.id}:{key}:{member.id}",
            Reply(text=reply.text, choices=reply.choices),
            DirectTarget(platform=member.platform, user_id=member.user_id),
            ctx.now(),
        )


@command(
    "relancer",
    "remind",
    N_("Reminds the members who have not finished a questionnaire (at most twice)."),
    options=[NUMBER],
    permission=Role.COORDINATOR,
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=("/questionnaire relancer 1",),
)
def remind(ctx: Context, args: Args) -> Reply:
    t = ctx.t
    questionnaire = get_questionnaire(ctx.db, args["numero"], t)
    check_open(ctx, questionnaire)
    if questionnaire.reminders_sent >= questionnaire.max_reminders:
        raise NoReminderLeft(t, questionnaire.id, limit=questionnaire.max_reminders)
    found = questions(ctx.db, questionnaire.id)
    waiting = unfinished(ctx.db, questionnaire.id)
    if not waiting and questionnaire.audience != Audience.CHANNEL:
        raise NothingToRemind(t, questionnaire.id)
    questionnaire.reminders_sent += 1
    questionnaire.updated_at = ctx.now()
    k = questionnaire.reminders_sent
    for row in waiting:
        row.reminded += 1
    _invite(
        ctx, questionnaire, found[0], len(found), [r.member_id for r in waiting], key=f"remind{k}"
    )
    if questionnaire.audience == Audience.CHANNEL and questionnaire.audience_ref:
        public = _public_t(ctx)
        post = announcement(public, questionnaire, len(found))
        ctx.send_later(
            f"survey:{questionnaire.id}:remind{k}",
            Reply(
                text=public.gettext("⏰ A reminder: your answers are awaited.") + "\n" + post.text,
                choices=post.choices,
            ),
            PlaceTarget(questionnaire.platform, questionnaire.audience_ref),
            ctx.now(),
        )
    return Reply(
        text=t.ngettext(
            "Reminder {k} of {limit} sent: {n} member has not finished.",
            "Reminder {k} of {limit} sent: {n} members have not finished.",
            len(waiting),
            k=k,
            limit=questionnaire.max_reminders,
        ),
        ephemeral=True,
    )


@command(
    "resultats",
    "results",
    N_("Shows a questionnaire's results: counts, averages, distributions and verbatims."),
    options=[NUMBER],
    permission=Role.COORDINATOR,
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=("/questionnaire resultats 1",),
)
def results(ctx: Context, args: Args) -> Reply:
    questionnaire = get_questionnaire(ctx.db, args["numero"], ctx.t)
    found = questionnaire_results(ctx.db, questionnaire)
    return Reply(text=results_text(ctx.t, questionnaire, found), ephemeral=True)


@command(
    "clore",
    "close",
    N_("Closes a questionnaire: answers are no longer recorded."),
    options=[NUMBER],
    permission=Role.COORDINATOR,
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=("/questionnaire clore 1",),
)
def close(ctx: Context, args: Args) -> Reply:
    questionnaire = get_questionnaire(ctx.db, args["numero"], ctx.t)
    if questionnaire.status == QuestionnaireStatus.CLOSED:
        raise AlreadyClosed(ctx.t, questionnaire.id)
    now = ctx.now()
    questionnaire.status = QuestionnaireStatus.CLOSED
    questionnaire.closed_at = now
    questionnaire.updated_at = now
    recipients, started, finished = participation(ctx.db, questionnaire.id)
    return Reply(
        text=ctx._(
            "Questionnaire {ref} is closed: {finished} finished, {started} started, out of "
            "{recipients} asked. Results: /survey results {n}; file: /survey export {n}.",
            ref=ctx.t.ref(questionnaire.id),
            finished=finished,
            started=started,
            recipients=recipients,
            n=questionnaire.id,
        ),
        ephemeral=True,
    )


@command(
    "export",
    "export",
    N_("Sends a questionnaire's answers as a CSV file (one row per answer)."),
    options=[NUMBER],
    permission=Role.COORDINATOR,
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=("/questionnaire export 1",),
)
def export(ctx: Context, args: Args) -> Reply:
    questionnaire = get_questionnaire(ctx.db, args["numero"], ctx.t)
    attachment = export_csv(ctx.db, questionnaire, ctx.t)
    return Reply(
        text=ctx._("The answers to questionnaire {ref}.", ref=ctx.t.ref(questionnaire.id)),
        attachments=(attachment,),
        ephemeral=True,
    )
