"""/idee (/idea): propose (default), support, withdraw, status (coordinators); /idees (/ideas);
the buttons "I support" and "Withdraw my support" of a posted idea."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from bot.context import Context
from bot.core import Actor, DirectTarget, PlaceTarget, Reply, Role
from bot.i18n import N_, Translator, fold
from bot.registry import (
    Args,
    Option,
    OptionType,
    StaleChoice,
    autocompleter,
    command,
    on_choice,
)
from bot.storage.ideas import MAX_IDEA, MAX_RESPONSE, Idea, IdeaStatus
from bot.storage.members import Member
from bot.storage.profiles import match_theme, nearest_theme, network_themes
from commands.ideas.errors import (
    IdeaEmpty,
    IdeaInPrivate,
    IdeaTooLong,
    ResponseTooLong,
    UnknownIdeaTheme,
    UnknownIdeaThemeNoSuggestion,
    UnknownStatus,
)
from commands.ideas.messages import (
    idea_line,
    idea_post,
    read_status,
    status_label,
    status_words,
    supports_text,
)
from commands.ideas.store import add_support, get_idea, ranked_ideas, remove_support

GROUP = "idee"
GROUP_ALIAS = "idea"
GROUP_HELP = N_(
    "The ideas box: members propose and support ideas, coordinators give them a status "
    '(/idea "text" proposes one).'
)
NUMBER = Option(
    "numero",
    "number",
    N_("The number of the idea."),
    type=OptionType.INTEGER,
    positional=True,
    required=True,
    autocomplete="idea",
)


def _public_t(ctx: Context) -> Translator:
    return ctx.translators.get(ctx.settings.network.locale)


def _read_theme(ctx: Context, text: str | None) -> str | None:
    """The network theme ``--theme`` names (accents, case and plurals forgiven, as profile
    interests are read); refused with the nearest theme when it names none. A network without
    themes yet takes the theme as typed."""
    cleaned = " ".join((text or "").split())[:100]
    if not cleaned:
        return None
    themes = network_themes(ctx.db)
    if not themes:
        return cleaned
    matched = match_theme(cleaned, themes)
    if matched is not None:
        return matched
    nearest = nearest_theme(cleaned, themes)
    listed = ", ".join(themes[:30])
    if nearest is None:
        raise UnknownIdeaThemeNoSuggestion(ctx.t, theme=cleaned, themes=listed)
    raise UnknownIdeaTheme(ctx.t, theme=cleaned, nearest=nearest, themes=listed)


@command(
    "proposer",
    "propose",
    N_("Proposes an idea to the network; members support it with a button."),
    options=[
        Option(
            "texte",
            "text",
            N_("Your idea, in a sentence or two."),
            type=OptionType.TEXT,
            positional=True,
        ),
        Option(
            "theme",
            "theme",
            N_("One of the network's themes, for example “mobilité”: its referents are told."),
        ),
    ],
    default=True,
    group=GROUP,
    group_alias=GROUP_ALIAS,
    group_help=GROUP_HELP,
    examples=(
        '/idee "Un atelier sur l\'eau"',
        '/idee proposer "Des visites de sites"',
        '/idee "Un covoiturage entre communes" --theme mobilité',
    ),
)
def propose(ctx: Context, args: Args) -> Reply:
    text = " ".join((args["texte"] or "").split())
    if not text:
        raise IdeaEmpty(ctx.t)
    if len(text) > MAX_IDEA:
        raise IdeaTooLong(ctx.t, limit=MAX_IDEA, length=len(text))
    if ctx.place.is_direct:
        raise IdeaInPrivate(ctx.t)
    theme = _read_theme(ctx, args["theme"])
    now = ctx.now()
    idea = Idea(
        author_id=ctx.member.id,
        text=text,
        theme=theme,
        platform=ctx.place.platform,
        channel_id=ctx.place.channel_id,
        created_at=now,
        updated_at=now,
    )
    ctx.db.add(idea)
    ctx.db.flush()
    add_support(ctx.db, idea, ctx.member, now, ctx.t)  # the author supports their own idea
    ctx.send_later(
        f"idea:{idea.id}:post",
        idea_post(_public_t(ctx), idea, ctx.member.display_name),
        PlaceTarget(ctx.place.platform, ctx.place.channel_id),
        now,
    )
    return Reply(
        text=ctx._(
            "Thank you! Your idea is {ref}; it is posted here so that members can support it. "
            "You will be told when coordinators give it a status.",
            ref=ctx.t.ref(idea.id),
        ),
        ephemeral=True,
    )


def _support(ctx: Context, idea_id: int) -> Reply:
    idea = get_idea(ctx.db, idea_id, ctx.t)
    add_support(ctx.db, idea, ctx.member, ctx.now(), ctx.t)
    return Reply(
        text=ctx._(
            "You support idea {ref} ({supports} in all). Withdraw it with /idea withdraw {n}.",
            ref=ctx.t.ref(idea.id),
            supports=supports_text(ctx.t, idea.supports),
            n=idea.id,
        ),
        ephemeral=True,
    )


def _withdraw(ctx: Context, idea_id: int) -> Reply:
    idea = get_idea(ctx.db, idea_id, ctx.t)
    remove_support(ctx.db, idea, ctx.member, ctx.now(), ctx.t)
    return Reply(
        text=ctx._(
            "Your support of idea {ref} is withdrawn ({supports} left).",
            ref=ctx.t.ref(idea.id),
            supports=supports_text(ctx.t, idea.supports),
        ),
        ephemeral=True,
    )


@command(
    "soutenir",
    "support",
    N_("Supports an idea (where there are no buttons)."),
    options=[NUMBER],
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=("/idee soutenir 3",),
)
def support_command(ctx: Context, args: Args) -> Reply:
    return _support(ctx, args["numero"])


@command(
    "retirer",
    "withdraw",
    N_("Withdraws your support of an idea."),
    options=[NUMBER],
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=("/idee retirer 3",),
)
def withdraw_command(ctx: Context, args: Args) -> Reply:
    return _withdraw(ctx, args["numero"])


@on_choice("idea", r"(?P<id>\d{1,9}):(?P<verb>support|withdraw)")
def idea_choice(ctx: Context, match: re.Match[str]) -> Reply:
    if match["verb"] == "support":
        return _support(ctx, int(match["id"]))
    if match["verb"] == "withdraw":
        return _withdraw(ctx, int(match["id"]))
    raise StaleChoice(match.string)


@command(
    "statut",
    "status",
    N_(
        "Gives an idea a status (accepted, in-progress, done, declined) and an answer; its "
        "author is told."
    ),
    options=[
        NUMBER,
        Option(
            "statut",
            "status",
            N_("retenue, en-cours, realisee or ecartee (accepted, in-progress, done, declined)."),
            positional=True,
            required=True,
        ),
        Option(
            "reponse",
            "answer",
            N_("Your answer to the author, between double quotes."),
            type=OptionType.TEXT,
            positional=True,
        ),
    ],
    permission=Role.COORDINATOR,
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=('/idee statut 3 retenue "Nous la mettons au programme de mars."',),
)
def status_command(ctx: Context, args: Args) -> Reply:
    status = read_status(args["statut"])
    if status is None:
        raise UnknownStatus(ctx.t, text=args["statut"], statuses=status_words(ctx.t))
    response = " ".join((args["reponse"] or "").split()) or None
    if response is not None and len(response) > MAX_RESPONSE:
        raise ResponseTooLong(ctx.t, limit=MAX_RESPONSE, length=len(response))
    idea = get_idea(ctx.db, args["numero"], ctx.t)
    now = ctx.now()
    idea.status = status
    idea.response = response
    idea.status_at = now
    idea.status_changes += 1
    idea.updated_at = now
    author = ctx.db.get(Member, idea.author_id)
    told = ""
    if author is not None:
        ctx.send_later(
            f"idea:{idea.id}:status:{idea.status_changes}",
            _status_notice(ctx.translator_for(author), idea),
            DirectTarget(platform=author.platform, user_id=author.user_id),
            now,
        )
        told = " " + ctx._("{name} is told by direct message.", name=author.display_name)
    return Reply(
        text=ctx._(
            "Idea {ref} is now “{status}”.",
            ref=ctx.t.ref(idea.id),
            status=status_label(ctx.t, status),
        )
        + told,
        ephemeral=True,
    )


def _status_notice(t: Translator, idea: Idea) -> Reply:
    lines = [
        t.gettext(
            "💡 Your idea {ref} is now “{status}”.",
            ref=t.ref(idea.id),
            status=status_label(t, idea.status),
        ),
        t.quote(idea.text if len(idea.text) <= 200 else idea.text[:199] + "…"),
    ]
    if idea.response:
        lines.append(t.gettext("The coordinators' answer: {response}", response=idea.response))
    if idea.status == IdeaStatus.DECLINED:
        lines.append(t.gettext("Thank you all the same: every idea helps the network evolve."))
    return Reply(text="\n".join(lines))


@command(
    "idees",
    "ideas",
    N_("Lists the ideas of the ideas box, the most supported first."),
    examples=("/idees",),
)
def list_command(ctx: Context, args: Args) -> Reply:
    ideas, total = ranked_ideas(ctx.db)
    if not ideas:
        return Reply(
            text=ctx._('The ideas box is empty. Propose the first: /idea "your idea".'),
            ephemeral=True,
        )
    lines = [ctx.t.ngettext("**Ideas box** ({n} idea)", "**Ideas box** ({n} ideas)", total), ""]
    lines.extend(idea_line(ctx.t, idea) for idea in ideas)
    if total > len(ideas):
        lines.append(
            ctx.t.ngettext("… and {n} more idea.", "… and {n} more ideas.", total - len(ideas))
        )
    lines.extend(["", ctx._("Support one: /idea support N.")])
    return Reply(text="\n".join(lines), ephemeral=True)


@autocompleter("idea")
def suggest_ideas(db: Session, typed: str, actor: Actor, t: Translator) -> list[tuple[str, str]]:
    """The most supported ideas whose number or text contains what was typed."""
    wanted = fold(typed.strip().lstrip("#"))
    suggestions: list[tuple[str, str]] = []
    for idea in ranked_ideas(db, limit=200)[0]:
        excerpt = idea.text if len(idea.text) <= 60 else idea.text[:59] + "…"
        label = f"{t.ref(idea.id)} · {excerpt}"
        if not wanted or wanted in fold(label):
            suggestions.append((label, str(idea.id)))
    return suggestions[:25]
