"""A one-form Streamlit script for the browser test of the error path: its Save runs a service
that fails unexpectedly through leadcore.ui.actions, the one path from errors to people, and its
second part is a page read that fails inside actions.page_errors."""
import streamlit as st

from leadcore.errors import Conflict
from leadcore.ui import actions


def broken_service() -> None:
    raise RuntimeError("disk on fire: /srv/secret/path")


def busy_service() -> None:
    raise Conflict("Someone else changed the same data at the same moment; please try again.")


with st.form("demo_form"):
    st.text_input("Subject", key="demo_subject")
    st.form_submit_button("Save", on_click=lambda: actions.run("demo", broken_service, "Saved."))
    st.form_submit_button("Save again", on_click=lambda: actions.run("demo", busy_service, "Saved."))
actions.outcome("demo", ("subject",))
with actions.page_errors():
    if st.toggle("Read the broken page", key="demo_read"):
        broken_service()
