"""The HTTPS one-click unsubscribe (RFC 8058) served by the bot's own ``[web]`` server, over a
real socket on loopback: the digest's headers carry the link, ``POST`` removes the subscription
and the removal is confirmed by email (aiosmtpd), ``GET`` changes nothing, an unknown token is a
404 page saying what to do."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from bot import mail
from bot.lease import Lease
from bot.metrics import Metrics
from bot.web import WebServer
from tests.bot.mail.helpers import add_subscriber
from tests.commands.mailing.test_mailings import _watch
from tests.conftest import Database
from tests.support.chat import Chat
from tests.support.smtp import SmtpServer

MONDAY_9 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
PUBLIC = "https://tisserand.reseau.example.org/"
READER = "lectrice@mairie.example.fr"
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest_asyncio.fixture
async def chat(database: Database, tmp_path: Path, smtp_server: SmtpServer) -> AsyncIterator[Chat]:
    running = await Chat.start(
        database.url,
        tmp_path,
        email=smtp_server.settings(),
        web={"enabled": True, "host": "127.0.0.1", "port": 0, "public_url": PUBLIC},
    )
    try:
        yield running
    finally:
        await running.stop()


@pytest_asyncio.fixture
async def base(chat: Chat) -> AsyncIterator[str]:
    """The bot's web server on a free loopback port (what ``run_platforms`` starts)."""
    app = chat.app
    server = WebServer(
        app.settings.web,
        app,
        app.scheduler,
        Lease(),
        Metrics(app, lambda: True),
        translator=app.translators.get(),
        network=app.settings.network.name,
    )
    await server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        await server.stop()


async def _digest_token(chat: Chat, smtp_server: SmtpServer) -> str:
    _watch(chat)
    add_subscriber(chat, READER, "Lectrice")
    await chat.move_to(MONDAY_9 + timedelta(minutes=1))
    (digest,) = smtp_server.recorder.to(READER)
    links = re.findall(r"<([^>]+)>", digest["List-Unsubscribe"])
    assert links[0].startswith("mailto:coordination@reseau.example.org?subject=unsubscribe%20")
    assert links[1].startswith(PUBLIC + "unsubscribe/")
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = links[1].removeprefix(PUBLIC + "unsubscribe/")
    assert links[0].endswith("%20" + token)  # one token for both ways
    plain = digest.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert links[1] in plain  # the footer gives the link too
    return token


def _subscribed(chat: Chat) -> bool:
    with chat.app.sessions() as db:
        return mail.subscriber_by_address(db, READER) is not None


@pytest.mark.asyncio
async def test_the_one_click_post_removes_and_is_confirmed(
    chat: Chat, base: str, smtp_server: SmtpServer
) -> None:
    token = await _digest_token(chat, smtp_server)
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{base}/unsubscribe/{token}", data=ONE_CLICK) as response,
    ):
        assert response.status == 200
        assert response.content_type == "text/html"
        page = await response.text()
    assert READER in page and 'lang="fr"' in page and "plus rien" in page
    assert not _subscribed(chat)
    await chat.app.scheduler.run_due()
    messages = smtp_server.recorder.to(READER)
    assert len(messages) == 2 and "retirée" in messages[-1]["Subject"]
    assert "List-Unsubscribe" not in messages[-1]  # the confirmation is no mailing
    # The link again: already used, a 404 that says what to do; no second confirmation.
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{base}/unsubscribe/{token}", data=ONE_CLICK) as response,
    ):
        assert response.status == 404
        assert "déjà" in await response.text()
    await chat.app.scheduler.run_due()
    assert len(smtp_server.recorder.to(READER)) == 2


@pytest.mark.asyncio
async def test_get_shows_a_confirm_button_and_removes_nothing(
    chat: Chat, base: str, smtp_server: SmtpServer
) -> None:
    token = await _digest_token(chat, smtp_server)
    async with aiohttp.ClientSession() as http:
        for _ in range(2):  # a scanner prefetching the link, then the reader
            async with http.get(f"{base}/unsubscribe/{token}") as response:
                assert response.status == 200
                page = await response.text()
        assert READER in page
        assert '<form method="post">' in page
        assert 'name="List-Unsubscribe" value="One-Click"' in page
        assert _subscribed(chat)
        # A POST without the one-click field (not RFC 8058): refused, nothing changed.
        async with http.post(f"{base}/unsubscribe/{token}", data={"x": "y"}) as response:
            assert response.status == 400
        assert _subscribed(chat)
        # The page's button posts the form: removed.
        async with http.post(f"{base}/unsubscribe/{token}", data=ONE_CLICK) as response:
            assert response.status == 200
    assert not _subscribed(chat)


@pytest.mark.asyncio
async def test_an_unknown_token_is_a_404_that_changes_nothing(
    chat: Chat, base: str, smtp_server: SmtpServer
) -> None:
    await _digest_token(chat, smtp_server)
    async with aiohttp.ClientSession() as http:
        for path in ("/unsubscribe/" + "A" * 32, "/unsubscribe/<script>"):
            async with http.get(base + path) as response:
                assert response.status == 404
            async with http.post(base + path, data=ONE_CLICK) as response:
                assert response.status == 404
                page = await response.text()
                if path.endswith("A" * 32):
                    assert "rien n’a été modifié" in page and "unsubscribe" in page
    assert _subscribed(chat)
    await chat.app.scheduler.run_due()
    assert len(smtp_server.recorder.to(READER)) == 1


def test_the_link_prefers_the_explicit_override_and_needs_web_enabled(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    from bot.config import load_settings

    def link(email: dict[str, object], web: dict[str, object]) -> str | None:
        settings = load_settings(
            None,
            database_url="sqlite://",
            environ={},
            overrides={"data_dir": str(tmp_path), "email": email, "web": web},
        )
        return mail.unsubscribe_link(settings, "TOKEN")

    email = smtp_server.settings()
    served = {"enabled": True, "public_url": PUBLIC}
    assert link(email, served) == PUBLIC + "unsubscribe/TOKEN"
    assert link(email, {"enabled": False, "public_url": PUBLIC}) is None  # nobody answers it
    assert link(email, {"enabled": True}) is None
    override = {**email, "unsubscribe_url": "https://reseau.example.org/desinscription/"}
    assert link(override, served) == "https://reseau.example.org/desinscription/TOKEN"


@pytest.mark.asyncio
async def test_an_instance_not_started_answers_503_and_changes_nothing(
    chat: Chat, base: str, smtp_server: SmtpServer
) -> None:
    token = await _digest_token(chat, smtp_server)
    chat.app.started = False  # what a standby's server sees: the families are not running
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{base}/unsubscribe/{token}", data=ONE_CLICK) as response,
        ):
            assert response.status == 503
            assert "Réessayez" in await response.text()
    finally:
        chat.app.started = True
    assert _subscribed(chat)
