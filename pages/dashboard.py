"""Dashboard: key figures and six charts of the dealership's leads (SPEC section 9).

A click on a source in a chart focuses the dashboard on it: the charts with a bar per source
highlight it, the key figures, new leads and workload are filtered to it.
"""
from datetime import date, datetime, time

import streamlit as st

from leadcore import i18n, roles
from leadcore.analytics import charts, exports
from leadcore.analytics import dashboard as analytics
from leadcore.analytics.dashboard import DashboardFilter
from leadcore.i18n import N_, _
from leadcore.leads import service as leads
from leadcore.ui import chart as kept_chart
from leadcore.ui import dashboard_numbers, session
from leadcore.ui import format as fmt

cur, user, now, tz = session.cursor(), session.require_user(), session.now(), session.timezone()
session.allow_only(analytics.require_dashboard)

PICK, GENERATION = "dash_source", "dash_chart_generation"
PRESET_LABELS = {"today": N_("Today"), "7 days": N_("7 days"), "30 days": N_("30 days"),
                 "this quarter": N_("This quarter"), "custom": N_("Custom")}
today = now.astimezone(tz).date()
# Headers of the tables behind the charts and of their CSV downloads.
HEADERS = {"source": N_("Source"), "total": N_("Total"), "leads": N_("Leads"), "overdue": N_("Overdue"),
           "due soon": N_("Due soon"), "on time": N_("On time"), "1": N_("Level 1 · seller"),
           "2": N_("Level 2 · supervisor"), "median_hours": N_("Median, working hours"),
           "p90_hours": N_("90th percentile, working hours"), "reason": N_("Completion reason"),
           "outcome": N_("Outcome"), "editor": N_("Editor"), "open": N_("Open")}


def clear_pick() -> None:
    st.session_state.pop(PICK, None)
    # New chart keys drop the charts' own selection state, so no stale click comes back.
    st.session_state[GENERATION] = st.session_state.get(GENERATION, 0) + 1


def take_pick(key: str) -> None:
    points = (st.session_state.get(key) or {}).get("selection", {}).get(charts.SELECTION) or []
    picked = [p.get("source") for p in points if isinstance(p, dict) and p.get("source")]
    if picked:
        st.session_state[PICK] = picked[0]


def day(value: date) -> str:
    return fmt.when(datetime.combine(value, time(12), tzinfo=tz), tz, "dd.MM.yyyy")


def headers(table) -> dict:
    config = {c: st.column_config.Column(_(HEADERS[c])) for c in table.columns if c in HEADERS}
    if "period_start" in table.columns:
        config["period_start"] = st.column_config.DateColumn(_("From"), format="DD.MM.YYYY")
    return config


# --- header and filters ------------------------------------------------------------------------
st.title(_("Dashboard"))
scope = _("all leads") if roles.allows(user.role, roles.SEE_ALL_LEADS) else _("your team's leads")
st.caption(_("As of {moment} · {scope}").format(moment=fmt.when(dashboard_numbers.as_of(now), tz), scope=scope))

period_col, custom_col = st.columns([3, 2], vertical_alignment="bottom")
preset = period_col.segmented_control(
    _("Period"), list(PRESET_LABELS), default="30 days", key="dash_period",
    format_func=lambda p: _(PRESET_LABELS[p])) or "30 days"
if preset == "custom":
    chosen = custom_col.date_input(_("From – to"), value=(today.replace(day=1), today), max_value=today,
                                   format="DD.MM.YYYY", key="dash_custom_period")
    period = (chosen[0], chosen[-1]) if chosen else (today, today)
else:
    period = analytics.preset_period(preset, today)
location_col, source_col, type_col = st.columns(3)
location = location_col.selectbox(_("Location"), ["", *analytics.locations(cur)], key="dash_location",
                                  format_func=lambda v: v or _("All locations")) or None
source_names = session.source_names()
chosen_sources = source_col.multiselect(_("Source"), list(source_names), format_func=source_names.get,
                                        placeholder=_("All sources"), key="dash_sources")
chosen_types = type_col.multiselect(_("Lead type"), list(leads.LEAD_TYPES), format_func=fmt.lead_type,
                                    placeholder=_("All lead types"), key="dash_types")

picked = st.session_state.get(PICK)
if picked is not None and chosen_sources and picked not in {source_names[i] for i in chosen_sources}:
    picked = None                                        # the picked source was filtered away
dash_filter = DashboardFilter(period_from=period[0], period_to=period[1], location=location,
                              source_ids=tuple(chosen_sources), lead_types=tuple(chosen_types),
                              picked_source=picked)
data = dashboard_numbers.numbers(cur, user, now, dash_filter)

if picked is not None:
    note, clear = st.columns([3.6, 1.4], vertical_alignment="center")
    note.info(_("Focused on the source {source}: key figures, new leads and workload show only its "
                "leads; the charts by source highlight it.").format(source=fmt.md_escape(picked)),
              icon=":material/filter_alt:")
    clear.button(_("Clear source filter"), icon=":material/filter_alt_off:", key="dash_clear_source",
                 on_click=clear_pick, width="stretch")
else:
    st.caption(_("Tip: click a source in a chart to focus the whole dashboard on it."))

# --- key figures ---------------------------------------------------------------------------------
fig = data.figures
period_text = _("{start} – {end}").format(start=day(period[0]), end=day(period[1]))
st.markdown("##### " + _("Right now"))
now_row = st.columns(4)
now_row[0].metric(_("Open leads"), fmt.number(fig.open), border=True, help=_("Leads open at this moment."))
now_row[1].metric(_("Due soon"), fmt.number(fig.due_soon), border=True,
                  help=_("Open, past the seller's reminder, not yet due (amber traffic light)."))
now_row[2].metric(_("Overdue"), fmt.number(fig.overdue), border=True,
                  help=_("Open and past due (red traffic light)."))
now_row[3].metric(_("Escalated to supervisors"), fmt.number(fig.escalated_supervisor), border=True,
                  help=_("Escalation level 2: the editor's supervisors were informed."))
st.markdown("##### " + _("In the period {period}").format(period=period_text))
period_row = st.columns(4)
period_row[0].metric(_("New leads"), fmt.number(fig.new_in_period), border=True,
                     help=_("Leads that arrived in the period."))
period_row[1].metric(_("Median first response"), fmt.duration(fig.median_response_hours), border=True,
                     help=_("Working time from arrival to the first note, message or completion, over the "
                            "leads that arrived in the period and were answered."))
period_row[2].metric(_("Win rate"), fmt.percent(fig.win_rate), border=True,
                     help=_("Won / (won + lost) of the leads completed in the period; neutral reasons "
                            "(duplicate, spam...) do not count."))
period_row[3].metric(_("Won · lost"), f"{fmt.number(fig.won)} · {fmt.number(fig.lost)}", border=True,
                     help=_("Leads completed in the period with a won or a lost reason."))


# --- the charts ------------------------------------------------------------------------------------
def card(column, name: str, title: str, caption: str, chart: tuple, table, empty: str,
         clickable: bool = True) -> None:
    """One chart with its numbers and CSV; `chart` is (builder, its arguments): the spec is made
    once per content (leadcore.ui.chart), not on every run."""
    with column.container(border=True, key=f"dash_card_{name}"):
        st.markdown("#### " + title)
        st.caption(caption)
        if table.empty:
            st.info(empty, icon=":material/sentiment_satisfied:")
            return
        key = f"dash_chart_{name}_{st.session_state.get(GENERATION, 0)}"
        if clickable:
            kept_chart.altair_chart(*chart, width="stretch", key=key, on_select=lambda: take_pick(key),
                                    selection_mode=charts.SELECTION)
        else:
            kept_chart.altair_chart(*chart, width="stretch", key=key)
        numbers, download = st.columns(2)
        with numbers.popover(_("Numbers"), icon=":material/table:", width="stretch"):
            st.dataframe(table, hide_index=True, column_config=headers(table), key=f"dash_table_{name}")
        # A spreadsheet in German gets the headings as on screen; English keeps the column
        # names its CSV always had (what scripts already read).
        language = i18n.language()
        shown = table if language == "en" else table.rename(
            columns={c: _(HEADERS[c]) for c in table.columns if c in HEADERS} | {"period_start": _("From")})
        # Written when clicked, not on every run (six files a run otherwise).
        download.download_button(_("CSV"), data=lambda: exports.to_csv(shown, language),
                                 file_name=f"leadcore-{name}.csv",
                                 mime="text/csv", icon=":material/download:", key=f"dash_csv_{name}",
                                 on_click="ignore", width="stretch")


light_order = list(charts.LIGHT_ORDER)
left, right = st.columns(2)
card(left, "open", _("Open leads by source"), _("Now, by traffic light, overdue first."),
     (charts.open_by_light, data.open_by_light, picked),
     analytics.by_source_table(data.open_by_light, "traffic_light", light_order),
     _("No open leads match these filters: nothing is waiting."))
card(right, "escalated", _("Escalated leads by source"),
     _("Now: level 1 overdue at the seller, level 2 at the supervisor."),
     (charts.escalated, data.escalated, picked),
     analytics.by_source_table(data.escalated, "escalation_level", [1, 2]),
     _("Nothing is escalated: every open lead is within its time."))

left, right = st.columns(2)
card(left, "new", _("New leads per week") if data.bucket == "week" else _("New leads per day"),
     _("Arrived in the period, by source."),
     (charts.new_leads, data.new_leads, data.bucket, picked),
     data.new_leads.assign(period_start=data.new_leads["period_start"].dt.date),
     _("No new leads arrived in this period."))
card(right, "response", _("Time to first response"),
     _("Working hours from arrival to first response, leads that arrived in the period."),
     (charts.response_times, data.response_times, picked), data.response_times.round(2),
     _("No lead that arrived in this period has been answered yet."))

left, right = st.columns(2)
card(left, "completions", _("Completions by reason"),
     _("Completed in the period: blue won, orange lost, grey neutral."),
     (charts.completions, data.completions, picked),
     data.completions, _("No leads were completed in this period."))
card(right, "workload", _("Workload per editor"),
     _("Open leads now, the overdue part in red; most overdue first (top 15)."),
     (charts.workload, data.workload), data.workload,
     _("No open leads: nobody has work waiting."), clickable=False)
