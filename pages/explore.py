"""Explore: filter, group and aggregate the documented datasets, download them, or ask in SQL."""
from datetime import timedelta

import streamlit as st

from leadcore import i18n
from leadcore.analytics import charts, exports
from leadcore.analytics.explore import catalogue as explore
from leadcore.analytics.explore import sql_box as explore_sql
from leadcore.analytics.explore.catalogue import Condition, ExploreQuery
from leadcore.analytics.explore.headers import FUNCTIONS, header, headers
from leadcore.errors import LeadcoreError
from leadcore.i18n import _, ngettext
from leadcore.ui import format as fmt
from leadcore.ui import session

cur, user, now, tz = session.cursor(), session.require_user(), session.now(), session.timezone()
session.allow_only(explore.require_explorer)

today = now.astimezone(tz).date()
KIND_LABELS = {"text": _("text"), "number": _("number"), "date": _("date"), "instant": _("date and time"),
               "flag": _("yes/no")}


def named(column: str) -> str:
    """A column in a picker: its heading and the name analysts query it by."""
    shown = header(column)
    return column if shown == column else f"{shown} · {column}"


def column_config(frame) -> dict:
    """Headers in the reader's language (the column's query name in its help); dates and times
    in the dealership's format."""
    config = {}
    for name in frame.columns:
        kind = frame[name].dtype
        if str(kind).startswith("datetime64") and getattr(kind, "tz", None) is not None:
            config[name] = st.column_config.DatetimeColumn(header(name), format="DD.MM.YYYY HH:mm", help=name)
        elif str(kind).startswith("datetime64"):
            config[name] = st.column_config.DateColumn(header(name), format="DD.MM.YYYY", help=name)
        else:
            config[name] = st.column_config.Column(header(name), help=name)
    return config


def downloads(frame, stem: str, key: str) -> None:
    local = explore.localise(frame, tz)
    csv_col, parquet_col, _rest = st.columns([1, 1, 3])
    # A German spreadsheet gets the headings as on screen; English CSV and Parquet keep the
    # query names (stable for code and for the scripts that read them).
    shown = local if i18n.language() == "en" else local.rename(columns=headers(local.columns))
    csv_col.download_button(_("CSV"), data=exports.to_csv(shown, i18n.language()), file_name=f"{stem}.csv",
                            mime="text/csv",
                            icon=":material/download:", key=f"{key}_csv", on_click="ignore", width="stretch")
    parquet_col.download_button(_("Parquet"), data=exports.to_parquet(local), file_name=f"{stem}.parquet",
                                mime="application/vnd.apache.parquet", icon=":material/download:",
                                key=f"{key}_parquet", on_click="ignore", width="stretch")


def show(result: explore.ExploreResult, key: str) -> None:
    frame = explore.localise(result.frame, tz)
    if result.truncated:
        st.caption(":material/content_cut: " + _("Only the first {n} rows are shown and downloaded. Filter or "
                                                 "group to see everything.").format(n=fmt.number(explore.ROW_CAP)))
    st.dataframe(frame, hide_index=True, column_config=column_config(frame), key=f"{key}_table")
    downloads(result.frame, f"leadcore-{key}", key)


st.title(_("Explore"))
names = list(explore.CATALOGUE)
chosen = st.selectbox(_("Dataset"), names, key="explore_dataset",
                      format_func=lambda n: f"{_(explore.CATALOGUE[n].title)} ({n})")
d = explore.dataset(chosen)
st.caption(_(d.description))
with st.expander(_("Columns of {view}").format(view=d.name), icon=":material/view_column:"):
    st.dataframe([{"column": c.name, "type": KIND_LABELS[c.kind], "description": _(c.description)}
                  for c in d.columns], hide_index=True, key="explore_columns")

builder, sql_tab = st.tabs([_("Filter and group"), _("SQL")])

with builder:
    columns = {c.name: c for c in d.columns}
    # The last 30 days to start with: a whole history of millions of rows is rarely the question.
    filtered = st.multiselect(_("Filter by"), list(columns), default=[d.period], key=f"explore_filter_{d.name}",
                              format_func=named, placeholder=_("Choose columns to filter"))
    conditions = []
    slots = st.columns(3)
    for i, name in enumerate(filtered):
        column, slot = columns[name], slots[i % 3]
        key = f"explore_{d.name}_{name}"
        if column.kind in ("date", "instant"):
            recent = (today - timedelta(days=29), today) if name == d.period else ()
            picked = slot.date_input(header(name), value=recent, format="DD.MM.YYYY", key=key)
            if picked:
                conditions.append(Condition(name, low=picked[0], high=picked[-1]))
        elif column.kind == "number" and not column.choices:
            low, high = slot.columns(2)
            lo = low.number_input(_("{column} from").format(column=header(name)), value=None, key=f"{key}_lo")
            hi = high.number_input(_("to"), value=None, key=f"{key}_hi")
            if lo is not None or hi is not None:
                conditions.append(Condition(name, low=lo, high=hi))
        elif column.choices:
            options = explore.choices(cur, user, now, d.name, name)
            values = slot.multiselect(header(name), options, key=key, placeholder=_("Any value"))
            if values:
                conditions.append(Condition(name, values=tuple(values)))
        else:
            text = slot.text_input(header(name), key=key, placeholder=_("contains…"))
            if text.strip():
                conditions.append(Condition(name, contains=text))

    group_col, agg_col, of_col = st.columns([2, 1.4, 2])
    groupable = [c.name for c in d.columns if c.group]
    group_by = group_col.multiselect(_("Group by"), groupable, max_selections=explore.MAX_GROUPS, format_func=named,
                                     key=f"explore_group_{d.name}", placeholder=_("No grouping: list rows"))
    functions = agg_col.multiselect(_("Aggregates"), list(explore.AGGREGATES), default=["count"],
                                    format_func=lambda f: _(FUNCTIONS[f]), placeholder=_("Number"),
                                    key="explore_functions", disabled=not group_by)
    measurable = [c.name for c in d.columns if c.measure or c.kind in ("date", "instant")]
    of = of_col.multiselect(_("Of columns"), measurable, key=f"explore_of_{d.name}", disabled=not group_by,
                            format_func=named, placeholder=_("Choose columns"),
                            help=_("sum, mean and median need a number column; min and max also take dates."))

    measures = explore.measures_for(d.name, functions, of)
    query = ExploreQuery(d.name, tuple(conditions), tuple(group_by), measures)
    try:
        total = explore.count_rows(cur, user, now, query)
        result = explore.run_query(cur, user, now, query)
    except LeadcoreError as error:
        st.error(fmt.md_escape(error.message), icon=":material/error:")
    else:
        st.caption(ngettext("{n} row of {view} matches.", "{n} rows of {view} match.", total)
                   .format(n=fmt.number(total), view=d.name))
        if result.frame.empty:
            st.info(_("Nothing matches these filters. Widen them to see data."), icon=":material/search_off:")
        else:
            if group_by:
                first = columns[group_by[0]]
                st.altair_chart(charts.quick_chart(
                    explore.localise(result.frame, tz), x=group_by[0], y=measures[0].label,
                    color=group_by[1] if len(group_by) > 1 else None,
                    temporal=first.kind == "date", ordered=first.kind == "number"),
                    width="stretch", key="explore_chart")
            else:
                st.caption(_("Group by a column to see a chart."))
            show(result, "explore")

with sql_tab:
    st.caption(_("One SELECT (or WITH … SELECT) over {views}. At most {n} rows; queries stop after "
                 "{s:g} seconds. Nothing here can change data.").format(
        views=", ".join(sorted(explore.VIEWS)), n=fmt.number(explore.ROW_CAP), s=explore_sql.TIMEOUT_S))
    st.caption(_("Aggregate, window, date, text, math and conditional functions work; functions that read "
                 "files, build lists or grow text without bound (read_csv, range, unnest, string_agg, "
                 "repeat) do not."))
    example = "SELECT source, count(*) AS leads\nFROM explore_leads\nGROUP BY source\nORDER BY leads DESC"
    text = st.text_area(_("SQL"), key="explore_sql", height=160, placeholder=example)
    if st.button(_("Run SQL"), type="primary", icon=":material/play_arrow:", key="explore_run_sql"):
        try:
            st.session_state["explore_sql_result"] = (text, explore_sql.run_sql(cur, user, text))
        except LeadcoreError as error:
            st.session_state["explore_sql_result"] = (text, error.message)
    ran = st.session_state.get("explore_sql_result")
    if ran is not None and ran[0] == text:
        if isinstance(ran[1], str):
            st.error(fmt.md_escape(ran[1]), icon=":material/block:")   # may quote the typed SQL
        elif ran[1].frame.empty:
            st.info(_("The query returned no rows."), icon=":material/search_off:")
        else:
            show(ran[1], "explore_sql")
