"""The console platform: the embedded default, for local use, demos and scripted tests.

Input syntax (a documented contract, see the README):

- ``texte``: the current user says ``texte`` in the current channel; ``/aide`` is a command;
- ``@alice: texte``: alice says ``texte`` in the current channel;
- ``#veille`` alone on a line: the current channel becomes ``veille``;
- ``:as alice``: the current user becomes alice;
- ``:react N EMOJI``: the current user reacts to message N;
- ``:click N K``: the current user picks choice K (number or label) of message N;
- ``:clock +2d3h`` or ``:clock 2026-12-03T09:00``: the clock moves forward and due work runs;
- ``:quit`` or end of input: stop, after delivering pending messages.

Every message gets a number N and is printed as ``[#N] #channel alice: texte``; the bot's messages
as ``[#N] #channel tisserand:`` (``[#N] @alice (privé) tisserand:`` in private) followed by the
text, the choices as ``  (K) label`` and attachments as ``  📎 path``. Numbers, choices and
delivered outbox tokens are kept in ``console-journal.jsonl`` in the output directory, so they
survive a restart.

The journal holds two records for each message of the bot: "about to print" (the message,
written and flushed — for an outbox message also synced to disk — before it is printed) and
"printed" (``{"printed": N}``, after). A restart prints again, once, a message whose "printed"
record is missing: a crash between the two never loses a message, and an outbox message is
never sent twice (its token is in the first record). The display is therefore at-least-once: a
crash after the print but before the "printed" record shows that message a second time.

Input is never fatal: what standard input could not decode (surrogate-escaped bytes) and NUL
characters become U+FFFD; message numbers are read with the ASCII digits 0-9 only (``²`` or
``٣`` are refused with a note, never passed to ``int``); user and channel names longer than the
database holds are refused with a note.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from bot.clock import MovableClock
from bot.core import (
    Actor,
    ChoiceEvent,
    CommandEvent,
    DirectTarget,
    Event,
    MessageEvent,
    MessageRef,
    Place,
    PlaceTarget,
    ReactionEvent,
    Reply,
    Role,
    Target,
    render_mentions,
    storable_text,
)
from bot.i18n import Translator, fold
from bot.platforms.base import EventHandler

BOT_NAME = "tisserand"
JOURNAL = "console-journal.jsonl"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_NUMBER = re.compile(r"[0-9]{1,18}", re.ASCII)
MAX_NAME = 128
"""The longest user or channel name (the database's ``user_id`` and ``channel_id`` columns)."""


def clean_line(raw: str) -> str:
    """``raw`` without what cannot be stored or printed: each such character becomes U+FFFD."""
    return storable_text(raw)


def ascii_number(text: str) -> int | None:
    """``text`` as a number when it is written with the digits 0-9 only (not ², ٣ or ３)."""
    return int(text) if _NUMBER.fullmatch(text) else None


@dataclass(slots=True)
class _Posted:
    number: int
    channel: str
    author: str
    text: str
    direct_to: str | None = None
    choices: list[dict[str, str]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


class ConsolePlatform:
    name = "console"

    def __init__(
        self,
        *,
        out: TextIO,
        out_dir: Path,
        clock: MovableClock,
        translator: Translator,
        coordinators: list[str],
        user: str = "camille",
        channel: str = "general",
    ) -> None:
        self.out = out
        self.out_dir = out_dir
        self.clock = clock
        self.t = translator
        self.coordinators = {fold(c) for c in coordinators}
        self.user = user
        self.channel = channel.lstrip("#")
        self.on_tick: Callable[[], Awaitable[None]] | None = None
        self._handler: EventHandler | None = None
        self._messages: dict[int, _Posted] = {}
        self._tokens: dict[str, int] = {}
        self._next = 1
        self._journal: TextIO | None = None
        self._unprinted: dict[int, tuple[_Posted, bool]] = {}

    # --- Platform protocol ---------------------------------------------------------------------

    async def start(self, handler: EventHandler) -> None:
        self._handler = handler
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / JOURNAL
        if path.exists():
            # Split on newlines only: a text may hold U+2028 or U+0085, which splitlines() cuts.
            for line in path.read_text(encoding="utf-8", errors="replace").split("\n"):
                try:
                    self._remember(json.loads(line))
                except (ValueError, KeyError, TypeError, AttributeError):
                    continue  # a line cut by a crash, or not written by this console: ignore it
        # A text the encoder refuses is written as a JSON escape rather than stop the console.
        self._journal = path.open("a", encoding="utf-8", errors="backslashreplace")
        # What a crash left between "about to print" and "printed" is shown now, once.
        unprinted, self._unprinted = self._unprinted, {}
        for posted, edited in unprinted.values():
            self._print(posted, edited=edited)
            self._write_printed(posted)

    async def stop(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    async def respond(self, event: Event, reply: Reply) -> MessageRef | None:
        if reply.edit is not None:
            await self.edit(reply.edit, reply)
            return reply.edit
        target = reply.target
        if target is None:
            if reply.ephemeral or event.place.is_direct:
                target = DirectTarget(self.name, event.actor.user_id)
            else:
                target = PlaceTarget(self.name, event.place.channel_id)
        return self._post(reply, target, token=None)

    async def deliver(self, reply: Reply, target: Target, token: str) -> MessageRef:
        known = self._tokens.get(token)
        if known is not None:
            posted = self._messages[known]
            return MessageRef(self.name, posted.channel, str(known))
        return self._post(reply, target, token=token)

    async def edit(self, ref: MessageRef, reply: Reply) -> None:
        number = int(ref.message_id)
        posted = self._messages.get(number)
        if posted is None:
            return
        reply = reply.without_text_choices()  # no form: the text comes as a (private) line
        posted.text = _text(reply)
        posted.choices = [{"label": c.label, "action": c.action} for c in reply.choices]
        posted.files = []
        self._write_journal(posted, token=None, edited=True)
        self._print(posted, edited=True)
        self._write_printed(posted)

    # --- posting -------------------------------------------------------------------------------

    def _post(self, reply: Reply, target: Target, token: str | None) -> MessageRef:
        number = self._next
        self._next += 1
        if isinstance(target, DirectTarget):
            posted = _Posted(number, f"@{target.user_id}", BOT_NAME, _text(reply), target.user_id)
        else:
            posted = _Posted(number, target.channel_id, BOT_NAME, _text(reply))
        reply = reply.without_text_choices()  # no form: the text comes as a (private) line
        posted.choices = [{"label": c.label, "action": c.action} for c in reply.choices]
        self._messages[number] = posted
        posted.files = [str(path) for path in self._write_attachments(number, reply)]
        if token is not None:
            self._tokens[token] = number
        # "About to print" is made durable before the message is shown: a restart knows it was
        # delivered (never sent twice) and, without the "printed" record, shows it once more.
        self._write_journal(posted, token=token)
        self._print(posted)
        self._write_printed(posted)
        return MessageRef(self.name, posted.channel, str(number))

    def _write_attachments(self, number: int, reply: Reply) -> list[Path]:
        files = []
        for attachment in reply.attachments:
            safe = _SAFE_NAME.sub("_", attachment.filename).strip("._") or "file"
            path = self.out_dir / f"{number}-{safe}"
            path.write_bytes(attachment.data)
            files.append(path)
        return files

    def _print(self, posted: _Posted, *, edited: bool = False) -> None:
        mark = " (modifié)" if edited else ""
        if posted.direct_to is not None:
            header = f"[#{posted.number}] @{posted.direct_to} (privé) {BOT_NAME}{mark}:"
        else:
            header = f"[#{posted.number}] #{posted.channel} {BOT_NAME}{mark}:"
        lines = [header, posted.text]
        lines.extend(f"  ({i}) {c['label']}" for i, c in enumerate(posted.choices, start=1))
        lines.extend(f"  📎 {path}" for path in posted.files)
        self.out.write("\n".join(lines) + "\n")
        self.out.flush()

    def _remember(self, record: dict[str, Any]) -> None:
        if "printed" in record:
            self._unprinted.pop(int(record["printed"]), None)
            return
        posted = _Posted(
            number=int(record["n"]),
            channel=str(record["channel"]),
            author=str(record["author"]),
            text=str(record.get("text", "")),
            direct_to=record.get("direct_to"),
            choices=list(record.get("choices", [])),
            files=list(record.get("files", [])),
        )
        self._messages[posted.number] = posted
        self._next = max(self._next, posted.number + 1)
        if record.get("token"):
            self._tokens[str(record["token"])] = posted.number
        if record.get("printing"):  # "about to print": shown at start unless "printed" follows
            self._unprinted[posted.number] = (posted, bool(record.get("edited")))

    def _write_journal(self, posted: _Posted, *, token: str | None, edited: bool = False) -> None:
        if self._journal is None:
            return
        record = {
            "n": posted.number,
            "channel": posted.channel,
            "author": posted.author,
            "text": posted.text,
            "direct_to": posted.direct_to,
            "choices": posted.choices,
            "token": token,
            "edited": edited,
        }
        if posted.author == BOT_NAME:
            record.update(files=posted.files, printing=True)
        self._journal.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._journal.flush()
        if token is not None:
            os.fsync(self._journal.fileno())

    def _write_printed(self, posted: _Posted) -> None:
        """The "printed" record: a restart will not show this message again."""
        if self._journal is None:
            return
        self._journal.write(json.dumps({"printed": posted.number}) + "\n")
        self._journal.flush()

    # --- input ---------------------------------------------------------------------------------

    def actor(self, name: str) -> Actor:
        roles = {Role.MEMBER}
        if fold(name) in self.coordinators:
            roles.add(Role.COORDINATOR)
        return Actor(self.name, name, name, roles=frozenset(roles))

    def place(self) -> Place:
        return Place(self.name, self.channel, self.channel)

    def prompt(self) -> str:
        return f"{self.user}@#{self.channel}> "

    def _note(self, text: str) -> None:
        self.out.write(f"[console] {text}\n")
        self.out.flush()

    async def feed_line(self, raw: str) -> bool:
        """Handle one line of input; False when the console should stop."""
        line = clean_line(raw.rstrip("\r\n"))
        stripped = line.strip()
        if not stripped:
            return True
        if stripped.startswith(":"):
            return await self._meta(stripped)
        if re.fullmatch(r"#[\w.-]+", stripped):
            if self._name_fits(stripped[1:]):
                self.channel = stripped[1:]
            return True
        speaker = self.user
        match = re.match(r"^@([\w.-]+):\s?(.*)$", stripped)
        if match:
            speaker, stripped = match.group(1), match.group(2)
            if not self._name_fits(speaker):
                return True
        await self._say(speaker, stripped)
        return True

    def _name_fits(self, name: str) -> bool:
        """True when ``name`` can name a user or a channel; otherwise a note says why not."""
        if 0 < len(name) <= MAX_NAME:
            return True
        self._note(
            self.t.gettext(
                "A user or channel name holds 1 to {limit} characters; this line was ignored.",
                limit=MAX_NAME,
            )
        )
        return False

    def _number(self, text: str, example: str) -> int | None:
        """A message number written with the digits 0-9; otherwise a note says how to write it."""
        number = ascii_number(text)
        if number is None:
            self._note(
                self.t.gettext(
                    "“{value}” is not a message number: write it with the digits 0 to 9, as in "
                    "{example}.",
                    value=text[:40],
                    example=example,
                )
            )
        return number

    async def _say(self, speaker: str, text: str) -> None:
        number = self._next
        self._next += 1
        posted = _Posted(number, self.channel, speaker, text)
        self._messages[number] = posted
        self.out.write(f"[#{number}] #{self.channel} {speaker}: {text}\n")
        self.out.flush()
        self._write_journal(posted, token=None)
        actor = self.actor(speaker)
        ref = MessageRef(self.name, self.channel, str(number))
        now = self.clock.now()
        event: Event
        if text.startswith("/") and len(text) > 1:
            event = CommandEvent(actor=actor, place=self.place(), at=now, text=text[1:], ref=ref)
        else:
            event = MessageEvent(actor=actor, place=self.place(), text=text, ref=ref, at=now)
        await self._dispatch(event)

    async def _say_direct(self, speaker: str, text: str) -> None:
        """``speaker`` says ``text`` to the bot in private (``:dm texte``)."""
        number = self._next
        self._next += 1
        channel = f"@{speaker}"
        posted = _Posted(number, channel, speaker, text, speaker)
        self._messages[number] = posted
        self.out.write(f"[#{number}] @{speaker} (privé) {speaker}: {text}\n")
        self.out.flush()
        self._write_journal(posted, token=None)
        place = Place(self.name, channel, channel, is_direct=True)
        ref = MessageRef(self.name, channel, str(number))
        now = self.clock.now()
        actor = self.actor(speaker)
        event: Event
        if text.startswith("/") and len(text) > 1:
            event = CommandEvent(actor=actor, place=place, at=now, text=text[1:], ref=ref)
        else:
            event = MessageEvent(actor=actor, place=place, text=text, ref=ref, at=now)
        await self._dispatch(event)

    async def _dispatch(self, event: Event) -> None:
        assert self._handler is not None, "start() the platform first"
        await self._handler(event)
        if self.on_tick is not None:
            await self.on_tick()

    async def _meta(self, line: str) -> bool:
        word, _, rest = line.partition(" ")
        rest = rest.strip()
        if word == ":quit":
            return False
        if word == ":as" and rest:
            if self._name_fits(rest.lstrip("@")):
                self.user = rest.lstrip("@")
            return True
        if word in (":react", ":click"):
            parts = rest.split(None, 1)
            if len(parts) == 2:
                example = ":react 12 👍" if word == ":react" else ":click 12 1"
                number = self._number(parts[0], example)
                if number is not None and word == ":react":
                    await self._react(number, parts[1])
                elif number is not None:
                    await self._click(number, parts[1])
                return True
        if word == ":clock" and rest:
            await self._move_clock(rest)
            return True
        if word == ":dm" and rest:
            await self._say_direct(self.user, rest)
            return True
        self._note(
            self.t.gettext(
                "Unknown console line “{line}”. Known: :as NAME, :react N EMOJI, :click N K, "
                ":dm TEXT, :clock +2d3h, :clock 2026-12-03T09:00, :quit.",
                line=line,
            )
        )
        return True

    async def _react(self, number: int, emoji: str) -> None:
        posted = self._messages.get(number)
        if posted is None:
            self._note(self.t.gettext("There is no message #{n}.", n=number))
            return
        author = self.actor(posted.author) if posted.author != BOT_NAME else None
        place = Place(self.name, posted.channel, posted.channel, posted.direct_to is not None)
        event = ReactionEvent(
            actor=self.actor(self.user),
            place=place,
            at=self.clock.now(),
            ref=MessageRef(self.name, posted.channel, str(number)),
            emoji=emoji,
            message_author=author,
            message_text=posted.text,
        )
        await self._dispatch(event)

    async def _click(self, number: int, which: str) -> None:
        posted = self._messages.get(number)
        if posted is None or not posted.choices:
            self._note(self.t.gettext("Message #{n} has no choices to click.", n=number))
            return
        choice: dict[str, str] | None = None
        index = ascii_number(which)
        if index is not None and 1 <= index <= len(posted.choices):
            choice = posted.choices[index - 1]
        else:
            for candidate in posted.choices:
                if fold(candidate["label"]) == fold(which):
                    choice = candidate
        if choice is None:
            self._note(
                self.t.gettext(
                    "Message #{n} has no choice “{choice}”; give its number (1 to {count}) or "
                    "its label.",
                    n=number,
                    choice=which,
                    count=len(posted.choices),
                )
            )
            return
        place = Place(self.name, posted.channel, posted.channel, posted.direct_to is not None)
        event = ChoiceEvent(
            actor=self.actor(self.user),
            place=place,
            at=self.clock.now(),
            action=choice["action"],
            ref=MessageRef(self.name, posted.channel, str(number)),
        )
        await self._dispatch(event)

    async def _move_clock(self, text: str) -> None:
        from bot.dates import DateParseError, parse_clock_shift

        try:
            moment = parse_clock_shift(text, now=self.clock.now(), tz=self.t.tz)
            self.clock.move_to(moment)
        except (DateParseError, ValueError):
            self._note(
                self.t.gettext(
                    "Cannot move the clock to “{text}”: use +2d3h (forward) or "
                    "2026-12-03T09:00; the clock never goes back.",
                    text=text,
                )
            )
            return
        self._note(self.t.gettext("clock: {date}", date=self.t.datetime(self.clock.now())))
        if self.on_tick is not None:
            await self.on_tick()


def _text(reply: Reply) -> str:
    """The reply's text, its mentions written as console users are named (``@alice``)."""
    return render_mentions(reply.text, reply.ping, lambda mention: f"@{mention.user_id}")


async def run_lines(platform: ConsolePlatform, lines: AsyncIterator[str]) -> None:
    """Feed every line to the console until ``:quit`` or the end of input."""
    async for line in lines:
        if not await platform.feed_line(line):
            break
