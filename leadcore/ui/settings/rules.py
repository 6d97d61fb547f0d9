"""Settings tabs for the rules of the day: basic settings, working hours, holidays and
closures, escalation times (global and per source)."""
from __future__ import annotations

from datetime import time

import streamlit as st

from leadcore.admin import basic, settings, sources, working_time
from leadcore.admin import holidays as closures
from leadcore.admin.settings import BASIC_LABELS, ESCALATION_KEYS, ESCALATION_LABELS, NAME_DISPLAYS, WEEKDAYS
from leadcore.i18n import LANGUAGES, _
from leadcore.ui import actions, session
from leadcore.ui import format as fmt
from leadcore.ui.fields import field_error

# --- basic settings ----------------------------------------------------------------------------

_BASIC = "basic"


def basic_settings_tab() -> None:
    cur = session.cursor()
    current = settings.basic_settings(cur)
    actions.seed({f"{_BASIC}_{name}": value for name, value in vars(current).items()})
    errors = actions.errors(_BASIC)
    with st.form("basic_settings_form"):
        st.markdown("**" + _("Mailbox") + "**")
        for name in ("mailbox_address", "forwarding_target", "email_from_name"):
            st.text_input(_(BASIC_LABELS[name]), key=f"{_BASIC}_{name}")
            field_error(errors, name)
        st.caption(_("The forwarding target can be changed at any time; new lead mails go there from then on."))
        st.markdown("**" + _("Display and distribution") + "**")
        st.selectbox(_(BASIC_LABELS["user_name_display"]), list(NAME_DISPLAYS),
                     format_func=lambda code: _(NAME_DISPLAYS[code]), key=f"{_BASIC}_user_name_display")
        field_error(errors, "user_name_display")
        st.checkbox(_(BASIC_LABELS["distribute_to_previous_editor"]),
                    key=f"{_BASIC}_distribute_to_previous_editor")
        st.selectbox(_(BASIC_LABELS["language"]), list(LANGUAGES), format_func=LANGUAGES.get,
                     key=f"{_BASIC}_language",
                     help=_("For users who have not chosen their own language, and for mails to customers."))
        field_error(errors, "language")
        st.form_submit_button(_("Save basic settings"), type="primary", on_click=_save_basic)
    actions.outcome(_BASIC, BASIC_LABELS)


def _save_basic() -> None:
    state = st.session_state
    new = settings.BasicSettings(**{name: state.get(f"{_BASIC}_{name}") for name in BASIC_LABELS})

    def work() -> settings.BasicSettings:
        clean = basic.update_basic_settings(session.cursor(), session.require_user(), session.now(), new)
        actions.seed({f"{_BASIC}_{name}": value for name, value in vars(clean).items()}, force=True)
        return clean

    actions.run(_BASIC, work, _("Basic settings saved."))


# --- working hours ---------------------------------------------------------------------------

_HOURS = "hours"


def _hours_keys(day: int) -> tuple[str, str, str]:
    return f"{_HOURS}_{day}_open", f"{_HOURS}_{day}_from", f"{_HOURS}_{day}_to"


def _seed_hours(force: bool = False) -> None:
    values = {}
    for day, pair in enumerate(settings.working_hours(session.cursor())):
        is_open, opens, closes = _hours_keys(day)
        values[is_open] = pair is not None
        values[opens] = time.fromisoformat(pair[0]) if pair else time(8)
        values[closes] = time.fromisoformat(pair[1]) if pair else time(18)
    actions.seed(values, force)


def working_hours_tab() -> None:
    _seed_hours()
    errors = actions.errors(_HOURS)
    st.caption(_("Stage 1 counts working time only. Changing the hours re-computes the due time "
                 "and traffic light of every open lead at once."))
    with st.form("working_hours_form"):
        for day, name in enumerate(WEEKDAYS):
            is_open, opens, closes = _hours_keys(day)
            left, middle, right = st.columns([1, 1, 1], vertical_alignment="bottom")
            left.checkbox(_(name), key=is_open, help=_("Untick for a closed day"))
            middle.time_input(_("Opens"), key=opens, step=900)
            right.time_input(_("Closes"), key=closes, step=900)
            field_error(errors, f"day_{day}")
        field_error(errors, "working_hours")
        st.form_submit_button(_("Save working hours"), type="primary", on_click=_save_hours)
    actions.outcome(_HOURS, [f"day_{d}" for d in range(7)] + ["working_hours"])


def _save_hours() -> None:
    state = st.session_state
    hours = []
    for day in range(7):
        is_open, opens, closes = _hours_keys(day)
        hours.append((state.get(opens) or "", state.get(closes) or "") if state.get(is_open) else None)
    actions.run(_HOURS, lambda: working_time.update_working_hours(
        session.cursor(), session.require_user(), session.now(), hours),
        lambda n: _("Working hours saved; {n} open leads have a new due time.").format(n=fmt.number(n)))


# --- holidays and closures ---------------------------------------------------------------------

_CLOSURE, _REMOVE, _FILL = "closure", "closure_remove", "public_holidays"


def holidays_tab() -> None:
    cur = session.cursor()
    this_year = session.now().astimezone(session.timezone()).year
    years = list(range(this_year - 1, this_year + 3))
    year = st.selectbox(_("Year"), years, index=1, key="holidays_year")
    listed = closures.list_closures(cur, year)
    if listed:
        st.dataframe(
            [{"day": c.day.strftime("%d.%m.%Y"), "weekday": _(WEEKDAYS[c.day.weekday()]), "name": c.name}
             for c in listed],
            hide_index=True, key="holidays_table",
            column_config={"day": st.column_config.TextColumn(_("Date")),
                           "weekday": st.column_config.TextColumn(_("Weekday")),
                           "name": st.column_config.TextColumn(_("Name"), width="large")})
    else:
        st.info(_("No holidays or closures in {year}.").format(year=year), icon=":material/event_busy:")
    st.caption(_("No working time on these days: no escalations and no notifications."))
    left, right = st.columns(2)
    with left:
        _add_closure_form()
    with right:
        _fill_form(this_year)
    if listed:
        _remove_form(listed)


def _add_closure_form() -> None:
    errors = actions.errors(_CLOSURE)
    with st.form("closure_form"):
        st.markdown("**" + _("Add a holiday or company closure") + "**")
        st.text_input(_("Name"), key=f"{_CLOSURE}_name", placeholder=_("e.g. Company outing"))
        field_error(errors, "name")
        first, last = st.columns(2)
        first.date_input(_("First day"), value=None, key=f"{_CLOSURE}_first", format="DD.MM.YYYY")
        last.date_input(_("Last day"), value=None, key=f"{_CLOSURE}_last", format="DD.MM.YYYY",
                        help=_("Leave empty for a single day."))
        field_error(errors, "first_day")
        field_error(errors, "last_day")
        st.form_submit_button(_("Add"), type="primary", on_click=_add_closure)
    actions.outcome(_CLOSURE, ["name", "first_day", "last_day"])


def _added_message(result: closures.Added) -> str:
    message = _("{n} days added.").format(n=len(result.added)) if len(result.added) != 1 \
        else _("1 day added.")
    if result.skipped:
        message += " " + _("{n} were listed already and kept their name.").format(n=len(result.skipped))
    return message


def _add_closure() -> None:
    state = st.session_state
    actions.run(_CLOSURE, lambda: closures.add_closure(
        session.cursor(), session.require_user(), session.now(), state.get(f"{_CLOSURE}_name") or "",
        state.get(f"{_CLOSURE}_first"), state.get(f"{_CLOSURE}_last")),
        _added_message, forget=[f"{_CLOSURE}_name", f"{_CLOSURE}_first", f"{_CLOSURE}_last"])


def _fill_form(this_year: int) -> None:
    errors = actions.errors(_FILL)
    actions.seed({f"{_FILL}_year": this_year})
    with st.form("public_holidays_form"):
        st.markdown("**" + _("Public holidays") + "**")
        st.selectbox(_("State"), list(closures.GERMAN_STATES), key=f"{_FILL}_state",
                     format_func=lambda code: closures.GERMAN_STATES[code], index=None,
                     placeholder=_("Choose a state"))
        field_error(errors, "state")
        st.number_input(_("Year"), step=1, key=f"{_FILL}_year")
        field_error(errors, "year")
        st.form_submit_button(_("Fill in public holidays"), on_click=_fill)
    actions.outcome(_FILL, ["state", "year"])


def _fill() -> None:
    state = st.session_state
    actions.run(_FILL, lambda: closures.fill_public_holidays(
        session.cursor(), session.require_user(), session.now(), state.get(f"{_FILL}_state") or "",
        int(state.get(f"{_FILL}_year") or 0)), _added_message)


def _remove_form(listed: list[closures.Closure]) -> None:
    errors = actions.errors(_REMOVE)
    names = {c.day: f"{c.day:%d.%m.%Y} · {c.name}" for c in listed}
    with st.form("closure_remove_form"):
        st.multiselect(_("Remove days"), list(names), format_func=names.get, key=f"{_REMOVE}_days",
                       placeholder=_("Choose days"))
        field_error(errors, "days")
        st.form_submit_button(_("Remove"), on_click=_remove)
    actions.outcome(_REMOVE, ["days"])


def _remove() -> None:
    days = st.session_state.get(f"{_REMOVE}_days") or []
    actions.run(_REMOVE, lambda: closures.remove_closures(
        session.cursor(), session.require_user(), session.now(), days),
        lambda n: _("{n} days removed; they are working days again.").format(n=n),
        forget=[f"{_REMOVE}_days"])


# --- escalation times --------------------------------------------------------------------------

_ESCALATION, _OVERRIDE = "escalation", "escalation_source"


def _escalation_fields(prefix: str, errors: dict[str, str], inherited: settings.EscalationTimes | None) -> None:
    for key in ESCALATION_KEYS:
        placeholder = _("as global: {n} min").format(n=getattr(inherited, key)) if inherited else None
        st.number_input(_("{field} (minutes)").format(field=_(ESCALATION_LABELS[key])), step=1,
                        key=f"{prefix}_{key}", placeholder=placeholder)
        field_error(errors, key)


def escalation_tab() -> None:
    cur = session.cursor()
    current = settings.escalation_times(cur)
    actions.seed({f"{_ESCALATION}_{k}": getattr(current, k) for k in ESCALATION_KEYS})
    st.caption(_("Stage 1 is counted in working time; the reminder and both stage-2 times in calendar "
                 "time. A change applies to the open leads at once."))
    errors = actions.errors(_ESCALATION)
    with st.form("escalation_form"):
        st.markdown("**" + _("For all sources") + "**")
        _escalation_fields(_ESCALATION, errors, None)
        st.form_submit_button(_("Save escalation times"), type="primary", on_click=_save_escalation)
    actions.outcome(_ESCALATION, ESCALATION_KEYS)
    _override_form(cur, current)


def _save_escalation() -> None:
    state = st.session_state
    times = settings.EscalationTimes(*(state.get(f"{_ESCALATION}_{k}") for k in ESCALATION_KEYS))
    actions.run(_ESCALATION, lambda: working_time.update_escalation_times(
        session.cursor(), session.require_user(), session.now(), _whole(times)),
        lambda n: _("Escalation times saved; {n} open leads have a new due time.").format(n=fmt.number(n)))


def _whole(times: settings.EscalationTimes) -> settings.EscalationTimes:
    """Number inputs give floats when typed oddly; whole minutes go to the service."""
    return settings.EscalationTimes(*(None if v is None else int(v) if float(v).is_integer() else v
                                      for v in vars(times).values()))


def _override_form(cur, current: settings.EscalationTimes) -> None:
    all_sources = {s.id: s.name for s in sources.list_sources(cur, active_only=False)}
    st.markdown("**" + _("Override for one source") + "**")
    source_id = st.selectbox(_("Source"), list(all_sources), format_func=all_sources.get,
                             key=f"{_OVERRIDE}_id")
    if source_id is None:
        return
    prefix = f"{_OVERRIDE}_{source_id}"
    override = settings.source_escalation(cur, source_id)
    actions.seed({f"{prefix}_{k}": getattr(override, k) if override else None for k in ESCALATION_KEYS})
    errors = actions.errors(prefix)
    with st.form(f"{prefix}_form"):
        st.caption(_("Leave a field empty to use the value for all sources."))
        _escalation_fields(prefix, errors, current)
        st.form_submit_button(_("Save override"), on_click=_save_override, args=(source_id,))
    if override:
        st.button(_("Remove override"), key=f"{prefix}_remove", on_click=_remove_override, args=(source_id,))
    actions.outcome(prefix, ESCALATION_KEYS)


def _save_override(source_id: int) -> None:
    state, prefix = st.session_state, f"{_OVERRIDE}_{source_id}"
    times = settings.EscalationTimes(*(state.get(f"{prefix}_{k}") for k in ESCALATION_KEYS))
    actions.run(prefix, lambda: working_time.set_source_escalation(
        session.cursor(), session.require_user(), session.now(), source_id, _whole(times)),
        lambda n: _("Override saved; {n} open leads of this source have a new due time.").format(n=fmt.number(n)))


def _remove_override(source_id: int) -> None:
    prefix = f"{_OVERRIDE}_{source_id}"
    actions.run(prefix, lambda: working_time.set_source_escalation(
        session.cursor(), session.require_user(), session.now(), source_id, None),
        _("Override removed; the source follows the times for all sources."),
        forget=[f"{prefix}_{k}" for k in ESCALATION_KEYS])
