"""Sign-in throttling: failures in a row per username and per client make the next attempt wait
ever longer, refused without checking the password; 20 lock the username until an admin
unlocks it. The clock is the test's: nothing sleeps."""
from __future__ import annotations

import time as wall
from datetime import timedelta

import pytest

from leadcore import auth, sign_in
from leadcore.errors import PermissionDenied

HERE, THERE = "ip:203.0.113.5", "ip:198.51.100.7"


def _fail(cur, at, n: int, username: str = "anna", client: str = HERE) -> None:
    """n failed attempts, each at the first moment the throttle lets it through."""
    for _ in range(n):
        assert sign_in.attempt(cur, at(), username, "wrong password", client) is None


@pytest.fixture
def clock(now):
    """A pinned clock the test moves: clock() is its time, clock.wait() goes past any delay."""
    class Clock:
        moment = now

        def __call__(self):
            return self.moment

        def advance(self, delta):
            self.moment += delta

    return Clock()


def _free_clock(cur, clock):
    """Each attempt at the moment its delay has passed."""
    def at():
        rows = cur.execute("SELECT max(blocked_until) FROM sign_in_attempts").fetchall()
        until = rows[0][0]
        if until is not None and until > clock():
            clock.moment = until
        return clock()
    return at


def test_five_failures_then_the_next_attempt_waits_30_seconds(cur, seller, password, clock):
    _fail(cur, clock, 4)
    assert sign_in.attempt(cur, clock(), "anna", password, HERE) == seller     # four cost nothing
    _fail(cur, clock, 5)
    with pytest.raises(sign_in.SignInThrottled) as refused:
        sign_in.attempt(cur, clock() + timedelta(seconds=29), "anna", password, HERE)
    assert refused.value.until == clock() + timedelta(seconds=30)
    assert "wait" in refused.value.message
    assert sign_in.attempt(cur, clock() + timedelta(seconds=30), "anna", password, HERE) == seller


def test_the_delay_doubles_and_stops_growing_at_15_minutes():
    assert [sign_in.delay_after(n).total_seconds() for n in (4, 5, 6, 7, 8, 9, 10, 19)] == [
        0, 30, 60, 120, 240, 480, 900, 900]


def test_a_refused_attempt_does_not_check_the_password_nor_count(cur, seller, password, clock,
                                                                   monkeypatch):
    _fail(cur, clock, 5)
    monkeypatch.setattr(auth, "authenticate", lambda *a: pytest.fail("password checked while throttled"))
    for _ in range(3):
        with pytest.raises(sign_in.SignInThrottled):
            sign_in.attempt(cur, clock(), "anna", "wrong password", HERE)
    assert cur.execute("SELECT failures FROM sign_in_attempts WHERE kind = 'username'").fetchall() == [(5,)]


def test_the_username_is_throttled_from_any_client_and_any_case(cur, seller, password, clock):
    _fail(cur, clock, 5, username="Anna ")
    with pytest.raises(sign_in.SignInThrottled):
        sign_in.attempt(cur, clock(), "ANNA", password, THERE)


def test_a_client_is_throttled_whatever_usernames_it_tries(cur, seller, seller2, password, clock):
    for name in ("a", "b", "c", "d", "e"):
        assert sign_in.attempt(cur, clock(), name, "guess", HERE) is None
    with pytest.raises(sign_in.SignInThrottled):
        sign_in.attempt(cur, clock(), "ben", password, HERE)
    assert sign_in.attempt(cur, clock(), "ben", password, THERE) == seller2   # another client is heard


def test_a_success_resets_the_count(cur, seller, password, clock, count):
    _fail(cur, clock, 4)
    assert sign_in.attempt(cur, clock(), "anna", password, HERE) == seller
    assert count("sign_in_attempts") == 0
    _fail(cur, clock, 4)
    assert sign_in.attempt(cur, clock(), "anna", password, HERE) == seller


def test_twenty_failures_lock_the_username_until_an_admin_unlocks_it(cur, seller, admin, password,
                                                                      clock, count):
    _fail(cur, _free_clock(cur, clock), 20)
    clock.advance(timedelta(days=2))                                   # no delay is left ...
    with pytest.raises(sign_in.SignInThrottled) as refused:
        sign_in.attempt(cur, clock(), "anna", password, THERE)            # ... but the lock holds
    assert refused.value.until is None and "admin" in refused.value.message
    assert sign_in.locked_usernames(cur) == ["anna"]
    assert cur.execute("SELECT action, entity_id, user_id FROM audit_log WHERE area = 'sign_in'"
                       ).fetchall() == [("lock", "anna", None)]
    sign_in.unlock(cur, admin, clock(), "Anna")
    assert sign_in.locked_usernames(cur) == []
    assert cur.execute("SELECT action, user_id FROM audit_log WHERE area = 'sign_in' ORDER BY id"
                       ).fetchall() == [("lock", None), ("unlock", admin.id)]
    assert sign_in.attempt(cur, clock(), "anna", password, THERE) == seller


def test_only_admins_unlock(cur, seller, manager, clock):
    _fail(cur, _free_clock(cur, clock), 20)
    with pytest.raises(PermissionDenied):
        sign_in.unlock(cur, manager, clock(), "anna")
    assert sign_in.locked_usernames(cur) == ["anna"]


def test_an_unknown_username_is_counted_and_locked_like_a_real_one(cur, seller, clock):
    _fail(cur, _free_clock(cur, clock), 20, username="nobody")
    assert sign_in.locked_usernames(cur) == ["nobody"]        # the table tells nobody who exists


def test_a_wrong_username_is_as_slow_as_a_wrong_password(cur, seller, clock, monkeypatch):
    # Production cost (the suite makes argon2 cheap): both paths verify one real hash.
    monkeypatch.setattr(auth, "_hasher", auth.PasswordHasher())
    monkeypatch.setattr(auth, "_DUMMY_HASH", auth._hasher.hash("not a real password"))
    cur.execute("UPDATE users SET password_hash = ? WHERE id = ?", [auth.hash_password("x" * 12), seller.id])

    def timed(username: str) -> float:
        start = wall.perf_counter()
        for _ in range(3):
            auth.authenticate(cur, username, "wrong password")
        return wall.perf_counter() - start

    wrong_password, wrong_username = timed("anna"), timed("nobody")
    assert 0.5 < wrong_password / wrong_username < 2
