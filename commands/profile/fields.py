"""/profil organisation|territoire|interets|presentation|visibilite: what a member says about
themselves, shown in /profil and the directory (/annuaire), and used in the gazette's bylines.

Every field is optional: alone, a subcommand shows the current value; ``-`` (or ``aucun``,
``none``) clears it. Interests are matched against the network's themes (those of the veille),
accents, case and plurals forgiven; an unknown one is refused with the nearest theme suggested.
"""

from __future__ import annotations

from bot.context import Context
from bot.core import Reply
from bot.i18n import N_, Translator, fold
from bot.mentions import mass_mention_signs
from bot.registry import Args, Option, OptionType, command
from bot.storage.profiles import (
    MAX_INTERESTS,
    MAX_ORGANISATION,
    MAX_PRESENTATION,
    MAX_TERRITORY,
    VISIBLE_TO_COORDINATORS,
    VISIBLE_TO_MEMBERS,
    MemberProfile,
    match_theme,
    nearest_theme,
    network_themes,
    split_themes,
    theme_key,
)
from commands.profile.errors import (
    FieldTooLong,
    MassMention,
    TooManyInterests,
    UnknownTheme,
    UnknownThemeNoSuggestion,
    UnknownVisibility,
)

_CLEAR = ("-", "aucun", "aucune", "none", "rien", "effacer", "clear")
_TO_MEMBERS = ("membres", "members", "tous", "everyone", "all")
_TO_COORDINATORS = (
    "coordination",
    "coordinators",
    "coordinateurs",
    "coordinatrices",
    "coordinateurices",
)
FIELD_LABELS = {
    "organisation": N_("organisation"),
    "territory": N_("territory"),
    "interests": N_("interests"),
    "presentation": N_("presentation"),
}


def profile_row(ctx: Context) -> MemberProfile:
    """The actor's profile, created empty when they have none."""
    row = ctx.db.get(MemberProfile, ctx.member.id)
    if row is None:
        row = MemberProfile(member_id=ctx.member.id, interests=[], updated_at=ctx.now())
        ctx.db.add(row)
    return row


def read_text(t: Translator, field: str, raw: str, limit: int, *, lines: bool = False) -> str:
    """A field's text, tidied (one line unless ``lines``), refused when too long or when it
    holds a mass mention."""
    text = "\n".join(" ".join(line.split()) for line in raw.strip().splitlines()).strip()
    if not lines:
        text = " ".join(text.split())
    label = t.gettext(FIELD_LABELS[field])
    if len(text) > limit:
        raise FieldTooLong(t, length=len(text), field=label, limit=limit)
    if mass_mention_signs(text):
        raise MassMention(t, field=label)
    return text


def read_interests(ctx: Context, raw: str) -> list[str]:
    """The themes of ``raw`` as the network spells them (each once, in the order given)."""
    given = split_themes(raw)
    if len(given) > MAX_INTERESTS:
        raise TooManyInterests(ctx.t, limit=MAX_INTERESTS, count=len(given))
    themes = network_themes(ctx.db)
    found: list[str] = []
    for theme in given:
        read_text(ctx.t, "interests", theme, 100)
        if themes:
            matched = match_theme(theme, themes)
            if matched is None:
                nearest = nearest_theme(theme, themes)
                listed = ", ".join(themes[:30])
                if nearest is None:
                    raise UnknownThemeNoSuggestion(ctx.t, theme=theme, themes=listed)
                raise UnknownTheme(ctx.t, theme=theme, nearest=nearest, themes=listed)
            theme = matched
        if theme_key(theme) not in {theme_key(f) for f in found}:
            found.append(theme)
    return found


def _cleared(raw: str | None) -> bool:
    return raw is not None and fold(raw.strip()) in _CLEAR


def _show(ctx: Context, field: str, value: str | None) -> Reply:
    label = ctx._(FIELD_LABELS[field])
    if not value:
        return Reply(text=ctx._("Your {field} is not given.", field=label), ephemeral=True)
    return Reply(text=ctx._("Your {field}: {value}", field=label, value=value), ephemeral=True)


def _set(ctx: Context, field: str, raw: str | None, limit: int, *, lines: bool = False) -> Reply:
    row = ctx.db.get(MemberProfile, ctx.member.id)
    current = getattr(row, field) if row is not None else None
    if raw is None or not raw.strip():
        return _show(ctx, field, current)
    label = ctx._(FIELD_LABELS[field])
    row = profile_row(ctx)
    row.updated_at = ctx.now()
    if _cleared(raw):
        setattr(row, field, None)
        return Reply(text=ctx._("Done: your {field} is removed.", field=label), ephemeral=True)
    value = read_text(ctx.t, field, raw, limit, lines=lines)
    setattr(row, field, value)
    return Reply(
        text=ctx._("Done: your {field} is now “{value}”.", field=label, value=value),
        ephemeral=True,
    )


def _text_option(help: str) -> Option:
    return Option("texte", "text", help, type=OptionType.TEXT, positional=True)


@command(
    "organisation",
    "organisation",
    N_("Sets the organisation you work for (shown in the directory and the gazette)."),
    options=[_text_option(N_("Your organisation; - removes it."))],
    examples=('/profil organisation "Mairie de Lons"', "/profil organisation -"),
    group="profil",
    group_alias="profile",
)
def set_organisation(ctx: Context, args: Args) -> Reply:
    return _set(ctx, "organisation", args["texte"], MAX_ORGANISATION)


@command(
    "territoire",
    "territory",
    N_("Sets the territory you work on (a commune, an intercommunality, a department)."),
    options=[_text_option(N_("Your territory; - removes it."))],
    examples=('/profil territoire "Pays de Lons"',),
    group="profil",
    group_alias="profile",
)
def set_territory(ctx: Context, args: Args) -> Reply:
    return _set(ctx, "territory", args["texte"], MAX_TERRITORY)


@command(
    "presentation",
    "introduction",
    N_("Sets a few words about you and what you work on."),
    options=[_text_option(N_("A few words about you; - removes them."))],
    examples=('/profil presentation "Chargée de mission mobilités, vélo et covoiturage"',),
    group="profil",
    group_alias="profile",
)
def set_presentation(ctx: Context, args: Args) -> Reply:
    return _set(ctx, "presentation", args["texte"], MAX_PRESENTATION, lines=True)


@command(
    "interets",
    "interests",
    N_("Sets the themes you work on, among the network's themes, separated by commas."),
    options=[_text_option(N_("Themes separated by commas; - removes them."))],
    examples=('/profil interets "mobilité, alimentation"', "/profile interests -"),
    group="profil",
    group_alias="profile",
)
def set_interests(ctx: Context, args: Args) -> Reply:
    raw: str | None = args["texte"]
    row = ctx.db.get(MemberProfile, ctx.member.id)
    label = ctx._(FIELD_LABELS["interests"])
    if raw is None or not raw.strip():
        current = ", ".join(row.interests) if row is not None and row.interests else None
        reply = _show(ctx, "interests", current)
        themes = network_themes(ctx.db)
        if themes:
            reply = Reply(
                text=reply.text
                + "\n"
                + ctx._("The network's themes: {themes}.", themes=", ".join(themes)),
                ephemeral=True,
            )
        return reply
    if _cleared(raw):
        row = profile_row(ctx)
        row.interests = []
        row.updated_at = ctx.now()
        return Reply(text=ctx._("Done: your {field} is removed.", field=label), ephemeral=True)
    interests = read_interests(ctx, raw)
    row = profile_row(ctx)
    row.interests = interests
    row.updated_at = ctx.now()
    return Reply(
        text=ctx._("Done: your {field} is now “{value}”.", field=label, value=", ".join(interests)),
        ephemeral=True,
    )


def read_visibility(t: Translator, raw: str) -> str:
    word = fold(raw.strip()).replace("·", "").replace(".", "")
    if word in _TO_MEMBERS:
        return VISIBLE_TO_MEMBERS
    if word in _TO_COORDINATORS:
        return VISIBLE_TO_COORDINATORS
    raise UnknownVisibility(t, text=raw.strip())


def visibility_label(t: Translator, visibility: str) -> str:
    if visibility == VISIBLE_TO_COORDINATORS:
        return t.gettext("the coordinators only")
    return t.gettext("every member")


@command(
    "visibilite",
    "visibility",
    N_("Chooses who sees your profile in the directory: membres (everyone) or coordination."),
    options=[
        Option(
            "qui",
            "who",
            N_("membres (every member) or coordination (the coordinators only)."),
            positional=True,
        )
    ],
    examples=("/profil visibilite coordination", "/profile visibility members"),
    group="profil",
    group_alias="profile",
)
def set_visibility(ctx: Context, args: Args) -> Reply:
    raw: str | None = args["qui"]
    row = ctx.db.get(MemberProfile, ctx.member.id)
    if raw is None or not raw.strip():
        current = row.visibility if row is not None else VISIBLE_TO_MEMBERS
        return Reply(
            text=ctx._(
                "Your profile is seen in the directory by {who}.",
                who=visibility_label(ctx.t, current),
            ),
            ephemeral=True,
        )
    visibility = read_visibility(ctx.t, raw)
    row = profile_row(ctx)
    row.visibility = visibility
    row.updated_at = ctx.now()
    return Reply(
        text=ctx._(
            "Done: your profile is now seen in the directory by {who}.",
            who=visibility_label(ctx.t, visibility),
        ),
        ephemeral=True,
    )


def profile_lines(ctx: Context) -> list[str]:
    """The lines of /profil about the profile fields (none when the member gave none)."""
    row = ctx.db.get(MemberProfile, ctx.member.id)
    if row is None:
        return [ctx._("- Profile: empty (see /profile organisation, territory, interests).")]
    values = (
        ("organisation", row.organisation),
        ("territory", row.territory),
        ("interests", ", ".join(row.interests) if row.interests else None),
        ("presentation", row.presentation),
    )
    lines = [
        ctx._("- {Field}: {value}", Field=ctx._(FIELD_LABELS[field]).capitalize(), value=value)
        for field, value in values
        if value
    ]
    lines.append(
        ctx._(
            "- Directory: your profile is seen by {who}.",
            who=visibility_label(ctx.t, row.visibility),
        )
    )
    return lines
