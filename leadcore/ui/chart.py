"""Altair charts drawn from Vega-Lite specs kept per content.

Turning an Altair chart into the spec Streamlit sends costs more CPU than the Dashboard's
queries: building the encodings (~20 ms a run for six charts) and validating the spec against
Vega-Lite's JSON schema (~30 ms). The same numbers give the same spec, so it is made once per
builder, arguments (DataFrames by content) and language, and every later run sends the kept
spec. The spec is exactly the one st.altair_chart would send (Streamlit's own conversion), so
the charts look and behave the same, clicks on a source included.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

# What st.altair_chart sends (data as Arrow datasets, Streamlit's theme handling): its own
# conversion, so the kept spec cannot drift from what the chart looked like before. Private to
# Streamlit; requirements.txt pins the version.
from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

from leadcore import i18n
from leadcore.ui.kept import Kept

# Specs kept per process: six charts x filters x languages x data versions.
_specs: Kept[dict[str, Any]] = Kept(256)


def _content(value: object) -> object:
    """A hashable stand-in for an argument: DataFrames by their columns, types and values."""
    if isinstance(value, pd.DataFrame):
        return ("frame", tuple(value.columns), tuple(map(str, value.dtypes)), len(value),
                int(pd.util.hash_pandas_object(value, index=True).sum()))
    return value


def spec(build: Callable[..., alt.TopLevelMixin], *args: object) -> dict[str, Any]:
    """The Vega-Lite spec of build(*args), made on the first call for this content."""
    key = (build.__module__, build.__qualname__, i18n.language(), *(_content(a) for a in args))
    kept = _specs.get(key, lambda: _convert_altair_to_vega_lite_spec(build(*args)))
    # Streamlit takes the datasets out of the spec it is given: hand it a copy.
    return copy.deepcopy(kept)


def altair_chart(build: Callable[..., alt.TopLevelMixin], *args: object, **options: Any) -> object:
    """st.altair_chart(build(*args), **options), from the kept spec (see the module's note)."""
    return st.vega_lite_chart(spec=spec(build, *args), **options)
