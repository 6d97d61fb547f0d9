"""Every page in German for every role that may open it (SPEC section 12): it renders, and no
English text is left among the visible labels but names and data (the allow-list below).

A label counts as English when it is the English text of a catalogue message whose German
differs, or when it holds one of a few words only English has (a text that never reached the
catalogue would be caught so).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from streamlit.testing.v1.element_tree import Block

from leadcore import roles
from leadcore.admin import language, settings

ROOT = Path(__file__).resolve().parents[2]
PAGES = {"pages/leads.py": None, "pages/contacts.py": None, "pages/dashboard.py": roles.DASHBOARD,
         "pages/explore.py": roles.EXPLORE, "pages/intake.py": roles.INTAKE,
         "pages/settings.py": roles.EDIT_SETTINGS, "pages/profile.py": None,
         "pages/notifications.py": roles.NOTIFICATIONS}
CASES = [(role, page) for role in roles.ROLES for page, needs in PAGES.items()
         if needs is None or roles.allows(role, needs)]
# Words German does not have; a label holding one is English.
ENGLISH_WORDS = re.compile(r"\b(the|and|your|with|of|is|are|this|for|from|save|add|yet|been|has|have|"
                           r"will|please|which|when|who|there|no|not|all|new|open|due|lead type|"
                           r"settings|sign|remove|delete|change|choose)\b", re.IGNORECASE)
# Names and data that look English on purpose: product, people, the shipped sources' names
# (the dealership's own list, renamed there), Explore's column and dataset names (what analysts
# query in SQL), file formats and units.
ALLOWED = re.compile(r"leadcore|explore_\w+|CSV|Parquet|Dashboard|Leads?|Manager|Administrator|Spam|"
                     r"Golf|Passat|mobile\.de|AutoScout24|"
                     r"\b[A-Z][A-Z_]{2,}\b|"             # SQL words, environment variables (FROM, LEADCORE_SMTP_HOST)
                     r"(?<![\w.])/[\w./-]+")              # paths on the server (the database, backups)


@pytest.fixture(scope="module")
def english_texts() -> set[str]:
    with open(ROOT / "leadcore/locale/de/LC_MESSAGES/leadcore.po", "rb") as handle:
        catalog = read_po(handle)
    found = set()
    for m in catalog:
        if not m.id:
            continue
        ids = (m.id,) if isinstance(m.id, str) else tuple(m.id)
        strings = (m.string,) if isinstance(m.string, str) else tuple(m.string)
        found |= {i for i in ids if i not in strings and not ALLOWED.fullmatch(i)}
    return found


def _clean(text: str) -> str:
    text = re.sub(r":material/[a-z_]+:", "", text)                  # icons
    text = re.sub(r":[a-z]+\[(.*?)\]", r"\1", text)                  # :gray[...] colours
    text = re.sub(r"[*#`_\\]", "", text)                             # Markdown
    return " ".join(text.split())


def _visible_labels(at) -> list[str]:
    """Titles, headings, captions, alerts, Markdown and every widget's label, main area and sidebar."""
    found = []
    for root in (at.main, at.sidebar):
        for element in root:
            if isinstance(element, Block):
                continue
            if element.type in ("text", "dataframe", "code", "json"):   # people's and the database's data
                continue
            for attribute in ("label", "value", "placeholder", "help"):
                try:
                    value = getattr(element, attribute)
                except Exception:  # noqa: BLE001 - not every element has every attribute
                    continue
                if isinstance(value, str) and value.strip() and not (attribute == "value" and hasattr(element, "label")
                                                                     and element.type not in ("markdown",)):
                    found.append(_clean(value))
            options = getattr(element, "options", None)    # pickers show their options as the page formats them
            if isinstance(options, list):
                found += [_clean(o) for o in options if isinstance(o, str) and o.strip()]
    for tab in at.tabs:
        found.append(_clean(tab.label))
    return found


def _english(labels: list[str], english_texts: set[str]) -> list[str]:
    leftovers = []
    for label in labels:
        rest = ALLOWED.sub("", label)
        if label in english_texts or ENGLISH_WORDS.search(rest):
            leftovers.append(label)
    return leftovers


@pytest.fixture
def german(cur, people):
    """A dealership started in German (python -m leadcore init --language de): everyone reads
    German, as no one chose otherwise, and the shipped sources have German names."""
    language.start_in(cur, "de")
    return people


@pytest.mark.parametrize("role, page", CASES)
def test_every_page_renders_in_german_without_english_leftovers(cur, german, by_role, make_lead, open_app,
                                                                 english_texts, role, page):
    make_lead(german.anna, subject="Probefahrt Golf 8", note="Ruft morgen zurück.")
    at = open_app(by_role[role], page=page)
    assert not at.exception, at.exception
    labels = _visible_labels(at)
    assert labels
    assert _english(labels, english_texts) == []


@pytest.mark.parametrize("role", ["seller", "manager"])
def test_the_lead_detail_in_german(german, by_role, make_lead, open_app, english_texts, role):
    lead_id = make_lead(german.anna, subject="Inzahlungnahme Passat", note="Angebot bis Freitag.")
    at = open_app(by_role[role], query={"lead": str(lead_id)})
    assert not at.exception, at.exception
    assert _english(_visible_labels(at), english_texts) == []
    assert "Wiedervorlage-Datum" in [w.label for w in at.date_input]


def test_the_navigation_is_german(german, by_role, open_app):
    at = open_app(by_role["admin"])
    titles = {info.get("page_name", "") for info in at._registered_pages.values()}
    assert {"Leads", "Kontakte", "Dashboard", "Auswertung", "Lead-Eingang", "Einstellungen",
            "Meine Einstellungen", "Benachrichtigungen"} <= titles


def test_the_sign_in_page_speaks_the_dealerships_language(cur, german, open_app, english_texts):
    at = open_app(None)
    assert [w.label for w in at.text_input] == ["Benutzername", "Passwort"]
    assert [b.label for b in at.button] == ["Anmelden"]
    assert _english(_visible_labels(at), english_texts) == []


def test_a_user_switches_language_on_my_settings_without_signing_out(cur, people, open_app):
    at = open_app(people.anna, page="pages/profile.py")
    assert at.title[0].value == "My settings"
    at.selectbox(key="my_language").set_value("de").run()
    assert not at.exception
    assert at.title[0].value == "Meine Einstellungen"
    assert [s.value for s in at.success] == ["Sprache gespeichert."]
    assert cur.execute("SELECT language FROM users WHERE id = ?", [people.anna.id]).fetchall() == [("de",)]
    # Another user of the same server still reads English.
    other = open_app(people.ben, page="pages/profile.py")
    assert other.title[0].value == "My settings"
    at.selectbox(key="my_language").set_value("").run()          # back to the dealership's (English)
    assert at.title[0].value == "My settings"


def test_english_users_keep_the_english_contract(cur, people, open_app):
    """SPEC section 11 stays word for word for English readers, even in a German dealership."""
    settings.put(cur, "language", "de")
    cur.execute("UPDATE users SET language = 'en' WHERE id = ?", [people.anna.id])
    at = open_app(people.anna)
    assert at.title[0].value == "Leads"
    assert "New lead" in [b.label for b in at.main.button]
