"""How members are shown to each other: a line of the directory, a profile in an introduction."""

from __future__ import annotations

from collections.abc import Sequence

from bot.i18n import N_, Translator, fold
from bot.storage.members import Member
from bot.storage.profiles import MemberProfile

CATEGORY_LABELS = {
    "elu": N_("elected official"),
    "agent": N_("public agent"),
    "association": N_("association"),
    "partenaire": N_("partner"),
}
"""The member categories of ``/categorie`` (the same words as the sessions' quotas)."""

CATEGORY_WORDS = {
    **dict.fromkeys(("elu", "elue", "elus", "elues", "elected", "official", "officials"), "elu"),
    **dict.fromkeys(("agent", "agents", "agente", "agentes"), "agent"),
    **dict.fromkeys(("association", "associations", "asso", "assos"), "association"),
    **dict.fromkeys(("partenaire", "partenaires", "partner", "partners"), "partenaire"),
}

PRESENTATION_PREVIEW = 160


def category_label(t: Translator, category: str | None) -> str | None:
    if category is None:
        return None
    return t.gettext(CATEGORY_LABELS.get(category, category))


def category_of_word(text: str) -> str | None:
    """The category a directory filter names (``élues``, ``agents``, ``partner``), or None."""
    return CATEGORY_WORDS.get(fold(text.strip()))


def short(text: str, limit: int = PRESENTATION_PREVIEW) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def member_card(
    t: Translator,
    member: Member,
    profile: MemberProfile | None,
    referent_for: Sequence[str] = (),
    *,
    full: bool = False,
) -> str:
    """A member in a few lines: name, category, organisation, territory; interests; referent
    roles; the presentation (cut unless ``full``)."""
    heading = [f"**{member.display_name}**"]
    details = [
        value
        for value in (
            category_label(t, member.category),
            profile.organisation if profile else None,
            profile.territory if profile else None,
        )
        if value
    ]
    lines = [" — ".join([heading[0], " · ".join(details)]) if details else heading[0]]
    if profile is not None and profile.interests:
        lines.append("  " + t.gettext("Interests: {themes}", themes=", ".join(profile.interests)))
    if referent_for:
        lines.append("  " + t.gettext("Referent for: {themes}", themes=", ".join(referent_for)))
    if profile is not None and profile.presentation:
        text = profile.presentation if full else short(profile.presentation)
        lines.append("  " + text.replace("\n", "\n  "))
    return "\n".join(lines)
