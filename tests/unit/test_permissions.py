"""Every service, called by every role: leadcore itself refuses whoever may not (issue 11).

One table says which roles may call which service; each service is called once by each role
with input that is otherwise fine, so the only reason to refuse is the role. A deactivated
user (whose page still holds the User from before) is refused everywhere. The last test
finds every public function of leadcore that takes (cur, user/actor, ...) and asserts it is in
the table, so a new service without a row (and so perhaps without a check) shows up here.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import tempfile
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import pytest

import leadcore
from leadcore import audit, auth, sign_in
from leadcore.admin import absences, basic, holidays, ordering, reasons, settings, sources, users, working_time
from leadcore.analytics import dashboard
from leadcore.analytics.explore import catalogue
from leadcore.contacts import service as contacts
from leadcore.errors import PermissionDenied
from leadcore.intake import folder, routing
from leadcore.intake import log as intake_log
from leadcore.intake import service as intake
from leadcore.leads import detail, listing, messages, notifications, origins, timeline, vehicles
from leadcore.leads import service as leads
from leadcore.mail import outbox, render, templates

ROLES = ("seller", "supervisor", "manager", "analyst", "admin")
WORKERS = {"seller", "supervisor", "manager", "admin"}
EDITORS = {"manager", "admin"}
EVERYONE = set(ROLES)
ADF = (b'<?xml version="1.0"?><adf><prospect><requestdate>2026-11-27T10:00:00+01:00</requestdate>'
       b'<customer><contact><name part="full">Rita Sommer</name><email>rita@example.de</email></contact>'
       b'</customer><vendor><vendorname>Autohaus</vendorname></vendor></prospect></adf>')


@dataclass
class World:
    cur: object
    now: object
    people: dict
    contact_id: int
    sources: dict
    make_lead: object

    def lead(self) -> int:
        """A fresh open lead of the seller Anna (so the supervisor sees it too)."""
        return self.make_lead(self.people["seller"])

    def completed_lead(self) -> int:
        lead = self.lead()
        leads.complete(self.cur, auth.SYSTEM, self.now, lead, self.reason())
        return lead

    def reason(self) -> int:
        return self.cur.execute("SELECT id FROM completion_reasons WHERE code = 'sold'").fetchall()[0][0]

    def failed_mail(self) -> int:
        return self.cur.execute(
            "INSERT INTO outbox (created_at, send_after, kind, recipient_email, recipient_name, subject,"
            " body_text, status, attempts) VALUES (?, ?, 'test', 'x@example.de', 'X', 'S', 'B', 'failed', 5)"
            " RETURNING id", [self.now, self.now]).fetchall()[0][0]


_counter = iter(range(10**6))


def _n() -> int:
    return next(_counter)


def _draft(w: World, source_id=None) -> templates.TemplateDraft:
    t = templates.default_template(w.cur)
    return templates.TemplateDraft(source_id, t.autoresponder_subject, t.autoresponder_html,
                                   t.autoresponder_footer_html, t.general_footer_html, t.banner_colour)


def _open_own_notification(w: World, actor) -> int:
    """A notification addressed to the actor (or to Anna, for a role that gets none)."""
    recipient = actor.id if actor.role in WORKERS else w.people["seller"].id
    lead = w.lead()
    notification = w.cur.execute(
        "INSERT INTO notifications (lead_id, stage, recipient_id, cycle_due_at, created_at)"
        " VALUES (?, 'stage1', ?, ?, ?) RETURNING id", [lead, recipient, w.now, w.now]).fetchall()[0][0]
    return notifications.open_notification(w.cur, actor, w.now, notification)


def _later(w: World, days: int = 2):
    return w.now + timedelta(days=days)


# service -> (roles that may call it, the call). Each call makes what it needs afresh.
SERVICES = {
    # leads
    "leads.service.create_lead": (WORKERS, lambda w, a: leads.create_lead(w.cur, a, w.now, leads.LeadInput(
        w.contact_id, w.sources["mobile.de"], "new_car", "Golf", w.people["seller"].id))),
    "leads.service.add_note": (WORKERS, lambda w, a: leads.add_note(w.cur, a, w.now, w.lead(), "Called", _later(w))),
    "leads.service.set_resubmission": (WORKERS, lambda w, a: leads.set_resubmission(w.cur, a, w.now, w.lead(), _later(w))),
    "leads.service.change_editor": (WORKERS, lambda w, a: leads.change_editor(
        w.cur, a, w.now, w.lead(), w.people["manager"].id)),
    "leads.service.complete": (WORKERS, lambda w, a: leads.complete(w.cur, a, w.now, w.lead(), w.reason())),
    "leads.service.reopen": (WORKERS, lambda w, a: leads.reopen(w.cur, a, w.now, w.completed_lead(), _later(w))),
    "leads.service.bulk_set_resubmission": (WORKERS, lambda w, a: leads.bulk_set_resubmission(
        w.cur, a, w.now, [w.lead()], _later(w))),
    "leads.service.bulk_change_editor": (WORKERS, lambda w, a: leads.bulk_change_editor(
        w.cur, a, w.now, [w.lead()], w.people["manager"].id)),
    "leads.service.bulk_complete": (WORKERS, lambda w, a: leads.bulk_complete(w.cur, a, w.now, [w.lead()], w.reason())),
    "leads.messages.preview_message": (WORKERS, lambda w, a: messages.preview_message(
        w.cur, a, w.now, w.lead(), "Hallo", "<p>Text</p>")),
    "leads.messages.queue_message": (WORKERS, lambda w, a: messages.queue_message(
        w.cur, a, w.now, w.lead(), "Hallo", "<p>Text</p>")),
    "leads.detail.get_lead": (EVERYONE, lambda w, a: detail.get_lead(w.cur, a, w.now, w.lead())),
    "leads.listing.list_leads": (EVERYONE, lambda w, a: listing.list_leads(w.cur, a, w.now, listing.LeadFilter())),
    "leads.listing.count_leads": (EVERYONE, lambda w, a: listing.count_leads(w.cur, a, w.now, listing.LeadFilter())),
    "leads.timeline.timeline": (EVERYONE, lambda w, a: timeline.timeline(w.cur, a, w.lead(), w.now)),
    "leads.vehicles.get_vehicle": (EVERYONE, lambda w, a: vehicles.get_vehicle(w.cur, a, w.now, w.lead())),
    "leads.notifications.unread_count": (EVERYONE, lambda w, a: notifications.unread_count(w.cur, a)),
    "leads.notifications.list_notifications": (EVERYONE, lambda w, a: notifications.list_notifications(w.cur, a)),
    "leads.notifications.mark_read": (WORKERS, lambda w, a: notifications.mark_read(w.cur, a, w.now)),
    "admin.users.set_language": (EVERYONE, lambda w, a: users.set_language(w.cur, a, w.now, "de")),
    "leads.notifications.open_notification": (WORKERS, lambda w, a: _open_own_notification(w, a)),
    "leads.vehicles.get_vehicles": (EVERYONE, lambda w, a: vehicles.get_vehicles(w.cur, a, w.now, w.lead())),
    "leads.origins.get_origin": (EVERYONE, lambda w, a: origins.get_origin(w.cur, a, w.now, w.lead())),
    "mail.render.lead_context": (EVERYONE, lambda w, a: render.lead_context(w.cur, a, w.now, w.lead())),
    # contacts
    "contacts.service.create_contact": (WORKERS, lambda w, a: contacts.create_contact(
        w.cur, a, w.now, contacts.ContactInput(last_name=f"Neu {_n()}"))),
    "contacts.service.update_contact": (WORKERS, lambda w, a: contacts.update_contact(
        w.cur, a, w.now, w.contact_id, contacts.ContactInput(last_name="Mustermann", email="max.mustermann@example.de"))),
    "contacts.service.delete_contact": (WORKERS, lambda w, a: contacts.delete_contact(
        w.cur, a, w.now, contacts.create_contact(w.cur, auth.SYSTEM, w.now, contacts.ContactInput(last_name="Weg")).id)),
    # settings
    "admin.users.create_user": (EDITORS, lambda w, a: users.create_user(
        w.cur, a, w.now, f"new{_n()}", users.UserInput("Neu", "neu@example.de", "seller"), "long enough")),
    "admin.users.update_user": (EDITORS, lambda w, a: users.update_user(
        w.cur, a, w.now, w.people["seller2"].id, users.UserInput(f"Ben {_n()}", "ben@autohaus.example", "seller"))),
    "admin.users.set_active": (EDITORS, lambda w, a: users.set_active(w.cur, a, w.now, w.people["seller2"].id, False)),
    "admin.users.reset_password": ({"admin"}, lambda w, a: users.reset_password(
        w.cur, a, w.now, w.people["seller2"].id, "a new secret")),
    "admin.sources.add_source": (EDITORS, lambda w, a: sources.add_source(w.cur, a, w.now, f"Portal {_n()}", "website")),
    "admin.sources.update_source": (EDITORS, lambda w, a: sources.update_source(
        w.cur, a, w.now, w.sources["mobile.de"], channel="website" if _n() % 2 else "marketplace")),
    "admin.sources.move_source": (EDITORS, lambda w, a: sources.move_source(w.cur, a, w.now, w.sources["mobile.de"], 1)),
    "admin.sources.delete_source": (EDITORS, lambda w, a: sources.delete_source(
        w.cur, a, w.now, sources.add_source(w.cur, auth.SYSTEM, w.now, f"Gone {_n()}", "website").id)),
    "admin.reasons.add_reason": (EDITORS, lambda w, a: reasons.add_reason(w.cur, a, w.now, f"Reason {_n()}", "lost")),
    "admin.reasons.update_reason": (EDITORS, lambda w, a: reasons.update_reason(
        w.cur, a, w.now, w.reason(), label=f"Verkauft {_n()}")),
    "admin.reasons.move_reason": (EDITORS, lambda w, a: reasons.move_reason(w.cur, a, w.now, w.reason(), 1)),
    "admin.reasons.delete_reason": (EDITORS, lambda w, a: reasons.delete_reason(
        w.cur, a, w.now, reasons.add_reason(w.cur, auth.SYSTEM, w.now, f"Tmp {_n()}", "lost").id)),
    "admin.ordering.move_audited": (EDITORS, lambda w, a: ordering.move_audited(
        w.cur, a, w.now, "sources", "sources", w.sources["mobile.de"], 1)),
    "admin.absences.add_absence": ({"seller", "manager", "admin"}, lambda w, a: absences.add_absence(
        w.cur, a, w.now, w.people["seller"].id, date(2027, 1, 4) + timedelta(days=7 * _n()),
        date(2027, 1, 5) + timedelta(days=7 * _n()))),
    "admin.absences.remove_absence": ({"seller", "manager", "admin"}, lambda w, a: absences.remove_absence(
        w.cur, a, w.now, absences.add_absence(w.cur, auth.SYSTEM, w.now, w.people["seller"].id,
                                              date(2028, 1, 3) + timedelta(days=7 * _n()),
                                              date(2028, 1, 3) + timedelta(days=7 * _n())).id)),
    "admin.absences.absence_table": ({"seller", "manager", "admin"}, lambda w, a: absences.absence_table(
        w.cur, a, w.now, w.people["seller"].id)),
    "admin.users.user_overview": (EDITORS, lambda w, a: users.user_overview(w.cur, a)),
    "admin.basic.update_basic_settings": (EDITORS, lambda w, a: basic.update_basic_settings(
        w.cur, a, w.now, settings.basic_settings(w.cur))),
    "admin.basic.update_dealership": (EDITORS, lambda w, a: basic.update_dealership(
        w.cur, a, w.now, settings.dealership(w.cur))),
    "admin.working_time.update_escalation_times": (EDITORS, lambda w, a: working_time.update_escalation_times(
        w.cur, a, w.now, settings.escalation_times(w.cur))),
    "admin.working_time.set_source_escalation": (EDITORS, lambda w, a: working_time.set_source_escalation(
        w.cur, a, w.now, w.sources["mobile.de"], None)),
    "admin.working_time.update_working_hours": (EDITORS, lambda w, a: working_time.update_working_hours(
        w.cur, a, w.now, settings.working_hours(w.cur))),
    "admin.holidays.add_closure": (EDITORS, lambda w, a: holidays.add_closure(
        w.cur, a, w.now, "Betriebsfeier", date(2027, 6, 1) + timedelta(days=_n()))),
    "admin.holidays.remove_closures": (EDITORS, lambda w, a: holidays.remove_closures(
        w.cur, a, w.now, [date(2027, 6, 1)])),
    "admin.holidays.fill_public_holidays": (EDITORS, lambda w, a: holidays.fill_public_holidays(
        w.cur, a, w.now, "BE", 2027)),
    "mail.templates.save_template": (EDITORS, lambda w, a: templates.save_template(w.cur, a, w.now, _draft(w))),
    "mail.templates.remove_source_template": (EDITORS, lambda w, a: templates.remove_source_template(
        w.cur, a, w.now, templates.save_template(w.cur, auth.SYSTEM, w.now, _draft(w, w.sources["mobile.de"])).source_id)),
    "mail.render.queue_test_mail": (EDITORS, lambda w, a: render.queue_test_mail(w.cur, a, w.now, _draft(w))),
    "mail.outbox.status_counts": (EDITORS, lambda w, a: outbox.status_counts(w.cur, a)),
    "mail.outbox.list_outbox": (EDITORS, lambda w, a: outbox.list_outbox(w.cur, a)),
    "mail.outbox.retry": (EDITORS, lambda w, a: outbox.retry(w.cur, a, w.now, w.failed_mail())),
    "audit.recent": (EDITORS, lambda w, a: audit.recent(w.cur, a)),
    "intake.routing.update_intake_settings": (EDITORS, lambda w, a: routing.update_intake_settings(
        w.cur, a, w.now, w.sources["mobile.de"], "")),
    "intake.routing.add_sender_source": (EDITORS, lambda w, a: routing.add_sender_source(
        w.cur, a, w.now, f"@portal{_n()}.de", w.sources["mobile.de"])),
    "intake.routing.confirm_source": (EDITORS, lambda w, a: routing.confirm_source(
        w.cur, a, w.now, w.sources["mobile.de"])),
    "intake.folder.intake_path": (EDITORS, lambda w, a: folder.intake_path(w.cur, a, w.now, Path(tempfile.mkdtemp()))),
    "sign_in.unlock": ({"admin"}, lambda w, a: sign_in.unlock(w.cur, a, w.now, "anna")),
    "intake.routing.remove_sender_source": (EDITORS, lambda w, a: routing.remove_sender_source(
        w.cur, a, w.now, routing.add_sender_source(w.cur, auth.SYSTEM, w.now, f"@gone{_n()}.de",
                                                   w.sources["mobile.de"]).pattern)),
    "intake.service.intake_file": (EDITORS, lambda w, a: intake.intake_file(w.cur, a, w.now, f"{_n()}.xml", ADF)),
    "intake.service.intake_many": (EDITORS, lambda w, a: intake.intake_many(w.cur, a, w.now, [(f"{_n()}.xml", ADF)])),
    "intake.log.intake_log_page": (EDITORS, lambda w, a: intake_log.intake_log_page(w.cur, a)),
    "intake.log.count_intake_log": (EDITORS, lambda w, a: intake_log.count_intake_log(w.cur, a)),
    # read models
    "analytics.dashboard.scope": ({"supervisor", "manager", "analyst", "admin"}, lambda w, a: dashboard.scope(
        w.cur, a, w.now, dashboard.DashboardFilter(w.now.date(), w.now.date()))),
    "analytics.dashboard.dashboard": ({"supervisor", "manager", "analyst", "admin"}, lambda w, a: dashboard.dashboard(
        w.cur, a, w.now, dashboard.DashboardFilter(w.now.date(), w.now.date()))),
    "analytics.dashboard.aggregates": ({"supervisor", "manager", "analyst", "admin"}, lambda w, a: dashboard.aggregates(
        w.cur, a, w.now, dashboard.DashboardFilter(w.now.date(), w.now.date()))),
    "analytics.explore.catalogue.run_query": ({"manager", "analyst", "admin"}, lambda w, a: catalogue.run_query(
        w.cur, a, w.now, catalogue.ExploreQuery("explore_leads"))),
    "analytics.explore.catalogue.count_rows": ({"manager", "analyst", "admin"}, lambda w, a: catalogue.count_rows(
        w.cur, a, w.now, catalogue.ExploreQuery("explore_leads"))),
    "analytics.explore.catalogue.choices": ({"manager", "analyst", "admin"}, lambda w, a: catalogue.choices(
        w.cur, a, w.now, "explore_leads", "lead_type")),
}

# Functions with (cur, user, ...) that are not use cases of their own: helpers a unit of work
# calls with the user it has already read, and services whose owners test them elsewhere.
NOT_SERVICES = {
    "auth.acting", "audit.record", "leads.service.writer", "leads.service.lead_for_write",
    "leads.visibility.team_ids", "leads.visibility.deputised_ids", "leads.visibility.lead_predicate",
    "leads.visibility.check_lead", "leads.visibility.require_visible", "mail.render.sample_context",
    "admin.settings.user_language",        # which language a user reads: no data of anyone's
    "admin.backup.require_backup_actor", "admin.backup.update_backup_settings",   # test_backup
    "analytics.explore.sql_box.run_sql",                                   # test_explore
}


@pytest.fixture
def world(cur, now, seller, seller2, supervisor, manager, analyst, admin, contact, source_ids, make_lead):
    return World(cur, now, {"seller": seller, "seller2": seller2, "supervisor": supervisor, "manager": manager,
                            "analyst": analyst, "admin": admin}, contact.id, source_ids, make_lead)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_role_is_let_in_or_refused_as_the_table_says(world, service):
    allowed, call = SERVICES[service]
    outcome = {}
    for role in ROLES:
        try:
            call(world, world.people[role])
            outcome[role] = "ok"
        except PermissionDenied:
            outcome[role] = "refused"
    assert outcome == {role: "ok" if role in allowed else "refused" for role in ROLES}


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_a_user_deactivated_since_the_page_loaded_is_refused(world, service):
    """The page still holds the User as it was (active); leadcore reads the row again."""
    allowed, call = SERVICES[service]
    role = "manager" if "manager" in allowed else sorted(allowed)[0]
    held = world.people[role]
    if role == "admin":   # the last active admin cannot be deactivated
        users.add_user(world.cur, world.now, "second", "Second Admin", "second@autohaus.example", "admin",
                       "long enough")
    users.set_active(world.cur, auth.SYSTEM, world.now, held.id, False)
    with pytest.raises(PermissionDenied):
        call(world, held)


def test_a_demoted_manager_loses_the_settings_at_once(world):
    held = world.people["manager"]
    users.update_user(world.cur, world.people["admin"], world.now, held.id,
                      users.UserInput(held.full_name, held.email, "seller"))
    with pytest.raises(PermissionDenied):
        sources.add_source(world.cur, held, world.now, "Demoted", "website")


def _public_services() -> set[str]:
    found = set()
    for info in pkgutil.walk_packages(leadcore.__path__, "leadcore."):
        if ".ui" in info.name or ".demo" in info.name or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, function in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(function) or function.__module__ != module.__name__:
                continue
            params = list(inspect.signature(function).parameters)
            if len(params) >= 2 and params[0] in ("cur", "con") and params[1] in ("user", "actor"):
                found.add(f"{info.name.removeprefix('leadcore.')}.{name}")
    return found


def test_every_service_that_takes_a_user_is_in_the_table():
    assert _public_services() - set(SERVICES) - NOT_SERVICES == set()


def test_a_deactivated_seller_can_neither_complete_nor_note_nor_create(world):
    """Seen in a browser: an admin deactivated a seller, who then completed a lead."""
    anna, cur, now = world.people["seller"], world.cur, world.now
    lead = world.lead()
    users.set_active(cur, world.people["admin"], now, anna.id, False)
    for call in (lambda: leads.complete(cur, anna, now, lead, world.reason()),
                 lambda: leads.add_note(cur, anna, now, lead, "Still here", _later(world)),
                 lambda: leads.create_lead(cur, anna, now, leads.LeadInput(
                     world.contact_id, world.sources["mobile.de"], "new_car", "Golf", anna.id))):
        with pytest.raises(PermissionDenied):
            call()
    assert cur.execute("SELECT kind FROM lead_events WHERE lead_id = ?", [lead]).fetchall() == [("created",)]


def test_another_seller_s_customer_keeps_the_e_mail_address_only_their_seller_changes(world):
    """Changing a contact's e-mail redirects the mail of every lead of that contact: another
    seller needs one of those leads in view (or a role that sees all leads)."""
    cur, now, people = world.cur, world.now, world.people
    world.lead()                                       # Anna's lead of the contact
    moved = contacts.ContactInput(last_name="Mustermann", email="elsewhere@example.de")
    with pytest.raises(PermissionDenied):
        contacts.update_contact(cur, people["seller2"], now, world.contact_id, moved)
    with pytest.raises(PermissionDenied):
        contacts.delete_contact(cur, people["seller2"], now, world.contact_id)
    contacts.update_contact(cur, people["seller2"], now, world.contact_id,   # the name is fine
                            contacts.ContactInput(last_name="Mustermann", first_name="Max",
                                                  email="max.mustermann@example.de"))
    for who in ("supervisor", "seller", "manager"):
        contacts.update_contact(cur, people[who], now, world.contact_id, replace(moved, email=f"{who}@example.de"))
    assert contacts.get_contact(cur, world.contact_id).email == "manager@example.de"
