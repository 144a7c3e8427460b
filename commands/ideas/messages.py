"""How ideas read: statuses by name (French and English), the posted proposal, list lines."""

from __future__ import annotations

from types import MappingProxyType

from bot.core import Choice, ChoiceStyle, Reply
from bot.i18n import N_, Translator, fold
from bot.storage.ideas import Idea, IdeaStatus

STATUS_LABELS = MappingProxyType(
    {
        IdeaStatus.PROPOSED: N_("proposed"),
        IdeaStatus.ACCEPTED: N_("accepted"),
        IdeaStatus.IN_PROGRESS: N_("in progress"),
        IdeaStatus.DONE: N_("done"),
        IdeaStatus.DECLINED: N_("declined"),
    }
)
STATUS_ICONS = MappingProxyType(
    {
        IdeaStatus.PROPOSED: "💡",
        IdeaStatus.ACCEPTED: "👍",
        IdeaStatus.IN_PROGRESS: "🛠️",
        IdeaStatus.DONE: "✅",
        IdeaStatus.DECLINED: "🚫",
    }
)
STATUS_WORDS = MappingProxyType(
    {
        "retenue": IdeaStatus.ACCEPTED,
        "accepted": IdeaStatus.ACCEPTED,
        "en-cours": IdeaStatus.IN_PROGRESS,
        "encours": IdeaStatus.IN_PROGRESS,
        "in-progress": IdeaStatus.IN_PROGRESS,
        "realisee": IdeaStatus.DONE,
        "done": IdeaStatus.DONE,
        "ecartee": IdeaStatus.DECLINED,
        "declined": IdeaStatus.DECLINED,
        "proposee": IdeaStatus.PROPOSED,
        "proposed": IdeaStatus.PROPOSED,
    }
)
"""What coordinators may type (folded: case and accents ignored, spaces as hyphens)."""
STATUS_CHOICES_FR = ("retenue", "en-cours", "realisee", "ecartee")
STATUS_CHOICES_EN = ("accepted", "in-progress", "done", "declined")


def read_status(text: str) -> IdeaStatus | None:
    return STATUS_WORDS.get(fold(text).strip().replace(" ", "-").replace("_", "-"))


def status_words(t: Translator) -> str:
    return ", ".join(STATUS_CHOICES_FR if t.locale == "fr" else STATUS_CHOICES_EN)


def status_label(t: Translator, status: str) -> str:
    return t.gettext(STATUS_LABELS[IdeaStatus(status)])


def supports_text(t: Translator, supports: int) -> str:
    return t.ngettext("{n} support", "{n} supports", supports)


def support_choices(t: Translator, idea_id: int) -> tuple[Choice, ...]:
    return (
        Choice(t.gettext("I support"), f"idea:{idea_id}:support", ChoiceStyle.PRIMARY, "🙌"),
        Choice(t.gettext("Withdraw my support"), f"idea:{idea_id}:withdraw"),
    )


def idea_post(t: Translator, idea: Idea, author: str) -> Reply:
    """The proposal as posted in its channel, with its buttons (in the network's language)."""
    text = "\n".join(
        [
            t.gettext("💡 **Idea {ref}** proposed by {name}", ref=t.ref(idea.id), name=author),
            "",
            idea.text,
            *([t.gettext("Theme: {theme}.", theme=idea.theme)] if idea.theme else []),
            "",
            t.gettext(
                "Support it with the button, or /idea support {n}. All ideas: /ideas.",
                n=idea.id,
            ),
        ]
    )
    return Reply(text=text, choices=support_choices(t, idea.id))


def idea_line(t: Translator, idea: Idea) -> str:
    line = t.gettext(
        "- {icon} **{ref}** — {text} ({supports}, {status})",
        icon=STATUS_ICONS[IdeaStatus(idea.status)],
        ref=t.ref(idea.id),
        text=idea.text if len(idea.text) <= 160 else idea.text[:159] + "…",
        supports=supports_text(t, idea.supports),
        status=status_label(t, idea.status),
    )
    if idea.theme:
        line += " · " + t.gettext("theme: {theme}", theme=idea.theme)
    if idea.response:
        line += "\n  " + t.gettext("↳ {response}", response=idea.response)
    return line
