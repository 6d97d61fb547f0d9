"""Notifications: the reminders and escalations addressed to the signed-in user."""
import streamlit as st

from leadcore.i18n import _, ngettext, pgettext
from leadcore.leads import notifications
from leadcore.ui import actions, session
from leadcore.ui import format as fmt

cur, user, now, tz = session.cursor(), session.require_user(), session.now(), session.timezone()
SCOPE = "notifications"


def open_lead(notification_id: int) -> None:
    session.forget_unread()
    actions.run(SCOPE, lambda: notifications.open_notification(
        session.cursor(), session.acting_user(), session.now(), notification_id), None,
        then=lambda lead_id: session.redirect("pages/leads.py", {"lead": str(lead_id)}))


def mark_read(notification_ids: list[int] | None) -> None:
    session.forget_unread()
    actions.run(SCOPE, lambda: notifications.mark_read(
        session.cursor(), session.acting_user(), session.now(), notification_ids), None,
        then=lambda count: session.flash(ngettext(
            "{n} notification marked as read.", "{n} notifications marked as read.", count).format(n=count)))


title, all_read = st.columns([3.4, 1.6], vertical_alignment="bottom")   # "Alle als gelesen markieren"
title.title(_("Notifications"))
all_read.button(_("Mark all as read"), icon=":material/done_all:", key="mark_all_read",
                on_click=mark_read, args=(None,), width="stretch")
session.show_flash()
actions.outcome(SCOPE)
unread_only = st.toggle(_("Unread only"), value=True, key="notifications_unread_only")
rows = notifications.list_notifications(cur, user, unread_only=unread_only, now=now)
names = session.user_names()

if rows.empty:
    st.info(_("Nothing to do here: no notifications.") if unread_only else _("No notifications yet."),
            icon=":material/notifications_off:")
for _index, row in rows.iterrows():
    unread = row["read_at"] is None or str(row["read_at"]) == "NaT"
    with st.container(border=True, key=f"notification_{row['id']}"):
        cols = st.columns([3, 4.4, 2, 1.3, 1.5], vertical_alignment="center")   # room for "Öffnen", "Gelesen"
        stage = _(notifications.STAGE_LABELS[row["stage"]])
        cols[0].markdown(f"{'**' if unread else ''}{stage}{'**' if unread else ''}  \n"
                         ":gray[" + _("since {moment}").format(moment=fmt.when(row['created_at'], tz)) + "]")
        if row["handed_over"]:
            # The lead went to someone this user does not follow: nothing of it is theirs to read.
            cols[1].text(f"#{row['lead_id']} · " + _("Lead handed over"))
        else:
            editor = names.get(int(row["editor_id"]), row["editor"])
            cols[1].text(f"#{row['lead_id']} · {row['subject']}\n{row['customer']} · {editor}")
            cols[2].caption(_("Due {when}").format(when=fmt.when(row["due_at"], tz)))
            cols[3].button(pgettext("action", "Open"), key=f"open_notification_{row['id']}", icon=":material/open_in_new:",
                           type="tertiary", on_click=open_lead, args=(int(row["id"]),))
        if unread:
            cols[4].button(_("Read"), key=f"read_notification_{row['id']}", icon=":material/done:",
                           type="tertiary", on_click=mark_read, args=([int(row["id"])],))
