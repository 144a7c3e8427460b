"""/veille categories N ...: map a source's own entry categories to the network's themes."""

from __future__ import annotations

from bot.context import Context
from bot.core import Reply, Role, UserError
from bot.i18n import N_
from bot.registry import Args, Option, OptionType, command
from commands.veille.messages import source_label
from commands.veille.store import platform_source
from commands.veille.themes import MAX_MAPPINGS, format_theme_map, parse_theme_map, read_pairs

_NONE_WORDS = frozenset({"aucune", "aucun", "none"})


@command(
    "categories",
    "categories",
    N_(
        "Maps a feed's own categories to the network's themes: an entry filed under a mapped "
        "category takes that theme (the others keep the feed's theme)."
    ),
    group="veille",
    group_alias="watch",
    options=[
        Option(
            "numero",
            "number",
            N_("The number of the source, as /watch list shows it."),
            type=OptionType.INTEGER,
            positional=True,
            required=True,
            autocomplete="source",
        ),
        Option(
            "correspondances",
            "mappings",
            N_('Each as "category=Theme", or "aucune" (none) to remove them; nothing: show them.'),
            positional=True,
            variadic=True,
        ),
    ],
    permission=Role.COORDINATOR,
    examples=(
        '/veille categories 3 "alimentation durable=Alimentation" "climat=Énergie"',
        "/veille categories 3 aucune",
    ),
)
def set_categories(ctx: Context, args: Args) -> Reply:
    source = platform_source(ctx.db, args["numero"], ctx.place.platform)
    if source is None:
        raise UserError(
            ctx._(
                "There is no source {ref}. /watch list shows the sources and their numbers.",
                ref=ctx.t.ref(args["numero"]),
            )
        )
    given = [text for text in (args["correspondances"] or []) if text.strip()]
    ref, name = ctx.t.ref(source.id), source_label(source)
    if not given:
        current = parse_theme_map(source.theme_map)
        if not current:
            return Reply(
                text=ctx._(
                    "Source {ref} (“{name}”) maps no category: all its entries take its theme. "
                    'Map some with /watch categories {n} "category=Theme".',
                    ref=ref,
                    name=name,
                    n=source.id,
                ),
                ephemeral=True,
            )
        return Reply(text=_listing(ctx, ref, name, current), ephemeral=True)
    if len(given) == 1 and given[0].strip().casefold() in _NONE_WORDS:
        source.theme_map = None
        return Reply(
            text=ctx._(
                "Source {ref} (“{name}”) maps no category any more: its new entries take its "
                "theme.",
                ref=ref,
                name=name,
            ),
            ephemeral=True,
        )
    mapping, bad = read_pairs(given)
    if bad:
        raise UserError(
            ctx._(
                "“{text}” is not of the form category=Theme (100 characters at most on each "
                'side). Example: /watch categories {n} "sustainable food=Food".',
                text=bad[0],
                n=source.id,
            )
        )
    if len(mapping) > MAX_MAPPINGS:
        raise UserError(
            ctx._("A source maps at most {max} categories.", max=MAX_MAPPINGS),
        )
    source.theme_map = format_theme_map(mapping)
    return Reply(text=_listing(ctx, ref, name, mapping), ephemeral=True)


def _listing(ctx: Context, ref: str, name: str, mapping: dict[str, str]) -> str:
    lines = [
        ctx._(
            "Source {ref} (“{name}”): its new entries filed under these categories take these "
            "themes:",
            ref=ref,
            name=name,
        )
    ]
    lines.extend(f"- {category} → {theme}" for category, theme in mapping.items())
    return "\n".join(lines)
