"""The Backup settings tab (admins): back up now with progress, the finished backups, the nightly
backup's time and retention, and how to restore (on the command line: never the live database
from inside the running app)."""
from __future__ import annotations

from datetime import time

import pandas as pd
import streamlit as st

from leadcore import db
from leadcore.admin import backup
from leadcore.errors import LeadcoreError
from leadcore.i18n import N_, _
from leadcore.ui import actions, session
from leadcore.ui import format as fmt
from leadcore.ui.fields import field_error

_SETTINGS = "backup_settings"
KINDS = {backup.NIGHTLY: N_("Nightly"), backup.MANUAL: N_("Manual")}


def backup_tab() -> None:
    if db.engine(session.cursor()) == "postgres":
        # The database server's own backups apply; say so before anyone clicks anything.
        st.info(backup.not_on_postgres(), icon=":material/database:")
        return
    root = backup.backup_root()
    st.caption(_("Backups are folders of Parquet files under {folder} on the server, one per backup; "
                 "copy them to another machine to keep them safe.").format(folder=fmt.md_escape(str(root))))
    if st.button(_("Back up now"), key="backup_now", type="primary", icon=":material/backup:"):
        _back_up_now()
    found = backup.list_backups(root)
    _backups_table(found)
    _settings_form()
    _restore_help(found)


def _back_up_now() -> None:
    # Runs in the page itself, not in a callback: the progress bar must be drawn while it works.
    with st.status(_("Backing up the database…"), expanded=True) as status:
        bar = st.progress(0.0)
        try:
            folder = backup.backup(session.cursor(), None, session.now(), actor=session.require_user(),
                                   progress=lambda fraction, message: bar.progress(fraction, text=message))
        except LeadcoreError as error:
            status.update(label=error.message, state="error")
            return
        status.update(label=_("Backup written: {name}").format(name=folder.name), state="complete",
                      expanded=False)


def _backups_table(found: list[backup.BackupInfo]) -> None:
    if not found:
        st.info(_("No backups yet."), icon=":material/backup:")
        return
    tz = session.timezone()
    rows = pd.DataFrame([{
        "created_at": fmt.when(b.created_at, tz), "kind": _(KINDS.get(b.kind, b.kind)),
        "size_mb": round(b.size_bytes / 1e6, 1), "leads": b.tables.get("leads", 0),
        "contacts": b.tables.get("contacts", 0), "events": b.tables.get("lead_events", 0),
        "rows": b.rows, "folder": b.name} for b in found])
    st.dataframe(rows, hide_index=True, key="backup_table", column_config={
        "created_at": st.column_config.TextColumn(_("Time")),
        "kind": st.column_config.TextColumn(_("Kind")),
        "size_mb": st.column_config.NumberColumn(_("Size (MB)"), format="%.1f"),
        "leads": st.column_config.NumberColumn(_("Leads"), format="%d"),
        "contacts": st.column_config.NumberColumn(_("Contacts"), format="%d"),
        "events": st.column_config.NumberColumn(_("Lead events"), format="%d"),
        "rows": st.column_config.NumberColumn(_("All rows"), format="%d"),
        "folder": st.column_config.TextColumn(_("Folder")),
    })


def _settings_form() -> None:
    current = backup.backup_settings(session.cursor())
    actions.seed({f"{_SETTINGS}_at": time.fromisoformat(current.nightly_at),
                  f"{_SETTINGS}_keep": current.keep_nightly})
    errors = actions.errors(_SETTINGS)
    with st.form("backup_settings_form"):
        st.time_input(_("Nightly backup after (local time)"), key=f"{_SETTINGS}_at", step=900,
                      help=_("The server makes one backup each night once this time has passed."))
        field_error(errors, "nightly_at")
        st.number_input(_("Nightly backups to keep"), min_value=1, max_value=backup.KEEP_LIMIT, step=1,
                        key=f"{_SETTINGS}_keep",
                        help=_("Older nightly backups are deleted; backups made with Back up now stay."))
        field_error(errors, "keep_nightly")
        st.form_submit_button(_("Save backup settings"), on_click=_save_settings)
    actions.outcome(_SETTINGS, ("nightly_at", "keep_nightly"))


def _save_settings() -> None:
    state = st.session_state
    actions.run(_SETTINGS, lambda: backup.update_backup_settings(
        session.cursor(), session.require_user(), session.now(), state.get(f"{_SETTINGS}_at"),
        int(state.get(f"{_SETTINGS}_keep") or 0)), _("Backup settings saved."))


def _restore_help(found: list[backup.BackupInfo]) -> None:
    st.markdown("**" + _("Restoring a backup") + "**")
    st.caption(_("A restore replaces the whole database, so it is not offered here while the app "
                 "serves it. Stop the app, then run on the server:"))
    example = str(found[0].path) if found else str(backup.backup_root() / "FOLDER")
    st.code(f"python -m leadcore restore {example} --force", language="sh")
    st.caption(_("--force replaces a database that holds data; the replaced file is kept beside it "
                 "with .before-restore appended. Start the app again afterwards."))
