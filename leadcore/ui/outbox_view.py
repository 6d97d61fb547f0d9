"""Settings tab "Outbox": what is queued, sent and failed, whether SMTP is set up, and sending a
failed mail again once its problem is fixed."""
from __future__ import annotations

import streamlit as st

from leadcore import roles
from leadcore.i18n import _
from leadcore.mail import outbox
from leadcore.mail import smtp as mailer
from leadcore.ui import actions, session
from leadcore.ui import format as fmt

_SCOPE = "outbox"


def outbox_tab() -> None:
    cur, tz, user = session.cursor(), session.timezone(), session.require_user()
    if not roles.may_edit_settings(user):   # the outbox holds every customer's mail
        st.info(_(roles.REFUSALS[roles.EDIT_SETTINGS]), icon=":material/block:")
        return
    _smtp_status()
    counts = outbox.status_counts(cur, user)
    for column, (status, label) in zip(st.columns(len(counts)), outbox.STATUS_LABELS.items()):
        column.metric(_(label), fmt.number(counts[status]))
    chosen = st.multiselect(_("Status"), list(outbox.STATUS_LABELS), format_func=lambda s: _(outbox.STATUS_LABELS[s]),
                            key="outbox_statuses", placeholder=_("All"))
    rows = outbox.list_outbox(cur, user, tuple(chosen))
    shown = rows.assign(
        created_at=[fmt.when(t, tz) for t in rows["created_at"]],
        send_after=[fmt.when(t, tz) for t in rows["send_after"]],
        sent_at=[fmt.when(t, tz) for t in rows["sent_at"]],
        kind=[_(outbox.KIND_LABELS.get(k, k)) for k in rows["kind"]],
        status=[_(outbox.STATUS_LABELS.get(s, s)) for s in rows["status"]])
    st.dataframe(shown, hide_index=True, key="outbox_table", column_config={
        "id": st.column_config.NumberColumn("#", width="small"),
        "created_at": st.column_config.TextColumn(_("Queued")),
        "kind": st.column_config.TextColumn(_("Kind")),
        "recipient_name": st.column_config.TextColumn(_("To")),
        "recipient_email": st.column_config.TextColumn(_("E-mail")),
        "subject": st.column_config.TextColumn(_("Subject"), width="medium"),
        "status": st.column_config.TextColumn(_("Status")),
        "attempts": st.column_config.NumberColumn(_("Attempts")),
        "last_error": st.column_config.TextColumn(_("Last error"), width="large"),
        "send_after": st.column_config.TextColumn(_("Next try")),
        "sent_at": st.column_config.TextColumn(_("Sent")),
        "lead_id": st.column_config.NumberColumn(_("Lead"), format="%d"),
    })
    failed = rows[rows["status"] == "failed"]
    if not failed.empty:
        labels = {int(r.id): f"#{r.id} · {r.recipient_email} · {r.subject}" for r in failed.itertuples()}
        st.selectbox(_("Failed mail"), list(labels), format_func=labels.get, key="outbox_failed",
                     index=None, placeholder=_("Choose a failed mail"))
        st.button(_("Send again"), key="outbox_retry", icon=":material/replay:", on_click=_retry)
    actions.outcome(_SCOPE)


def _smtp_status() -> None:
    try:
        config = session.smtp_config()
    except mailer.SmtpConfigError as error:
        st.error(error.message, icon=":material/error:")
        return
    if config is None:
        st.info(_("SMTP is not configured, so mails wait here. Set LEADCORE_SMTP_HOST, _PORT, _SECURITY, "
                  "_USER, _PASSWORD and _FROM in the server's environment or .streamlit/secrets.toml, "
                  "then restart the app."), icon=":material/mail_lock:")
        return
    left, right = st.columns([3, 1], vertical_alignment="center")
    left.caption(_("Sending over {server}; the server sends due mails every minute.")
                 .format(server=fmt.md_escape(config.describe())))
    right.button(_("Send now"), key="outbox_send_now", icon=":material/send:", on_click=_send_now, args=(config,))


def _send_now(config: mailer.SmtpConfig) -> None:
    def done(report: outbox.SendReport) -> str:
        if report.skipped:
            return _("The outbox is being sent right now; look again in a moment.")
        text = _("{sent} sent, {retrying} to retry later, {failed} failed.").format(
            sent=report.sent, retrying=report.retrying, failed=report.failed)
        return text + (" " + "; ".join(report.errors) if report.errors else "")

    actions.run(_SCOPE, lambda: outbox.send_due(session.cursor(), session.now(), config), done)


def _retry() -> None:
    chosen = st.session_state.get("outbox_failed")
    actions.run(_SCOPE, lambda: outbox.retry(session.cursor(), session.require_user(), session.now(), chosen),
                _("Mail #{id} queued again.").format(id=chosen), forget=["outbox_failed"])
