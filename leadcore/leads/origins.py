"""Where an intake lead came from (lead_origins): provider, dealer location, timeframe, and
a request date that could not be read. Read for a user who may see the lead."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from leadcore.auth import User
from leadcore.leads.visibility import require_visible


@dataclass(frozen=True)
class LeadOrigin:
    provider_name: str = ""
    provider_service: str = ""
    provider_url: str = ""
    provider_email: str = ""
    provider_phone: str = ""
    vendor_name: str = ""
    timeframe: str = ""
    request_date_text: str = ""
    arrival_unreadable: bool = False


def get_origin(cur: duckdb.DuckDBPyConnection, user: User, now: datetime, lead_id: int) -> LeadOrigin | None:
    require_visible(cur, user, lead_id, now)
    rows = cur.execute(
        "SELECT provider_name, provider_service, provider_url, provider_email, provider_phone, vendor_name,"
        " timeframe, request_date_text, arrival_unreadable FROM lead_origins WHERE lead_id = ?", [lead_id]).fetchall()
    if not rows:
        return None
    return LeadOrigin(*[("" if v is None else v) for v in rows[0][:-1]], bool(rows[0][-1]))
