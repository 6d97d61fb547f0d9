"""Settings tab "E-mail templates" (SPEC section 8): the default template and one per source,
with a placeholder picker, a sanitised preview, a test mail, and the dealership's details.

The editor is not an st.form on purpose: the placeholder picker writes into the text fields,
and a form would drop what was typed but not yet submitted.
"""
from __future__ import annotations

import streamlit as st

from leadcore.admin import basic, sources
from leadcore.admin.settings import DEALERSHIP_LABELS, Dealership, dealership
from leadcore.errors import ValidationErrors
from leadcore.i18n import N_, _
from leadcore.mail import render as mail_render
from leadcore.mail import templates as mail_templates
from leadcore.mail.templates import LABELS, TemplateDraft
from leadcore.ui import actions, session
from leadcore.ui import format as fmt
from leadcore.ui.fields import field_error
from leadcore.ui.placeholder_picker import placeholder_picker

TEXT_FIELDS = ("autoresponder_subject", "autoresponder_html", "autoresponder_footer_html", "general_footer_html")
_FIELDS = (*TEXT_FIELDS, "banner_colour")
_TEXT_HELP = {
    "autoresponder_html": N_("Sent to the customer when a new lead arrives. Simple HTML: <p>, <br>, <b>, "
                            "links, lists, tables. {% if vehicle.model %} … {% endif %} shows a part only "
                            "when there is a value."),
    "autoresponder_footer_html": N_("The receiving seller's data, under every autoresponder and message."),
    "general_footer_html": N_("Legal text, added to every mail to customers."),
}
_DEALER = "dealership"


def _prefix(source_id: int | None) -> str:
    return f"tpl{source_id or 0}"


def _seed(prefix: str, template: mail_templates.MailTemplate | TemplateDraft, force: bool = False) -> None:
    values = {f"{prefix}_{name}": getattr(template, name) for name in _FIELDS}
    image = template.header_image
    values[f"{prefix}_image"] = image.data if isinstance(image, mail_templates.HeaderImage) else image
    actions.seed(values, force)


def _draft(prefix: str, source_id: int | None) -> TemplateDraft:
    state = st.session_state
    return TemplateDraft(source_id, *(state.get(f"{prefix}_{name}") or "" for name in _FIELDS),
                         header_image=state.get(f"{prefix}_image"))


def templates_tab() -> None:
    cur, user = session.cursor(), session.require_user()
    names = {s.id: s.name for s in sources.list_sources(cur, active_only=False)}
    own = {t.source_id for t in mail_templates.list_templates(cur) if t.source_id is not None}

    def label(choice: int) -> str:
        if choice == 0:
            return _("Default template")
        suffix = _("own template") if choice in own else _("uses the default")
        return f"{names[choice]} ({suffix})"

    choice = st.selectbox(_("Template"), [0, *names], format_func=label, key="tpl_choice")
    source_id = choice or None
    prefix = _prefix(source_id)
    template = mail_templates.template_for(cur, source_id)
    if source_id is not None and source_id not in own and not st.session_state.get(f"{prefix}_editing"):
        source = fmt.md_escape(names[choice])
        st.info(_("Mails about leads of {source} use the default template.").format(source=source),
                icon=":material/info:")
        st.button(_("Create an own template for {source}").format(source=source),
                  key=f"{prefix}_create", on_click=_start_own, args=(source_id, template))
        actions.outcome(prefix)
    else:
        _seed(prefix, template)
        left, right = st.columns([1, 1], gap="large")
        with left:
            _editor(prefix, source_id, source_id in own)
        with right:
            _preview(cur, user, prefix, source_id)
    st.divider()
    _dealership_form(cur)


def _start_own(source_id: int, default: mail_templates.MailTemplate) -> None:
    prefix = _prefix(source_id)
    _seed(prefix, default, force=True)   # start from the default template's texts
    st.session_state[f"{prefix}_editing"] = True


def _editor(prefix: str, source_id: int | None, is_own: bool) -> None:
    errors = actions.errors(prefix)
    state = st.session_state
    st.markdown(f"**{_(LABELS['header_image'])}**")
    image = state.get(f"{prefix}_image")
    if image:
        st.image(image, width=300)
        st.button(_("Remove header graphic"), key=f"{prefix}_image_remove", icon=":material/delete:",
                  on_click=lambda: state.update({f"{prefix}_image": None}))
    st.file_uploader(_("Upload a header graphic (PNG or JPEG, at most {n} kB)")
                     .format(n=mail_templates.IMAGE_LIMIT // 1024), type=["png", "jpg", "jpeg"],
                     key=f"{prefix}_upload", on_change=_take_upload, args=(prefix,))
    field_error(errors, "header_image")
    st.color_picker(_(LABELS["banner_colour"]), key=f"{prefix}_banner_colour")
    field_error(errors, "banner_colour")
    st.text_input(_(LABELS["autoresponder_subject"]), key=f"{prefix}_autoresponder_subject")
    field_error(errors, "autoresponder_subject")
    for name in TEXT_FIELDS[1:]:
        st.text_area(_(LABELS[name]), key=f"{prefix}_{name}", height=160, help=_(_TEXT_HELP[name]))
        field_error(errors, name)
    placeholder_picker(f"{prefix}_picker", {f"{prefix}_{name}": _(LABELS[name]) for name in TEXT_FIELDS})
    save, test, default = st.columns(3)
    save.button(_("Save template"), key=f"{prefix}_save", type="primary", on_click=_save, args=(prefix, source_id),
                width="stretch")
    test.button(_("Send test mail"), key=f"{prefix}_test", icon=":material/send:", on_click=_test_mail,
                args=(prefix, source_id), width="stretch")
    if is_own:
        default.button(_("Use the default template"), key=f"{prefix}_remove", on_click=_remove,
                       args=(source_id,), width="stretch",
                       help=_("Deletes this source's own template; its mails use the default one again."))
    actions.outcome(prefix, [*_FIELDS, "header_image"])


def _take_upload(prefix: str) -> None:
    upload = st.session_state.get(f"{prefix}_upload")
    if upload is None:
        return
    data = upload.getvalue()

    def accept() -> None:
        mail_templates.image_type(data)   # PNG or JPEG by its bytes, within the size limit
        st.session_state[f"{prefix}_image"] = data

    actions.run(prefix, accept, _("Header graphic taken; save the template to keep it."))


def _save(prefix: str, source_id: int | None) -> None:
    def work() -> mail_templates.MailTemplate:
        saved = mail_templates.save_template(session.cursor(), session.require_user(), session.now(),
                                             _draft(prefix, source_id))
        _seed(prefix, saved, force=True)
        st.session_state.pop(f"{prefix}_editing", None)
        return saved

    actions.run(prefix, work, _("Template saved."))


def _test_mail(prefix: str, source_id: int | None) -> None:
    user = session.require_user()
    try:
        configured = session.smtp_config() is not None
    except Exception:  # noqa: BLE001 - a broken SMTP setting is shown on the Outbox tab
        configured = False
    done = (_("Test mail queued to {email}.") if configured
            else _("Test mail queued to {email}; SMTP is not configured, so it waits in the outbox."))
    actions.run(prefix, lambda: mail_render.queue_test_mail(session.cursor(), user, session.now(),
                                                               _draft(prefix, source_id)),
                done.format(email=fmt.md_escape(user.email)))


def _remove(source_id: int) -> None:
    prefix = _prefix(source_id)

    def work() -> None:
        mail_templates.remove_source_template(session.cursor(), session.require_user(), session.now(), source_id)
        for key in [k for k in st.session_state if str(k).startswith(f"{prefix}_")]:
            del st.session_state[key]

    actions.run(prefix, work, _("The source uses the default template again."))


def _preview(cur, user, prefix: str, source_id: int | None) -> None:
    st.markdown("**" + _("Preview") + "**")
    st.caption(_("With made-up customer data and you as the seller."))
    try:
        mail = mail_render.preview(_draft(prefix, source_id), mail_render.sample_context(cur, user))
    except ValidationErrors as error:
        st.warning(_("The preview shows once these are fixed:"), icon=":material/warning:")
        for message in error.by_field().values():
            st.error(message, icon=":material/error:")
        return
    st.text(_("Subject: {subject}").format(subject=mail.subject))
    # Safe to show: every block went through the sandbox and nh3; the frame is leadcore's own.
    with st.container(border=True, key=f"{prefix}_preview"):
        st.html(mail.preview_html)
    with st.expander(_("Plain-text part")):
        st.text(mail.text)


def _dealership_form(cur) -> None:
    current = dealership(cur)
    actions.seed({f"{_DEALER}_{name}": value for name, value in vars(current).items()})
    errors = actions.errors(_DEALER)
    with st.form("dealership_form"):
        st.markdown("**" + _("The dealership in mails") + "**")
        st.caption(_("Used by the placeholders dealership.name, dealership.address and dealership.phone."))
        st.text_input(_(DEALERSHIP_LABELS["name"]), key=f"{_DEALER}_name")
        field_error(errors, "name")
        st.text_area(_(DEALERSHIP_LABELS["address"]), key=f"{_DEALER}_address", height=90)
        field_error(errors, "address")
        st.text_input(_(DEALERSHIP_LABELS["phone"]), key=f"{_DEALER}_phone")
        field_error(errors, "phone")
        st.form_submit_button(_("Save dealership details"), on_click=_save_dealership)
    actions.outcome(_DEALER, DEALERSHIP_LABELS)


def _save_dealership() -> None:
    state = st.session_state
    new = Dealership(**{name: state.get(f"{_DEALER}_{name}") or "" for name in DEALERSHIP_LABELS})
    actions.run(_DEALER, lambda: basic.update_dealership(session.cursor(), session.require_user(),
                                                                  session.now(), new),
                _("Dealership details saved."))
