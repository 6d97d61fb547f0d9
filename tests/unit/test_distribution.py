"""Who gets a new intake lead: the previous editor, round robin among the source's present
users (fair over a thousand intakes, and across a restart), else the supervisors."""
from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest

from leadcore import db
from leadcore.admin import absences, basic, settings, users
from leadcore.auth import SYSTEM
from leadcore.intake import intake_many
from tests.factories import choose_editor

MOBILE = "mobile.de"


def adf(n: int, provider: str = MOBILE) -> bytes:
    return (f'<adf><prospect><id source="{provider}">RR-{n}</id><customer><contact>'
            f'<name part="full">Kunde Nummer{n}</name><email>kunde{n}@example.de</email>'
            f'</contact></customer><provider><name>{provider}</name></provider></prospect></adf>').encode()


@pytest.fixture
def no_mail(monkeypatch):
    """The autoresponder is not what these tests are about, and it costs most of an intake."""
    from leadcore.mail import autoresponder

    monkeypatch.setattr(autoresponder, "queue_for_new_leads", lambda cur, lead_ids, now: {})
    monkeypatch.setattr(autoresponder, "queue_forward", lambda cur, now, name, raw, lead_id: None)


@pytest.fixture
def carl(cur, now, supervisor):
    return users.add_user(cur, now, "carl", "Carl Dietz", "carl@autohaus.example", "seller", "password123",
                          superiors=[supervisor.id])


@pytest.fixture
def assign(cur, source_ids):
    def to(source: str, *people) -> int:
        source_id = source_ids[source]
        for person in people:
            cur.execute("INSERT INTO source_users VALUES (?, ?)", [source_id, person.id])
        return source_id
    return to


def editors(cur, lead_ids) -> list[int]:
    return [cur.execute("SELECT editor_id FROM leads WHERE id = ?", [i]).fetchall()[0][0] for i in lead_ids]


def test_round_robin_goes_in_turn_and_says_so(cur, now, seller, seller2, assign):
    source_id = assign(MOBILE, seller, seller2)
    chosen = [choose_editor(cur, now, source_id) for _ in range(4)]
    assert [a.user_id for a in chosen] == [seller.id, seller2.id, seller.id, seller2.id]
    assert chosen[0].how == "assigned by round robin to Anna Becker"


def test_the_previous_editor_of_the_contact_gets_the_new_lead(cur, now, seller, seller2, assign, contact, make_lead):
    source_id = assign(MOBILE, seller, seller2)
    make_lead(seller2)                                       # Max Mustermann's last lead: Ben's
    chosen = choose_editor(cur, now, source_id, contact.id)
    assert chosen.user_id == seller2.id
    assert chosen.how == "assigned to the previous editor of the contact, Ben Schulz"


def test_no_previous_editor_when_the_setting_is_off(cur, now, seller, seller2, manager, assign, contact, make_lead):
    source_id = assign(MOBILE, seller, seller2)
    make_lead(seller2)
    basic.update_basic_settings(cur, manager, now, settings.BasicSettings(distribute_to_previous_editor=False))
    assert choose_editor(cur, now, source_id, contact.id).user_id == seller.id


def test_an_absent_or_inactive_previous_editor_is_passed_by(cur, now, seller, seller2, carl, manager, assign,
                                                            contact, make_lead):
    source_id = assign(MOBILE, seller, carl)
    make_lead(seller2)
    absences.add_absence(cur, manager, now, seller2.id, now.date(), now.date() + timedelta(days=2))
    assert choose_editor(cur, now, source_id, contact.id).how.startswith("assigned by round robin")
    make_lead(carl)
    users.set_active(cur, manager, now, carl.id, False)
    assert choose_editor(cur, now, source_id, contact.id).user_id == seller.id


def test_absent_and_inactive_users_are_skipped_in_turn(cur, now, seller, seller2, carl, manager, assign):
    source_id = assign(MOBILE, seller, seller2, carl)
    absences.add_absence(cur, manager, now, seller2.id, now.date(), now.date())
    users.set_active(cur, manager, now, carl.id, False)
    assert {choose_editor(cur, now, source_id).user_id for _ in range(3)} == {seller.id}
    tomorrow = now + timedelta(days=1)                      # Ben is back; Carl stays inactive
    assert [choose_editor(cur, tomorrow, source_id).user_id for _ in range(2)] == [seller2.id, seller.id]


def test_without_present_users_the_superiors_of_the_assigned_users(cur, now, seller, supervisor, manager, assign):
    source_id = assign(MOBILE, seller)
    absences.add_absence(cur, manager, now, seller.id, now.date(), now.date())
    chosen = choose_editor(cur, now, source_id)
    assert chosen.user_id == supervisor.id
    assert chosen.how == ("assigned to the supervisor Clara Vogt: no user assigned to the source is present")


def test_without_assigned_users_every_active_supervisor_then_anyone(cur, now, supervisor, manager, source_ids):
    source_id = source_ids["Phone"]
    assert choose_editor(cur, now, source_id).user_id == supervisor.id
    users.set_active(cur, manager, now, supervisor.id, False)
    last_resort = choose_editor(cur, now, source_id)
    assert last_resort.user_id == manager.id and "no supervisor is present" in last_resort.how


def test_nobody_at_all_means_no_assignment(cur, now, source_ids):
    assert choose_editor(cur, now, source_ids["Phone"]) is None


def test_round_robin_is_fair_over_a_thousand_intakes(cur, now, seller, seller2, carl, assign, no_mail):
    assign(MOBILE, seller, seller2, carl)
    results = intake_many(cur, SYSTEM, now, [(f"{n}.xml", adf(n)) for n in range(1000)], batch_size=100)
    assert {r.outcome for r in results} == {"created"}
    counts = Counter(editors(cur, [r.lead_id for r in results]))
    assert set(counts) == {seller.id, seller2.id, carl.id}
    assert max(counts.values()) - min(counts.values()) <= 1


def test_the_pointer_survives_a_new_connection(db_path, con, cur, now, seller, seller2, carl, assign):
    source_id = assign(MOBILE, seller, seller2, carl)
    assert choose_editor(cur, now, source_id).user_id == seller.id
    cur.close()
    con.close()
    again = db.connect(db_path)
    try:
        assert choose_editor(again.cursor(), now, source_id).user_id == seller2.id
    finally:
        again.close()


def test_concurrent_intakes_share_the_turns_fairly(con, cur, now, seller, seller2, assign, no_mail):
    assign(MOBILE, seller, seller2)
    results, errors = [], []

    def take_in(offset: int) -> None:
        worker = con.cursor()
        try:
            results.extend(intake_many(worker, SYSTEM, now, [(f"{n}.xml", adf(n)) for n in range(offset, offset + 60)],
                                       batch_size=5))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            worker.close()

    threads = [threading.Thread(target=take_in, args=(offset,)) for offset in (0, 1000)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(results) == 120
    assert {r.outcome for r in results} == {"created"}
    counts = Counter(editors(cur, [r.lead_id for r in results]))
    assert abs(counts[seller.id] - counts[seller2.id]) <= 1
