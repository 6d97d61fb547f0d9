"""The Dashboard page in AppTest: every role, key figures, filters, the picked source with its
"Clear source filter", the numbers behind each chart, and friendly empty states.

Altair charts are UnknownElements here (their builders are tested in tests/unit/test_charts.py).
The page is run on its own; the navigation test at the end runs app.py and needs app.py's
PAGES entry for pages/dashboard.py.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block, Dataframe, Markdown

from leadcore.leads import service as leads

REPO = Path(__file__).resolve().parents[2]
PAGE = "pages/dashboard.py"
CHARTS = {"Open leads by source": "open", "Escalated leads by source": "escalated", "New leads per day": "new",
          "Time to first response": "response", "Completions by reason": "completions",
          "Workload per editor": "workload"}


@pytest.fixture
def open_page(db_path, con):
    """Run one page script on its own, signed in as `user` (the page does its own role check)."""

    def start(user, page: str = PAGE, state: dict | None = None) -> AppTest:
        at = AppTest.from_file(str(REPO / page), default_timeout=30)
        at.session_state["user_id"] = user.id
        for key, value in (state or {}).items():
            at.session_state[key] = value
        return at.run()

    return start


@pytest.fixture
def floor(cur, people, make_lead, local):
    """Anna: on time + escalated (Phone) + one sold; Ben: due soon (AutoScout24); Dirk: on time."""
    made = {
        "anna_on_time": make_lead(people.anna),
        "anna_escalated": make_lead(people.anna, source="Phone", lead_type="service",
                                    at=local("2026-11-26 10:00")),
        "ben_due_soon": make_lead(people.ben, source="AutoScout24", at=local("2026-11-27 08:15")),
        "dirk_on_time": make_lead(people.dirk, source="Walk-in", lead_type="used_car"),
        "anna_sold": make_lead(people.anna, at=local("2026-11-25 09:00")),
    }
    sold = cur.execute("SELECT id FROM completion_reasons WHERE code = 'sold'").fetchall()[0][0]
    leads.complete(cur, people.anna, local("2026-11-27 09:00"), made["anna_sold"], sold)
    return made


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _table(at: AppTest, name: str):
    """The table under a chart card's heading (st.dataframe has no key in AppTest)."""
    card = None
    for node in at.main:
        if isinstance(node, Block):
            continue
        if isinstance(node, Markdown) and node.value.startswith("#### "):
            card = CHARTS.get(node.value[5:])
        elif isinstance(node, Dataframe) and card == name:
            return node.value
    return None


@pytest.mark.parametrize("role", ["manager", "admin", "analyst", "supervisor"])
def test_every_dashboard_role_sees_figures_charts_and_numbers(by_role, floor, open_page, role):
    at = open_page(by_role[role])
    assert not at.exception
    assert at.title[0].value == "Dashboard"
    figures = _metrics(at)
    assert list(figures) == ["Open leads", "Due soon", "Overdue", "Escalated to supervisors", "New leads",
                             "Median first response", "Win rate", "Won · lost"]
    team = role == "supervisor"                                     # Clara sees Anna's and Ben's leads
    assert figures["Open leads"] == ("3" if team else "4")
    assert (figures["Due soon"], figures["Overdue"], figures["Escalated to supervisors"]) == ("1", "1", "1")
    assert figures["New leads"] == ("4" if team else "5")
    assert (figures["Win rate"], figures["Won · lost"]) == ("100%", "1 · 0")
    for name in CHARTS.values():
        assert _table(at, name) is not None, name
    assert len(at.get("download_button")) == len(CHARTS)
    assert len([e for e in at.main if getattr(e, "type", None) == "vega_lite_chart"]) == len(CHARTS)
    expected_editors = {"Anna Becker", "Ben Schulz"} | (set() if team else {"Dirk Hahn"})
    assert set(_table(at, "workload")["editor"]) == expected_editors


def test_sellers_are_told_the_dashboard_is_not_for_them(people, floor, open_page):
    at = open_page(people.anna)
    assert not at.exception
    assert "The Dashboard is for managers" in at.error[0].value
    assert not at.metric


def test_the_numbers_behind_the_open_leads_chart(people, floor, open_page):
    table = _table(open_page(people.dirk), "open")
    rows = {r.source: (r.overdue if "overdue" in table else 0, r.total) for r in table.itertuples()}
    assert rows == {"AutoScout24": (0, 1), "Phone": (1, 1), "mobile.de": (0, 1), "Walk-in": (0, 1)}


def test_period_location_source_and_lead_type_filters(people, floor, open_page, source_ids):
    at = open_page(people.dirk)
    at.segmented_control(key="dash_period").set_value("today").run()
    assert not at.exception
    assert _metrics(at)["New leads"] == "3"                         # arrived on Friday 27.11.
    at.multiselect(key="dash_sources").set_value([source_ids["Phone"]]).run()
    assert (_metrics(at)["Open leads"], _metrics(at)["Overdue"]) == ("1", "1")
    at.multiselect(key="dash_sources").set_value([]).run()
    at.multiselect(key="dash_types").set_value(["used_car"]).run()
    assert _metrics(at)["Open leads"] == "1"
    at.multiselect(key="dash_types").set_value([]).run()
    at.selectbox(key="dash_location").set_value("Berlin").run()
    assert _metrics(at)["Open leads"] == "4"
    at.segmented_control(key="dash_period").set_value("custom").run()
    assert at.date_input(key="dash_custom_period") is not None
    assert not at.exception


def test_a_picked_source_focuses_the_dashboard_until_cleared(people, floor, open_page):
    at = open_page(people.dirk, state={"dash_source": "Phone"})
    assert not at.exception
    assert "Focused on the source Phone" in at.info[0].value
    assert (_metrics(at)["Open leads"], _metrics(at)["Escalated to supervisors"]) == ("1", "1")
    assert list(_table(at, "workload")["editor"]) == ["Anna Becker"]
    assert len(_table(at, "open")) == 4                             # the chart by source keeps every source
    at.button(key="dash_clear_source").click().run()
    assert not at.exception
    assert not any("Focused on" in i.value for i in at.info)
    assert _metrics(at)["Open leads"] == "4"
    assert at.session_state["dash_chart_generation"] == 1           # fresh chart keys: no stale click


def test_an_empty_desk_shows_friendly_empty_states(people, open_page):
    at = open_page(people.dirk)
    assert not at.exception
    assert _metrics(at)["Open leads"] == "0"
    assert (_metrics(at)["Median first response"], _metrics(at)["Win rate"]) == ("–", "–")
    messages = [i.value for i in at.info]
    assert "No open leads match these filters: nothing is waiting." in messages
    assert "No new leads arrived in this period." in messages
    assert len(messages) == len(CHARTS)
    assert not at.get("download_button")




@pytest.mark.parametrize("role, listed", [("seller", False), ("supervisor", True), ("manager", True),
                                          ("analyst", True), ("admin", True)])
def test_the_navigation_offers_the_dashboard_to_its_roles(by_role, floor, open_app, goto, role, listed):
    at = open_app(by_role[role])
    assert not at.exception
    if listed:
        goto(at, PAGE)
        assert not at.exception
        assert at.title[0].value == "Dashboard"
        assert _metrics(at)["Open leads"] in ("3", "4")
    else:
        with pytest.raises(Exception):
            goto(at, PAGE)


# --- what a rerun reuses (issue 12): kept aggregates and chart specs ---------------------------

def test_the_figures_count_a_new_or_completed_lead_on_the_next_rerun(people, floor, open_page, make_lead,
                                                                      cur, now):
    at = open_page(people.dirk)
    assert (_metrics(at)["Open leads"], _metrics(at)["New leads"]) == ("4", "5")
    lead_id = make_lead(people.ben, source="Phone")             # another session, the same minute
    at.run()
    assert (_metrics(at)["Open leads"], _metrics(at)["New leads"]) == ("5", "6")
    lost = cur.execute("SELECT id FROM completion_reasons WHERE outcome = 'lost' LIMIT 1").fetchall()[0][0]
    leads.complete(cur, people.ben, now, lead_id, lost)
    at.run()
    assert (_metrics(at)["Open leads"], _metrics(at)["Won · lost"]) == ("4", "1 · 1")


def test_managers_share_the_kept_aggregates_but_a_supervisor_sees_their_team(people, floor, open_page,
                                                                             monkeypatch):
    from leadcore.analytics import dashboard as analytics

    open_page(people.dirk)                                      # a manager: the queries run
    calls = []
    real = analytics.aggregates
    monkeypatch.setattr(analytics, "aggregates", lambda *a: calls.append(a[1].username) or real(*a))
    assert _metrics(open_page(people.frank))["Open leads"] == "4"   # the admin sees all leads too: kept
    assert calls == []
    assert _metrics(open_page(people.clara))["Open leads"] == "3"   # her team's: her own queries
    assert calls == [people.clara.username]


def test_a_chart_spec_is_made_once_per_content_and_language():
    import pandas as pd

    from leadcore import i18n
    from leadcore.analytics import charts
    from leadcore.ui import chart

    frame = pd.DataFrame({"source": ["Phone", "Phone"], "traffic_light": ["overdue", "on time"],
                          "leads": [2, 3]})
    built = []

    def build(data, picked):
        built.append(1)
        return charts.open_by_light(data, picked)

    first = chart.spec(build, frame, None)
    again = chart.spec(build, frame.copy(), None)              # equal content, another object
    assert first == again and len(built) == 1
    assert first is not again                                   # Streamlit may change its copy
    assert any(p.get("name") == charts.SELECTION for p in first["params"])   # clicks still report
    chart.spec(build, frame.assign(leads=[2, 4]), None)         # other numbers: a new spec
    chart.spec(build, frame, "Phone")                           # a picked source: a new spec
    with i18n.using("de"):
        chart.spec(build, frame, None)                          # German axes: a new spec
    assert len(built) == 4
