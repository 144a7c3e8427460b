"""/profil shows everything Tisserand stores about the member (issue 15): language, category,
registrations (upcoming and past), consents, shares."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.members import Member
from bot.storage.veille import ENTRY_SHARE, FeedEntry
from tests.support.chat import START, Chat


@pytest.mark.asyncio
async def test_a_new_member_sees_each_kind_with_nothing_in_it(chat: Chat) -> None:
    (profile,) = await chat.command("alice", "/profil")
    assert profile.ephemeral
    text = profile.text
    assert "- Langue : non choisie (celle du réseau : fr)" in text
    assert "- Catégorie : sans catégorie" in text
    assert "Vous ne vous êtes jamais inscrit·e à une session." in text
    assert "Aucun de vos messages n'a été gardé pour la gazette." in text
    assert "Vous n'avez partagé aucun lien pour la veille." in text


@pytest.mark.asyncio
async def test_the_profile_lists_registrations_category_and_shares(chat: Chat) -> None:
    await chat.command(
        "camille", '/session creer "Atelier passé" --quand "mardi 24 novembre 14h" --places 5'
    )
    await chat.command(
        "camille", '/session creer "Webinaire à venir" --quand "jeudi 10 décembre 10h" --places 1'
    )
    await chat.command(
        "camille", '/session creer "Visite annulée" --quand "vendredi 11 décembre 10h" --places 3'
    )
    await chat.command("alice", "/categorie elu")
    await chat.command("alice", "/inscription 1")
    await chat.command("bob", "/inscription 2")
    await chat.command("alice", "/inscription 2")  # waiting list
    await chat.command("alice", "/inscription 3")
    await chat.command("camille", "/session annuler 3")
    await chat.advance(timedelta(days=2))  # the first session is over
    with chat.db() as db:
        db.add(
            FeedEntry(
                kind=ENTRY_SHARE,
                platform="console",
                channel_id="general",
                entry_key="k",
                link="https://example.org/a",
                content_hash="h",
                title="Un article partagé",
                summary="",
                summary_html="",
                created_at=START,
                shared_by=_member_id(db, "alice"),
            )
        )
        db.commit()
    (profile,) = await chat.command("alice", "/profil")
    text = profile.text
    assert "- Catégorie : élu·e (elle compte pour les quotas" in text
    assert "**Vos sessions (3 inscriptions)**" in text
    upcoming, past = text.split("À venir :")[1].split("Passées :")
    assert "« Webinaire à venir »" in upcoming and "sur liste d'attente" in upcoming
    assert "« Visite annulée »" in upcoming and "(la session a été annulée)" in upcoming
    assert "« Atelier passé »" in past and "inscrit·e" in past
    assert "**Vos partages pour la veille (1)**" in text
    assert "« Un article partagé »" in text and "en attente de la prochaine veille" in text
    assert "Vos mots gardés pour la gazette" in text


def _member_id(db: Session, user: str) -> int:
    return db.scalars(select(Member.id).where(Member.user_id == user)).one()
