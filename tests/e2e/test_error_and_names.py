"""In Chromium: an unexpected failure reads "Nothing was saved." with a reference and no stack
trace, and a user whose name is Markdown sees it in the sidebar as typed, with no request to
the image's address."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, MARKDOWN_NAME, Server, screenshot, settle, streamlit_server

pytestmark = pytest.mark.e2e
FAILING_APP = "tests/e2e/apps/failing_action.py"


@pytest.fixture(scope="module")
def failing_server(tmp_path_factory):
    db_path = tmp_path_factory.mktemp("e2e-errors") / "unused.duckdb"
    with streamlit_server(db_path, script=FAILING_APP, LEADCORE_SCHEDULER="off") as url:
        yield Server(url=url, db_path=db_path)


def test_an_unexpected_failure_reads_as_a_sentence_with_a_reference(browser, failing_server):
    context = browser.new_context(viewport={"width": 1000, "height": 600})
    page = context.new_page()
    try:
        page.goto(failing_server.url)
        settle(page)
        page.get_by_label("Subject").fill("Test drive")
        page.get_by_role("button", name="Save", exact=True).click()
        settle(page)
        alert = page.get_by_test_id("stAlert").filter(has_text="Nothing was saved.")
        expect(alert).to_be_visible()
        assert re.search(r"the reference [0-9a-f]{8} ", alert.inner_text())
        expect(page.get_by_test_id("stException")).to_have_count(0)
        body = page.locator("body").inner_text()
        assert "Traceback" not in body and "/srv/secret" not in body
        assert page.get_by_label("Subject").input_value() == "Test drive"      # nothing typed is lost
        screenshot(page, ARTIFACTS / "error_path-1-unexpected.png")
        page.get_by_role("button", name="Save again").click()
        settle(page)
        expect(page.get_by_test_id("stAlert").filter(
            has_text="Someone else changed the same data at the same moment")).to_be_visible()
        page.get_by_text("Read the broken page").click()
        settle(page)
        expect(page.get_by_test_id("stAlert").filter(has_text="Nothing was saved.")).to_be_visible()
        expect(page.get_by_test_id("stException")).to_have_count(0)
        screenshot(page, ARTIFACTS / "error_path-2-conflict-and-page.png")
    finally:
        context.close()


def test_a_markdown_name_shows_as_typed_in_the_sidebar(page, desk):
    fetched = []
    page.on("request", lambda request: fetched.append(request.url)
            if "example.invalid" in request.url else None)
    desk.open()
    desk.sign_in("mallory")
    expect(page.get_by_role("heading", name="Leads")).to_be_visible()
    sidebar = page.get_by_test_id("stSidebar")
    name = sidebar.get_by_test_id("stMarkdown").first
    expect(name).to_be_visible()
    assert name.inner_text().replace("\u2060", "").strip() == MARKDOWN_NAME    # as typed
    assert name.locator("img, a, b, strong strong").count() == 0      # no image, link or own bold
    desk.shot("sidebar")
    assert fetched == []
