"""The Settings page (managers and admins) and "My absences" (everyone): every tab renders,
other roles do not get it, and the forms change the database or say what is wrong.

Until app.py lists the two pages, each page script runs on its own (signed in through the
session state, as the app does); once app.py has them, through the app's navigation.
"""
from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from leadcore import auth
from leadcore.admin import holidays as closures
from leadcore.admin import settings, sources, users
from tests.factories import absences_of

ROOT = Path(__file__).resolve().parents[2]
SETTINGS, PROFILE = "pages/settings.py", "pages/profile.py"
TABS = ["Basic settings", "Working hours", "Holidays", "Escalation times", "Sources", "Intake", "Users",
        "Completion reasons", "E-mail templates", "Outbox", "Audit log"]
NOT_ALLOWED = "Only managers and admins may change the settings."


@pytest.fixture
def open_page(db_path, con, open_app):
    def start(user, page: str = SETTINGS) -> AppTest:
        return open_app(user, page=page)

    return start


def _submit(at: AppTest, ui, label: str) -> AppTest:
    ui.button(at, label).click()
    at.run()
    assert not at.exception, at.exception
    return at


def _table(at: AppTest, column: str):
    """The one table showing this column (st.dataframe carries no key in AppTest)."""
    [found] = [d.value for d in at.dataframe if column in d.value.columns]
    return found


def _successes(at: AppTest) -> list[str]:
    return [s.value for s in at.success]


# --- who gets the page -----------------------------------------------------------------------

@pytest.mark.parametrize("role", ["manager", "admin"])
def test_every_tab_renders_for_managers_and_admins(by_role, open_page, role):
    at = open_page(by_role[role])
    assert not at.exception
    assert at.title[0].value == "Settings"
    # Backups hold every customer's data: the Backup tab is the admins' alone.
    assert [t.label for t in at.tabs] == TABS + (["Backup"] if role == "admin" else [])
    assert not at.error
    for key in ("basic_mailbox_address", "hours_0_open", "holidays_year", "escalation_stage1_minutes",
                "source_add_name", "user_edit_id", "reason_add_label", "audit_area"):
        assert at.session_state[key] is not None or key in ("user_edit_id", "audit_area")
    for column in ("channel", "username", "outcome"):      # sources, users, completion reasons
        assert len(_table(at, column))


@pytest.mark.parametrize("role", ["seller", "supervisor", "analyst"])
def test_other_roles_do_not_get_the_settings(by_role, open_page, role):
    at = AppTest.from_file(str(ROOT / SETTINGS), default_timeout=30)
    at.session_state["user_id"] = by_role[role].id
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [NOT_ALLOWED]
    assert not at.tabs and not at.button


@pytest.mark.parametrize("role, listed", [("seller", False), ("supervisor", False), ("analyst", False),
                                          ("manager", True), ("admin", True)])
def test_the_navigation_offers_settings_to_managers_and_admins_only(by_role, open_app, ui, role, listed):
    at = open_app(by_role[role])
    titles = ui.page_titles(at)
    assert ("Settings" in titles) == listed
    assert "My settings" in titles   # issue 10: "My absences" became "My settings"


# --- flows -----------------------------------------------------------------------------------

def test_basic_settings_flow(cur, people, open_page, ui):
    at = open_page(people.dirk)
    at.text_input(key="basic_mailbox_address").input("leads at autohaus")
    _submit(at, ui, "Save basic settings")
    assert ui.error_under(at, "basic_mailbox_address") == "Lead mailbox address is not a valid e-mail address."
    assert settings.basic_settings(cur).mailbox_address == ""
    at.text_input(key="basic_mailbox_address").input("leads@autohaus-mueller.de")
    at.selectbox(key="basic_user_name_display").set_value("last_first")
    at.checkbox(key="basic_distribute_to_previous_editor").uncheck()
    _submit(at, ui, "Save basic settings")
    saved = settings.basic_settings(cur)
    assert (saved.mailbox_address, saved.user_name_display, saved.distribute_to_previous_editor) == (
        "leads@autohaus-mueller.de", "last_first", False)
    assert "Basic settings saved." in _successes(at)


def test_working_hours_flow_moves_open_leads(cur, people, open_page, ui, make_lead, lead_row, local):
    lead = make_lead(people.anna)                               # Friday 10:00, due 12:00
    at = open_page(people.frank)
    at.time_input(key="hours_0_from").set_value(time(18))
    _submit(at, ui, "Save working hours")
    assert ui.error_under(at, "hours_0_to") == "Monday: the opening time must be before the closing time."
    at.time_input(key="hours_0_from").set_value(time(8))
    at.time_input(key="hours_4_to").set_value(time(11))        # Friday closes at 11:00
    at.checkbox(key="hours_5_open").uncheck()                  # Saturday closed
    _submit(at, ui, "Save working hours")
    assert settings.working_hours(cur)[4] == ("08:00", "11:00")
    assert settings.working_hours(cur)[5] is None
    assert lead_row(lead)["due_at"] == local("2026-11-30 09:00")   # Fri 10-11, Sat + Sun closed, Mon 08-09
    assert "Working hours saved; 1 open leads have a new due time." in _successes(at)


def test_holidays_flow(cur, people, open_page, ui):
    at = open_page(people.dirk)
    at.text_input(key="closure_name").input("Christmas closure")
    at.date_input(key="closure_first").set_value(date(2026, 12, 28))
    at.date_input(key="closure_last").set_value(date(2026, 12, 27))
    _submit(at, ui, "Add")
    assert ui.error_under(at, "closure_last") == "The last day cannot be before the first day."
    at.date_input(key="closure_last").set_value(date(2026, 12, 31))
    _submit(at, ui, "Add")
    assert [c.day for c in closures.list_closures(cur)] == [date(2026, 12, d) for d in range(28, 32)]
    assert "4 days added." in _successes(at)
    at.selectbox(key="public_holidays_state").set_value("BY")
    at.number_input(key="public_holidays_year").set_value(2026)
    _submit(at, ui, "Fill in public holidays")
    assert date(2026, 1, 6) in {c.day for c in closures.list_closures(cur)}
    assert _table(at, "weekday")["name"].tolist()[-1] == "Christmas closure"
    at.multiselect(key="closure_remove_days").set_value([date(2026, 12, 31)])
    _submit(at, ui, "Remove")
    assert date(2026, 12, 31) not in {c.day for c in closures.list_closures(cur)}


def test_escalation_flow_global_and_per_source(cur, people, open_page, ui, make_lead, lead_row, local,
                                               source_ids):
    lead = make_lead(people.anna, source="Phone")
    at = open_page(people.dirk)
    at.number_input(key="escalation_reminder_minutes").set_value(0)
    _submit(at, ui, "Save escalation times")
    assert ui.error_under(at, "escalation_reminder_minutes") == "Seller reminder must be at least 1 minute."
    at.number_input(key="escalation_stage1_minutes").set_value(60)
    at.number_input(key="escalation_reminder_minutes").set_value(20)
    _submit(at, ui, "Save escalation times")
    assert settings.escalation_times(cur) == settings.EscalationTimes(60, 20, 240, 1440)
    assert lead_row(lead)["due_at"] == local("2026-11-27 11:00")
    phone = source_ids["Phone"]
    at.selectbox(key="escalation_source_id").set_value(phone).run()
    at.number_input(key=f"escalation_source_{phone}_stage1_minutes").set_value(30)
    _submit(at, ui, "Save override")
    assert settings.source_escalation(cur, phone) == settings.EscalationTimes(30, None, None, None)
    assert lead_row(lead)["due_at"] == local("2026-11-27 10:30")
    _submit(at, ui, "Remove override")
    assert settings.source_escalation(cur, phone) is None
    assert lead_row(lead)["due_at"] == local("2026-11-27 11:00")


def test_sources_flow(cur, people, open_page, ui, make_lead, source_ids):
    at = open_page(people.dirk)
    at.text_input(key="source_add_name").input("Facebook Ads")
    at.selectbox(key="source_add_channel").set_value("marketplace")
    at.multiselect(key="source_add_users").set_value([people.anna.id, people.ben.id])
    _submit(at, ui, "Add source")
    added = [s for s in sources.list_sources(cur) if s.name == "Facebook Ads"][0]
    assert sources.assigned_users(cur, added.id) == sorted([people.anna.id, people.ben.id])
    assert _table(at, "channel")["name"].tolist()[-1] == "Facebook Ads"
    phone = source_ids["Phone"]
    at.selectbox(key="source_edit_id").set_value(phone).run()
    at.text_input(key=f"source_{phone}_name").input("mobile.de")
    _submit(at, ui, "Save source")
    assert ui.error_under(at, f"source_{phone}_name") == "A source named mobile.de exists already."
    at.text_input(key=f"source_{phone}_name").input("Telephone")
    at.checkbox(key=f"source_{phone}_active").uncheck()
    _submit(at, ui, "Save source")
    assert sources.get_source(cur, phone).name == "Telephone" and not sources.get_source(cur, phone).active
    at.button(key=f"source_{phone}_up").click().run()
    assert [s.name for s in sources.list_sources(cur, active_only=False)][2] == "Telephone"
    make_lead(people.anna, source="Walk-in")
    walk_in = source_ids["Walk-in"]
    at.selectbox(key="source_edit_id").set_value(walk_in).run()
    at.button(key=f"source_{walk_in}_delete").click().run()
    assert "cannot be deleted" in " ".join(e.value for e in at.error)
    assert sources.get_source(cur, walk_in)


def test_users_flow(cur, people, open_page, ui, password):
    at = open_page(people.frank)
    at.text_input(key="user_add_username").input("jonas")
    at.text_input(key="user_add_full_name").input("Jonas Weber")
    at.text_input(key="user_add_email").input("jonas@autohaus.example")
    at.selectbox(key="user_add_role").set_value("seller")
    at.multiselect(key="user_add_superiors").set_value([people.clara.id])
    at.text_input(key="user_add_password").input("short")
    _submit(at, ui, "Add user")
    assert ui.error_under(at, "user_add_password") == "Password must have at least 8 characters."
    at.text_input(key="user_add_password").input(password)
    _submit(at, ui, "Add user")
    jonas = auth.authenticate(cur, "jonas", password)
    assert jonas is not None and users.superior_ids(cur, jonas.id) == (people.clara.id,)
    # Clara may not report to Anna, who reports to Clara.
    clara = people.clara.id
    at.selectbox(key="user_edit_id").set_value(clara).run()
    at.multiselect(key=f"user_{clara}_superiors").set_value([people.anna.id])
    _submit(at, ui, "Save user")
    assert "cannot form a circle" in ui.error_under(at, f"user_{clara}_superiors")
    at.multiselect(key=f"user_{clara}_superiors").set_value([people.dirk.id])
    at.text_input(key=f"user_{clara}_location").input("Potsdam")
    _submit(at, ui, "Save user")
    assert users.superior_ids(cur, clara) == (people.dirk.id,)
    assert auth.get_user(cur, clara).location == "Potsdam"
    at.text_input(key=f"user_{clara}_password").input("a brand new secret")
    _submit(at, ui, "Reset password")
    assert auth.authenticate(cur, "clara", "a brand new secret") is not None
    at.button(key=f"user_{clara}_deactivate").click().run()
    assert not auth.get_user(cur, clara).active
    at.button(key=f"user_{clara}_reactivate").click().run()
    assert auth.get_user(cur, clara).active


def test_a_manager_gets_no_password_reset_and_no_admin_role(people, open_page):
    at = open_page(people.dirk)
    assert "admin" not in at.selectbox(key="user_add_role").options
    at.selectbox(key="user_edit_id").set_value(people.anna.id).run()
    assert not [b for b in at.button if b.label == "Reset password"]
    at.selectbox(key="user_edit_id").set_value(people.frank.id).run()
    assert "Only admins may change admin accounts." in [i.value for i in at.info]


def test_absence_of_another_user_from_the_users_tab(cur, people, open_page, ui, now):
    at = open_page(people.dirk)
    anna = people.anna.id
    at.selectbox(key="user_edit_id").set_value(anna).run()
    key = f"user_{anna}_absence"
    at.date_input(key=f"{key}_starts_on").set_value(date(2026, 12, 1))
    at.date_input(key=f"{key}_ends_on").set_value(date(2026, 12, 5))
    at.selectbox(key=f"{key}_deputy").set_value(people.ben.id)
    _submit(at, ui, "Add absence")
    [absence] = absences_of(cur, anna)
    assert (absence.starts_on, absence.ends_on, absence.deputy_id) == (date(2026, 12, 1), date(2026, 12, 5),
                                                                      people.ben.id)


def test_reasons_flow(cur, people, open_page, ui):
    from leadcore.admin import reasons
    at = open_page(people.dirk)
    at.text_input(key="reason_add_label").input("Financing refused")
    at.selectbox(key="reason_add_outcome").set_value("lost")
    _submit(at, ui, "Add reason")
    assert [r.label for r in reasons.list_reasons(cur)][-1] == "Financing refused"
    spam = cur.execute("SELECT id FROM completion_reasons WHERE code = 'spam'").fetchall()[0][0]
    at.selectbox(key="reason_edit_id").set_value(spam).run()
    assert at.selectbox(key=f"reason_{spam}_outcome").disabled
    assert not [b for b in at.button if b.key == f"reason_{spam}_delete"]
    at.text_input(key=f"reason_{spam}_label").input("Spam / fake")
    at.checkbox(key=f"reason_{spam}_hidden").check()
    _submit(at, ui, "Save reason")
    assert "Spam / fake" not in [r.label for r in reasons.list_reasons(cur)]
    assert "Spam / fake" in [r.label for r in reasons.list_reasons(cur, include_hidden=True)]


def test_the_audit_log_shows_who_changed_what(cur, people, open_page, ui):
    at = open_page(people.dirk)
    at.text_input(key="basic_email_from_name").input("Autohaus Müller")
    _submit(at, ui, "Save basic settings")
    log = _table(at, "who")
    first = log.iloc[0]
    assert (first["who"], first["area"]) == ("Dirk Hahn", "Basic settings")
    assert "email_from_name: Autohaus → Autohaus Müller" in first["change"]
    at.selectbox(key="audit_area").set_value("users").run()
    assert set(_table(at, "who")["area"]) == {"Users"}


# --- My absences -----------------------------------------------------------------------------

def test_every_signed_in_user_enters_their_own_absence(cur, people, open_page, ui):
    at = open_page(people.anna, PROFILE)
    assert not at.exception
    assert at.title[0].value == "My settings"   # issue 10: "My absences" became "My settings"
    at.date_input(key="my_absence_starts_on").set_value(date(2026, 12, 3))
    at.date_input(key="my_absence_ends_on").set_value(date(2026, 12, 1))
    _submit(at, ui, "Add absence")
    assert ui.error_under(at, "my_absence_ends_on") == "The last day cannot be before the first day."
    at.date_input(key="my_absence_ends_on").set_value(date(2026, 12, 4))
    at.selectbox(key="my_absence_deputy").set_value(people.ben.id)
    at.text_input(key="my_absence_note").input("Holiday *Sylt*")
    _submit(at, ui, "Add absence")
    [absence] = absences_of(cur, people.anna.id)
    assert (absence.starts_on, absence.ends_on, absence.deputy_id, absence.note) == (
        date(2026, 12, 3), date(2026, 12, 4), people.ben.id, "Holiday *Sylt*")
    assert any("03.12.2026 – 04.12.2026 · deputy: Ben Schulz · Holiday *Sylt*" == t.value for t in at.text)
    at.button(key=f"my_absence_remove_{absence.id}").click().run()
    assert absences_of(cur, people.anna.id) == []


@pytest.mark.parametrize("role", ["analyst", "supervisor", "manager"])
def test_my_absences_renders_for_every_role(by_role, open_page, role):
    at = open_page(by_role[role], PROFILE)
    assert not at.exception and not at.error
    assert [b.label for b in at.button if b.label == "Add absence"] == ["Add absence"]


def test_a_reason_moves_up_and_an_unused_one_is_deleted(cur, people, open_page, ui):
    from leadcore.admin import reasons
    at = open_page(people.dirk)
    at.text_input(key="reason_add_label").input("Financing refused")
    at.selectbox(key="reason_add_outcome").set_value("lost")
    _submit(at, ui, "Add reason")
    added = [r for r in reasons.list_reasons(cur) if r.label == "Financing refused"][0]
    at.selectbox(key="reason_edit_id").set_value(added.id).run()
    at.button(key=f"reason_{added.id}_up").click().run()
    assert not at.exception
    assert [r.label for r in reasons.list_reasons(cur)][-2] == "Financing refused"
    at.button(key=f"reason_{added.id}_delete").click().run()
    assert not at.exception
    assert "Financing refused" not in [r.label for r in reasons.list_reasons(cur, include_hidden=True)]
    assert "Completion reason deleted." in [s.value for s in at.success]
