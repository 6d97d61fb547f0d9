"""The Leads page: roles, the "New lead" jump to Contacts, search, filters, "My leads", paging and
opening a lead (SPEC sections 3, 5 and 11)."""
from __future__ import annotations

import pytest

from leadcore.leads import service as leads
from leadcore.ui import format as fmt

CONTACTS = "pages/contacts.py"


@pytest.fixture
def three_lights(people, make_lead, add_contact, local):
    """Three open leads of Anna, one per traffic light, on three contacts."""
    erika = add_contact(first_name="Erika", last_name="Schmidt", email="erika@example.de",
                        mobile="0160 7654321")
    jonas = add_contact(first_name="Jonas", last_name="Weber")
    return {
        "overdue": make_lead(people.anna, subject="Passat trade-in", at=local("2026-11-26 10:00"),
                             contact_id=jonas.id, source="Phone", lead_type="trade_in"),
        "due soon": make_lead(people.anna, subject="Tiguan financing", at=local("2026-11-27 08:15"),
                              contact_id=erika.id, source="AutoScout24", lead_type="financing"),
        "on time": make_lead(people.anna, subject="Golf test drive"),
    }


def _subjects(ui, at) -> list[str]:
    table = ui.table(at)
    return [] if table is None else table["subject"].tolist()


# --- roles --------------------------------------------------------------------------------

@pytest.mark.parametrize("role, visible, mine", [
    ("seller", ["Anna's lead"], True),
    ("supervisor", ["Anna's lead", "Ben's lead"], False),
    ("manager", ["Anna's lead", "Ben's lead", "Dirk's lead"], False),
    ("analyst", ["Anna's lead", "Ben's lead", "Dirk's lead"], False),
    ("admin", ["Anna's lead", "Ben's lead", "Dirk's lead"], False),
])
def test_every_role_sees_the_leads_page_with_its_leads(by_role, people, contact, make_lead, open_app,
                                                         ui, role, visible, mine):
    make_lead(people.anna, subject="Anna's lead")
    make_lead(people.ben, subject="Ben's lead")
    make_lead(people.dirk, subject="Dirk's lead")
    at = open_app(by_role[role])
    assert not at.exception
    assert at.title[0].value == "Leads"
    assert at.toggle(key="lead_mine").value is mine          # "My leads" is the sellers' default
    assert sorted(_subjects(ui, at)) == visible
    assert ("New lead" in [b.label for b in at.main.button]) is (role != "analyst")
    # The Contacts page of the same session renders as well.
    at.switch_page(CONTACTS).run()
    assert not at.exception
    assert at.title[0].value == "Contacts"


def test_the_list_shows_the_columns_sorted_by_due_overdue_first(people, three_lights, open_app, ui):
    at = open_app(people.anna)
    table = ui.table(at)
    assert table[["subject", "customer", "lead_type", "source", "traffic_light", "escalation_level",
                  "status", "editor"]].values.tolist() == [
        ["Passat trade-in", "Jonas Weber", fmt.lead_type("trade_in"), "Phone", fmt.traffic_light("overdue"),
         fmt.escalation(2), fmt.status("open"), "Anna Becker"],
        ["Tiguan financing", "Erika Schmidt", fmt.lead_type("financing"), "AutoScout24",
         fmt.traffic_light("due soon"), fmt.escalation(0), fmt.status("open"), "Anna Becker"],
        ["Golf test drive", "Max Mustermann", fmt.lead_type("new_car"), "mobile.de",
         fmt.traffic_light("on time"), fmt.escalation(0), fmt.status("open"), "Anna Becker"],
    ]
    # SPEC 11: the traffic-light words themselves are part of the UI contract.
    assert [w in t for w, t in zip(["overdue", "due soon", "on time"], table["traffic_light"])] == [True] * 3
    # Due in local time (day and clock; the year's format is the page's business).
    due = table["due_at"].tolist()
    assert due[0].startswith("26.11.") and due[0].endswith("12:00")
    assert due[1].startswith("27.11.") and due[1].endswith("10:15")
    assert due[2].startswith("27.11.") and due[2].endswith("12:00")
    assert table["id"].tolist() == [three_lights["overdue"], three_lights["due soon"], three_lights["on time"]]
    assert "Page 1 · 1–3 of 3" in [c.value for c in at.main.caption]


# --- "New lead" ---------------------------------------------------------------------------

def test_new_lead_jumps_to_the_contacts_page_in_pick_mode(people, contact, open_app, count):
    at = open_app(people.anna)
    at.button(key="new_lead").click().run()
    assert not at.exception
    assert at.title[0].value == "Contacts"
    assert at.query_params == {"pick": "1"}
    [banner] = at.info
    assert "Choose the contact for the new lead" in banner.value
    row_button = at.button(key=f"new_lead_{contact.id}")
    assert row_button.proto.type == "primary"                    # the row symbol stands out
    with pytest.raises(KeyError):
        at.main.get_by_key("lead_form")                          # nothing is created by the jump
    assert count("leads") == 0


# --- search and filters -------------------------------------------------------------------

SEARCHES = [
    ("golf", ["Golf test drive"]),                 # subject
    ("schmidt", ["Tiguan financing"]),             # customer name
    ("erika@example", ["Tiguan financing"]),       # customer e-mail
    ("0160 7654321", ["Tiguan financing"]),        # customer phone
    ("Jonas Weber", ["Passat trade-in"]),
    ("no such thing", []),
    ("", ["Passat trade-in", "Tiguan financing", "Golf test drive"]),
]


def test_the_search_text_filters_the_rows(people, three_lights, open_app, ui):
    at = open_app(people.anna)
    assert len(_subjects(ui, at)) == 3
    for text, expected in SEARCHES:
        at.text_input(key="lead_search").input(text).run()
        assert not at.exception
        assert _subjects(ui, at) == expected, text
        assert ("No leads match" in " ".join(i.value for i in at.info)) is (not expected), text


LIGHTS = [
    (["overdue"], ["Passat trade-in"]),
    (["due soon"], ["Tiguan financing"]),
    (["on time"], ["Golf test drive"]),
    (["overdue", "on time"], ["Passat trade-in", "Golf test drive"]),
    ([], ["Passat trade-in", "Tiguan financing", "Golf test drive"]),
]


def test_the_traffic_light_filter(people, three_lights, open_app, ui):
    at = open_app(people.anna)
    assert at.multiselect(key="lead_filter_light").options == ["🟢 on time", "🟡 due soon", "🔴 overdue"]
    for lights, expected in LIGHTS:
        at.multiselect(key="lead_filter_light").set_value(lights).run()
        assert not at.exception
        assert _subjects(ui, at) == expected, lights


def test_the_status_filter(people, three_lights, reason_ids, cur, now, open_app, ui):
    leads.complete(cur, people.anna, now, three_lights["due soon"], reason_ids["sold"])
    at = open_app(people.anna)
    assert at.multiselect(key="lead_filter_status").value == ["open"]
    assert _subjects(ui, at) == ["Passat trade-in", "Golf test drive"]
    at.multiselect(key="lead_filter_status").set_value(["completed"]).run()
    assert _subjects(ui, at) == ["Tiguan financing"]
    assert ui.table(at)["status"].tolist() == [fmt.status("completed")]
    at.multiselect(key="lead_filter_status").set_value(["open", "completed"]).run()
    assert _subjects(ui, at) == ["Passat trade-in", "Golf test drive", "Tiguan financing"]


def test_the_source_and_lead_type_filters(people, three_lights, source_ids, open_app, ui):
    at = open_app(people.anna)
    at.multiselect(key="lead_filter_source").set_value([source_ids["Phone"]]).run()
    assert _subjects(ui, at) == ["Passat trade-in"]
    at.multiselect(key="lead_filter_source").set_value([]).run()
    at.multiselect(key="lead_filter_type").set_value(["financing", "new_car"]).run()
    assert _subjects(ui, at) == ["Tiguan financing", "Golf test drive"]


def test_my_leads_narrows_a_supervisors_list_to_their_own(people, contact, make_lead, open_app, ui):
    make_lead(people.anna, subject="Anna's lead")
    make_lead(people.clara, subject="Clara's own lead")
    at = open_app(people.clara)
    assert sorted(_subjects(ui, at)) == ["Anna's lead", "Clara's own lead"]
    at.toggle(key="lead_mine").set_value(True).run()
    assert _subjects(ui, at) == ["Clara's own lead"]


def test_a_seller_without_my_leads_still_sees_only_visible_leads(people, contact, make_lead, open_app, ui):
    make_lead(people.anna, subject="Anna's lead")
    make_lead(people.ben, subject="Ben's lead")
    at = open_app(people.anna)
    at.toggle(key="lead_mine").set_value(False).run()
    assert _subjects(ui, at) == ["Anna's lead"]


# --- paging -------------------------------------------------------------------------------

def test_paging_with_next_and_previous(people, contact, make_lead, open_app, ui):
    ids = [make_lead(people.anna, subject=f"Lead {n:02d}") for n in range(1, 56)]
    at = open_app(people.anna)
    first = ui.table(at)["id"].tolist()
    assert first == ids[:50]
    assert "Page 1 · 1–50 of 55" in [c.value for c in at.main.caption]
    assert at.button(key="leads_pager_previous").disabled
    assert not at.button(key="leads_pager_next").disabled

    at.button(key="leads_pager_next").click().run()
    assert not at.exception
    assert ui.table(at)["id"].tolist() == ids[50:]
    assert "Page 2 · 51–55 of 55" in [c.value for c in at.main.caption]
    assert at.button(key="leads_pager_next").disabled
    assert not at.button(key="leads_pager_previous").disabled

    at.button(key="leads_pager_previous").click().run()
    assert ui.table(at)["id"].tolist() == ids[:50]
    assert "Page 1 · 1–50 of 55" in [c.value for c in at.main.caption]

    # A changed filter starts again on page 1.
    at.button(key="leads_pager_next").click().run()
    at.text_input(key="lead_search").input("Lead 5").run()
    assert ui.table(at)["subject"].tolist() == [f"Lead {n}" for n in range(50, 56)]
    assert "Page 1 · 1–6 of 6" in [c.value for c in at.main.caption]


# --- opening a lead -----------------------------------------------------------------------

def test_selecting_a_row_opens_the_lead_and_back_returns_to_the_list(people, three_lights, open_app, ui):
    at = open_app(people.anna)
    table_key = next(d.key for d in at.dataframe if d.key.startswith("lead_table_"))
    assert table_key == "lead_table_0"
    at.session_state[table_key] = {"selection": {"rows": [1], "columns": []}}
    at.run()
    assert not at.exception
    assert at.query_params == {"lead": str(three_lights["due soon"])}
    assert [s.value for s in at.subheader] == [f"#{three_lights['due soon']} · Tiguan financing"]
    assert ui.table(at) is None

    at.button[[b.label for b in at.button].index("Back to leads")].click().run()
    assert not at.exception
    assert at.query_params == {}
    assert at.title[0].value == "Leads"
    assert _subjects(ui, at) == ["Passat trade-in", "Tiguan financing", "Golf test drive"]
    # A fresh table key: the old selection does not open the lead again.
    assert [d.key for d in at.dataframe] == ["lead_table_1"]
    at.run()
    assert at.query_params == {}


def test_a_lead_opens_from_the_query_parameter(people, three_lights, open_app, ui):
    lead_id = three_lights["overdue"]
    at = open_app(people.anna, query={"lead": str(lead_id)})
    assert not at.exception
    assert [s.value for s in at.subheader] == [f"#{lead_id} · Passat trade\\-in"]
    assert ui.table(at) is None
    [timeline] = at.dataframe
    assert timeline.value[["who", "detail"]].values.tolist() == [["Anna Becker", "Passat trade-in"]]


def test_an_unknown_lead_in_the_query_parameter_says_so(people, open_app):
    at = open_app(people.anna, query={"lead": "999"})
    assert not at.exception
    assert [e.value for e in at.error] == ["This lead does not exist."]


@pytest.mark.parametrize("shown, expected", [("first_last", "Anna Becker"), ("last_first", "Becker, Anna"),
                                             ("username", "anna")])
def test_the_list_shows_editors_as_the_basic_setting_says(people, make_lead, open_app, cur, ui, shown, expected):
    from leadcore.admin import settings

    make_lead(people.anna)
    settings.put(cur, "user_name_display", shown)
    at = open_app(people.clara)
    assert not at.exception
    assert ui.table(at)["editor"].tolist() == [expected]
    assert expected in at.multiselect(key="lead_filter_editor").options


# --- what a rerun reads again (issue 12: kept between changes) --------------------------------

def test_the_total_is_kept_but_counts_a_new_lead_on_the_next_rerun(people, contact, make_lead, open_app, ui,
                                                                     monkeypatch):
    from leadcore.leads import listing

    for n in range(3):
        make_lead(people.anna, subject=f"Lead {n}")
    at = open_app(people.anna)
    assert "Page 1 · 1–3 of 3" in [c.value for c in at.main.caption]
    counted = []
    with monkeypatch.context() as patch:
        patch.setattr(listing, "count_leads", lambda *a, **k: counted.append(1) or 0)
        at.run()                               # nothing changed: the kept total, no count(*)
    assert counted == [] and "Page 1 · 1–3 of 3" in [c.value for c in at.main.caption]
    make_lead(people.anna, subject="Lead 3")   # another session creates a lead
    at.run()
    assert "Page 1 · 1–4 of 4" in [c.value for c in at.main.caption]
    assert "Lead 3" in ui.table(at)["subject"].tolist()


def test_a_setting_saved_in_another_session_shows_on_the_next_rerun(people, make_lead, open_app, cur, now, ui):
    from dataclasses import replace

    from leadcore.admin import basic, settings

    make_lead(people.anna)
    at = open_app(people.clara)
    assert ui.table(at)["editor"].tolist() == ["Anna Becker"]
    new = replace(settings.basic_settings(cur), user_name_display="username")
    basic.update_basic_settings(cur, people.frank, now, new)    # the Settings page of another session
    at.run()
    assert ui.table(at)["editor"].tolist() == ["anna"]


def test_a_user_deactivated_meanwhile_is_signed_out_on_the_next_rerun(people, open_app, cur, now):
    from leadcore.admin import users

    at = open_app(people.anna)
    assert at.title[0].value == "Leads"
    users.set_active(cur, people.frank, now, people.anna.id, False)
    at.run()
    assert not at.exception
    assert "user_id" not in at.session_state
    assert at.text_input(key="sign_in_username")        # back at the sign-in form
