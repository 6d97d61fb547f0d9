"""Small shared form pieces: an error under a field, and a local date + time picker."""
from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import streamlit as st

from leadcore.errors import ValidationError
from leadcore.i18n import _


def field_error(errors: dict[str, str], field: str) -> None:
    """The message for `field`, shown right under it."""
    if field in errors:
        st.error(errors[field], icon=":material/error:")


def date_time_inputs(key: str, date_label: str, time_label: str) -> None:
    """Two empty-by-default inputs; read them with `local_moment`."""
    left, right = st.columns(2)
    left.date_input(date_label, value=None, key=f"{key}_date", format="DD.MM.YYYY")
    right.time_input(time_label, value=None, key=f"{key}_time", step=900)


def local_moment(key: str, tz: ZoneInfo, field: str = "resubmission") -> datetime | None:
    """The instant picked in `date_time_inputs`, or None when both are empty.

    Raises ValidationError when only one of date and time is given.
    """
    day: date | None = st.session_state.get(f"{key}_date")
    clock: time | None = st.session_state.get(f"{key}_time")
    if day is None and clock is None:
        return None
    if day is None:
        raise ValidationError(field, _("Resubmission date is required when a time is set."))
    if clock is None:
        raise ValidationError(field, _("Resubmission time is required when a date is set."))
    return datetime.combine(day, clock, tzinfo=tz)
