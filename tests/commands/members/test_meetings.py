"""/rencontres (/meet) through the console chat: joining, pausing, three scheduled rounds over a
pool of nine, the check-in a week later and the figures of the annual report."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.storage.meetings import MeetingGroupMember
from bot.storage.members import Member
from commands.members import meeting_figures
from tests.commands.members.support import add_themes, fill_profile
from tests.support.chat import START, Chat, text_of

pytestmark = pytest.mark.asyncio

NINE = ("alice", "bob", "chloe", "dany", "emile", "fanny", "gael", "hugo", "ines")
CATEGORIES = ("elu", "agent", "association")
TERRITORIES = ("Lons", "Dole", "Bresse")


def _groups(chat: Chat) -> dict[int, list[set[str]]]:
    """The groups of every round, by round number, as sets of user ids."""
    with chat.db() as db:
        rows = db.execute(
            select(MeetingGroupMember.round_id, MeetingGroupMember.group_no, Member.user_id).join(
                Member, Member.id == MeetingGroupMember.member_id
            )
        ).all()
    found: dict[tuple[int, int], set[str]] = {}
    for round_id, group_no, user in rows:
        found.setdefault((round_id, group_no), set()).add(user)
    rounds: dict[int, list[set[str]]] = {}
    for (round_id, _), members in sorted(found.items()):
        rounds.setdefault(round_id, []).append(members)
    return rounds


async def _pool_of_nine(chat: Chat) -> dict[str, str]:
    add_themes(chat, "mobilité", "alimentation", "énergie")
    category = {}
    for index, user in enumerate(NINE):
        category[user] = CATEGORIES[index % 3]
        await fill_profile(
            chat,
            user,
            organisation=f"Structure {user}",
            territory=TERRITORIES[index // 3],
            interests="mobilité" if index % 2 else "alimentation, énergie",
            category=category[user],
        )
        await chat.command(user, "/rencontres rejoindre")
    return category


async def test_join_twice_leave_and_a_round_of_one(chat: Chat) -> None:
    assert "Bienvenue" in text_of(await chat.command("alice", "/rencontres rejoindre"))
    assert "déjà" in text_of(await chat.command("alice", "/rencontres rejoindre"))
    said = text_of(await chat.command("camille", "/rencontres lancer"))
    assert "au moins deux membres" in said
    assert "il y en a 1" in said
    assert _groups(chat) == {}
    assert "ne participez plus" in text_of(await chat.command("alice", "/rencontres quitter"))
    assert "ne participez pas" in text_of(await chat.command("alice", "/rencontres quitter"))
    assert "participez pas" in text_of(await chat.command("alice", "/rencontres"))


async def test_only_coordinators_schedule(chat: Chat) -> None:
    said = text_of(await chat.command("alice", '/rencontres programmer "lundi 10h"'))
    assert "réservée à l'équipe de coordination" in said
    said = text_of(
        await chat.command("camille", '/rencontres programmer "lundi 10h" --tous-les 2j')
    )
    assert "« 2j »" in said
    said = text_of(
        await chat.command("camille", '/rencontres programmer "lundi 10h" --tous-les 20')
    )
    assert "20" in said


async def test_three_rounds_over_nine_a_pause_and_a_check_in(chat: Chat) -> None:
    category = await _pool_of_nine(chat)
    said = text_of(
        await chat.command("camille", '/rencontres programmer "lundi 10h" --tous-les 1sem')
    )
    assert "9 membres participent" in said
    assert "chaque semaine" in said
    await chat.advance(timedelta(hours=1, minutes=1))  # Monday 10:01 in Paris
    rounds = _groups(chat)
    assert len(rounds) == 1
    first = rounds[1]
    assert sorted(len(g) for g in first) == [2, 2, 2, 3]
    for group in first:  # categories mixed: never two of one category in a group
        assert len({category[u] for u in group}) == len(group)
    for user in NINE:
        intro = chat.direct_messages(user)[-1].text
        assert "Rencontres : cette fois, vous rencontrez" in intro
        partners = next(g for g in first if user in g) - {user}
        for partner in partners:
            assert f"**{partner.capitalize()}**" in intro
            assert f"Structure {partner}" in intro

    # a pause: alice misses the second round
    await chat.command("alice", "/rencontres pause 10 jours")
    await chat.advance(timedelta(weeks=1))
    rounds = _groups(chat)
    assert len(rounds) == 2
    assert all("alice" not in g for g in rounds[2])
    assert sorted(len(g) for g in rounds[2]) == [2, 2, 2, 2]

    # the check-in of the first round, a week after it
    checkin = chat.direct_messages("bob")
    asked = [m for m in checkin if m.choices and "Vous êtes-vous rencontré·es" in m.text]
    assert len(asked) == 1
    actions = [choice.action for choice in asked[0].choices]
    assert actions == ["meet:1:checkin:met", "meet:1:checkin:planned", "meet:1:checkin:not_met"]
    said = text_of(await chat.click("bob", "meet:1:checkin:met", channel="@bob"))
    assert "Merci" in said
    await chat.click("chloe", "meet:1:checkin:planned", channel="@chloe")
    await chat.click("chloe", "meet:1:checkin:not_met", channel="@chloe")  # changed her mind
    said = text_of(await chat.click("alice", "meet:2:checkin:met", channel="@alice"))
    assert "Ce bouton ne fait plus rien" in said  # alice was not in round 2

    await chat.advance(timedelta(weeks=1))  # alice is back for the third round
    rounds = _groups(chat)
    assert len(rounds) == 3
    assert any("alice" in g for g in rounds[3])
    pairs = [
        frozenset(pair)
        for groups in rounds.values()
        for group in groups
        for pair in itertools.combinations(sorted(group), 2)
    ]
    assert len(pairs) == len(set(pairs))  # nobody met anyone twice

    with chat.db() as db:
        figures = meeting_figures(db, START, START + timedelta(weeks=4))
    assert figures.rounds == 3
    assert figures.participants == 9
    assert figures.introductions == 4 + 4 + 4
    assert figures.answers == {"met": 1, "not_met": 1}
    assert figures.asked == 9 + 8  # rounds 1 and 2 were asked, the third is not due yet
    assert figures.met_share == 0.5
    said = text_of(await chat.command("camille", "/rencontres bilan"))
    assert "3 tours" in said
    assert "1 se sont rencontré·es" in said


async def test_english_status_and_stop(chat: Chat) -> None:
    chat.locales["alice"] = "en"
    await chat.command("alice", "/meet join")
    said = text_of(await chat.command("alice", "/meet"))
    assert "You take part in the meetings." in said
    assert "No round is scheduled yet" in said
    await chat.command("camille", '/rencontres programmer "mardi 10h"')
    assert "every 2 weeks" in text_of(await chat.command("alice", "/meet"))
    assert "plus aucun tour" in text_of(await chat.command("camille", "/rencontres arreter"))
