"""Sources in Settings: add, rename (unique), reorder, (de)activate, channel, assigned users;
a source that leads use is never deleted."""
from __future__ import annotations

import pytest

from leadcore.admin import settings, sources, working_time
from leadcore.errors import NotFound, PermissionDenied, ValidationErrors
from leadcore.leads import service as leads

SHIPPED = ["mobile.de", "AutoScout24", "Website form", "Phone", "Walk-in", "E-mail"]


def _names(cur, active_only: bool = False) -> list[str]:
    return [s.name for s in sources.list_sources(cur, active_only=active_only)]


def _fields(caught) -> dict[str, str]:
    return caught.value.by_field()


def _audit(cur) -> list[tuple]:
    return cur.execute("SELECT area, entity_id, action FROM audit_log WHERE area = 'sources' ORDER BY id").fetchall()


def test_a_new_source_comes_last_active_with_its_users(cur, now, manager, seller, seller2):
    source = sources.add_source(cur, manager, now, "  Facebook Ads ", "marketplace", [seller.id, seller2.id])
    assert (source.name, source.channel, source.active) == ("Facebook Ads", "marketplace", True)
    assert _names(cur, active_only=True) == SHIPPED + ["Facebook Ads"]
    assert sources.assigned_users(cur, source.id) == sorted([seller.id, seller2.id])
    assert _audit(cur) == [("sources", str(source.id), "add")]


@pytest.mark.parametrize("name, channel, field, message", [
    ("  ", "website", "name", "Name is required."),
    ("x" * 81, "website", "name", "Name can have at most 80 characters."),
    ("MOBILE.DE", "website", "name", "A source named MOBILE.DE exists already."),
    ("Newspaper", "print", "channel", "Channel must be one of the offered choices."),
])
def test_bad_sources_name_the_field(cur, now, manager, name, channel, field, message):
    with pytest.raises(ValidationErrors) as caught:
        sources.add_source(cur, manager, now, name, channel)
    assert _fields(caught) == {field: message}
    assert _names(cur) == SHIPPED


def test_assigned_users_work_leads_and_are_active(cur, now, manager, seller, analyst):
    with pytest.raises(ValidationErrors) as caught:
        sources.add_source(cur, manager, now, "Facebook", "marketplace", [seller.id, analyst.id])
    assert _fields(caught) == {"users": "Assigned users must be active users who work leads."}
    cur.execute("UPDATE users SET active = FALSE WHERE id = ?", [seller.id])
    with pytest.raises(ValidationErrors):
        sources.add_source(cur, manager, now, "Facebook", "marketplace", [seller.id])


def test_rename_change_channel_and_assign_users(cur, now, admin, source_ids, seller):
    phone = source_ids["Phone"]
    changed = sources.update_source(cur, admin, now, phone, name="Telephone hotline", channel="other",
                                    user_ids=[seller.id])
    assert (changed.name, changed.channel, changed.active) == ("Telephone hotline", "other", True)
    assert sources.assigned_users(cur, phone) == [seller.id]
    sources.update_source(cur, admin, now, phone, user_ids=[])
    assert sources.assigned_users(cur, phone) == []
    assert [a for _area, _id, a in _audit(cur)] == ["update", "update"]


def test_a_rename_must_stay_unique_but_may_change_case(cur, now, manager, source_ids):
    with pytest.raises(ValidationErrors) as caught:
        sources.update_source(cur, manager, now, source_ids["Phone"], name="autoscout24")
    assert _fields(caught) == {"name": "A source named autoscout24 exists already."}
    assert sources.update_source(cur, manager, now, source_ids["Phone"], name="PHONE").name == "PHONE"


def test_saving_without_change_writes_nothing(cur, now, manager, source_ids):
    sources.update_source(cur, manager, now, source_ids["Phone"], name="Phone", channel="phone", active=True)
    assert _audit(cur) == []


def test_a_deactivated_source_leaves_the_lead_form_but_keeps_its_leads(cur, now, manager, seller,
                                                                       source_ids, make_lead):
    lead_id = make_lead(seller, source="Phone")
    sources.update_source(cur, manager, now, source_ids["Phone"], active=False)
    assert "Phone" not in _names(cur, active_only=True)
    assert "Phone" in _names(cur)
    with pytest.raises(ValidationErrors) as caught:
        make_lead(seller, source="Phone")
    assert "source" in _fields(caught)
    assert cur.execute("SELECT source_id FROM leads WHERE id = ?", [lead_id]).fetchall() == [(source_ids["Phone"],)]
    sources.update_source(cur, manager, now, source_ids["Phone"], active=True)
    assert make_lead(seller, source="Phone")


def test_the_last_active_source_stays_active(cur, now, manager, source_ids):
    for name in SHIPPED[1:]:
        sources.update_source(cur, manager, now, source_ids[name], active=False)
    with pytest.raises(ValidationErrors) as caught:
        sources.update_source(cur, manager, now, source_ids["mobile.de"], active=False)
    assert _fields(caught) == {"active": "At least one source must stay active, or no lead could be created."}


def test_move_up_and_down_changes_the_order_of_the_choice(cur, now, manager, source_ids):
    sources.move_source(cur, manager, now, source_ids["Phone"], -1)
    assert _names(cur) == ["mobile.de", "AutoScout24", "Phone", "Website form", "Walk-in", "E-mail"]
    sources.move_source(cur, manager, now, source_ids["mobile.de"], 1)
    assert _names(cur) == ["AutoScout24", "mobile.de", "Phone", "Website form", "Walk-in", "E-mail"]
    assert [s.position for s in sources.list_sources(cur, active_only=False)] == [1, 2, 3, 4, 5, 6]


def test_moving_past_the_ends_changes_nothing(cur, now, manager, source_ids):
    assert sources.move_source(cur, manager, now, source_ids["mobile.de"], -1)[0] == source_ids["mobile.de"]
    assert sources.move_source(cur, manager, now, source_ids["E-mail"], 1)[-1] == source_ids["E-mail"]
    assert _names(cur) == SHIPPED
    assert _audit(cur) == []


def test_a_new_source_can_be_moved_to_the_top(cur, now, manager):
    new = sources.add_source(cur, manager, now, "Facebook", "marketplace")
    for _ in range(10):
        sources.move_source(cur, manager, now, new.id, -1)
    assert _names(cur)[0] == "Facebook"


def test_an_unused_source_can_be_deleted_with_its_settings(cur, now, manager, seller):
    new = sources.add_source(cur, manager, now, "Facebook", "marketplace", [seller.id])
    working_time.set_source_escalation(cur, manager, now, new.id, settings.EscalationTimes(60, None, None, None))
    sources.delete_source(cur, manager, now, new.id)
    assert "Facebook" not in _names(cur)
    for table in ("source_users", "source_escalation"):
        assert cur.execute(f"SELECT count(*) FROM {table} WHERE source_id = ?", [new.id]).fetchall()[0][0] == 0
    assert _audit(cur)[-1][2] == "remove"
    with pytest.raises(NotFound):
        sources.get_source(cur, new.id)


def test_a_source_that_leads_use_is_never_deleted(cur, now, manager, seller, source_ids, make_lead):
    make_lead(seller, source="Walk-in")
    leads.complete(cur, seller, now, make_lead(seller, source="Walk-in"),
                   cur.execute("SELECT id FROM completion_reasons WHERE code = 'sold'").fetchall()[0][0])
    with pytest.raises(ValidationErrors) as caught:
        sources.delete_source(cur, manager, now, source_ids["Walk-in"])
    assert _fields(caught) == {"source": "Walk-in is the source of 2 leads and cannot be deleted; "
                                         "deactivate it instead."}
    assert "Walk-in" in _names(cur)


@pytest.mark.parametrize("role", ["seller", "supervisor", "analyst"])
def test_only_managers_and_admins_change_sources(cur, now, request, role, source_ids):
    user = request.getfixturevalue(role)
    for attempt in (lambda: sources.add_source(cur, user, now, "X", "other"),
                    lambda: sources.update_source(cur, user, now, source_ids["Phone"], name="Y"),
                    lambda: sources.move_source(cur, user, now, source_ids["Phone"], -1),
                    lambda: sources.delete_source(cur, user, now, source_ids["Phone"])):
        with pytest.raises(PermissionDenied):
            attempt()
    assert _names(cur) == SHIPPED


def test_an_unknown_source_is_not_found(cur, now, manager):
    with pytest.raises(NotFound):
        sources.update_source(cur, manager, now, 999, name="X")
