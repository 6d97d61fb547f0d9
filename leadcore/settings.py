"""Dealership settings stored in the database (JSON values) and turned into rule inputs."""
from __future__ import annotations

import json
from datetime import time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from leadcore.duetime import DueSettings


def get(cur: duckdb.DuckDBPyConnection, key: str, default: Any = None) -> Any:
    row = cur.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchall()
    return json.loads(row[0][0]) if row else default


def put(cur: duckdb.DuckDBPyConnection, key: str, value: Any) -> None:
    cur.execute(
        "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", [key, json.dumps(value)]
    )


def timezone(cur: duckdb.DuckDBPyConnection) -> ZoneInfo:
    return ZoneInfo(get(cur, "timezone", "Europe/Berlin"))


def _window(pair: list[str] | None) -> tuple[time, time] | None:
    if not pair:
        return None
    return time.fromisoformat(pair[0]), time.fromisoformat(pair[1])


def due_settings(cur: duckdb.DuckDBPyConnection) -> DueSettings:
    """The rule inputs of SPEC section 4, as they stand in the database now."""
    values = dict(cur.execute("SELECT key, value FROM settings").fetchall())

    def minutes(key: str) -> timedelta:
        return timedelta(minutes=json.loads(values[key]))

    holidays = frozenset(day for (day,) in cur.execute("SELECT day FROM holidays").fetchall())
    return DueSettings(
        tz=ZoneInfo(json.loads(values["timezone"])),
        working_hours=tuple(_window(pair) for pair in json.loads(values["working_hours"])),
        holidays=holidays,
        stage1=minutes("stage1_minutes"),
        reminder=minutes("reminder_minutes"),
        stage2=minutes("stage2_minutes"),
        stage2_resubmission=minutes("stage2_resubmission_minutes"),
    )
