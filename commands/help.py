"""/aide (/help): the commands the actor may use, or the help of one command; answered to the
asker only (ephemeral), in their language."""

from __future__ import annotations

import sys

from bot.context import Context
from bot.core import Reply, Role, UserError
from bot.family import Family
from bot.i18n import N_
from bot.registry import Args, CommandSpec, Option, OptionType, command


def _describe(spec: CommandSpec, ctx: Context) -> str:
    return f"**/{spec.display_name(ctx.t.locale)}** — {ctx._(spec.help)}"


@command(
    "aide",
    "help",
    N_("Lists the commands you may use, or explains one command."),
    options=[
        Option(
            "commande",
            "command",
            N_("The command to explain, for example sondage."),
            type=OptionType.TEXT,
            positional=True,
        )
    ],
    examples=("/aide", "/aide sondage"),
)
def help_command(ctx: Context, args: Args) -> Reply:
    wanted: str | None = args["commande"]
    if wanted:
        return Reply(text=_one(ctx, wanted.lstrip("/")), ephemeral=True)
    specs = ctx.registry.visible_to(ctx.actor.is_coordinator)
    entries: dict[str, str] = {}
    for spec in specs:
        if spec.group:
            head = spec.group if ctx.t.locale == "fr" else (spec.group_alias or spec.group)
            if head not in entries:
                entries[head] = f"**/{head}** — {ctx._(_group_summary(ctx, spec.group, specs))}"
        else:
            entries[spec.display_name(ctx.t.locale)] = _describe(spec, ctx)
    lines = [ctx._("**Tisserand — commands you can use**"), ""]
    lines.extend("- " + entries[name] for name in sorted(entries))
    lines.append("")
    lines.append(ctx._("Type /help followed by a command name for its options."))
    # Answered to the asker only, in their language: ephemeral on Discord, a direct message on
    # Rocket.Chat, a private line on the console.
    return Reply(text="\n".join(lines), ephemeral=True)


def _group_summary(ctx: Context, group: str, visible: list[CommandSpec]) -> str:
    """The group's help, or the help of its one subcommand the actor may use (a member sees
    "/veille — Lists the feeds watched", not the coordinators' actions)."""
    members = ctx.registry.group_members(group)
    # by identity: comparing specs field by field (dataclass ==) made /aide 4x slower
    visible_ids = {id(spec) for spec in visible}
    shown = [m for m in members if id(m) in visible_ids]
    if len(shown) == 1 and len(members) > 1 and not shown[0].default:
        return shown[0].help
    return next((m.group_help for m in members if m.group_help), shown[0].help)


def _one(ctx: Context, wanted: str) -> str:
    words = wanted.split()
    members = ctx.registry.group_members(words[0])
    if members and len(words) == 1:
        default = next((m for m in members if m.default), members[0])
        return _group_help(ctx, default, members)
    spec = ctx.registry.find(words[0], words[1] if len(words) > 1 else None)
    if spec is None:
        # Let the registry explain (with a suggestion of the closest name).
        ctx.registry.resolve(words, ctx.t)
        raise UserError(ctx._("Unknown command /{name}.", name=wanted))
    return _spec_help(ctx, spec)


def _spec_help(ctx: Context, spec: CommandSpec) -> str:
    fr = ctx.t.locale == "fr"
    lines = [f"**/{spec.display_name(ctx.t.locale)}** — {ctx._(spec.help)}"]
    other = spec.display_name("en" if fr else "fr")
    lines.append(ctx._("Also: /{other}", other=other))
    lines.append(ctx._("Usage: {usage}", usage=spec.usage(ctx.t)))
    if spec.options:
        lines.append("")
        for option in spec.options:
            label = option.name if fr else option.alias
            label = f"<{label}>" if option.positional else f"--{label}"
            extra = ""
            if option.choices:
                extra = " (" + ", ".join(option.choices) + ")"
            lines.append(f"- `{label}`{extra} — {ctx._(option.help)}")
    if spec.permission is Role.COORDINATOR:
        lines.append("")
        lines.append(ctx._("Reserved for coordinators."))
    if spec.examples:
        lines.append("")
        lines.append(ctx._("Examples:"))
        lines.extend(f"- `{example}`" for example in spec.examples)
    return "\n".join(lines)


def _group_help(ctx: Context, default: CommandSpec, members: list[CommandSpec]) -> str:
    head = default.group if ctx.t.locale == "fr" else default.group_alias
    summary = next((m.group_help for m in members if m.group_help), None) or default.help
    lines = [f"**/{head}** — {ctx._(summary)}", ""]
    visible = [m for m in members if ctx.actor.is_coordinator or m.permission is Role.MEMBER]
    for member in sorted(visible, key=lambda s: s.display_name(ctx.t.locale)):
        lines.append(f"- `{member.usage(ctx.t)}` — {ctx._(member.help)}")
    return "\n".join(lines)


FAMILY = Family(name="help", handlers=(sys.modules[__name__],))
