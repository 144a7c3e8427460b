"""Commands as French people type them (issue 16), through the console chat harness.

Each case is an input a coordinator or a member really typed, with what must come of it: the
permission first (before any parsing), typos that never publish, French quotation marks, the bot's
own words, dates, and refusals that give an example rather than placeholders.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core import Reply
from bot.i18n import Translators
from bot.parsing import Quoted, join_words, split_words
from bot.registry import RETYPE_PREFIX
from bot.wiring import FAMILIES
from tests.conftest import Database
from tests.support.chat import Chat, text_of

TRANSLATORS = Translators(ZoneInfo("Europe/Paris"))
FR = TRANSLATORS.get("fr")
EN = TRANSLATORS.get("en")
RESERVED = {
    "fr": "réservée à l'équipe de coordination",
    "en": "reserved for the network's coordinators",
}
USAGE_WORDS = ("Utilisation", "Usage", "manque", "missing", "<", "Il manque", "sous-commande")


def _reserved_lines(chat: Chat) -> list[tuple[str, str]]:
    """(locale, line) for every coordinator command and subcommand, from the registry itself, so
    a new command is covered by itself: alone, with junk, French and English names."""
    lines: list[tuple[str, str]] = []
    registry = chat.app.registry
    for spec in registry.specs:
        if not spec.reserved:
            continue
        for locale in ("fr", "en"):
            name = "/" + spec.display_name(locale)
            lines.append((locale, name))
            lines.append((locale, f"{name} 1 2 --nimporte quoi"))
    # a group whose every subcommand is reserved is refused as a whole
    for group in {s.group for s in registry.specs if s.group}:
        members = registry.group_members(group)
        if all(m.reserved for m in members):
            lines.append(("fr", f"/{group}"))
            lines.append(("en", f"/{members[0].group_alias}"))
    return lines


@pytest.mark.asyncio
async def test_every_coordinator_command_is_refused_to_a_member_before_parsing(chat: Chat) -> None:
    lines = _reserved_lines(chat)
    assert len(lines) > 60  # every family is wired: the list is the registry's
    for locale, line in lines:
        chat.locales["bob"] = locale
        text = text_of(await chat.command("bob", line))
        assert RESERVED[locale] in text, line
        for word in USAGE_WORDS:
            assert word not in text, (line, text)
    assert chat.posts() == []


@pytest.mark.asyncio
async def test_help_and_groups_show_a_member_only_what_they_may_use(chat: Chat) -> None:
    registry = chat.app.registry
    shown = text_of(await chat.command("bob", "/aide"))
    for spec in registry.specs:
        if spec.reserved and spec.group is None:
            assert f"**/{spec.name}**" not in shown, spec.name
    assert "**/gazette**" not in shown and "**/digest**" not in shown
    # /veille alone: only the member's subcommand is offered
    veille = text_of(await chat.command("bob", "/veille"))
    assert "liste" in veille and "ajouter" not in veille and "exporter" not in veille
    assert "ajouter" in text_of(await chat.command("camille", "/veille"))
    # polls are created by coordinators here: the member is told so before the usage
    for line in ("/sondage", '/sondage "Quel thème ?" "Eau" "Énergie"', "/sondage creer"):
        text = text_of(await chat.command("bob", line))
        assert RESERVED["fr"] in text and "Utilisation" not in text, line
    assert chat.posts() == []


@pytest.mark.asyncio
async def test_polls_open_to_everyone_are_not_refused(database: Database, tmp_path: Path) -> None:
    running = await Chat.start(
        database.url, tmp_path, families=FAMILIES, polls={"creators": "everyone"}
    )
    try:
        await running.command("bob", '/sondage "Quel thème ?" "Eau" "Énergie"')
        assert "Quel thème ?" in running.posts()[-1].text
    finally:
        await running.stop()


TYPOS = [
    # (who, line, the corrected command proposed)
    ("camille", "/sondage resultat 1 2", "/sondage resultats 1 2"),
    ("camille", "/sondage cloture 1", "/sondage clore 1"),
    ("camille", "/sondage Résultat 1", "/sondage resultats 1"),
    ("camille", "/sondage cloturer 1", "/sondage clore 1"),
    ("camille", "/sondage rouvir 1", "/sondage rouvrir 1"),
    ("camille", "/sondage exporter 1", "/sondage export 1"),
    ("camille", "/poll result 1", "/poll results 1"),
    ("camille", "/poll closed 1", "/poll close 1"),
    ("bob", "/sondage resultat 1", "/sondage resultats 1"),
    ("camille", "/veille lister", "/veille liste"),
    ("camille", "/veille ajout https://example.org/rss", "/veille ajouter https://example.org/rss"),
    ("camille", "/session modifer 1 --places 3", "/session modifier 1 --places 3"),
    ("camille", "/gazette publie", "/gazette publier"),
    ("camille", '/sondage resultat 1 "a b"', "/sondage resultats 1 « a b »"),
]


@pytest.mark.asyncio
async def test_a_typo_never_publishes_and_offers_the_corrected_command(chat: Chat) -> None:
    await chat.command("camille", '/sondage "Quel thème ?" "Eau" "Énergie"')
    assert len(chat.posts()) == 1
    for user, line, corrected in TYPOS:
        replies = await chat.command(user, line)
        text = text_of(replies)
        assert f"{corrected} ?" in text or f"{corrected}?" in text, (line, text)
        assert len(chat.posts()) == 1, line  # nothing created, nothing posted
        (reply,) = replies
        assert [c.action for c in reply.choices] == [
            RETYPE_PREFIX + ":" + corrected.removeprefix("/")
        ]
    # the choice runs the corrected command, as the actor
    (reply,) = await chat.command("camille", "/sondage resultat 1")
    shown = await chat.click("camille", reply.choices[0].action)
    assert "Quel thème ?" in text_of(shown)
    # a word far from every subcommand, then numbers: a subcommand, never a poll
    for line in ("/sondage fermer 1 2", "/sondage terminer 1", "/poll finish #1"):
        text = text_of(await chat.command("camille", line))
        assert "entre guillemets" in text or "between quotes" in text, (line, text)
        assert len(chat.posts()) == 1, line
    # a quoted question is a question, even when it looks like a subcommand
    await chat.command("camille", '/sondage "Résultat" "Oui" "Non"')
    assert len(chat.posts()) == 2 and "Résultat" in chat.posts()[-1].text
    # an English typo for an English speaker
    chat.locales["camille"] = "en"
    text = text_of(await chat.command("camille", "/poll result 1"))
    assert "Did you mean /poll results 1?" in text


QUOTED = [
    ('a "b c" d', ["a", "b c", "d"]),
    ("a « b c » d", ["a", "b c", "d"]),
    ("a «b c» d", ["a", "b c", "d"]),
    ("a “b c” d", ["a", "b c", "d"]),
    ("a ‘b c’ d", ["a", "b c", "d"]),
    ("a „b c“ d", ["a", "b c", "d"]),
    ('"défi « Familles zéro déchet »"', ["défi « Familles zéro déchet »"]),
    ('"le thème « eau et sécheresse » en 2027"', ["le thème « eau et sécheresse » en 2027"]),
    ("« il a dit “oui” hier »", ["il a dit “oui” hier"]),
    ('"il a dit "oui" hier"', ['il a dit "oui" hier']),
    ("« l’eau et l'air »", ["l’eau et l'air"]),
    ("l’eau l'air", ["l’eau", "l'air"]),
    ('--quand="lundi 9h" x', ["--quand=lundi 9h", "x"]),
    ('""', [""]),
    ("doublon du n° 2", ["doublon", "du", "n°", "2"]),
]


@pytest.mark.parametrize(("line", "words"), QUOTED)
def test_french_quotation_marks_delimit_and_inner_quotes_are_kept(
    line: str, words: list[str]
) -> None:
    assert split_words(line, FR) == words


def test_a_quote_left_open_is_explained() -> None:
    from bot.core import UserError

    for line in ('a "b c', "« b c", "“b"):
        with pytest.raises(UserError) as info:
            split_words(line, FR)
        assert "guillemet" in info.value.message
    with pytest.raises(UserError):
        split_words('"x', EN)


def test_join_words_reads_back() -> None:
    words = ["sondage", "resultats", Quoted("a « b » c"), "1", Quoted(""), 'dit "oui" hier']
    assert split_words(join_words(words), FR) == words


@pytest.mark.asyncio
async def test_quotes_in_descriptions_and_reasons_are_kept_as_typed(chat: Chat) -> None:
    await chat.command(
        "camille",
        '/session creer "Atelier sobriété" --quand "jeudi 3 décembre 14h" '
        '--places 10 --description "Le thème « eau et sécheresse » ouvre la saison"',
    )
    shown = text_of(await chat.command("camille", "/session voir 1"))
    assert "Le thème « eau et sécheresse » ouvre la saison" in shown
    await chat.command("camille", '/session annuler n° 1 --raison "doublon du n° 2"')
    assert any("doublon du n° 2" in post.text for post in chat.posts())


REFUSED_WITH_AN_EXAMPLE = [
    ("/presence 1", "Par exemple : /presence 12 @alice @bob"),
    ('/annonce #general ""', "Par exemple : /annonce #general"),
    ("/annonce #general", "Par exemple : /annonce #general"),
    ("/annonce", "Par exemple : /annonce #general"),
    ("/sondage clore", "Par exemple : /sondage clore 12"),
    ("/inscription", "Par exemple :"),
    ("/voter", "Par exemple :"),
]


@pytest.mark.asyncio
async def test_refusals_give_an_example_not_placeholders(chat: Chat) -> None:
    for line, expected in REFUSED_WITH_AN_EXAMPLE:
        text = text_of(await chat.command("camille", line))
        assert expected in text, (line, text)
        assert "<" not in text and "Utilisation" not in text, (line, text)
    assert chat.posts() == []
    chat.locales["camille"] = "en"
    text = text_of(await chat.command("camille", "/attendance 1"))
    assert "For example: /presence 12 @alice @bob" in text and "<" not in text


def _only(replies: list[Reply]) -> Reply:
    (reply,) = replies
    return reply


CATEGORIES = [
    ("élu·e", "elu"),
    ("élue", "elu"),
    ("élus", "elu"),
    ("Élu.e.s", "elu"),
    ("élu(e)s", "elu"),
    ("élu·es", "elu"),
    ("elected official", "elu"),
    ("agent·e public·que", "agent"),
    ("agente", "agent"),
    ("agents", "agent"),
    ("public agent", "agent"),
    ("associations", "association"),
    ("asso", "association"),
    ("partenaires", "partenaire"),
    ("Partenaire", "partenaire"),
    ("partners", "partenaire"),
    ("aucune", None),
    ("sans catégorie", None),
    ("none", None),
]


@pytest.mark.asyncio
async def test_categories_accept_the_bots_own_labels_and_inclusive_forms(chat: Chat) -> None:
    from bot.storage.members import Member

    for typed, stored in CATEGORIES:
        text = text_of(await chat.command("bob", f"/categorie {typed}"))
        assert "inconnue" not in text, (typed, text)
        with chat.db() as db:
            member = db.query(Member).filter_by(user_id="bob").one()
            assert member.category == stored, typed
    text = text_of(await chat.command("bob", "/categorie éléphant"))
    assert "Choisissez parmi : elu, agent, association, partenaire, aucune" in text
    # the quotas read the same table
    await chat.command(
        "camille",
        '/session creer "Atelier" --quand "jeudi 3 décembre 14h" --places 10 '
        '--quotas "élu·e=3,partenaires=2,agent·e public·que=1"',
    )
    shown = text_of(await chat.command("camille", "/session voir 1"))
    assert "3" in shown and "partenaire" in shown, shown


VOTES = [
    # (poll, typed, the answers recorded as shown in the confirmation)
    (1, 'oui "si nécessaire" non', ["→ Oui", "→ Si nécessaire", "→ Non"]),
    (1, "oui si nécessaire non", ["→ Oui", "→ Si nécessaire", "→ Non"]),
    (1, "Si-Nécessaire OUI non", ["→ Si nécessaire", "→ Oui", "→ Non"]),
    (1, "1=si nécessaire 3=oui", ["→ Si nécessaire", "→ Oui"]),
    (1, "? o n", ["→ Si nécessaire", "→ Oui", "→ Non"]),
    (1, "si besoin peut-être non", ["→ Si nécessaire", "→ Si nécessaire", "→ Non"]),
    (2, "1=très bien 2=assez bien", ["→ Très bien", "→ Assez bien"]),
    (2, "très bien à rejeter", ["→ Très bien", "→ À rejeter"]),
    (2, '1="Très bien" 2=passable', ["→ Très bien", "→ Passable"]),
    (2, "1=tres-bien 2=Insuffisant", ["→ Très bien", "→ Insuffisant"]),
    (3, "Jardin partagé", ["« Jardin partagé »"]),
]


@pytest.mark.asyncio
async def test_votes_accept_the_words_of_the_buttons(chat: Chat) -> None:
    await chat.command(
        "camille", '/sondage "Quand ?" "jeudi 3 décembre 14h" "4/12 9h" "5/12 10h" --dates'
    )
    await chat.command(
        "camille", '/sondage "Quel projet ?" "Jardin partagé" "Repair café" --jugement'
    )
    await chat.command("camille", '/sondage "Lequel ?" "Jardin partagé" "Repair café"')
    for poll, typed, shown in VOTES:
        text = text_of(await chat.command("bob", f"/voter {poll} {typed}"))
        assert "Vote enregistré" in text, (typed, text)
        positions = [text.index(part) for part in shown]
        assert positions == sorted(positions), (typed, text)
    chat.locales["bob"] = "en"
    text = text_of(await chat.command("bob", "/vote 1 yes if need be no"))
    assert "→ If need be" in text, text
    text = text_of(await chat.command("bob", "/vote 2 1=very good 2=fairly good"))
    assert "→ Very good" in text, text


DATES = [
    # (--quand of a session, what the refusal says)
    ("18 mars", "donnez aussi l'heure, par exemple « 3 décembre 14h »"),
    ("jeudi", "donnez aussi l'heure"),
    ("demain", "donnez aussi l'heure"),
    ("le 31 février 14h", "février n'a que 28 jours"),
    ("30/02 10h", "février n'a que 28 jours"),
    ("31 avril 2027 10h", "avril n'a que 30 jours"),
    ("29/02/2027 10h", "février n'a que 28 jours"),
    ("demain 25h", "25h n'existe pas"),
    ("demain 14h61", "les minutes vont de 0 à 59"),
    ("vendredi 3 décembre 10h", "ce jour-là est un jeudi, pas un vendredi"),
    ("9999-12-31 23:59", "cette date est trop lointaine"),
    ("0001-01-01 10:00", "cette date est trop lointaine"),
]


@pytest.mark.asyncio
async def test_impossible_or_incomplete_dates_are_explained(chat: Chat) -> None:
    for when, expected in DATES:
        line = f'/session creer "Atelier" --quand "{when}" --places 5'
        text = text_of(await chat.command("camille", line))
        assert expected in text, (when, text)
    text = text_of(await chat.command("camille", '/annonce #general "Bonjour" --quand "lundi"'))
    assert "donnez aussi l'heure" in text
    assert chat.posts() == []
    chat.locales["camille"] = "en"
    text = text_of(await chat.command("camille", '/session create "A" --when "march 18" --seats 5'))
    assert "Give the hour too, for example “december 3 2pm”" in text, text
    text = text_of(
        await chat.command("camille", '/session create "A" --when "feb 30 2pm" --seats 5')
    )
    assert "February has only 28 days." in text, text
    # with an hour, the same dates are taken
    await chat.command("camille", '/session create "A" --when "march 18 2pm" --seats 5')
    assert "18" in text_of(await chat.command("camille", "/session show 1"))


@pytest.mark.asyncio
async def test_since_reads_a_past_date(database: Database, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    running = await Chat.start(
        database.url, tmp_path, start=datetime(2026, 12, 15, 9, 0, tzinfo=UTC)
    )
    try:
        text = text_of(await running.command("camille", '/gazette brouillon --depuis "1 janvier"'))
        assert "1er janvier 2026" in text, text
        asked = await running.command("camille", "/gazette brouillon --depuis lundi")
        assert "Un brouillon est déjà ouvert" in text_of(asked)  # the gazette asks first
        replace = asked[0].choices[0]
        text = text_of(await running.click("camille", replace.action))
        assert "lundi 14 décembre 2026" in text, text
    finally:
        await running.stop()


# --- properties of the tokenizer ----------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PROPERTIES = settings(max_examples=300, deadline=None, derandomize=True, database=None)
_ATOM = st.text(
    alphabet=st.sampled_from("abcdeéèàçôÉ0123456789’'?!,.-°#@=/"), min_size=1, max_size=8
).filter(lambda w: w[0] not in "’'")
_PAIRS = [("«", "»"), ("« ", " »"), ("“", "”"), ('"', '"'), ("„", "“")]


def _phrases() -> st.SearchStrategy[str]:
    words = st.lists(_ATOM, min_size=1, max_size=4).map(" ".join)
    return st.recursive(
        words,
        lambda inner: st.tuples(inner, st.sampled_from(_PAIRS), inner, inner).map(
            lambda t: f"{t[0]} {t[1][0]}{t[2]}{t[1][1]} {t[3]}"
        ),
        max_leaves=6,
    )


@PROPERTIES
@given(_phrases(), st.sampled_from([('"', '"'), ("«", "»"), ("« ", " »"), ("“", "”")]))
def test_a_quoted_text_comes_back_whatever_quotes_it_holds(
    value: str, delimiters: tuple[str, str]
) -> None:
    opened, closed = delimiters
    line = f"sondage {opened}{value}{closed} 2"
    assert split_words(line, FR) == ["sondage", value.strip(), "2"]


@PROPERTIES
@given(st.lists(_phrases(), min_size=1, max_size=4))
def test_join_words_and_split_words_round_trip(values: list[str]) -> None:
    words = [Quoted(v) if " " in v else v for v in values]
    assert split_words(join_words(words), FR) == [w.strip() for w in words]


@PROPERTIES
@given(st.text(max_size=60))
def test_no_line_makes_the_parser_raise_anything_but_a_user_error(line: str) -> None:
    from bot.core import UserError
    from bot.parsing import parse_arguments
    from bot.registry import Registry

    registry = Registry.build_groups(f.handlers for f in FAMILIES)
    try:
        words = split_words(line, FR)
        resolved = registry.resolve(["sondage", *words], FR)
        parse_arguments(resolved.spec, resolved.words, FR)
    except UserError:
        pass
