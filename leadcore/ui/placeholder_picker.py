"""The "insert placeholder" picker of the template editor and the message form.

The placeholder is appended to the chosen text field: Streamlit does not tell where the cursor
is. It works on plain widgets only (in an st.form, unsubmitted typing would be lost).
"""
from __future__ import annotations

import streamlit as st

from leadcore.i18n import _
from leadcore.mail.templates import PLACEHOLDERS


def placeholder_picker(key: str, targets: dict[str, str]) -> None:
    """A placeholder list, a target field when there are several (widget key -> label), a button."""
    labels = {p.name: f"{_(p.label)}  {p.tag}" for p in PLACEHOLDERS}
    with st.container(border=True):
        what, where = st.columns(2)
        what.selectbox(_("Placeholder"), list(labels), format_func=labels.get, key=f"{key}_placeholder")
        if len(targets) > 1:
            where.selectbox(_("Insert into"), list(targets), format_func=targets.get, key=f"{key}_target",
                            index=min(1, len(targets) - 1))
        st.button(_("Insert placeholder"), key=f"{key}_insert", icon=":material/add:",
                  on_click=_insert, args=(key, next(iter(targets))))


def _insert(key: str, only_target: str) -> None:
    state = st.session_state
    name = state.get(f"{key}_placeholder")
    field = state.get(f"{key}_target") or only_target
    if not name:
        return
    text = state.get(field) or ""
    gap = "" if not text or text.endswith((" ", "\n", ">")) else " "
    state[field] = text + gap + "{{ " + name + " }}"
