"""A network's year where the families meet, through the console chat: what a French coordinator
and an English-speaking member read at the seams (help, profile, meetings, gazette consent,
report). Each test is a problem the integrated bot showed once."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest

from tests.support.chat import Chat, text_of

pytestmark = pytest.mark.asyncio


async def test_english_member_is_told_the_english_command_names(chat: Chat) -> None:
    await chat.command("bob", "/profil langue en")

    help_text = text_of(await chat.command("bob", "/aide"))
    assert "Type /help followed by a command name" in help_text
    assert "/aide" not in help_text

    profile = text_of(await chat.command("bob", "/profil"))
    assert "/profile language fr or /profile language en" in profile
    assert "(see /profile organisation, territory, interests)" in profile
    assert "(see /profile email)" in profile
    assert "/profil " not in profile

    joined = text_of(await chat.command("bob", "/rencontres rejoindre"))
    assert "(/profile organisation, territory, interests)" in joined
    left = text_of(await chat.command("bob", "/rencontres quitter"))
    assert "/meet join" in left and "/rencontres" not in left

    await chat.command("camille", '/pepite "I loved the part about rainwater" --auteur @bob')
    asked = chat.direct_messages("bob")[-1]
    assert "/profile consents" in asked.text
    assert "/profil consentements" not in asked.text

    unknown = text_of(await chat.command("bob", "/sondag"))
    assert "/help" in unknown and "/aide" not in unknown


async def test_french_member_keeps_the_french_command_names(chat: Chat) -> None:
    help_text = text_of(await chat.command("alice", "/aide"))
    assert "Tapez /aide suivi du nom d'une commande" in help_text
    profile = text_of(await chat.command("alice", "/profil"))
    assert "/profil langue fr" in profile and "/profil email" in profile
    await chat.command("camille", '/pepite "Les bornes de Lons" --auteur @alice')
    assert "/profil consentements" in chat.direct_messages("alice")[-1].text


async def test_meeting_figures_agree_in_number(chat: Chat) -> None:
    for user in ("alice", "bob"):
        await chat.command(user, "/rencontres rejoindre")
    await chat.command("camille", "/rencontres lancer")

    figures = text_of(await chat.command("camille", "/rencontres bilan"))
    assert "1 tour, 2 membres présenté·es, 1 groupe." in figures

    await chat.command("bob", "/profil langue en")
    english = text_of(await chat.command("bob", "/rencontres bilan", coordinator=True))
    assert "1 round, 2 members introduced, 1 group." in english


def _chart(html: str, title: str) -> str:
    """The SVG of the chart called ``title`` in a report."""
    start = html.index(f'aria-label="{title}"')
    return html[start : html.index("</svg>", start)]


async def test_report_month_charts_keep_their_labels_apart(chat: Chat) -> None:
    for user in ("alice", "bob"):
        await chat.command(user, "/categorie elu")
    await chat.command("camille", '/sondage "Quel thème ?" "Eau" "Énergie"')
    await chat.command("alice", "/voter 1 1")
    await chat.command("camille", "/sondage clore 1")
    await chat.advance(timedelta(hours=1))

    replies = await chat.command("camille", "/rapport 2026", channel="@camille")
    html = next(a for r in replies for a in r.attachments if a.filename.endswith(".html"))
    svg = _chart(html.data.decode("utf-8"), "Nouveaux membres, mois par mois")
    font = float(re.findall(r"\.axis text\{[^}]*font-size:([\d.]+)px", svg)[0])
    axis = svg[svg.index('class="axis x') : svg.index('class="title')]
    labels = re.findall(r'<text x="([\d.]+)"[^>]*>([^<]+)</text>', axis)
    assert [name for _, name in labels][:3] == ["janv.", "févr.", "mars"]
    assert len(labels) == 12
    # The gazette draws narrow charts for phones; the report's twelve months must not run into
    # each other: "sept." needs about three times the font size.
    positions = [float(x) for x, _ in labels]
    assert min(b - a for a, b in itertools.pairwise(positions)) >= 2.8 * font


async def test_profile_shows_the_category_sessions_use(chat: Chat) -> None:
    assert "- Catégorie : sans catégorie (elle compte pour les quotas" in text_of(
        await chat.command("alice", "/profil")
    )
    await chat.command("alice", "/categorie elu")
    assert "- Catégorie : élu·e (elle compte pour les quotas" in text_of(
        await chat.command("alice", "/profil")
    )
    await chat.command("bob", "/categorie agent")
    await chat.command("bob", "/profil langue en")
    assert "- Category: public agent (it counts for the quotas" in text_of(
        await chat.command("bob", "/profil")
    )


async def test_questionnaire_invitation_names_the_questionnaire_once(chat: Chat) -> None:
    await chat.command("alice", "/profil")
    await chat.command("bob", "/profil langue en")
    await chat.command("camille", '/questionnaire creer "Bilan 2026" --intro "Dix minutes."')
    await chat.command("camille", '/questionnaire question 1 echelle "Satisfaction"')
    await chat.command("camille", "/questionnaire lancer 1 --tous --fin 2sem")

    invited = chat.direct_messages("alice")[-1].text
    assert invited.count("Bilan 2026") == 1, invited
    assert invited.index("Dix minutes.") < invited.index("Question 1 sur 1")

    await chat.command("camille", "/questionnaire relancer 1")
    reminded = chat.direct_messages("bob")[-1].text
    assert reminded.startswith("⏰ A reminder"), reminded
    assert reminded.count("Bilan 2026") == 1, reminded


async def test_email_alone_says_what_to_type(chat: Chat) -> None:
    answer = text_of(await chat.command("alice", "/profil email"))
    assert "tapez /profil email suivi de votre adresse" in answer
    assert "(voir /profil email)" not in answer
    await chat.command("alice", "/profil email alice@example.org")
    assert "alice@example.org" in text_of(await chat.command("alice", "/profil email"))


async def test_english_member_is_told_english_names_in_directory_veille_and_email(
    chat: Chat,
) -> None:
    await chat.command("bob", "/profil langue en")
    empty = text_of(await chat.command("bob", "/annuaire"))
    assert "/profile organisation, /profile territory, /profile interests" in empty
    feeds = text_of(await chat.command("bob", "/veille liste"))
    assert "/watch add" in feeds and "/veille" not in feeds
    await chat.command("alice", '/profil organisation "Mairie"')
    nobody = text_of(await chat.command("bob", "/annuaire Dole"))
    assert "or /directory alone" in nobody
    wrong = text_of(await chat.command("bob", "/profil email bob@"))
    assert "/profile email camille@mairie-exemple.fr" in wrong
