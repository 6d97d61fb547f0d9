"""A new dealership starts in its language: `leadcore init/demo --language de` (default
LEADCORE_LANGUAGE) stores it as the dealership's default and names the sources the product
ships in it. Sources are the dealership's own list (renamed, reordered in Settings → Sources),
so they are data in one language, unlike the system completion reasons, which are shown in each
reader's language until a manager renames them (leadcore.admin.reasons.shown_label)."""
from __future__ import annotations

import duckdb

from leadcore import db, i18n
from leadcore.admin import settings
from leadcore.i18n import N_, _

# The sources migration 0002 ships with English names; brand names stay as they are.
SHIPPED_SOURCES = (N_("Website form"), N_("Phone"), N_("Walk-in"), N_("E-mail"))


def start_in(cur: duckdb.DuckDBPyConnection, language: str) -> str:
    """Make `language` the dealership's and rename the shipped sources still carrying their
    English name. Returns the language stored."""
    code = i18n.normalise(language)
    if code is None:
        raise ValueError(f"leadcore speaks {', '.join(i18n.LANGUAGES)}, not {language!r}")

    def work(c: duckdb.DuckDBPyConnection) -> None:
        settings.put(c, "language", code)
        with i18n.using(code):
            for english in SHIPPED_SOURCES:
                c.execute("UPDATE sources SET name = ? WHERE name = ?", [_(english), english])

    db.write(cur, work)
    return code
