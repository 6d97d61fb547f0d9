"""Who edits a new intake lead (SPEC section 7).

1. The contact's previous editor, when the basic setting says so and they are active and
   present today.
2. Otherwise round robin among the active users assigned to the source who are present today.
3. Otherwise the source's supervisors: the superiors of its assigned users, else every active
   supervisor; as a last resort any active user who works leads.

Round robin continues after the source's last receiver, in user-id order, whoever is present
now. That receiver is stored (distribution_pointer) in the intake's own transaction: a restart
picks up where the desk stopped, and two intakes at the same moment conflict on the pointer
row, so one of them retries with the other's choice instead of handing out the same turn.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import duckdb

from leadcore.admin import settings
from leadcore.i18n import _


@dataclass(frozen=True)
class Assignment:
    user_id: int
    how: str        # the 'assigned' event: "assigned by round robin to Anna Becker"


class Distributor:
    """The distribution state of one transaction: read once, advanced in memory, then `save`d."""

    def __init__(self, cur: duckdb.DuckDBPyConnection, now: datetime):
        today = now.astimezone(settings.timezone(cur)).date()
        absent = {r[0] for r in cur.execute(
            "SELECT DISTINCT user_id FROM absences WHERE ? BETWEEN starts_on AND ends_on", [today]).fetchall()}
        self._names: dict[int, str] = {}
        self._present: set[int] = set()
        self._supervisors: list[int] = []
        for user_id, name, role in cur.execute(
                "SELECT id, full_name, role FROM users WHERE active AND role <> 'analyst' ORDER BY id").fetchall():
            self._names[user_id] = name
            if user_id not in absent:
                self._present.add(user_id)
                if role == "supervisor":
                    self._supervisors.append(user_id)
        self._assigned: dict[int, list[int]] = defaultdict(list)
        for source_id, user_id in cur.execute(
                "SELECT source_id, user_id FROM source_users ORDER BY source_id, user_id").fetchall():
            self._assigned[source_id].append(user_id)
        self._superiors: dict[int, list[int]] = defaultdict(list)
        for user_id, superior_id in cur.execute("SELECT user_id, superior_id FROM user_superiors").fetchall():
            self._superiors[user_id].append(superior_id)
        self._pointer = dict(cur.execute("SELECT source_id, last_user_id FROM distribution_pointer").fetchall())
        self._moved: set[int] = set()
        self._to_previous = bool(settings.get(cur, "distribute_to_previous_editor", True))

    def choose(self, source_id: int, previous_editor_id: int | None = None) -> Assignment | None:
        """The editor of the next lead of `source_id`; None when nobody at all can take it."""
        if self._to_previous and previous_editor_id in self._present:
            return Assignment(previous_editor_id, _("assigned to the previous editor of the contact, {name}")
                              .format(name=self._names[previous_editor_id]))
        assigned = self._assigned.get(source_id, [])
        sellers = [u for u in assigned if u in self._present]
        if sellers:
            user_id = self._take_turn(source_id, sellers)
            return Assignment(user_id, _("assigned by round robin to {name}").format(name=self._names[user_id]))
        superiors = sorted({s for u in assigned for s in self._superiors.get(u, ()) if s in self._present})
        supervisors = superiors or self._supervisors
        if supervisors:
            user_id = self._take_turn(source_id, supervisors)
            return Assignment(user_id, _("assigned to the supervisor {name}: no user assigned to the "
                                         "source is present").format(name=self._names[user_id]))
        anyone = sorted(self._present)
        if anyone:
            user_id = self._take_turn(source_id, anyone)
            return Assignment(user_id, _("assigned to {name}: no user assigned to the source and no "
                                         "supervisor is present").format(name=self._names[user_id]))
        return None

    def _take_turn(self, source_id: int, candidates: list[int]) -> int:
        last = self._pointer.get(source_id, 0)
        user_id = next((u for u in candidates if u > last), candidates[0])
        self._pointer[source_id] = user_id
        self._moved.add(source_id)
        return user_id

    def save(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Store the turns taken, in the caller's transaction."""
        for source_id in sorted(self._moved):
            cur.execute(
                "INSERT INTO distribution_pointer (source_id, last_user_id) VALUES (?, ?)"
                " ON CONFLICT (source_id) DO UPDATE SET last_user_id = excluded.last_user_id",
                [source_id, self._pointer[source_id]])
        self._moved.clear()


def previous_editors(cur: duckdb.DuckDBPyConnection, contact_ids: list[int]) -> dict[int, int]:
    """Contact id -> the editor of the contact's newest lead."""
    if not contact_ids:
        return {}
    return dict(cur.execute(
        "SELECT contact_id, arg_max(editor_id, id) FROM leads"
        " WHERE contact_id IN (SELECT unnest(?::BIGINT[])) GROUP BY contact_id", [contact_ids]).fetchall())
