"""/idee (/idea) and /idees (/ideas): the ideas box, the network's "propositions d'évolution".

A member proposes an idea in a channel (``/idee "texte"``); it is posted there through the
outbox (key ``idea:<id>:post``) with the buttons "Je soutiens" and "Retirer mon soutien"
(``idea:<id>:support|withdraw``, also ``/idee soutenir N`` and ``/idee retirer N``). A member
supports an idea once (one row per member and idea; the author's proposal is their support).
``/idees`` lists them by support. ``--theme`` files an idea under one of the network's themes
(matched by the kernel's theme matcher); the theme's referents read it in their daily message. Coordinators give a status with ``/idee statut N
retenue|en-cours|realisee|ecartee "réponse"``; the author is told by direct message
(``idea:<id>:status:<k>``). Models in :mod:`bot.storage.ideas`.
"""

from __future__ import annotations

from bot.family import Family, ReportSection
from commands.ideas import data, handlers
from commands.ideas.report import report_ideas

__all__ = ["FAMILY"]

FAMILY = Family(
    name="ideas",
    handlers=(handlers,),
    outbox_topics=("idea",),
    report=(ReportSection("ideas", report_ideas),),
    member_data=data.MEMBER_DATA,
)
