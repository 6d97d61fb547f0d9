"""The audit log of settings changes: who changed what, when, with the values before and after.

Every settings service appends its row inside the transaction of the change itself, so the
log never claims a change that did not happen, nor misses one that did.
"""
from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from leadcore import auth, roles

if TYPE_CHECKING:   # only for annotations: users imports this module
    from leadcore.auth import Actor, User


def _plain(value: Any) -> Any:
    """Dataclasses, dates and tuples as JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return value


def detail_json(before: Any, after: Any) -> str:
    return json.dumps({"before": _plain(before), "after": _plain(after)},
                      ensure_ascii=False, sort_keys=True, default=str)


def record(cur: duckdb.DuckDBPyConnection, user: User | None, now: datetime, area: str,
           entity_id: object, action: str, before: Any, after: Any) -> None:
    """Append one audit row; call it inside the transaction that makes the change."""
    cur.execute(
        "INSERT INTO audit_log (happened_at, user_id, area, entity_id, action, detail)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [now, user.id if user else None, area, None if entity_id is None else str(entity_id),
         action, detail_json(before, after)],
    )


def recent(cur: duckdb.DuckDBPyConnection, actor: Actor, limit: int = 200,
           area: str | None = None) -> pd.DataFrame:
    """The newest audit rows first: happened_at, who, area, entity_id, action, detail. For
    settings editors: the rows hold old and new settings, names and e-mail addresses."""
    auth.acting(cur, actor, roles.EDIT_SETTINGS)
    where, params = ("WHERE a.area = ?", [area]) if area else ("", [])
    return cur.execute(
        f"""
        SELECT a.id, a.happened_at, coalesce(u.full_name, 'leadcore') AS who, a.area, a.entity_id,
               a.action, a.detail
        FROM audit_log a LEFT JOIN users u ON u.id = a.user_id
        {where}
        ORDER BY a.happened_at DESC, a.id DESC
        LIMIT ?
        """,
        [*params, int(limit)],
    ).df()


def _short(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(detail: str) -> str:
    """One line saying what changed: "name: A → B; active: true → false", or what was added/removed."""
    change = json.loads(detail)
    before, after = change.get("before"), change.get("after")
    if before is None:
        return "+ " + _short(after, 300)
    if after is None:
        return "− " + _short(before, 300)
    if isinstance(before, dict) and isinstance(after, dict):
        keys = [k for k in {**before, **after} if before.get(k) != after.get(k)]
        return "; ".join(f"{k}: {_short(before.get(k))} → {_short(after.get(k))}" for k in keys)
    return f"{_short(before)} → {_short(after)}"
