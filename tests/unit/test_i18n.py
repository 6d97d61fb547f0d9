"""Every UI text goes through the one translation function, so a catalogue translates it."""
from __future__ import annotations

import ast
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from leadcore import i18n

ROOT = Path(__file__).resolve().parents[2]
# Streamlit calls whose first argument is text a person reads.
_TEXT_CALLS = {"title", "header", "subheader", "caption", "button", "form_submit_button", "text_input",
               "text_area", "selectbox", "multiselect", "toggle", "checkbox", "date_input",
               "time_input", "info", "warning", "error", "success", "radio", "number_input",
               "expander", "tabs", "download_button", "file_uploader", "metric", "segmented_control"}


def _german(tmp_path: Path) -> Path:
    catalog = Catalog(locale="de", domain=i18n.DOMAIN)
    catalog.add("Leads", "Leads (de)")
    catalog.add(("{n} open lead", "{n} open leads"), ("{n} offener Lead", "{n} offene Leads"))
    folder = tmp_path / "de" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with open(folder / f"{i18n.DOMAIN}.mo", "wb") as handle:
        write_mo(handle, catalog)
    return tmp_path


def test_a_german_catalogue_translates_without_touching_the_pages(tmp_path, monkeypatch):
    monkeypatch.setattr(i18n, "LOCALE_DIR", _german(tmp_path))
    i18n._translation.cache_clear()
    monkeypatch.setenv("LEADCORE_LANGUAGE", "de")
    try:
        assert i18n._("Leads") == "Leads (de)"
        assert i18n.ngettext("{n} open lead", "{n} open leads", 3) == "{n} offene Leads"
        assert i18n._("Contacts") == "Contacts"          # untranslated texts stay English
    finally:
        i18n._translation.cache_clear()


def test_english_is_the_default():
    assert i18n._("Leads") == "Leads"
    assert i18n.ngettext("{n} open lead", "{n} open leads", 1) == "{n} open lead"


def _untranslated_literals(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in _TEXT_CALLS and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
                and node.args[0].value.strip()):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.func.attr}({node.args[0].value!r})")
    return found


def test_no_page_shows_a_text_that_bypasses_the_translation_function():
    files = [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py")),
             *sorted((ROOT / "leadcore" / "ui").glob("*.py"))]
    assert [hit for path in files for hit in _untranslated_literals(path)] == []
