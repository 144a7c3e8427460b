"""Unanswered is not "no": a date slot or a majority-judgment option a voter has not answered is
shown as unanswered (❔) and counted as the poll says (issue 15)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from commands.polls.tally import (
    compare_profiles,
    compare_unequal_profiles,
    tally_dates,
    tally_majority_judgment,
)
from tests.support.chat import Chat, text_of


def _slot_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("**")]


@pytest.mark.asyncio
async def test_a_date_poll_after_one_click_shows_the_other_slots_unanswered(chat: Chat) -> None:
    await chat.command(
        "camille", '/sondage "Journée terrain ?" "jeudi 3 décembre 14h" "4/12" "7/12 9h" --dates'
    )
    await chat.click("alice", "poll:1:pick:1")
    await chat.click("alice", "poll:1:date:1:yes")
    await chat.advance(timedelta(seconds=10))  # past the edit throttle
    shown = chat.edits()[-1].text
    lines = _slot_lines(shown)
    assert lines[0].endswith("— ✅ 1 · 🤔 0 · ❌ 0")
    assert lines[1].endswith("— ✅ 0 · 🤔 0 · ❌ 0 · ❔ 1")
    assert lines[2].endswith("— ✅ 0 · 🤔 0 · ❌ 0 · ❔ 1")
    assert "❔ pas encore de réponse" in shown
    # An explicit "no" is a no, and only it.
    await chat.click("bob", "poll:1:date:2:no")
    await chat.advance(timedelta(seconds=10))
    lines = _slot_lines(chat.edits()[-1].text)
    assert lines[1].endswith("— ✅ 0 · 🤔 0 · ❌ 1 · ❔ 1")
    assert lines[0].endswith("— ✅ 1 · 🤔 0 · ❌ 0 · ❔ 1")


@pytest.mark.asyncio
async def test_the_date_confirmation_does_not_call_an_unanswered_slot_no(chat: Chat) -> None:
    await chat.command("camille", '/sondage "Quand ?" "demain 10h" "mercredi 10h" --dates')
    confirmation = text_of(await chat.command("alice", "/voter 1 1=oui"))
    assert "Sans réponse pour l'instant : « mercredi 25 novembre à 10h00 »" in confirmation
    assert "non" not in confirmation.split("Sans réponse")[1].split(";")[0]


@pytest.mark.asyncio
async def test_majority_judgment_leaves_ungraded_options_out_by_default(chat: Chat) -> None:
    await chat.command("camille", '/sondage "Quel projet ?" "Jardin" "Vélo" --jugement')
    message = chat.posts()[0].text
    assert "Une option que vous ne notez pas n'est pas comptée" in message
    # Alice grades Jardin only; Bob grades both.
    await chat.command("alice", "/voter 1 1=excellent")
    await chat.command("bob", "/voter 1 1=passable 2=bien")
    await chat.command("camille", "/sondage clore 1")
    results = next(r.text for r in chat.posts() if "Résultats du sondage n° 1" in r.text)
    ranked = _slot_lines(results)
    # Vélo is judged by Bob alone (Bien); Jardin by both (Excellent, Passable: lower median
    # Passable). Counting Alice's silence as "À rejeter" would have put Vélo last.
    assert ranked[0].startswith("**1.** Vélo 🏆 — **Bien** ")
    assert ranked[0].endswith("· ❔ 1")
    assert ranked[1].startswith("**2.** Jardin — **Passable** ")
    assert "❔" not in ranked[1]
    assert "❔ sans mention : non comptée" in results


@pytest.mark.asyncio
async def test_majority_judgment_counts_ungraded_as_lowest_when_the_poll_says_so(
    chat: Chat,
) -> None:
    await chat.command(
        "camille",
        '/sondage "Quel projet ?" "Jardin" "Vélo" --jugement --sans-mention-au-plus-bas',
    )
    assert "Une option sans mention compte comme « À rejeter »" in chat.posts()[0].text
    await chat.command("alice", "/voter 1 1=excellent")
    confirmation = text_of(await chat.command("bob", "/voter 1 1=passable"))
    assert "compte comme « À rejeter »" in confirmation
    await chat.command("carol", "/voter 1 1=passable 2=bien")
    await chat.command("camille", "/sondage clore 1")
    results = next(r.text for r in chat.posts() if "Résultats du sondage n° 1" in r.text)
    ranked = _slot_lines(results)
    # Vélo: Bien, À rejeter, À rejeter -> À rejeter; Jardin: Excellent, Passable, Passable.
    assert ranked[0].startswith("**1.** Jardin 🏆 — **Passable** ")
    assert ranked[1].startswith("**2.** Vélo — **À rejeter** ")
    assert ranked[1].endswith("· ❔ 2")
    assert "❔ sans mention : comptée comme « À rejeter »" in results


def test_unanswered_date_slots_are_counted_apart() -> None:
    result = tally_dates([{0: "yes"}, {0: "no", 1: "ifneedbe"}], 2)
    by_slot = {s.option: s for s in result.slots}
    assert (by_slot[0].yes, by_slot[0].no, by_slot[0].unanswered) == (1, 1, 0)
    assert (by_slot[1].ifneedbe, by_slot[1].no, by_slot[1].unanswered) == (1, 0, 1)


def test_ungraded_options_are_left_out_or_counted_as_the_worst() -> None:
    ballots = [(0, None), (4, 2)]
    left_out = tally_majority_judgment(ballots, 2, 5, ungraded_as_worst=False)
    as_worst = tally_majority_judgment(ballots, 2, 5)
    assert {o.option: o.profile for o in left_out.options} == {
        0: (1, 0, 0, 0, 1),
        1: (0, 0, 1, 0, 0),
    }
    assert {o.option: o.profile for o in as_worst.options}[1] == (0, 0, 1, 0, 1)
    assert [o.ungraded for o in sorted(left_out.options, key=lambda o: o.option)] == [0, 1]
    assert left_out.options[0].option == 1
    assert as_worst.options[0].option == 0


def _sign(value: int) -> int:
    return (value > 0) - (value < 0)


def test_both_comparisons_follow_the_literal_tie_break() -> None:
    rng = random.Random(15)
    for _ in range(600):
        a = [0] * 5
        b = [0] * 5
        for _ in range(rng.randint(1, 12)):
            a[rng.randrange(5)] += 1
        for _ in range(rng.randint(1, 12)):
            b[rng.randrange(5)] += 1
        expected = _sign(_walk(a, b))
        assert _sign(compare_unequal_profiles(a, b)) == expected, (a, b)
        if sum(a) == sum(b):
            assert _sign(compare_profiles(a, b)) == expected, (a, b)
    assert compare_unequal_profiles([0, 1, 0], [0, 0, 0]) < 0
    assert compare_unequal_profiles([1, 0, 0], [0, 2, 0]) < 0


def _walk(a: list[int], b: list[int]) -> int:
    """The literal tie-break: remove the majority grade from each, again and again."""
    sorted_a = sorted(g for g, count in enumerate(a) for _ in range(count))
    sorted_b = sorted(g for g, count in enumerate(b) for _ in range(count))
    while sorted_a and sorted_b:
        grade_a = sorted_a.pop(len(sorted_a) // 2)
        grade_b = sorted_b.pop(len(sorted_b) // 2)
        if grade_a != grade_b:
            return grade_a - grade_b
    return 0
