"""The Intake page (upload, report, intake log), the Intake settings tab and the vehicle of
interest on the lead detail, in Streamlit's AppTest.

The page runs as its own script (AppTest.from_file), so these tests do not depend on where
app.py's navigation lists it; the switch to the lead is asserted as the redirect the page asks
app.py for. AppTest 1.67 drives st.file_uploader (set_value with (name, bytes, type) tuples).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from leadcore import auth
from leadcore.intake import intake_file, routing

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "data" / "intake"
FILES = ("adf_complete.xml", "mobile_de.eml", "not_adf.xml")


def upload(name: str) -> tuple[str, bytes, str]:
    return name, (CORPUS / name).read_bytes(), "application/xml" if name.endswith(".xml") else "message/rfc822"


@pytest.fixture
def intake_page(db_path, con, people):
    def start(user) -> AppTest:
        at = AppTest.from_file(str(REPO / "pages" / "intake.py"), default_timeout=30)
        at.session_state["user_id"] = user.id
        return at.run()
    return start


@pytest.fixture
def script(db_path, con, people):
    """A few lines of Streamlit calling one of leadcore's UI pieces, run as `user`."""
    def start(code: str, user) -> AppTest:
        at = AppTest.from_string(code, default_timeout=30)
        at.session_state["user_id"] = user.id
        return at.run()
    return start


def test_three_uploaded_files_are_taken_in_and_reported(intake_page, people, count, ui):
    at = intake_page(people.dirk)
    assert not at.exception
    assert ui.button(at, "Take in files").disabled
    at.file_uploader[0].set_value([upload(name) for name in FILES]).run()
    ui.button(at, "Take in files").click().run()
    assert not at.exception
    assert count("leads") == 2 and count("intake_log") == 3
    report, log = (table.value for table in at.dataframe)     # the report, then the intake log
    assert list(report["file"]) == list(FILES)
    assert [o.split(" ", 1)[1] for o in report["outcome"]] == ["Created", "Created", "Rejected"]
    assert "not an ADF lead" in report["reason"].iloc[2]
    assert "3 files: 2 created, 0 merged, 1 rejected." in ui.texts(at)
    assert not at.file_uploader[0].value                     # a fresh uploader: nothing goes in twice
    assert list(log["file_name"]) == list(reversed(FILES))


def test_a_created_lead_opens_from_the_report(intake_page, people, cur):
    at = intake_page(people.dirk)
    at.file_uploader[0].set_value([upload("mobile_de.eml")]).run()
    at.button(key="intake_run").click().run()
    lead_id = cur.execute("SELECT max(id) FROM leads").fetchall()[0][0]
    assert at.selectbox(key="intake_report_lead").value == lead_id
    at.button(key="intake_open_lead").click().run()
    assert at.session_state["_redirect"] == ("pages/leads.py", {"lead": str(lead_id)})


def test_the_intake_log_filters_by_outcome(intake_page, people, cur, now):
    for name in FILES:
        intake_file(cur, auth.SYSTEM, now, name, (CORPUS / name).read_bytes())
    at = intake_page(people.frank)
    at.selectbox(key="intake_log_outcome").set_value("rejected").run()
    assert [list(t.value["file_name"]) for t in at.dataframe] == [["not_adf.xml"]]


def test_sellers_cannot_take_files_in(intake_page, people):
    at = intake_page(people.anna)
    assert [e.value for e in at.error] == ["Only managers and admins may take in lead files."]
    assert not at.file_uploader


def test_an_empty_log_says_so(intake_page, people):
    at = intake_page(people.dirk)
    assert [i.value for i in at.info] == ["Nothing taken in yet."]


# --- Settings: Intake tab -----------------------------------------------------------------------

TAB = "from leadcore.ui.settings.intake import intake_tab\nintake_tab()"


def test_the_intake_settings_are_saved(script, people, cur, source_ids, tmp_path):
    at = script(TAB, people.dirk)
    assert at.selectbox(key="intake_setup_default").value == source_ids["E-mail"]
    at.selectbox(key="intake_setup_default").set_value(source_ids["Website form"])
    at.text_input(key="intake_setup_folder").set_value(str(tmp_path))
    at.button[0].click().run()          # the form's submit button comes first
    assert not at.exception
    assert routing.intake_settings(cur) == routing.IntakeSettings(source_ids["Website form"], str(tmp_path))
    assert [s.value for s in at.success] == ["Intake settings saved."]


def test_a_missing_folder_is_refused_next_to_the_field(script, people, ui, tmp_path):
    at = script(TAB, people.dirk)
    at.text_input(key="intake_setup_folder").set_value(str(tmp_path / "nowhere"))
    at.button[0].click().run()
    assert "does not exist on the server" in ui.error_under(at, "intake_setup_folder")


def test_senders_are_mapped_and_removed(script, people, cur, source_ids, ui):
    at = script(TAB, people.dirk)
    at.text_input(key="intake_sender_add_pattern").set_value("leads@portal.example")
    at.selectbox(key="intake_sender_add_source").set_value(source_ids["Website form"])
    ui.button(at, "Add sender").click().run()
    assert ("leads@portal.example", source_ids["Website form"]) in [
        (m.pattern, m.source_id) for m in routing.sender_sources(cur)]
    assert "Mails from leads@portal.example now become leads of Website form." in [s.value for s in at.success]
    at.text_input(key="intake_sender_add_pattern").set_value("nonsense")
    ui.button(at, "Add sender").click().run()
    assert "e-mail address" in ui.error_under(at, "intake_sender_add_pattern")
    at.selectbox(key="intake_sender_remove_pattern").set_value("@mobile.de")
    ui.button(at, "Remove sender").click().run()
    assert "@mobile.de" not in [m.pattern for m in routing.sender_sources(cur)]


# --- Lead detail: vehicle of interest -------------------------------------------------------------

def block(lead_id: int) -> str:
    return f"from leadcore.ui.vehicle_block import vehicle_block\nvehicle_block({lead_id})"


def test_the_vehicle_of_interest_with_its_decoded_vin(script, people, cur, now):
    lead_id = intake_file(cur, auth.SYSTEM, now, "adf_complete.xml", (CORPUS / "adf_complete.xml").read_bytes()).lead_id
    at = script(block(lead_id), people.dirk)
    text = at.text[0].value
    assert "2021 Volkswagen Golf GTI" in text and "Buy · Used" in text
    assert "Stock number: GW-10482" in text and "Price: 31.990,00\xa0€" in text
    assert "VIN: WVWZZZCDZMW012345" in text
    assert [c.value for c in at.caption] == ["Vehicle of interest", "From the VIN: Volkswagen · model year 2021"]
    assert not at.warning


def test_an_invalid_vin_is_shown_with_a_warning(script, people, cur, now):
    lead_id = intake_file(cur, auth.SYSTEM, now, "x.xml", (CORPUS / "adf_extra_elements.xml").read_bytes()).lead_id
    at = script(block(lead_id), people.dirk)
    assert "VIN: TMBJJ7NE5J01234I5" in at.text[0].value
    assert "is not valid" in at.warning[0].value and "never contains I" in at.warning[0].value


def test_a_lead_without_vehicle_shows_nothing_and_others_leads_stay_hidden(script, people, cur, now, make_lead):
    lead_id = make_lead(people.anna)
    assert not script(block(lead_id), people.anna).text
    other = intake_file(cur, auth.SYSTEM, now, "adf_complete.xml", (CORPUS / "adf_complete.xml").read_bytes()).lead_id
    at = script(block(other), people.ben)        # Clara's lead: Ben may not see it
    assert at.exception and "may not see this lead" in at.exception[0].value
