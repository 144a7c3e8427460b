"""/profil (/profile): the handlers that show what the bot stores about the actor, and set their
language and consents."""

from __future__ import annotations

from bot.context import Context
from bot.core import Reply
from bot.i18n import N_, SUPPORTED_LOCALES
from bot.registry import Args, Option, OptionType, command
from commands import gazette, sessions
from commands.profile import email
from commands.profile.fields import profile_lines

GROUP_HELP = N_("Shows what Tisserand stores about you, and lets you choose your language.")


@command(
    "voir",
    "show",
    N_("Shows what Tisserand stores about you."),
    default=True,
    group_help=GROUP_HELP,
    examples=("/profil",),
    group="profil",
    group_alias="profile",
)
def show_profile(ctx: Context, args: Args) -> Reply:
    member = ctx.member
    language = {
        None: ctx._(
            "not chosen (following the network: {default})", default=ctx.settings.network.locale
        ),
        "fr": ctx._("French"),
        "en": ctx._("English"),
    }[member.locale]
    lines = [
        ctx._("**What Tisserand stores about you**"),
        "",
        ctx._("- Name: {name}", name=member.display_name),
        ctx._(
            "- Platform: {platform} (identifier {user_id})",
            platform=member.platform,
            user_id=member.user_id,
        ),
        ctx._("- Language: {language}", language=language),
        ctx._("- Known since: {date}", date=ctx.t.datetime(member.created_at)),
        ctx._(
            "- Category: {category} (see /category)",
            category=sessions.category_label(ctx.t, member.category),
        ),
        *profile_lines(ctx),
        *email.status_lines(ctx),
        "",
        ctx._("Change your language with /profile language fr or /profile language en."),
    ]
    return Reply(text="\n".join(lines), ephemeral=True)


@command(
    "langue",
    "language",
    N_("Chooses the language Tisserand uses with you (fr or en)."),
    options=[
        Option(
            "code",
            "code",
            N_("fr for French, en for English."),
            type=OptionType.CHOICE,
            choices=SUPPORTED_LOCALES,
            positional=True,
            required=True,
        )
    ],
    examples=("/profil langue en", "/profile language fr"),
    group="profil",
    group_alias="profile",
)
def set_language(ctx: Context, args: Args) -> Reply:
    ctx.member.locale = args["code"]
    ctx.member.updated_at = ctx.now()
    t = ctx.translators.get(args["code"])
    return Reply(text=t.gettext("Done: I will now write to you in English."), ephemeral=True)


# --- consent to the gazette (services in commands.gazette) ------------------------------------


@command(
    "consentements",
    "consents",
    N_("Lists your words kept for the gazette and what you answered."),
    examples=("/profil consentements",),
    group="profil",
    group_alias="profile",
)
def show_consents(ctx: Context, args: Args) -> Reply:
    return gazette.my_consents(ctx)


@command(
    "retirer",
    "withdraw",
    N_("Withdraws your consent for one highlight: it leaves the gazette and its archive."),
    options=[
        Option(
            "numero",
            "number",
            N_("The number of the highlight (see /profile consents)."),
            type=OptionType.INTEGER,
            positional=True,
            required=True,
            autocomplete="highlight",
        )
    ],
    examples=("/profil retirer 4",),
    group="profil",
    group_alias="profile",
)
def withdraw_consent(ctx: Context, args: Args) -> Reply:
    return gazette.withdraw(ctx, args["numero"])


@command(
    "ne-plus-demander",
    "never-ask",
    N_("Never ask me again: my new highlights are not published."),
    examples=("/profil ne-plus-demander",),
    group="profil",
    group_alias="profile",
)
def never_ask_me(ctx: Context, args: Args) -> Reply:
    return gazette.stop_asking(ctx)


@command(
    "redemander",
    "ask-again",
    N_("Ask me again before publishing my words in the gazette."),
    examples=("/profil redemander",),
    group="profil",
    group_alias="profile",
)
def ask_me_again(ctx: Context, args: Args) -> Reply:
    return gazette.ask_again(ctx)
