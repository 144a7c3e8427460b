"""Refresh the gettext catalogs from the source (developer tool).

    python scripts/catalogs.py          # update bot/locale/*/LC_MESSAGES/tisserand.po
    python scripts/catalogs.py --check  # exit 1 when a message lacks a translation

Message ids are English. New ids get an English translation equal to the id; French ones are left
empty (and reported) until a person translates them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("bot", "commands", "digests")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "N_plural": (1, 2)}
LOCALE_DIR = ROOT / "bot" / "locale"


def extract() -> Catalog:
    template = Catalog(project="tisserand", charset="utf-8")
    for source in SOURCES:
        for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / source,
            method_map=[("**.py", "python")],
            keywords=KEYWORDS,
            comment_tags=("TRANSLATORS:",),
        ):
            template.add(
                message,
                None,
                [(f"{source}/{filename}", lineno)],
                auto_comments=comments,
                context=context,
                flags=("python-brace-format",),
            )
    return template


def update(check: bool) -> int:
    template = extract()
    missing = 0
    for locale in ("fr", "en"):
        path = LOCALE_DIR / locale / "LC_MESSAGES" / "tisserand.po"
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=locale)
        else:
            catalog = Catalog(locale=locale, project="tisserand", charset="utf-8")
        catalog.update(template, no_fuzzy_matching=True)
        for message in catalog:
            if not message.id:
                continue
            message.flags.discard("fuzzy")
            empty = not message.string or (
                isinstance(message.string, tuple) and not all(message.string)
            )
            if empty and locale == "en":
                message.string = message.id
            elif empty:
                missing += 1
                print(f"{locale}: untranslated: {message.id!r}", file=sys.stderr)
        catalog.obsolete.clear()
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as handle:
                write_po(
                    handle,
                    catalog,
                    width=100,
                    sort_output=True,
                    omit_header=False,
                    include_previous=False,
                )
    return 1 if (check and missing) else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    sys.exit(update(parser.parse_args().check))
