"""Fail when a catalog is incomplete or its compiled .mo is stale; --compile writes the .mo files.

Catalogs: src/opsassure/locale/<lang>/LC_MESSAGES/django.po for zh_Hans and en. Every entry
must have a translation and none may be fuzzy. The .mo files are committed (so a fresh clone
needs no gettext tools) and compiled with polib.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parent.parent / "src" / "opsassure" / "locale"
LANGUAGES = ("zh_Hans", "en")


def main() -> int:
    compile_mo = "--compile" in sys.argv
    problems: list[str] = []
    for language in LANGUAGES:
        po_path = LOCALE / language / "LC_MESSAGES" / "django.po"
        if not po_path.exists():
            problems.append(f"{po_path} is missing")
            continue
        catalog = polib.pofile(str(po_path))
        for entry in catalog:
            if entry.obsolete:
                continue
            if "fuzzy" in entry.flags:
                problems.append(f"{language}: fuzzy: {entry.msgid!r}")
            elif entry.msgid_plural:
                if not all(entry.msgstr_plural.values()):
                    problems.append(f"{language}: untranslated plural: {entry.msgid!r}")
            elif not entry.msgstr:
                problems.append(f"{language}: untranslated: {entry.msgid!r}")
        mo_path = po_path.with_suffix(".mo")
        if compile_mo:
            catalog.save_as_mofile(str(mo_path))
        else:
            fresh = catalog.to_binary()
            if not mo_path.exists() or mo_path.read_bytes() != fresh:
                problems.append(f"{mo_path} is stale: run `make messages`")
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} translation problem(s)")
        return 1
    print("translations complete: " + ", ".join(LANGUAGES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
