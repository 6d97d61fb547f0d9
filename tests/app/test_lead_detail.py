"""The lead detail: add note, set resubmission, change editor, complete, reopen (each one change
and exactly one event), their error messages, and who may see it (SPEC sections 2, 4 and 5)."""
from __future__ import annotations

import re
from datetime import time, timedelta

import pytest

from leadcore.leads import service as leads
from leadcore.ui import format as fmt

# The timeline may show its event kinds as labels; the kinds are what the tests compare.
_event_label = getattr(fmt, "event", lambda kind: kind)


@pytest.fixture
def overdue_lead(people, make_lead, local) -> int:
    """Anna's lead that arrived yesterday 10:00: due yesterday 12:00, escalated to stage 2 at 16:00."""
    return make_lead(people.anna, subject="Passat trade-in", note="Wants an offer by Friday.",
                     at=local("2026-11-26 10:00"))


def _facts(at) -> dict[str, str]:
    """The facts box as label -> value, Markdown escapes removed."""
    facts = {}
    for block in at.main.get_by_key("lead_facts").markdown:
        for line in block.value.split("  \n"):
            match = re.fullmatch(r"\*\*(.+?):\*\* (.*)", line, re.DOTALL)
            if match:
                facts[match.group(1)] = re.sub(r"\\(.)", r"\1", match.group(2))
    return facts


def _when(local, text: str) -> str:
    """A Berlin wall-clock time as the app shows it."""
    return fmt.when(local(text), local(text).tzinfo)


def _open(open_app, user, lead_id):
    at = open_app(user, query={"lead": str(lead_id)})
    assert not at.exception
    return at


def _timeline_kinds(at) -> list[str]:
    [timeline] = [d for d in at.dataframe if not (d.key or "").startswith("lead_table_")]
    labels = {_event_label(kind): kind for kind in
              ("created", "note", "resubmission", "editor", "completed", "reopened")}
    return [labels.get(label, label) for label in timeline.value["kind"]]


def test_the_detail_shows_customer_facts_note_and_timeline(people, overdue_lead, open_app, local):
    at = _open(open_app, people.anna, overdue_lead)
    assert [s.value for s in at.subheader] == [f"#{overdue_lead} · Passat trade\\-in"]
    assert at.text[0].value.startswith("Herr Max Mustermann")
    assert "Wants an offer by Friday." in [t.value for t in at.text]
    facts = _facts(at)
    assert facts["Due"] == f"{_when(local, '2026-11-26 12:00')} · {fmt.traffic_light('overdue')}"
    assert facts["Escalation level"] == fmt.escalation(2)
    assert facts["Editor"] == "Anna Becker"
    assert facts["Source"] == "mobile.de"
    assert facts["Status"] == fmt.status("open")
    assert facts["Arrived"] == _when(local, "2026-11-26 10:00")
    assert facts["First response"] == "–"
    assert _timeline_kinds(at) == ["created"]


def test_add_note_with_resubmission(people, overdue_lead, open_app, set_moment, events, lead_row,
                                    local, now, ui, tomorrow):
    at = _open(open_app, people.anna, overdue_lead)
    key = f"lead{overdue_lead}_"
    at.text_area(key=f"{key}note_text").input("Called him, he comes on Thursday.")
    set_moment(at, f"{key}note", tomorrow, time(9, 30))
    ui.button(at, "Add note").click().run()

    assert not at.exception and not at.error
    assert events(overdue_lead) == [("created", "Passat trade-in", people.anna.id),
                                    ("note", "Called him, he comes on Thursday.", people.anna.id)]
    lead = lead_row(overdue_lead)
    assert lead["resubmission_at"] == lead["due_at"] == local(f"{tomorrow} 09:30")
    assert lead["first_response_at"] == now and lead["last_activity_at"] == now
    assert [s.value for s in at.success] == ["Note added."]
    facts = _facts(at)
    due = _when(local, f"{tomorrow} 09:30")
    assert facts["Due"] == f"{due} · {fmt.traffic_light('on time')}"   # working it cleared the escalation
    assert facts["Escalation level"] == fmt.escalation(0)
    assert facts["Resubmission"] == due
    assert facts["First response"] == _when(local, "2026-11-27 10:00")
    assert _timeline_kinds(at) == ["note", "created"]
    assert at.text_area(key=f"{key}note_text").value == ""          # the form is empty again


@pytest.mark.parametrize("text, moment, field, message", [
    ("Called him.", None, "note_time", "Resubmission is required."),
    ("   ", (1, time(9, 30)), "note_text", "Note is required."),
    ("Called him.", (0, time(9, 0)), "note_time", "Resubmission must be in the future."),
    ("x" * 10_001, (1, time(9, 30)), "note_text", "Note can have at most 10,000 characters."),
], ids=["no resubmission", "empty note", "resubmission in the past", "note too long"])
def test_add_note_errors_store_nothing(people, overdue_lead, open_app, set_moment, events, lead_row,
                                      now, ui, text, moment, field, message):
    before = lead_row(overdue_lead)
    at = _open(open_app, people.anna, overdue_lead)
    key = f"lead{overdue_lead}_"
    at.text_area(key=f"{key}note_text").input(text)
    if moment:
        set_moment(at, f"{key}note", now.date() + timedelta(days=moment[0]), moment[1])
    ui.button(at, "Add note").click().run()
    assert not at.exception
    assert ui.error_under(at, f"{key}{field}") == message
    assert [e.value for e in at.error] == [message]
    assert [kind for kind, *_ in events(overdue_lead)] == ["created"]
    assert lead_row(overdue_lead) == before


def test_set_resubmission_and_clear_it(people, overdue_lead, open_app, set_moment, events, lead_row,
                                       local, ui, tomorrow):
    at = _open(open_app, people.anna, overdue_lead)
    key = f"lead{overdue_lead}_"
    set_moment(at, f"{key}resub", tomorrow, time(14, 0))
    ui.button(at, "Set resubmission").click().run()
    assert not at.exception and not at.error
    assert [s.value for s in at.success] == ["Resubmission set."]
    lead = lead_row(overdue_lead)
    assert lead["resubmission_at"] == lead["due_at"] == local(f"{tomorrow} 14:00")
    assert lead["first_response_at"] is None            # moving the date is not working the lead
    assert events(overdue_lead)[1:] == [("resubmission", local(f"{tomorrow} 14:00").isoformat(),
                                         people.anna.id)]
    assert _facts(at)["Resubmission"] == _when(local, f"{tomorrow} 14:00")

    # Both fields empty clears it: due again by arrival + stage 1.
    ui.button(at, "Set resubmission").click().run()
    assert not at.exception and not at.error
    lead = lead_row(overdue_lead)
    assert lead["resubmission_at"] is None
    assert lead["due_at"] == local("2026-11-26 12:00")
    assert [kind for kind, *_ in events(overdue_lead)] == ["created", "resubmission", "resubmission"]
    assert events(overdue_lead)[2][1] == "cleared (due by arrival + stage 1)"


def test_set_resubmission_with_only_a_date_is_refused(people, overdue_lead, open_app, set_moment,
                                                      events, ui, tomorrow):
    at = _open(open_app, people.anna, overdue_lead)
    key = f"lead{overdue_lead}_"
    set_moment(at, f"{key}resub", tomorrow, None)
    ui.button(at, "Set resubmission").click().run()
    assert ui.error_under(at, f"{key}resub_time") == "Resubmission time is required when a date is set."
    assert len(events(overdue_lead)) == 1


def test_a_supervisor_changes_the_editor(people, overdue_lead, open_app, events, lead_row, ui):
    at = _open(open_app, people.clara, overdue_lead)
    key = f"lead{overdue_lead}_"
    editor = at.selectbox(key=f"{key}editor")
    assert "Anna Becker" not in editor.options            # the current editor is not offered
    assert "Eva Lang" not in editor.options               # nor analysts
    editor.set_value(people.ben.id)
    ui.button(at, "Change editor").click().run()
    assert not at.exception and not at.error
    assert lead_row(overdue_lead)["editor_id"] == people.ben.id
    assert events(overdue_lead)[1:] == [("editor", "Ben Schulz", people.clara.id)]
    assert [s.value for s in at.success] == ["Editor changed: the lead is with Ben Schulz now."]
    assert _facts(at)["Editor"] == "Ben Schulz"


def test_change_editor_without_a_choice_is_refused(people, overdue_lead, open_app, events, ui):
    at = _open(open_app, people.anna, overdue_lead)
    ui.button(at, "Change editor").click().run()
    key = f"lead{overdue_lead}_"
    assert ui.error_under(at, f"{key}editor") == "Editor must be an active user."
    assert len(events(overdue_lead)) == 1


def test_a_seller_who_hands_a_lead_over_no_longer_sees_it(people, overdue_lead, open_app, events,
                                                          lead_row, ui):
    at = _open(open_app, people.anna, overdue_lead)
    at.selectbox(key=f"lead{overdue_lead}_editor").set_value(people.ben.id)
    ui.button(at, "Change editor").click().run()
    assert not at.exception
    assert lead_row(overdue_lead)["editor_id"] == people.ben.id
    assert events(overdue_lead)[1:] == [("editor", "Ben Schulz", people.anna.id)]
    assert [s.value for s in at.success] == ["Editor changed: the lead is with Ben Schulz now."]
    assert not at.error                                          # no "you may not see" scare
    assert "lead" not in at.query_params                         # back on the list
    assert "Passat trade-in" not in " ".join(ui.texts(at))       # no data of a lead she may not see


def test_complete_with_a_reason_then_reopen(people, overdue_lead, reason_ids, open_app, set_moment,
                                            events, lead_row, local, now, ui, tomorrow):
    at = _open(open_app, people.anna, overdue_lead)
    key = f"lead{overdue_lead}_"
    reason = at.selectbox(key=f"{key}reason")
    assert reason.options[:6] == ["Sold", "Bought elsewhere", "No interest", "Not reachable", "Duplicate", "Spam"]
    reason.set_value(reason_ids["bought_elsewhere"])
    at.text_input(key=f"{key}comment").input("Took a Skoda from the dealer next door")
    ui.button(at, "Complete lead").click().run()

    assert not at.exception and not at.error
    lead = lead_row(overdue_lead)
    assert (lead["status"], lead["completion_reason_id"], lead["completed_at"]) == (
        "completed", reason_ids["bought_elsewhere"], now)
    assert events(overdue_lead)[1:] == [
        ("completed", "Bought elsewhere: Took a Skoda from the dealer next door", people.anna.id)]
    assert [s.value for s in at.success] == ["Lead completed."]
    facts = _facts(at)
    assert facts["Completed"] == f"{_when(local, '2026-11-27 10:00')} · Bought elsewhere"
    assert facts["Status"] == fmt.status("completed")
    assert "Due" not in facts
    assert [b.label for b in at.main.button if b.label in ("Add note", "Complete lead", "Reopen")] == ["Reopen"]

    # Reopen needs a new resubmission ...
    ui.button(at, "Reopen").click().run()
    assert ui.error_under(at, f"{key}reopen_time") == "Resubmission is required."
    assert lead_row(overdue_lead)["status"] == "completed"
    assert len(events(overdue_lead)) == 2

    # ... and with one the lead is open again, due at it.
    set_moment(at, f"{key}reopen", tomorrow, time(11, 15))
    ui.button(at, "Reopen").click().run()
    assert not at.exception and not at.error
    lead = lead_row(overdue_lead)
    assert (lead["status"], lead["completion_reason_id"], lead["completed_at"]) == ("open", None, None)
    assert lead["due_at"] == local(f"{tomorrow} 11:15")
    assert events(overdue_lead)[2:] == [("reopened", local(f"{tomorrow} 11:15").isoformat(), people.anna.id)]
    assert [s.value for s in at.success] == ["Lead reopened."]
    assert _facts(at)["Status"] == fmt.status("open")
    assert _timeline_kinds(at) == ["reopened", "completed", "created"]


def test_complete_without_a_reason_is_refused(people, overdue_lead, open_app, events, lead_row, ui):
    at = _open(open_app, people.anna, overdue_lead)
    key = f"lead{overdue_lead}_"
    at.text_input(key=f"{key}comment").input("Sold, I think")
    ui.button(at, "Complete lead").click().run()
    assert not at.exception
    assert ui.error_under(at, f"{key}reason") == "Completion reason is required."
    assert lead_row(overdue_lead)["status"] == "open"
    assert len(events(overdue_lead)) == 1


# --- who may see it -------------------------------------------------------------------------

def test_a_seller_cannot_open_another_sellers_lead(people, make_lead, open_app, ui):
    bens = make_lead(people.ben, subject="Ben's secret Porsche deal", note="Discount 12 %")
    at = _open(open_app, people.anna, bens)
    assert [e.value for e in at.error] == ["You may not see this lead."]
    texts = " ".join(ui.texts(at))
    for secret in ("Porsche", "Discount", "Mustermann", "Ben Schulz"):
        assert secret not in texts
    assert not at.dataframe and not at.subheader
    assert [b.label for b in at.main.button] == ["Back to leads"]
    at.main.button[0].click().run()
    assert at.query_params == {}
    assert at.title[0].value == "Leads"


def test_an_analyst_reads_a_lead_but_gets_no_actions(people, overdue_lead, open_app):
    at = _open(open_app, people.eva, overdue_lead)
    assert [s.value for s in at.subheader] == [f"#{overdue_lead} · Passat trade\\-in"]
    assert _timeline_kinds(at) == ["created"]
    assert [b.label for b in at.main.button] == ["Back to leads"]
    assert not at.text_area and not at.selectbox and not at.date_input


def test_a_supervisor_works_a_team_members_lead(people, overdue_lead, open_app, set_moment, events, ui,
                                                tomorrow):
    at = _open(open_app, people.clara, overdue_lead)
    key = f"lead{overdue_lead}_"
    at.text_area(key=f"{key}note_text").input("Took over while Anna is at the fair.")
    set_moment(at, f"{key}note", tomorrow, time(8, 0))
    ui.button(at, "Add note").click().run()
    assert not at.error
    assert events(overdue_lead)[1:] == [("note", "Took over while Anna is at the fair.", people.clara.id)]


def test_a_completed_lead_cannot_be_worked_by_a_stale_form(people, overdue_lead, reason_ids, cur, now,
                                                           open_app, set_moment, events, ui, tomorrow):
    """The lead is completed elsewhere while the detail is open: the note is refused, not lost."""
    at = _open(open_app, people.anna, overdue_lead)
    key = f"lead{overdue_lead}_"
    leads.complete(cur, people.clara, now, overdue_lead, reason_ids["sold"])
    at.text_area(key=f"{key}note_text").input("Late note")
    set_moment(at, f"{key}note", tomorrow, time(9, 0))
    ui.button(at, "Add note").click().run()
    assert not at.exception
    assert [kind for kind, *_ in events(overdue_lead)] == ["created", "completed"]
    assert "This lead is completed; reopen it first." in [e.value for e in at.error]


def test_an_error_of_one_lead_does_not_show_on_another(people, overdue_lead, make_lead, open_app, ui):
    other = make_lead(people.anna, subject="Golf test drive")
    at = _open(open_app, people.anna, overdue_lead)
    ui.button(at, "Complete lead").click().run()
    assert [e.value for e in at.error] == ["Completion reason is required."]
    ui.button(at, "Back to leads").click().run()
    at.query_params["lead"] = str(other)
    at.run()
    assert [s.value for s in at.subheader] == [f"#{other} · Golf test drive"]
    assert not at.error
