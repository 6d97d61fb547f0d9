"""The one path from errors to people: run a service from a widget callback, or draw a page,
and turn whatever it raises into what a person may read.

- ValidationError(s): the message next to its field (leadcore.ui.fields.field_error).
- PermissionDenied, NotFound, Conflict (any LeadcoreError): its sentence under the form.
- Anything else: "Nothing was saved." with a short reference; the trace goes to the server log
  under that reference, never to the screen.

A callback runs before the rerun renders, so the form finds its errors (or its notice) in
session state when it draws itself.
"""
from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import streamlit as st

from leadcore.errors import LeadcoreError, ValidationError, ValidationErrors
from leadcore.i18n import _
from leadcore.ui import session

T = TypeVar("T")
_ERRORS = "_action_errors"
_NOTICE = "_action_notice"
GENERAL = "general"
log = logging.getLogger("leadcore.ui")


def unexpected(error: BaseException) -> str:
    """Log the error with its trace under a fresh reference; the sentence a person sees."""
    reference = secrets.token_hex(4)
    log.log(logging.ERROR, "Unexpected error, reference %s", reference, exc_info=error)
    return _("Nothing was saved. Something unexpected went wrong; the reference {ref} helps your "
             "admin find it in the server log.").format(ref=reference)


def messages(error: Exception) -> dict[str, str]:
    """What a person is told about a failed service call, by field (GENERAL for the rest)."""
    if isinstance(error, ValidationError):
        return {error.field: error.message}
    if isinstance(error, ValidationErrors):
        return error.by_field()
    if isinstance(error, LeadcoreError):
        return {GENERAL: error.message}
    return {GENERAL: unexpected(error)}


def run(scope: str, work: Callable[[], T], done: str | Callable[[T], str] | None,
        forget: Iterable[str] = (), notice_to: str | None = None,
        then: Callable[[T], None] | None = None) -> bool:
    """Call `work`; on success show `done` under the `scope` form (or the `notice_to` one, when
    the action removed its own form), drop the `forget` keys (inputs to empty) and call `then`
    with the result; on failure keep the messages by field. True when the work succeeded."""
    state = st.session_state
    state.pop(_NOTICE, None)
    try:
        result = work()
    except Exception as error:  # noqa: BLE001 - the one place every callback's failure ends up
        state[_ERRORS] = {"scope": scope, **messages(error)}
        return False
    state.pop(_ERRORS, None)
    # The work may have changed settings, users or sources that this run already read: the page
    # that renders after the callback reads them again (a language just saved shows at once).
    session.forget_reference()
    for key in forget:
        state.pop(key, None)
    if done is not None:
        state[_NOTICE] = (notice_to or scope, done(result) if callable(done) else done)
    if then is not None:
        then(result)
    return True


def errors(scope: str) -> dict[str, str]:
    """The field errors of the last action of this form, if it failed."""
    found = st.session_state.get(_ERRORS, {})
    return found if found.get("scope") == scope else {}


def errors_under(prefix: str) -> dict[str, str]:
    """The errors of the last failed action of any form whose scope starts with `prefix`."""
    found = st.session_state.get(_ERRORS, {})
    return found if str(found.get("scope", "")).startswith(prefix) else {}


def forget_errors(scope: str) -> None:
    if errors(scope):
        st.session_state.pop(_ERRORS, None)


def outcome(scope: str, fields_shown: Iterable[str] = ()) -> None:
    """Under a form: its success notice, or errors not already shown next to a field."""
    notice = st.session_state.get(_NOTICE)
    if notice and notice[0] == scope:
        st.success(notice[1], icon=":material/check_circle:")
    shown = set(fields_shown) | {"scope"}
    for field, message in errors(scope).items():
        if field not in shown:
            st.error(message, icon=":material/error:")


@contextmanager
def page_errors() -> Iterator[None]:
    """Around a whole page run: a refusal as its sentence, anything else as the friendly
    message with a reference (st.stop, st.rerun and switch_page are BaseExceptions and pass)."""
    try:
        yield
    except LeadcoreError as error:
        st.error(error.message, icon=":material/block:")
    except Exception as error:  # noqa: BLE001 - a person never sees a stack trace
        st.error(unexpected(error), icon=":material/error:")


def seed(values: dict[str, object], force: bool = False) -> None:
    """Give widgets their starting values through session state (before they are drawn)."""
    for key, value in values.items():
        if force or key not in st.session_state:
            st.session_state[key] = value
