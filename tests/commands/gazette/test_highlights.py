"""Highlights through the whole app: reactions and their threshold, duplicates, consent and what
each answer publishes, the commands, images; on SQLite and on PostgreSQL when configured."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.core import Actor, Attachment, CommandEvent, MessageRef
from bot.storage.highlights import (
    Consent,
    ConsentPreference,
    Highlight,
    HighlightSource,
    HighlightVote,
    RecentMessage,
)
from bot.storage.members import Member
from commands.gazette.content import build_content
from commands.gazette.draft import Period, open_draft
from tests.conftest import Database
from tests.digests.test_gazette_html import make_png
from tests.support.chat import START, Chat, place, text_of


def highlights(chat: Chat) -> list[Highlight]:
    with chat.db() as db:
        return list(db.scalars(select(Highlight).order_by(Highlight.id)).all())


# --- reactions ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_members_reactions_record_a_message_at_the_threshold(chat: Chat) -> None:
    ref = await chat.say("alice", "La fresque du climat a réuni 40 élus hier soir !")
    assert await chat.react("bob", ref) == []
    assert await chat.react("bob", ref) == []  # the same member twice counts once
    assert await chat.react("carol", ref, "👍") == []  # another reaction: nothing
    assert await chat.react("carol", ref) == []
    assert highlights(chat) == []
    await chat.react("carol", ref, added=False)  # carol changes her mind
    assert await chat.react("erin", ref) == []
    assert highlights(chat) == []
    outcome = await chat.react("frank", ref, "📰\ufe0f")  # the emoji with its variation selector
    assert "Pépite n° 1 enregistrée." in text_of(outcome)
    [row] = highlights(chat)
    assert (row.quote, row.author_name, row.channel_name) == (
        "La fresque du climat a réuni 40 élus hier soir !",
        "Alice",
        "general",
    )
    assert (row.message_id, row.source, row.consent) == (ref.message_id, "reaction", "pending")
    with chat.db() as db:
        recorder = db.get(Member, row.recorded_by_id)
        assert recorder is not None and recorder.user_id == "frank"
        assert db.scalars(select(HighlightVote)).all() == []  # votes are not kept once recorded
    [question] = chat.direct_messages("alice")
    assert "Bonjour Alice ! Vos mots dans #general ont été retenus" in question.text
    assert [c.action for c in question.choices] == [
        "consent:1:yes",
        "consent:1:anon",
        "consent:1:no",
        "consent:1:never",
    ]
    assert [c.label for c in question.choices] == [
        "Oui",
        "Oui, sans mon nom",
        "Non",
        "Ne plus me demander",
    ]


@pytest.mark.asyncio
async def test_the_threshold_is_configurable(database: Database, tmp_path: Path) -> None:
    chat = await Chat.start(database.url, tmp_path, highlights={"threshold": 1})
    try:
        ref = await chat.say("alice", "Un seul suffit")
        await chat.react("bob", ref)
        assert [h.quote for h in highlights(chat)] == ["Un seul suffit"]
    finally:
        await chat.stop()


@pytest.mark.asyncio
async def test_a_coordinator_records_at_once_and_the_same_message_is_one_highlight(
    chat: Chat,
) -> None:
    ref = await chat.say("alice", "On a planté 300 arbres")
    first = await chat.react("camille", ref)
    assert "Pépite n° 1 enregistrée. J'ai demandé à Alice" in text_of(first)
    again = await chat.react("dominique", ref)
    assert again == []
    by_number = await chat.command("camille", f"/pepite --message {ref.message_id} --themes climat")
    assert "Ce message est déjà la pépite n° 1. J'y ai ajouté" in text_of(by_number)
    member = await chat.command("bob", f"/pepite --message {ref.message_id}")
    assert "Ce message est déjà la pépite n° 1." in text_of(member)
    [row] = highlights(chat)
    assert row.themes == ["climat"]
    assert len(chat.direct_messages("alice")) == 1  # asked once
    copy = Highlight(
        platform="console",
        channel_id="general",
        message_id=ref.message_id,
        quote="copie",
        author_name="x",
        source="command",
        themes=[],
        said_at=START,
        created_at=START,
        consent="pending",
    )
    with chat.db() as db:
        db.add(copy)
        with pytest.raises(IntegrityError):
            db.commit()


@pytest.mark.asyncio
async def test_reactions_elsewhere_are_ignored(chat: Chat) -> None:
    ref = await chat.say("alice", "Bonjour")
    await chat.react("camille", ref, "👍")
    await chat.react("camille", ref, channel="@alice")
    bot_ref = MessageRef("console", "general", "999")
    chat.remember(bot_ref, Actor("console", "tisserand", "Tisserand", is_bot=True), "annonce")
    await chat.react("camille", bot_ref)
    assert highlights(chat) == []


@pytest.mark.asyncio
async def test_a_message_whose_text_the_platform_does_not_give(chat: Chat) -> None:
    ref = MessageRef("console", "general", "4242")
    chat.remember(ref, chat.actor("alice"), "")
    outcome = await chat.react("camille", ref, without_text=True)
    assert "Je ne peux pas lire ce message" in text_of(outcome)
    assert highlights(chat) == []
    # When the bot saw the message, its memory fills the gap (Discord gives no text).
    seen = await chat.say("alice", "Texte vu passer")
    outcome = await chat.react("camille", seen, without_text=True)
    assert [h.quote for h in highlights(chat)] == ["Texte vu passer"]


# --- consent -----------------------------------------------------------------------------------


async def _recorded(
    chat: Chat, text: str = "Une belle réussite collective", who: str = "alice"
) -> int:
    ref = await chat.say(who, text)
    await chat.react("camille", ref)
    return highlights(chat)[-1].id


@pytest.mark.asyncio
async def test_only_the_author_may_answer_and_the_answer_is_stored(chat: Chat) -> None:
    number = await _recorded(chat)
    refused = await chat.click("bob", f"consent:{number}:yes", channel="@bob")
    assert "Seule la personne concernée, Alice, peut répondre" in text_of(refused)
    assert refused[0].ephemeral
    assert highlights(chat)[0].consent == Consent.PENDING
    chat.clock.advance(timedelta(hours=2))
    done = await chat.click("alice", f"consent:{number}:anon", channel="@alice")
    assert "pourra paraître dans la gazette, sans votre nom" in text_of(done)
    row = highlights(chat)[0]
    assert row.consent == Consent.ANON and row.consent_at == START + timedelta(hours=2)
    broken = await chat.click("alice", "consent:abc:yes", channel="@alice")
    assert "Ce bouton ne fait plus rien." in text_of(broken)
    gone = await chat.click("alice", "consent:99:yes", channel="@alice")
    assert "Cette pépite a été supprimée" in text_of(gone)


def _published(chat: Chat) -> tuple[str, str | None] | None:
    """(quote, author or None) as the gazette of the period would publish it, if at all."""
    with chat.db() as db:
        t = chat.app.translators.get("fr")
        draft, _ = open_draft(
            db,
            t,
            chat.app.settings,
            Period(START - timedelta(days=1), START + timedelta(days=1)),
            START,
            None,
            chat.app.gazette_sources,
        )
        content = build_content(
            db, t, chat.app.settings, draft, START, draft=True, sources=chat.app.gazette_sources
        )
        db.rollback()
    if not content.highlights:
        return None
    [entry] = content.highlights
    return entry.quote, entry.author


@pytest.mark.parametrize(
    ("clicks", "published"),
    [
        (["yes"], ("Une belle réussite collective", "Alice")),
        (["anon"], ("Une belle réussite collective", None)),
        (["no"], None),
        ([], None),
        (["yes", "withdraw"], None),
        (["never"], None),
    ],
    ids=["yes", "anonymous", "no", "no-answer", "withdrawn", "never-ask"],
)
@pytest.mark.asyncio
async def test_each_consent_state_publishes_what_it_says(
    chat: Chat, clicks: list[str], published: tuple[str, str | None] | None
) -> None:
    number = await _recorded(chat)
    for click in clicks:
        if click == "withdraw":
            outcome = await chat.command("alice", f"/profil retirer {number}")
            assert "La pépite n° 1 est retirée" in text_of(outcome)
        else:
            await chat.click("alice", f"consent:{number}:{click}", channel="@alice")
    assert _published(chat) == published
    expected = {
        (): Consent.PENDING,
        ("yes",): Consent.YES,
        ("anon",): Consent.ANON,
        ("no",): Consent.NO,
        ("yes", "withdraw"): Consent.WITHDRAWN,
        ("never",): Consent.NEVER_ASK,
    }[tuple(clicks)]
    assert highlights(chat)[0].consent == expected


@pytest.mark.asyncio
async def test_never_ask_me_then_ask_again(chat: Chat) -> None:
    first = await _recorded(chat, "Premier message")
    await chat.click("alice", f"consent:{first}:never", channel="@alice")
    with chat.db() as db:
        preference = db.get(ConsentPreference, highlights(chat)[0].author_id)
        assert preference is not None and preference.never_ask
    second = await _recorded(chat, "Deuxième message")
    assert len(chat.direct_messages("alice")) == 1  # not asked about the second one
    assert highlights(chat)[1].consent == Consent.NEVER_ASK
    listing = await chat.command("alice", "/profil consentements")
    assert "qu'on ne vous pose plus la question" in text_of(listing)
    again = await chat.command("alice", "/profil redemander")
    assert "Je vous envoie les questions pour 2 pépites." in text_of(again)
    questions = chat.direct_messages("alice")[1:]
    assert [q.choices[0].action for q in questions] == [
        f"consent:{first}:yes",
        f"consent:{second}:yes",
    ]
    assert {h.consent for h in highlights(chat)} == {Consent.PENDING}
    stop = await chat.command("alice", "/profil ne-plus-demander")
    assert "2 pépites qui attendaient votre réponse ne seront pas publiées non plus" in text_of(
        stop
    )


@pytest.mark.asyncio
async def test_withdrawing_someone_elses_highlight_is_refused(chat: Chat) -> None:
    number = await _recorded(chat)
    outcome = await chat.command("bob", f"/profil retirer {number}")
    assert "Vous n'avez pas de pépite n° 1." in text_of(outcome)
    assert highlights(chat)[0].consent == Consent.PENDING


# --- the command -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_typed_words_their_author_and_attribution(chat: Chat) -> None:
    await chat.say("bob", "bonjour")  # bob is known to the bot
    own = await chat.command(
        "alice", '/pepite "Nous avons ouvert un repair café" --themes "réemploi"'
    )
    assert "Pépite n° 1 enregistrée. Comme ce sont vos propres mots" in text_of(own)
    refused = await chat.command("alice", '/pepite "Bob a dit ceci" --auteur @bob')
    assert "Seule la coordination peut attribuer des mots" in text_of(refused)
    unknown = await chat.command("camille", '/pepite "Des mots" --auteur @zoe')
    assert "Je ne connais pas @zoe." in text_of(unknown)
    attributed = await chat.command("camille", '/pepite "Le vélo-bus roule !" --auteur Bob')
    assert "J'ai demandé à Bob" in text_of(attributed)
    empty = await chat.command("camille", "/pepite")
    assert "Donnez les mots à garder" in text_of(empty)
    both = await chat.command("camille", '/pepite "x" --message 3')
    assert "Donnez soit un message (--message), soit un texte" in text_of(both)
    rows = highlights(chat)
    assert [(r.quote, r.author_name, r.consent, r.message_id) for r in rows] == [
        ("Nous avons ouvert un repair café", "Alice", Consent.YES, None),
        ("Le vélo-bus roule !", "Bob", Consent.PENDING, None),
    ]
    assert rows[0].themes == ["réemploi"]
    assert len(chat.direct_messages("bob")) == 1 and chat.direct_messages("alice") == []


@pytest.mark.asyncio
async def test_pointing_at_a_message_by_number(chat: Chat) -> None:
    ref = await chat.say("alice", "Le compost partagé fonctionne !")
    vote = await chat.command("bob", f"/pepite --message n°{ref.message_id}")
    assert "votre proposition est notée (1 sur 3)" in text_of(vote)
    await chat.command("carol", f"/pepite --message #{ref.message_id}")
    assert highlights(chat) == []
    await chat.react("erin", ref)  # reactions and commands add up
    assert [h.quote for h in highlights(chat)] == ["Le compost partagé fonctionne !"]
    unknown = await chat.command("camille", "/pepite --message 777")
    assert "Je ne peux pas lire le message 777" in text_of(unknown)
    garbage = await chat.command("camille", "/pepite --message hier")
    assert "« hier » n'est ni un numéro de message ni un lien" in text_of(garbage)


@pytest.mark.asyncio
async def test_messages_are_remembered_for_a_limited_time(chat: Chat) -> None:
    old = await chat.say("alice", "Un vieux message")
    chat.clock.advance(timedelta(hours=49))
    await chat.say("bob", "Un message récent")  # remembering a message forgets the old ones
    with chat.db() as db:
        assert [m.text for m in db.scalars(select(RecentMessage)).all()] == ["Un message récent"]
    outcome = await chat.command("camille", f"/pepite --message {old.message_id}")
    assert "ces 48 dernières heures" in text_of(outcome)
    assert highlights(chat) == []


@pytest.mark.asyncio
async def test_the_discord_context_menu(chat: Chat) -> None:
    await chat.say("alice", "hello")
    ref = MessageRef("console", "general", "555")
    event = CommandEvent(
        chat.actor("camille"),
        place(),
        START,
        name="pepite",
        options={"target_id": "555", "message_text": "Texte du menu", "message_author_id": "alice"},
        ref=ref,
    )
    outcome = await chat.app.process(event)
    assert "Pépite n° 1 enregistrée." in text_of(outcome)
    [row] = highlights(chat)
    assert (row.quote, row.author_name, row.source, row.message_id) == (
        "Texte du menu",
        "Alice",
        HighlightSource.MENU,
        "555",
    )


@pytest.mark.asyncio
async def test_list_and_delete(chat: Chat) -> None:
    await _recorded(chat, "À garder")
    listing = await chat.command("camille", "/pepite liste --attente")
    assert "n° 1 — « À garder » — Alice · #general — en attente de la réponse" in text_of(listing)
    refused = await chat.command("bob", "/pepite supprimer 1")
    assert "réservée à l'équipe de coordination" in text_of(refused)
    deleted = await chat.command("camille", "/pepite supprimer 1")
    assert "Pépite n° 1 supprimée." in text_of(deleted)
    missing = await chat.command("camille", "/pepite supprimer 1")
    assert "Il n'y a pas de pépite n° 1." in text_of(missing)
    assert highlights(chat) == []


@pytest.mark.asyncio
async def test_numbers_are_suggested(chat: Chat) -> None:
    await _recorded(chat, "Le premier", who="alice")
    await _recorded(chat, "Le second", who="bob")
    coordinator = await chat.app.autocomplete(
        "pepite supprimer", "number", "", chat.actor("camille")
    )
    assert [value for _, value in coordinator] == ["2", "1"]
    assert coordinator[1][0] == "n° 1 · Alice · Le premier"
    own = await chat.app.autocomplete("profil retirer", "number", "", chat.actor("bob"))
    assert [value for _, value in own] == ["2"]
    typed = await chat.app.autocomplete("pepite supprimer", "number", "prem", chat.actor("camille"))
    assert [value for _, value in typed] == ["1"]
    assert await chat.app.autocomplete("profil retirer", "number", "", chat.actor("zoe")) == []


# --- images ------------------------------------------------------------------------------------

PNG = make_png(8, 8, (200, 60, 40))


@pytest_asyncio.fixture
async def image_server() -> AsyncIterator[str]:
    async def ok(request: web.Request) -> web.Response:
        return web.Response(body=PNG, content_type="image/png")

    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<html></html>", content_type="text/html")

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=PNG + b"\0" * 5000, content_type="image/png")

    async def fake(request: web.Request) -> web.Response:
        return web.Response(body=b"not really a png", content_type="image/png")

    app = web.Application()
    app.add_routes(
        [
            web.get("/ok.png", ok),
            web.get("/page", page),
            web.get("/big.png", big),
            web.get("/fake.png", fake),
        ]
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.mark.asyncio
async def test_images_are_downloaded_and_checked(
    database: Database, tmp_path: Path, image_server: str
) -> None:
    chat = await Chat.start(
        database.url,
        tmp_path,
        feeds={"allow_private_networks": True},
        highlights={"max_image_bytes": 2048, "max_images": 2},
    )
    try:
        good = await chat.command("camille", f'/pepite "Avec photo" --image {image_server}/ok.png')
        assert "1 image conservée." in text_of(good)
        for path, expected in [
            ("/page", "ce n'est pas une image PNG, JPEG, GIF ou WebP"),
            ("/fake.png", "ce n'est pas une image PNG, JPEG, GIF ou WebP"),
            ("/big.png", "plus de 2 Ko, non conservée"),
            ("/missing.png", "téléchargement impossible (HTTP 404)"),
        ]:
            outcome = await chat.command(
                "camille", f'/pepite "Essai {path}" --image {image_server}{path}'
            )
            assert expected in text_of(outcome), path
            assert "enregistrée" in text_of(outcome)  # the words are kept all the same
        attached = await chat.command(
            "camille",
            '/pepite "Pièces jointes"',
            attachments=[
                Attachment("a.png", "image/png", PNG),
                Attachment("b.png", "image/png", make_png(4, 4, (1, 2, 3))),
                Attachment("c.png", "image/png", make_png(5, 5, (1, 2, 3))),
                Attachment("notes.txt", "text/plain", b"hello"),
            ],
        )
        assert "2 images conservées." in text_of(attached)
        assert "au plus 2 images" in text_of(attached)
        assert "Image notes.txt : ce n'est pas une image" in text_of(attached)
        with chat.db() as db:
            rows = db.scalars(select(Highlight).order_by(Highlight.id)).all()
            assert [len(r.images) for r in rows] == [1, 0, 0, 0, 0, 2]
            image = rows[0].images[0]
            assert (image.media_type, image.data) == ("image/png", PNG)
            assert image.source_url == f"{image_server}/ok.png"
            assert rows[5].images[0].filename == "a.png"
    finally:
        await chat.stop()


@pytest.mark.asyncio
async def test_private_addresses_are_refused_by_default(
    database: Database, tmp_path: Path, image_server: str
) -> None:
    chat = await Chat.start(database.url, tmp_path)
    try:
        outcome = await chat.command("camille", f'/pepite "x" --image {image_server}/ok.png')
        assert "je n'ai pas le droit de télécharger depuis cette adresse" in text_of(outcome)
    finally:
        await chat.stop()
