"""/profile email: receive the digest, the gazette and session invitations by email.

``/profile email adresse@exemple.fr`` sends a confirmation code to that address (nothing else is
ever sent to an address not confirmed); ``/profile email confirm CODE`` confirms it (codes
expire after 30 minutes and allow 5 attempts); ``/profile email digest|gazette|sessions|tout|aucun``
chooses what to receive (several words may be given); ``/profile email remove`` forgets the
address. ``/profile email`` alone shows where things stand (a disabled address says why).
"""

from __future__ import annotations

from bot import mail
from bot.context import Context
from bot.core import Reply, UserError
from bot.i18n import N_
from bot.registry import Args, Option, command
from bot.storage.email import EmailSubscriber

_CONFIRM = ("confirmer", "confirm")
_REMOVE = ("retirer", "remove", "supprimer", "delete")
_CHOICES = {
    "digest": ("digest",),
    "veille": ("digest",),
    "gazette": ("gazette",),
    "sessions": ("sessions",),
    "seances": ("sessions",),
    "séances": ("sessions",),
    "tout": ("digest", "gazette", "sessions"),
    "all": ("digest", "gazette", "sessions"),
    "aucun": (),
    "rien": (),
    "none": (),
}

CODE_SUBJECT = N_("Your confirmation code for {network}")
CODE_TEXT = N_(
    "Hello,\n\n{name} asked, from the chat of {network}, to receive its news at this address.\n\n"
    "To confirm, type in the chat:\n\n    /profile email confirm {code}\n\n"
    "This code is valid for 30 minutes. If you did not ask for it, ignore this email: nothing "
    "more will be sent to you."
)


def _what(ctx: Context, row: EmailSubscriber) -> str:
    chosen = [
        label
        for wanted, label in (
            (row.wants_digest, ctx._("the weekly digest")),
            (row.wants_gazette, ctx._("the gazette")),
            (row.wants_sessions, ctx._("session invitations")),
        )
        if wanted
    ]
    return ", ".join(chosen) if chosen else ctx._("nothing for now")


def status_lines(ctx: Context) -> list[str]:
    """What ``/profil`` shows about email (nothing when the member gave no address)."""
    row = mail.subscriber_of_member(ctx.db, ctx.member.id)
    if row is None:
        return [ctx._("- Email: none (see /profile email)")]
    if row.disabled_at is not None:
        return [
            ctx._(
                "- Email: {address}, disabled on {date} after refusals by its server ({reason}); "
                "give it again with /profile email {address}",
                address=row.address,
                date=ctx.t.date(row.disabled_at),
                reason=row.disabled_reason or "?",
            )
        ]
    if row.confirmed_at is None:
        return [ctx._("- Email: {address}, waiting for its code", address=row.address)]
    return [ctx._("- Email: {address}, receives {what}", address=row.address, what=_what(ctx, row))]


@command(
    "email",
    "email",
    N_(
        "Receive the digest, the gazette and session invitations by email: give your address, "
        "confirm the code, choose what you receive, or remove it."
    ),
    options=[
        Option(
            "action",
            "action",
            N_("Your address; or confirm CODE; digest, gazette, sessions, all or none; or remove."),
            positional=True,
        ),
        Option(
            "valeurs",
            "values",
            N_("The code, or more choices."),
            positional=True,
            variadic=True,
        ),
    ],
    examples=(
        "/profil email camille@mairie-exemple.fr",
        "/profil email confirmer 123456",
        "/profil email digest gazette",
        "/profil email retirer",
    ),
    group="profil",
    group_alias="profile",
)
def email(ctx: Context, args: Args) -> Reply:
    action = (args.get("action") or "").strip()
    values = [str(v) for v in args.get("valeurs") or ()]
    word = action.lower()
    if not action:
        if mail.subscriber_of_member(ctx.db, ctx.member.id) is None:
            # "see /profil email" would send the reader back here: say what to type instead
            return _private(
                ctx._(
                    "You have given no email address. To receive the digest, the gazette and "
                    "session invitations by email, type /profile email followed by your address, "
                    "for example /profile email camille@mairie-exemple.fr"
                )
            )
        return _private("\n".join(status_lines(ctx)))
    if word in _CONFIRM:
        if len(values) != 1:
            raise UserError(ctx._("Give the code you received: /profile email confirm 123456"))
        return _confirm(ctx, values[0])
    if word in _REMOVE:
        return _remove(ctx)
    if word in _CHOICES:
        return _choose(ctx, [word, *(v.lower() for v in values)])
    if "@" in action:
        return _subscribe(ctx, action)
    raise UserError(
        ctx._(
            "I do not understand “{word}”. Write your address (/profile email "
            "camille@mairie-exemple.fr), confirm CODE, digest, gazette, sessions, all, none "
            "or retirer.",
            word=action[:60],
        )
    )


def _private(text: str) -> Reply:
    return Reply(text=text, ephemeral=True)


def _subscribe(ctx: Context, typed: str) -> Reply:
    try:
        address = mail.normalize_address(typed)
    except mail.InvalidAddress:
        raise UserError(
            ctx._(
                "“{typed}” is not an email address I can use. Write it like "
                "/profile email camille@mairie-exemple.fr",
                typed=typed[:100],
            )
        ) from None
    now = ctx.now()
    row = mail.subscriber_of_member(ctx.db, ctx.member.id)
    holder = mail.subscriber_by_address(ctx.db, address)
    if holder is not None and (row is None or holder.id != row.id):
        raise UserError(
            ctx._(
                "{address} already receives emails from the network (given by someone else). "
                "Ask a coordinator if it is yours.",
                address=address,
            )
        )
    if row is not None and row.codes_sent >= mail.CODES_PER_ADDRESS and row.confirmed_at is None:
        raise UserError(
            ctx._(
                "I already sent {count} codes without a confirmation; I will not send more. Ask a "
                "coordinator.",
                count=row.codes_sent,
            )
        )
    if row is None:
        row = EmailSubscriber(
            address=address,
            name=ctx.member.display_name,
            member_id=ctx.member.id,
            unsubscribe_token=mail.new_token(),
            codes_sent=0,
            code_attempts=0,
            bounces=0,
            created_at=now,
            updated_at=now,
        )
        ctx.db.add(row)
    elif row.address == address and row.confirmed_at is not None and row.disabled_at is None:
        return _private(ctx._("{address} is already confirmed.", address=address))
    row.address = address
    row.name = ctx.member.display_name
    row.locale = ctx.member.locale
    row.confirmed_at = None
    row.disabled_at = None
    row.disabled_reason = None
    row.bounces = 0
    ctx.db.flush()
    code = mail.new_code()
    row.code_hash = mail.hash_code(row.id, code)
    row.code_expires_at = now + mail.CODE_TTL
    row.code_attempts = 0
    row.codes_sent += 1
    row.updated_at = now
    t = ctx.translator_for(ctx.member)
    network = ctx.settings.network.name
    mail.queue(
        ctx.db,
        mail.Mailing(
            key=f"code:{row.id}:{row.code_hash[:16]}",  # one mailing per code
            kind="code",
            subject=t.gettext(CODE_SUBJECT, network=network),
            text=t.gettext(CODE_TEXT, name=ctx.member.display_name, network=network, code=code),
        ),
        [row.id],
        now,
    )
    ctx.changed.add("outbox")
    if ctx.settings.email is None:
        note = ctx._(" (Email is not set up on this network yet: it will leave once it is.)")
    else:
        note = ""
    return _private(
        ctx._(
            "I sent a code to {address}. Type /profile email confirm CODE within 30 minutes.",
            address=address,
        )
        + note
    )


def _confirm(ctx: Context, code: str) -> Reply:
    row = mail.subscriber_of_member(ctx.db, ctx.member.id)
    if row is None or (row.code_hash is None and row.confirmed_at is None):
        raise UserError(ctx._("Give your address first: /profile email camille@mairie-exemple.fr"))
    if row.code_hash is None:
        return _private(ctx._("{address} is already confirmed.", address=row.address))
    now = ctx.now()
    if row.code_expires_at is None or row.code_expires_at < now:
        raise UserError(
            ctx._(
                "This code has expired. Ask for a new one: /profile email {address}",
                address=row.address,
            )
        )
    if row.code_attempts >= mail.CODE_ATTEMPTS:
        raise UserError(
            ctx._(
                "Too many wrong codes: this one no longer works. Ask for a new one: "
                "/profile email {address}",
                address=row.address,
            )
        )
    if not mail.code_matches(row, code):
        # A reply, not a refusal: the attempt must be counted (a refusal rolls back).
        row.code_attempts += 1
        row.updated_at = now
        left = mail.CODE_ATTEMPTS - row.code_attempts
        if left <= 0:
            return _private(
                ctx._(
                    "Wrong code, and that was the last attempt. Ask for a new one: "
                    "/profile email {address}",
                    address=row.address,
                )
            )
        return _private(
            ctx.t.ngettext("Wrong code. {n} attempt left.", "Wrong code. {n} attempts left.", left)
        )
    row.confirmed_at = now
    row.code_hash = None
    row.code_expires_at = None
    row.code_attempts = 0
    row.codes_sent = 0
    row.basis = (
        f"confirmed with a code sent to the address, asked by {ctx.member.platform} member "
        f"{ctx.member.user_id} ({ctx.member.display_name}) on {now.isoformat(timespec='seconds')}"
    )
    row.updated_at = now
    return _private(
        ctx._(
            "Confirmed: {address} will receive {what}. Choose with /profile email digest, "
            "gazette, sessions, all or none.",
            address=row.address,
            what=_what(ctx, row),
        )
    )


def _choose(ctx: Context, words: list[str]) -> Reply:
    row = mail.subscriber_of_member(ctx.db, ctx.member.id)
    if row is None:
        raise UserError(ctx._("Give your address first: /profile email camille@mairie-exemple.fr"))
    unknown = [w for w in words if w not in _CHOICES]
    if unknown:
        raise UserError(
            ctx._(
                "I do not know “{word}”: choose among digest, gazette, sessions, all and none.",
                word=unknown[0][:60],
            )
        )
    chosen = {c for w in words for c in _CHOICES[w]}
    row.wants_digest = "digest" in chosen
    row.wants_gazette = "gazette" in chosen
    row.wants_sessions = "sessions" in chosen
    row.updated_at = ctx.now()
    return _private(
        ctx._("Done: {address} will receive {what}.", address=row.address, what=_what(ctx, row))
    )


def _remove(ctx: Context) -> Reply:
    row = mail.subscriber_of_member(ctx.db, ctx.member.id)
    if row is None:
        return _private(ctx._("I have no email address for you."))
    t = ctx.translator_for(ctx.member)
    address = mail.forget(ctx.db, row, t, ctx.settings.network.name, ctx.now())
    ctx.changed.add("outbox")
    return _private(
        ctx._("Done: I forgot {address}; nothing more will be sent to it.", address=address)
    )


__all__ = ["email", "status_lines"]
