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

from leadcore.auth import SYSTEM
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
        intake_file(cur, SYSTEM, now, name, (CORPUS / name).read_bytes())
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


REAL = CORPUS / "real"


def real_upload(name: str) -> tuple[str, bytes, str]:
    return name, (REAL / name).read_bytes(), "application/xml" if name.endswith(".xml") else "message/rfc822"


def test_the_report_shows_what_was_kept_and_flagged_per_file(intake_page, people, cur):
    cur.execute("UPDATE settings SET value = '\"US\"' WHERE key = 'dealership_country'")
    at = intake_page(people.dirk)
    names = ["adf_full_dtd.xml", "adf_spec_example.xml", "mail_attachments_one_broken.eml"]
    at.file_uploader[0].set_value([real_upload(n) for n in names]).run()
    ui_report = at.button(key="intake_run").click().run()
    assert not ui_report.exception
    report = at.dataframe[0].value
    rows = {f: row for f, row in zip(report["file"], report.to_dict("records"))}
    full = rows["adf_full_dtd.xml"]
    assert full["contact"] == "Angela Brooks · angela.brooks@example.com"
    assert "+16165550148 (cellphone, evening)" in full["phones"]
    assert "Trade-in: 2015 Chevrolet Silverado 1500 LT" in full["vehicles"]
    assert full["comments"].startswith("I'd like a quote with my trade")
    assert full["source"] == "Lakeside Ford website → Lakeside Ford website (new, inactive: confirm in Settings)"
    assert "New provider Lakeside Ford website" in full["flagged"]
    spec = rows["adf_spec_example.xml"]
    assert "393-999-3922 (kept as sent)" in spec["phones"] and "393-999-3922" in spec["flagged"]
    parts = [f for f in rows if f.startswith("mail_attachments_one_broken.eml › ")]
    assert len(parts) == 3
    assert [rows[p]["outcome"].split(" ", 1)[1] for p in sorted(parts)] == ["Created", "Rejected", "Created"]


# --- Settings: Intake tab -----------------------------------------------------------------------

TAB = "from leadcore.ui.settings.intake import intake_tab\nintake_tab()"


def test_the_intake_settings_are_saved(script, people, cur, source_ids, tmp_path, monkeypatch):
    monkeypatch.setenv("LEADCORE_INTAKE_ROOT", str(tmp_path))
    inbox = tmp_path / "inbox"      # not tmp_path itself: the database lies there
    inbox.mkdir()
    at = script(TAB, people.dirk)
    assert at.selectbox(key="intake_setup_default").value == source_ids["E-mail"]
    at.selectbox(key="intake_setup_default").set_value(source_ids["Website form"])
    at.text_input(key="intake_setup_folder").set_value(str(inbox))
    at.button[0].click().run()          # the form's submit button comes first
    assert not at.exception
    assert routing.intake_settings(cur) == routing.IntakeSettings(source_ids["Website form"], str(inbox))
    assert [s.value for s in at.success] == ["Intake settings saved."]


def test_a_missing_folder_is_refused_next_to_the_field(script, people, ui, tmp_path, monkeypatch):
    monkeypatch.setenv("LEADCORE_INTAKE_ROOT", str(tmp_path))
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
    lead_id = intake_file(cur, SYSTEM, now, "adf_complete.xml", (CORPUS / "adf_complete.xml").read_bytes()).lead_id
    at = script(block(lead_id), people.dirk)
    text = at.text[0].value
    assert "2021 Volkswagen Golf GTI" in text and "Buy · Used" in text
    assert "Stock number: GW-10482" in text and "Price: 31.990,00\xa0€" in text
    assert "VIN: WVWZZZCDZMW012345" in text
    assert [c.value for c in at.caption] == ["Vehicle of interest", "From the VIN: Volkswagen · model year 2021"]
    assert not at.warning


def test_an_invalid_vin_is_shown_with_a_warning(script, people, cur, now):
    lead_id = intake_file(cur, SYSTEM, now, "x.xml", (CORPUS / "adf_extra_elements.xml").read_bytes()).lead_id
    at = script(block(lead_id), people.dirk)
    assert "VIN: TMBJJ7NE5J01234I5" in at.text[0].value
    assert "is not valid" in at.warning[0].value and "never contains I" in at.warning[0].value


def test_every_vehicle_shows_the_trade_in_labelled(script, people, cur, now):
    lead_id = intake_file(cur, SYSTEM, now, "adf_full_dtd.xml", (REAL / "adf_full_dtd.xml").read_bytes()).lead_id
    at = script(block(lead_id), people.dirk)
    assert not at.exception
    captions = [c.value for c in at.caption]
    assert "Vehicle of interest" in captions and "The customer's vehicle (Trade-in)" in captions
    wanted, trade_in = (t.value for t in at.text)
    assert "2024 Ford Bronco Sport Big Bend" in wanted and "Finance:" in wanted and "Eruption Green" in wanted
    assert "Odometer: 98.500 mi" in trade_in and "(appraisal)" in trade_in


def test_a_vin_year_conflict_shows_the_files_year_and_a_warning(script, people, cur, now):
    data = (REAL / "adf_vin_year_conflict.xml").read_bytes()
    lead_id = intake_file(cur, SYSTEM, now, "adf_vin_year_conflict.xml", data).lead_id
    at = script(block(lead_id), people.dirk)
    assert "2016" in at.text[0].value
    assert "The VIN says model year 2018, the request says 2016" in at.warning[0].value


def test_new_provider_sources_are_confirmed_in_the_intake_tab(script, people, cur, now, ui):
    result = intake_file(cur, SYSTEM, now, "adf_truecar_name_full.xml", (REAL / "adf_truecar_name_full.xml").read_bytes())
    at = script(TAB, people.dirk)
    assert "New providers sent leads" in at.warning[0].value
    at.selectbox(key="intake_confirm_source").set_value(result.source_id)
    ui.button(at, "Confirm source").click().run()
    assert not at.exception
    assert cur.execute("SELECT active FROM sources WHERE id = ?", [result.source_id]).fetchall() == [(True,)]


def test_a_lead_without_vehicle_shows_nothing_and_others_leads_stay_hidden(script, people, cur, now, make_lead):
    lead_id = make_lead(people.anna)
    assert not script(block(lead_id), people.anna).text
    other = intake_file(cur, SYSTEM, now, "adf_complete.xml", (CORPUS / "adf_complete.xml").read_bytes()).lead_id
    at = script(block(other), people.ben)        # Clara's lead: Ben may not see it
    assert at.exception and "may not see this lead" in at.exception[0].value
