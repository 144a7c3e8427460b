"""Hidden means hidden: while a poll's results are hidden, the export is refused, coordinators
included, with the moment they become visible; closing twice says it is already closed."""

from __future__ import annotations

import pytest

from tests.support.chat import Chat, text_of


@pytest.mark.asyncio
async def test_the_export_of_hidden_results_is_refused_until_the_close(chat: Chat) -> None:
    await chat.command("camille", '/sondage "Quel thème ?" "Eau" "Énergie" --resultats-caches')
    await chat.click("alice", "poll:1:vote:1")
    await chat.click("bob", "poll:1:vote:2")
    refused = await chat.command("camille", "/sondage export 1")
    assert not any(reply.attachments for reply in refused)
    assert "masqués jusqu'à sa clôture : pas d'export avant" in text_of(refused)
    assert "/sondage clore 1" in text_of(refused)
    await chat.command("camille", "/sondage clore 1")
    again = text_of(await chat.command("camille", "/sondage clore 1"))
    assert "déjà clos" in again
    (export,) = [r for r in await chat.command("camille", "/sondage export 1") if r.attachments]
    assert b"Eau" in export.attachments[0].data


@pytest.mark.asyncio
async def test_a_hidden_poll_with_a_deadline_says_when(chat: Chat) -> None:
    await chat.command(
        "camille", '/sondage "Quel thème ?" "Eau" "Énergie" --resultats-caches --fin 2j'
    )
    refused = text_of(await chat.command("dominique", "/sondage export 1"))
    assert "Ils deviennent visibles à sa clôture, le mercredi 25 novembre 2026" in refused
