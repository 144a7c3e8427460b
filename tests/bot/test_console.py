"""Console scenarios through the real console platform, as a script drives it."""

from __future__ import annotations

import json
import re
import types
from pathlib import Path

import pytest

from bot import wiring
from bot.context import Context
from bot.core import Attachment, Choice, Reply
from bot.family import Family
from bot.registry import Args, command, on_choice
from tests.conftest import Database
from tests.support.console import console_settings, run_script


@pytest.mark.asyncio
async def test_help_in_french_for_a_coordinator(database: Database, tmp_path: Path) -> None:
    settings = console_settings(database.url, tmp_path)
    out = await run_script(["/aide"], settings=settings, out_dir=tmp_path / "out")
    lines = out.splitlines()
    assert lines[0] == "[#1] #general camille: /aide"
    assert lines[1] == "[#2] #general tisserand:"
    assert "**Tisserand — les commandes à votre disposition**" in out
    assert "**/annonce** — Publie une annonce" in out
    assert "**/profil** —" in out


@pytest.mark.asyncio
async def test_member_sees_member_commands_and_is_refused_politely(
    database: Database, tmp_path: Path
) -> None:
    settings = console_settings(database.url, tmp_path)
    out = await run_script(
        ["#veille", "@bob: /aide", '@bob: /annonce #veille "Salut"', "/aide annonce"],
        settings=settings,
        out_dir=tmp_path / "out",
    )
    bob_help = out.split("[#3]")[0]
    assert "/annonce" not in bob_help.split("[#2] #veille tisserand:")[1]
    assert '[#3] #veille bob: /annonce #veille "Salut"' in out
    assert (
        "[#4] @bob (privé) tisserand:\nDésolé, /annonce est réservée à l'équipe de coordination"
        in out
    )
    assert "Utilisation : /annonce <canal> <texte> [--quand <valeur>]" in out


@pytest.mark.asyncio
async def test_unknown_command_and_bad_options_are_explained(
    database: Database, tmp_path: Path
) -> None:
    settings = console_settings(database.url, tmp_path)
    out = await run_script(
        [
            "/aied",
            "/annonce",
            '/annonce #general "x" --quand "le jour de la marmotte"',
            '/gazette brouillon --depuis "la saint-glinglin"',
            ":dance",
        ],
        settings=settings,
        out_dir=tmp_path / "out",
    )
    assert "Commande inconnue : /aied. Vouliez-vous dire /aide ?" in out
    assert "Il manque quelque chose : Le canal, par exemple #general." in out
    assert "<canal>" not in out
    assert "Je ne sais pas lire la date « le jour de la marmotte »" in out
    assert (
        "Je ne sais pas lire la date « la saint-glinglin ». Exemples qui fonctionnent : « " in out
    )
    assert "[console] Ligne de console inconnue : « :dance »" in out


@pytest.mark.asyncio
async def test_language_choice_is_kept(database: Database, tmp_path: Path) -> None:
    settings = console_settings(database.url, tmp_path)
    out = await run_script(
        ["/profil langue en", "/help", "/profile"], settings=settings, out_dir=tmp_path / "out"
    )
    assert "Done: I will now write to you in English." in out
    assert "**Tisserand — commands you can use**" in out
    assert "- Language: English" in out
    out = await run_script(
        ["/profil langue fr", "/aide"], settings=settings, out_dir=tmp_path / "out2"
    )
    assert "C'est fait : je vous écrirai désormais en français." in out


@pytest.mark.asyncio
async def test_announcement_now_and_later_through_the_clock(
    database: Database, tmp_path: Path
) -> None:
    settings = console_settings(database.url, tmp_path)
    out = await run_script(
        [
            "Bonjour !",
            '/annonce #general "Le webinaire commence"',
            '/annonce #general "Bonne semaine" --quand "2026-11-30 09:00"',
            '/annonce #general "Trop tard" --quand "2020-01-01 09:00"',
            ":clock +6d",
            ":clock 2026-11-30T09:05",
        ],
        settings=settings,
        out_dir=tmp_path / "out",
    )
    assert "[#3] #general tisserand:\n📣 Le webinaire commence\n\n— camille" in out
    assert "[#4] @camille (privé) tisserand:\nAnnonce envoyée dans #general." in out
    assert "Annonce programmée pour lundi 30 novembre 2026 à 09h00 dans #general." in out
    assert "est dans le passé" in out
    week = out.index("horloge : dimanche 29 novembre 2026")
    assert "📣 Bonne semaine" not in out[:week]
    assert out.count("📣 Bonne semaine") == 1
    assert out.index("📣 Bonne semaine") > out.index("horloge : lundi 30 novembre 2026 à 09h05")


@command("essai", "trial", "Offers two choices and a file.")
def trial(ctx: Context, args: Args) -> Reply:
    return Reply(
        text="Choisissez",
        choices=(Choice("Oui", "trial:yes"), Choice("Non", "trial:no")),
        attachments=(Attachment("note.csv", "text/csv", b"a,b\n1,2\n"),),
    )


@on_choice("trial", r"(?P<answer>yes|no)")
def trial_choice(ctx: Context, match: re.Match[str]) -> Reply:
    return Reply(text=f"{ctx.actor.user_id} a choisi {match['answer']}")


@pytest.mark.asyncio
async def test_click_react_and_attachments(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = types.ModuleType("trial_commands")
    module.trial = trial  # type: ignore[attr-defined]
    module.trial_choice = trial_choice  # type: ignore[attr-defined]
    monkeypatch.setattr(wiring, "FAMILIES", (*wiring.FAMILIES, Family("trial", handlers=(module,))))
    settings = console_settings(database.url, tmp_path)
    out_dir = tmp_path / "out"
    out = await run_script(
        [
            "/essai",
            ":as alice",
            ":click 2 Non",
            ":click 2 1",
            ":click 2 9",
            ":react 1 📰",
            ":react 99 📰",
        ],
        settings=settings,
        out_dir=out_dir,
    )
    assert "[#2] #general tisserand:\nChoisissez\n  (1) Oui\n  (2) Non\n  📎 " in out
    assert (out_dir / "2-note.csv").read_bytes() == b"a,b\n1,2\n"
    assert "alice a choisi no" in out and "alice a choisi yes" in out
    assert "n'a pas de choix « 9 »" in out
    assert "Il n'y a pas de message #99." in out
    # Numbers and choices survive a restart of the console.
    out = await run_script([":click 2 Oui", "/aide"], settings=settings, out_dir=out_dir)
    assert "camille a choisi yes" in out
    journal = [
        json.loads(line) for line in (out_dir / "console-journal.jsonl").read_text().splitlines()
    ]
    numbers = [r["n"] for r in journal if "n" in r and not r["edited"]]
    assert numbers == sorted(set(numbers))


@pytest.mark.asyncio
async def test_numbers_are_ascii_digits_and_names_fit_the_database(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = types.ModuleType("trial_commands")
    module.trial = trial  # type: ignore[attr-defined]
    module.trial_choice = trial_choice  # type: ignore[attr-defined]
    monkeypatch.setattr(wiring, "FAMILIES", (*wiring.FAMILIES, Family("trial", handlers=(module,))))
    settings = console_settings(database.url, tmp_path)
    out = await run_script(
        [
            "/essai",
            ":react ² x",  # '²'.isdigit() is True, int('²') fails
            ":click ٣ 1",
            ":click ３ 1",
            ":click 2 ①",
            ":react 99999999999999999999999 x",
            "@" + "x" * 129 + ": bonjour",
            "#" + "c" * 129,
            ":as @",
            "/aide",
        ],
        settings=settings,
        out_dir=tmp_path / "out",
    )
    assert (
        "[console] « ² » n'est pas un numéro de message : écrivez-le avec les chiffres 0 à 9, "
        "comme dans :react 12 👍." in out
    )
    assert "« ٣ » n'est pas un numéro de message" in out
    assert "« ３ » n'est pas un numéro de message" in out
    assert "Le message #2 n'a pas de choix « ① »" in out
    assert "« 99999999999999999999999 » n'est pas un numéro de message" in out
    assert out.count("Un nom d'utilisateur ou de canal compte de 1 à 128 caractères") == 3
    assert "xxxxxxxxxx" not in out
    assert "[#4] #general tisserand:\n**Tisserand — les commandes à votre disposition**" in out


@pytest.mark.asyncio
async def test_undecodable_and_unusual_characters_are_not_fatal(
    database: Database, tmp_path: Path
) -> None:
    settings = console_settings(database.url, tmp_path)
    out_dir = tmp_path / "out"
    # What standard input hands over for the bytes ff fe (surrogateescape), NUL, a line
    # separator inside a text.
    out = await run_script(
        ["abc \udcff\udcfe def", "@bob: nul\x00 ici", "un\u2028deux\x85trois", "/aide"],
        settings=settings,
        out_dir=out_dir,
    )
    assert "[#1] #general camille: abc \ufffd\ufffd def" in out
    assert "[#2] #general bob: nul\ufffd ici" in out
    assert "[#4] #general camille: /aide" in out
    # The journal keeps those texts readable: after a restart the numbers go on.
    out = await run_script(["/aide"], settings=settings, out_dir=out_dir)
    assert out.startswith("[#6] #general camille: /aide\n")


@pytest.mark.asyncio
async def test_a_journal_line_it_cannot_read_is_skipped(database: Database, tmp_path: Path) -> None:
    settings = console_settings(database.url, tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "console-journal.jsonl").write_text(
        '{"n": 1, "channel": "general", "author": "bob", "text": "salut"}\n'
        '{"n": "deux"}\n{"printed": "x"}\n[1, 2]\n"texte"\n{"n": 3, "channel": "general"\n',
        encoding="utf-8",
    )
    out = await run_script(["/aide"], settings=settings, out_dir=out_dir)
    assert out.startswith("[#2] #general camille: /aide\n")
