"""The veille through the real console: add a feed served on 127.0.0.1, share a link, let the
clock reach Monday 9:00 and see the digest once; a week with nothing new posts nothing."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web

from tests.conftest import Database
from tests.support.console import console_settings, run_script

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
<title>Territoires en transition</title><link>https://territoires.example/</link>
<item><title>Zones à faibles émissions : le guide 2026</title>
<link>https://territoires.example/zfe?utm_source=rss</link><guid>zfe-2026</guid>
<pubDate>Sun, 22 Nov 2026 10:00:00 +0000</pubDate>
<description>&lt;p&gt;Un guide pour les collectivités &lt;script&gt;alert(1)&lt;/script&gt;@everyone&lt;/p&gt;</description></item>
<item><title>Appel à projets vélo</title><link>https://territoires.example/velo</link>
<guid>velo</guid><pubDate>Sat, 21 Nov 2026 08:00:00 +0000</pubDate></item>
</channel></rss>"""

PAGE = """<!doctype html><html><head><title>Étude Cerema</title>
<meta property="og:title" content="Mobilités rurales : l'étude du Cerema">
<meta property="og:description" content="Ce que font 40 territoires ruraux.">
<link rel="alternate" type="application/rss+xml" title="Le flux" href="/feed.xml">
</head><body>x</body></html>"""


@pytest_asyncio.fixture
async def site() -> AsyncIterator[str]:
    async def feed(request: web.Request) -> web.Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304)
        return web.Response(text=FEED, content_type="application/rss+xml", headers={"ETag": '"v1"'})

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    app = web.Application()
    app.router.add_get("/feed.xml", feed)
    app.router.add_get("/etude", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    site = web.SockSite(runner, sock)
    await site.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        await runner.cleanup()


@pytest.mark.asyncio
async def test_add_share_and_the_monday_digest_once(
    database: Database, tmp_path: Path, site: str
) -> None:
    settings = console_settings(
        database.url, tmp_path, feeds={"allow_private_networks": True, "parse_processes": 0}
    )
    out_dir = tmp_path / "out"
    out = await run_script(
        [
            "#veille",
            f"/veille ajouter {site}/feed.xml --theme mobilité",
            f"/veille ajouter {site}/feed.xml",
            f'@alice: /partager {site}/etude "À lire avant la plénière @everyone"',
            "/veille liste",
            ":clock 2026-11-30T09:00",
        ],
        settings=settings,
        out_dir=out_dir,
    )
    assert "Source n° 1 ajoutée pour #veille : « Territoires en transition »." in out
    assert "est déjà suivi pour #veille (n° 1)" in out
    assert "Merci ! « Mobilités rurales : l'étude du Cerema » sera dans la veille" in out
    digest = out[out.index("**Veille de la semaine") :]
    assert digest.count("**Veille de la semaine") == 1
    assert "**Partagés par les membres**" in digest
    assert f"[Mobilités rurales : l'étude du Cerema]({site}/etude)" in digest
    assert "alice l'a partagé : « À lire avant la plénière @\u200beveryone »" in digest
    assert "**Mobilité**" in digest
    assert "[Zones à faibles émissions : le guide 2026]" in digest
    assert "digest-2026-W49.html" in digest
    html = next(out_dir.glob("*-digest-2026-W49.html")).read_text(encoding="utf-8")
    assert "<script" not in html and "Un guide pour les collectivités" in html

    # A week later nothing is new (the feed answers 304): nothing is posted.
    out = await run_script([":clock +7d"], settings=settings, out_dir=out_dir)
    assert "Veille de la semaine" not in out
    assert out.count("tisserand:") == 0
