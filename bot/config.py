"""Configuration: a TOML file plus ``TISSERAND_*`` environment variables.

Secrets (tokens, passwords) never live in the TOML file: they come from the environment
(``TISSERAND_ROCKETCHAT_PASSWORD``, ``TISSERAND_ROCKETCHAT_TOKEN``, ``TISSERAND_DISCORD_TOKEN``) or from
a file named by ``*_FILE`` variables. Every problem is reported with the key that holds it.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from bot.core import ConfigError, InvalidValue
from bot.i18n import N_, SUPPORTED_LOCALES, Translator


class Problem(str):
    """The explanation of a configuration problem: English text that the CLI translates.

    It is a ``str`` (the English text, with its parameters filled in) so that logs and
    :class:`ConfigError` keep working; :func:`explain` gives it in the reader's language.
    """

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, /, **params: Any) -> Problem:
        problem = super().__new__(cls, msgid.format(**params) if params else msgid)
        problem.msgid = msgid
        problem.params = params
        return problem


def explain(t: Translator, problem: str) -> str:
    """A problem in the reader's language (texts that are not in the catalogs stay as they are)."""
    if isinstance(problem, Problem):
        return t.gettext(problem.msgid, **problem.params)
    return t.gettext(problem)


_SIMPLE_ERRORS: dict[str, str] = {
    "missing": N_("required: add this key"),
    "extra_forbidden": N_(
        "unknown key: check its spelling and its section against config/tisserand.example.toml"
    ),
    "int_parsing": N_("expected a whole number, for example 30"),
    "int_type": N_("expected a whole number, for example 30"),
    "int_from_float": N_("expected a whole number, for example 30"),
    "float_parsing": N_("expected a number, for example 2.5"),
    "float_type": N_("expected a number, for example 2.5"),
    "finite_number": N_("expected an ordinary number, not nan or inf, for example 2.5"),
    "bool_parsing": N_("expected true or false"),
    "bool_type": N_("expected true or false"),
    "string_type": N_('expected text between quotes, for example "Europe/Paris"'),
    "list_type": N_("expected a list between brackets, for example [24, 1]"),
    "dict_type": N_("expected a section of keys, for example [feeds]"),
    "model_type": N_("expected a section of keys, for example [feeds]"),
    "model_attributes_type": N_("expected a section of keys, for example [feeds]"),
    "path_type": N_("expected a path between quotes"),
}

_LIMIT_ERRORS: dict[str, tuple[str, str]] = {
    "greater_than_equal": ("ge", N_("must be at least {limit}")),
    "greater_than": ("gt", N_("must be more than {limit}")),
    "less_than_equal": ("le", N_("must be at most {limit}")),
    "less_than": ("lt", N_("must be less than {limit}")),
    "too_short": ("min_length", N_("must hold at least {limit} items")),
    "too_long": ("max_length", N_("must hold at most {limit} items")),
    "string_too_short": ("min_length", N_("must be at least {limit} characters long")),
    "string_too_long": ("max_length", N_("must be at most {limit} characters long")),
}


def explain_validation(error: Mapping[str, Any]) -> str:
    """One pydantic error as a :class:`Problem` the CLI can translate (its English otherwise)."""
    kind = str(error.get("type", ""))
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    if kind in _SIMPLE_ERRORS:
        return Problem(_SIMPLE_ERRORS[kind])
    if kind in _LIMIT_ERRORS:
        name, msgid = _LIMIT_ERRORS[kind]
        if name in ctx:
            return Problem(msgid, limit=ctx[name])
    if kind in ("literal_error", "enum") and "expected" in ctx:
        return Problem(N_("must be one of: {expected}"), expected=ctx["expected"])
    if kind == "value_error" and isinstance(ctx.get("error"), ValueError):
        reason = ctx["error"].args[0] if ctx["error"].args else ""
        if isinstance(reason, str) and reason:
            return reason
    return str(error.get("msg", kind))


def validation_problems(exc: ValidationError, *prefix: str) -> list[tuple[str, str]]:
    """Every error of ``exc`` as ``(key, problem)``, the key prefixed by ``prefix``."""
    return [(".".join([*prefix, *map(str, e["loc"])]), explain_validation(e)) for e in exc.errors()]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


MAX_NAME = 128
"""The longest user or channel name the database holds (``user_id``, ``channel_id``)."""
Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME)]


class NetworkSettings(_Section):
    name: str = Field(default="Réseau Tisserand", min_length=1, max_length=200)
    timezone: str = Field(default="Europe/Paris", max_length=64)
    locale: str = "fr"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise InvalidValue(
                Problem(
                    N_("unknown time zone “{value}”: use an IANA name such as Europe/Paris"),
                    value=value,
                )
            ) from None
        return value

    @field_validator("locale")
    @classmethod
    def _supported_locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise InvalidValue(
                Problem(N_("must be one of: {expected}"), expected=", ".join(SUPPORTED_LOCALES))
            )
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class ConsoleSettings(_Section):
    user: Name = "camille"
    channel: Name = "general"
    out_dir: Path = Path("tisserand-out")


class ConsoleRoles(_Section):
    coordinators: list[Name] = Field(default_factory=lambda: ["camille"])


class RolesSettings(_Section):
    """Console roles. Rocket.Chat and Discord roles live in their own sections
    (``[rocketchat] coordinator_roles``, ``[discord] coordinator_roles``)."""

    console: ConsoleRoles = ConsoleRoles()


class OutboxSettings(_Section):
    grace_minutes: int = Field(default=24 * 60, ge=0)
    """A message missed while the bot was down is still sent if it is at most this late."""
    max_attempts: int = Field(default=12, ge=1)
    retry_base_seconds: float = Field(default=5.0, gt=0)
    retry_cap_seconds: float = Field(default=3600.0, gt=0)
    lease_seconds: float = Field(default=300.0, ge=1, le=24 * 3600)
    """How long a sender keeps a message it is sending before another may take it over: longer
    than a platform call with its timeouts (the call is not awaited past it)."""


class LeaseSettings(_Section):
    """One active instance per database (``bot.lease``)."""

    poll_seconds: float = Field(default=2.0, ge=0.05, le=60)
    """How often a standing-by instance tries to take the lease over, and how often the active
    one checks it still holds it."""


class WebSettings(_Section):
    """The bot's HTTP server (``bot.web``): ``/healthz``, ``/readyz``, ``/metrics``."""

    enabled: bool = False
    host: str = Field(default="127.0.0.1", min_length=1, max_length=255)
    """Loopback unless configured: the metrics name channels and platforms."""
    port: int = Field(default=8080, ge=0, le=65535)
    public_url: str | None = Field(default=None, max_length=2000)
    """The address people reach this server at (links it writes, e.g. one-click unsubscribe)."""


class PollSettings(_Section):
    creators: Literal["coordinators", "everyone"] = "coordinators"
    grades: int = Field(default=7, ge=5, le=7)


class SessionSettings(_Section):
    reminder_hours: list[int] = Field(default_factory=lambda: [24, 1])
    """Reminders to confirmed members, in hours before the start."""

    @field_validator("reminder_hours")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if any(hours < 1 or hours > 24 * 60 for hours in value):
            raise InvalidValue(
                Problem(N_("each reminder is between 1 and 1440 hours before the start"))
            )
        return sorted(set(value), reverse=True)


class FeedSettings(_Section):
    allow_private_networks: bool = False
    refresh_minutes: int = Field(default=60, ge=5)
    concurrency: int = Field(default=8, ge=1, le=256)
    """Feeds fetched at once during a refresh."""
    parse_processes: int | None = Field(default=None, ge=0, le=64)
    """Worker processes that parse feeds (None: one per CPU; 0: a thread, no process)."""
    parse_timeout_seconds: float = Field(default=20.0, gt=0)
    """Time limit to parse one feed; past it the feed is recorded as failed."""
    retry_base_minutes: int = Field(default=15, ge=1)
    """First delay after a failure; it doubles with each consecutive failure (at most a day)."""
    max_failures: int = Field(default=10, ge=1)
    """Consecutive failures after which a source is disabled (coordinators are told)."""
    max_entries_per_feed: int = Field(default=100, ge=1)
    max_entry_age_days: int = Field(default=14, ge=1)
    """Entries published longer ago than this before a digest are left out of it."""
    top_per_theme: int = Field(default=5, ge=1)
    """Feed entries per theme in a digest (pinned items and members' shares always appear)."""
    digest_weekday: int = Field(default=0, ge=0, le=6)
    """Default digest day (0 is Monday) for channels without ``/digest programmer``."""
    digest_hour: int = Field(default=9, ge=0, le=23)
    digest_minute: int = Field(default=0, ge=0, le=59)
    empty_digest: Literal["skip", "line"] = "skip"
    """A week with nothing new posts nothing (``skip``) or a short line (``line``)."""
    templates_dir: Path | None = None
    """A directory whose ``digest.md.j2`` / ``digest.html.j2`` replace the built-in ones."""


class HighlightSettings(_Section):
    """Highlights and the gazette (``[highlights]``)."""

    reaction: str = Field(default="📰", min_length=1, max_length=64)
    """The reaction that proposes a message for the gazette."""
    reaction_aliases: list[Annotated[str, StringConstraints(max_length=64)]] = Field(
        default_factory=lambda: [":newspaper:"]
    )
    """Other spellings of the same reaction (Rocket.Chat sends short codes)."""
    threshold: int = Field(default=3, ge=1)
    """Distinct members whose reaction records a message (one coordinator is enough)."""
    max_images: int = Field(default=4, ge=0, le=20)
    """Images kept per highlight."""
    max_image_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    """Largest image accepted (downloaded or attached), in bytes."""
    max_quote_chars: int = Field(default=2000, ge=50)
    remember_hours: int = Field(default=48, ge=0)
    """How long the bot remembers channel messages so that ``/pepite --message N`` can point
    at one (0: never; only reactions, context menus and typed texts then work)."""
    default_days: int = Field(default=30, ge=1)
    """Period of a first draft gazette when no date is given."""
    name_newcomers: bool = True
    """Name the members who joined in the gazette (False: only their number)."""


class PrivacySettings(_Section):
    """How long data that is only useful for a while is kept (purged by scheduled work)."""

    feed_entries_days: int = Field(default=180, ge=15)
    """Entries of the watched feeds (not the links members shared) older than this are deleted."""
    direct_messages_days: int = Field(default=90, ge=1)
    """Texts of direct messages already sent (or given up) are deleted after this."""
    recent_messages_hours: int = Field(default=48, ge=0)
    """Channel messages remembered for /pepite --message are deleted after this (at most
    ``[highlights] remember_hours`` is useful)."""
    cursors_days: int = Field(default=90, ge=1)
    """Where the bot stopped reading a room it has not heard from for this long is forgotten."""


class GazetteSettings(_Section):
    """The gazette after an event, its drafts and its files (``[gazette]``)."""

    session_window_hours: int = Field(default=48, ge=0, le=24 * 31)
    """A session's gazette gathers what was said from its start to this long after its end."""
    coordination_channel: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    """Where drafts are shown (a channel of coordinators); unset: privately to the coordinator."""
    pdf: bool = False
    """Also make an A4 PDF of a published gazette with headless Chromium (archived beside it)."""
    chromium: str = Field(default="chromium", min_length=1, max_length=500)
    """The Chromium program (a name found in PATH, or a path) that prints the PDF."""


def _mail_address(value: str) -> str:
    """An address the configuration names (``[email] sender``, ``reply_to``), normalised."""
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        raise InvalidValue(
            Problem(N_("not an email address: write it as name@example.org"))
        ) from None


class EmailSettings(_Section):
    """``[email]``: the SMTP server that sends the digest, the gazette and session invitations
    by email. The section present enables email; the password comes from
    ``TISSERAND_SMTP_PASSWORD`` (or ``TISSERAND_SMTP_PASSWORD_FILE``)."""

    host: str = Field(min_length=1, max_length=253)
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    """``starttls`` (port 587, required upgrade), ``tls`` (port 465, TLS from the start) or
    ``none`` (a relay on the same machine or network only)."""
    username: str | None = Field(default=None, max_length=320)
    sender: str = Field(max_length=320)
    reply_to: str | None = Field(default=None, max_length=320)
    messages_per_minute: int = Field(default=60, ge=1, le=100_000)
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    max_bounces: int = Field(default=3, ge=1, le=100)
    """Permanent refusals in a row after which an address is disabled."""
    unsubscribe_url: str | None = Field(default=None, max_length=500)
    """Base of the one-click unsubscribe link (RFC 8058) when something else serves it; the token
    is appended. Unset: the bot's own page (``[web] public_url`` + ``/unsubscribe/``) when
    ``[web]`` is enabled with a ``public_url``, else only the mailto unsubscribe is offered."""
    validate_certs: bool = True

    @field_validator("sender", "reply_to")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return None if value is None else _mail_address(value)

    @field_validator("unsubscribe_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise InvalidValue(Problem(N_("must be an https:// address")))
        return value


class Settings(_Section):
    data_dir: Path = Path("tisserand-data")
    database_url: str | None = Field(default=None, max_length=2000)
    network: NetworkSettings = NetworkSettings()
    console: ConsoleSettings = ConsoleSettings()
    roles: RolesSettings = RolesSettings()
    outbox: OutboxSettings = OutboxSettings()
    lease: LeaseSettings = LeaseSettings()
    web: WebSettings = WebSettings()
    polls: PollSettings = PollSettings()
    sessions: SessionSettings = SessionSettings()
    feeds: FeedSettings = FeedSettings()
    highlights: HighlightSettings = HighlightSettings()
    privacy: PrivacySettings = PrivacySettings()
    gazette: GazetteSettings = GazetteSettings()
    rocketchat: dict[str, Any] | None = None
    """Validated by the Rocket.Chat platform module (``[rocketchat]``)."""
    discord: dict[str, Any] | None = None
    """Validated by the Discord platform module (``[discord]``)."""
    email: EmailSettings | None = None
    """``[email]``: present, email delivery is enabled."""

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str | None) -> str | None:
        if value is None:
            return None
        not_a_url = Problem(
            N_("not a database URL: write sqlite:///path/file.sqlite3 or postgresql://user@host/db")
        )
        scheme, found, _ = value.partition("://")
        if not found:
            raise InvalidValue(not_a_url)
        if scheme.lower() not in SUPPORTED_DATABASES:
            raise InvalidValue(
                Problem(
                    N_(
                        "unsupported database “{scheme}”: Tisserand works with SQLite "
                        "(sqlite:///path/file.sqlite3) or PostgreSQL (postgresql://user@host/db)"
                    ),
                    scheme=scheme[:40],
                )
            )
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(normalize_database_url(value))
        except (ArgumentError, ValueError):
            raise InvalidValue(not_a_url) from None
        return value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return normalize_database_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'tisserand.sqlite3').as_posix()}"

    def platform_sections(self) -> dict[str, dict[str, Any]]:
        """The raw section of each platform the configuration enables (validated by the
        platform's own settings model)."""
        sections = {"rocketchat": self.rocketchat, "discord": self.discord}
        return {name: section for name, section in sections.items() if section is not None}

    def configured_platforms(self) -> list[str]:
        return list(self.platform_sections())


SUPPORTED_DATABASES = ("sqlite", "sqlite+pysqlite", "postgres", "postgresql", "postgresql+psycopg")
"""The URL schemes of the databases Tisserand runs on (psycopg 3 for PostgreSQL)."""


def normalize_database_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


_SECRET_VARIABLES = {"email": "TISSERAND_SMTP_PASSWORD"}


def load_settings(
    path: str | Path | None = None,
    *,
    database_url: str | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read the configuration. Raises :class:`ConfigError` naming every bad key."""
    env = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    file_path = (
        Path(path)
        if path
        else (Path(env["TISSERAND_CONFIG"]) if env.get("TISSERAND_CONFIG") else None)
    )
    if file_path is not None:
        try:
            # utf-8-sig: a byte order mark, which some editors write, is not part of the TOML.
            raw = tomllib.loads(file_path.read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            raise ConfigError(
                [("--config", Problem(N_("file not found: {path}"), path=file_path))]
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                [(str(file_path), Problem(N_("not valid TOML: {reason}"), reason=exc))]
            ) from None
        except UnicodeDecodeError:
            raise ConfigError(
                [(str(file_path), Problem(N_("not UTF-8 text: save the file as UTF-8")))]
            ) from None
        base = file_path.parent
        if "data_dir" in raw and not Path(str(raw["data_dir"])).is_absolute():
            raw["data_dir"] = str(base / str(raw["data_dir"]))
    for secret_key in ("token", "password"):
        for section in ("rocketchat", "discord", "email"):
            if isinstance(raw.get(section), dict) and secret_key in raw[section]:
                raise ConfigError(
                    [
                        (
                            f"{section}.{secret_key}",
                            Problem(
                                N_(
                                    "secrets do not belong in the configuration file: remove "
                                    "this key and set {variable} in the environment"
                                ),
                                variable=_SECRET_VARIABLES.get(
                                    section, f"TISSERAND_{section.upper()}_{secret_key.upper()}"
                                ),
                            ),
                        )
                    ]
                )
    if env.get("TISSERAND_DATA_DIR"):
        raw["data_dir"] = env["TISSERAND_DATA_DIR"]
    url = database_url or env.get("TISSERAND_DATABASE_URL")
    if url:
        raw["database_url"] = url
    for key, value in (overrides or {}).items():
        raw[key] = value
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc)) from None


_KNOWN_SECRETS: set[str] = set()


def known_secrets() -> frozenset[str]:
    """Every secret value read so far (the logs replace them, :mod:`bot.logs`)."""
    return frozenset(_KNOWN_SECRETS)


def read_secret(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """A secret from ``TISSERAND_<NAME>`` or from the file named by ``TISSERAND_<NAME>_FILE``."""
    value = _read_secret(name, environ)
    if value:
        _KNOWN_SECRETS.add(value)
    return value


def _read_secret(name: str, environ: Mapping[str, str] | None) -> str | None:
    env = os.environ if environ is None else environ
    value = env.get(f"TISSERAND_{name}")
    if value:
        return value.strip()
    file_name = env.get(f"TISSERAND_{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                [
                    (
                        f"TISSERAND_{name}_FILE",
                        Problem(
                            N_("cannot read {path}: {reason}"), path=file_name, reason=exc.strerror
                        ),
                    )
                ]
            ) from None
    return None
