"""The command line, run as a user runs it: a real process, piped input."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy

from tests.conftest import Database

TISSERAND = shutil.which("tisserand") or str(Path(sys.executable).with_name("tisserand"))


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TISSERAND_")}
    env.update(LANG="fr_FR.UTF-8", TISSERAND_DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def _run(
    args: list[str], tmp_path: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TISSERAND, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=_env(tmp_path, **env),
        cwd=tmp_path,
        timeout=120,
    )


def test_piped_help_is_french_on_embedded_defaults(tmp_path: Path) -> None:
    result = _run(["console"], tmp_path, stdin="/aide\n")
    assert result.returncode == 0, result.stderr
    # /aide is answered to the asker only (issue 15): a private line.
    assert result.stdout.startswith(
        "[#1] #general camille: /aide\n[#2] @camille (privé) tisserand:\n"
    )
    assert "les commandes à votre disposition" in result.stdout
    assert (tmp_path / "data" / "tisserand.sqlite3").exists()


def test_version_and_help_follow_the_locale(tmp_path: Path) -> None:
    version = _run(["--version"], tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("tisserand ")
    french = _run(["--help"], tmp_path)
    assert "Parler au bot dans ce terminal" in french.stdout
    english = _run(["--help"], tmp_path, LANG="en_US.UTF-8")
    assert "Talk to the bot in this terminal" in english.stdout


def test_bad_configuration_names_the_keys_and_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(
        '[network]\ntimezone = "Europe/Pariss"\nlocale = "de"\n[polls]\ngrades = 9\n[oops]\nx = 1\n'
    )
    for args in (["check-config", "--config", str(config)], ["--config", str(config), "console"]):
        result = _run(args, tmp_path, stdin="/aide\n")
        assert result.returncode == 2
        assert "La configuration" in result.stderr
        assert (
            "network.timezone: fuseau horaire inconnu « Europe/Pariss » : utilisez un nom IANA"
            in result.stderr
        )
        assert "network.locale: doit être l’une de ces valeurs : fr, en" in result.stderr
        assert "polls.grades: doit valoir au plus 7" in result.stderr
        assert "oops: clé inconnue : vérifiez son orthographe" in result.stderr
        assert result.stdout == ""
    assert not (tmp_path / "data").exists(), "nothing may start half-way"
    secret = tmp_path / "secret.toml"
    secret.write_text('[discord]\ntoken = "abc"\n')
    result = _run(["check-config", "--config", str(secret)], tmp_path)
    assert result.returncode == 2
    assert "discord.token: les secrets n’ont pas leur place" in result.stderr
    assert "TISSERAND_DISCORD_TOKEN dans l’environnement" in result.stderr
    english = _run(["check-config", "--config", str(config)], tmp_path, LANG="en_US.UTF-8")
    assert "network.timezone: unknown time zone “Europe/Pariss”: use an IANA" in english.stderr
    assert "polls.grades: must be at most 7" in english.stderr
    missing = tmp_path / "missing.toml"
    missing.write_text("[discord]\nguild_ids = [1]\n")
    result = _run(["check-config", "--config", str(missing)], tmp_path)
    assert result.returncode == 2 and "TISSERAND_DISCORD_TOKEN" in result.stderr
    good = _run(["check-config"], tmp_path)
    assert good.returncode == 0 and "Configuration correcte." in good.stdout


def test_db_upgrade_and_newer_database_refused(tmp_path: Path) -> None:
    result = _run(["db", "upgrade"], tmp_path)
    assert result.returncode == 0 and "Base de données à jour" in result.stdout
    with sqlite3.connect(tmp_path / "data" / "tisserand.sqlite3") as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'zzzz'")
    result = _run(["console"], tmp_path, stdin="/aide\n")
    assert result.returncode == 3
    assert "écrite par une version plus récente de Tisserand" in result.stderr
    assert result.stdout == ""


def _wait_for(
    proc: subprocess.Popen[str], needle: str, seen: list[str], timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if needle in "".join(seen):
            return
    raise AssertionError(f"{needle!r} not seen in {''.join(seen)!r}")


def test_killed_with_pending_outbox_rows_delivers_each_exactly_once(
    database: Database, tmp_path: Path
) -> None:
    env = _env(tmp_path, TISSERAND_DATABASE_URL=database.url)
    out_dir = str(tmp_path / "out")
    first = subprocess.Popen(
        [TISSERAND, "console", "--out", out_dir, "--clock", "2026-12-01T08:00"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert first.stdin is not None
    first.stdin.write(
        "Bonjour\n"
        '/annonce #general "Message A" --quand "2026-12-01 10:00"\n'
        '/annonce #general "Message B" --quand "2026-12-01 11:00"\n'
        '/annonce #general "Message C"\n'
    )
    first.stdin.flush()
    seen: list[str] = []
    # Its confirmation comes after C's "printed" journal record: a kill just after C's own print
    # would show C again after the restart (the console display is at-least-once).
    _wait_for(first, "Annonce envoyée dans #general.", seen)
    first.send_signal(signal.SIGKILL)  # no clean shutdown: rows A and B are still pending
    first.wait(timeout=30)
    transcripts = ["".join(seen)]
    for clock in ("2026-12-01T12:00", "2026-12-01T13:00"):
        result = subprocess.run(
            [TISSERAND, "console", "--out", out_dir, "--clock", clock],
            input="/aide\n",
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        transcripts.append(result.stdout)
    everything = "".join(transcripts)
    for text in ("📣 Message A", "📣 Message B", "📣 Message C"):
        assert everything.count(text) == 1, everything
    assert "📣 Message A" in transcripts[1] and "📣 Message B" in transcripts[1]
    assert "📣 Message" not in transcripts[2]


def test_feature_commands_of_the_command_line(tmp_path: Path) -> None:
    script = (
        "Bonjour\n"
        '/session creer "Atelier vélo" --quand "2030-06-03 14:00" --duree 2h --type formation --places 5\n'
    )
    assert _run(["console"], tmp_path, stdin=script).returncode == 0
    ics = tmp_path / "sessions.ics"
    result = _run(["calendar", "export", "--out", str(ics)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1 session à venir écrite" in result.stdout
    assert "SUMMARY:Atelier vélo" in ics.read_text(encoding="utf-8")
    result = _run(["feeds", "refresh"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "0 vérifiés" in result.stdout
    result = _run(["veille", "export"], tmp_path)
    assert result.returncode == 0 and "<opml" in result.stdout
    result = _run(["digest", "preview", "--channel", "nulle-part"], tmp_path)
    assert result.returncode == 1 and "Pas de veille" in result.stderr
    gazette = tmp_path / "gazette.html"
    result = _run(["gazette", "build", "--out", str(gazette), "--since", "2020-01-01"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Gazette écrite dans" in result.stdout  # the newcomers of the period are one item
    assert gazette.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_input_that_is_not_utf8_is_replaced_not_fatal(tmp_path: Path) -> None:
    script = b"abc \xff\xfe def\n:react \xc2\xb2 x\n:click \xd9\xa3 1\n/aide\n"
    for encoding in ("", "utf-8:strict"):  # as the locale gives it; a strict UTF-8 locale
        result = subprocess.run(
            [TISSERAND, "console"],
            input=script,
            capture_output=True,
            env=_env(tmp_path, PYTHONIOENCODING=encoding),
            cwd=tmp_path,
            timeout=120,
        )
        stdout = result.stdout.decode("utf-8")
        assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
        assert "camille: abc \ufffd\ufffd def\n" in stdout
        assert "[console] « ² » n'est pas un numéro de message" in stdout
        assert "[console] « ٣ » n'est pas un numéro de message" in stdout
        assert "les commandes à votre disposition" in stdout
        assert result.stderr == b""


KILL_WHILE_PRINTING = """
import os, signal, sys
from bot.platforms import console

show = console.ConsolePlatform._print

def killed_before_showing(self, posted, *args, **kwargs):
    if "Message C" in posted.text:  # its "about to print" record is written: die now
        os.kill(os.getpid(), signal.SIGKILL)
    return show(self, posted, *args, **kwargs)

console.ConsolePlatform._print = killed_before_showing
from bot.cli import main
sys.argv = ["tisserand", *sys.argv[1:]]
main()
"""


def test_killed_between_journal_and_print_shows_the_message_once_after_restart(
    database: Database, tmp_path: Path
) -> None:
    env = _env(tmp_path, TISSERAND_DATABASE_URL=database.url)
    out_dir = str(tmp_path / "out")
    driver = tmp_path / "driver.py"
    driver.write_text(KILL_WHILE_PRINTING, encoding="utf-8")
    first = subprocess.run(
        [sys.executable, str(driver), "console", "--out", out_dir, "--clock", "2026-12-01T08:00"],
        input='Bonjour\n/annonce #general "Message C"\n/aide\n',
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert first.returncode == -signal.SIGKILL, first.stderr
    assert "Message C" in first.stdout  # the command line, not the announcement
    assert "📣 Message C" not in first.stdout
    transcripts = []
    for clock in ("2026-12-01T08:05", "2026-12-01T08:10"):
        result = subprocess.run(
            [TISSERAND, "console", "--out", out_dir, "--clock", clock],
            input="/aide\n",
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        transcripts.append(result.stdout)
    assert transcripts[0].startswith("[#3] #general tisserand:\n📣 Message C\n\n— camille\n")
    assert "".join(transcripts).count("📣 Message C") == 1
    # Numbers go on after the message shown late; the outbox knew it delivered (same token).
    assert "\n[#4] #general camille: /aide\n" in transcripts[0]
    assert transcripts[1].startswith("[#6] #general camille: /aide\n")


def _refused(result: subprocess.CompletedProcess[str], status: int, *expected: str) -> None:
    assert result.returncode == status, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout == ""
    for text in expected:
        assert text in result.stderr, result.stderr


def test_start_failures_are_explained_with_the_key_and_exit_status_3(tmp_path: Path) -> None:
    started = "Tisserand ne peut pas démarrer :\n"
    again = "Rien n'a été démarré. Corrigez les clés ci-dessus puis réessayez."
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "tisserand.sqlite3").write_bytes(bytes(range(256)) * 20)
    for args in (["console"], ["run"], ["db", "upgrade"], ["check-config"]):
        _refused(
            _run(args, tmp_path, stdin="/aide\n", TISSERAND_DATA_DIR=str(corrupt)),
            3,
            started,
            f"  - data_dir: {corrupt}/tisserand.sqlite3 n’est pas une base de données que "
            "Tisserand sait lire (pas SQLite, ou abîmée)",
            again,
        )
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    with sqlite3.connect(foreign / "tisserand.sqlite3") as conn:
        conn.execute("CREATE TABLE songs (id INTEGER PRIMARY KEY, title TEXT)")
    for args in (["console"], ["check-config"]):
        _refused(
            _run(args, tmp_path, stdin="/aide\n", TISSERAND_DATA_DIR=str(foreign)),
            3,
            "contient les tables d’une autre application (songs) et aucune de Tisserand",
        )
    with sqlite3.connect(foreign / "tisserand.sqlite3") as conn:  # untouched
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master")]
    assert tables == ["songs"]
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    _refused(
        _run(["console", "--out", str(blocker / "out")], tmp_path, stdin="/aide\n"),
        3,
        f"  - --out: {blocker}/out : une partie de ce chemin est un fichier, pas un répertoire",
    )
    config = tmp_path / "out.toml"
    config.write_text(f'[console]\nout_dir = "{blocker}/out"\n')
    for args in (["console"], ["check-config"]):
        _refused(
            _run([*args, "--config", str(config)], tmp_path, stdin="/aide\n"),
            3,
            f"  - console.out_dir: {blocker}/out : une partie de ce chemin est un fichier",
        )
    for args in (["console"], ["check-config"]):
        _refused(
            _run(args, tmp_path, TISSERAND_DATABASE_URL="mysql://tisserand@db.example/t"),
            2,
            "  - database_url: base de données non prise en charge « mysql »",
        )


def test_check_config_refuses_a_newer_database(tmp_path: Path) -> None:
    assert _run(["db", "upgrade"], tmp_path).returncode == 0
    with sqlite3.connect(tmp_path / "data" / "tisserand.sqlite3") as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'zzzz'")
    _refused(
        _run(["check-config"], tmp_path),
        3,
        "  - data_dir: La base de données est à la révision de schéma zzzz, écrite par une "
        "version plus récente de Tisserand.",
    )


def test_a_foreign_database_is_not_touched(database: Database, tmp_path: Path) -> None:
    engine = database.engine()
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text("CREATE TABLE songs (id INTEGER PRIMARY KEY)"))
    result = _run(["console"], tmp_path, stdin="/aide\n", TISSERAND_DATABASE_URL=database.url)
    _refused(result, 3, "  - database_url: ", "contient les tables d’une autre application")
    assert sorted(sqlalchemy.inspect(engine).get_table_names()) == ["songs"]
    engine.dispose()


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs: a real full disk (needs the right to mount, as root in CI containers)."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (the simulated test below still runs)")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


def test_disk_full_at_start_on_a_real_tiny_disk(tmp_path: Path, tiny_disk: Path) -> None:
    data = tiny_disk / "data"
    result = _run(["console"], tmp_path, stdin="/aide\n", TISSERAND_DATA_DIR=str(data))
    _refused(result, 3, "  - data_dir: ", "plein", "libérez de la place")
    with contextlib.suppress(OSError), (tiny_disk / "filler").open("wb") as filler:
        while True:  # until the disk is full
            filler.write(b"\0" * 4096)
            filler.flush()
    out = tiny_disk / "out"
    result = _run(["console", "--out", str(out)], tmp_path, stdin="/aide\n")
    _refused(result, 3, f"  - --out: {out} : le disque est plein ; libérez de la place")
