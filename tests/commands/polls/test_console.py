"""Poll scenarios through the real console, as a person (or a script) would run them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Database
from tests.support.console import console_settings, run_script


def _last_edit(out: str, number: int) -> str:
    """The text of the last time message ``number`` was printed as edited."""
    marker = f"[#{number}] #general tisserand (modifié):\n"
    assert marker in out
    tail = out.rsplit(marker, 1)[1]
    return tail.split("\n[", 1)[0]


@pytest.mark.asyncio
async def test_a_poll_with_votes_a_changed_vote_closing_and_results(
    database: Database, tmp_path: Path
) -> None:
    settings = console_settings(database.url, tmp_path)
    out = await run_script(
        [
            '/sondage "Quel thème pour le prochain webinaire ?" "Sobriété" "Mobilités" '
            '"Alimentation" --fin 2j',
            ":as alice",
            ":click 2 Mobilités",
            ":as bob",
            ":click 2 2",
            ":as dora",
            ":click 2 Sobriété",
            ":as bob",
            ":click 2 Alimentation",
            ":clock +1m",
            "/sondages",
            "/sondage clore 1",
            ":as camille",
            "/sondage clore 1",
            "/sondage resultats 1",
            ":click 2 1",
        ],
        settings=settings,
        out_dir=tmp_path / "out",
    )
    assert (
        "[#2] #general tisserand:\n"
        "📊 **Sondage n° 1 : Quel thème pour le prochain webinaire ?**\n"
        "*Choix unique · Clôture le mercredi 25 novembre 2026 à 09h00*\n"
    ) in out
    assert "  (1) Sobriété\n  (2) Mobilités\n  (3) Alimentation\n  (4) Retirer mon vote\n" in out
    assert "[#3] @camille (privé) tisserand:\nLe sondage n° 1 est publié." in out
    assert "[#4] @alice (privé) tisserand:\nVote enregistré au sondage n° 1 : « Mobilités »." in out
    assert "[#5] @bob (privé) tisserand:\nVote enregistré au sondage n° 1 : « Mobilités »." in out
    # bob changes his vote
    assert (
        "[#7] @bob (privé) tisserand:\nVote enregistré au sondage n° 1 : « Alimentation »." in out
    )
    # The live results: the poll message is edited (at the latest once the clock has moved past
    # the throttle); its last edit before the close shows every vote.
    before_close = out.split("bob: /sondage clore 1")[0]
    assert "[console] horloge : lundi 23 novembre 2026 à 09h01" in before_close
    live = _last_edit(before_close, 2)
    assert "**1.** Sobriété — ███░░░░░░░ 1 voix (33 %)" in live
    assert "**2.** Mobilités — ███░░░░░░░ 1 voix (33 %)" in live
    assert "**3.** Alimentation — ███░░░░░░░ 1 voix (33 %)" in live
    assert "3 participant·es · Ex aequo : « Sobriété », « Mobilités », « Alimentation »" in live
    # bob may not close camille's poll; camille may.
    assert "Seule la personne qui a créé le sondage n° 1, ou la coordination, peut le clore." in out
    results = out.split(
        "📊 **Résultats du sondage n° 1 : Quel thème pour le prochain webinaire ?**"
    )
    assert len(results) == 3  # posted in the channel at close, then shown by /sondage resultats
    assert "*Choix unique · Clos le lundi 23 novembre 2026 à 09h01*" in results[1]
    assert "**3.** Alimentation 🏆 — ███░░░░░░░ 1 voix (33 %)" in results[1]
    assert "Le sondage n° 1 est clos ; ses résultats sont publiés." in out
    final = _last_edit(out, 2)
    assert "Clos le lundi 23 novembre 2026" in final and "Retirer mon vote" not in final
    assert out.rstrip().endswith("[console] Le message #2 n'a pas de choix à cliquer.")


@pytest.mark.asyncio
async def test_an_anonymous_majority_judgment_graded_by_clicks_and_by_text(
    database: Database, tmp_path: Path
) -> None:
    settings = console_settings(database.url, tmp_path)
    out = await run_script(
        [
            '/sondage "Quel projet soutenir ?" "Jardin partagé" "Repair café" --jugement --anonyme',
            ":as alice",
            ":click 2 1",
            ":click 4 Très bien",
            ":click 5 Passable",
            ":as bob",
            "/voter 1 bien excellent",
            ":as camille",
            "/sondage clore 1",
        ],
        settings=settings,
        out_dir=tmp_path / "out",
    )
    assert "*Jugement majoritaire · Anonyme*" in out
    assert (
        "[#4] @alice (privé) tisserand:\n"
        "Sondage n° 1 : quelle mention donnez-vous à « Jardin partagé » ?\n"
        "  (1) Excellent\n  (2) Très bien\n  (3) Bien\n  (4) Assez bien\n  (5) Passable\n"
        "  (6) Insuffisant\n  (7) À rejeter\n"
    ) in out
    assert (
        "[#5] @alice (privé) tisserand:\n"
        "Vote enregistré au sondage n° 1 : « Jardin partagé » → Très bien.\n"
        "Sondage n° 1 : quelle mention donnez-vous à « Repair café » ?\n"
    ) in out
    assert (
        "[#6] @alice (privé) tisserand:\n"
        "Vote enregistré au sondage n° 1 : « Jardin partagé » → Très bien, « Repair café » → "
        "Passable.\nVous avez répondu pour chaque option"
    ) in out
    assert (
        "[#8] @bob (privé) tisserand:\n"
        "Vote enregistré au sondage n° 1 : « Jardin partagé » → Bien, « Repair café » → Excellent."
    ) in out
    results = out.split("📊 **Résultats du sondage n° 1 : Quel projet soutenir ?**")[1]
    assert "**1.** Jardin partagé 🏆 — **Bien** 🟩🟩🟩🟩🟩🟩🟩🟢🟢🟢🟢🟢🟢🟢" in results
    assert "**2.** Repair café — **Passable** 🟦🟦🟦🟦🟦🟦🟦🟧🟧🟧🟧🟧🟧🟧" in results
    assert "2 participant·es\nOption retenue : « Jardin partagé »" in results
