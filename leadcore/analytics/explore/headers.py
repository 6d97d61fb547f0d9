"""How Explore's columns are headed for people: the table on screen and the CSV download show
these (translated); the names stay what analysts filter, group and write SQL by, and Parquet
keeps them as they are, so a notebook reads the same columns in any language."""
from __future__ import annotations

import re

from leadcore.i18n import N_, _

HEADERS = {
    "lead_id": N_("Lead"), "event_id": N_("Event"), "contact_id": N_("Contact number"),
    "status": N_("Status"), "lead_status": N_("Lead status"), "traffic_light": N_("Traffic light"),
    "escalation_level": N_("Escalation level"), "lead_type": N_("Lead type"), "subject": N_("Subject"),
    "source": N_("Source"), "source_id": N_("Source number"), "source_channel": N_("Channel"),
    "editor": N_("Editor"), "editor_id": N_("Editor number"), "editor_location": N_("Editor's location"),
    "customer": N_("Customer"), "customer_company": N_("Company"), "customer_postal_code": N_("Postal code"),
    "customer_city": N_("City"), "customer_country": N_("Country"),
    "arrived_at": N_("Arrived"), "arrived_date": N_("Arrival date"), "arrived_hour": N_("Arrival hour"),
    "arrived_weekday": N_("Arrival weekday"), "resubmission_at": N_("Resubmission"),
    "due_from_resubmission": N_("Due from resubmission"), "due_at": N_("Due"), "reminder_at": N_("Reminder"),
    "stage2_at": N_("Stage 2"), "first_response_at": N_("First response"),
    "first_response_minutes": N_("Minutes to first response"), "last_activity_at": N_("Last activity"),
    "completed_at": N_("Completed"), "completed_date": N_("Completion date"),
    "completion_reason": N_("Completion reason"), "completion_outcome": N_("Outcome"),
    "system_reason": N_("System reason"), "hours_to_complete": N_("Hours to completion"),
    "kind": N_("Event kind"), "happened_at": N_("When"), "happened_date": N_("Date"), "happened_hour": N_("Hour"),
    "hours_after_arrival": N_("Hours after arrival"), "user_name": N_("User"), "user_role": N_("Role"),
    "user_location": N_("User's location"),
}
FUNCTIONS = {"count": N_("Number"), "sum": N_("Sum"), "mean": N_("Mean"), "median": N_("Median"),
             "min": N_("Minimum"), "max": N_("Maximum")}
_MEASURE = re.compile(rf"({'|'.join(FUNCTIONS)})_(\w+)")


def header(name: str) -> str:
    """The heading of a result column in this run's language: "Arrived", "Median · Hours to
    completion"; a column the SQL box made up keeps its own name."""
    if name in HEADERS:
        return _(HEADERS[name])
    if name == "count":
        return _(FUNCTIONS["count"])
    measure = _MEASURE.fullmatch(name)
    if measure and measure.group(2) in HEADERS:
        return f"{_(FUNCTIONS[measure.group(1)])} · {_(HEADERS[measure.group(2)])}"
    return name


def headers(names) -> dict[str, str]:
    """Column name -> heading for a whole result; a heading two columns would share (a SQL box
    result can hold anything) keeps the query name beside it, so no two headers are equal."""
    shown = {name: header(name) for name in names}
    taken = list(shown.values())
    return {name: label if taken.count(label) == 1 else f"{label} ({name})" for name, label in shown.items()}
