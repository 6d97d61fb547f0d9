"""Intake (managers, admins): upload lead e-mails and ADF files, see what became of each file,
and the intake log of every message taken in (uploads, command line, polled folder)."""
from dataclasses import asdict

import pandas as pd
import streamlit as st

from leadcore.i18n import N_, _
from leadcore.intake import intake_many, may_run_intake
from leadcore.intake.log import count_intake_log, intake_log_page
from leadcore.ui import format as fmt
from leadcore.ui import session
from leadcore.ui.pager import current_after, pager_controls

PAGE_SIZE = 50
OUTCOMES = {"created": N_("Created"), "merged": N_("Merged (resent)"), "rejected": N_("Rejected")}
_ICONS = {"created": "🟢", "merged": "🔵", "rejected": "🔴"}
REPORT, ROUND = "intake_report", "intake_upload_round"

cur, user, tz = session.cursor(), session.require_user(), session.timezone()
st.title(_("Intake"))
if not may_run_intake(user):
    # The navigation offers this page to managers and admins only.
    st.error(_("Only managers and admins may take in lead files."), icon=":material/block:")
    st.stop()
session.show_flash()


def outcome_label(code: str) -> str:
    return f"{_ICONS.get(code, '')} {_(OUTCOMES.get(code, code))}"


def open_lead(lead_id: int) -> None:
    session.redirect("pages/leads.py", {"lead": str(lead_id)})


st.caption(_("E-mails (.eml: plain, HTML or with an ADF attachment) and ADF files (.xml). Each becomes "
             "a lead, is added to the lead it repeats, or is rejected with the reason."))
upload_round = st.session_state.setdefault(ROUND, 0)
files = st.file_uploader(_("Lead files"), type=["eml", "xml"], accept_multiple_files=True,
                         key=f"intake_files_{upload_round}")
if st.button(_("Take in files"), type="primary", icon=":material/move_to_inbox:", key="intake_run",
             disabled=not files):
    bar = st.progress(0.0, text=_("Reading the files..."))
    results = intake_many(session.cursor(), session.now(), [(f.name, f.getvalue()) for f in files],
                          progress=lambda fraction, message: bar.progress(fraction, text=message))
    st.session_state[REPORT] = [asdict(r) for r in results]
    st.session_state[ROUND] = upload_round + 1      # a fresh, empty uploader: no file goes in twice
    st.rerun()

report = st.session_state.get(REPORT)
if report:
    st.markdown("#### " + _("Report"))
    counts = {code: sum(1 for r in report if r["outcome"] == code) for code in OUTCOMES}
    st.markdown(_("{total} files: {created} created, {merged} merged, {rejected} rejected.").format(
        total=len(report), **counts))
    st.dataframe(
        [{"file": r["file_name"], "outcome": outcome_label(r["outcome"]), "reason": r["reason"],
          "lead": f"#{r['lead_id']}" if r["lead_id"] else "", "unknown_sender": r["unknown_sender"]}
         for r in report],
        hide_index=True, key="intake_report_table",
        column_config={"file": st.column_config.TextColumn(_("File")),
                       "outcome": st.column_config.TextColumn(_("Outcome")),
                       "reason": st.column_config.TextColumn(_("Reason"), width="large"),
                       "lead": st.column_config.TextColumn(_("Lead")),
                       "unknown_sender": st.column_config.CheckboxColumn(
                           _("Unknown sender"), help=_("No source is known for the sender: the default "
                                                       "source took the lead."))})
    with_leads = {r["lead_id"]: r["file_name"] for r in report if r["lead_id"]}
    if with_leads:
        choice, button = st.columns([3, 1], vertical_alignment="bottom")
        lead_id = choice.selectbox(_("Lead of a file"), list(with_leads), key="intake_report_lead",
                                   format_func=lambda i: f"#{i} · {with_leads[i]}")
        button.button(_("Open lead"), icon=":material/open_in_new:", key="intake_open_lead",
                      on_click=open_lead, args=(lead_id,), width="stretch")

st.markdown("#### " + _("Intake log"))
outcome = st.selectbox(_("Outcome"), list(OUTCOMES), format_func=outcome_label, index=None,
                       placeholder=_("All outcomes"), key="intake_log_outcome")
after = current_after("intake_log_pager", outcome)
page = intake_log_page(cur, after, PAGE_SIZE, outcome)
total = count_intake_log(cur, outcome)
if page.rows.empty:
    st.info(_("Nothing taken in yet."), icon=":material/inbox:")
else:
    rows = page.rows
    st.dataframe(
        rows.assign(received_at=[fmt.when(t, tz) for t in rows["received_at"]],
                    outcome=rows["outcome"].map(outcome_label),
                    lead=[f"#{int(i)}" if pd.notna(i) else "" for i in rows["lead_id"]]),
        hide_index=True, key="intake_log_table",
        column_order=["received_at", "file_name", "outcome", "reason", "lead", "source", "unknown_sender"],
        column_config={"received_at": st.column_config.TextColumn(_("Received")),
                       "file_name": st.column_config.TextColumn(_("File")),
                       "outcome": st.column_config.TextColumn(_("Outcome")),
                       "reason": st.column_config.TextColumn(_("Reason"), width="large"),
                       "lead": st.column_config.TextColumn(_("Lead")),
                       "source": st.column_config.TextColumn(_("Source")),
                       "unknown_sender": st.column_config.CheckboxColumn(_("Unknown sender"))})
    pager_controls("intake_log_pager", page, total, PAGE_SIZE)
