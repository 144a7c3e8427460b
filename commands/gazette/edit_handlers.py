"""/gazette edito, deplacer, retirer, remettre: editing the draft (coordinators).

Items are named by the numbers the draft list shows; those numbers stay the same when the draft
is refreshed or reordered. ``retirer`` and ``remettre`` take several numbers, ranges (``5-9``)
and whole sections (``nouveaux``); ``deplacer`` moves one or several items of a section before
or after another one.
"""

from __future__ import annotations

from bot.context import Context
from bot.core import Reply, Role
from bot.i18n import N_
from bot.registry import Args, Option, OptionType, command
from bot.storage.highlights import GazetteItem
from commands.gazette.draft import ordered_items
from commands.gazette.errors import (
    AcrossSections,
    EditorialMissing,
    EditorialTooLong,
    MoveItself,
    WhereToMove,
)
from commands.gazette.preview import preview_reply, require_draft
from commands.gazette.selection import item_numbered, select_items

GROUP = "gazette"
GROUP_ALIAS = "gazette"
EDITORIAL_LIMIT = 4000


@command(
    "edito",
    "editorial",
    N_("Writes the editorial of the gazette draft."),
    options=[
        Option(
            "texte",
            "text",
            N_("The editorial."),
            type=OptionType.TEXT,
            positional=True,
        ),
        Option("effacer", "clear", N_("Remove the editorial."), type=OptionType.FLAG),
    ],
    permission=Role.COORDINATOR,
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=('/gazette edito "Un mois riche en rencontres…"', "/gazette edito --effacer"),
)
def editorial_command(ctx: Context, args: Args) -> Reply:
    draft = require_draft(ctx)
    text = (args["texte"] or "").strip()
    if args["effacer"]:
        draft.editorial = None
        draft.updated_at = ctx.now()
        return Reply(text=ctx._("Editorial removed."), ephemeral=True)
    if not text:
        raise EditorialMissing(ctx.t)
    if len(text) > EDITORIAL_LIMIT:
        raise EditorialTooLong(ctx.t, len(text), EDITORIAL_LIMIT)
    draft.editorial = text
    draft.updated_at = ctx.now()
    return Reply(text=ctx._("Editorial saved."), ephemeral=True)


_SELECTION = Option(
    "numeros",
    "numbers",
    N_("Item numbers, ranges (5-9) or a section (nouveaux, pepites, seances, sondages, veille)."),
    type=OptionType.STRING,
    positional=True,
    variadic=True,
    min_count=1,
)


@command(
    "deplacer",
    "move",
    N_("Moves items of the draft before or after another one of the same section."),
    options=[
        _SELECTION,
        Option("avant", "before", N_("Put them before this item."), type=OptionType.INTEGER),
        Option("apres", "after", N_("Put them after this item."), type=OptionType.INTEGER),
    ],
    permission=Role.COORDINATOR,
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=("/gazette deplacer 3 --avant 1", "/gazette deplacer 4 5 --apres 2"),
)
def move_command(ctx: Context, args: Args) -> Reply:
    draft = require_draft(ctx)
    before, after = args["avant"], args["apres"]
    if (before is None) == (after is None):
        raise WhereToMove(ctx.t)
    moving = select_items(ctx, draft, args["numeros"])
    anchor_number = before if before is not None else after
    anchor = item_numbered(ctx, draft, anchor_number)
    for item in moving:
        if item is anchor:
            raise MoveItself(ctx.t, item.number)
        if item.kind != anchor.kind:
            raise AcrossSections(ctx.t, item.number, anchor.number)
    _move(draft_items=ordered_items(draft), moving=moving, anchor=anchor, after=after is not None)
    draft.updated_at = ctx.now()
    ctx.db.flush()
    return preview_reply(ctx, draft, ctx._("Moved."))


def _move(
    *, draft_items: list[GazetteItem], moving: list[GazetteItem], anchor: GazetteItem, after: bool
) -> None:
    """Reorder the anchor's section; positions are reused, so other sections do not move."""
    section = [i for i in draft_items if i.kind == anchor.kind]
    positions = sorted(i.position for i in section)
    rest = [i for i in section if all(i is not m for m in moving)]
    index = next(n for n, i in enumerate(rest) if i is anchor) + (1 if after else 0)
    ordered = rest[:index] + moving + rest[index:]
    for entry, position in zip(ordered, positions, strict=True):
        entry.position = position


def _drop(ctx: Context, args: Args, dropped: bool) -> Reply:
    draft = require_draft(ctx)
    items = select_items(ctx, draft, args["numeros"])
    for item in items:
        item.dropped = dropped
    draft.updated_at = ctx.now()
    ctx.db.flush()
    numbers = ", ".join(str(item.number) for item in items)
    done = (
        ctx.t.ngettext(
            "Item {numbers} dropped from the gazette.",
            "Items {numbers} dropped from the gazette.",
            len(items),
            numbers=numbers,
        )
        if dropped
        else ctx.t.ngettext(
            "Item {numbers} is back in the gazette.",
            "Items {numbers} are back in the gazette.",
            len(items),
            numbers=numbers,
        )
    )
    return preview_reply(ctx, draft, done)


@command(
    "retirer",
    "drop",
    N_("Leaves items out of the gazette draft (numbers, ranges or a whole section)."),
    options=[_SELECTION],
    permission=Role.COORDINATOR,
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=("/gazette retirer 4", "/gazette retirer 3 5-9", "/gazette retirer nouveaux"),
)
def drop_command(ctx: Context, args: Args) -> Reply:
    return _drop(ctx, args, True)


@command(
    "remettre",
    "restore",
    N_("Puts dropped items back in the gazette draft (numbers, ranges or a whole section)."),
    options=[_SELECTION],
    permission=Role.COORDINATOR,
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=("/gazette remettre 4", "/gazette remettre 3-5"),
)
def restore_command(ctx: Context, args: Args) -> Reply:
    return _drop(ctx, args, False)
