"""Chart builders through chart.to_dict(): fields, fixed colours, the source selection, the
highlight of a picked source, and frames without rows."""
from __future__ import annotations

import pandas as pd
import pytest

from leadcore.analytics import charts
from leadcore.rules import duetime

OPEN = pd.DataFrame({"source": ["mobile.de", "mobile.de", "Phone"],
                     "traffic_light": [duetime.OVERDUE, duetime.ON_TIME, duetime.DUE_SOON],
                     "leads": [3, 5, 1]})
ESCALATED = pd.DataFrame({"source": ["mobile.de", "Phone"], "escalation_level": [1, 2], "leads": [2, 1]})
NEW = pd.DataFrame({"period_start": pd.to_datetime(["2026-11-26", "2026-11-27"]),
                    "source": ["mobile.de", "Phone"], "leads": [4, 2]})
RESPONSE = pd.DataFrame({"source": ["mobile.de", "Phone"], "median_hours": [1.5, 3.0],
                         "p90_hours": [4.0, 8.5], "leads": [10, 4]})
COMPLETIONS = pd.DataFrame({"source": ["mobile.de", "mobile.de", "Phone", "Phone"],
                            "reason": ["Sold", "No interest", "Spam", "Sold"],
                            "outcome": ["won", "lost", "neutral", "won"], "leads": [2, 1, 1, 1]})
WORKLOAD = pd.DataFrame({"editor": ["Anna Becker", "Ben Schulz"], "open": [4, 3], "overdue": [2, 1]})
BY_SOURCE = {
    "open_by_light": lambda frame=OPEN, picked=None: charts.open_by_light(frame, picked),
    "escalated": lambda frame=ESCALATED, picked=None: charts.escalated(frame, picked),
    "new_leads": lambda frame=NEW, picked=None: charts.new_leads(frame, "day", picked),
    "response_times": lambda frame=RESPONSE, picked=None: charts.response_times(frame, picked),
    "completions": lambda frame=COMPLETIONS, picked=None: charts.completions(frame, picked),
}


def _rows(spec: dict) -> list[dict]:
    return next(iter(spec["datasets"].values()))


@pytest.mark.parametrize("name", list(BY_SOURCE))
def test_charts_by_source_offer_the_source_pick_selection(name):
    spec = BY_SOURCE[name]().to_dict()
    assert spec["params"] == [{"name": charts.SELECTION, "select": {"type": "point", "fields": ["source"]}}]
    assert spec["autosize"] == {"type": "fit-x", "contains": "padding"}
    assert spec["encoding"]["opacity"] == {"value": 1.0}


@pytest.mark.parametrize("name", list(BY_SOURCE))
def test_a_picked_source_is_highlighted_and_the_others_dimmed(name):
    opacity = BY_SOURCE[name](picked="Phone").to_dict()["encoding"]["opacity"]
    assert opacity == {"condition": {"test": {"field": "source", "oneOf": ["Phone"]}, "value": 1.0},
                       "value": charts.DIMMED}


@pytest.mark.parametrize("name", list(BY_SOURCE))
def test_an_empty_frame_still_builds_a_chart(name):
    template = {"open_by_light": OPEN, "escalated": ESCALATED, "new_leads": NEW, "response_times": RESPONSE,
                "completions": COMPLETIONS}[name]
    spec = BY_SOURCE[name](frame=template.iloc[0:0]).to_dict()
    assert spec["mark"]["type"] == "bar"


def test_open_leads_are_stacked_by_traffic_light_in_the_fixed_colours():
    spec = charts.open_by_light(OPEN).to_dict()
    enc = spec["encoding"]
    assert enc["y"]["field"] == "source" and enc["y"]["sort"] == ["mobile.de", "Phone"]
    assert enc["x"] == {"aggregate": "sum", "field": "leads", "stack": "zero", "title": "Open leads",
                        "type": "quantitative"}
    assert enc["color"]["field"] == "light"
    assert enc["color"]["scale"] == {"domain": ["overdue", "due soon", "on time"],
                                     "range": ["#D55E00", "#E69F00", "#009E73"]}
    assert enc["order"] == {"field": "light_rank", "type": "quantitative"}
    assert [(r["source"], r["light"], r["light_rank"], r["leads"]) for r in _rows(spec)] == [
        ("mobile.de", "overdue", 0, 3), ("mobile.de", "on time", 2, 5), ("Phone", "due soon", 1, 1)]


def test_traffic_light_colours_are_fixed_distinct_and_match_the_lists_icons():
    # green / amber / red like the list's icons, from the colour-blind-safe Okabe-Ito palette
    assert charts.LIGHT_COLOURS == {duetime.ON_TIME: "#009E73", duetime.DUE_SOON: "#E69F00",
                                    duetime.OVERDUE: "#D55E00"}
    assert charts.LEVEL_COLOURS[1] == charts.LIGHT_COLOURS[duetime.OVERDUE]   # level 1 is overdue
    assert len({*charts.LIGHT_COLOURS.values(), charts.LEVEL_COLOURS[2]}) == 4


def test_escalated_leads_by_level_with_level_names():
    spec = charts.escalated(ESCALATED).to_dict()
    assert spec["encoding"]["color"]["scale"] == {"domain": ["1 · seller", "2 · supervisor"],
                                                  "range": ["#D55E00", "#882255"]}
    assert [r["level"] for r in _rows(spec)] == ["1 · seller", "2 · supervisor"]


def test_new_leads_over_time_coloured_by_source():
    spec = charts.new_leads(NEW, "week").to_dict()
    enc = spec["encoding"]
    assert (enc["x"]["field"], enc["x"]["type"]) == ("period_start", "temporal")
    assert enc["x"]["title"] == "Week starting"
    assert enc["color"]["scale"]["domain"] == ["mobile.de", "Phone"]
    assert enc["y"]["aggregate"] == "sum"


def test_response_times_show_median_and_p90_side_by_side():
    spec = charts.response_times(RESPONSE).to_dict()
    enc = spec["encoding"]
    assert enc["yOffset"]["field"] == "measure" and enc["x"]["field"] == "hours"
    rows = [(r["source"], r["measure"], r["hours"]) for r in _rows(spec)]
    assert rows == [("mobile.de", "Median", 1.5), ("Phone", "Median", 3.0),
                    ("mobile.de", "90th percentile", 4.0), ("Phone", "90th percentile", 8.5)]


def test_completion_reasons_take_their_outcomes_colour_family():
    spec = charts.completions(COMPLETIONS).to_dict()
    scale = spec["encoding"]["color"]["scale"]
    assert scale["domain"] == ["Sold", "No interest", "Spam"]
    assert scale["range"] == [charts.OUTCOME_PALETTES["won"][0], charts.OUTCOME_PALETTES["lost"][0],
                              charts.OUTCOME_PALETTES["neutral"][0]]
    assert {r["outcome_label"] for r in _rows(spec)} == {"won", "lost", "neutral"}


def test_workload_layers_open_and_overdue_per_editor_without_selection():
    spec = charts.workload(WORKLOAD).to_dict()
    assert "params" not in spec
    open_layer, overdue_layer = spec["layer"]
    assert open_layer["encoding"]["x"]["field"] == "open"
    assert overdue_layer["encoding"]["x"]["field"] == "overdue"
    assert overdue_layer["mark"]["color"] == charts.LIGHT_COLOURS[duetime.OVERDUE]
    assert open_layer["encoding"]["y"]["sort"] == ["Anna Becker", "Ben Schulz"]


def test_workload_shows_the_top_editors_only():
    many = pd.DataFrame({"editor": [f"E{i:02d}" for i in range(30)], "open": range(30, 0, -1), "overdue": 0})
    assert len(_rows(charts.workload(many, top=15).to_dict())) == 15


def test_quick_chart_bars_or_a_line_over_dates():
    grouped = pd.DataFrame({"source": ["a", "b"], "lead_type": ["x", "y"], "count": [3, 1]})
    bars = charts.quick_chart(grouped, x="source", y="count", color="lead_type").to_dict()
    assert bars["mark"]["type"] == "bar"
    assert (bars["encoding"]["x"]["field"], bars["encoding"]["color"]["field"]) == ("source", "lead_type")
    daily = pd.DataFrame({"arrived_date": pd.to_datetime(["2026-11-26", "2026-11-27"]), "count": [3, 1]})
    line = charts.quick_chart(daily, x="arrived_date", y="count", temporal=True).to_dict()
    assert line["mark"]["type"] == "line" and line["encoding"]["x"]["type"] == "temporal"


def test_quick_chart_keeps_ordered_values_in_order():
    hours = pd.DataFrame({"arrived_hour": [9, 10, 8], "count": [5, 7, 2]})
    spec = charts.quick_chart(hours, x="arrived_hour", y="count", ordered=True).to_dict()
    assert (spec["encoding"]["x"]["type"], spec["encoding"]["x"]["sort"]) == ("ordinal", "ascending")
