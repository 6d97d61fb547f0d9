"""The German catalogue is complete and the template is current: every text a person can meet is
extracted, translated (not fuzzy) and keeps its placeholders; the language is per run."""
from __future__ import annotations

import ast
import re
import shlex
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from leadcore import i18n

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "leadcore" / "locale" / "leadcore.pot"
GERMAN = ROOT / "leadcore" / "locale" / "de" / "LC_MESSAGES" / "leadcore.po"
# {n}, {subject}, {first:%d.%m.%Y}, and the e-mail templates' {{ lead.subject }} / {% if ... %}.
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_MARKERS = {"_": 1, "N_": 1, "ngettext": 2, "pgettext": 2}


def _read(path: Path):
    with open(path, "rb") as handle:
        return read_po(handle)


def _messages(catalog) -> list:
    return [m for m in catalog if m.id]


def _forms(value) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def test_the_german_header_names_the_language_and_its_plural_rule():
    catalog = _read(GERMAN)
    assert str(catalog.locale) == "de"
    assert catalog.plural_forms == "nplurals=2; plural=(n != 1);"
    assert not catalog.fuzzy


def test_every_message_is_translated_and_none_is_fuzzy():
    missing = [m.id for m in _messages(_read(GERMAN)) if m.fuzzy or not all(_forms(m.string))]
    assert missing == []


def test_translations_keep_every_placeholder():
    broken = []
    for m in _messages(_read(GERMAN)):
        wanted = sorted(PLACEHOLDER.findall(" ".join(_forms(m.id))))
        for form in _forms(m.string):
            # A singular may spell "one" out, but it may not invent or rename a placeholder.
            found = sorted(PLACEHOLDER.findall(form))
            if found != wanted and not (set(found) <= set(wanted) and isinstance(m.id, tuple)):
                broken.append((m.id, form))
    assert broken == []


def test_the_catalogue_holds_exactly_the_templates_messages():
    def keys(catalog):
        return {(m.context, m.id if isinstance(m.id, str) else tuple(m.id)) for m in _messages(catalog)}
    assert keys(_read(GERMAN)) == keys(_read(TEMPLATE))


def _keywords() -> list[str]:
    """The keywords `make messages` extracts with (read from the Makefile: one source)."""
    line = next(l for l in (ROOT / "Makefile").read_text().splitlines() if l.startswith("MESSAGES_KEYWORDS"))
    return shlex.split(line.split(":=", 1)[1])


def test_make_messages_would_not_change_the_template(tmp_path):
    """Extraction into a temporary file gives the committed template. Compared: each message's
    context, text, plural and the files it comes from; not compared: the header's
    POT-Creation-Date and the line numbers of the references (they move with every edit)."""
    fresh = tmp_path / "fresh.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run([str(pybabel), "extract", "-F", "babel.cfg", *_keywords(), "--no-wrap",
                    "-o", str(fresh), "."], cwd=ROOT, check=True, capture_output=True)

    def shape(catalog):
        return {(m.context, m.id if isinstance(m.id, str) else tuple(m.id)):
                sorted({file for file, _line in m.locations}) for m in _messages(catalog)}
    assert shape(_read(fresh)) == shape(_read(TEMPLATE))


def _literal_calls(path: Path):
    """(marker, text) of every _("..."), N_, ngettext and pgettext call with literal text,
    including those inside f-strings, which extraction does not see."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _MARKERS:
            args = node.args
            if node.func.id == "pgettext" and len(args) == 2 and all(isinstance(a, ast.Constant) for a in args):
                yield path, node.lineno, (args[0].value, args[1].value)
            elif node.func.id != "pgettext" and args and isinstance(args[0], ast.Constant) \
                    and isinstance(args[0].value, str):
                yield path, node.lineno, (None, args[0].value)


def test_no_text_escapes_extraction():
    template = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in _messages(_read(TEMPLATE))}
    files = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "leadcore").rglob("*.py"))]
    escaped = [f"{path.relative_to(ROOT)}:{line} {key[1]!r}" for path in files
               for path, line, key in _literal_calls(path) if key not in template]
    assert escaped == []


def test_no_compiled_catalogue_is_in_the_repository():
    listed = subprocess.run(["git", "ls-files", "*.mo"], cwd=ROOT, capture_output=True, text=True).stdout
    assert listed.strip() == ""


@pytest.mark.parametrize("english, german", [
    ("Resubmission date", "Wiedervorlage"), ("Editor", "Bearbeiter"), ("Source", "Quelle"),
    ("Subject", "Betreff"), ("Note", "Notiz"), ("on time", "pünktlich"), ("due soon", "bald fällig"),
    ("overdue", "überfällig"), ("Completion reason", "Abschlussgrund"), ("New lead", "Neuer Lead"),
    ("Sign in", "Anmelden"), ("Password", "Passwort"), ("My settings", "Meine Einstellungen"),
])
def test_the_dealers_words(english, german):
    with i18n.using("de"):
        assert german in i18n._(english)
    with i18n.using("en"):
        assert i18n._(english) == english


def test_open_is_a_status_and_a_button():
    with i18n.using("de"):
        assert i18n._("Open") == "Offen"
        assert i18n.pgettext("action", "Open") == "Öffnen"


def test_the_language_belongs_to_a_run_not_to_the_process():
    """Streamlit runs each script run on its own thread: one user's German stays in their run."""
    seen, ready = {}, threading.Barrier(2)

    def run(name: str, code: str) -> None:
        i18n.activate(code)
        ready.wait()                       # both runs have set their language before either reads
        seen[name] = i18n._("Save")

    threads = [threading.Thread(target=run, args=("anna", "de")), threading.Thread(target=run, args=("tom", "en"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"anna": "Speichern", "tom": "Save"}
    assert i18n._("Save") == "Save"        # the test's own thread never chose one


def test_the_catalogue_is_compiled_again_when_the_po_changes(tmp_path, monkeypatch):
    folder = tmp_path / "de" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po = folder / "leadcore.po"
    po.write_text('msgid ""\nmsgstr "Language: de\\n"\n\nmsgid "Save"\nmsgstr "Sichern"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    with i18n.using("de"):
        assert i18n._("Save") == "Sichern"
        po.write_text(po.read_text(encoding="utf-8").replace("Sichern", "Speichern"), encoding="utf-8")
        import os
        stat = po.stat()
        os.utime(po, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
        monkeypatch.setattr(i18n, "_RECHECK_S", 0.0)          # a server looks again after a moment
        assert i18n._("Save") == "Speichern"
    i18n._translation.cache_clear()


def test_explore_headers_are_unique_in_both_languages():
    from leadcore.analytics.explore import headers
    for code in i18n.LANGUAGES:
        with i18n.using(code):
            shown = [headers.header(name) for name in headers.HEADERS]
            assert len(set(shown)) == len(shown), code
            assert len(set(headers.headers(["status", "x", "x_status"]).values())) == 3


# English word (as a pattern) -> the German word of docs/glossary.md every translation holding it uses.
GLOSSARY = [
    (r"\bresubmission", "Wiedervorlage"), (r"\beditor\b", "Bearbeiter"), (r"\bsubject\b", "Betreff"),
    (r"\bsources?\b", "Quelle"), (r"\bsupervisors?\b|\bsuperiors?\b", "Vorgesetzt"),
    (r"completion reason", "Abschlussgr"), (r"\bdataset", "Datenbestand"), (r"traffic light", "Ampel"),
    (r"\bnotifications?\b", "Benachrichtigung"), (r"\babsences?\b", "Abwesenheit"), (r"\bdeputy", "Vertretung"),
    (r"\bcontacts?\b(?! person)", "Kontakt"), (r"\bcustomers?\b", "Kunde"), (r"\bnote\b", "Notiz"),
    (r"\boverdue\b", "überfällig"), (r"\bdue soon\b", "bald fällig"), (r"\bon time\b", "pünktlich"),
    (r"\bstage [12]\b", "Stufe"), (r"\btemplates?\b", "Vorlage"), (r"\boutbox\b", "Postausgang"),
    (r"\bbackups?\b", "Sicherung"), (r"\bworking hours\b", "Arbeitszeit"),
]


def test_one_german_word_for_one_english_word():
    """The glossary's words hold throughout (placeholders such as {subject} do not count)."""
    astray = []
    for m in _messages(_read(GERMAN)):
        english = PLACEHOLDER.sub("", _forms(m.id)[0])
        german = _forms(m.string)[0].lower()
        astray += [(english, german_word, m.string) for pattern, german_word in GLOSSARY
                   if re.search(pattern, english, re.IGNORECASE) and german_word.lower() not in german]
    assert astray == []
