"""The one translation function: every text the UI shows passes through `_`.

English is the source language; a German catalogue is added by extracting the messages
(`make messages`) and compiling `leadcore/locale/de/LC_MESSAGES/leadcore.po`, with no page touched.
"""
from __future__ import annotations

import gettext
import os
from functools import lru_cache
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "leadcore"


@lru_cache(maxsize=8)
def _translation(language: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)


def language() -> str:
    return os.environ.get("LEADCORE_LANGUAGE", "en")


def _(message: str) -> str:
    """Translate a UI text into the configured language (LEADCORE_LANGUAGE, default English)."""
    return _translation(language()).gettext(message)


def N_(message: str) -> str:
    """Marks a text for extraction whose translation happens later, where it is shown."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for `n`, as the language counts."""
    return _translation(language()).ngettext(singular, plural, n)
