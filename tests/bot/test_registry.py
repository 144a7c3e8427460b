"""Command specs, text parsing and lookup."""

from __future__ import annotations

import types
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import Reply, UserError
from bot.i18n import Translators
from bot.registry import (
    InvalidSpecError,
    Option,
    OptionType,
    Registry,
    command,
    parse_arguments,
    split_words,
)
from tests.support.chat import Chat, text_of

T = Translators(ZoneInfo("Europe/Paris"))
FR = T.get("fr")
EN = T.get("en")


def _module(**handlers: object) -> types.ModuleType:
    module = types.ModuleType("fake_commands")
    for name, value in handlers.items():
        setattr(module, name, value)
    return module


@command(
    "sondage",
    "poll",
    "Creates a poll.",
    group="sondage",
    group_alias="poll",
    default=True,
    options=[
        Option("question", "question", "The question.", positional=True, required=True),
        Option(
            "options",
            "options",
            "The answers.",
            positional=True,
            variadic=True,
            min_count=2,
            max_count=20,
        ),
        Option("multiple", "multiple", "Several answers.", type=OptionType.FLAG),
        Option("max", "max", "At most.", type=OptionType.INTEGER),
        Option("fin", "end", "Deadline."),
    ],
)
def create_poll(ctx: object, args: object) -> Reply:
    return Reply(text="created")


@command(
    "resultats",
    "results",
    "Shows results.",
    group="sondage",
    group_alias="poll",
    options=[
        Option(
            "numero", "number", "The poll.", type=OptionType.INTEGER, positional=True, required=True
        )
    ],
)
def poll_results(ctx: object, args: object) -> Reply:
    return Reply(text="results")


@command(
    "aide",
    "help",
    "Help.",
    options=[Option("commande", "command", "Which.", type=OptionType.TEXT, positional=True)],
)
def help_cmd(ctx: object, args: object) -> Reply:
    return Reply(text="help")


REGISTRY = Registry.build(
    [_module(create_poll=create_poll, poll_results=poll_results, help_cmd=help_cmd)]
)


def test_group_default_and_subcommand_are_found_case_and_accent_insensitively() -> None:
    words = split_words('Sondage "Quel thème ?" "Mobilité" "Eau" --multiple --max 2', FR)
    resolved = REGISTRY.resolve(words, FR)
    assert resolved.spec.name == "sondage"
    args = parse_arguments(resolved.spec, resolved.words, FR)
    assert args == {
        "question": "Quel thème ?",
        "options": ["Mobilité", "Eau"],
        "multiple": True,
        "max": 2,
        "fin": None,
    }

    for line in (
        "sondage résultats n°12",
        "SONDAGE RESULTATS 12",
        "poll results #12",
        "sondage resultats n° 12",
    ):
        resolved = REGISTRY.resolve(split_words(line, FR), FR)
        assert resolved.spec.name == "resultats"
        assert parse_arguments(resolved.spec, resolved.words, FR)["numero"] == 12


def test_french_quotes_and_inline_values() -> None:
    words = split_words("sondage « Où ? » “Lyon” 'Lille' --fin=2j", FR)
    assert words == ["sondage", "Où ?", "Lyon", "'Lille'", "--fin=2j"]


def test_unclosed_quote_is_a_user_error_in_the_actor_language() -> None:
    with pytest.raises(UserError, match="guillemet"):
        split_words('sondage "Quel thème', FR)
    with pytest.raises(UserError, match="quotation mark"):
        split_words('sondage "Quel thème', EN)


def test_unknown_command_suggests_the_closest() -> None:
    with pytest.raises(UserError) as info:
        REGISTRY.resolve(["sondag"], FR)
    assert "Vouliez-vous dire /sondage" in info.value.message
    with pytest.raises(UserError) as info:
        REGISTRY.resolve(["zzzzzz"], EN)
    assert "Unknown command /zzzzzz" in info.value.message


def test_missing_or_malformed_options_give_the_usage() -> None:
    spec = REGISTRY.find("sondage")
    assert spec is not None
    with pytest.raises(UserError) as info:
        parse_arguments(spec, ["Question ?", "Seule"], FR)
    assert "au moins 2 valeurs" in info.value.message
    assert info.value.usage is not None and info.value.usage.startswith("/sondage <question>")
    with pytest.raises(UserError) as info:
        parse_arguments(spec, ["Q", "A", "B", "--max", "deux"], FR)
    assert "doit être un numéro" in info.value.message
    with pytest.raises(UserError) as info:
        parse_arguments(spec, ["Q", "A", "B", "--couleur", "bleu"], FR)
    assert "Option inconnue : --couleur" in info.value.message
    with pytest.raises(UserError) as info:
        parse_arguments(spec, ["Q", "A", "B", "--fin"], EN)
    assert "--fin needs a value" in info.value.message
    assert "Usage: /poll <question> <options>..." in info.value.message


def test_group_without_default_lists_its_subcommands() -> None:
    @command("clore", "close", "Close.", group="vote", group_alias="ballot")
    def close(ctx: object, args: object) -> None:
        return None

    registry = Registry.build([_module(close=close)])
    with pytest.raises(UserError, match="sous-commande : clore"):
        registry.resolve(["vote"], FR)


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"name": "Sondage"}, "bad name"),
        ({"help": " "}, "help is required"),
        ({"group": "x"}, "English alias"),
        ({"options": [Option("a", "a", "h"), Option("a", "b", "h")]}, "used twice"),
        ({"options": [Option("a", "a", "h", variadic=True)]}, "only positional"),
        ({"options": [Option("a", "a", "h", type=OptionType.CHOICE)]}, "needs choices"),
        (
            {
                "options": [
                    Option("a", "a", "h", positional=True, variadic=True),
                    Option("b", "b", "h", positional=True),
                ]
            },
            "nothing may follow",
        ),
    ],
)
def test_bad_specs_are_rejected_at_build_time(kwargs: dict[str, object], problem: str) -> None:
    params: dict[str, object] = {"name": "essai", "alias": "trial", "help": "Help."}
    params.update(kwargs)
    name, alias, help_text = params.pop("name"), params.pop("alias"), params.pop("help")

    @command(name, alias, help_text, **params)  # type: ignore[arg-type]
    def handler(ctx: object, args: object) -> None:
        return None

    with pytest.raises(InvalidSpecError, match=problem):
        Registry.build([_module(handler=handler)])


def test_two_commands_with_the_same_name_are_rejected() -> None:
    @command("aide", "assist", "Other help.")
    def other(ctx: object, args: object) -> None:
        return None

    with pytest.raises(InvalidSpecError, match="used twice"):
        Registry.build([_module(help_cmd=help_cmd, other=other)])


_word = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='"«»“”„’\\'),
    min_size=1,
    max_size=12,
).filter(lambda w: w.strip() == w and not w.startswith("--"))


@settings(max_examples=200, deadline=None)
@given(st.lists(_word, min_size=1, max_size=6))
def test_quoted_words_round_trip(words: list[str]) -> None:
    line = " ".join(f'"{w}"' for w in words)
    assert split_words(line, FR) == words


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_parser_raises_only_user_errors(line: str) -> None:
    try:
        words = split_words(line, FR)
        resolved = REGISTRY.resolve(words, FR)
        parse_arguments(resolved.spec, resolved.words, FR)
    except UserError as exc:
        assert exc.message


def test_a_choice_pattern_is_checked_when_declared() -> None:
    from bot.registry import InvalidSpecError, on_choice

    with pytest.raises(InvalidSpecError, match="not valid"):
        on_choice("broken", r"(?P<id>\d+")
    with pytest.raises(InvalidSpecError, match="one key segment"):
        on_choice("two:parts", r"\d+")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "action",
    [
        "poll:1:vote:9x",
        "poll:²:vote:1",
        "poll:1:explode",
        "poll",
        "nothing:1",
        "session:1:register:x",
    ],
)
async def test_a_button_the_patterns_do_not_match_is_answered_in_one_place(
    chat: Chat, action: str
) -> None:
    """Before any handler runs, and with nothing written (non-ASCII digits included)."""
    assert text_of(await chat.click("alice", action)) == "Ce bouton ne fait plus rien."
