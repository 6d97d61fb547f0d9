"""Escalations reach people: a supervisor learns of a seller's lead past stage 2 and opens it;
the Settings page is there for managers only."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ESCALATED_SUBJECT

pytestmark = pytest.mark.e2e


def test_the_supervisor_sees_the_escalation_and_opens_the_lead(desk, server):
    desk.signed_in("clara")
    nav = desk.page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_role("link", name=re.compile(r"Notifications \(1\)"))).to_be_visible()
    desk.shot("badge")

    nav.get_by_role("link", name=re.compile("Notifications")).click()
    desk.settle()
    lead_id = server.contact_ids["escalated_lead"]
    card = desk.page.locator("[class*='st-key-notification_']").filter(has_text=ESCALATED_SUBJECT)
    expect(card).to_contain_text("Stage 2: escalated to you")
    expect(card).to_contain_text(f"#{lead_id} · {ESCALATED_SUBJECT}")
    expect(card).to_contain_text("Greta Lindner · Anna Becker")
    desk.shot("notifications")

    card.get_by_role("button", name="Open").click()
    desk.settle()
    expect(desk.page.get_by_role("heading", name=f"#{lead_id} · {ESCALATED_SUBJECT}")).to_be_visible()
    facts = desk.page.locator(".st-key-lead_facts")
    expect(facts).to_contain_text("overdue")
    expect(facts).to_contain_text("2 · supervisor")
    expect(facts).to_contain_text("Editor: Anna Becker")
    # Read now: the badge has gone.
    expect(nav.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
    desk.shot("escalated-lead")


def test_settings_are_for_managers_not_sellers(desk):
    desk.signed_in("seller")
    nav = desk.page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_role("link", name="Leads")).to_be_visible()
    expect(nav.get_by_role("link", name="Settings", exact=True)).to_have_count(0)
    desk.page.get_by_role("button", name="Sign out").click()
    desk.settle()

    desk.sign_in("dirk")
    expect(nav.get_by_role("link", name="Settings", exact=True)).to_be_visible()
    desk.go_to("Settings")
    desk.shot("settings")
