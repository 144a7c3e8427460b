"""``tisserand subscribers`` and ``check-config --online`` for ``[email]``, run as a user runs
them (a real process), against a real SMTP server on loopback."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import mail
from tests.bot.mail.helpers import deliver, mail_chat
from tests.conftest import Database
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.asyncio
TISSERAND = shutil.which("tisserand") or str(Path(sys.executable).with_name("tisserand"))


def _config(tmp_path: Path, server: SmtpServer, **email: object) -> Path:
    section = server.settings(**email)
    lines = ["[email]"]
    for key, value in section.items():
        lines.append(f"{key} = {value!r}" if isinstance(value, int) else f'{key} = "{value}"')
    path = tmp_path / "tisserand.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def _run(
    tmp_path: Path, *args: str, lang: str = "fr_FR.UTF-8", **env: str
) -> tuple[int, str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TISSERAND_")}
    environ.update(LANG=lang, TISSERAND_DATA_DIR=str(tmp_path / "data"), **env)
    proc = await asyncio.create_subprocess_exec(
        TISSERAND,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=environ,
        cwd=tmp_path,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


CSV = (
    "nom;courriel;categorie;recoit\n"
    "Élodie Martin;elodie@mairie.example.fr;élu·e;tout\n"
    "Sans Arobase;pas-une-adresse;partenaire;digest\n"
    "Paul Durand;paul@asso.example.fr;partenaire;gazette sessions\n"
    "Mauvais Choix;choix@asso.example.fr;;pizza\n"
    "\n"
    "Élodie encore;ELODIE@mairie.example.fr;;digest\n"
)


async def test_import_names_bad_rows_keeps_good_ones_and_welcomes_once(
    database: Database, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    config = _config(tmp_path, smtp_server)
    (tmp_path / "elus.csv").write_text(CSV, encoding="utf-8")
    code, out, err = await _run(
        tmp_path,
        "subscribers",
        "import",
        "elus.csv",
        "--by",
        "Camille (coordination)",
        "--config",
        str(config),
        "--database",
        database.url,
    )
    assert code == 0, err
    assert "2 adresses ajoutées" in out
    assert "ligne 3" in err and "pas-une-adresse" in err
    assert "ligne 5" in err and "pizza" in err
    assert "ligne 7" in err and "elodie@mairie.example.fr" in err
    # Importing again adds nobody and sends no second welcome.
    code, out, _ = await _run(
        tmp_path, "subscribers", "import", "elus.csv", "--by", "Camille",
        "--config", str(config), "--database", database.url,
    )  # fmt: skip
    assert code == 0 and "0 adresse ajoutée" in out
    chat = await mail_chat(database.url, tmp_path, smtp_server)
    try:
        # The command line queued the welcomes at the real time: the bot's clock catches up.
        await chat.move_to(datetime.now(UTC) + timedelta(seconds=1))
        await deliver(chat)
        with chat.app.sessions() as db:
            paul = mail.subscriber_by_address(db, "paul@asso.example.fr")
            assert paul is not None
            assert (paul.wants_digest, paul.wants_gazette, paul.wants_sessions) == (
                False,
                True,
                True,
            )
            assert "Camille (coordination)" in paul.basis and "elus.csv line 4" in paul.basis
            assert paul.confirmed_at is not None
    finally:
        await chat.stop()
    assert sorted(r.recipients[0] for r in smtp_server.recorder.received) == [
        "elodie@mairie.example.fr",
        "paul@asso.example.fr",
    ]
    welcome = smtp_server.recorder.to("elodie@mairie.example.fr")[0]
    assert "Camille (coordination)" in welcome["Subject"]
    text = welcome.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Camille (coordination)" in text and "retir" in text


async def test_add_list_remove(database: Database, tmp_path: Path, smtp_server: SmtpServer) -> None:
    config = _config(tmp_path, smtp_server)
    common = ("--config", str(config), "--database", database.url)
    code, out, err = await _run(
        tmp_path, "subscribers", "add", "Elu@Mairie.example.fr", "--name", "Un Élu",
        "--receives", "gazette", "--by", "Dominique", *common,
    )  # fmt: skip
    assert code == 0, err
    assert "elu@mairie.example.fr" in out
    code, _, err = await _run(
        tmp_path, "subscribers", "add", "elu@mairie.example.fr", "--by", "Dominique", *common
    )
    assert code == 1 and "déjà" in err
    code, _, err = await _run(tmp_path, "subscribers", "add", "x@", "--by", "D", *common)
    assert code == 1 and "x@" in err
    code, out, _ = await _run(tmp_path, "subscribers", "list", *common)
    assert "elu@mairie.example.fr\tUn Élu" in out and "gazette" in out and "Dominique" in out
    code, out, _ = await _run(tmp_path, "subscribers", "remove", "elu@mairie.example.fr", *common)
    assert code == 0 and "elu@mairie.example.fr" in out
    code, _, err = await _run(tmp_path, "subscribers", "remove", "elu@mairie.example.fr", *common)
    assert code == 1
    code, out, _ = await _run(tmp_path, "subscribers", "list", *common)
    assert "elu@mairie.example.fr" not in out


async def test_check_config_online_accepts_a_working_server(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    # The database does not matter here: SQLite only.
    config = _config(tmp_path, smtp_server)
    code, _out, err = await _run(tmp_path, "check-config", "--online", "--config", str(config))
    assert code == 0, err
    assert smtp_server.recorder.received == []  # nothing was sent


@pytest.mark.parametrize(
    ("case", "key", "words"),
    [
        ("refused sender", "email.sender", "refuse l’expéditeur"),
        ("wrong password", "email.username", "mot de passe"),
        ("no server", "email.host", "impossible de se connecter"),
        ("no tls", "email.security", "TLS"),
    ],
)
async def test_check_config_online_explains_failures(
    tmp_path: Path,
    smtp_server: SmtpServer,
    case: str,
    key: str,
    words: str,
) -> None:
    email: dict[str, object] = {}
    env: dict[str, str] = {}
    if case == "refused sender":
        smtp_server.recorder.refuse_sender = "553 5.7.1 Sender address rejected"
    elif case == "wrong password":
        smtp_server.recorder.credentials = ("veille", "le-bon")
        email["username"] = "veille"
        env["TISSERAND_SMTP_PASSWORD"] = "le-mauvais"
    elif case == "no server":
        email["port"] = smtp_server.port + 1 if smtp_server.port < 65535 else smtp_server.port - 1
    else:
        email["security"] = "starttls"
    config = _config(tmp_path, smtp_server, **email)
    code, _out, err = await _run(
        tmp_path,
        "check-config",
        "--online",
        "--config",
        str(config),
        **env,
    )
    assert code != 0
    assert f"{key}:" in err and words in err, err
