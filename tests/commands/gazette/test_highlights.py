"""Highlights through the whole app: reactions and their threshold, duplicates, consent and what
each answer publishes, the commands, images; on SQLite and on PostgreSQL when configured."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.app import App, Outcome
from bot.clock import FrozenClock
from bot.config import load_settings
from bot.core import (
    Actor,
    Attachment,
    ChoiceEvent,
    CommandEvent,
    DirectTarget,
    MessageEvent,
    MessageRef,
    Place,
    ReactionEvent,
    Reply,
    Role,
)
from bot.storage.highlights import (
    Consent,
    ConsentPreference,
    Highlight,
    HighlightSource,
    HighlightVote,
    RecentMessage,
)
from bot.storage.members import Member
from bot.wiring import make_app
from commands.gazette.content import build_content
from commands.gazette.draft import Period, open_draft
from tests.conftest import Database
from tests.digests.test_gazette_html import make_png
from tests.support.platform import RecordingPlatform

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
GENERAL = Place("console", "general", "general")


@dataclass
class Bot:
    """The real App with an in-memory platform, driven event by event."""

    app: App
    platform: RecordingPlatform
    clock: FrozenClock
    next_message: int = 100
    said: dict[str, tuple[Actor, str]] = field(default_factory=dict)

    @classmethod
    async def start(cls, url: str, data_dir: Path, **overrides: Any) -> Bot:
        settings = load_settings(
            None, database_url=url, environ={}, overrides={"data_dir": str(data_dir), **overrides}
        )
        clock = FrozenClock(START)
        app = make_app(settings, clock=clock)
        platform = RecordingPlatform()
        app.add_platform(platform)
        await app.start(with_scheduler=False)
        return cls(app, platform, clock)

    async def stop(self) -> None:
        await self.app.stop()

    def actor(self, name: str) -> Actor:
        roles = {Role.MEMBER}
        if name in ("camille", "dominique"):
            roles.add(Role.COORDINATOR)
        return Actor("console", name, name.capitalize(), roles=frozenset(roles))

    async def say(self, who: str, text: str, place: Place = GENERAL) -> MessageRef:
        self.next_message += 1
        ref = MessageRef("console", place.channel_id, str(self.next_message))
        self.said[ref.message_id] = (self.actor(who), text)
        event = MessageEvent(self.actor(who), place, text, ref, self.clock.now())
        outcome = await self.app.process(event)
        assert outcome.error_id is None
        return ref

    async def command(
        self,
        who: str,
        text: str,
        *,
        attachments: Sequence[Attachment] = (),
        place: Place = GENERAL,
    ) -> Outcome:
        self.next_message += 1
        ref = MessageRef("console", place.channel_id, str(self.next_message))
        event = CommandEvent(
            self.actor(who),
            place,
            self.clock.now(),
            text=text.lstrip("/"),
            ref=ref,
            attachments=tuple(attachments),
        )
        outcome = await self.app.process(event)
        assert outcome.error_id is None, outcome
        return outcome

    async def react(
        self,
        who: str,
        ref: MessageRef,
        emoji: str = "📰",
        *,
        added: bool = True,
        text: str | None = "",
        place: Place = GENERAL,
    ) -> Outcome:
        author, said = self.said[ref.message_id]
        event = ReactionEvent(
            self.actor(who),
            place,
            self.clock.now(),
            ref,
            emoji,
            added=added,
            message_author=author,
            message_text=said if text == "" else text,
        )
        outcome = await self.app.process(event)
        assert outcome.error_id is None
        return outcome

    async def click(self, who: str, action: str) -> Outcome:
        place = Place("console", f"@{who}", f"@{who}", is_direct=True)
        event = ChoiceEvent(self.actor(who), place, self.clock.now(), action)
        outcome = await self.app.process(event)
        assert outcome.error_id is None
        return outcome

    def db(self) -> Session:
        return Session(self.app.engine, expire_on_commit=False)

    def highlights(self) -> list[Highlight]:
        with self.db() as db:
            return list(db.scalars(select(Highlight).order_by(Highlight.id)).all())

    def direct_messages(self, user: str) -> list[Reply]:
        return [
            reply
            for target, reply, _ in self.platform.posted
            if isinstance(target, DirectTarget) and target.user_id == user
        ]


def text_of(outcome: Outcome) -> str:
    return "\n".join(reply.text for reply in outcome.replies)


@pytest_asyncio.fixture
async def bot(database: Database, tmp_path: Path) -> AsyncIterator[Bot]:
    running = await Bot.start(database.url, tmp_path)
    yield running
    await running.stop()


# --- reactions ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_members_reactions_record_a_message_at_the_threshold(bot: Bot) -> None:
    ref = await bot.say("alice", "La fresque du climat a réuni 40 élus hier soir !")
    assert (await bot.react("bob", ref)).replies == []
    assert (await bot.react("bob", ref)).replies == []  # the same member twice counts once
    assert (await bot.react("carol", ref, "👍")).replies == []  # another reaction: nothing
    assert (await bot.react("carol", ref)).replies == []
    assert bot.highlights() == []
    await bot.react("carol", ref, added=False)  # carol changes her mind
    assert (await bot.react("erin", ref)).replies == []
    assert bot.highlights() == []
    outcome = await bot.react("frank", ref, "📰\ufe0f")  # the emoji with its variation selector
    assert "Pépite n° 1 enregistrée." in text_of(outcome)
    [row] = bot.highlights()
    assert (row.quote, row.author_name, row.channel_name) == (
        "La fresque du climat a réuni 40 élus hier soir !",
        "Alice",
        "general",
    )
    assert (row.message_id, row.source, row.consent) == (ref.message_id, "reaction", "pending")
    with bot.db() as db:
        recorder = db.get(Member, row.recorded_by_id)
        assert recorder is not None and recorder.user_id == "frank"
        assert db.scalars(select(HighlightVote)).all() == []  # votes are not kept once recorded
    [question] = bot.direct_messages("alice")
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
    bot = await Bot.start(database.url, tmp_path, highlights={"threshold": 1})
    try:
        ref = await bot.say("alice", "Un seul suffit")
        await bot.react("bob", ref)
        assert [h.quote for h in bot.highlights()] == ["Un seul suffit"]
    finally:
        await bot.stop()


@pytest.mark.asyncio
async def test_a_coordinator_records_at_once_and_the_same_message_is_one_highlight(
    bot: Bot,
) -> None:
    ref = await bot.say("alice", "On a planté 300 arbres")
    first = await bot.react("camille", ref)
    assert "Pépite n° 1 enregistrée. J'ai demandé à Alice" in text_of(first)
    again = await bot.react("dominique", ref)
    assert again.replies == []
    by_number = await bot.command("camille", f"/pepite --message {ref.message_id} --themes climat")
    assert "Ce message est déjà la pépite n° 1. J'y ai ajouté" in text_of(by_number)
    member = await bot.command("bob", f"/pepite --message {ref.message_id}")
    assert "Ce message est déjà la pépite n° 1." in text_of(member)
    [row] = bot.highlights()
    assert row.themes == ["climat"]
    assert len(bot.direct_messages("alice")) == 1  # asked once
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
    with bot.db() as db:
        db.add(copy)
        with pytest.raises(IntegrityError):
            db.commit()


@pytest.mark.asyncio
async def test_reactions_elsewhere_are_ignored(bot: Bot) -> None:
    ref = await bot.say("alice", "Bonjour")
    await bot.react("camille", ref, "👍")
    private = Place("console", "@alice", "@alice", is_direct=True)
    await bot.react("camille", ref, place=private)
    bot_ref = MessageRef("console", "general", "999")
    bot.said["999"] = (Actor("console", "tisserand", "Tisserand", is_bot=True), "annonce")
    await bot.react("camille", bot_ref)
    assert bot.highlights() == []


@pytest.mark.asyncio
async def test_a_message_whose_text_the_platform_does_not_give(bot: Bot) -> None:
    ref = MessageRef("console", "general", "4242")
    bot.said["4242"] = (bot.actor("alice"), "")
    outcome = await bot.react("camille", ref, text=None)
    assert "Je ne peux pas lire ce message" in text_of(outcome)
    assert bot.highlights() == []
    # When the bot saw the message, its memory fills the gap (Discord gives no text).
    seen = await bot.say("alice", "Texte vu passer")
    outcome = await bot.react("camille", seen, text=None)
    assert [h.quote for h in bot.highlights()] == ["Texte vu passer"]


# --- consent -----------------------------------------------------------------------------------


async def _recorded(
    bot: Bot, text: str = "Une belle réussite collective", who: str = "alice"
) -> int:
    ref = await bot.say(who, text)
    await bot.react("camille", ref)
    return bot.highlights()[-1].id


@pytest.mark.asyncio
async def test_only_the_author_may_answer_and_the_answer_is_stored(bot: Bot) -> None:
    number = await _recorded(bot)
    refused = await bot.click("bob", f"consent:{number}:yes")
    assert "Seule la personne concernée, Alice, peut répondre" in text_of(refused)
    assert refused.replies[0].ephemeral
    assert bot.highlights()[0].consent == Consent.PENDING
    bot.clock.advance(timedelta(hours=2))
    done = await bot.click("alice", f"consent:{number}:anon")
    assert "pourra paraître dans la gazette, sans votre nom" in text_of(done)
    row = bot.highlights()[0]
    assert row.consent == Consent.ANON and row.consent_at == START + timedelta(hours=2)
    broken = await bot.click("alice", "consent:abc:yes")
    assert "Ce bouton ne fait plus rien." in text_of(broken)
    gone = await bot.click("alice", "consent:99:yes")
    assert "Cette pépite a été supprimée" in text_of(gone)


def _published(bot: Bot) -> tuple[str, str | None] | None:
    """(quote, author or None) as the gazette of the period would publish it, if at all."""
    with bot.db() as db:
        t = bot.app.translators.get("fr")
        draft, _ = open_draft(
            db,
            t,
            bot.app.settings,
            Period(START - timedelta(days=1), START + timedelta(days=1)),
            START,
            None,
            bot.app.gazette_sources,
        )
        content = build_content(
            db, t, bot.app.settings, draft, START, draft=True, sources=bot.app.gazette_sources
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
    bot: Bot, clicks: list[str], published: tuple[str, str | None] | None
) -> None:
    number = await _recorded(bot)
    for click in clicks:
        if click == "withdraw":
            outcome = await bot.command("alice", f"/profil retirer {number}")
            assert "La pépite n° 1 est retirée" in text_of(outcome)
        else:
            await bot.click("alice", f"consent:{number}:{click}")
    assert _published(bot) == published
    expected = {
        (): Consent.PENDING,
        ("yes",): Consent.YES,
        ("anon",): Consent.ANON,
        ("no",): Consent.NO,
        ("yes", "withdraw"): Consent.WITHDRAWN,
        ("never",): Consent.NEVER_ASK,
    }[tuple(clicks)]
    assert bot.highlights()[0].consent == expected


@pytest.mark.asyncio
async def test_never_ask_me_then_ask_again(bot: Bot) -> None:
    first = await _recorded(bot, "Premier message")
    await bot.click("alice", f"consent:{first}:never")
    with bot.db() as db:
        preference = db.get(ConsentPreference, bot.highlights()[0].author_id)
        assert preference is not None and preference.never_ask
    second = await _recorded(bot, "Deuxième message")
    assert len(bot.direct_messages("alice")) == 1  # not asked about the second one
    assert bot.highlights()[1].consent == Consent.NEVER_ASK
    listing = await bot.command("alice", "/profil consentements")
    assert "qu'on ne vous pose plus la question" in text_of(listing)
    again = await bot.command("alice", "/profil redemander")
    assert "Je vous envoie les questions pour 2 pépites." in text_of(again)
    questions = bot.direct_messages("alice")[1:]
    assert [q.choices[0].action for q in questions] == [
        f"consent:{first}:yes",
        f"consent:{second}:yes",
    ]
    assert {h.consent for h in bot.highlights()} == {Consent.PENDING}
    stop = await bot.command("alice", "/profil ne-plus-demander")
    assert "2 pépites qui attendaient votre réponse ne seront pas publiées non plus" in text_of(
        stop
    )


@pytest.mark.asyncio
async def test_withdrawing_someone_elses_highlight_is_refused(bot: Bot) -> None:
    number = await _recorded(bot)
    outcome = await bot.command("bob", f"/profil retirer {number}")
    assert "Vous n'avez pas de pépite n° 1." in text_of(outcome)
    assert bot.highlights()[0].consent == Consent.PENDING


# --- the command -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_typed_words_their_author_and_attribution(bot: Bot) -> None:
    await bot.say("bob", "bonjour")  # bob is known to the bot
    own = await bot.command(
        "alice", '/pepite "Nous avons ouvert un repair café" --themes "réemploi"'
    )
    assert "Pépite n° 1 enregistrée. Comme ce sont vos propres mots" in text_of(own)
    refused = await bot.command("alice", '/pepite "Bob a dit ceci" --auteur @bob')
    assert "Seule la coordination peut attribuer des mots" in text_of(refused)
    unknown = await bot.command("camille", '/pepite "Des mots" --auteur @zoe')
    assert "Je ne connais pas @zoe." in text_of(unknown)
    attributed = await bot.command("camille", '/pepite "Le vélo-bus roule !" --auteur Bob')
    assert "J'ai demandé à Bob" in text_of(attributed)
    empty = await bot.command("camille", "/pepite")
    assert "Donnez les mots à garder" in text_of(empty)
    both = await bot.command("camille", '/pepite "x" --message 3')
    assert "Donnez soit un message (--message), soit un texte" in text_of(both)
    rows = bot.highlights()
    assert [(r.quote, r.author_name, r.consent, r.message_id) for r in rows] == [
        ("Nous avons ouvert un repair café", "Alice", Consent.YES, None),
        ("Le vélo-bus roule !", "Bob", Consent.PENDING, None),
    ]
    assert rows[0].themes == ["réemploi"]
    assert len(bot.direct_messages("bob")) == 1 and bot.direct_messages("alice") == []


@pytest.mark.asyncio
async def test_pointing_at_a_message_by_number(bot: Bot) -> None:
    ref = await bot.say("alice", "Le compost partagé fonctionne !")
    vote = await bot.command("bob", f"/pepite --message n°{ref.message_id}")
    assert "votre proposition est notée (1 sur 3)" in text_of(vote)
    await bot.command("carol", f"/pepite --message #{ref.message_id}")
    assert bot.highlights() == []
    await bot.react("erin", ref)  # reactions and commands add up
    assert [h.quote for h in bot.highlights()] == ["Le compost partagé fonctionne !"]
    unknown = await bot.command("camille", "/pepite --message 777")
    assert "Je ne peux pas lire le message 777" in text_of(unknown)
    garbage = await bot.command("camille", "/pepite --message hier")
    assert "« hier » n'est ni un numéro de message ni un lien" in text_of(garbage)


@pytest.mark.asyncio
async def test_messages_are_remembered_for_a_limited_time(bot: Bot) -> None:
    old = await bot.say("alice", "Un vieux message")
    bot.clock.advance(timedelta(hours=49))
    await bot.say("bob", "Un message récent")  # remembering a message forgets the old ones
    with bot.db() as db:
        assert [m.text for m in db.scalars(select(RecentMessage)).all()] == ["Un message récent"]
    outcome = await bot.command("camille", f"/pepite --message {old.message_id}")
    assert "ces 48 dernières heures" in text_of(outcome)
    assert bot.highlights() == []


@pytest.mark.asyncio
async def test_the_discord_context_menu(bot: Bot) -> None:
    await bot.say("alice", "hello")
    ref = MessageRef("console", "general", "555")
    event = CommandEvent(
        bot.actor("camille"),
        GENERAL,
        START,
        name="pepite",
        options={"target_id": "555", "message_text": "Texte du menu", "message_author_id": "alice"},
        ref=ref,
    )
    outcome = await bot.app.process(event)
    assert "Pépite n° 1 enregistrée." in text_of(outcome)
    [row] = bot.highlights()
    assert (row.quote, row.author_name, row.source, row.message_id) == (
        "Texte du menu",
        "Alice",
        HighlightSource.MENU,
        "555",
    )


@pytest.mark.asyncio
async def test_list_and_delete(bot: Bot) -> None:
    await _recorded(bot, "À garder")
    listing = await bot.command("camille", "/pepite liste --attente")
    assert "n° 1 — « À garder » — Alice · #general — en attente de la réponse" in text_of(listing)
    refused = await bot.command("bob", "/pepite supprimer 1")
    assert "réservée à l'équipe de coordination" in text_of(refused)
    deleted = await bot.command("camille", "/pepite supprimer 1")
    assert "Pépite n° 1 supprimée." in text_of(deleted)
    missing = await bot.command("camille", "/pepite supprimer 1")
    assert "Il n'y a pas de pépite n° 1." in text_of(missing)
    assert bot.highlights() == []


@pytest.mark.asyncio
async def test_numbers_are_suggested(bot: Bot) -> None:
    await _recorded(bot, "Le premier", who="alice")
    await _recorded(bot, "Le second", who="bob")
    coordinator = await bot.app.autocomplete("pepite supprimer", "number", "", bot.actor("camille"))
    assert [value for _, value in coordinator] == ["2", "1"]
    assert coordinator[1][0] == "n° 1 · Alice · Le premier"
    own = await bot.app.autocomplete("profil retirer", "number", "", bot.actor("bob"))
    assert [value for _, value in own] == ["2"]
    typed = await bot.app.autocomplete("pepite supprimer", "number", "prem", bot.actor("camille"))
    assert [value for _, value in typed] == ["1"]
    assert await bot.app.autocomplete("profil retirer", "number", "", bot.actor("zoe")) == []


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
    bot = await Bot.start(
        database.url,
        tmp_path,
        feeds={"allow_private_networks": True},
        highlights={"max_image_bytes": 2048, "max_images": 2},
    )
    try:
        good = await bot.command("camille", f'/pepite "Avec photo" --image {image_server}/ok.png')
        assert "1 image conservée." in text_of(good)
        for path, expected in [
            ("/page", "ce n'est pas une image PNG, JPEG, GIF ou WebP"),
            ("/fake.png", "ce n'est pas une image PNG, JPEG, GIF ou WebP"),
            ("/big.png", "plus de 2 Ko, non conservée"),
            ("/missing.png", "téléchargement impossible (HTTP 404)"),
        ]:
            outcome = await bot.command(
                "camille", f'/pepite "Essai {path}" --image {image_server}{path}'
            )
            assert expected in text_of(outcome), path
            assert "enregistrée" in text_of(outcome)  # the words are kept all the same
        attached = await bot.command(
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
        with bot.db() as db:
            rows = db.scalars(select(Highlight).order_by(Highlight.id)).all()
            assert [len(r.images) for r in rows] == [1, 0, 0, 0, 0, 2]
            image = rows[0].images[0]
            assert (image.media_type, image.data) == ("image/png", PNG)
            assert image.source_url == f"{image_server}/ok.png"
            assert rows[5].images[0].filename == "a.png"
    finally:
        await bot.stop()


@pytest.mark.asyncio
async def test_private_addresses_are_refused_by_default(
    database: Database, tmp_path: Path, image_server: str
) -> None:
    bot = await Bot.start(database.url, tmp_path)
    try:
        outcome = await bot.command("camille", f'/pepite "x" --image {image_server}/ok.png')
        assert "je n'ai pas le droit de télécharger depuis cette adresse" in text_of(outcome)
    finally:
        await bot.stop()
