"""The managers' Dashboard in Chromium: every chart renders, a click on a source bar focuses the
other charts, "Clear source filter" undoes it, and a chart's CSV downloads.

It needs leads, so this module runs its own server on a demo dealership (leadcore.demo, made in
a child process before the server starts) instead of the session's seeded one; the `page` and
`desk` fixtures of conftest.py then drive this server.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import REPO, Server, streamlit_server
from tests.factories import PINNED_NOW

DEMO_LEADS = 3_000
CHARTS = ("open", "escalated", "new", "response", "completions", "workload")

pytestmark = pytest.mark.e2e

_DEMO = """
import sys
from pathlib import Path
from datetime import datetime
from leadcore import db, demo
con = db.connect(sys.argv[1])
demo.generate(con, datetime.fromisoformat(sys.argv[2]), leads=int(sys.argv[3]), seed=11)
con.close()
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A streamlit server on a demo database of DEMO_LEADS leads (the demo's accounts)."""
    db_path = tmp_path_factory.mktemp("e2e-dashboard") / "demo.duckdb"
    subprocess.run([sys.executable, "-c", _DEMO, str(db_path), PINNED_NOW, str(DEMO_LEADS)], cwd=REPO,
                   check=True, timeout=300, env=dict(os.environ, PYTHONPATH=str(REPO)))
    with streamlit_server(db_path, LEADCORE_SCHEDULER="off") as url:
        yield Server(url=url, db_path=db_path)


def _card(page, name: str):
    return page.locator(f".st-key-dash_card_{name}")


def _bar_labels(page, name: str) -> list[str]:
    return _card(page, name).locator("[aria-roledescription='bar']").evaluate_all(
        "bars => bars.map(b => b.getAttribute('aria-label'))")


def _metric(page, label: str) -> str:
    metric = page.get_by_test_id("stMetric").filter(has_text=label)
    return metric.get_by_test_id("stMetricValue").inner_text()


@pytest.fixture
def dashboard(desk):
    desk.signed_in("manager")
    desk.go_to("Dashboard")
    for name in CHARTS:
        expect(_card(desk.page, name).locator(".vega-embed [aria-roledescription='bar']").first).to_be_visible()
    return desk


def test_the_dashboard_renders_all_its_charts(dashboard):
    page = dashboard.page
    expect(page.locator(".vega-embed")).to_have_count(len(CHARTS))
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_test_id("stMetric")).to_have_count(8)
    assert int(_metric(page, "Open leads").replace(",", "")) > 0
    dashboard.shot("dashboard")


def test_a_click_on_a_source_bar_filters_the_other_charts_until_cleared(dashboard):
    page = dashboard.page
    workload_before = _bar_labels(page, "workload")
    open_before = _metric(page, "Open leads")
    phone_bars = _card(page, "open").locator("[aria-roledescription='bar'][aria-label*='Source: Phone;']")
    labels = phone_bars.evaluate_all("bars => bars.map(b => b.getAttribute('aria-label'))")
    phone_total = sum(int(label.split("Leads: ")[1].replace(",", "")) for label in labels)
    phone_bars.first.click()
    dashboard.settle()
    expect(page.get_by_text("Focused on the source Phone")).to_be_visible()
    assert int(_metric(page, "Open leads").replace(",", "")) == phone_total
    assert _bar_labels(page, "workload") != workload_before            # the workload now counts Phone leads only
    new_sources = {label.split("Source: ")[1].split(";")[0] for label in _bar_labels(page, "new")}
    assert new_sources == {"Phone"}
    dashboard.shot("focused-on-phone")

    page.get_by_role("button", name="Clear source filter").click()
    dashboard.settle()
    expect(page.get_by_text("Focused on the source")).to_have_count(0)
    assert _metric(page, "Open leads") == open_before
    assert _bar_labels(page, "workload") == workload_before


def test_a_charts_numbers_download_as_csv(dashboard):
    page = dashboard.page
    with page.expect_download() as download:
        _card(page, "open").get_by_role("button", name="CSV").click()
    assert download.value.suggested_filename == "leadcore-open.csv"
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "source,overdue,due soon,on time,total"
    assert len(text.splitlines()) == 7                                  # the six demo sources
    expect(page.get_by_test_id("stException")).to_have_count(0)
