"""Previous / Next over keyset pages: the session keeps the keys of the pages seen so far."""
from __future__ import annotations

import time
from collections.abc import Callable

import streamlit as st

from leadcore.i18n import _
from leadcore.paging import Page
from leadcore.ui import format as fmt


def current_after(key: str, fingerprint: object) -> tuple | None:
    """The key to page after; back to the first page whenever the filter (fingerprint) changes."""
    state = st.session_state
    if state.get(f"{key}_fingerprint") != fingerprint or f"{key}_stack" not in state:
        state[f"{key}_fingerprint"] = fingerprint
        state[f"{key}_stack"] = [None]
    return state[f"{key}_stack"][-1]


# The clock alone moves leads between traffic lights and escalation levels: a kept total is
# counted again after this long even when nothing else changed.
TOTAL_KEPT_FOR = 60.0


def kept_total(key: str, fingerprint: object, count: Callable[[], int]) -> int:
    """The list's total, counted again only when `fingerprint` changes (the filter, who looks,
    the data's version) or after TOTAL_KEPT_FOR seconds: paging and reruns need no count(*)."""
    state = st.session_state
    held = state.get(f"{key}_total")
    if held is None or held[0] != fingerprint or time.monotonic() - held[1] > TOTAL_KEPT_FOR:
        held = (fingerprint, time.monotonic(), count())
        state[f"{key}_total"] = held
    return held[2]


def _forward(key: str, after: tuple) -> None:
    st.session_state[f"{key}_stack"].append(after)


def _back(key: str) -> None:
    stack = st.session_state[f"{key}_stack"]
    if len(stack) > 1:
        stack.pop()


def pager_controls(key: str, page: Page, total: int, page_size: int) -> None:
    stack = st.session_state[f"{key}_stack"]
    number = len(stack)
    first = (number - 1) * page_size + 1 if total else 0
    last = min(first + len(page.rows) - 1, total) if total else 0
    left, middle, right = st.columns([1, 3, 1], vertical_alignment="center")
    left.button(_("Previous"), key=f"{key}_previous", icon=":material/chevron_left:",
                disabled=number == 1, on_click=_back, args=(key,), width="stretch")
    middle.caption(_("Page {n} · {first}–{last} of {total}").format(
        n=number, first=fmt.number(first), last=fmt.number(last), total=fmt.number(total)),
        text_alignment="center")
    right.button(_("Next"), key=f"{key}_next", icon=":material/chevron_right:",
                 disabled=page.next_after is None, on_click=_forward, args=(key, page.next_after),
                 width="stretch")
