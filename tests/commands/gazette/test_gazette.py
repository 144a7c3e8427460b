"""The gazette: draft, editing, publication, archive and rebuilds, the sections from the other
modules, the command-line builder, and a whole console scenario."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.core import PlaceTarget, Reply
from bot.storage.highlights import Gazette, GazetteStatus, Highlight
from bot.storage.members import Member, PlaceRow
from commands.gazette import build_gazette_file
from tests.conftest import Database
from tests.support.chat import START, Chat, text_of
from tests.support.console import console_settings, run_script


async def _highlight(chat: Chat, who: str, text: str, answer: str | None) -> int:
    ref = await chat.say(who, text)
    await chat.react("camille", ref)
    with chat.db() as db:
        number = db.scalars(select(Highlight.id).order_by(Highlight.id.desc())).first()
    assert number is not None
    if answer:
        await chat.click(who, f"consent:{number}:{answer}", channel=f"@{who}")
    return number


def _attachment(reply: Reply) -> str:
    [attachment] = reply.attachments
    assert attachment.media_type == "text/html"
    return attachment.data.decode("utf-8")


def _numbered(text: str) -> dict[int, str]:
    return {int(m.group(1)): m.group(2) for m in re.finditer(r"^(\d+)\. (.*)$", text, re.M)}


def _published_posts(chat: Chat) -> list[Reply]:
    return [reply for target, reply, _ in chat.platform.posted if isinstance(target, PlaceTarget)]


@pytest.mark.asyncio
async def test_draft_edit_publish_archive_and_rebuild(chat: Chat) -> None:
    await _highlight(chat, "alice", "La fresque du climat a réuni 40 élus !", "yes")
    await _highlight(chat, "bob", "Nous avons planté 300 arbres", "anon")
    third = await _highlight(chat, "carol", "Le vélo-bus roule", None)

    nothing = await chat.command("camille", "/gazette")
    assert "Il n'y a pas de brouillon de gazette." in text_of(nothing)

    draft = await chat.command("camille", "/gazette brouillon")
    listing = text_of(draft)
    assert "**Brouillon de la gazette** — du samedi 24 octobre 2026 au lundi 23 novembre 2026" in (
        listing
    )
    items = _numbered(listing)
    assert items[1] == "« La fresque du climat a réuni 40 élus ! » — Alice · #general"
    assert items[2] == "« Nous avons planté 300 arbres » — un membre (sans son nom) · #general"
    assert set(items.values()) >= {"Alice", "Bob", "Carol", "Camille"}  # the newcomers
    assert "laissée de côté pour l'instant : n° 3." in listing
    preview = _attachment(draft[0])
    assert "Brouillon : pas encore publiée" in preview and "Le vélo-bus" not in preview

    for line, expected in [
        ("/gazette deplacer 2", "Dites où le placer : --avant M ou --apres M."),
        ("/gazette deplacer 3 --avant 1", "dans des rubriques différentes"),
        ("/gazette retirer 42", "Il n'y a pas d'élément 42 dans le brouillon : il en compte 6."),
        ("/gazette edito", "Donnez l'édito entre guillemets"),
    ]:
        assert expected in text_of(await chat.command("camille", line)), line
    refused = await chat.command("alice", "/gazette brouillon")
    assert "réservée à l'équipe de coordination" in text_of(refused)

    saved = await chat.command("camille", '/gazette edito "Un mois riche en rencontres."')
    assert "Édito enregistré." in text_of(saved)
    moved = await chat.command("camille", "/gazette deplacer 2 --avant 1")
    assert list(_numbered(text_of(moved)))[:2] == [2, 1]  # numbers stay with their items
    assert _numbered(text_of(moved))[2].startswith("« Nous avons planté")
    carol = next(n for n, text in _numbered(text_of(moved)).items() if text == "Carol")
    dropped = await chat.command("camille", f"/gazette retirer {carol}")
    assert _numbered(text_of(dropped))[carol] == "Carol (retiré)"
    back = await chat.command("camille", f"/gazette remettre {carol}")
    assert _numbered(text_of(back))[carol] == "Carol"
    await chat.command("camille", f"/gazette retirer {carol}")

    await chat.click("carol", f"consent:{third}:yes", channel="@carol")  # a late answer
    refreshed = await chat.command("camille", "/gazette brouillon")
    assert "Brouillon mis à jour : 1 nouvel élément." in text_of(refreshed)
    items = _numbered(text_of(refreshed))
    assert list(items)[:3] == [2, 1, 7]  # the new item takes a new number
    assert [items[2][:12], items[1][:12], items[7][:12]] == [
        "« Nous avons",
        "« La fresque",
        "« Le vélo-bu",
    ]
    assert "Carol (retiré)" in items.values()  # drops survive a refresh
    assert "Un mois riche" in text_of(refreshed)

    published = await chat.command("camille", "/gazette publier")
    assert "Gazette n° 1 publiée dans #general et archivée" in text_of(published)
    [post] = _published_posts(chat)
    assert post.text.startswith("📰 **Réseau Tisserand : la gazette n° 1 est parue !**")
    assert "3 pépites" in post.text and "4 nouveaux membres" in post.text
    html = _attachment(post)
    assert post.attachments[0].filename == "gazette-1-2026-11-23.html"
    assert html.index("Nous avons planté") < html.index("La fresque") < html.index("Le vélo-bus")
    assert "Un mois riche en rencontres." in html and "Numéro 1" in html
    assert "<li>Carol</li>" not in html and "<li>Alice</li>" in html
    with chat.db() as db:
        archived = db.get(Gazette, 1)
        assert archived is not None and archived.status == GazetteStatus.PUBLISHED
        assert archived.html == post.attachments[0].data
        assert archived.published_items == 6

    suggested = await chat.app.autocomplete("gazettes", "number", "", chat.actor("bob"))
    assert suggested == [("n° 1 · lundi 23 novembre 2026", "1")]
    archive = await chat.command("bob", "/gazettes")
    assert "- n° 1 — publiée le lundi 23 novembre 2026 — 6 éléments" in text_of(archive)
    copy = await chat.command("bob", "/gazettes 1")
    assert copy[0].attachments[0].data == post.attachments[0].data
    missing = await chat.command("bob", "/gazettes 7")
    assert "Il n'y a pas de gazette publiée n° 7." in text_of(missing)
    assert "Il n'y a pas de brouillon" in text_of(await chat.command("camille", "/gazette"))

    withdrawn = await chat.command("alice", "/profil retirer 1")
    assert "La gazette archivée n° 1 a été reconstruite en conséquence." in text_of(withdrawn)
    with chat.db() as db:
        archived = db.get(Gazette, 1)
        assert archived is not None and archived.html is not None
        rebuilt = archived.html.decode("utf-8")
        assert "La fresque" not in rebuilt and "Nous avons planté" in rebuilt
        assert archived.rebuilt_at is not None and archived.published_items == 5
    again = await chat.command("alice", "/profil consentements")
    assert "n° 1 — « La fresque du climat a réuni 40 élus ! » — retirée par l'auteur" in text_of(
        again
    )

    chat.clock.advance(timedelta(days=3))
    following = await chat.command("camille", "/gazette brouillon")
    assert "du lundi 23 novembre 2026 au jeudi 26 novembre 2026" in text_of(following)
    assert "Rien à publier pour l'instant" in text_of(following)


@pytest.mark.asyncio
async def test_an_empty_gazette_is_refused(chat: Chat) -> None:
    number = await _highlight(chat, "alice", "Bientôt retiré", "yes")
    draft = await chat.command("camille", "/gazette brouillon")
    count = len(_numbered(text_of(draft)))
    for item in range(2, count + 1):
        await chat.command("camille", f"/gazette retirer {item}")
    await chat.command("alice", f"/profil retirer {number}")  # after the draft was made
    refused = await chat.command("camille", "/gazette publier")
    assert "La gazette est vide" in text_of(refused)
    assert "Rien n'a été publié" in text_of(refused)
    assert _published_posts(chat) == []
    with chat.db() as db:
        [row] = db.scalars(select(Gazette)).all()
        assert row.status == GazetteStatus.DRAFT and row.html is None
    listing = await chat.command("camille", "/gazette")
    assert "(accord retiré : laissée de côté)" in text_of(listing)


@pytest.mark.asyncio
async def test_publish_in_another_channel_and_from_a_direct_message(chat: Chat) -> None:
    await _highlight(chat, "alice", "Bravo", "yes")
    await chat.command("camille", "/gazette brouillon")
    refused = await chat.command("camille", "/gazette publier", channel="@camille")
    assert "Dites dans quel canal la publier" in text_of(refused)
    unknown = await chat.command("camille", "/gazette publier --canal #nulle-part")
    assert "Je ne connais pas encore le canal #nulle-part" in text_of(unknown)
    await chat.say("bob", "coucou", channel="annonces")
    done = await chat.command("camille", "/gazette publier --canal #annonces")
    assert "publiée dans #annonces" in text_of(done)
    [(target, _, _)] = [p for p in chat.platform.posted if isinstance(p[0], PlaceTarget)]
    assert target == PlaceTarget("console", "annonces")


@pytest.mark.asyncio
async def test_the_other_modules_sections(chat: Chat) -> None:
    from bot.storage.sessions import Registration, SessionRow
    from bot.storage.veille import FeedEntry
    from commands.polls import close_poll, create_poll

    await chat.say("bob", "Je serai là")
    await _highlight(chat, "alice", "Une plénière réussie", "yes")
    with chat.db() as db:
        members = {m.user_id: m for m in db.scalars(select(Member)).all()}
        session = SessionRow(
            uid="session-1@test",
            title="Plénière d'automne",
            kind="plenary",
            location="Lyon",
            starts_at=START - timedelta(days=2),
            ends_at=START - timedelta(days=2) + timedelta(hours=3),
            capacity=30,
            confirmed=2,
            platform="console",
            channel_id="general",
            created_at=START - timedelta(days=10),
            updated_at=START - timedelta(days=10),
        )
        db.add(session)
        db.flush()
        for arrival, (who, present) in enumerate(
            [("alice", True), ("camille", True), ("bob", False)], start=1
        ):
            db.add(
                Registration(
                    session_id=session.id,
                    member_id=members[who].id,
                    status="confirmed",
                    arrival=arrival,
                    registered_at=START - timedelta(days=5),
                    updated_at=START - timedelta(days=5),
                    attended_at=START - timedelta(days=2) if present else None,
                )
            )
        place = db.scalars(select(PlaceRow)).first()
        assert place is not None
        poll = create_poll(
            db,
            creator=members["camille"],
            place=place,
            question="Date de la prochaine plénière ?",
            options=["Mars", "Avril"],
            now=START - timedelta(days=3),
            t=chat.app.translators.get("fr"),
        )
        close_poll(db, poll, now=START - timedelta(days=1), public_t=chat.app.translators.get("fr"))
        db.add(
            FeedEntry(
                kind="share",
                platform="console",
                channel_id="general",
                entry_key="k1",
                link="https://example.org/guide",
                content_hash="h1",
                title="Guide de la rénovation",
                summary="Un guide pratique pour les communes.",
                created_at=START - timedelta(days=1),
            )
        )
        db.commit()
    draft = await chat.command("camille", "/gazette brouillon")
    listing = text_of(draft)
    assert "**Séances tenues**" in listing and "2. Plénière d'automne — Plenary · " in listing
    assert "**Décisions et sondages**" in listing and "Date de la prochaine plénière ?" in listing
    assert "**À lire**" in listing and "Guide de la rénovation" in listing
    html = _attachment(draft[0])
    assert 'id="chart-attendance"' in html and "Participation par séance" in html
    assert 'href="https://example.org/guide"' in html
    asked = await chat.command("camille", f"/gazette brouillon --session {session_id(chat)}")
    by_session = await chat.click("camille", asked[0].choices[0].action)
    assert "Gazette de la séance n° 1 : Plénière d'automne." in text_of(by_session)


def session_id(chat: Chat) -> int:
    from bot.storage.sessions import SessionRow

    with chat.db() as db:
        row = db.scalars(select(SessionRow)).first()
        assert row is not None
        return row.id


@pytest.mark.asyncio
async def test_build_gazette_file_from_the_command_line(chat: Chat, tmp_path: Path) -> None:
    await _highlight(chat, "alice", "Pour le fichier", "yes")
    out = tmp_path / "sortie" / "gazette.html"
    result = build_gazette_file(
        chat.app.sessions,
        out,
        settings=chat.app.settings,
        clock=chat.clock,
        sources=chat.app.gazette_sources,
    )
    assert not result.from_draft and result.items >= 2 and result.size == out.stat().st_size
    assert "Pour le fichier" in out.read_text(encoding="utf-8")
    await chat.command("camille", "/gazette brouillon")
    await chat.command("camille", '/gazette edito "Depuis le brouillon"')
    result = build_gazette_file(
        chat.app.sessions,
        out,
        settings=chat.app.settings,
        clock=chat.clock,
        locale="en",
        sources=chat.app.gazette_sources,
    )
    text = out.read_text(encoding="utf-8")
    assert result.from_draft and "Depuis le brouillon" in text and '<html lang="en">' in text
    result = build_gazette_file(
        chat.app.sessions,
        out,
        settings=chat.app.settings,
        clock=chat.clock,
        since=START + timedelta(hours=1),
        sources=chat.app.gazette_sources,
    )
    assert not result.from_draft and result.items == 0
    with chat.db() as db:  # nothing was written by the builder
        assert len(db.scalars(select(Gazette)).all()) == 1


@pytest.mark.asyncio
async def test_the_whole_story_on_the_console(database: Database, tmp_path: Path) -> None:
    settings = console_settings(database.url, tmp_path)
    out_dir = tmp_path / "out"
    transcript = await run_script(
        [
            "@alice: La fresque du climat a réuni 40 élus hier soir !",
            "@bob: Et 300 arbres plantés avec les écoles",
            ":react 1 📰",
            ":as bob",
            ":click 3 1",
            ":as alice",
            ":click 3 1",
            ":click 3 2",
            ":as camille",
            "/gazette brouillon",
            '/gazette edito "Merci à toutes et à tous !"',
            "/gazette publier",
        ],
        settings=settings,
        out_dir=out_dir,
    )
    assert "[#3] @alice (privé) tisserand:\nBonjour alice ! Vos mots dans #general" in transcript
    assert "  (1) Oui\n  (2) Oui, sans mon nom\n  (3) Non\n  (4) Ne plus me demander" in transcript
    assert "[#4] @camille (privé) tisserand:\nPépite n° 1 enregistrée." in transcript
    assert "Seule la personne concernée, alice, peut répondre" in transcript
    assert "Merci ! La pépite n° 1 pourra paraître dans la gazette, sans votre nom." in transcript
    assert "1. « La fresque du climat a réuni 40 élus hier soir ! » — un membre" in transcript
    assert "📰 **Réseau Tisserand : la gazette n° 1 est parue !**" in transcript
    [published] = sorted(out_dir.glob("*-gazette-1-*.html"))
    html = published.read_text(encoding="utf-8")
    assert "La fresque du climat a réuni 40 élus hier soir !" in html
    assert "Un membre du réseau" in html and "Merci à toutes et à tous !" in html
    assert "300 arbres" not in html  # never recorded
    assert list(out_dir.glob("*-gazette-brouillon.html"))
