"""/profil exporter and /profil effacer through the console chat: the export's content, and an
erasure followed by a search of every table for the member's name, identifier and texts."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import MetaData, func, select

from bot.storage.highlights import Highlight
from bot.storage.members import Member
from bot.storage.polls import PollBallot
from bot.storage.profiles import MemberErasure
from bot.storage.sessions import Registration
from bot.storage.veille import ENTRY_SHARE, FeedEntry
from tests.commands.members.support import add_themes
from tests.support.chat import Chat, text_of

pytestmark = pytest.mark.asyncio

ORGANISATION = "Mairie de Xylophonville"
PRESENTATION = "Passionnée de vélos-cargos zoulous"
COMMENT = "Mon commentaire très singulier"
QUOTE = "Les quokkas de Xylophonville ont adoré"
IDEA = "Un atelier de quokkas pédagogiques"


def _member_id(chat: Chat, user: str) -> int:
    with chat.db() as db:
        return db.scalars(select(Member.id).where(Member.user_id == user)).one()


async def _alice_everywhere(chat: Chat) -> int:
    """Alice leaves traces in every family: profile, poll, session, share, highlight in a
    published gazette, a round of meetings, a referent role."""
    add_themes(chat, "mobilité")
    await chat.command("alice", f'/profil organisation "{ORGANISATION}"')
    await chat.command("alice", f'/profil presentation "{PRESENTATION}"')
    await chat.command("alice", '/profil interets "mobilité"')
    await chat.command("alice", "/categorie elu")
    alice = _member_id(chat, "alice")
    await chat.command("camille", '/sondage "Quel jour ?" "Lundi" "Mardi"')
    await chat.click("alice", "poll:1:vote:1")
    await chat.command(
        "camille",
        '/session creer "Atelier" --quand "jeudi 3 décembre 14h" --duree 2h --type formation '
        "--places 10",
    )
    await chat.command("alice", "/inscription 1")
    with chat.db() as db:
        db.add(
            FeedEntry(
                kind=ENTRY_SHARE,
                platform="console",
                channel_id="general",
                entry_key="share-1",
                content_hash="share-1",
                title="Un lien",
                link="https://example.org/lien",
                comment=COMMENT,
                shared_by=alice,
                created_at=chat.clock.now(),
            )
        )
        db.commit()
    ref = await chat.say("alice", QUOTE)
    await chat.react("camille", ref)
    with chat.db() as db:
        number = db.scalars(select(Highlight.id).where(Highlight.author_id == alice)).one()
    await chat.click("alice", f"consent:{number}:yes", channel="@alice")
    await chat.command("camille", "/gazette brouillon")
    await chat.command("camille", "/gazette publier")
    await chat.command("bob", "/rencontres rejoindre")
    await chat.command("alice", "/rencontres rejoindre")
    await chat.command("camille", "/rencontres lancer")
    await chat.command("camille", '/referent ajouter "mobilité" @alice')
    await chat.command("alice", f'/idee "{IDEA}"')
    return alice


async def test_export_holds_every_family(chat: Chat) -> None:
    await _alice_everywhere(chat)
    [reply] = await chat.command("alice", "/profil exporter")
    assert reply.ephemeral
    json_file, html_file = reply.attachments
    assert json_file.media_type == "application/json"
    exported = json.loads(json_file.data)
    families = exported["families"]
    assert families["profile"]["member"]["identifier"] == "alice"
    assert families["profile"]["profile"]["organisation"] == ORGANISATION
    assert families["polls"]["named_ballots"][0]["question"] == "Quel jour ?"
    assert families["sessions"]["registrations"][0]["title"] == "Atelier"
    assert families["veille"]["shares"][0]["comment"] == COMMENT
    assert families["gazette"]["highlights_said"][0]["quote"] == QUOTE
    assert families["members"]["meetings"]["rounds"][0]["met"] == ["Bob"]
    assert families["members"]["referent_for"] == ["mobilité"]
    assert families["ideas"]["ideas_proposed"][0]["text"] == IDEA
    assert any("Bob" in m["text"] for m in exported["messages_to_you"])
    page = html_file.data.decode()
    assert (
        "Ce que Réseau Tisserand conserve à votre sujet" in page or "conserve à votre sujet" in page
    )
    assert ORGANISATION in page
    said = text_of(await chat.command("alice", "/profil exporter @bob"))
    assert "que vos propres données" in said


def _every_text_cell(chat: Chat) -> list[tuple[str, str]]:
    """Every (table, value) of every text or binary column of every table."""
    found = []
    metadata = MetaData()
    metadata.reflect(chat.app.engine)
    with chat.app.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(table.select()):
                for value in row:
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    elif isinstance(value, dict | list):
                        value = json.dumps(value, ensure_ascii=False)
                    if isinstance(value, str):
                        found.append((table.name, value))
    return found


async def test_erasure_leaves_only_the_documented_residue(chat: Chat) -> None:
    alice = await _alice_everywhere(chat)
    [ask] = await chat.command("alice", "/profil effacer")
    assert "C'est définitif" in ask.text
    keep, confirm = ask.choices[1], ask.choices[0]
    assert "Rien n'a été effacé" in text_of(await chat.click("alice", keep.action))
    assert _member_id(chat, "alice") == alice
    said = text_of(await chat.click("bob", confirm.action))
    assert "ne fait plus rien" in said  # not bob's to confirm
    said = text_of(await chat.click("alice", confirm.action))
    assert "vos données sont effacées" in said

    needles = ("alice", "Alice", ORGANISATION, PRESENTATION, COMMENT, QUOTE, IDEA)
    leaks = [
        (table, needle)
        for table, value in _every_text_cell(chat)
        for needle in needles
        if needle in value
    ]
    assert leaks == [], leaks
    with chat.db() as db:
        shell = db.get(Member, alice)
        assert shell is not None
        assert shell.display_name == "—"
        assert shell.user_id == f"erased:{alice}"
        assert shell.category is None
        # anonymous counts stay right
        assert db.scalar(select(func.count()).select_from(PollBallot)) == 1
        assert db.scalar(select(func.count()).select_from(Registration)) == 1
        [record] = db.scalars(select(MemberErasure)).all()
        assert record.member_id == alice
        assert record.requested_by == "member"
        assert record.counts["gazette.highlights_deleted"] == 1
        assert record.counts["gazette.gazettes_rebuilt"] == 1
        assert record.counts["polls.ballots_kept_anonymous"] == 1
        assert record.counts["members.meeting_history_deleted"] == 1
        assert record.counts["veille.share_comments_erased"] == 1
        assert record.counts["ideas.ideas_deleted"] == 1

    # erasing twice: the old button does nothing; a new /profil effacer is a new member
    said = text_of(await chat.click("alice", confirm.action))
    assert "ne fait plus rien" in said


async def test_a_stale_confirmation_is_refused(chat: Chat) -> None:
    await chat.command("alice", '/profil organisation "Mairie"')
    [ask] = await chat.command("alice", "/profil effacer")
    await chat.advance(timedelta(minutes=16))
    said = text_of(await chat.click("alice", ask.choices[0].action))
    assert "n'est plus valable" in said
    with chat.db() as db:
        assert (
            db.scalars(select(Member.display_name).where(Member.user_id == "alice")).one()
            == "Alice"
        )
