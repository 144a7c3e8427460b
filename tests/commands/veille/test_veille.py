"""/veille, /partager and /digest through the app's dispatcher, against a local HTTP server."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.engine import Engine

import commands.veille as veille
from bot.core import Attachment
from bot.storage.veille import DigestSchedule, FeedEntry, FeedSource
from commands.veille import digest_handlers, sources_handlers
from tests.conftest import Database
from tests.support.chat import Chat, only

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Cerema actus</title>
<link>https://cerema.example/</link>
<item><title>Vélo et ruralité</title><link>https://cerema.example/velo</link><guid>1</guid>
<pubDate>Sun, 22 Nov 2026 10:00:00 GMT</pubDate></item>
<item><title>Bus express</title><link>https://cerema.example/bus</link><guid>2</guid>
<pubDate>Sat, 21 Nov 2026 10:00:00 GMT</pubDate></item>
</channel></rss>"""

OPML = b"""<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>
<outline text="Mobilit\xc3\xa9">
  <outline type="rss" text="Un" xmlUrl="https://un.example/rss"/>
  <outline type="rss" text="Deux" xmlUrl="https://deux.example/rss" category="V\xc3\xa9lo"/>
</outline>
<outline type="rss" text="Mauvais" xmlUrl="ftp://nope.example/rss"/>
</body></opml>"""


@dataclass
class Site:
    base: str = ""
    routes: dict[str, Handler] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path

    def serve(
        self, path: str, body: str | bytes, status: int = 200, content_type: str = ""
    ) -> None:
        async def handler(request: web.Request) -> web.Response:
            data = body.encode() if isinstance(body, str) else body
            kind = content_type or (
                "text/html"
                if data.lstrip()[:1] == b"<" and b"<rss" not in data
                else "application/xml"
            )
            return web.Response(body=data, status=status, content_type=kind)

        self.routes[path] = handler


@pytest_asyncio.fixture
async def site() -> AsyncIterator[Site]:
    state = Site()

    async def dispatch(request: web.Request) -> web.StreamResponse:
        state.hits.append(request.path)
        handler = state.routes.get(request.path)
        if handler is None:
            return web.Response(status=404, text="no")
        return await handler(request)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", dispatch)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    state.base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        yield state
    finally:
        await runner.cleanup()


VeilleChat = Callable[..., Awaitable[Chat]]
"""Starts a chat with the veille family alone (keyword arguments are configuration sections)."""


@pytest_asyncio.fixture
async def veille_chat(database: Database, tmp_path: Path) -> AsyncIterator[VeilleChat]:
    """Chats with the veille family alone, in #veille, at :data:`START`, Camille the only
    coordinator; the due work runs only when a test runs it (the refresh is called by hand)."""
    started: list[Chat] = []

    async def start(*, engine: Engine | None = None, **sections: Any) -> Chat:
        feeds = {"allow_private_networks": True, "parse_processes": 0, **sections.pop("feeds", {})}
        chat = await Chat.start(
            database.url,
            tmp_path,
            start=START,
            families=[veille.FAMILY],
            coordinators={"camille"},
            channel="veille",
            due_work=False,
            engine=engine,
            feeds=feeds,
            **sections,
        )
        started.append(chat)
        return chat

    yield start
    for chat in started:
        await chat.stop()


def sources(chat: Chat) -> list[FeedSource]:
    with chat.app.sessions() as db:
        return list(db.scalars(select(FeedSource).order_by(FeedSource.id)))


def entries(chat: Chat) -> list[FeedEntry]:
    with chat.app.sessions() as db:
        return list(db.scalars(select(FeedEntry).order_by(FeedEntry.id)))


@pytest.mark.asyncio
async def test_adding_a_feed_and_every_kind_of_bad_input(
    veille_chat: VeilleChat, site: Site
) -> None:
    chat = await veille_chat()
    site.serve("/rss", FEED)
    site.serve("/broken", "oops", status=500, content_type="text/plain")
    site.serve("/plain", "<!doctype html><html><head><title>Rien</title></head></html>")
    site.serve("/garbage", b"\x00\x01\x02 definitely not a feed", content_type="application/xml")

    reply = only(
        await chat.command(
            "camille", f"/veille ajouter {site.url('/rss')} --theme mobilité --filtre vélo"
        )
    )
    assert reply.ephemeral
    assert reply.text.splitlines() == [
        "Source n° 1 ajoutée pour #veille : « Cerema actus ».",
        "1 article trouvé ; les plus récents seront dans la veille du lundi 30 novembre 2026 à 09h00.",
        "Thème : mobilité.",
        "Seuls les articles correspondant à « vélo » sont gardés.",
    ]
    assert [e.title for e in entries(chat)] == ["Vélo et ruralité"]
    (source,) = sources(chat)
    assert source.theme == "mobilité" and source.added_by is not None
    assert source.next_fetch_at == START + timedelta(hours=1)

    cases = {
        "/veille ajouter pas-une-adresse": "« pas-une-adresse » n'est pas une adresse web",
        "/veille ajouter ftp://files.example/feed": "Seules les adresses http:// et https://",
        f"/veille ajouter {site.url('/rss')}": "Le flux « Cerema actus » est déjà suivi pour #veille (n° 1).",
        f"/veille ajouter {site.url('/broken')}": "le serveur a répondu par une erreur (HTTP 500)",
        f"/veille ajouter {site.url('/plain')}": "n'annonce aucun flux",
        f"/veille ajouter {site.url('/garbage')}": "n'est ni un flux (RSS, Atom, JSON Feed)",
        f"/veille ajouter {site.url('/missing')} --filtre /(/": "Le filtre « /(/ » n'est pas valide",
        f"/veille ajouter {site.url('/missing')}": "(HTTP 404)",
    }
    for line, expected in cases.items():
        assert expected in (only(await chat.command("camille", line))).text, line
    assert (
        "réservée à l'équipe de coordination"
        in (only(await chat.command("bob", f"/veille ajouter {site.url('/rss')}"))).text
    )
    assert (
        "pas en conversation privée"
        in (
            only(
                await chat.command(
                    "camille", f"/veille ajouter {site.url('/rss')}", channel="@camille"
                )
            )
        ).text
    )
    assert len(sources(chat)) == 1


@pytest.mark.asyncio
async def test_private_addresses_are_refused_unless_allowed(
    veille_chat: VeilleChat, site: Site
) -> None:
    chat = await veille_chat(feeds={"allow_private_networks": False})
    site.serve("/rss", FEED)
    for url in (
        site.url("/rss"),
        "http://2130706433/rss",
        "http://0x7f000001/rss",
        "http://[::ffff:127.0.0.1]/",
    ):
        reply = only(await chat.command("camille", f"/veille ajouter {url}"))
        assert "mène à une adresse de réseau privé ou local" in reply.text, url
    assert site.hits == []
    assert (
        "mène à une adresse de réseau privé"
        in (only(await chat.command("camille", f"/partager {site.url('/x')}"))).text
    )


@pytest.mark.asyncio
async def test_a_page_that_announces_feeds_offers_them(veille_chat: VeilleChat, site: Site) -> None:
    chat = await veille_chat()
    site.serve("/rss", FEED)
    site.serve(
        "/blog",
        '<html><head><link rel="alternate" type="application/rss+xml" title="Les actus" '
        'href="/rss"><link rel="alternate" type="application/atom+xml" href="/atom"></head></html>',
    )
    reply = only(
        await chat.command("camille", f"/veille ajouter {site.url('/blog')} --theme énergie")
    )
    assert "mais elle en annonce 2. Choisissez celui à ajouter :" in reply.text
    assert [c.label for c in reply.choices] == ["Les actus", site.url("/atom")]
    action = reply.choices[0].action
    assert action.startswith("veille:add:")
    assert "Seule l'équipe de coordination" in (only(await chat.click("bob", action))).text
    added = only(await chat.click("camille", action))
    assert "Source n° 1 ajoutée pour #veille : « Cerema actus »." in added.text
    assert sources(chat)[0].theme == "énergie"
    assert "déjà suivi" in (only(await chat.click("camille", action))).text
    assert "expiré" in (only(await chat.click("camille", "veille:add:999"))).text


@pytest.mark.asyncio
async def test_list_remove_import_and_export(veille_chat: VeilleChat, site: Site) -> None:
    chat = await veille_chat()
    site.serve("/rss", FEED)
    site.serve("/veille.opml", OPML, content_type="text/x-opml")
    assert (
        "Aucun flux n'est encore suivi pour #veille"
        in (only(await chat.command("camille", "/veille liste"))).text
    )
    only(await chat.command("camille", f"/veille ajouter {site.url('/rss')}"))
    reply = only(
        await chat.command(
            "camille",
            "/veille importer",
            attachments=(Attachment("abonnements.opml", "text/x-opml", OPML),),
        )
    )
    assert reply.text.splitlines() == [
        "2 flux importés pour #veille ; ils seront récupérés d'ici quelques minutes.",
        "1 adresse n'était pas une adresse web et a été ignorée : ftp://nope.example/rss.",
    ]
    assert [(s.url, s.theme) for s in sources(chat)[1:]] == [
        ("https://un.example/rss", "Mobilité"),
        ("https://deux.example/rss", "Vélo"),
    ]
    again = only(await chat.command("camille", f"/veille importer {site.url('/veille.opml')}"))
    assert "2 étaient déjà suivis." in again.text
    unsafe = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><opml><body/></opml>'
    refused = only(
        await chat.command(
            "camille", "/veille importer", attachments=(Attachment("x.opml", "text/xml", unsafe),)
        )
    )
    assert "pas un fichier OPML que je sais lire" in refused.text

    listing = (only(await chat.command("bob", "/veille liste"))).text
    assert listing.startswith("**3 flux suivis pour #veille**")
    assert f"- n° 1 · [Cerema actus]({site.url('/rss')}) — récupéré le 23/11/2026 11h00" in listing
    assert (
        "- n° 2 · [Un](https://un.example/rss) — thème : Mobilité · en attente de sa première récupération"
        in listing
    )

    export = only(await chat.command("camille", "/veille exporter"))
    (attachment,) = export.attachments
    assert attachment.filename == "veille-veille.opml"
    assert b'xmlUrl="https://deux.example/rss"' in attachment.data
    assert b'<outline text="Mobilit\xc3\xa9" title="Mobilit\xc3\xa9">' in attachment.data

    assert (
        "Source n° 2 (« Un ») retirée."
        in (only(await chat.command("camille", "/veille retirer 2"))).text
    )
    assert (
        "Il n'y a pas de source n° 2."
        in (only(await chat.command("camille", "/veille retirer 2"))).text
    )
    assert [s.id for s in sources(chat)] == [1, 3]
    with chat.app.sessions() as db:
        assert sources_handlers.suggest_sources(
            db, "deux", chat.actor("bob"), chat.app.translator()
        ) == [("n° 3 · Deux", "3")]


@pytest.mark.asyncio
async def test_sharing_links(veille_chat: VeilleChat, site: Site) -> None:
    chat = await veille_chat()
    site.serve(
        "/etude",
        '<html><head><title>Étude</title><meta property="og:title" content="Mobilités rurales">'
        '<meta name="description" content="Ce que font 40 territoires."></head></html>',
    )
    reply = only(
        await chat.command(
            "alice",
            f'/partager {site.url("/etude")}?utm_source=mail "Utile @everyone" --theme mobilité',
        )
    )
    assert reply.text == (
        "Merci ! « Mobilités rurales » sera dans la veille de #veille du lundi 30 novembre 2026 "
        "à 09h00."
    )
    (share,) = entries(chat)
    assert (share.kind, share.link, share.comment, share.theme) == (
        "share",
        site.url("/etude"),
        "Utile @\u200beveryone",
        "mobilité",
    )
    assert share.summary == "Ce que font 40 territoires."
    duplicate = only(await chat.command("bob", f"/partager {site.url('/etude')}"))
    assert duplicate.text == (
        "Bonne pioche ! Alice a déjà partagé ce lien pour la prochaine veille "
        "(« Mobilités rurales »)."
    )
    mine = only(await chat.command("alice", f"/partager {site.url('/etude')}#top"))
    assert mine.text.startswith("Vous avez déjà partagé ce lien")
    missing = only(await chat.command("bob", f"/partager {site.url('/missing')}"))
    assert (
        "Je n'ai pas pu lire la page (le serveur a répondu par une erreur (HTTP 404))"
        in missing.text
    )
    assert entries(chat)[-1].title == site.url("/missing")
    assert "n'est pas une adresse web" in (only(await chat.command("bob", "/partager www"))).text


@pytest.mark.asyncio
async def test_schedule_preview_pin_and_drop(veille_chat: VeilleChat, site: Site) -> None:
    chat = await veille_chat(feeds={"top_per_theme": 1})
    site.serve("/rss", FEED)
    assert (
        "Rien pour l'instant dans la veille de #veille"
        in (only(await chat.command("camille", "/digest apercu"))).text
    )
    only(await chat.command("camille", f"/veille ajouter {site.url('/rss')}"))
    reply = only(await chat.command("camille", '/digest programmer #veille "vendredi 16h30"'))
    assert reply.text == (
        "La veille de #veille sera publiée chaque semaine le vendredi à 16h30 ; la prochaine le "
        "vendredi 27 novembre 2026 à 16h30."
    )
    with chat.app.sessions() as db:
        (row,) = db.scalars(select(DigestSchedule))
    assert (row.weekday, row.hour, row.minute) == (4, 16, 30)
    for bad in ('"16h30"', '"lundi mardi 9h"', '"le jour de la marmotte"'):
        assert (
            "Je ne sais pas lire"
            in (only(await chat.command("camille", f"/digest programmer #veille {bad}"))).text
        )
    assert (
        "Je ne connais pas encore le canal #ailleurs"
        in (only(await chat.command("camille", '/digest programmer #ailleurs "lundi 9h"'))).text
    )

    preview = (only(await chat.command("camille", "/digest apercu"))).text
    assert preview.startswith(
        "Aperçu de la veille de #veille du vendredi 27 novembre 2026 à 16h30."
    )
    assert "- n° 1 · [Vélo et ruralité](https://cerema.example/velo)" in preview
    assert "[Bus express]" not in preview and "et 1 autre lien dans ce thème" in preview
    assert "épinglé en tête" in (only(await chat.command("camille", "/digest epingler 2"))).text
    preview = (only(await chat.command("camille", "/digest apercu #veille"))).text
    assert "- n° 2 📌 · [Bus express]" in preview and "[Vélo et ruralité]" not in preview
    assert (
        "retiré de la prochaine veille"
        in (only(await chat.command("camille", "/digest retirer 2"))).text
    )
    preview = (only(await chat.command("camille", "/digest apercu"))).text
    assert "[Bus express]" not in preview and "[Vélo et ruralité]" in preview
    assert (
        "Il n'y a pas d'article n° 9."
        in (only(await chat.command("camille", "/digest epingler 9"))).text
    )
    with chat.app.sessions() as db:
        assert digest_handlers.suggest_items(
            db, "bus", chat.actor("camille"), chat.app.translator()
        ) == [("n° 2 · Bus express", "2")]
    assert (
        "réservée à l'équipe de coordination"
        in (only(await chat.command("bob", "/digest apercu"))).text
    )


@pytest.mark.asyncio
async def test_setup_registers_the_refresh_and_the_digests(
    veille_chat: VeilleChat, site: Site
) -> None:
    chat = await veille_chat()  # started: the setup of the family has run
    site.serve("/rss", FEED)
    assert {"feeds", "digests"} <= set(chat.app.scheduler._work)
    only(await chat.command("camille", f"/veille ajouter {site.url('/rss')}"))
    work = chat.app.scheduler._work
    assert work["feeds"].next_due() == START + timedelta(hours=1)
    assert work["digests"].next_due() == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    hits = len(site.hits)
    chat.clock.move_to(datetime(2026, 11, 30, 8, 0, tzinfo=UTC))
    await chat.app.scheduler.run_due()
    assert len(site.hits) == hits + 1
    with chat.app.sessions() as db:
        from bot.storage.outbox import OutboxMessage

        keys = list(db.scalars(select(OutboxMessage.key)))
    assert keys == ["digest:console:veille:2026-W49"]
