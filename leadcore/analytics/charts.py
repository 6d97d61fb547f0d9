"""The Dashboard's and Explore's charts: pure functions, a DataFrame in, an alt.Chart out.

Colours carry fixed meanings across the app and stay apart for colour-blind readers (Okabe-Ito
palette): the traffic light is bluish green / orange / vermillion like the list's 🟢🟡🔴, and
the legend always spells the words out. Charts with a bar per source carry the selection
parameter `source_pick` (a click returns the source to Streamlit) and dim every source but a
`picked` one.
"""
from __future__ import annotations

from functools import wraps

import altair as alt
import pandas as pd

from leadcore import i18n
from leadcore.analytics.explore.headers import header
from leadcore.i18n import _
from leadcore.rules import duetime

__all__ = [
    "LIGHT_COLOURS", "LEVEL_COLOURS", "OUTCOME_PALETTES", "SELECTION", "open_by_light",
    "escalated", "new_leads", "response_times", "completions", "workload", "quick_chart",
]

SELECTION = "source_pick"
LIGHT_COLOURS = {duetime.ON_TIME: "#009E73", duetime.DUE_SOON: "#E69F00", duetime.OVERDUE: "#D55E00"}
# worst first: the stack starts with overdue at the axis, like the list puts overdue on top
LIGHT_ORDER = (duetime.OVERDUE, duetime.DUE_SOON, duetime.ON_TIME)
# level 1 is "overdue at the seller" (the overdue colour), level 2 "at the supervisor" (darker)
LEVEL_COLOURS = {1: "#D55E00", 2: "#882255"}
OUTCOME_PALETTES = {
    "won": ("#0072B2", "#56B4E9", "#1F4E79", "#9CCBEA"),
    "lost": ("#E69F00", "#B07800", "#F5C46B", "#7F5700"),
    "neutral": ("#8C8C8C", "#BDBDBD", "#5E5E5E", "#D9D9D9"),
}
SOURCE_PALETTE = ("#0072B2", "#56B4E9", "#CC79A7", "#332288", "#999933", "#888888", "#DDCC77", "#44AA99",
                  "#000000")
MEDIAN_COLOUR, P90_COLOUR = "#0072B2", "#56B4E9"
OPEN_COLOUR = "#B8C7D9"
ROW_HEIGHT = 30
DIMMED = 0.3
# Width fits the container; height is the plot's own, axes and legend come on top (Streamlit's
# default "fit" would squeeze the plot to make room for a bottom legend).
FIT_WIDTH = alt.AutoSizeParams(type="fit-x", contains="padding")


# How Vega writes numbers on axes and in tooltips ("1.234,5" in German); English keeps Vega's own.
_NUMBER_LOCALES = {"de": {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["", "\u00a0€"]}}


def _localised(build):
    @wraps(build)
    def chart(*args, **kwargs):
        made = build(*args, **kwargs)
        number = _NUMBER_LOCALES.get(i18n.language())
        return made.configure(locale=alt.Locale(number=number)) if number else made
    return chart


def _height(rows: int, row_height: int = ROW_HEIGHT) -> int:
    return max(90, row_height * rows)


def _pick_param() -> alt.Parameter:
    return alt.selection_point(fields=["source"], name=SELECTION)


def _opacity(picked: str | None):
    if picked is None:
        return alt.value(1.0)
    return alt.condition(alt.FieldOneOfPredicate(field="source", oneOf=[picked]),
                         alt.value(1.0), alt.value(DIMMED))


def _sources(frame: pd.DataFrame) -> list[str]:
    """Sources in the order the read model gives them (the configured order)."""
    return [s for s in pd.unique(frame["source"]) if isinstance(s, str)]


@_localised
def open_by_light(frame: pd.DataFrame, picked: str | None = None) -> alt.Chart:
    """Open leads per source, stacked by traffic light. Columns: source, traffic_light, leads."""
    labels = {word: _(word) for word in LIGHT_ORDER}
    data = frame.assign(
        light=frame["traffic_light"].map(labels),
        light_rank=frame["traffic_light"].map({w: i for i, w in enumerate(LIGHT_ORDER)}),
    )
    return alt.Chart(data).mark_bar().encode(
        y=alt.Y("source:N", sort=_sources(frame), title=None),
        x=alt.X("sum(leads):Q", title=_("Open leads"), stack="zero"),
        color=alt.Color("light:N", title=_("Traffic light"),
                        scale=alt.Scale(domain=[labels[w] for w in LIGHT_ORDER],
                                        range=[LIGHT_COLOURS[w] for w in LIGHT_ORDER]),
                        legend=alt.Legend(orient="bottom")),
        order=alt.Order("light_rank:Q"),
        opacity=_opacity(picked),
        tooltip=[alt.Tooltip("source:N", title=_("Source")),
                 alt.Tooltip("light:N", title=_("Traffic light")),
                 alt.Tooltip("leads:Q", title=_("Leads"), format=",")],
    ).add_params(_pick_param()).properties(height=_height(len(_sources(frame))), autosize=FIT_WIDTH)


@_localised
def escalated(frame: pd.DataFrame, picked: str | None = None) -> alt.Chart:
    """Escalated open leads per source by level. Columns: source, escalation_level, leads."""
    labels = {1: _("1 · seller"), 2: _("2 · supervisor")}
    data = frame.assign(level=frame["escalation_level"].map(labels))
    return alt.Chart(data).mark_bar().encode(
        y=alt.Y("source:N", sort=_sources(frame), title=None),
        x=alt.X("sum(leads):Q", title=_("Escalated leads"), stack="zero"),
        color=alt.Color("level:N", title=_("Escalation"),
                        scale=alt.Scale(domain=[labels[1], labels[2]],
                                        range=[LEVEL_COLOURS[1], LEVEL_COLOURS[2]]),
                        legend=alt.Legend(orient="bottom")),
        order=alt.Order("escalation_level:Q", sort="descending"),
        opacity=_opacity(picked),
        tooltip=[alt.Tooltip("source:N", title=_("Source")),
                 alt.Tooltip("level:N", title=_("Escalation")),
                 alt.Tooltip("leads:Q", title=_("Leads"), format=",")],
    ).add_params(_pick_param()).properties(height=_height(len(_sources(frame))), autosize=FIT_WIDTH)


@_localised
def new_leads(frame: pd.DataFrame, bucket: str = "day", picked: str | None = None) -> alt.Chart:
    """New leads per day (or week) stacked by source. Columns: period_start, source, leads."""
    sources = _sources(frame)
    time_unit, title = (("yearmonthdate", _("Week starting")) if bucket == "week"
                        else ("yearmonthdate", _("Day")))
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("period_start:T", timeUnit=time_unit, title=title,
                axis=alt.Axis(format="%d.%m.", labelAngle=0, labelOverlap=True)),
        y=alt.Y("sum(leads):Q", title=_("New leads"), stack="zero"),
        color=alt.Color("source:N", title=_("Source"), sort=sources,
                        scale=alt.Scale(domain=sources, range=list(SOURCE_PALETTE[:len(sources)]))
                        if sources else alt.Undefined,
                        legend=alt.Legend(orient="bottom", columns=3)),
        opacity=_opacity(picked),
        tooltip=[alt.Tooltip("period_start:T", title=title, format="%d.%m.%Y"),
                 alt.Tooltip("source:N", title=_("Source")),
                 alt.Tooltip("leads:Q", title=_("Leads"), format=",")],
    ).add_params(_pick_param()).properties(height=200, autosize=FIT_WIDTH)


@_localised
def response_times(frame: pd.DataFrame, picked: str | None = None) -> alt.Chart:
    """Median and 90th percentile of working hours to the first response, per source.
    Columns: source, median_hours, p90_hours, leads."""
    measures = {"median_hours": _("Median"), "p90_hours": _("90th percentile")}
    long = frame.melt(id_vars=["source", "leads"], value_vars=list(measures),
                      var_name="measure", value_name="hours")
    long["measure"] = long["measure"].map(measures)
    return alt.Chart(long).mark_bar().encode(
        y=alt.Y("source:N", sort=_sources(frame), title=None),
        yOffset=alt.YOffset("measure:N", sort=list(measures.values())),
        x=alt.X("hours:Q", title=_("Working hours to first response")),
        color=alt.Color("measure:N", title=None, sort=list(measures.values()),
                        scale=alt.Scale(domain=list(measures.values()), range=[MEDIAN_COLOUR, P90_COLOUR]),
                        legend=alt.Legend(orient="bottom")),
        opacity=_opacity(picked),
        tooltip=[alt.Tooltip("source:N", title=_("Source")),
                 alt.Tooltip("measure:N", title=_("Measure")),
                 alt.Tooltip("hours:Q", title=_("Working hours"), format=",.1f"),
                 alt.Tooltip("leads:Q", title=_("Leads answered"), format=",")],
    ).add_params(_pick_param()).properties(height=_height(len(_sources(frame)), 40), autosize=FIT_WIDTH)


def _reason_colours(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Reasons ordered won, lost, neutral; each outcome has its own colour family."""
    domain, colours = [], []
    for outcome, palette in OUTCOME_PALETTES.items():
        reasons = [r for r in pd.unique(frame.loc[frame["outcome"] == outcome, "reason"])]
        for i, reason in enumerate(reasons):
            domain.append(reason)
            colours.append(palette[i % len(palette)])
    return domain, colours


@_localised
def completions(frame: pd.DataFrame, picked: str | None = None) -> alt.Chart:
    """Completed leads per source, stacked by reason (blues won, oranges lost, greys neutral).
    Columns: source, reason, outcome, leads."""
    domain, colours = _reason_colours(frame)
    outcome_words = {"won": _("won"), "lost": _("lost"), "neutral": _("neutral")}
    data = frame.assign(outcome_label=frame["outcome"].map(outcome_words),
                        reason_rank=frame["reason"].map({r: i for i, r in enumerate(domain)}))
    return alt.Chart(data).mark_bar().encode(
        y=alt.Y("source:N", sort=_sources(frame), title=None),
        x=alt.X("sum(leads):Q", title=_("Completed leads"), stack="zero"),
        color=alt.Color("reason:N", title=_("Completion reason"),
                        scale=alt.Scale(domain=domain, range=colours) if domain else alt.Undefined,
                        legend=alt.Legend(orient="bottom", columns=3)),
        order=alt.Order("reason_rank:Q"),
        opacity=_opacity(picked),
        tooltip=[alt.Tooltip("source:N", title=_("Source")),
                 alt.Tooltip("reason:N", title=_("Completion reason")),
                 alt.Tooltip("outcome_label:N", title=_("Outcome")),
                 alt.Tooltip("leads:Q", title=_("Leads"), format=",")],
    ).add_params(_pick_param()).properties(height=_height(len(_sources(frame))), autosize=FIT_WIDTH)


@_localised
def workload(frame: pd.DataFrame, top: int = 15) -> alt.Chart:
    """Open leads per editor with the overdue part in the overdue colour, most overdue first.
    Columns: editor, open, overdue."""
    shown = frame.head(top)
    editors = shown["editor"].tolist()
    base = alt.Chart(shown).encode(
        y=alt.Y("editor:N", sort=editors, title=None),
        tooltip=[alt.Tooltip("editor:N", title=_("Editor")),
                 alt.Tooltip("open:Q", title=_("Open"), format=","),
                 alt.Tooltip("overdue:Q", title=_("Overdue"), format=",")],
    )
    open_bars = base.mark_bar(color=OPEN_COLOUR).encode(x=alt.X("open:Q", title=_("Open leads")))
    overdue_bars = base.mark_bar(color=LIGHT_COLOURS[duetime.OVERDUE], height=alt.RelativeBandSize(0.5)
                                 ).encode(x="overdue:Q")
    return alt.layer(open_bars, overdue_bars).properties(height=_height(len(editors), 24), autosize=FIT_WIDTH)


@_localised
def quick_chart(frame: pd.DataFrame, x: str, y: str, color: str | None = None,
                temporal: bool = False, ordered: bool = False) -> alt.Chart:
    """Explore's chart of a grouped result: bars of y per x (a line over time), coloured by an
    optional second grouping column; categories biggest first, ordered values (hours) in order."""
    if temporal:
        mark = alt.Chart(frame).mark_line(point=True)
        x_enc = alt.X(f"{x}:T", title=header(x))
    else:
        mark = alt.Chart(frame).mark_bar()
        x_enc = (alt.X(f"{x}:O", title=header(x), sort="ascending") if ordered
                 else alt.X(f"{x}:N", title=header(x), sort="-y"))
    encoding = {"x": x_enc, "y": alt.Y(f"{y}:Q", title=header(y)),
                "tooltip": [alt.Tooltip(c, title=header(c)) for c in frame.columns[:6]]}
    if color:
        encoding["color"] = alt.Color(f"{color}:N", title=header(color),
                                      scale=alt.Scale(range=list(SOURCE_PALETTE)),
                                      legend=alt.Legend(orient="bottom"))
    return mark.encode(**encoding).properties(height=300, autosize=FIT_WIDTH)
