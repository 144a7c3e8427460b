"""The gazette after a plenary, through the console chat: two coordinator commands from the
session to the published gazette, private drafts with stable numbers, several items at once, a
draft never replaced silently, and the consent loop told to the coordinator."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.core import Reply
from bot.storage.highlights import Consent, Gazette, GazetteStatus, Highlight
from tests.conftest import Database
from tests.support.chat import Chat, text_of

# Thursday 26 November 2026, 09:00 to 17:00 in Paris.
PLENARY_START = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
PLENARY_END = PLENARY_START + timedelta(hours=8)
CREATE = (
    'session creer "Plénière de printemps" --quand "jeudi 26 novembre 9h" --duree 8h '
    '--type pleniere --lieu "Salle des fêtes, Die" --places 40'
)


def _html(reply: Reply) -> str:
    [attachment] = [a for a in reply.attachments if a.media_type == "text/html"]
    return attachment.data.decode("utf-8")


def _numbered(text: str) -> dict[int, str]:
    return {int(m.group(1)): m.group(2) for m in re.finditer(r"^(\d+)\. (.*)$", text, re.M)}


def _highlight(chat: Chat, quote: str) -> Highlight:
    with chat.db() as db:
        return db.scalars(select(Highlight).where(Highlight.quote == quote)).one()


async def _plenary(chat: Chat) -> int:
    """The plenary, its registrations (with categories), attendance, and what was said in it."""
    for who, category in (("alice", "elu"), ("bob", "agent"), ("carol", "association")):
        await chat.command(who, f"categorie {category}")
    await chat.command("camille", CREATE)
    for who in ("alice", "bob", "carol", "dave"):
        await chat.command(who, "inscription 1")
    # said before the plenary (outside its window): not in its gazette
    early = await chat.say("zoe", "Un mot de la semaine dernière")
    await chat.react("camille", early)
    await chat.click("zoe", f"consent:{_highlight(chat, 'Un mot de la semaine dernière').id}:yes")

    await chat.move_to(PLENARY_START + timedelta(hours=2))
    await chat.command("camille", "presence 1 @alice @bob @carol @dave")
    said = await chat.say("alice", "La coopérative d'énergie a levé 200 000 € en un an !")
    await chat.react("camille", said)  # a coordinator's 📰 records at once
    voted = await chat.say("bob", "Le vélo-bus emmène 80 enfants chaque matin")
    for who in ("carol", "dave", "emma"):  # three members' 📰: the threshold
        await chat.react(who, voted)
    await chat.command("carol", '/pepite "Nos jardins partagés nourrissent tout le quartier"')
    refused = await chat.say("dave", "Un chiffre que je préfère garder pour moi")
    await chat.react("camille", refused)
    pending = await chat.say("emma", "La cantine bio coûte moins cher que prévu")
    await chat.react("camille", pending)

    alice = _highlight(chat, "La coopérative d'énergie a levé 200 000 € en un an !")
    bob = _highlight(chat, "Le vélo-bus emmène 80 enfants chaque matin")
    dave = _highlight(chat, "Un chiffre que je préfère garder pour moi")
    await chat.click("alice", f"consent:{alice.id}:yes")
    await chat.click("bob", f"consent:{bob.id}:anon")
    await chat.click("dave", f"consent:{dave.id}:no")
    return 1


@pytest.mark.asyncio
async def test_the_gazette_after_a_plenary_in_two_commands(chat: Chat) -> None:
    session = await _plenary(chat)

    # during the plenary: too early, and nothing is compiled
    early = await chat.command("camille", f"gazette brouillon --session {session}")
    assert "n'est pas encore terminée" in text_of(early)
    with chat.db() as db:
        assert db.scalars(select(Gazette)).all() == []

    await chat.move_to(PLENARY_END + timedelta(hours=20))
    posts_before = len(chat.posts())
    draft = await chat.command("camille", f"gazette brouillon --session {session}")
    [reply] = draft
    assert reply.ephemeral  # only the coordinator sees it
    assert len(chat.posts()) == posts_before  # nothing in a members' channel
    listing = reply.text
    assert "Plénière de printemps" in listing
    assert "La coopérative d'énergie" in listing and "— Alice" in listing
    assert "Le vélo-bus emmène 80 enfants" in listing
    assert "Nos jardins partagés" in listing and "— Carol" in listing
    assert "garder pour moi" not in listing  # refused
    assert "semaine dernière" not in listing  # said before the session
    assert "1 citation attend la réponse de son auteur" in listing  # emma's
    assert [c.action for c in reply.choices] == ["gazette:remind:1"]
    preview = _html(reply)
    assert "La cantine bio" not in preview

    # bob changes his mind while the draft is open: the coordinator hears it
    await chat.click(
        "bob", f"consent:{_highlight(chat, 'Le vélo-bus emmène 80 enfants chaque matin').id}:no"
    )
    [told] = [m for m in chat.direct_messages("camille") if "vélo-bus" in m.text]
    assert "Bob a retiré la pépite" in told.text
    assert "Elle est laissée de côté dans le brouillon en cours" in told.text
    await chat.click(
        "bob", f"consent:{_highlight(chat, 'Le vélo-bus emmène 80 enfants chaque matin').id}:anon"
    )

    # "ask once more": emma gets the question again by direct message
    asked_before = len(chat.direct_messages("emma"))
    again = await chat.click("camille", "gazette:remind:1")
    assert "1 auteur" in text_of(again)
    assert len(chat.direct_messages("emma")) == asked_before + 1

    published = await chat.command("camille", "gazette publier")
    assert "publiée dans #general" in text_of(published)
    assert "1 citation attendait encore la réponse de son auteur" in text_of(published)
    [announcement] = [
        p for p in chat.posts("general") if any(a.media_type == "text/html" for a in p.attachments)
    ]
    html = _html(announcement)
    assert "<h1>Plénière de printemps</h1>" in html
    assert "Plénière · jeudi 26 novembre 2026" in html and "Salle des fêtes, Die" in html
    assert "4 participant·es : 1 agent·e, 1 membre d&#39;association, 1 élu·e, 1 sans" in html
    for quote in (
        "La coopérative d&#39;énergie a levé 200 000 € en un an !",
        "Le vélo-bus emmène 80 enfants chaque matin",
        "Nos jardins partagés nourrissent tout le quartier",
    ):
        assert quote in html
    assert "<strong>Alice</strong>" in html and "<strong>Carol</strong>" in html
    assert "garder pour moi" not in html and "La cantine bio" not in html
    assert "/profil" not in html  # the footer is written for readers outside the chat

    # alice withdraws her quote: the archive is rebuilt and the coordinator is told
    alice = _highlight(chat, "La coopérative d'énergie a levé 200 000 € en un an !")
    await chat.command("alice", f"profil retirer {alice.id}")
    [told] = [m for m in chat.direct_messages("camille") if "coopérative" in m.text]
    assert f"Alice a retiré la pépite n° {alice.id}" in told.text
    assert "gazette archivée n° 1 a été reconstruite" in told.text
    with chat.db() as db:
        row = db.get(Gazette, 1)
        assert row is not None and row.status == GazetteStatus.PUBLISHED and row.html
        assert "coopérative" not in row.html.decode() and "vélo-bus" in row.html.decode()


@pytest.mark.asyncio
async def test_draft_numbers_stay_and_several_items_move_at_once(chat: Chat) -> None:
    for who in ("alice", "bob", "carol", "dave"):
        await chat.command(who, f'/pepite "Le mot de {who}"')
    first = await chat.command("camille", "gazette brouillon")
    items = _numbered(text_of(first))
    numbers = {text.split(" — ")[0]: n for n, text in items.items()}
    alice, bob, carol = (numbers[f"« Le mot de {w} »"] for w in ("alice", "bob", "carol"))

    # a member: refused before any usage is shown
    for line in ("gazette retirer", "gazette deplacer 1", "gazette brouillon --session x"):
        refused = text_of(await chat.command("emma", line))
        assert "réservée à l'équipe de coordination" in refused
        assert "Utilisation" not in refused

    # a number not in the draft: a clear answer, nothing changed
    unknown = await chat.command("camille", "gazette retirer 99")
    assert "Il n'y a pas d'élément 99 dans le brouillon" in text_of(unknown)
    bad = await chat.command("camille", "gazette retirer trois")
    assert "« trois »" in text_of(bad) or "“trois”" in text_of(bad)

    dropped = await chat.command("camille", f"gazette retirer {alice},{bob} nouveaux")
    listing = text_of(dropped)
    assert f"Éléments {alice}, {bob}" in listing
    after = _numbered(listing)
    assert after[alice].endswith("(retiré)") and after[bob].endswith("(retiré)")
    assert all(after[n].endswith("(retiré)") for n, t in after.items() if " — " not in t)
    restored = _numbered(text_of(await chat.command("camille", f"gazette remettre {alice}-{bob}")))
    assert not restored[alice].endswith("(retiré)")

    newcomer = next(n for n, t in items.items() if " — " not in t)
    across = await chat.command("camille", f"gazette deplacer {alice} --avant {newcomer}")
    assert "dans des rubriques différentes" in text_of(across)
    itself = await chat.command("camille", f"gazette deplacer {alice} --avant {alice}")
    assert "avant ou après lui-même" in text_of(itself)
    moved = await chat.command("camille", f"gazette deplacer {carol} {bob} --avant {alice}")
    order = [n for n in _numbered(text_of(moved)) if n in (alice, bob, carol)]
    assert order == [carol, bob, alice]

    # a new highlight, then a refresh: the old numbers still name the same items
    await chat.advance(timedelta(hours=1))
    await chat.command("emma", '/pepite "Le mot de emma"')
    refreshed = _numbered(text_of(await chat.command("camille", "gazette brouillon")))
    assert refreshed[alice].startswith("« Le mot de alice »")
    assert refreshed[carol].startswith("« Le mot de carol »")
    assert max(refreshed) > max(items)  # the new one took a new number
    [emma] = [n for n, t in refreshed.items() if t.startswith("« Le mot de emma »")]
    assert emma not in items


@pytest.mark.asyncio
async def test_a_draft_is_never_replaced_without_confirmation(chat: Chat) -> None:
    await chat.command("alice", '/pepite "Un an de coopération"')
    await chat.command("camille", "gazette brouillon")
    await chat.command("camille", "gazette retirer nouveaux")
    await chat.command("camille", 'gazette edito "Une année riche"')

    asked = await chat.command("camille", 'gazette brouillon --depuis "1/11" --tout')
    [question] = asked
    assert "Un brouillon est déjà ouvert" in question.text
    replace, keep = (choice.action for choice in question.choices)
    with chat.db() as db:
        [draft] = db.scalars(select(Gazette)).all()
        assert draft.include_published is False  # unchanged until a click

    kept = await chat.click("camille", keep)
    assert "conservé" in text_of(kept)
    refused = await chat.click("emma", replace)
    assert "coordinat" in text_of(refused)

    replaced = await chat.click("camille", replace)
    assert "rétrospective" in text_of(replaced)
    with chat.db() as db:
        [draft] = db.scalars(select(Gazette)).all()
        assert draft.include_published and draft.editorial == "Une année riche"
        assert draft.since.astimezone(UTC).date().isoformat() == "2026-10-31"


@pytest.mark.asyncio
async def test_a_review_includes_what_earlier_gazettes_showed(chat: Chat) -> None:
    await chat.command("alice", '/pepite "Déjà dans la gazette de novembre"')
    await chat.command("camille", "gazette brouillon")
    await chat.command("camille", "gazette publier")
    await chat.advance(timedelta(days=3))
    await chat.command("bob", '/pepite "Du nouveau en décembre"')

    period = text_of(await chat.command("camille", 'gazette brouillon --depuis "1/11"'))
    assert "Du nouveau" in period and "Déjà dans la gazette" not in period
    await chat.command("camille", "gazette publier")
    review = text_of(await chat.command("camille", 'gazette brouillon --depuis "1/11" --tout'))
    assert "Du nouveau" in review and "Déjà dans la gazette" in review


@pytest.mark.asyncio
async def test_consent_lists_say_publishable_until_published(chat: Chat) -> None:
    await chat.command("alice", '/pepite "Mes mots"')
    before = text_of(await chat.command("alice", "profil consentements"))
    assert "publiable avec le nom de l'auteur (dans aucune gazette pour l'instant)" in before
    assert "publiée" not in before
    listed = text_of(await chat.command("camille", "pepite liste"))
    assert "publiable avec le nom de l'auteur" in listed and "publiée" not in listed
    await chat.command("camille", "gazette brouillon")
    await chat.command("camille", "gazette publier")
    after = text_of(await chat.command("alice", "profil consentements"))
    assert "publiée avec le nom de l'auteur" in after
    assert "publiée avec le nom de l'auteur" in text_of(
        await chat.command("camille", "pepite liste")
    )
    with chat.db() as db:
        assert db.scalars(select(Highlight)).one().consent == Consent.YES


CHROMIUM = shutil.which("chromium")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
@pytest.mark.asyncio
async def test_a_pdf_is_published_and_archived_beside_the_html(
    database: Database, tmp_path: Path
) -> None:
    chat = await Chat.start(database.url, tmp_path, gazette={"pdf": True})
    try:
        await chat.command("alice", '/pepite "Imprimée sur A4"')
        await chat.command("camille", "gazette brouillon")
        published = await chat.command("camille", "gazette publier")
        assert "Le PDF A4 est joint à côté" in text_of(published)
        [post] = [p for p in chat.posts("general") if p.attachments]
        html, pdf = post.attachments
        assert html.filename.endswith(".html") and pdf.filename.endswith(".pdf")
        assert pdf.media_type == "application/pdf" and pdf.data.startswith(b"%PDF-")
        copy = await chat.command("bob", "gazettes 1")
        assert [a.media_type for a in copy[0].attachments] == ["text/html", "application/pdf"]
        with chat.db() as db:
            row = db.get(Gazette, 1)
            assert row is not None and row.pdf == pdf.data
        # a withdrawal rebuilds the HTML and drops the PDF that still showed the quote...
        await chat.command("alice", "profil retirer 1")
        with chat.db() as db:
            row = db.get(Gazette, 1)
            assert row is not None and row.pdf is None and row.html is not None
            assert b"Imprim" not in row.html
        # ...printed again, from the rebuilt HTML, when someone asks for the archive
        again = await chat.command("bob", "gazettes 1")
        assert [a.media_type for a in again[0].attachments] == ["text/html", "application/pdf"]
        with chat.db() as db:
            row = db.get(Gazette, 1)
            assert row is not None and row.pdf is not None and row.pdf != pdf.data
    finally:
        await chat.stop()


@pytest.mark.asyncio
async def test_without_chromium_the_gazette_is_still_published(
    database: Database, tmp_path: Path
) -> None:
    chat = await Chat.start(
        database.url, tmp_path, gazette={"pdf": True, "chromium": "no-such-chromium"}
    )
    try:
        await chat.command("alice", '/pepite "Sans imprimante"')
        await chat.command("camille", "gazette brouillon")
        published = await chat.command("camille", "gazette publier")
        assert "Le PDF n'a pas pu être fait" in text_of(published)
        [post] = [p for p in chat.posts("general") if p.attachments]
        assert [a.media_type for a in post.attachments] == ["text/html"]
    finally:
        await chat.stop()


@pytest.mark.asyncio
async def test_drafts_go_to_the_coordination_channel_when_configured(
    database: Database, tmp_path: Path
) -> None:
    chat = await Chat.start(
        database.url, tmp_path, gazette={"coordination_channel": "coordination"}
    )
    try:
        await chat.say("camille", "bonjour", channel="coordination")  # the bot knows the channel
        await chat.command("alice", '/pepite "Entre coordinateur·ices"')
        answer = await chat.command("camille", "gazette brouillon")
        assert "Le brouillon est dans #coordination" in text_of(answer)
        [draft] = chat.posts("coordination")
        assert "Entre coordinateur·ices" in draft.text
        assert not [p for p in chat.posts("general") if "Brouillon" in p.text]
    finally:
        await chat.stop()


@pytest.mark.asyncio
async def test_a_day_without_a_year_is_the_last_one(chat: Chat) -> None:
    await chat.move_to(datetime(2026, 12, 15, 10, 0, tzinfo=UTC))
    await chat.command("alice", '/pepite "Le bilan de l\'année"')
    draft = text_of(await chat.command("camille", 'gazette brouillon --depuis "1 janvier" --tout'))
    assert "du jeudi 1er janvier 2026 au mardi 15 décembre 2026" in draft
    future = text_of(await chat.command("camille", 'gazette brouillon --depuis "1 janvier 2027"'))
    assert "n'est pas dans le passé" in future
