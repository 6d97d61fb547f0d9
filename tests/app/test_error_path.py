"""One path from errors to people: whatever a service raises, a person reads a sentence, never a
stack trace; an unexpected failure says "Nothing was saved." with a reference that finds its
trace in the server log."""
from __future__ import annotations

import logging
import re

import pytest

from leadcore.errors import Conflict, NotFound, PermissionDenied
from leadcore.leads import listing as lead_list
from leadcore.leads import service as leads

REFERENCE = re.compile(r"^Nothing was saved\. .*the reference ([0-9a-f]{8}) ")
TRACE_WORDS = ("Traceback", "RuntimeError", "File \"")


def _boom(*_args, **_kwargs):
    raise RuntimeError("disk on fire: /srv/secret/path")


def _all_text(at) -> str:
    parts = [e.value for kind in (at.error, at.warning, at.info, at.success, at.markdown, at.caption)
             for e in kind]
    return "\n".join(str(p) for p in parts)


def _friendly(at, caplog) -> str:
    """The one friendly message shown; its reference is in the log with the trace."""
    assert not at.exception                                   # Streamlit drew no traceback
    [message] = [e.value for e in at.error if e.value.startswith("Nothing was saved.")]
    reference = REFERENCE.match(message).group(1)
    shown = _all_text(at)
    assert not any(word in shown for word in TRACE_WORDS) and "/srv/secret" not in shown
    [record] = [r for r in caplog.records if reference in r.getMessage()]
    assert record.levelno == logging.ERROR and record.exc_info[0] is RuntimeError
    return reference


def test_an_unexpected_failure_in_a_lead_action_says_nothing_was_saved(people, make_lead, open_app,
                                                                       monkeypatch, caplog, events):
    lead = make_lead(people.anna)
    at = open_app(people.anna, query={"lead": str(lead)})
    monkeypatch.setattr(leads, "add_note", _boom)
    at.text_area(key=f"lead{lead}_note_text").input("Called back")
    [button] = [b for b in at.button if b.label == "Add note"]
    button.click().run()
    _friendly(at, caplog)
    assert at.text_area(key=f"lead{lead}_note_text").value == "Called back"     # input kept
    assert len(events(lead)) == 1


def test_two_failures_get_two_references(people, make_lead, open_app, monkeypatch, caplog):
    lead = make_lead(people.anna)
    at = open_app(people.anna, query={"lead": str(lead)})
    monkeypatch.setattr(leads, "set_resubmission", _boom)
    [button] = [b for b in at.button if b.label == "Set resubmission"]
    first = _friendly(button.click().run(), caplog)
    [button] = [b for b in at.button if b.label == "Set resubmission"]
    assert _friendly(button.click().run(), caplog) != first


def test_a_conflict_in_a_lead_action_shows_its_sentence(people, make_lead, reason_ids, open_app,
                                                        monkeypatch):
    lead = make_lead(people.anna)
    at = open_app(people.anna, query={"lead": str(lead)})

    def conflict(*_args, **_kwargs):
        raise Conflict("Someone else changed the same data at the same moment; please try again.")

    monkeypatch.setattr(leads, "complete", conflict)
    at.selectbox(key=f"lead{lead}_reason").set_value(reason_ids["sold"])
    [button] = [b for b in at.button if b.label == "Complete lead"]
    button.click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "Someone else changed the same data at the same moment; please try again."]


@pytest.mark.parametrize("error", [
    PermissionDenied("Your role can read leads but not change them."),
    NotFound("This contact does not exist (any more)."),
    Conflict("Someone else changed the same data at the same moment; please try again."),
], ids=["permission", "not-found", "conflict"])
def test_the_lead_form_shows_a_refusal_under_the_form(people, contact, open_app, monkeypatch, count,
                                                      error):
    at = open_app(people.anna, page="pages/contacts.py")
    at.button(key=f"new_lead_{contact.id}").click().run()
    at.text_input(key=f"new_lead_{contact.id}_subject").input("Test drive")

    def refuse(*_args, **_kwargs):
        raise error

    monkeypatch.setattr(leads, "create_lead", refuse)
    [button] = [b for b in at.button if b.label == "Save"]
    button.click().run()
    assert not at.exception
    form = at.main.get_by_key("lead_form")
    assert [e.value for e in form.error] == [error.message]
    assert count("leads") == 0


def test_the_lead_form_s_unexpected_failure_is_friendly(people, contact, open_app, monkeypatch, caplog):
    at = open_app(people.anna, page="pages/contacts.py")
    at.button(key=f"new_lead_{contact.id}").click().run()
    at.text_input(key=f"new_lead_{contact.id}_subject").input("Test drive")
    monkeypatch.setattr(leads, "create_lead", _boom)
    [button] = [b for b in at.button if b.label == "Save"]
    _friendly(button.click().run(), caplog)


def test_a_bulk_action_refused_shows_the_sentence(people, make_lead, open_app, monkeypatch):
    lead = make_lead(people.anna)
    at = open_app(people.anna)
    at.toggle(key="lead_bulk_mode").set_value(True).run()
    [table] = [d for d in at.dataframe if (d.key or "").startswith("lead_table_")]
    at.session_state[table.key] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    at.selectbox(key="bulk_editor").set_value(people.ben.id)

    def refuse(*_args, **_kwargs):
        raise PermissionDenied("Your role can read leads but not change them.")

    monkeypatch.setattr(leads, "bulk_change_editor", refuse)
    [button] = [b for b in at.button if b.label.startswith("Apply to")]
    button.click().run()
    assert not at.exception
    assert [e.value for e in at.main.get_by_key("bulk_actions").error] == [
        "Your role can read leads but not change them."]
    assert lead


def test_a_page_whose_read_fails_says_so_with_a_reference(people, open_app, monkeypatch, caplog):
    monkeypatch.setattr(lead_list, "list_leads", _boom)
    at = open_app(people.anna)
    _friendly(at, caplog)
    assert [b.label for b in at.sidebar.button] == ["Sign out"]       # the app around it still works
