"""The one translation function: every text the UI shows passes through `_`.

English is the source language. The German catalogue is `locale/de/LC_MESSAGES/leadcore.po`;
it is compiled here, in memory, the first time a process needs it and again whenever the .po is
newer, so there is no .mo in the repository that could go stale and no build step to forget.

Which language: Streamlit serves many people from one process, each script run on its own
thread, so the language is a ContextVar (each thread starts with an empty context) that
leadcore.ui.session sets at the start of every run from the signed-in user. Code outside a run
(the CLI, the scheduler writing mails) takes `using(language)` for the stretch it needs, or falls
back to the install default LEADCORE_LANGUAGE.
"""
from __future__ import annotations

import gettext
import io
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "leadcore"
# The languages a person can pick, by code, each named in its own language.
LANGUAGES = {"en": "English", "de": "Deutsch"}
DEFAULT = "en"

_active: ContextVar[str | None] = ContextVar("leadcore_language", default=None)
# Set by leadcore.ui.session: the language of the current Streamlit session for code that runs
# before a run has set the ContextVar (widget callbacks run first, on the run's fresh thread).
_session_language: Callable[[], str | None] | None = None


def install_default() -> str:
    """LEADCORE_LANGUAGE, when it names a language leadcore has; else English."""
    return normalise(os.environ.get("LEADCORE_LANGUAGE")) or DEFAULT


def normalise(code: str | None) -> str | None:
    """"de_DE.UTF-8", "de-AT", "DE" -> "de"; None for a language leadcore does not have."""
    if not code:
        return None
    short = code.strip().replace("-", "_").split("_")[0].split(".")[0].lower()
    return short if short in LANGUAGES else None


def language() -> str:
    """The language of this run: the ContextVar, else the session's, else the install default."""
    code = _active.get()
    if code is None and _session_language is not None:
        code = _session_language()
    return code or install_default()


def activate(code: str | None) -> str:
    """Make `code` (or the install default) the language of the current run/thread."""
    chosen = normalise(code) or install_default()
    _active.set(chosen)
    return chosen


@contextmanager
def using(code: str | None) -> Iterator[str]:
    """Texts in `code` for the block (a mail to one recipient), then back to what was before."""
    token = _active.set(normalise(code) or install_default())
    try:
        yield _active.get()
    finally:
        _active.reset(token)


def set_session_hook(hook: Callable[[], str | None] | None) -> None:
    global _session_language
    _session_language = hook


def catalogue_path(code: str) -> Path:
    return LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=8)
def _compiled(code: str, mtime_ns: int) -> gettext.NullTranslations:
    # Imported here: babel's catalogue reader is only needed once per language and process.
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(catalogue_path(code), "rb") as handle:
        catalog = read_po(handle, locale=code, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


_RECHECK_S = 2.0                 # how often a running server looks whether a .po changed
_checked: dict[tuple[str, str], tuple[float, gettext.NullTranslations]] = {}


def _translation(code: str) -> gettext.NullTranslations:
    """The catalogue of `code`, looked up at most every couple of seconds (every text a page shows
    passes here, so no file system call per text)."""
    key = (code, str(LOCALE_DIR))
    now = time.monotonic()
    found = _checked.get(key)
    if found is None or now - found[0] > _RECHECK_S:
        found = (now, _load(code))
        _checked[key] = found
    return found[1]


def _load(code: str) -> gettext.NullTranslations:
    path = catalogue_path(code)
    if code == DEFAULT or not path.exists():
        # English is the source: its "catalogue" is the msgids. A prebuilt .mo (a test's) still works.
        return gettext.translation(DOMAIN, LOCALE_DIR, languages=[code], fallback=True)
    return _compiled(code, path.stat().st_mtime_ns)


def _cache_clear() -> None:
    _checked.clear()
    _compiled.cache_clear()


_translation.cache_clear = _cache_clear   # tests that swap LOCALE_DIR or edit a .po clear this


def _(message: str) -> str:
    """Translate a UI text into the language of this run."""
    return _translation(language()).gettext(message)


def N_(message: str) -> str:
    """Marks a text for extraction whose translation happens later, where it is shown."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for `n`, as the language counts."""
    return _translation(language()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """A text whose translation depends on where it stands ("Open": the status or the button)."""
    return _translation(language()).pgettext(context, message)


def locale() -> str:
    """The Babel locale of this run's language, for dates, numbers and money."""
    return {"de": "de_DE", "en": "en_US"}[language()]
