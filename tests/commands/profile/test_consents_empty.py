"""``/profil consentements`` with nothing kept does not tell the member to withdraw something."""

from __future__ import annotations

import pytest

from tests.support.chat import Chat, text_of


@pytest.mark.asyncio
async def test_no_words_kept_means_nothing_to_withdraw(chat: Chat) -> None:
    text = text_of(await chat.command("alice", "/profil consentements"))
    assert "Aucune de vos paroles n'a été gardée" in text or "aucune" in text.lower(), text
    assert "/profil retirer" not in text, text
    assert "/profil ne-plus-demander" in text, text
    await chat.command("camille", '/pepite "Un beau moment" --auteur @alice')
    text = text_of(await chat.command("alice", "/profil consentements"))
    assert "/profil retirer N" in text, text
