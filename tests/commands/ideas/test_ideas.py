"""The ideas box through the chat harness: propose, support (once, withdrawable), the list by
support, statuses set by coordinators with the author told; bad input refused, nothing lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.storage.ideas import Idea, IdeaSupport
from bot.storage.outbox import OutboxMessage
from tests.commands.members.support import add_themes
from tests.support.chat import Chat, text_of


def _supports(chat: Chat, idea_id: int) -> tuple[int, int]:
    """(the idea's counter, its support rows)."""
    with chat.db() as db:
        idea = db.get(Idea, idea_id)
        assert idea is not None
        rows = db.scalar(
            select(func.count()).select_from(IdeaSupport).where(IdeaSupport.idea_id == idea_id)
        )
        return idea.supports, int(rows or 0)


@pytest.mark.asyncio
async def test_ideas_proposed_supported_listed_and_given_a_status(chat: Chat) -> None:
    receipt = text_of(await chat.command("alice", '/idee "Un atelier sur l\'eau potable"'))
    assert "n° 1" in receipt
    (post,) = chat.posts("general")
    assert "💡 **Idée n° 1** proposée par Alice" in post.text
    assert "Un atelier sur l'eau potable" in post.text
    assert [c.action for c in post.choices] == ["idea:1:support", "idea:1:withdraw"]
    assert post.choices[0].label == "Je soutiens"
    assert _supports(chat, 1) == (1, 1)  # the author's proposal is their support

    await chat.command("bob", "/idea Des visites de sites exemplaires")
    await chat.command("chloe", '/idee "Une newsletter mensuelle"')
    for user in ("chloe", "david", "frank"):
        await chat.click(user, "idea:2:support")
    await chat.click("erin", "idea:1:support")
    assert _supports(chat, 2) == (4, 4)

    # Supporting twice, the author supporting their own idea again: refused, counted once.
    again = text_of(await chat.click("bob", "idea:2:support"))
    assert "Vous soutenez déjà l'idée n° 2" in again
    own = text_of(await chat.command("alice", "/idee soutenir 1"))
    assert "Vous soutenez déjà l'idée n° 1" in own
    assert _supports(chat, 2) == (4, 4) and _supports(chat, 1) == (2, 2)

    # Withdrawn, then nothing more to withdraw.
    assert "retiré" in text_of(await chat.click("david", "idea:2:withdraw"))
    assert "rien à retirer" in text_of(await chat.click("david", "idea:2:withdraw"))
    assert _supports(chat, 2) == (3, 3)

    listed = text_of(await chat.command("frank", "/idees"))
    lines = [line for line in listed.splitlines() if line.startswith("- ")]
    assert "Boîte à idées** (3 idées)" in listed
    assert "n° 2" in lines[0] and "3 soutiens" in lines[0]
    assert "n° 1" in lines[1] and "2 soutiens" in lines[1]
    assert "n° 3" in lines[2] and "1 soutien," in lines[2]

    # A coordinator gives a status; the author is told in private.
    done = text_of(
        await chat.command("camille", '/idee statut 2 retenue "Au programme du printemps."')
    )
    assert "L'idée n° 2 est maintenant « retenue »" in done and "Bob" in done
    (notice,) = chat.direct_messages("bob")
    assert "Votre idée n° 2 est maintenant « retenue »" in notice.text
    assert "Au programme du printemps." in notice.text
    await chat.command("camille", "/idee statut 3 Écartée")
    (declined,) = chat.direct_messages("chloe")
    assert "« écartée »" in declined.text
    listed = text_of(await chat.command("frank", "/ideas"))
    assert "retenue" in listed and "↳ Au programme du printemps." in listed


@pytest.mark.asyncio
async def test_ideas_bad_input_is_explained_and_changes_nothing(chat: Chat) -> None:
    assert "Écrivez votre idée" in text_of(await chat.command("alice", "/idee"))
    assert "dans un canal" in text_of(await chat.command("alice", "/idee Test", channel="@alice"))
    assert "au plus 1000 caractères" in text_of(await chat.command("alice", "/idee " + "x" * 1001))
    assert "Il n'y a pas d'idée n° 9" in text_of(await chat.click("bob", "idea:9:support"))
    await chat.command("alice", "/idee Une idée")
    unknown = text_of(await chat.command("camille", "/idee statut 1 peut-etre"))
    assert "n'est pas un statut" in unknown and "retenue, en-cours, realisee, ecartee" in unknown
    # Members may not set a status (the permission check of the registry).
    await chat.command("bob", "/idee statut 1 retenue")
    with chat.db() as db:
        idea = db.get(Idea, 1)
        assert idea is not None and idea.status == "proposed" and idea.status_changes == 0
    assert chat.direct_messages("alice") == []
    assert text_of(await chat.command("bob", "/idees")).count("- ") == 1


@pytest.mark.asyncio
async def test_an_idea_with_a_theme_reaches_its_referent_once(chat: Chat) -> None:
    add_themes(chat, "mobilité", "alimentation")
    await chat.command("alice", "/profil")  # alice is known to the bot
    await chat.command("camille", '/referent ajouter "mobilité" @alice')
    named = len(chat.direct_messages("alice"))
    await chat.advance(timedelta(minutes=5))

    refused = text_of(await chat.command("bob", '/idee "Des vélos partagés" --theme mobilte'))
    assert "« mobilte » n'est pas un des thèmes du réseau" in refused
    assert "Vouliez-vous dire « mobilité »" in refused
    with chat.db() as db:
        assert db.scalar(select(func.count(Idea.id))) == 0  # refused: nothing stored

    await chat.command("bob", '/idee "Un covoiturage entre communes" --theme Mobilités')
    await chat.command("chloe", '/idee "Des cantines bio" --theme alimentation')
    await chat.command("david", '/idee "Une fête du réseau"')
    await chat.command("alice", '/idee "Un vélo-bus" --theme mobilité')  # the referent's own
    refused = text_of(await chat.command("bob", '/idee "Autre chose" --theme xyzw'))
    assert "Les thèmes sont : alimentation, mobilité" in refused
    assert "Vouliez-vous dire" not in refused
    posts = chat.posts("general")
    assert "Thème : mobilité" in posts[0].text
    assert "Thème" not in posts[2].text
    listed = text_of(await chat.command("erin", "/idees"))
    assert "Un covoiturage entre communes" in listed
    assert "thème : mobilité" in listed
    assert "thème : alimentation" in listed

    await chat.advance(timedelta(hours=3))
    assert len(chat.direct_messages("alice")) == named  # not a day yet
    await chat.advance(timedelta(hours=21))
    messages = chat.direct_messages("alice")
    assert len(messages) == named + 1
    news = messages[-1].text
    assert "Idées :" in news
    assert "Un covoiturage entre communes" in news
    assert "proposée par Bob" in news
    assert "Des cantines bio" not in news
    assert "Une fête du réseau" not in news
    assert "Un vélo-bus" not in news  # a referent is not told of their own idea
    await chat.advance(timedelta(days=2))  # told once: nothing new, nothing sent
    assert len(chat.direct_messages("alice")) == named + 1

    # bob erases his data: the referent's stored message loses his idea's words
    [ask] = await chat.command("bob", "/profil effacer")
    await chat.click("bob", ask.choices[0].action)
    with chat.db() as db:
        stored = " ".join(
            str((row.payload or {}).get("text", ""))
            for row in db.scalars(
                select(OutboxMessage).where(OutboxMessage.key.startswith("referent:"))
            )
        )
    assert "Un covoiturage entre communes" not in stored
    assert "**mobilité**\nIdées :\n- […]" in stored  # the rest of the message stays
