"""The dealership's settings as stored (JSON values by key), read as what they mean: the due
rules' inputs (time zone, working hours, holidays, escalation times, per source), the basic
settings and the dealership's details. The services that change them live beside this module
(working_time, basic, holidays, ...)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from datetime import time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from leadcore import i18n
from leadcore.i18n import N_
from leadcore.rules.duetime import DueSettings

WEEKDAYS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"),
            N_("Saturday"), N_("Sunday"))
NAME_DISPLAYS = {"first_last": N_("First name Last name"), "last_first": N_("Last name, First name"),
                 "username": N_("Username")}
FROM_NAME_LIMIT = 100
HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
DEFAULT_TIMEZONE = "Europe/Berlin"


def get(cur: duckdb.DuckDBPyConnection, key: str, default: Any = None) -> Any:
    row = cur.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchall()
    return json.loads(row[0][0]) if row else default


def get_many(cur: duckdb.DuckDBPyConnection, keys) -> dict[str, Any]:
    """The stored values of several keys in one query; keys without a value are left out."""
    rows = cur.execute("SELECT key, value FROM settings WHERE key IN (SELECT unnest(?::VARCHAR[]))",
                       [list(keys)]).fetchall()
    return {key: json.loads(value) for key, value in rows}


def put(cur: duckdb.DuckDBPyConnection, key: str, value: Any) -> None:
    cur.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, json.dumps(value)]
    )


def timezone(cur: duckdb.DuckDBPyConnection) -> ZoneInfo:
    return ZoneInfo(get(cur, "timezone", DEFAULT_TIMEZONE))


def get_all(cur: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Every stored setting (one query): what leadcore.admin.reference keeps between changes."""
    return {key: json.loads(value) for key, value in cur.execute("SELECT key, value FROM settings").fetchall()}


def _window(pair: list[str] | None) -> tuple[time, time] | None:
    if not pair:
        return None
    return time.fromisoformat(pair[0]), time.fromisoformat(pair[1])


# --- escalation times ------------------------------------------------------------------------

@dataclass(frozen=True)
class EscalationTimes:
    """Minutes of SPEC section 4. In a source override, None means "as the global setting"."""
    stage1_minutes: int | None
    reminder_minutes: int | None
    stage2_minutes: int | None
    stage2_resubmission_minutes: int | None

    def merged_over(self, base: EscalationTimes) -> EscalationTimes:
        return EscalationTimes(*(getattr(self, f.name) if getattr(self, f.name) is not None
                                 else getattr(base, f.name) for f in fields(self)))


ESCALATION_KEYS = tuple(f.name for f in fields(EscalationTimes))
# Field labels (for messages and forms) and the longest sane value of each, in minutes.
ESCALATION_LABELS = {
    "stage1_minutes": N_("Stage 1 (working time)"),
    "reminder_minutes": N_("Seller reminder"),
    "stage2_minutes": N_("Stage 2"),
    "stage2_resubmission_minutes": N_("Stage 2 for resubmissions"),
}
ESCALATION_LIMITS = {
    "stage1_minutes": 14 * 24 * 60,
    "reminder_minutes": 24 * 60,
    "stage2_minutes": 14 * 24 * 60,
    "stage2_resubmission_minutes": 30 * 24 * 60,
}


def escalation_times(cur: duckdb.DuckDBPyConnection) -> EscalationTimes:
    """The global escalation times."""
    values = get_many(cur, ESCALATION_KEYS)
    return EscalationTimes(*(int(values[k]) for k in ESCALATION_KEYS))


def source_escalation(cur: duckdb.DuckDBPyConnection, source_id: int) -> EscalationTimes | None:
    """The override of one source as stored (None columns inherit), or None without override."""
    rows = cur.execute(f"SELECT {', '.join(ESCALATION_KEYS)} FROM source_escalation WHERE source_id = ?",
                       [source_id]).fetchall()
    return EscalationTimes(*rows[0]) if rows else None


def due_settings(cur: duckdb.DuckDBPyConnection, source_id: int | None = None) -> DueSettings:
    """The rule inputs of SPEC section 4 as they stand now: global, or as they apply to a source."""
    values = get_many(cur, (*ESCALATION_KEYS, "timezone", "working_hours"))
    times = EscalationTimes(*(int(values[k]) for k in ESCALATION_KEYS))
    if source_id is not None:
        override = source_escalation(cur, source_id)
        if override is not None:
            times = override.merged_over(times)
    holidays = frozenset(day for (day,) in cur.execute("SELECT day FROM holidays").fetchall())
    return DueSettings(
        tz=ZoneInfo(values["timezone"]),
        working_hours=tuple(_window(pair) for pair in values["working_hours"]),
        holidays=holidays,
        stage1=timedelta(minutes=times.stage1_minutes),
        reminder=timedelta(minutes=times.reminder_minutes),
        stage2=timedelta(minutes=times.stage2_minutes),
        stage2_resubmission=timedelta(minutes=times.stage2_resubmission_minutes),
    )


# --- working hours ---------------------------------------------------------------------------

Hours = tuple[str, str] | None   # ("08:00", "18:00") or None for a closed day


def working_hours(cur: duckdb.DuckDBPyConnection) -> list[Hours]:
    """Seven entries, Monday first: ("HH:MM", "HH:MM") or None when closed."""
    return [tuple(pair) if pair else None for pair in get(cur, "working_hours")]


# --- basic settings ----------------------------------------------------------------------------

@dataclass(frozen=True)
class BasicSettings:
    mailbox_address: str = ""          # where leads arrive by e-mail
    forwarding_target: str = ""        # where that mailbox forwards to; may change any time
    email_from_name: str = "Autohaus"  # the sender name of outgoing mail
    user_name_display: str = "first_last"
    distribute_to_previous_editor: bool = True
    # The dealership's language: users who chose none and mails to customers. Until it is saved,
    # it follows the install default LEADCORE_LANGUAGE.
    language: str = field(default_factory=i18n.install_default)


BASIC_LABELS = {
    "mailbox_address": N_("Lead mailbox address"),
    "forwarding_target": N_("Forwarding target"),
    "email_from_name": N_("E-mail from name"),
    "user_name_display": N_("Show user names as"),
    "distribute_to_previous_editor": N_("New leads of a contact go to its previous editor"),
    "language": N_("Language of the dealership"),
}


def basic_settings(cur: duckdb.DuckDBPyConnection) -> BasicSettings:
    return basic_from(get_many(cur, [f.name for f in fields(BasicSettings)]))


def basic_from(values: dict[str, Any]) -> BasicSettings:
    """The basic settings from stored values (get_many, get_all); missing ones are the defaults."""
    defaults = BasicSettings()
    return BasicSettings(**{f.name: values.get(f.name, getattr(defaults, f.name)) for f in fields(defaults)})


def dealership_language(cur: duckdb.DuckDBPyConnection) -> str:
    """The dealership's language (mails to customers, users who chose none)."""
    return language_from(get(cur, "language"))


def language_from(stored: str | None) -> str:
    """The dealership's language from the stored value: until one is saved, the install default."""
    return i18n.normalise(stored) or i18n.install_default()


def user_language(cur: duckdb.DuckDBPyConnection, user) -> str:
    """The language a user reads: their own choice, else the dealership's."""
    return i18n.normalise(getattr(user, "language", None)) or dealership_language(cur)


# --- the dealership --------------------------------------------------------------

@dataclass(frozen=True)
class Dealership:
    name: str = "Autohaus"
    address: str = ""   # lines; joined with ", " in mails
    phone: str = ""


DEALERSHIP_KEYS = {"name": "dealership_name", "address": "dealership_address", "phone": "dealership_phone"}
DEALERSHIP_LABELS = {"name": N_("Dealership name"), "address": N_("Dealership address"),
                     "phone": N_("Dealership phone")}


def dealership(cur: duckdb.DuckDBPyConnection) -> Dealership:
    """The dealership's details (one query); missing or empty values fall back to the defaults."""
    values = get_many(cur, DEALERSHIP_KEYS.values())
    defaults = Dealership()
    return Dealership(**{f: values.get(key) or getattr(defaults, f) for f, key in DEALERSHIP_KEYS.items()})
