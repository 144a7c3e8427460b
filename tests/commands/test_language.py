"""Each reader in their own language (issue 15): what the channel sees is in the network's
language, what one member sees (private, ephemeral) in theirs; English texts name the English
commands."""

from __future__ import annotations

import pytest

from tests.support.chat import Chat, text_of


@pytest.mark.asyncio
async def test_an_english_member_in_a_french_channel(chat: Chat) -> None:
    await chat.command("alice", "/profile language en")
    (help_reply,) = await chat.command("alice", "/help")
    assert help_reply.ephemeral
    assert "Tisserand — commands you can use" in help_reply.text
    assert "Type /help followed by a command name" in help_reply.text
    assert "/aide" not in help_reply.text
    (gazettes,) = await chat.command("alice", "/gazettes")
    assert not gazettes.ephemeral
    assert gazettes.text == "Aucune gazette n'a encore été publiée."
    (profile,) = await chat.command("alice", "/profile")
    assert "/profile language fr" in profile.text and "/profil langue" not in profile.text


@pytest.mark.asyncio
async def test_a_french_member_reads_the_french_commands(chat: Chat) -> None:
    (help_reply,) = await chat.command("bob", "/aide")
    assert help_reply.ephemeral
    assert "Tapez /aide suivi du nom d'une commande" in help_reply.text
    (one,) = await chat.command("bob", "/aide sondage")
    assert one.ephemeral


@pytest.mark.asyncio
async def test_english_refusals_name_the_english_commands(chat: Chat) -> None:
    await chat.command("dominique", "/profile language en")
    refused = text_of(await chat.command("dominique", "/digest drop 99"))
    assert "/digest preview shows the next digest" in refused
    unknown = text_of(await chat.command("dominique", "/nimportequoi", expect_error=False))
    assert "/help" in unknown and "/aide" not in unknown
    no_source = text_of(await chat.command("dominique", "/watch interval 7 6h"))
    assert "/watch list shows the sources" in no_source
