"""Run a service from a widget callback: keep its field errors and its success notice per form.

A callback runs before the rerun renders, so the form finds its errors (shown next to the
fields with leadcore.ui.fields.field_error) or its notice when it draws itself.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

import streamlit as st

from leadcore.errors import LeadcoreError, ValidationError, ValidationErrors

T = TypeVar("T")
_ERRORS = "_action_errors"
_NOTICE = "_action_notice"


def run(scope: str, work: Callable[[], T], done: str | Callable[[T], str],
        forget: Iterable[str] = (), notice_to: str | None = None) -> None:
    """Call `work`; on success show `done` under the `scope` form (or the `notice_to` one, when
    the action removed its own form) and drop the `forget` keys (inputs to empty); on failure
    keep the messages by field ("general" for the rest)."""
    state = st.session_state
    state.pop(_NOTICE, None)
    try:
        result = work()
    except ValidationError as error:
        state[_ERRORS] = {"scope": scope, error.field: error.message}
        return
    except ValidationErrors as error:
        state[_ERRORS] = {"scope": scope, **error.by_field()}
        return
    except LeadcoreError as error:
        state[_ERRORS] = {"scope": scope, "general": error.message}
        return
    state.pop(_ERRORS, None)
    for key in forget:
        state.pop(key, None)
    state[_NOTICE] = (notice_to or scope, done(result) if callable(done) else done)


def errors(scope: str) -> dict[str, str]:
    """The field errors of the last action of this form, if it failed."""
    found = st.session_state.get(_ERRORS, {})
    return found if found.get("scope") == scope else {}


def outcome(scope: str, fields_shown: Iterable[str] = ()) -> None:
    """Under a form: its success notice, or errors not already shown next to a field."""
    notice = st.session_state.get(_NOTICE)
    if notice and notice[0] == scope:
        st.success(notice[1], icon=":material/check_circle:")
    shown = set(fields_shown) | {"scope"}
    for field, message in errors(scope).items():
        if field not in shown:
            st.error(message, icon=":material/error:")


def seed(values: dict[str, object], force: bool = False) -> None:
    """Give widgets their starting values through session state (before they are drawn)."""
    for key, value in values.items():
        if force or key not in st.session_state:
            st.session_state[key] = value
