"""Reading a typed command line: the tokenizer and the options of a spec.

Text platforms (console, Rocket.Chat, Discord messages) split the line with :func:`split_words`
and read it with :func:`parse_arguments`; Discord's application commands give the options already
split and are checked by :func:`structured_arguments`. Every problem is a :class:`UserError` in the
actor's language that says what to do, with an example taken from the command's own help (never a
placeholder such as ``<membres>``).

Quotation, as French people type it: a word opening with ``"``, ``«``, ``“``, ``„`` or ``‘`` (or
such a quote right after ``=`` in ``--quand="lundi 9h"``) runs to its matching closing quote
followed by a space or the end of the line. Inside, every other quote is kept as typed: ``"défi
« Familles zéro déchet »"`` keeps its « », and a straight quote opening a word inside a straight
quoted text nests (``"il a dit "oui" hier"``). The apostrophe (``l'eau``, ``l’eau``) is never a
quote.
"""

from __future__ import annotations

import re
from typing import Any

from bot.commandspec import Args, CommandSpec, Option, OptionType
from bot.core import UserError
from bot.i18n import Translator, fold

_CLOSERS: dict[str, str] = {'"': '"”', "«": "»", "“": "”", "„": "“”", "‘": "’", "”": "”"}
"""Opening quote -> the quotes that close it."""
_NUMBER = re.compile(r"^(?:n[°o]\s*|#|num(?:e|é)ro\s*)?(\d{1,9})$", re.IGNORECASE)
_NUMBER_SIGN = re.compile(r"^(?:n[°o]|#|num(?:e|é)ro|number|no\.)$", re.IGNORECASE)


class Quoted(str):
    """A word the person put between quotes: free text, never a subcommand nor an option."""

    __slots__ = ()


def split_words(line: str, t: Translator) -> list[str]:
    """Split a command line into words; quoted words are :class:`Quoted` (see the module)."""
    words: list[str] = []
    text = line.strip()
    index, length = 0, len(text)
    while index < length:
        if text[index].isspace():
            index += 1
            continue
        if text[index] in _CLOSERS:
            value, index = _quoted(text, index + 1, text[index], t)
            words.append(Quoted(value))
            continue
        start = index
        while index < length and not text[index].isspace():
            if text[index] == "=" and index + 1 < length and text[index + 1] in _CLOSERS:
                head = text[start : index + 1]
                value, index = _quoted(text, index + 2, text[index + 1], t)
                words.append(head + value)
                break
            index += 1
        else:
            words.append(text[start:index])
    return words


def _quoted(text: str, index: int, opener: str, t: Translator) -> tuple[str, int]:
    """The text from ``index`` to the quote closing ``opener``, and where to go on."""
    closers = _CLOSERS[opener]
    depth = 0
    start = index
    while index < len(text):
        char = text[index]
        at_end = index + 1 == len(text) or text[index + 1].isspace()
        if char in closers and at_end:
            if depth == 0:
                return text[start:index].strip(), index + 1
            depth -= 1
        elif char == opener and (index == start or text[index - 1].isspace()):
            depth += 1
        index += 1
    raise UserError(
        t.gettext('A quotation mark is not closed. Put each text between "double quotes".')
    )


def join_words(words: list[str]) -> str:
    """A command line that :func:`split_words` reads back as ``words`` (quoted where needed)."""
    out: list[str] = []
    for word in words:
        plain = word and not any(c.isspace() or c in _CLOSERS or c == "=" for c in word)
        if plain and not isinstance(word, Quoted):
            out.append(word)
        elif not any(c in "»" for c in word):
            out.append(f"« {word} »" if word else '""')
        else:
            out.append(f'"{word}"')
    return " ".join(out)


def parse_arguments(spec: CommandSpec, words: list[str], t: Translator) -> Args:
    """Read option values from ``words`` according to ``spec``."""
    by_key: dict[str, Option] = {}
    for option in spec.options:
        if not option.positional:
            by_key[fold(option.name)] = option
            by_key[fold(option.alias)] = option
    positionals = [o for o in spec.options if o.positional]
    args = Args()
    free: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        if word.startswith("--") and len(word) > 2 and not isinstance(word, Quoted):
            key, _, inline = word[2:].partition("=")
            found = by_key.get(fold(key))
            if found is None:
                raise _usage_error(spec, t, t.gettext("Unknown option --{option}.", option=key))
            option = found
            if option.type is OptionType.FLAG:
                if inline:
                    raise _usage_error(spec, t, t.gettext("--{option} takes no value.", option=key))
                args[option.name] = True
            else:
                if inline:
                    value = inline
                elif index + 1 < len(words):
                    index += 1
                    value = words[index]
                else:
                    raise _usage_error(spec, t, t.gettext("--{option} needs a value.", option=key))
                args[option.name] = convert(option, value, t, spec)
        else:
            free.append(word)
        index += 1
    for option in positionals:
        if option.type is OptionType.INTEGER and len(free) > 1 and _is_number_sign(free[0]):
            free.pop(0)  # "n° 12": the sign of a number argument, never of a text
        if option.variadic:
            values = [convert(option, w, t, spec) for w in free]
            free = []
            if len(values) < option.min_count:
                problem = _missing(option, t)
                if values:
                    problem = t.ngettext(
                        "{label} needs at least {n} value.",
                        "{label} needs at least {n} values.",
                        option.min_count,
                        label=_label(option, t),
                    )
                raise _usage_error(spec, t, problem)
            if option.max_count is not None and len(values) > option.max_count:
                raise _usage_error(
                    spec,
                    t,
                    t.ngettext(
                        "{label} takes at most {n} value.",
                        "{label} takes at most {n} values.",
                        option.max_count,
                        label=_label(option, t),
                    ),
                )
            args[option.name] = values if values else option.default
        elif option.type is OptionType.TEXT:
            args[option.name] = convert(option, " ".join(free), t, spec) if free else option.default
            free = []
        elif free:
            args[option.name] = convert(option, free.pop(0), t, spec)
    if free:
        raise _usage_error(spec, t, t.gettext("Too many words: {words}.", words=join_words(free)))
    for option in spec.options:
        if option.name not in args or args[option.name] is None:
            if option.required:
                raise _usage_error(spec, t, _missing(option, t))
            args[option.name] = False if option.type is OptionType.FLAG else option.default
    return args


def _is_number_sign(word: str) -> bool:
    return not isinstance(word, Quoted) and _NUMBER_SIGN.match(word) is not None


def _label(option: Option, t: Translator) -> str:
    name = option.name if t.locale == "fr" else option.alias
    return f"“{name}”" if option.positional else f"--{name}"


def _missing(option: Option, t: Translator) -> str:
    if option.positional:
        return t.gettext("Something is missing: {what}", what=t.gettext(option.help))
    return t.gettext("{label} is missing.", label=_label(option, t))


def _usage_error(spec: CommandSpec, t: Translator, problem: str) -> UserError:
    """``problem``, then an example of the command from its help (its usage when it has none)."""
    usage = spec.usage(t)
    if spec.examples:
        hint = t.gettext("For example: {example}", example=spec.examples[0])
    else:
        hint = t.gettext("Usage: {usage}", usage=usage)
    return UserError(problem + "\n" + hint, usage=usage)


def convert(option: Option, value: Any, t: Translator, spec: CommandSpec | None = None) -> Any:
    """Convert one raw value to the option's type; structured platforms call this too."""
    if option.type in (OptionType.STRING, OptionType.TEXT):
        text = str(value).strip()
        if not text and (option.required or option.positional):
            problem = t.gettext("{label} is empty.", label=_label(option, t))
            if option.positional:
                problem = _missing(option, t)
            raise _usage_error(spec, t, problem) if spec else UserError(problem)
        return text
    if option.type is OptionType.INTEGER:
        if isinstance(value, int):
            return value
        match = _NUMBER.match(str(value).strip())
        if not match:
            problem = t.gettext(
                "{label} must be a number, for example 12 (got “{value}”).",
                label=_label(option, t),
                value=value,
            )
            raise _usage_error(spec, t, problem) if spec else UserError(problem)
        return int(match.group(1))
    if option.type is OptionType.FLAG:
        return bool(value)
    if option.type is OptionType.CHANNEL:
        return str(value).strip().lstrip("#")
    if option.type is OptionType.USER:
        return str(value).strip().lstrip("@")
    if option.type is OptionType.CHOICE:
        folded = fold(str(value).strip())
        for choice in option.choices:
            if fold(choice) == folded:
                return choice
        problem = t.gettext(
            "{label} must be one of: {choices}.",
            label=_label(option, t),
            choices=", ".join(option.choices),
        )
        raise _usage_error(spec, t, problem) if spec else UserError(problem)
    raise AssertionError(option.type)  # pragma: no cover


def structured_arguments(spec: CommandSpec, values: dict[str, Any], t: Translator) -> Args:
    """Options already split by the platform (Discord): convert and check them."""
    args = Args()
    for option in spec.options:
        raw = values.get(option.name, values.get(option.alias))
        if raw is None:
            if option.required:
                raise _usage_error(spec, t, _missing(option, t))
            args[option.name] = False if option.type is OptionType.FLAG else option.default
        elif option.variadic:
            items = raw if isinstance(raw, list) else split_words(str(raw), t)
            args[option.name] = [convert(option, w, t, spec) for w in items]
        else:
            args[option.name] = convert(option, raw, t, spec)
    return args
