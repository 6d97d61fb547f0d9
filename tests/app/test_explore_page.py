"""The Explore page in AppTest: roles, dataset documentation, filters, grouping, downloads and the
SQL box. The page is run on its own; the navigation test at the end runs app.py and needs
app.py's PAGES entry for pages/explore.py."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from leadcore.leads import service as leads

REPO = Path(__file__).resolve().parents[2]
PAGE = "pages/explore.py"


@pytest.fixture
def open_page(db_path, con):
    def start(user) -> AppTest:
        at = AppTest.from_file(str(REPO / PAGE), default_timeout=30)
        at.session_state["user_id"] = user.id
        return at.run()

    return start


@pytest.fixture
def floor(cur, people, make_lead, local):
    made = [make_lead(people.anna), make_lead(people.anna, source="Phone", at=local("2026-11-26 10:00")),
            make_lead(people.ben, source="Phone", lead_type="service"),
            make_lead(people.ben, subject="=cmd|' /C calc'!A0", at=local("2026-11-25 09:00"))]
    sold = cur.execute("SELECT id FROM completion_reasons WHERE code = 'sold'").fetchall()[0][0]
    leads.complete(cur, people.ben, local("2026-11-27 09:00"), made[-1], sold)
    return made


def _result(at: AppTest):
    """The result table (the last dataframe of the builder tab)."""
    tables = [d.value for d in at.dataframe if "column" not in d.value.columns]
    return tables[0] if tables else None


@pytest.mark.parametrize("role", ["analyst", "manager", "admin"])
def test_explorers_see_the_datasets_and_their_rows(by_role, floor, open_page, role):
    at = open_page(by_role[role])
    assert not at.exception
    assert at.title[0].value == "Explore"
    assert at.selectbox(key="explore_dataset").value == "explore_leads"
    columns = [d.value for d in at.dataframe if "column" in d.value.columns][0]
    assert "traffic_light" in columns["column"].tolist() and "email" not in columns["column"].tolist()
    assert len(_result(at)) == 4
    assert any("4 rows of explore_leads match." == c.value for c in at.caption)
    assert len(at.get("download_button")) == 2                      # CSV and Parquet


@pytest.mark.parametrize("role", ["seller", "supervisor"])
def test_other_roles_are_told_explore_is_not_for_them(by_role, floor, open_page, role):
    at = open_page(by_role[role])
    assert not at.exception
    assert "Explore is for analysts" in at.error[0].value
    assert not at.dataframe


def test_filter_group_and_aggregate(people, floor, open_page, source_ids):
    at = open_page(people.eva)
    at.multiselect(key="explore_filter_explore_leads").set_value(["status"]).run()
    at.multiselect(key="explore_explore_leads_status").set_value(["open"]).run()
    assert not at.exception
    assert len(_result(at)) == 3
    at.multiselect(key="explore_group_explore_leads").set_value(["source"]).run()
    assert not at.exception
    grouped = _result(at)
    assert dict(zip(grouped["source"], grouped["count"])) == {"Phone": 2, "mobile.de": 1}
    charts = [e for e in at.main if getattr(e, "type", None) == "vega_lite_chart"]
    assert len(charts) == 1                                          # the quick chart
    at.multiselect(key="explore_functions").set_value(["count", "min"]).run()
    at.multiselect(key="explore_of_explore_leads").set_value(["arrived_at"]).run()
    assert not at.exception
    assert list(_result(at).columns) == ["source", "count", "min_arrived_at"]


def test_every_dataset_renders(people, floor, open_page):
    at = open_page(people.eva)
    for name in ("explore_lead_events", "explore_completions"):
        at.selectbox(key="explore_dataset").set_value(name).run()
        assert not at.exception
        assert _result(at) is not None


def test_the_sql_box_runs_a_select_and_refuses_the_rest(people, floor, open_page, count):
    at = open_page(people.eva)
    at.text_area(key="explore_sql").set_value(
        "SELECT source, count(*) AS leads FROM explore_leads GROUP BY source ORDER BY leads DESC, source").run()
    at.button(key="explore_run_sql").click().run()
    assert not at.exception
    sql_result = at.dataframe[-1].value
    assert sql_result.to_dict("list") == {"source": ["Phone", "mobile.de"], "leads": [2, 2]}
    at.text_area(key="explore_sql").set_value("DROP TABLE leads").run()
    at.button(key="explore_run_sql").click().run()
    assert not at.exception
    assert "Only a SELECT" in at.error[-1].value
    assert count("leads") == 4
    at.text_area(key="explore_sql").set_value("SELECT * FROM users").run()
    at.button(key="explore_run_sql").click().run()
    assert "not one of the documented views" in at.error[-1].value


def test_the_sql_box_reads_no_server_files_and_runs_no_bombs(people, floor, open_page, tmp_path):
    secret = tmp_path / "x.csv"
    secret.write_text("secret\nsecret-4711\n")
    at = open_page(people.eva)
    for text, message in [(f'SELECT * FROM (WITH "{secret}" AS (SELECT 1) SELECT 1) a, "{secret}" b',
                           "not one of the documented views"),
                          ("SELECT count(*) FROM (SELECT unnest(range(1000000000)))", "unnest is not allowed"),
                          ("SELECT length(repeat('x', 1000000000))", "repeat is not allowed")]:
        at.text_area(key="explore_sql").set_value(text).run()
        at.button(key="explore_run_sql").click().run()
        assert not at.exception
        assert message in at.error[-1].value
        assert not any("secret-4711" in d.value.to_string() for d in at.dataframe)


@pytest.mark.parametrize("role, listed", [("seller", False), ("supervisor", False), ("manager", True),
                                          ("analyst", True), ("admin", True)])
def test_the_navigation_offers_explore_to_its_roles(by_role, floor, open_app, goto, role, listed):
    at = open_app(by_role[role])
    assert not at.exception
    if listed:
        goto(at, PAGE)
        assert not at.exception
        assert at.title[0].value == "Explore"
    else:
        with pytest.raises(Exception):
            goto(at, PAGE)
