"""English texts name the English commands (issue 15): a member reading English is told
``/profile email confirm``, never ``/profil email confirmer``, which only the French texts say.

The message ids are the English texts. Every word written ``/word`` in them that is the French
name of a command and not also an English one is a mistake this test names with its message.
"""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from bot.config import load_settings
from bot.wiring import make_app

CATALOG = Path(__file__).parent.parent / "bot" / "locale" / "en" / "LC_MESSAGES" / "tisserand.po"
SLASHED = re.compile(r"(?<![\w/.:])/([a-zà-ÿ][a-zà-ÿ-]*)")
"""``/profil`` in a sentence; not a path (``a/b``), not a link (``https://x/y``)."""


def _french_only_names(tmp_path: Path) -> set[str]:
    settings = load_settings(
        None,
        database_url=f"sqlite:///{tmp_path / 'names.db'}",
        environ={},
        overrides={"data_dir": str(tmp_path)},
    )
    specs = make_app(settings).registry.specs
    french = {spec.group or spec.name for spec in specs}
    english = {spec.group_alias or spec.alias for spec in specs}
    return french - english


def test_english_texts_name_the_english_commands(tmp_path: Path) -> None:
    french_only = _french_only_names(tmp_path)
    assert {"profil", "sondage", "aide"} <= french_only  # the test sees the registry
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    wrong = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        for text in ids:
            named = {m.group(1) for m in SLASHED.finditer(text)} & french_only
            if named:
                wrong.append(f"{sorted(named)}: {text[:90]}")
    assert wrong == [], "\n".join(wrong)
