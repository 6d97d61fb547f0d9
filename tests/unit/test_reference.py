"""The reference data a page run reads (settings, users, sources) is kept between changes and
read again after any change, whoever made it; the leads' version moves with every lead change."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from leadcore.admin import basic, reference, settings, sources, users
from leadcore.auth import SYSTEM
from leadcore.leads import changes
from leadcore.leads import service as leads


def test_unchanged_reference_data_is_read_once_and_shared(con, cur):
    first = reference.current(cur)
    assert reference.current(cur) is first
    assert reference.current(con.cursor()) is first          # another session's run


def test_a_setting_saved_elsewhere_shows_at_once(con, cur, manager, now):
    seen = reference.current(cur)
    assert seen.basic().user_name_display == "first_last"
    other_session = con.cursor()
    new = replace(settings.basic_settings(other_session), user_name_display="username")
    basic.update_basic_settings(other_session, manager, now, new)
    fresh = reference.current(cur)
    assert fresh.version != seen.version
    assert fresh.basic().user_name_display == "username"
    assert fresh.user_names()[manager.id] == manager.username


def test_a_time_zone_written_by_put_shows_at_once(cur):
    assert str(reference.current(cur).timezone()) == "Europe/Berlin"
    settings.put(cur, "timezone", "Europe/Vienna")
    assert str(reference.current(cur).timezone()) == "Europe/Vienna"


def test_a_deactivated_user_reads_as_inactive_at_once(con, cur, seller, admin, now):
    assert reference.current(cur).user(seller.id).active
    users.set_active(con.cursor(), admin, now, seller.id, False)
    assert not reference.current(cur).user(seller.id).active
    assert seller.id not in reference.current(cur).user_names(active_only=True)


def test_a_renamed_or_added_source_shows_at_once(cur, admin, now, source_ids):
    sources.update_source(cur, admin, now, source_ids["Phone"], name="Telephone")
    assert reference.current(cur).source_names()[source_ids["Phone"]] == "Telephone"
    added = sources.add_source(cur, admin, now, "Trade fair", "other")
    assert reference.current(cur).source_names()[added.id] == "Trade fair"


def test_editors_are_the_active_users_who_work_leads(cur, seller, analyst, manager):
    editors = reference.current(cur).user_names(editors_only=True)
    assert seller.id in editors and manager.id in editors and analyst.id not in editors
    assert list(editors) == [u.id for u in users.possible_editors(cur)]


def test_the_dealership_language_follows_the_setting(cur):
    settings.put(cur, "language", "de")
    assert reference.current(cur).dealership_language() == "de"


def test_the_leads_version_moves_with_every_change_of_a_lead(cur, seller, make_lead, now):
    before = changes.leads_version(cur)
    lead_id = make_lead(seller)
    created = changes.leads_version(cur)
    assert created != before
    leads.add_note(cur, seller, now, lead_id, "Called back", now + timedelta(days=1))
    assert changes.leads_version(cur) != created


def test_the_system_actor_is_not_a_user(cur):
    # The reference data only knows people: the scheduler's actor has no row.
    assert reference.current(cur).user(SYSTEM.id or -1) is None


def test_kept_results_are_made_once_per_key_and_the_oldest_go_first():
    from leadcore.ui.kept import Kept

    made = []
    kept = Kept(2)
    for key in ("a", "b", "a", "c", "b"):
        kept.get(key, lambda key=key: made.append(key) or key.upper())
    assert made == ["a", "b", "c", "b"]        # "b" was dropped when "c" came ("a" used more recently)
