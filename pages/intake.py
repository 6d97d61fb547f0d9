"""Intake (managers, admins): upload lead e-mails and ADF files, see what became of each file,
and the intake log of every message taken in (uploads, command line, polled folder)."""
from dataclasses import asdict

import pandas as pd
import streamlit as st

from leadcore.admin import sources
from leadcore.i18n import N_, _
from leadcore.intake import intake_many, may_run_intake
from leadcore.intake.log import count_intake_log, intake_log_page
from leadcore.ui import format as fmt
from leadcore.ui import session
from leadcore.ui.pager import current_after, pager_controls

PAGE_SIZE = 50
OUTCOMES = {"created": N_("Created"), "merged": N_("Merged (resent)"), "rejected": N_("Rejected")}
# Only in the report: a mail of several leads, some rejected; a file taken in before.
_REPORT_ONLY = {"partial": N_("Partly taken in"), "skipped": N_("Taken in before (nothing done)")}
_ICONS = {"created": "🟢", "merged": "🔵", "rejected": "🔴", "partial": "🟠", "skipped": "⚪"}
REPORT, ROUND = "intake_report", "intake_upload_round"

cur, user, tz = session.cursor(), session.require_user(), session.timezone()
st.title(_("Intake"))
if not may_run_intake(user):
    # The navigation offers this page to managers and admins only.
    st.error(_("Only managers and admins may take in lead files."), icon=":material/block:")
    st.stop()
session.show_flash()


def outcome_label(code: str) -> str:
    return f"{_ICONS.get(code, '')} {_({**OUTCOMES, **_REPORT_ONLY}.get(code, code))}"


def report_rows(report: list[dict]) -> list[dict]:
    """One row per file, or per attachment of a mail that carried several leads."""
    return [{**part, "file_name": f"{r['file_name']} › {part['part']}"} if part.get("part") else part
            for r in report for part in (r.get("parts") or [r])]


def report_row(r: dict, source_names: dict[int, str]) -> dict:
    """What was kept of a file (contact, phones, vehicles, comments, provider → source) and
    what was flagged, as the report's text columns."""
    kept = r.get("details") or {}
    source = source_names.get(r["source_id"], "") if r["source_id"] else ""
    if kept.get("source_new"):
        source = _("{source} (new, inactive: confirm in Settings)").format(source=source)
    provider = kept.get("provider", "")
    return {"file": r["file_name"], "outcome": outcome_label(r["outcome"]),
            "lead": f"#{r['lead_id']}" if r["lead_id"] else "",
            "contact": kept.get("contact", ""), "phones": "\n".join(kept.get("phones", [])),
            "vehicles": "\n".join(kept.get("vehicles", [])), "comments": kept.get("comments", ""),
            "source": f"{provider} → {source}" if provider and source else source,
            "flagged": "\n".join(kept.get("flags", [])), "reason": r["reason"],
            "unknown_sender": r["unknown_sender"]}


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
    results = intake_many(session.cursor(), user, session.now(), [(f.name, f.getvalue()) for f in files],
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
    source_names = {s.id: s.name for s in sources.list_sources(cur, active_only=False)}
    st.dataframe(
        [report_row(r, source_names) for r in report_rows(report)],
        hide_index=True, key="intake_report_table",
        column_config={"file": st.column_config.TextColumn(_("File")),
                       "outcome": st.column_config.TextColumn(_("Outcome")),
                       "lead": st.column_config.TextColumn(_("Lead")),
                       "contact": st.column_config.TextColumn(_("Contact")),
                       "phones": st.column_config.TextColumn(_("Phones")),
                       "vehicles": st.column_config.TextColumn(_("Vehicles"), width="large"),
                       "comments": st.column_config.TextColumn(_("Comments"), width="large"),
                       "source": st.column_config.TextColumn(_("Provider → source")),
                       "flagged": st.column_config.TextColumn(_("Flagged"), width="large"),
                       "reason": st.column_config.TextColumn(_("Reason"), width="medium"),
                       "unknown_sender": st.column_config.CheckboxColumn(
                           _("Unknown sender"), help=_("No source is known for the sender: the default "
                                                       "source took the lead."))})
    with_leads = {r["lead_id"]: r["file_name"] for r in report_rows(report) if r["lead_id"]}
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
page = intake_log_page(cur, user, after, PAGE_SIZE, outcome)
total = count_intake_log(cur, user, outcome)
if page.rows.empty:
    st.info(_("Nothing taken in yet."), icon=":material/inbox:")
else:
    rows = page.rows
    st.dataframe(
        rows.assign(received_at=[fmt.when(t, tz) for t in rows["received_at"]],
                    outcome=rows["outcome"].map(outcome_label),
                    lead=[f"#{int(i)}" if pd.notna(i) else "" for i in rows["lead_id"]]),
        hide_index=True, key="intake_log_table",
        column_order=["received_at", "file_name", "part", "outcome", "reason", "lead", "source", "unknown_sender"],
        column_config={"received_at": st.column_config.TextColumn(_("Received")),
                       "file_name": st.column_config.TextColumn(_("File")),
                       "part": st.column_config.TextColumn(_("Attachment")),
                       "outcome": st.column_config.TextColumn(_("Outcome")),
                       "reason": st.column_config.TextColumn(_("Reason"), width="large"),
                       "lead": st.column_config.TextColumn(_("Lead")),
                       "source": st.column_config.TextColumn(_("Source")),
                       "unknown_sender": st.column_config.CheckboxColumn(_("Unknown sender"))})
    pager_controls("intake_log_pager", page, total, PAGE_SIZE)
