"""Two people at the same moment: each use case is one unit of work, so whatever the timing the
database says exactly what happened once (issue 11).

Each race starts two threads (each with its own cursor on the one connection, as the app's
sessions do) at the same instant with a barrier, and is repeated ROUNDS times; the rounds are
what make a lost race likely to show.
"""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import pytest

from leadcore.admin import absences, reasons, sources, users
from leadcore.errors import Conflict, LeadcoreError, ValidationErrors
from leadcore.leads import service as leads

ROUNDS = 20


def race(con, *calls):
    """Run calls(cursor) in threads started together; their results or leadcore errors."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(i, call):
        cur = con.cursor()
        try:
            barrier.wait()
            results[i] = call(cur)
        except LeadcoreError as error:
            results[i] = error
        except Exception as error:   # noqa: BLE001 - a raw error is what the test looks for
            results[i] = error
        finally:
            cur.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def refused(result) -> bool:
    """A sentence for a person: a field message or "changed meanwhile", never a raw error."""
    return isinstance(result, (ValidationErrors, Conflict))


@pytest.fixture
def kinds(cur):
    return lambda lead_id: [k for (k,) in cur.execute(
        "SELECT kind FROM lead_events WHERE lead_id = ? ORDER BY id", [lead_id]).fetchall()]


@pytest.fixture
def reason_id(cur):
    return cur.execute("SELECT id FROM completion_reasons WHERE code = 'sold'").fetchall()[0][0]


def test_two_people_completing_one_lead_complete_it_once(con, now, seller, seller2, manager,
                                                        make_lead, kinds, reason_id):
    for _ in range(ROUNDS):
        lead = make_lead(seller)
        results = race(con, *(lambda c, u=u: leads.complete(c, u, now, lead, reason_id)
                              for u in (seller, manager)))
        assert kinds(lead).count("completed") == 1, results
        assert sum(r is None for r in results) == 1 and any(refused(r) for r in results), results


def test_reopen_twice_at_once_reopens_once(con, cur, now, seller, manager, make_lead, kinds, reason_id):
    later = now + timedelta(days=3)
    for _ in range(ROUNDS):
        lead = make_lead(seller)
        leads.complete(cur, seller, now, lead, reason_id)
        results = race(con, *(lambda c, u=u: leads.reopen(c, u, now, lead, later) for u in (seller, manager)))
        assert kinds(lead).count("reopened") == 1, results
        assert sum(r is None for r in results) == 1 and any(refused(r) for r in results), results


def _consistent(cur, kinds, lead) -> None:
    """Completions and reopenings alternate, and the row says what the last one did."""
    story = [k for k in kinds(lead) if k in ("completed", "reopened")]
    assert all(a != b for a, b in zip(story, story[1:])), story
    status = cur.execute("SELECT status FROM leads WHERE id = ?", [lead]).fetchall()[0][0]
    assert status == ("completed" if story and story[-1] == "completed" else "open"), story


def test_complete_against_reopen_leaves_one_story(con, cur, now, seller, manager, make_lead, kinds,
                                                 reason_id):
    """One completes while the other reopens (what they saw completed a moment ago): the events
    tell a story that could have happened one after the other, and the row agrees with it."""
    later = now + timedelta(days=3)
    for _ in range(ROUNDS):
        lead = make_lead(seller)
        leads.complete(cur, seller, now, lead, reason_id)
        leads.reopen(cur, seller, now, lead, later)
        results = race(con, lambda c: leads.complete(c, seller, now, lead, reason_id),
                       lambda c: leads.reopen(c, manager, now, lead, later))
        _consistent(cur, kinds, lead)
        assert not any(isinstance(r, Exception) and not refused(r) for r in results), results


def test_a_note_after_a_completion_is_refused(con, cur, now, seller, manager, make_lead, kinds, reason_id):
    later = now + timedelta(days=2)
    for _ in range(ROUNDS):
        lead = make_lead(seller)
        results = race(con, lambda c: leads.complete(c, manager, now, lead, reason_id),
                       lambda c: leads.add_note(c, seller, now, lead, "Called back", later))
        story = kinds(lead)
        assert story.count("completed") == 1 and story[-1] == "completed", (story, results)
        assert not any(isinstance(r, Exception) and not refused(r) for r in results), results


def test_bulk_complete_twice_at_once(con, now, seller, manager, make_lead, kinds, reason_id):
    for _ in range(ROUNDS // 2):
        ids = [make_lead(seller) for _ in range(3)]
        results = race(con, *(lambda c, u=u: leads.bulk_complete(c, u, now, ids, reason_id)
                              for u in (seller, manager)))
        for lead in ids:
            assert kinds(lead).count("completed") == 1, results
        changed = [lead for r in results if isinstance(r, leads.BulkResult) for lead in r.changed]
        assert sorted(changed) == sorted(ids), results


def test_bulk_resubmission_against_completion(con, cur, now, seller, manager, make_lead, kinds, reason_id):
    later = now + timedelta(days=2)
    for _ in range(ROUNDS // 2):
        ids = [make_lead(seller) for _ in range(3)]
        results = race(con, lambda c: leads.bulk_set_resubmission(c, seller, now, ids, later),
                       lambda c: leads.bulk_complete(c, manager, now, ids, reason_id))
        for lead in ids:
            story = kinds(lead)
            assert story.count("completed") == 1 and story[-1] == "completed", (story, results)
            row = cur.execute("SELECT status FROM leads WHERE id = ?", [lead]).fetchall()[0][0]
            assert row == "completed"


def test_two_bulk_resubmissions_at_once(con, cur, now, seller, manager, make_lead):
    """Both happened, so both are events; the row holds the one that came last."""
    for _ in range(ROUNDS // 2):
        ids = [make_lead(seller) for _ in range(2)]
        first, second = now + timedelta(days=2), now + timedelta(days=3)
        race(con, lambda c: leads.bulk_set_resubmission(c, seller, now, ids, first),
             lambda c: leads.bulk_set_resubmission(c, manager, now, ids, second))
        for lead in ids:
            last = cur.execute("SELECT detail FROM lead_events WHERE lead_id = ? AND kind = 'resubmission'"
                               " ORDER BY id DESC LIMIT 1", [lead]).fetchall()[0][0]
            stored = cur.execute("SELECT resubmission_at FROM leads WHERE id = ?", [lead]).fetchall()[0][0]
            assert datetime.fromisoformat(last) == stored


def _new_user(name):
    return users.UserInput("Race Condition", f"{name.lower()}@autohaus.example", "seller")


@pytest.mark.parametrize("names", [("racer", "racer"), ("Racer0x", "racer0x")])
def test_one_account_per_username_whatever_the_case(con, cur, now, admin, names):
    for i in range(ROUNDS):
        pair = [f"{n}{i}" for n in names]
        results = race(con, *(lambda c, n=n: users.create_user(c, admin, now, n, _new_user(n),
                                                                  "long enough pw") for n in pair))
        made = cur.execute("SELECT count(*) FROM users WHERE lower(username) = lower(?)",
                           [pair[0]]).fetchall()[0][0]
        assert made == 1, results
        loser = [r for r in results if not isinstance(r, users.User)]
        assert len(loser) == 1 and isinstance(loser[0], ValidationErrors), results
        assert "username" in loser[0].by_field(), results


def test_duplicate_source_names_at_once(con, cur, now, manager):
    for i in range(ROUNDS):
        results = race(con, lambda c: sources.add_source(c, manager, now, f"Portal {i}", "website"),
                       lambda c: sources.add_source(c, manager, now, f"PORTAL {i}", "website"))
        made = cur.execute("SELECT count(*) FROM sources WHERE lower(name) = ?", [f"portal {i}"]).fetchall()[0][0]
        assert made == 1, results
        assert any(isinstance(r, ValidationErrors) and "name" in r.by_field() for r in results), results


def test_duplicate_reason_labels_at_once(con, cur, now, manager):
    for i in range(ROUNDS):
        results = race(con, lambda c: reasons.add_reason(c, manager, now, f"Bought elsewhere {i}", "lost"),
                       lambda c: reasons.add_reason(c, manager, now, f"bought ELSEWHERE {i}", "lost"))
        made = cur.execute("SELECT count(*) FROM completion_reasons WHERE lower(label) = ?",
                           [f"bought elsewhere {i}"]).fetchall()[0][0]
        assert made == 1, results
        assert any(isinstance(r, ValidationErrors) and "label" in r.by_field() for r in results), results


def test_overlapping_absences_of_one_user_at_once(con, cur, now, seller, manager):
    for i in range(ROUNDS):
        first = date(2027, 1, 4) + timedelta(days=10 * i)
        results = race(con, lambda c: absences.add_absence(c, seller, now, seller.id, first, first + timedelta(days=3)),
                       lambda c: absences.add_absence(c, manager, now, seller.id, first + timedelta(days=2),
                                                      first + timedelta(days=5)))
        stored = cur.execute("SELECT count(*) FROM absences WHERE user_id = ? AND starts_on BETWEEN ? AND ?",
                             [seller.id, first, first + timedelta(days=2)]).fetchall()[0][0]
        assert stored == 1, results
        assert any(isinstance(r, ValidationErrors) for r in results), results
